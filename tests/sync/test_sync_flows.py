"""Pull, push, merge, conflicts, rejections and deletions against the real emulator."""

from __future__ import annotations

import sqlite3
import time

from desktop_app.api.client import WootricClient
from desktop_app.cache.records import EditState, SyncOutcome
from desktop_app.cache.store import Cache
from desktop_app.emulator import Emulator
from desktop_app.sync import SyncPhase, SyncService, SyncState
from desktop_app.sync.reconcile import LAST_RECONCILE_KEY

from .conftest import cache_view, credentials, server_view


def test_first_sync_mirrors_the_server(emu: Emulator, cache: Cache, service: SyncService) -> None:
    status = service.run_once()
    assert status.state is SyncState.IDLE, status.message
    assert cache_view(cache) == server_view(emu)
    runs = cache.last_sync_runs(1)
    assert runs and runs[0].outcome == "completed"


def test_recorded_runs_and_published_phases_are_enums_equal_to_the_stored_words(
    emu: Emulator, cache: Cache, service: SyncService
) -> None:
    phases: list[object] = []
    service.subscribe(lambda status: phases.append(status.phase))
    service.run_once()
    emu.faults.offline()
    service.run_once()
    emu.faults.online()
    offline, completed = cache.last_sync_runs(2)
    assert completed.outcome is SyncOutcome.COMPLETED and completed.outcome == "completed"
    assert offline.outcome is SyncOutcome.OFFLINE and offline.outcome == "offline"
    assert phases and all(isinstance(phase, SyncPhase) for phase in phases)
    assert SyncPhase.PULL in phases and "pull" in phases
    with sqlite3.connect(cache.path) as other:  # a word a newer version may write stays text
        other.execute("UPDATE sync_run SET outcome = 'paused' WHERE id = ?", (offline.id,))
    other.close()
    assert cache.last_sync_runs(1)[0].outcome == "paused"


def test_first_sync_does_not_walk_the_service_twice(emu: Emulator, cache: Cache) -> None:
    """Into an empty cache the pull reads every id: no second walk to look for deletions, and the
    reconcile clock starts at the pull; the next runs reconcile on schedule or when asked."""
    phases: list[str] = []
    service = SyncService(cache, lambda: WootricClient(credentials(emu)), reconcile_every=3600,
                          cpu_share=0.5)
    service.subscribe(lambda status: phases.append(status.phase))
    try:
        before = int(time.time())
        assert service.run_once().state is SyncState.IDLE
        assert "pull" in phases and "reconcile" not in phases
        assert before - 2 <= (cache.cursor(LAST_RECONCILE_KEY) or 0) <= int(time.time())
        assert cache_view(cache) == server_view(emu)
        gone = sorted(emu.store.all_ids())[0]
        emu.store.delete(gone)
        service.run_once()  # not due yet
        assert cache.get(gone) is not None
        service.run_once(reconcile=True)
        assert "reconcile" in phases and cache.get(gone) is None
    finally:
        service.stop()


def test_second_sync_pulls_only_changes(emu: Emulator, cache: Cache, service: SyncService) -> None:
    service.run_once()
    some = sorted(emu.store.all_ids())[:3]
    for end_user_id in some:
        emu.store.set_property(end_user_id, "plan", "Enterprise")
    service.run_once()
    assert cache_view(cache) == server_view(emu)
    last = cache.last_sync_runs(1)[0]
    assert last.counts["pulled"] < 20  # the overlap re-reads a few rows, not the account


def test_local_edits_reach_the_server(emu: Emulator, cache: Cache, service: SyncService) -> None:
    service.run_once()
    a, b, c = sorted(emu.store.all_ids())[:3]
    cache.set_property([a, b], "plan", "Pro")
    cache.unset_property([c], "company")
    cache.set_email(a, "fixed.address@example.org")
    cache.set_external_id(b, "crm-42")
    cache.set_surveys_enabled([c], False)
    assert cache.pending_count() > 0
    status = service.run_once()
    assert status.state is SyncState.IDLE, status.message
    assert cache.pending_count() == 0
    server = server_view(emu)
    assert server[a]["properties"]["plan"] == "Pro" and server[b]["properties"]["plan"] == "Pro"
    assert "company" not in server[c]["properties"]
    assert server[a]["email"] == "fixed.address@example.org"
    assert server[b]["external_id"] == "crm-42"
    assert server[c]["surveys_disabled"] is True
    assert emu.store.get(c)["settings"]["email_nps"] is False
    assert cache_view(cache) == server


def test_disjoint_changes_merge(emu: Emulator, cache: Cache, service: SyncService) -> None:
    service.run_once()
    target = sorted(emu.store.all_ids())[5]
    cache.set_property([target], "plan", "Mine")
    emu.store.set_property(target, "region", "Theirs")  # a colleague, same end user, other key
    service.run_once()
    props = server_view(emu)[target]["properties"]
    assert props["plan"] == "Mine" and props["region"] == "Theirs"
    assert cache.conflict_count() == 0
    assert cache_view(cache) == server_view(emu)


