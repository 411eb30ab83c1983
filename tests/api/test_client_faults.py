"""Typed errors and retries against the emulator's faults; secrets never leak into text."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from desktop_app.api.client import WootricClient
from desktop_app.api.errors import (
    AuthError,
    NetworkError,
    NotFoundError,
    ProtocolError,
    ServerError,
    ValidationError,
    WootricError,
)
from desktop_app.clock import ScaledClock

FAST = 1_000.0  # backoff sleeps on a clock this much faster than the wall (tokens live 2 h)


def _ids(client: WootricClient, n: int = 10) -> list[int]:
    return [u.id for u in client.list_end_users([("per_page", str(n)), ("sort_key", "created_at")])]


def test_missing_end_user_is_not_found(make_emulator: Any, client_for: Any) -> None:
    client = client_for(make_emulator(users=1))
    with pytest.raises(NotFoundError) as caught:
        client.get_end_user(987_654_321)
    assert caught.value.status == 404
    assert client.find_by_email("nobody@nowhere.example") is None
    assert client.find_by_external_id("no-such-external-id") is None


def test_service_validation_message_and_field_are_carried(
    make_emulator: Any, client_for: Any,
) -> None:
    client = client_for(make_emulator(users=1))
    with pytest.raises(ValidationError) as caught:
        client.list_end_users([("page", "31"), ("per_page", "50")])
    assert caught.value.field == "page"
    assert caught.value.message == "page does not have a valid value"
    assert caught.value.status == 400


@pytest.mark.parametrize(("kind", "error"), [
    ("500", ServerError), ("503", ServerError), ("reset", NetworkError),
    ("truncated", ProtocolError), ("malformed", ProtocolError),
])
def test_a_fault_on_every_attempt_ends_in_its_typed_error(
    make_emulator: Any, client_for: Any, kind: str, error: type[WootricError],
) -> None:
    clock = ScaledClock(speed=FAST)
    emu = make_emulator(users=3, clock=clock)
    client = client_for(emu, clock=clock, max_attempts=4)
    client.authenticate()
    emu.faults.fail(1.0, {kind})
    before = client.request_count
    with pytest.raises(error):
        client.get_end_user(1)
    assert client.request_count - before == 4  # exactly max_attempts tries, then the error


def test_timeouts_are_network_errors(make_emulator: Any, client_for: Any) -> None:
    clock = ScaledClock(speed=FAST)
    emu = make_emulator(users=3, clock=clock)
    client = client_for(emu, clock=clock, max_attempts=2, timeout=0.3)
    ids = _ids(client)
    emu.faults.fail(1.0, {"timeout"})
    with pytest.raises(NetworkError) as caught:
        client.get_end_user(ids[0])
    assert "timed out" in str(caught.value)


def test_offline_is_a_network_error_and_online_again_works(
    make_emulator: Any, client_for: Any,
) -> None:
    clock = ScaledClock(speed=FAST)
    emu = make_emulator(users=3, clock=clock)
    client = client_for(emu, clock=clock, max_attempts=3)
    ids = _ids(client)
    emu.faults.offline()
    with pytest.raises(NetworkError) as caught:
        client.get_end_user(ids[0])
    assert "cannot connect" in str(caught.value)
    emu.faults.online()
    assert client.get_end_user(ids[0]).id == ids[0]


@pytest.mark.parametrize("kind", ["500", "503", "reset", "truncated", "malformed", "timeout"])
def test_reads_retry_through_each_fault_kind(
    make_emulator: Any, client_for: Any, kind: str,
) -> None:
    clock = ScaledClock(speed=FAST)
    emu = make_emulator(users=20, clock=clock)
    # timeouts cost real time: only a few, and a short (but loaded-machine-safe) timeout
    slow = kind == "timeout"
    client = client_for(emu, clock=clock, max_attempts=12, timeout=0.3 if slow else 5.0)
    ids = _ids(client, 20)
    emu.faults.fail_next(kind, 3)  # the first call fails three times in a row
    if not slow:
        emu.faults.fail(0.3, {kind})
    before = client.request_count
    for end_user_id in ids:
        assert client.get_end_user(end_user_id).id == end_user_id
    retries = client.request_count - before - len(ids)
    assert retries > 0 and retries == emu.faults.total  # one retry per injected fault


def test_writes_are_retried_idempotently(make_emulator: Any, client_for: Any) -> None:
    clock = ScaledClock(speed=FAST)
    emu = make_emulator(users=10, clock=clock)
    client = client_for(emu, clock=clock, max_attempts=12)
    ids = _ids(client)
    emu.faults.fail(0.4, {"reset_after_write", "truncated_after_write", "500", "truncated"})
    for n, end_user_id in enumerate(ids):
        client.update_end_user(end_user_id, properties={"plan": f"P{n}"})
        client.set_surveys_enabled(end_user_id, False)
    client.delete_end_user(ids[0])  # a retried DELETE whose first try went through is fine
    emu.faults.clear()
    assert emu.store.purge_marked() == [ids[0]]  # the service's later purge of the marked one
    with pytest.raises(NotFoundError):
        client.get_end_user(ids[0])
    for n, end_user_id in enumerate(ids[1:], 1):
        user = client.get_end_user(end_user_id)
        assert user.properties == {"plan": f"P{n}"} and user.surveys_disabled


def test_create_is_not_duplicated_when_the_connection_drops_after_the_write(
    make_emulator: Any, client_for: Any,
) -> None:
    clock = ScaledClock(speed=FAST)
    emu = make_emulator(users=0, clock=clock)
    client = client_for(emu, clock=clock, max_attempts=12)
    client.authenticate()
    emu.faults.fail(0.5, {"reset_after_write", "truncated_after_write"})
    emails = [f"new{n}@dup-check.example" for n in range(16)]
    created = [client.create_end_user(e, properties={"n": n}) for n, e in enumerate(emails)]
    emu.faults.clear()
    assert [u.email for u in created] == emails
    stored = [emu.store.get(i) for i in sorted(emu.store.all_ids())]
    assert sorted(s["email"] for s in stored) == sorted(emails)  # each exactly once
    assert len({u.id for u in created}) == len(emails)


def test_secrets_never_reach_messages_or_logs(
    make_emulator: Any, client_for: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    from desktop_app.emulator import DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD

    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    clock = ScaledClock(speed=FAST)
    emu = make_emulator(users=5, clock=clock)
    texts: list[str] = []
    kinds: list[type[WootricError]] = []
    tokens: set[str] = set()

    def attempt(call: Any) -> None:
        try:
            call()
        except WootricError as exc:
            kinds.append(type(exc))
            texts.append(f"{exc} {exc!r} {exc.args} {exc.__cause__!r} {exc.__context__!r}")

    good = client_for(emu, "password", clock=clock, max_attempts=3)
    ids = _ids(good)
    attempt(lambda: good.get_end_user(ids[0]))
    emu.expire_tokens()
    attempt(lambda: good.get_end_user(ids[0]))
    for kind in ("500", "reset", "truncated", "malformed"):
        emu.faults.fail(1.0, {kind})
        attempt(lambda: good.get_end_user(ids[0]))
    emu.faults.clear()
    attempt(lambda: good.list_end_users([("page", "99")]))
    token = good._t.tokens.token
    assert token is not None
    tokens.update(t for t in (token.access, token.refresh) if t)
    for grant in ("client", "password"):
        bad = client_for(emu, grant, clock=clock, secret=DEFAULT_CLIENT_SECRET[::-1],
                         password=DEFAULT_PASSWORD[::-1])
        attempt(bad.authenticate)
    emu.faults.offline()
    attempt(lambda: good.get_end_user(ids[0]))
    emu.faults.online()

    assert kinds.count(AuthError) == 2 and NetworkError in kinds and ProtocolError in kinds
    haystack = "\n".join(texts) + "\n" + caplog.text
    for secret in (DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_CLIENT_SECRET[::-1],
                   DEFAULT_PASSWORD[::-1], *tokens):
        assert secret not in haystack
    assert not any("Bearer" in t for t in texts)


@pytest.mark.parametrize("constant", [float("nan"), float("inf")])
def test_nan_or_infinity_in_an_answer_is_malformed_json(
    make_emulator: Any, client_for: Any, constant: float,
) -> None:
    """Python's json reads NaN and Infinity; JSON has neither, and the cache refused them later
    with 'Out of range float values are not JSON compliant'. Retried as any malformed answer."""
    clock = ScaledClock(speed=FAST)
    emu = make_emulator(users=1, clock=clock)
    client = client_for(emu, clock=clock, max_attempts=3)
    [end_user_id] = emu.store.all_ids()
    emu.faults.tamper_next("properties", {"ratio": constant}, count=3)
    with pytest.raises(ProtocolError, match="malformed JSON"):
        client.get_end_user(end_user_id)
    emu.faults.tamper_next("properties", {"ratio": constant})
    assert client.get_end_user(end_user_id).id == end_user_id  # the retry reads a sane answer
