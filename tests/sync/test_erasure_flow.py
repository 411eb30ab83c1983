"""Erasure as a tracked job, against the real emulator: a pushed delete answers 202 and the
person stays "erasure pending" until a reconcile no longer finds them, then "erased"."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from desktop_app.api.client import WootricClient
from desktop_app.cache.records import EditRejected
from desktop_app.cache.reading.query import EndUserQuery
from desktop_app.cache.reading.read_pool import ReadPool
from desktop_app.cache.store import Cache
from desktop_app.clock import ScaledClock
from desktop_app.emulator import Emulator
from desktop_app.sync import SyncService
from desktop_app.sync.pull import CURSOR_KEY, pull_changes
from desktop_app.sync.push import push_all
from desktop_app.sync.reconcile import reconcile_deletions
from tests.sync.conftest import cache_view, credentials, server_view

T = 1_736_942_400  # 2025-01-15 12:00:00 UTC


def _pending_ids(path: Path) -> list[int]:
    """What the filter term lists, through the window's own reader."""
    pool = ReadPool(path)
    try:
        return sorted(EndUserQuery(pool).ids("is:erasure-pending"))
    finally:
        pool.close()


def test_delete_202_erasure_pending_purge_reconcile_erased(tmp_path: Path) -> None:
    clock = ScaledClock(speed=0.0, start=T)
    path = tmp_path / "account.sqlite3"
    with Emulator(users=40, seed=3, clock=clock, purge_delay=3600) as emu, \
            Cache.open(path, clock=clock) as cache:
        service = SyncService(cache, lambda: WootricClient(credentials(emu), clock=clock),
                              clock=clock, backoff_max=0.4, interval=30.0, edit_delay=0.0)
        try:
            service.run_once()
            leaving, staying = sorted(emu.store.all_ids())[:2]
            email = cache.get(leaving).end_user.email
            cache.delete_end_users([leaving])
            assert cache.get(leaving).pending_delete
            service.run_once()
            # the service took it (202) and only marked it
            assert leaving in emu.store.marked()
            cached = cache.get(leaving)
            assert cached is not None and cached.erasure_pending and not cached.pending_delete
            assert cached.end_user.email == email and not cached.pending  # the outbox is empty
            assert _pending_ids(path) == [leaving]
            [record] = cache.erasures()
            assert (record.end_user_id, record.state) == (leaving, "pending")
            assert record.sent_at is not None and record.accepted_at is not None
            assert record.requested_at <= record.sent_at
            # before the purge a reconcile still finds them: still pending
            service.run_once(reconcile=True)
            assert cache.get(leaving).erasure_pending
            clock.advance(3601)  # the emulator purges an hour after the delete
            assert leaving not in emu.store.all_ids()
            service.run_once(reconcile=True)
            assert cache.get(leaving) is None  # erased: the row left the table
            [record] = cache.erasures()
            assert record.state == "erased" and record.erased_at == int(clock.now())
            assert _pending_ids(path) == []
            assert cache.suppressed("email", [email.upper(), "someone@else.example"]) == {email.upper()}
            assert cache.get(staying) is not None
            assert cache_view(cache) == server_view(emu)
        finally:
            service.stop()


def test_a_full_pull_during_the_wait_does_not_bring_them_back_as_a_live_row(
        emu: Emulator, cache: Cache, tmp_path: Path) -> None:
    client = WootricClient(credentials(emu))
    pull_changes(client, cache, server_now=emu.clock.now)
    leaving = sorted(emu.store.all_ids())[5]
    cache.delete_end_users([leaving])
    push_all(client, cache)
    assert leaving in emu.store.marked()
    # every row again, as a fresh full pull would read them (the service still lists them)
    cache.set_cursor(CURSOR_KEY, None)
    pull_changes(client, cache, server_now=emu.clock.now)
    cached = cache.get(leaving)
    assert cached is not None and cached.erasure_pending
    assert _pending_ids(cache.path) == [leaving]
    # edits are refused while the service purges them
    with pytest.raises(EditRejected, match="being erased"):
        cache.set_property([leaving], "plan", "Pro")
    # purged through the admin route, then a page read before the purge arrives late:
    # it must not resurrect the erased person
    stale = client.get_end_user(leaving)
    assert httpx.post(f"{emu.base_url}/_emulator/purge").status_code in (200, 204)
    assert reconcile_deletions(client, cache) == 1
    cache.ingest_pulled([stale], CURSOR_KEY, cache.cursor(CURSOR_KEY))
    assert cache.get(leaving) is None
    assert [r.state for r in cache.erasures()] == ["erased"]
