"""The one walk over a created-only list (GET /v1/responses, /v1/declines): the in-memory model.

Responses filter on `created[...]` alone, sort newest first by default and have no GET by id
alone, so a dense second cannot be split by another timestamp or probed: it is read in tie
order both ways, and what two reads cannot cover is reported, never dropped.
"""

from __future__ import annotations

import math
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_app.api.walk import TimestampWalk, WalkDimension, WalkPage

PER_PAGE = 5
MAX_PAGE = 3  # one query reaches 15 rows; two reads of one second 30
FIXTURES_OK = [HealthCheck.function_scoped_fixture]


def _responses(model_row: Any, shape: list[tuple[str, int, int]], seed: int) -> list[Any]:
    """Responses from (kind, size, base) groups: sparse, dense (one second), bursts (a few
    seconds); updated_at is created_at or later (a tag added after the fact)."""
    rnd = random.Random(seed)
    created: list[int] = []
    for kind, size, base in shape:
        second = 1_000 + base * 10
        for _ in range(size):
            if kind == "sparse":
                created.append(rnd.randint(0, 5_000))
            elif kind == "dense":  # a survey blast answered within one second
                created.append(second)
            else:  # bursts: a few rows per second
                created.append(second + rnd.randint(0, 3))
    created.sort()
    rows, next_id = [], 1
    for t in created:
        rows.append(model_row(next_id, "", t, t + rnd.choice((0, 0, rnd.randint(0, 900)))))
        next_id += 1 + (rnd.random() < 0.05)
    return rows


def _drain(walk: TimestampWalk[Any], expected: dict[int, Any]) -> list[WalkPage[Any]]:
    """All pages, holding each checkpoint to its promise over created_at."""
    pages, yielded, last = [], set(), None
    for page in walk:
        yielded.update(r.id for r in page.rows)
        if page.complete_before is not None:
            assert last is None or page.complete_before >= last, "checkpoint went back"
            last = page.complete_before
            reported = {c.created_at for c in walk.stats.unreachable if not c.complete}
            owed = {i for i, r in expected.items()
                    if r.created_at < page.complete_before and r.created_at not in reported}
            assert owed <= yielded, f"checkpoint {page.complete_before} before {owed - yielded}"
        pages.append(page)
    return pages


shapes = st.lists(
    st.tuples(st.sampled_from(["sparse", "dense", "bursts"]), st.integers(1, 40),
              st.integers(0, 20)),
    min_size=1, max_size=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=FIXTURES_OK)
@given(shape=shapes, seed=st.integers(0, 10_000), reverses=st.booleans(),
       bounds=st.tuples(st.integers(0, 1_200), st.integers(0, 9_000)))
def test_every_response_once_or_reported_in_its_second(
    listing_model: Any, model_row: Any, shape: list[tuple[str, int, int]], seed: int,
    reverses: bool, bounds: tuple[int, int],
) -> None:
    rows = _responses(model_row, shape, seed)
    model = listing_model(rows, max_per_page=PER_PAGE, max_page=MAX_PAGE,
                          desc_reverses_ties=reverses, created_only=True)
    since, span = bounds
    until = None if span > 8_000 else since + span
    expected = {r.id: r for r in rows
                if r.created_at >= since and (until is None or r.created_at < until)}
    walk = TimestampWalk(model.listing(), since, until, per_page=PER_PAGE, max_page=MAX_PAGE)
    pages = _drain(walk, expected)
    ids = [r.id for p in pages for r in p.rows]

    assert len(ids) == len(set(ids)), "a response was yielded twice"
    assert set(ids) <= set(expected), "yielded rows outside the range"
    assert pages[-1].complete_before == until
    per_second: dict[int, int] = {}
    for r in expected.values():
        per_second[r.created_at] = per_second.get(r.created_at, 0) + 1
    incomplete = {c.created_at: c for c in walk.stats.unreachable if not c.complete}
    missing = set(expected) - set(ids)
    # what is missing lives in a reported second; a second two reads cover is never reported
    assert {expected[i].created_at for i in missing} <= set(incomplete)
    for second, cell in incomplete.items():
        # one read covers 15 rows (and cannot tell 15 from more); two in reversed tie order
        # 30, and at exactly 30 only when no id lies between them
        assert cell.updated_at is None
        assert per_second[second] >= 30 if reverses else per_second[second] >= 15
        if reverses:
            assert "cannot be fetched by id alone" in cell.note
    if reverses:  # seconds of fewer than two full reads come back whole
        assert not [i for i in missing if per_second[expected[i].created_at] < 30]
    stats = walk.stats
    assert stats.rows == len(ids) and stats.probes == 0 and stats.dense_seconds == 0
    assert stats.requests == stats.list_requests == model.request_count


def test_no_filter_but_created_is_ever_sent(listing_model: Any, model_row: Any) -> None:
    rows = [model_row(i, "", 500, 500 + i) for i in range(1, 31)]  # one dense second
    sent: list[list[tuple[str, str]]] = []
    model = listing_model(rows, max_per_page=PER_PAGE, max_page=MAX_PAGE, created_only=True)
    listing = model.listing()

    def spy(query: list[tuple[str, str]]) -> list[Any]:
        sent.append(list(query))
        return model.list_end_users(query)

    walk = TimestampWalk(type(listing)(listing.noun, spy, listing.requests,
                                       dimensions=listing.dimensions),
                         0, per_page=PER_PAGE, max_page=MAX_PAGE)
    assert sorted(r.id for p in walk for r in p.rows) == list(range(1, 31))
    names = {name for query in sent for name, _ in query}
    assert names <= {"created[gte]", "created[lt]", "created[eq]", "sort_key", "sort_order",
                     "per_page", "page"}
    assert all(dict(q)["sort_key"] == "created_at" for q in sent)
    # newest first is the service's default: every request says which order it wants
    assert all(dict(q)["sort_order"] in ("asc", "desc") for q in sent)


