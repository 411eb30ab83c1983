"""The walk algorithm over an in-memory list endpoint with tiny pages: every shape, every path."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_app.api.walk import UpdatedWalk, WalkDimension, WalkPage, _meets

PER_PAGE = 5
MAX_PAGE = 3  # one query reaches 15 rows; two orders of one cell 30


def _rows(model_row: Any, shape: list[tuple[str, int, int]], seed: int) -> list[Any]:
    """Rows from (kind, size, base) groups; ids grow with creation, with the odd gap."""
    rnd = random.Random(seed)
    rows: list[tuple[int, int]] = []
    for kind, size, base in shape:
        second = 1_000 + base * 10
        for _ in range(size):
            if kind == "sparse":
                created = rnd.randint(0, 5_000)
                updated = created + rnd.choice((0, 0, rnd.randint(0, 3_000)))
            elif kind == "same_updated":  # a bulk edit: one updated second, varied created
                created = rnd.randint(0, 900)
                updated = second
            elif kind == "same_both":  # a bulk import
                created = updated = second
            else:  # clumps of a few rows per second
                created = second + rnd.randint(0, 3)
                updated = created
            rows.append((created, updated))
    rows.sort()
    out = []
    next_id = 1
    for n, (created, updated) in enumerate(rows):
        out.append(model_row(next_id, f"u{rnd.random():.12f}-{n}@x.example", created, updated))
        next_id += 1 + (rnd.random() < 0.05)
    return out


def _drain(walk: UpdatedWalk, expected: dict[int, Any] | None = None) -> list[WalkPage]:
    """All pages; checks the checkpoint promise against `expected` (id -> row) page by page."""
    pages = []
    yielded: set[int] = set()
    last_cb = None
    for page in walk:
        yielded.update(u.id for u in page.end_users)
        if page.complete_before is not None:
            assert last_cb is None or page.complete_before >= last_cb, "checkpoint went back"
            last_cb = page.complete_before
            if expected is not None:
                # everything strictly older has been yielded, or reported in an unreachable cell
                reported = {(c.updated_at, c.created_at) for c in walk.stats.unreachable
                            if not c.complete}
                owed = {i for i, r in expected.items() if r.updated_at < page.complete_before
                        and (r.updated_at, r.created_at) not in reported}
                assert owed <= yielded, f"checkpoint {page.complete_before} before {owed - yielded}"
        pages.append(page)
    return pages


shapes = st.lists(
    st.tuples(
        st.sampled_from(["sparse", "same_updated", "same_both", "clumps"]),
        st.integers(1, 70),
        st.integers(0, 20),
    ),
    min_size=1,
    max_size=6,
)


FIXTURES_OK = [HealthCheck.function_scoped_fixture]  # the fixtures are session-scoped classes


@settings(max_examples=150, deadline=None, suppress_health_check=FIXTURES_OK)
@given(shape=shapes, seed=st.integers(0, 10_000), reverses=st.booleans(),
       bounds=st.tuples(st.integers(0, 1_200), st.integers(0, 9_000)))
def test_walk_yields_every_row_once_and_keeps_its_checkpoint_promise(
    listing_model: Any, model_row: Any, shape: list[tuple[str, int, int]], seed: int,
    bounds: tuple[int, int], reverses: bool,
) -> None:
    rows = _rows(model_row, shape, seed)
    model = listing_model(rows, max_per_page=PER_PAGE, max_page=MAX_PAGE,
                          desc_reverses_ties=reverses)
    since, span = bounds
    until = None if span > 8_000 else since + span
    expected = {r.id: r for r in rows
                if r.updated_at >= since and (until is None or r.updated_at < until)}
    walk = UpdatedWalk(model, since, until, per_page=PER_PAGE, max_page=MAX_PAGE)
    pages = _drain(walk, expected)
    ids = [u.id for p in pages for u in p.end_users]
    stats = walk.stats

    assert len(ids) == len(set(ids)), "an end user was yielded twice"
    assert pages[-1].complete_before == until
    missing = set(expected) - set(ids)
    assert set(ids) <= set(expected), "yielded rows outside the range"
    incomplete = [c for c in stats.unreachable if not c.complete]
    if missing:
        # anything missing must be reported, in the cell it lives in
        cells = {(c.updated_at, c.created_at) for c in incomplete}
        by_id = {r.id: r for r in rows}
        assert {(by_id[i].updated_at, by_id[i].created_at) for i in missing} <= cells
    if reverses:
        # with an id tie order and dense ids the probes close every gap
        assert not missing and not incomplete
    assert stats.rows == len(ids)
    assert stats.requests == stats.list_requests + stats.probes == model.request_count


def test_cell_beyond_two_reads_is_recovered_by_probing(listing_model: Any, model_row: Any) -> None:
    rows = [model_row(i, f"e{(i * 7919) % 1000:04d}@x", 500, 500) for i in range(1, 81)]
    model = listing_model(rows, max_per_page=PER_PAGE, max_page=MAX_PAGE)
    walk = UpdatedWalk(model, 0, None, per_page=PER_PAGE, max_page=MAX_PAGE)
    ids = [u.id for p in _drain(walk) for u in p.end_users]
    assert sorted(ids) == list(range(1, 81))
    (cell,) = walk.stats.unreachable
    assert (cell.updated_at, cell.created_at, cell.complete) == (500, 500, True)
    assert cell.seen + cell.recovered == 80 and cell.recovered > 0
    assert walk.stats.probes >= cell.recovered


def test_cell_that_cannot_be_bounded_is_reported_not_dropped(
    listing_model: Any, model_row: Any,
) -> None:
    # the service does not reverse its tie order and emails sort like ids: nothing meets
    rows = [model_row(i, f"e{i:04d}@x", 500, 500) for i in range(1, 81)]
    model = listing_model(rows, max_per_page=PER_PAGE, max_page=MAX_PAGE, desc_reverses_ties=False)
    walk = UpdatedWalk(model, 0, None, per_page=PER_PAGE, max_page=MAX_PAGE)
    ids = {u.id for p in _drain(walk) for u in p.end_users}
    (cell,) = walk.stats.unreachable
    assert not cell.complete and cell.seen == len(ids) < 80
    assert (cell.updated_at, cell.created_at) == (500, 500) and "tie order" in cell.note


def test_probe_budget_is_respected_and_reported(listing_model: Any, model_row: Any) -> None:
    rows = [model_row(i, f"e{(i * 7919) % 1000:04d}@x", 500, 500) for i in range(1, 201)]
    model = listing_model(rows, max_per_page=PER_PAGE, max_page=MAX_PAGE)
    walk = UpdatedWalk(model, 0, None, per_page=PER_PAGE, max_page=MAX_PAGE, probe_budget=10)
    _drain(walk)
    (cell,) = walk.stats.unreachable
    assert not cell.complete and "probe budget" in cell.note and walk.stats.probes == 0


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES_OK)
@given(seed=st.integers(0, 10_000), rate=st.floats(0.0, 0.5))
def test_edits_and_deletes_during_the_walk_lose_nothing(
    listing_model: Any, model_row: Any, seed: int, rate: float,
) -> None:
    """Rows edited (moved to 'now') or deleted mid-walk never push an unread row out of reach.

    Ordinary data (one row per second here), so the walk re-anchors on every page.
    """
    rnd = random.Random(seed)
    seconds = sorted(rnd.sample(range(1_000), 200))
    rows = [model_row(i, f"u{i}@x", t, t) for i, t in enumerate(seconds, 1)]
    model = listing_model(rows, max_per_page=PER_PAGE, max_page=MAX_PAGE)
    clock = {"now": 10_000}
    touched: set[int] = set()
    deleted: set[int] = set()

    def colleague(m: Any) -> None:
        if rnd.random() < rate and m.rows:
            victim = rnd.choice(sorted(m.rows))
            if rnd.random() < 0.5:
                m.delete(victim)
                deleted.add(victim)
            else:
                clock["now"] += 1
                m.touch(victim, clock["now"])
                touched.add(victim)

    model.on_request = colleague
    walk = UpdatedWalk(model, 0, None, per_page=PER_PAGE, max_page=MAX_PAGE)
    freshest: dict[int, int] = {}
    for page in walk:
        for user in page.end_users:
            assert user.updated_at > freshest.get(user.id, -1), "a stale or repeated version"
            freshest[user.id] = user.updated_at
    model.on_request = None
    for row in model.rows.values():  # every surviving row, at its final version
        assert freshest.get(row.id) == row.updated_at, f"row {row.id} missed or stale"
    assert walk.stats.moved <= len(touched)


def test_created_dimension_walk_lists_every_id(listing_model: Any, model_row: Any) -> None:
    rows = _rows(model_row, [("same_both", 40, 3), ("sparse", 60, 0), ("same_updated", 30, 5)], 7)
    model = listing_model(rows, max_per_page=PER_PAGE, max_page=MAX_PAGE)
    walk = UpdatedWalk(model, None, None, dimension=WalkDimension.CREATED, per_page=PER_PAGE,
                       max_page=MAX_PAGE)
    ids = [u.id for p in walk for u in p.end_users]
    assert sorted(ids) == sorted(r.id for r in rows)


def test_meets_demands_a_consistent_overlap() -> None:
    assert _meets([1, 2, 3], [5, 4, 3])  # reversed read ends where the ascending one ends
    assert _meets([1, 2, 3], [4, 3, 2])
    assert not _meets([1, 2, 3], [6, 5, 4])  # a gap, or exact adjacency: unproven
    assert not _meets([1, 2, 3], [1, 2, 3])  # a 'descending' read in ascending tie order
    assert not _meets([1, 2, 3], [3, 1, 2])
    assert not _meets([], [1])


def test_a_walk_runs_once(listing_model: Any, model_row: Any) -> None:
    walk = UpdatedWalk(listing_model([model_row(1, "a@x", 1, 1)]), 0)
    assert [u.id for p in walk for u in p.end_users] == [1]
    try:
        iter(walk)
    except RuntimeError:
        pass
    else:  # pragma: no cover
        raise AssertionError("a second iteration must be refused")
