"""The service's per-minute rate limit, honoured on a ScaledClock shared with the emulator."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import pytest

from desktop_app.api.errors import RateLimitedError, WaitInterrupted
from desktop_app.api.throttle import RateLimitWait, WaitReason
from desktop_app.api.transport import MAX_RATE_LIMIT_WAITS
from desktop_app.clock import ScaledClock


def test_client_waits_out_an_exhausted_window_instead_of_hitting_429(
    make_emulator: Any, client_for: Any,
) -> None:
    clock = ScaledClock(speed=600)
    emu = make_emulator(users=30, clock=clock, rate_limit=10)
    client = client_for(emu, clock=clock)
    waits: list[RateLimitWait] = []
    client.on_rate_limit = waits.append
    ids = [u.id for u in client.list_end_users([("per_page", "30"), ("sort_key", "created_at")])]
    started_virtual, started_real = clock.now(), time.monotonic()
    for end_user_id in ids:
        assert client.get_end_user(end_user_id).id == end_user_id
    assert waits and all(w.reason is WaitReason.EXHAUSTED for w in waits)  # never refused
    assert all(w.limit == 10 for w in waits) and all(1 <= w.seconds <= 60 for w in waits)
    assert client.request_count == 1 + 1 + len(ids)  # no 429 round trips
    assert clock.now() - started_virtual >= 60 * (len(waits) - 1)  # minutes really passed...
    assert time.monotonic() - started_real < 10  # ...in about a second of wall time


def test_a_429_is_waited_out_and_does_not_use_up_attempts(
    make_emulator: Any, client_for: Any,
) -> None:
    clock = ScaledClock(speed=600)
    emu = make_emulator(users=10, clock=clock)
    client = client_for(emu, clock=clock, max_attempts=1)  # any counted retry would fail
    waits: list[RateLimitWait] = []
    client.on_rate_limit = waits.append
    ids = [u.id for u in client.list_end_users([("per_page", "10"), ("sort_key", "created_at")])]
    emu.faults.fail(0.5, {"429"})
    for end_user_id in ids:
        assert client.get_end_user(end_user_id).id == end_user_id
    refused = [w for w in waits if w.reason is WaitReason.REFUSED]
    assert refused and all(1 <= w.seconds <= 120 for w in refused)


def test_real_limit_429s_are_survived_by_a_second_client(
    make_emulator: Any, client_for: Any,
) -> None:
    """Two clients share one account's budget: the one that did not see Remaining hit 0 gets
    429s and must wait until Reset, then finish."""
    # A one-minute window lasts a second here: a loaded machine still fits 16 requests in it.
    clock = ScaledClock(speed=60)
    emu = make_emulator(users=10, clock=clock, rate_limit=8)
    first = client_for(emu, clock=clock)
    second = client_for(emu, clock=clock)
    waits: list[RateLimitWait] = []
    second.on_rate_limit = waits.append
    ids = [u.id for u in second.list_end_users([("per_page", "10"), ("sort_key", "created_at")])]
    for end_user_id in ids:
        first.get_end_user(end_user_id)
        assert second.get_end_user(end_user_id).id == end_user_id
    assert any(w.reason is WaitReason.REFUSED for w in waits)


def test_a_walk_is_paced_by_a_tight_budget_and_misses_nothing(
    make_emulator: Any, client_for: Any,
) -> None:
    # A virtual minute is one real second: five requests fill it even on a loaded machine
    # (at 0.1 s a minute, slow requests never ran the budget out and the test flaked).
    clock = ScaledClock(speed=60)
    emu = make_emulator(users=1_000, seed=4, profile="bursty", clock=clock, rate_limit=5)
    client = client_for(emu, clock=clock)
    waits: list[RateLimitWait] = []
    client.on_rate_limit = waits.append
    started = clock.now()
    ids = [u.id for page in client.walk_updated(0) for u in page.end_users]
    assert sorted(ids) == sorted(emu.store.all_ids()) and len(ids) == len(set(ids))
    exhausted = [w for w in waits if w.reason is WaitReason.EXHAUSTED]
    assert len(exhausted) >= client.request_count // 5 - 1
    # Windows are whole emulator minutes, so the first one may be partly gone already.
    assert clock.now() - started >= 60 * (client.request_count // 5 - 2)


def test_endless_429s_end_in_rate_limited_error(make_emulator: Any, client_for: Any) -> None:
    clock = ScaledClock(speed=6_000)
    emu = make_emulator(users=3, clock=clock)
    client = client_for(emu, clock=clock)
    client.authenticate()
    emu.faults.fail(1.0, {"429"})
    before = client.request_count
    with pytest.raises(RateLimitedError) as caught:
        client.get_end_user(1)
    assert client.request_count - before == MAX_RATE_LIMIT_WAITS + 1
    assert caught.value.status == 429 and caught.value.retry_after is not None


def _read_until_interrupted(client: Any, ids: list[int], after_s: float = 0.3) -> float:
    """Read every end user while another thread interrupts the client's waits after `after_s`;
    the reads must end with WaitInterrupted. Returns the seconds they took."""
    threading.Timer(after_s, client.interrupt_waits).start()
    started = time.monotonic()
    with pytest.raises(WaitInterrupted):
        for end_user_id in ids:
            client.get_end_user(end_user_id)
    return time.monotonic() - started


def test_a_rate_limit_wait_ends_at_once_when_interrupted(make_emulator: Any, client_for: Any) -> None:
    """On the wall clock: a wait for the minute's window to reset ends when another thread asks."""
    emu = make_emulator(users=5, rate_limit=2)  # the real clock: Reset is 1-60 s away
    client = client_for(emu)
    waits: list[RateLimitWait] = []
    client.on_rate_limit = waits.append
    ids = [u.id for u in client.list_end_users([("per_page", "5"), ("sort_key", "created_at")])]
    elapsed = _read_until_interrupted(client, ids)
    assert waits and elapsed < min(3.0, waits[0].seconds)  # the wait was cut short
    # The minute's window may have turned meanwhile: a 429 makes sure the next read must wait.
    emu.faults.fail(1.0, {"429"})
    with pytest.raises(WaitInterrupted):  # interrupts stay until the next run allows waits
        client.get_end_user(ids[0])