def test_same_key_changed_on_both_sides_is_a_conflict(
    emu: Emulator, cache: Cache, service: SyncService
) -> None:
    service.run_once()
    target = sorted(emu.store.all_ids())[7]
    cache.set_property([target], "plan", "Mine")
    emu.store.set_property(target, "plan", "Theirs")
    status = service.run_once()
    assert status.conflicts == 1
    assert server_view(emu)[target]["properties"]["plan"] == "Theirs"  # nothing overwritten
    [conflict] = cache.conflicts()
    assert (conflict.key, conflict.mine, conflict.theirs) == ("plan", "Mine", "Theirs")
    cache.resolve_conflict(conflict.id, "mine")
    service.run_once()
    assert server_view(emu)[target]["properties"]["plan"] == "Mine"
    assert cache.conflict_count() == 0 and cache.pending_count() == 0
    assert cache_view(cache) == server_view(emu)


def test_take_theirs_discards_mine(emu: Emulator, cache: Cache, service: SyncService) -> None:
    service.run_once()
    target = sorted(emu.store.all_ids())[8]
    cache.set_email(target, "mine@example.com")
    emu.store.update(target, email="theirs@example.com")
    service.run_once()
    [conflict] = cache.conflicts()
    cache.resolve_conflict(conflict.id, "theirs")
    service.run_once()
    assert server_view(emu)[target]["email"] == "theirs@example.com"
    assert cache_view(cache) == server_view(emu)


def test_rejected_edit_is_kept_and_does_not_block_the_queue(
    emu: Emulator, cache: Cache, service: SyncService
) -> None:
    service.run_once()
    a, b = sorted(emu.store.all_ids())[:2]
    taken = emu.store.get(b)["email"]
    cache.set_email(a, str(taken))  # the service refuses a duplicate email
    cache.set_property([b], "plan", "Still goes out")
    status = service.run_once()
    assert status.rejected == 1, status
    [rejected] = cache.rejected_edits()
    assert rejected.state is EditState.REJECTED and rejected.message
    assert server_view(emu)[b]["properties"]["plan"] == "Still goes out"
    assert server_view(emu)[a]["email"] != taken


def test_deletions_both_ways(emu: Emulator, cache: Cache, service: SyncService) -> None:
    service.run_once()
    gone_on_server, deleted_here = sorted(emu.store.all_ids())[:2]
    emu.store.delete(gone_on_server)
    cache.delete_end_users([deleted_here])
    assert cache.get(deleted_here).pending_delete
    service.run_once(reconcile=True)
    # the service marks what the push deleted (202) and purges it later: the reconcile, which
    # still lists it meanwhile, does not bring it back
    assert list(emu.store.marked()) == [deleted_here]
    assert cache.get(gone_on_server) is None and cache.get(deleted_here).erasure_pending
    service.run_once(reconcile=True)
    assert cache.get(deleted_here).erasure_pending  # still there: "erasure pending"
    assert emu.store.purge_marked() == [deleted_here]
    assert deleted_here not in emu.store.all_ids()
    service.run_once(reconcile=True)
    assert cache.get(deleted_here) is None  # erased
    assert cache_view(cache) == server_view(emu)


def test_offline_edits_go_out_when_the_service_returns(
    emu: Emulator, cache: Cache, service: SyncService
) -> None:
    service.run_once()
    target = sorted(emu.store.all_ids())[3]
    emu.faults.offline()
    cache.set_property([target], "plan", "Written on a train")
    service.start()
    deadline = time.monotonic() + 10
    while service.status.state is not SyncState.OFFLINE and time.monotonic() < deadline:
        time.sleep(0.02)
    assert service.status.state is SyncState.OFFLINE
    assert not service.status.is_healthy  # offline never looks like success
    assert service.status.pending == 1
    emu.faults.online()
    while cache.pending_count() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server_view(emu)[target]["properties"]["plan"] == "Written on a train"
    while service.status.state is not SyncState.IDLE and time.monotonic() < deadline:
        time.sleep(0.02)
    assert service.status.state is SyncState.IDLE


def test_work_offline_sends_nothing(emu: Emulator, cache: Cache, service: SyncService) -> None:
    service.run_once()
    target = sorted(emu.store.all_ids())[4]
    service.set_work_offline(True)
    service.start()
    cache.set_property([target], "plan", "Later")
    time.sleep(0.3)
    assert service.status.state is SyncState.WORKING_OFFLINE
    assert "plan" not in server_view(emu)[target]["properties"] or (
        server_view(emu)[target]["properties"]["plan"] != "Later")
    service.set_work_offline(False)
    deadline = time.monotonic() + 10
    while cache.pending_count() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server_view(emu)[target]["properties"]["plan"] == "Later"


