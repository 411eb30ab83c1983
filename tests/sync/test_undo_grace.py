"""The undo grace: a local edit waits `grace` seconds in the outbox before it is pushed.

Real emulator on loopback, real cache file, real client; what reaches the service is read from
the emulator's own request log (the method and path of every request it answered).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from desktop_app.api.client import WootricClient
from desktop_app.cache.records import SyncOutcome
from desktop_app.cache.store import Cache
from desktop_app.emulator import Emulator
from desktop_app.sync import SyncService
from desktop_app.sync.bar_state import BarState, describe_bar
from desktop_app.sync.status import SyncState

from .conftest import credentials, server_view


class ServedRequests(logging.Handler):
    """The emulator's request log ("PUT /v1/end_users/1234 -> 200"), with when each came."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[float, str]] = []
        self._lock_lines = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock_lines:
            self.lines.append((time.monotonic(), record.getMessage()))

    def writes_to(self, end_user_id: int) -> list[float]:
        """When each PUT of that end user's row or settings was answered."""
        with self._lock_lines:
            return [at for at, line in self.lines
                    if line.startswith("PUT ") and f"/end_users/{end_user_id}" in line]


@pytest.fixture
def served() -> Iterator[ServedRequests]:
    logger = logging.getLogger("desktop_app.emulator.server")
    handler = ServedRequests()
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def _service(emu: Emulator, cache: Cache, grace: float) -> SyncService:
    return SyncService(cache, lambda: WootricClient(credentials(emu)), backoff_max=0.4,
                       interval=30.0, edit_delay=0.05, grace=grace)


@pytest.fixture
def make_service(emu: Emulator, cache: Cache) -> Iterator[Callable[[float], SyncService]]:
    made: list[SyncService] = []

    def make(grace: float) -> SyncService:
        service = _service(emu, cache, grace)
        service.run_once()  # the first pull: the cache mirrors the service
        service.start()  # the thread's own first run, then it waits
        _wait_for(lambda: len(cache.last_sync_runs(2)) == 2
                  and all(run.finished_at is not None for run in cache.last_sync_runs(2))
                  and service.status.state is SyncState.IDLE)
        made.append(service)
        return service

    yield make
    for service in made:
        service.stop()


def _wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _plan(emu: Emulator, end_user_id: int) -> object:
    return server_view(emu)[end_user_id]["properties"].get("plan")


def test_undo_within_the_grace_undoes_and_nothing_reaches_the_service(
    emu: Emulator, cache: Cache, served: ServedRequests, make_service: Callable[[float], SyncService]
) -> None:
    make_service(3.0)
    target = sorted(emu.store.all_ids())[3]
    before = _plan(emu, target)
    cache.set_property([target], "plan", "Typo")
    assert cache.undo_state().undo is not None
    time.sleep(0.5)  # the thread has woken for the edit by now, and waits out the grace
    assert cache.undo() is not None
    time.sleep(3.5)  # well past the edit's grace
    assert served.writes_to(target) == []
    assert _plan(emu, target) == before
    assert cache.pending_count() == 0


def test_after_the_grace_the_edit_reaches_the_service_exactly_once(
    emu: Emulator, cache: Cache, served: ServedRequests, make_service: Callable[[float], SyncService]
) -> None:
    service = make_service(1.0)
    target = sorted(emu.store.all_ids())[4]
    edited = time.monotonic()
    cache.set_property([target], "plan", "Enterprise")
    status = service.status
    assert status.send_at is not None and status.pending == 1
    assert describe_bar(status, service.clock.now()).state is BarState.WAITING_TO_SEND
    _wait_for(lambda: cache.pending_count() == 0)
    assert _plan(emu, target) == "Enterprise"
    writes = served.writes_to(target)
    assert len(writes) == 1
    assert writes[0] - edited >= 1.0  # not before the grace was over
    time.sleep(0.5)  # no second push of the same edit
    assert len(served.writes_to(target)) == 1
    assert cache.undo_state().undo is None


def test_an_edit_made_during_the_grace_restarts_it(
    emu: Emulator, cache: Cache, served: ServedRequests, make_service: Callable[[float], SyncService]
) -> None:
    make_service(3.0)
    first, second = sorted(emu.store.all_ids())[5:7]
    cache.set_property([first], "plan", "One")
    time.sleep(1.5)
    restarted = time.monotonic()
    cache.set_property([second], "plan", "Two")
    time.sleep(2.0)  # the first edit's grace is over; the second's is not
    assert served.writes_to(first) == [] and served.writes_to(second) == []
    _wait_for(lambda: cache.pending_count() == 0)
    assert (_plan(emu, first), _plan(emu, second)) == ("One", "Two")
    assert min(served.writes_to(first) + served.writes_to(second)) - restarted >= 3.0


