"""Survey responses and declines synced account-wide against the real emulator: complete over
dense, sparse and bursty data near ceil(N/50) requests, resumed after a crash, re-read over a
trailing window, skipped on a service without the lists, cancelled between pages."""

from __future__ import annotations

import math
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from desktop_app.api.client import WootricClient
from desktop_app.cache.store import Cache
from desktop_app.emulator import Emulator
from desktop_app.emulator.response_store import HistoryQuery
from desktop_app.sync import SyncPhase, SyncService, SyncState
from desktop_app.sync.history_pull import DAY_S, HistoryList, pull_history

from .conftest import credentials


def _server_ids(emu: Emulator, kind: str) -> list[int]:
    rows = emu.store.responses.page(HistoryQuery(kind=kind, descending=False, limit=10**9))
    return sorted(r.id for r in rows)


def _cached_ids(cache: Cache, table: str) -> list[int]:
    with sqlite3.connect(cache.path) as connection:
        ids = [i for (i,) in connection.execute(f"SELECT id FROM {table} ORDER BY id")]
    connection.close()
    return ids


def test_a_sync_brings_every_response_and_decline_with_phases_and_counts(
    emu: Emulator, cache: Cache, service: SyncService,
) -> None:
    phases: list[SyncPhase] = []
    service.subscribe(lambda status: phases.append(status.phase))
    status = service.run_once()
    assert status.state is SyncState.IDLE, status.message
    responses, declines = _server_ids(emu, "response"), _server_ids(emu, "decline")
    assert responses and declines  # the emulator's sample history
    assert _cached_ids(cache, "response") == responses
    assert _cached_ids(cache, "decline") == declines
    order = [p for i, p in enumerate(phases) if p and (i == 0 or phases[i - 1] != p)]
    assert order.index(SyncPhase.PULL) < order.index(SyncPhase.RESPONSES) < order.index(
        SyncPhase.DECLINES)
    run = cache.last_sync_runs(1)[0]
    assert run.counts["responses"] == len(responses) and run.counts["declines"] == len(declines)
    # a summary equals what the per-user list says
    with WootricClient(credentials(emu)) as client:
        for end_user_id in sorted(emu.store.all_ids())[:15]:
            theirs = [r for r in client.list_responses(end_user_id)
                      if not r.excluded_from_calculations]
            summary = cache.survey_summary(end_user_id)
            if summary is None:  # no history at all
                assert not client.list_responses(end_user_id)
                continue
            assert summary.latest_score == (theirs[-1].score if theirs else None)
            assert summary.response_count == len(client.list_responses(end_user_id))


