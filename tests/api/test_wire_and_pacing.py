"""Pieces without a network: form encoding, wire mapping, rate-limit arithmetic, URL safety."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop_app.api.account import REGIONS, Credentials, check_base_url
from desktop_app.api.client import WootricClient
from desktop_app.api.errors import ConfigurationError, ProtocolError
from desktop_app.api.throttle import Backoff, RateLimitGate, WaitReason, parse_retry_after
from desktop_app.api.wire import end_user_from_wire, error_details, settings_from_wire
from desktop_app.domain import DisabledBy


class FrozenClock:
    """A clock that only moves when slept on (records the sleeps)."""

    def __init__(self, now: float) -> None:
        self.t = now
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += max(0.0, seconds)


def test_wire_end_user_honours_offsets_and_maps_settings() -> None:
    user = end_user_from_wire({
        "id": 7, "email": "x@y.example",
        "created_at": "2022-08-10 11:39:50 -0700", "updated_at": "2022-08-10 18:39:51 +0000",
        "external_created_at": 1_600_000_000, "last_surveyed": None, "external_id": 42,
        "properties": {"plan": "Pro", "features": ["a", 1]},
        "settings": {"email_nps": False, "mobile_nps": False, "web_nps": False,
                     "surveys_disabled_by_end_user": None},
    })
    assert (user.created_at, user.updated_at) == (1_660_156_790, 1_660_156_791)
    assert user.external_id == "42" and user.external_created_at == 1_600_000_000
    assert user.properties == {"plan": "Pro", "features": ["a", "1"]}
    assert user.disabled_by is DisabledBy.ADMIN
    opted_out = settings_from_wire({"surveys_disabled_by_end_user": True})
    assert opted_out.disabled_by is DisabledBy.END_USER
    with pytest.raises(ProtocolError):
        end_user_from_wire({"id": 1, "email": "x", "created_at": "yesterday", "updated_at": 1})
    with pytest.raises(ProtocolError):
        end_user_from_wire(["not", "an", "object"])


def test_error_bodies_of_both_shapes() -> None:
    grape = {"type": "error_list", "errors": [
        {"status": "invalid_parameter", "message": "page does not have a valid value",
         "field": "page"}]}
    assert error_details(grape) == ("page does not have a valid value", "page", "invalid_parameter")
    assert error_details({"error": "invalid_grant", "error_description": "nope"}) == (
        "nope", None, "invalid_grant")
    assert error_details("<html>") == (None, None, None)


def _http_date(unix: float) -> str:
    return format_datetime(datetime.fromtimestamp(unix, tz=UTC), usegmt=True)


def test_refusal_wait_uses_reset_minus_date_not_the_skewed_local_clock() -> None:
    clock = FrozenClock(1_000_000_000.0)  # local clock 10 minutes behind the server
    gate = RateLimitGate(clock, wait_max=120.0)
    server_now = clock.t + 600
    wait = gate.refusal_wait({"x-rate-limit-reset": str(int(server_now) + 42),
                              "date": _http_date(server_now), "x-rate-limit-limit": "100"})
    assert (wait.seconds, wait.reason, wait.limit) == (42, WaitReason.REFUSED, 100)
    # without Date: Reset - local now (here 642 s), clamped to the maximum
    assert gate.refusal_wait({"x-rate-limit-reset": str(int(server_now) + 42)}).seconds == 120.0
    # a Reset already past: still one second, never a busy loop
    assert gate.refusal_wait({"x-rate-limit-reset": str(int(server_now) - 5),
                              "date": _http_date(server_now)}).seconds == 1.0
    # no headers at all: the documented minute
    assert gate.refusal_wait({}).seconds == 60.0


def test_exhausted_window_is_waited_out_before_the_next_request() -> None:
    clock = FrozenClock(2_000_000_000.0)
    gate = RateLimitGate(clock, wait_max=120.0)
    gate.observe({"x-rate-limit-remaining": "3", "x-rate-limit-reset": str(int(clock.t) + 30)})
    assert gate.pending_wait() is None
    gate.observe({"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(clock.t) + 30),
                  "date": _http_date(clock.t)})
    clock.t += 10  # ten seconds pass before the next request
    wait = gate.pending_wait()
    assert wait is not None and wait.reason is WaitReason.EXHAUSTED and wait.seconds == 20
    assert gate.pending_wait() is None  # owed once


def test_backoff_is_capped_exponential_with_full_jitter() -> None:
    clock = FrozenClock(0.0)
    backoff = Backoff(clock, base=0.5, cap=8.0, rng=random.Random(1))
    for attempt, ceiling in ((1, 0.5), (2, 1.0), (3, 2.0), (5, 8.0), (9, 8.0)):
        delays = [backoff.delay(attempt) for _ in range(200)]
        assert min(delays) >= 0.0 and max(delays) <= ceiling
        assert max(delays) > ceiling * 0.8  # really spread over the whole range
    backoff.sleep(3)
    assert len(clock.slept) == 1 and clock.slept[0] <= 2.0


@pytest.mark.parametrize("url", [
    "http://api.wootric.com", "http://10.0.0.5:8080", "http://127.0.0.1.nip.io", "ftp://x",
    "https://user:pw@api.wootric.com", "https://api.wootric.com/?access_token=x",
])
def test_unsafe_base_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        WootricClient(Credentials(url, client_id="i", client_secret="s"))
    assert "pw" not in str(caught.value) and "access_token" not in str(caught.value)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080", "http://127.3.4.5", "http://localhost:1/", "http://[::1]:9",
    "https://api.wootric.com/",
])
def test_loopback_http_and_any_https_are_accepted(url: str) -> None:
    assert not check_base_url(url).endswith("/")


def test_credentials_repr_hides_secrets_and_regions_are_known() -> None:
    creds = Credentials("https://api.wootric.com", client_id="id1", client_secret="s3cr3t",
                        username="u@x", password="hunter2")
    assert "s3cr3t" not in repr(creds) and "hunter2" not in repr(creds)
    assert "s3cr3t" not in str(creds) and "id1" in repr(creds)
    assert REGIONS["US"] == "https://api.wootric.com"
    assert {"EU", "AU"} <= REGIONS.keys()
    with pytest.raises(ConfigurationError):
        _ = Credentials("https://api.wootric.com").grant


@given(moment=st.integers(0, 4_102_444_800), minutes=st.integers(-14 * 60, 14 * 60))
def test_the_fast_timestamp_path_agrees_with_parse_wire_time(moment: int, minutes: int) -> None:
    from datetime import timedelta, timezone

    from desktop_app.api.wire import _canonical_time
    from desktop_app.timestamps import WIRE_FORMAT, parse_wire_time

    zone = timezone(timedelta(minutes=minutes))
    text = datetime.fromtimestamp(moment, tz=zone).strftime(WIRE_FORMAT)
    assert _canonical_time(text) == parse_wire_time(text) == moment


@pytest.mark.parametrize("text", [
    "2022-08-10 11:39:50-07:00", "2022-08-10T11:39:50 -0700", "2022-13-10 11:39:50 -0700",
    "2022-08-10 11:39:50 -07x0", "2022-08-10 11:39:5a -0700", "2022-08-10 11:39:50 +-700",
])
def test_the_fast_timestamp_path_leaves_other_forms_to_the_general_parser(text: str) -> None:
    from desktop_app.api.wire import _canonical_time

    assert _canonical_time(text) is None


@pytest.mark.parametrize(("value", "seconds"), [
    ("120", 120.0), (" 7 ", 7.0), ("0", 0.0), ("9" * 5000, 3600.0),  # capped at an hour
    (_http_date(1_700_000_030), 30.0), (_http_date(1_699_999_000), 0.0),  # past: now
    ("Sunday, 06-Nov-94 08:49:37 GMT", 0.0), ("Sun Nov  6 08:49:37 1994", 0.0),  # obsolete forms
    ("-5", None), ("+5", None), ("1.5", None), ("1e3", None), ("soon", None), ("", None),
    (None, None), ("Wed, 99 Oct 2015 07:28:00 GMT", None), ("\u0661\u0662", None),
])
def test_retry_after_in_seconds_or_as_an_http_date(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=1_700_000_000.0) == seconds


def test_a_429_goes_by_a_valid_retry_after_else_by_the_rate_limit_headers() -> None:
    clock = FrozenClock(1_700_000_000.0)
    gate = RateLimitGate(clock, wait_max=120.0)
    reset = {"x-rate-limit-reset": str(1_700_000_042), "date": _http_date(1_700_000_000)}
    assert gate.refusal_wait({**reset, "retry-after": "5"}).seconds == 5.0
    assert gate.refusal_wait({**reset, "retry-after": "900"}).seconds == 900.0  # its own word
    assert gate.refusal_wait({**reset, "retry-after": "0"}).seconds == 1.0  # never a tight loop
    assert gate.refusal_wait({**reset, "retry-after": _http_date(1_700_000_010)}).seconds == 10.0
    for garbage in ("-5", "soon", "1.5", ""):
        assert gate.refusal_wait({**reset, "retry-after": garbage}).seconds == 42.0
    assert gate.refusal_wait({"x-rate-limit-reset": "inf"}).seconds == 60.0  # OverflowError before