def test_sync_now_skips_the_grace(
    emu: Emulator, cache: Cache, served: ServedRequests, make_service: Callable[[float], SyncService]
) -> None:
    service = make_service(60.0)
    target = sorted(emu.store.all_ids())[7]
    cache.set_property([target], "plan", "Right now")
    time.sleep(0.3)
    assert served.writes_to(target) == []
    service.sync_now()
    _wait_for(lambda: cache.pending_count() == 0, timeout=10.0)
    assert _plan(emu, target) == "Right now"
    assert service.status.send_at is None


def test_grace_zero_pushes_at_once(
    emu: Emulator, cache: Cache, served: ServedRequests, make_service: Callable[[float], SyncService]
) -> None:
    service = make_service(0.0)
    target = sorted(emu.store.all_ids())[8]
    edited = time.monotonic()
    cache.set_property([target], "plan", "At once")
    assert service.status.send_at is None
    _wait_for(lambda: cache.pending_count() == 0, timeout=10.0)
    assert served.writes_to(target)[0] - edited < 1.0


def test_setting_the_grace_to_zero_sends_what_waits(
    emu: Emulator, cache: Cache, served: ServedRequests, make_service: Callable[[float], SyncService]
) -> None:
    service = make_service(60.0)
    target = sorted(emu.store.all_ids())[9]
    cache.set_property([target], "plan", "Waited")
    time.sleep(0.3)
    assert served.writes_to(target) == []
    service.set_grace(0)
    _wait_for(lambda: cache.pending_count() == 0, timeout=10.0)
    assert _plan(emu, target) == "Waited"


def test_quitting_during_the_grace_sends_the_edit(
    emu: Emulator, cache: Cache, served: ServedRequests
) -> None:
    service = _service(emu, cache, 60.0)
    service.run_once()
    service.start()
    target = sorted(emu.store.all_ids())[10]
    cache.set_property([target], "plan", "Before quitting")
    time.sleep(0.3)
    assert served.writes_to(target) == []
    service.stop()
    assert _plan(emu, target) == "Before quitting"
    assert cache.pending_count() == 0
    assert cache.last_sync_runs(1)[0].outcome == SyncOutcome.PUSHED  # not counted as a full sync


def test_signing_out_during_the_grace_leaves_the_edit_in_the_outbox(
    emu: Emulator, cache: Cache, served: ServedRequests
) -> None:
    """The sign-out question says unsent edits stay for the next sign-in: they do."""
    service = _service(emu, cache, 60.0)
    service.run_once()
    service.start()
    target = sorted(emu.store.all_ids())[13]
    cache.set_property([target], "plan", "Kept for later")
    service.stop(send_held=False)
    assert served.writes_to(target) == []
    assert cache.pending_count() == 1


def test_work_offline_during_the_grace_sends_nothing_on_quit(
    emu: Emulator, cache: Cache, served: ServedRequests
) -> None:
    service = _service(emu, cache, 60.0)
    service.run_once()
    service.start()
    target = sorted(emu.store.all_ids())[11]
    cache.set_property([target], "plan", "Stays here")
    service.set_work_offline(True)
    service.stop()
    assert served.writes_to(target) == []
    assert cache.pending_count() == 1


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
def test_a_crash_during_the_grace_loses_nothing(emu: Emulator, tmp_path: Path) -> None:
    """The edit is in the outbox when the cache call returns: killed during its grace, the
    process leaves it there, and the next start pushes it at once."""
    path = tmp_path / "crash.sqlite3"
    with Cache.open(path) as cache:
        _service(emu, cache, 0).run_once()
    target = sorted(emu.store.all_ids())[12]
    script = textwrap.dedent(f"""
        import sys, time
        from desktop_app.api.account import Credentials
        from desktop_app.api.client import WootricClient
        from desktop_app.cache.store import Cache
        from desktop_app.sync import SyncService
        cache = Cache.open({str(path)!r})
        credentials = Credentials({emu.base_url!r}, client_id={credentials(emu).client_id!r},
                                  client_secret={credentials(emu).client_secret!r})
        service = SyncService(cache, lambda: WootricClient(credentials), grace=60, edit_delay=0.05)
        service.start()
        cache.set_property([{target}], "plan", "Survives")
        print("edited", flush=True)
        time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[2])
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "edited"
        time.sleep(0.5)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert _plan(emu, target) != "Survives"
    with Cache.open(path) as cache:
        assert cache.pending_count() == 1
        service = _service(emu, cache, 60.0)  # the new process: nothing of its own to hold
        service.start()
        try:
            _wait_for(lambda: cache.pending_count() == 0, timeout=10.0)
        finally:
            service.stop()
    assert _plan(emu, target) == "Survives"