def test_work_offline_during_a_run_stays_offline_when_the_run_ends(
    emu: Emulator, cache: Cache, service: SyncService
) -> None:
    """The run that Work offline cancels ends after the switch; its "Sync cancelled." must not
    put the bar back to idle (the responses panel then read the service while offline)."""
    emu.faults.latency(0.2)  # every request takes a while: the first run is still walking
    service.start()
    deadline = time.monotonic() + 10
    while service.status.state is not SyncState.SYNCING and time.monotonic() < deadline:
        time.sleep(0.01)
    assert service.status.state is SyncState.SYNCING
    seen: list[SyncState] = []
    service.subscribe(lambda status: seen.append(status.state))
    service.set_work_offline(True)
    time.sleep(1.0)  # the cancelled request returns and the run ends
    assert service.status.state is SyncState.WORKING_OFFLINE
    assert set(seen) == {SyncState.WORKING_OFFLINE}, seen


def test_pull_never_clobbers_a_pending_edit(emu: Emulator, cache: Cache, service: SyncService) -> None:
    service.run_once()
    target = sorted(emu.store.all_ids())[9]
    emu.faults.fail(1.0, kinds={"500"}, path_prefix="/v1/end_users/")  # pushes fail, lists work
    cache.set_property([target], "plan", "Mine")
    emu.store.set_property(target, "seats_count", 99)
    service.run_once()
    cached = cache.get(target)
    assert cached is not None
    assert cached.end_user.properties["plan"] == "Mine"
    emu.faults.clear()
    service.run_once()
    props = server_view(emu)[target]["properties"]
    assert props["plan"] == "Mine" and props["seats_count"] == "99"


def test_an_edit_made_while_its_field_is_being_pushed_is_no_conflict(
    emu: Emulator, cache: Cache, service: SyncService
) -> None:
    """The person types a new value while the push of the previous one is on the wire: the
    newer edit was made on the old server value, but the service now holds our own value."""
    from desktop_app.sync.push import push_end_user

    service.run_once()
    target = sorted(emu.store.all_ids())[10]
    cache.set_property([target], "plan", "First")
    with WootricClient(credentials(emu)) as client:
        real_update = client.update_end_user

        def update(*args: object, **kwargs: object) -> object:
            cache.set_property([target], "plan", "Second")  # while the PUT is in flight
            return real_update(*args, **kwargs)

        client.update_end_user = update
        push_end_user(client, cache, target)
    assert server_view(emu)[target]["properties"]["plan"] == "First"
    assert cache.pending_count() == 1
    service.run_once()
    assert cache.conflicts() == [] and cache.pending_count() == 0
    assert server_view(emu)[target]["properties"]["plan"] == "Second"
    assert cache_view(cache) == server_view(emu)


def test_stopping_a_sync_that_waits_out_a_rate_limit_takes_no_time(cache: Cache) -> None:
    """Quitting the app (or cancelling) while the service's rate limit makes the client wait up
    to a minute must not wait with it: the run ends as cancelled at once. Meanwhile the status
    says why nothing moves, and until when."""
    with Emulator(users=300, seed=7, rate_limit=3) as limited:  # the wall clock: 3 a minute
        service = SyncService(cache, lambda: WootricClient(credentials(limited)), interval=30.0)
        service.start()
        deadline = time.monotonic() + 10
        while "rate limit" not in service.status.message and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)  # asleep now, for up to a minute
        status = service.status
        assert status.state is SyncState.SYNCING
        assert "rate limit of 3 requests a minute" in status.message
        assert status.next_retry_at is not None and 0 < status.next_retry_at - time.time() <= 61
        started = time.monotonic()
        service.stop()
        assert time.monotonic() - started < 2
        [run] = cache.last_sync_runs(1)
        assert run.outcome == "cancelled"


def test_the_first_sync_builds_the_search_index_after_its_pull(emu: Emulator, cache: Cache) -> None:
    """Not during the pull (its triggers would slow every row), and said in the status."""
    seen: list[tuple[str, int, int | None, bool]] = []
    service = SyncService(cache, lambda: WootricClient(credentials(emu)), cpu_share=0.5)
    service.subscribe(lambda status: seen.append(
        (status.phase, status.done, status.total, cache.search_index_ready())))
    try:
        assert not cache.search_index_ready()
        assert service.run_once().state is SyncState.IDLE
        assert cache.search_index_ready()
        phases = [phase for phase, *_ in seen]
        assert phases.index("pull") < phases.index("index")
        assert not any(ready for phase, _, _, ready in seen if phase == "pull")  # the pull ran without it
        count = cache.count_all()
        assert ("index", 2 * count, 2 * count) in [(p, d, t) for p, d, t, _ in seen]  # text, then properties
        assert seen[-1][0] == ""
        seen.clear()
        service.run_once()
        assert "index" not in [phase for phase, *_ in seen]  # built once, kept by every write since
    finally:
        service.stop()