def test_an_interrupted_wait_on_a_scaled_clock_ends_too(make_emulator: Any, client_for: Any) -> None:
    clock = ScaledClock(speed=2)  # a minute's wait would take 30 s of wall time
    emu = make_emulator(users=5, clock=clock, rate_limit=2)
    client = client_for(emu, clock=clock)
    ids = [u.id for u in client.list_end_users([("per_page", "5"), ("sort_key", "created_at")])]
    assert _read_until_interrupted(client, ids) < 3


class _StillClock:
    """Time that moves only when slept on, shared by the emulator and the client, so a wait is
    exactly what the client computed (and the Date header agrees to the second)."""

    def __init__(self, now: float) -> None:
        self._t = now
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._t

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self._t += max(0.0, seconds)


MINUTE_START = 2_000_000_040.0  # a whole minute: the injected 429's Reset is 60 s on
AT = MINUTE_START + 15  # so without a usable Retry-After the wait is Reset - Date = 45 s


@pytest.mark.parametrize(("retry_after", "seconds"), [
    (None, 45.0),  # the service sends none: Reset - Date
    ("7", 7.0), (" 7 ", 7.0), ("600", 600.0),  # honoured beyond the 120 s cap of Reset waits
    (format_datetime(datetime.fromtimestamp(AT + 30, tz=UTC), usegmt=True), 30.0),
    (format_datetime(datetime.fromtimestamp(AT - 30, tz=UTC), usegmt=True), 1.0),  # past: 1 s
    ("0", 1.0),  # never a tight loop
    ("-5", 45.0), ("1.5", 45.0), ("soon", 45.0), ("", 45.0), ("Wed, 99 Oct 2015 07:28:00 GMT", 45.0),
])
def test_a_valid_retry_after_is_honoured_and_a_bad_one_ignored(
    make_emulator: Any, client_for: Any, retry_after: str | None, seconds: float,
) -> None:
    clock = _StillClock(AT)
    emu = make_emulator(users=1, clock=clock)
    client = client_for(emu, clock=clock, max_attempts=1)
    [end_user_id] = emu.store.all_ids()
    client.authenticate()
    waits: list[RateLimitWait] = []
    client.on_rate_limit = waits.append
    emu.faults.retry_after = retry_after
    emu.faults.fail_next("429")
    assert client.get_end_user(end_user_id).id == end_user_id
    assert [(w.reason, w.seconds) for w in waits] == [(WaitReason.REFUSED, seconds)]
    assert clock.now() == AT + seconds  # and really waited that long