def test_a_created_only_listing_refuses_an_updated_walk(listing_model: Any) -> None:
    model = listing_model([], created_only=True)
    try:
        TimestampWalk(model.listing(), 0, dimension=WalkDimension.UPDATED)
    except ValueError as error:
        assert "cannot be walked by updated_at" in str(error)
    else:  # pragma: no cover
        raise AssertionError("an updated walk of responses must be refused")


def _sized(model_row: Any, kind: str, n: int, seed: int) -> list[Any]:
    rnd = random.Random(seed)
    if kind == "sparse":  # a response every few minutes over years
        seconds = sorted(rnd.sample(range(0, 200_000_000), n))
    elif kind == "bursty":  # survey blasts: hundreds within a minute, quiet between
        seconds = sorted(b * 86_400 + rnd.randint(0, 59) for b in range(n // 400 + 1)
                         for _ in range(400))[:n]
    else:  # dense: 1,000 responses to each second of a bulk import
        seconds = [1_000_000 + i // 1_000 for i in range(n)]
    return [model_row(i, "", t, t) for i, t in enumerate(seconds, 1)]


def test_request_count_at_the_service_s_page_sizes(listing_model: Any, model_row: Any) -> None:
    """At 50 a page and 30 pages a query the walk stays close to ceil(N/50) requests."""
    for kind in ("sparse", "bursty", "dense"):
        rows = _sized(model_row, kind, 20_000, 5)
        model = listing_model(rows, created_only=True)
        walk = TimestampWalk(model.listing(), None)
        ids = [r.id for p in walk for r in p.rows]
        floor = math.ceil(len(rows) / 50)
        stats = walk.stats
        print(f"{kind}: {len(rows)} responses, {stats.requests} requests, "
              f"ceil(N/50) = {floor}, ratio {stats.requests / floor:.3f}, "
              f"{stats.dense_cells} dense seconds")
        assert sorted(ids) == [r.id for r in rows] and not stats.unreachable
        assert stats.requests <= floor * 1.1 + 2, kind


def test_a_second_beyond_two_reads_is_reported_with_its_id_range(
    listing_model: Any, model_row: Any,
) -> None:
    """3,200 responses created in one second: 3,000 by two reads, 200 reported with the ids
    between them (no GET of a response by id alone exists to probe them)."""
    rows = [model_row(i, "", 7_000, 7_000) for i in range(1, 3_201)]
    rows += [model_row(4_000 + i, "", 7_001 + i, 7_001 + i) for i in range(10)]
    model = listing_model(rows, created_only=True)
    walk = TimestampWalk(model.listing(), 0)
    ids = {r.id for p in walk for r in p.rows}
    (cell,) = walk.stats.unreachable
    assert (cell.updated_at, cell.created_at, cell.complete) == (None, 7_000, False)
    assert cell.seen == len(ids) - 10 == 3_000
    assert "ids 1501..1700" in cell.note and "cannot be fetched by id alone" in cell.note
    assert {4_000 + i for i in range(10)} <= ids  # the walk goes on after the dense second


def test_a_service_that_ignores_the_ascending_order_is_refused(
    listing_model: Any, model_row: Any,
) -> None:
    """Newest first is the lists' default: a service that ignores `sort_order=asc` would move
    the checkpoint past unread rows, so the walk refuses the answer instead."""
    from desktop_app.api.errors import ProtocolError

    rows = [model_row(i, "", 1_000 + i, 1_000 + i) for i in range(1, 40)]
    model = listing_model(rows, max_per_page=PER_PAGE, max_page=MAX_PAGE, created_only=True)
    listing = model.listing()

    def newest_first(query: list[tuple[str, str]]) -> list[Any]:
        return model.list_end_users([(k, v) for k, v in query if k != "sort_order"])

    walk = TimestampWalk(type(listing)(listing.noun, newest_first, listing.requests,
                                       dimensions=listing.dimensions),
                         0, per_page=PER_PAGE, max_page=MAX_PAGE)
    try:
        list(walk)
    except ProtocolError as error:
        assert "listed responses outside the requested order" in str(error)
    else:  # pragma: no cover
        raise AssertionError("a descending answer must be refused")


def test_two_reads_that_leave_no_id_between_them_prove_a_sparse_second_whole(
    listing_model: Any, model_row: Any,
) -> None:
    """30 responses of one second whose ids are far apart (other end users' answers were
    numbered between them), but the ascending read ends at 105 and the descending one at 106:
    no id lies between, so the second is whole however sparse its ids. 31 rows leave one id
    unread, which is reported with its range."""
    ids = [7 * i for i in range(1, 16)] + [106 + 7 * j for j in range(15)]
    model = listing_model([model_row(i, "", 500, 500) for i in ids], max_per_page=PER_PAGE,
                          max_page=MAX_PAGE, created_only=True)
    walk = TimestampWalk(model.listing(), 0, per_page=PER_PAGE, max_page=MAX_PAGE)
    assert sorted(r.id for p in walk for r in p.rows) == ids
    (cell,) = walk.stats.unreachable
    assert cell.complete and cell.recovered == 0 and walk.stats.probes == 0

    more = [*ids, 300]
    model = listing_model([model_row(i, "", 500, 500) for i in more], max_per_page=PER_PAGE,
                          max_page=MAX_PAGE, created_only=True)
    walk = TimestampWalk(model.listing(), 0, per_page=PER_PAGE, max_page=MAX_PAGE)
    assert len({r.id for p in walk for r in p.rows}) == 30
    (cell,) = walk.stats.unreachable
    assert not cell.complete and "ids 106..112 lie between the two reads" in cell.note
