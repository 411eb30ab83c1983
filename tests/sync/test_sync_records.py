"""The sync service reports the cache's own records and honest progress (issue 16, 8 and 9)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

from desktop_app.api.client import WootricClient
from desktop_app.cache.store import Cache
from desktop_app.emulator import Emulator
from desktop_app.sync import SyncService
from desktop_app.sync.bar_state import BarState, describe_bar
from desktop_app.sync.status import SyncState, SyncStatus
from tests.sync.conftest import credentials


def _wait_for(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_an_edit_from_the_command_line_shows_and_goes_out(emu: Emulator, cache: Cache) -> None:
    """Another process queues an edit in the same cache: no change broadcast reaches the app,
    yet the bar counts it within moments and the idle service sends it without an interval."""
    service = SyncService(cache, lambda: WootricClient(credentials(emu)), interval=3600,
                          records_every=0.1)
    seen: list[SyncStatus] = []
    service.subscribe(seen.append)
    try:
        service.start()
        _wait_for(lambda: service.status.state is SyncState.IDLE
                  and service.status.last_success_at is not None)
        target = min(emu.store.all_ids())
        subprocess.run(
            [sys.executable, "-c",
             "import sys; from desktop_app.cache.store import Cache\n"
             "c = Cache.open(sys.argv[1]); c.set_property([int(sys.argv[2])], 'plan', 'CLI'); c.close()",
             str(cache.path), str(target)],
            check=True, timeout=60)
        _wait_for(lambda: any(s.pending == 1 for s in seen))
        _wait_for(lambda: emu.store.get(target)["properties"].get("plan") == "CLI")
        _wait_for(lambda: service.status.state is SyncState.IDLE and service.status.pending == 0)
        assert describe_bar(service.status).state is BarState.UP_TO_DATE
    finally:
        service.stop()


def test_a_relaunch_reads_the_last_sync_from_the_cache(emu: Emulator, cache: Cache) -> None:
    first = SyncService(cache, lambda: WootricClient(credentials(emu)))
    first.run_once()
    first.stop()
    cache.set_property([min(emu.store.all_ids())], "plan", "Pro")
    # the next launch, before any run (no secret in the keyring, say): the records speak
    relaunched = SyncService(cache, lambda: WootricClient(credentials(emu)))
    try:
        relaunched.refresh_records()
        relaunched.hold_for_sign_in("the account's secret is not in the keyring")
        view = describe_bar(relaunched.status)
        assert view.last_sync == "Last synced just now"
        assert view.pending == "1 edit waiting"
        assert view.state is BarState.SIGN_IN_NEEDED
    finally:
        relaunched.stop()


def test_a_push_shows_the_outbox_size_as_its_total(emu: Emulator, cache: Cache) -> None:
    service = SyncService(cache, lambda: WootricClient(credentials(emu)))
    service.run_once()
    ids = sorted(emu.store.all_ids())[:40]
    cache.set_property(ids, "plan", "Pro")
    cache.set_surveys_enabled(ids[:10], False)
    outbox = cache.pending_count()
    seen: list[SyncStatus] = []
    service.subscribe(seen.append)
    try:
        service.run_once()
    finally:
        service.stop()
    pushing = [s for s in seen if s.state is SyncState.SYNCING and s.phase == "push"]
    assert pushing and all(s.total == outbox for s in pushing)
    assert pushing[-1].done == outbox
    assert describe_bar(pushing[-1]).headline.startswith(f"Sending edits · {outbox:,} of {outbox:,}")


def test_a_pull_never_guesses_a_total(emu: Emulator, cache: Cache) -> None:
    service = SyncService(cache, lambda: WootricClient(credentials(emu)))
    seen: list[SyncStatus] = []
    service.subscribe(seen.append)
    try:
        service.run_once()
    finally:
        service.stop()
    pulling = [s for s in seen if s.state is SyncState.SYNCING and s.phase == "pull"]
    assert pulling and pulling[-1].done == len(emu.store.all_ids())
    assert all(s.total is None and s.eta_s is None for s in pulling)
    assert "total not known" in describe_bar(pulling[-1]).headline