def _load(emu: Emulator, kind: str, n: int, now: int, seed: int) -> list[int]:
    """n responses over the emulator's end users: sparse (years apart), bursty (survey blasts
    of 400 within a minute) or dense (2,000 answers in one second, beyond one query's 1,500)."""
    rnd = random.Random(seed)
    users = sorted(emu.store.all_ids())
    if kind == "sparse":
        seconds = [now - rnd.randint(DAY_S, 3 * 365 * DAY_S) for _ in range(n)]
    elif kind == "bursty":
        seconds = [now - 200 * DAY_S + (i // 400) * DAY_S + rnd.randint(0, 59) for i in range(n)]
    else:
        seconds = [now - 300 * DAY_S + (0 if i < 2_000 else i) for i in range(n)]
    rows: list[dict[str, Any]] = [
        {"end_user_id": rnd.choice(users), "score": rnd.randint(0, 10), "created_at": t}
        for t in seconds]
    return emu.store.responses.load_responses(rows)


@pytest.mark.parametrize("shape", ["sparse", "bursty", "dense"])
def test_the_walk_is_complete_near_ceil_n_over_50_requests(tmp_path: Path, shape: str) -> None:
    with Emulator(users=200, seed=3, responses_per_user=0) as emu, \
            Cache.open(tmp_path / "c.sqlite3") as cache, WootricClient(credentials(emu)) as client:
        now = int(emu.clock.now())
        loaded = _load(emu, shape, 6_000, now, 11)
        result = pull_history(client, cache, HistoryList.RESPONSES, reread_days=120,
                              server_now=emu.clock.now)
        floor = math.ceil(len(loaded) / 50)
        print(f"{shape}: {len(loaded)} responses, {result.requests} requests, "
              f"ceil(N/50) = {floor}, ratio {result.requests / floor:.3f}")
        assert _cached_ids(cache, "response") == sorted(loaded)
        assert result.rows == len(loaded) and result.unreachable == 0
        assert result.requests <= floor * 1.1 + 3


class Crash(Exception):
    """The process dying right after a page committed."""


def test_a_crash_mid_walk_resumes_where_the_committed_pages_end(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    with Emulator(users=200, seed=3, responses_per_user=0) as emu:
        now = int(emu.clock.now())
        loaded = _load(emu, "sparse", 3_000, now, 5)
        pages = {"n": 0}

        def die_after_ten(rows: int) -> None:
            pages["n"] += 1
            if pages["n"] == 10:
                raise Crash()

        with Cache.open(path) as cache, WootricClient(credentials(emu)) as client:
            with pytest.raises(Crash):
                pull_history(client, cache, HistoryList.RESPONSES, reread_days=120,
                             server_now=emu.clock.now, progress=die_after_ten)
            first = client.request_count
        with Cache.open(path) as cache, WootricClient(credentials(emu)) as client:
            kept = _cached_ids(cache, "response")
            assert len(kept) >= 9 * 50  # the nine pages before the crash, each with its cursor
            resume = cache.cursor("responses.reread_at")
            assert resume is not None and resume == cache.cursor("responses.created_at")
            result = pull_history(client, cache, HistoryList.RESPONSES, reread_days=120,
                                  server_now=emu.clock.now)
            assert result.since == resume
            assert _cached_ids(cache, "response") == sorted(loaded)
            assert cache.cursor("responses.reread_at") is None  # the walk reached the end
            print(f"before the crash {first} requests, after it {result.requests}; "
                  f"one walk needs about {math.ceil(3_000 / 50)}")
            assert first + result.requests <= math.ceil(3_000 / 50) * 1.1 + 6


def test_the_trailing_re_read_sees_a_new_tag_and_exclusion_but_not_older_changes(
    tmp_path: Path,
) -> None:
    with Emulator(users=50, seed=3, responses_per_user=0) as emu, \
            Cache.open(tmp_path / "c.sqlite3") as cache:
        now = int(emu.clock.now())
        user = sorted(emu.store.all_ids())[0]
        recent, old = emu.store.responses.load_responses([
            {"end_user_id": user, "score": 3, "created_at": now - 30 * DAY_S, "text": "slow"},
            {"end_user_id": user, "score": 9, "created_at": now - 200 * DAY_S},
        ])
        service = SyncService(cache, lambda: WootricClient(credentials(emu)), reread_days=120)
        try:
            assert service.run_once().state is SyncState.IDLE
            assert cache.survey_summary(user).latest_score == 3
            emu.store.responses.edit("response", recent, tags=["billing"],
                                     excluded_from_calculations=True)
            emu.store.responses.edit("response", old, tags=["ux"])
            assert service.run_once().state is SyncState.IDLE
            by_id = {r.id: r for r in cache.responses_of(user)}
            assert by_id[recent].tags == ("billing",) and by_id[recent].excluded_from_calculations
            # the excluded answer no longer counts: the latest score is the older one's
            assert cache.survey_summary(user).latest_score == 9
            assert by_id[old].tags == ()  # older than the window: missed (docs/sync.md)
            service.set_reread_days(365)
            service.run_once()
            assert {r.id: r for r in cache.responses_of(user)}[old].tags == ("ux",)
        finally:
            service.stop()


def test_a_service_without_the_lists_still_syncs_its_end_users(
    emu: Emulator, cache: Cache, service: SyncService, caplog: pytest.LogCaptureFixture,
) -> None:
    emu.service.survey_routes = lambda method, route, params: None  # an older service: 404
    with caplog.at_level("INFO", logger="desktop_app.sync.history_pull"):
        status = service.run_once()
    assert status.state is SyncState.IDLE, status.message
    assert cache.count_all() == len(emu.store.all_ids())
    assert cache.history_counts() == (0, 0)
    assert cache.last_sync_runs(1)[0].outcome == "completed"
    assert "responses: the service has no account-wide list" in caplog.text
    assert "declines: the service has no account-wide list" in caplog.text


def test_a_cancel_during_the_responses_ends_after_a_page_and_the_next_run_resumes(
    tmp_path: Path,
) -> None:
    with Emulator(users=100, seed=3, responses_per_user=0) as emu, \
            Cache.open(tmp_path / "c.sqlite3") as cache:
        loaded = _load(emu, "sparse", 1_000, int(emu.clock.now()), 9)
        service = SyncService(cache, lambda: WootricClient(credentials(emu)))

        def cancel_in_responses(status: Any) -> None:
            if status.phase is SyncPhase.RESPONSES and status.done >= 100:
                service.cancel()

        unsubscribe = service.subscribe(cancel_in_responses)
        try:
            status = service.run_once()
            assert status.message == "Sync cancelled."
            assert cache.last_sync_runs(1)[0].outcome == "cancelled"
            assert 100 <= len(_cached_ids(cache, "response")) < len(loaded)
            assert cache.cursor("responses.reread_at") is not None
            unsubscribe()
            assert service.run_once().state is SyncState.IDLE
            assert _cached_ids(cache, "response") == sorted(loaded)
        finally:
            service.stop()


def test_a_second_beyond_the_list_api_s_reach_is_reported_and_the_rest_arrives(
    tmp_path: Path,
) -> None:
    """3,100 responses created in one second (a bulk import): two reads reach 3,000; the run
    completes, says so, and logs the ids it could not read; nothing else is lost."""
    with Emulator(users=100, seed=3, responses_per_user=0) as emu, \
            Cache.open(tmp_path / "c.sqlite3") as cache:
        now = int(emu.clock.now())
        users = sorted(emu.store.all_ids())
        bulk = emu.store.responses.load_responses(
            [{"end_user_id": users[i % len(users)], "score": 8, "created_at": now - DAY_S}
             for i in range(3_100)])
        later = emu.store.responses.load_responses(
            [{"end_user_id": users[0], "score": 2, "created_at": now - 60 + i} for i in range(5)])
        service = SyncService(cache, lambda: WootricClient(credentials(emu)))
        try:
            status = service.run_once()
        finally:
            service.stop()
        assert status.state is SyncState.IDLE
        assert "1 second of responses could not be fully read" in status.message
        cached = set(_cached_ids(cache, "response"))
        assert set(later) <= cached and len(cached & set(bulk)) == 3_000
        run = cache.last_sync_runs(1)[0]
        assert run.outcome == "completed" and "responses" in run.reason


def test_a_local_edit_during_a_long_re_read_goes_out_in_the_same_run(tmp_path: Path) -> None:
    """The history walk gives way to an edit past its undo grace: the run's late push sends it
    (it does not wait for thousands of responses), and the next run resumes the walk."""
    with Emulator(users=100, seed=3, responses_per_user=0) as emu, \
            Cache.open(tmp_path / "c.sqlite3") as cache:
        loaded = _load(emu, "sparse", 3_000, int(emu.clock.now()), 2)
        service = SyncService(cache, lambda: WootricClient(credentials(emu)))
        target = sorted(emu.store.all_ids())[0]
        edited: list[int] = []

        def edit_in_responses(status: Any) -> None:
            if status.phase is SyncPhase.RESPONSES and status.done >= 100 and not edited:
                edited.append(status.done)
                cache.set_property([target], "plan", "Edited mid-walk")

        service.subscribe(edit_in_responses)
        try:
            assert service.run_once().state is SyncState.IDLE
            assert edited
            assert emu.store.get(target)["properties"]["plan"] == "Edited mid-walk"
            assert cache.pending_count() == 0
            partly = len(_cached_ids(cache, "response"))
            assert partly < len(loaded) and cache.cursor("responses.reread_at") is not None
            assert service.run_once().state is SyncState.IDLE
            assert _cached_ids(cache, "response") == sorted(loaded)
        finally:
            service.stop()


def test_a_response_deleted_on_the_service_leaves_the_cache_within_the_window(
    tmp_path: Path,
) -> None:
    with Emulator(users=50, seed=3, responses_per_user=0) as emu, \
            Cache.open(tmp_path / "c.sqlite3") as cache:
        now = int(emu.clock.now())
        user = sorted(emu.store.all_ids())[0]
        recent, kept, old = emu.store.responses.load_responses([
            {"end_user_id": user, "score": 2, "created_at": now - 3 * DAY_S},
            {"end_user_id": user, "score": 9, "created_at": now - 9 * DAY_S},
            {"end_user_id": user, "score": 7, "created_at": now - 300 * DAY_S},
        ])
        [decline] = emu.store.responses.load_declines(
            [{"end_user_id": user, "created_at": now - DAY_S}])
        service = SyncService(cache, lambda: WootricClient(credentials(emu)))
        try:
            assert service.run_once().state is SyncState.IDLE
            summary = cache.survey_summary(user)
            assert summary is not None and (summary.latest_score, summary.decline_count) == (2, 1)
            for kind, item in (("response", recent), ("response", old), ("decline", decline)):
                assert emu.store.responses.delete(kind, user, item)
            assert service.run_once().state is SyncState.IDLE
            run = cache.last_sync_runs(1)[0]
            assert (run.counts["responses_removed"], run.counts["declines_removed"]) == (1, 1)
            # the deleted answer no longer counts; one older than the window stays (docs)
            assert [r.id for r in cache.responses_of(user)] == [old, kept]
            summary = cache.survey_summary(user)
            assert summary is not None
            assert (summary.latest_score, summary.response_count, summary.decline_count) == (
                9, 2, 0)
        finally:
            service.stop()
