"""The updated_at walk over real HTTP: complete, duplicate-free and cheap, even under faults."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Any

import pytest

from desktop_app.api.client import WootricClient
from desktop_app.api.throttle import RateLimitWait, WaitReason
from desktop_app.api.walk import UpdatedWalk, WalkPage
from desktop_app.clock import ScaledClock

NOW = 1_760_000_000
EDIT_SECOND = NOW - 5 * 86_400  # an admin's bulk edit touched 5,000 users in this second
IMPORT_SECOND = NOW - 40 * 86_400  # a bulk import created 2,500 users in this second


def _bulk_rows(n: int, second: int, first_id: int, tag: str) -> list[dict[str, Any]]:
    """A bulk import: n users created and last updated in one second, contiguous ids."""
    return [
        {"id": first_id + k, "email": f"{tag}{k:05d}@bulk-{tag}.example", "created_at": second,
         "updated_at": second, "surveys_disabled": False, "properties": {"source": tag}}
        for k in range(n)
    ]


@pytest.fixture(scope="module")
def twenty_thousand() -> list[dict[str, Any]]:
    """20,000 users: sparse history, a 5,000-user bulk edit (varied created_at), a 2,500 import."""
    from desktop_app.emulator import generate_end_users

    rows: list[dict[str, Any]] = [
        dict(r) for r in generate_end_users(17_500, seed=11, profile="sparse", now=NOW)
    ]
    eligible = [r for r in rows if int(r["created_at"]) <= EDIT_SECOND]
    for row in random.Random(5).sample(eligible, 5_000):
        row["updated_at"] = EDIT_SECOND
    first_id = max(int(r["id"]) for r in rows) + 1
    return rows + _bulk_rows(2_500, IMPORT_SECOND, first_id, "import")


@pytest.fixture(scope="module")
def shared_emulator(twenty_thousand: list[dict[str, Any]]) -> Iterator[Any]:
    """One fault-free emulator over the 20,000 users for the read-only walks of this module."""
    from desktop_app.emulator import Emulator

    emu = Emulator(host="127.0.0.1", port=0, end_users=twenty_thousand).start()
    try:
        yield emu
    finally:
        emu.stop()


def _collect(walk: UpdatedWalk) -> tuple[list[int], list[WalkPage]]:
    pages = list(walk)
    return [u.id for p in pages for u in p.end_users], pages


def _request_bound(n: int) -> int:
    """What the walk may spend on the twenty_thousand data set, term by term.

    * ceil(n / 49): every keyset page re-reads the row it re-anchors on (unique seconds);
    * 2 per dense second (the page that reveals it, the last partial page inside it): the edit
      second and the import second;
    * the 2,500-row cell is read ascending and descending, 30 pages each: 60 instead of 50;
    * 2 for the final short page and the sign-in.
    """
    return math.ceil(n / 49) + 2 * 2 + (60 - 50) + 2


def test_walk_returns_every_user_once_in_close_to_n_over_50_requests(
    shared_emulator: Any, client_for: Any, twenty_thousand: list[dict[str, Any]],
) -> None:
    client: WootricClient = client_for(shared_emulator)
    client.authenticate()
    walk = client.walk_updated(0)
    ids, pages = _collect(walk)
    stats = walk.stats

    expected = sorted(int(r["id"]) for r in twenty_thousand)
    assert len(ids) == len(set(ids)) == 20_000
    assert sorted(ids) == expected
    assert pages[-1].complete_before is None
    assert not stats.unreachable and stats.duplicates > 0
    lower = math.ceil(20_000 / 50)
    assert lower <= stats.requests <= _request_bound(20_000), stats
    assert stats.dense_seconds == 2 and stats.dense_cells == 1
    assert stats.newest_updated_at == max(int(r["updated_at"]) for r in twenty_thousand)


def test_walk_survives_faults_and_a_100_per_minute_limit(
    make_emulator: Any, client_for: Any, twenty_thousand: list[dict[str, Any]],
) -> None:
    # Every injected 429 is waited out until its Reset (up to a virtual minute): 0.1 s at 600x.
    # (At ~15 ms a request the 100/min budget itself cannot run out at this speed; running out
    # is tested in test_client_rate_limit.py with a smaller budget.)
    clock = ScaledClock(speed=600)
    emu = make_emulator(end_users=twenty_thousand, clock=clock, rate_limit=100)
    # a short timeout keeps the injected hangs cheap; a spurious one would only cost a retry
    client: WootricClient = client_for(emu, clock=clock, timeout=0.25, max_attempts=10)
    waits: list[RateLimitWait] = []
    client.on_rate_limit = waits.append
    emu.faults.fail(0.10, {"500", "503", "429", "reset", "truncated", "malformed", "timeout"})
    walk = client.walk_updated(0)
    ids, _ = _collect(walk)
    injected = emu.faults.counts()
    emu.faults.clear()
    assert len(ids) == len(set(ids)) == 20_000
    assert sorted(ids) == sorted(int(r["id"]) for r in twenty_thousand)
    assert len(injected) == 7 and sum(injected.values()) > 20  # every kind hit, often
    assert walk.stats.requests >= walk.stats.list_requests + sum(injected.values())
    assert sum(w.reason is WaitReason.REFUSED for w in waits) == injected["429"]


def test_walk_bounded_by_until_keeps_its_checkpoints(
    shared_emulator: Any, client_for: Any, twenty_thousand: list[dict[str, Any]],
) -> None:
    client: WootricClient = client_for(shared_emulator)
    since, until = IMPORT_SECOND - 86_400, IMPORT_SECOND + 1  # the bulk import ends the range
    expected = {int(r["id"]): int(r["updated_at"]) for r in twenty_thousand
                if since <= int(r["updated_at"]) < until}
    yielded: set[int] = set()
    for page in client.walk_updated(since, until):
        yielded.update(u.id for u in page.end_users)
        assert page.complete_before is not None
        owed = {i for i, t in expected.items() if t < page.complete_before}
        assert owed <= yielded
    assert yielded == set(expected) and len(expected) > 2_500


def test_rows_the_list_api_cannot_reach_are_probed_or_reported(
    make_emulator: Any, client_for: Any,
) -> None:
    from desktop_app.emulator import generate_end_users

    rows: list[dict[str, Any]] = [
        dict(r) for r in generate_end_users(500, seed=2, profile="sparse", now=NOW)
    ]
    first_id = max(int(r["id"]) for r in rows) + 1
    cell = _bulk_rows(4_000, IMPORT_SECOND, first_id, "cell")
    random.Random(3).shuffle(cell)  # emails in no relation to ids
    for n, row in enumerate(cell):
        row["email"] = f"{random.Random(n).random():.10f}-{n}@cell.example"
    emu = make_emulator(end_users=rows + cell)
    client: WootricClient = client_for(emu)
    everyone = {int(r["id"]) for r in rows + cell}
    cell_ids = {int(r["id"]) for r in cell}

    # without probes: the cell is reported with where and how many were reached
    blind = UpdatedWalk(client, 0, None, probe_budget=0)
    ids, _ = _collect(blind)
    (report,) = blind.stats.unreachable
    assert (report.updated_at, report.created_at) == (IMPORT_SECOND, IMPORT_SECOND)
    assert not report.complete
    missing = everyone - set(ids)
    assert missing and missing <= cell_ids
    assert report.seen == len(cell_ids) - len(missing)
    assert len(ids) == len(set(ids))

    # with probes (the default): everything is recovered and the cell says so
    walk = client.walk_updated(0)
    ids, _ = _collect(walk)
    assert sorted(ids) == sorted(everyone) and len(ids) == len(set(ids))
    (report,) = walk.stats.unreachable
    assert report.complete and report.recovered == len(missing)
    assert walk.stats.probes < 2 * len(missing)  # probes only the id gap's unseen ids


def test_iter_all_ids_lists_every_live_id_once(
    make_emulator: Any, client_for: Any, twenty_thousand: list[dict[str, Any]],
) -> None:
    emu = make_emulator(end_users=twenty_thousand[:6_000] + twenty_thousand[-2_500:])
    client: WootricClient = client_for(emu)
    gone = sorted(emu.store.all_ids())[::7]
    for end_user_id in gone:
        emu.store.delete(end_user_id)
    ids = [i for batch in client.iter_all_ids() for i in batch]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(emu.store.all_ids())
