"""The timestamp walk: every row of a list endpoint in a time range exactly once, in few requests.

One walk serves every list: end users by `updated_at` (or `created_at`), survey responses and
declines account-wide by `created_at`; a `Listing` says what an endpoint can filter, sort and
fetch. The list API caps one query at 30 pages x 50 rows and filters only on whole seconds, so
the walk is a keyset scan over one timestamp:

* Each page asks for `key >= anchor` sorted ascending. After a full page whose last key is `t`,
  the next request re-anchors at `t` (page 1): rows at second `t` are read again and dropped as
  duplicates. A fresh anchor per request means rows that change or vanish behind the read
  position cannot shift unread rows past it (what goes wrong with plain page numbers).
* Only when re-anchoring would re-read more than half a page (over 25 rows of one second end
  the page) does the walk turn the page instead (page 2, 3, ... of the same anchor, at most
  30). Such page turns are the one place where a row deleted or edited behind the read
  position mid-walk can shift an unread row past it; keeping them rare is worth the ~2 % of
  re-read rows that re-anchoring costs on ordinary data.
* A page whose 50 rows all share one second `t` means that second is dense: the walk descends
  into it along the other timestamp (`updated[eq]=t`, keyset over `created_at`) and then goes on
  at `t + 1`. A page inside that second sharing both seconds means a dense *cell* (a bulk
  import); a listing with one timestamp only (responses and declines filter on `created`
  alone) treats the dense second itself as a cell. A cell has no key left to anchor on, so it
  is paged in several orders: tie order ascending, then descending until the two reads meet
  consistently (that proves it whole: 3,000 rows at most), then by each further sort key the
  listing has (end users: email) ascending and descending the same way.
* A cell no pair of reads covers is probed with GET /v1/end_users/{id} through the id gap
  between the ascending and descending reads, when the service's tie order is by id and ids
  are dense (a narrow gap is probed before trying the email orders); whatever cannot be proven
  complete is recorded as an UnreachableCell and logged as a warning. Never silent. A response
  or decline has no GET by id alone and no other sort key, so one created second holding more
  than two full reads (3,000) is reported with the id range the reads left between them.

Rows can move while the walk runs (an edit bumps `updated_at`, a tag a response's): the walk
de-duplicates by id and keeps the freshest version, yielding a row again only when it comes
back newer.
"""

from __future__ import annotations

import enum
import itertools
import logging
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from desktop_app.api.errors import NotFoundError, ProtocolError
from desktop_app.domain import EndUser

log = logging.getLogger(__name__)

PER_PAGE = 50
MAX_PAGE = 30  # the service answers 400 beyond page 30
# Re-anchor when it costs at most this many re-read rows (half a page); otherwise turn pages.
REANCHOR_WASTE = 25
PROBE_BUDGET = 5_000  # GET-by-id probes one walk may spend on unreachable cells
MIN_ID_DENSITY = 0.5  # "ids look contiguous": at least half the id range is seen in the cell
PRUNE_FLOOR = 4_096

Query = list[tuple[str, str]]


class WalkDimension(enum.StrEnum):
    """The timestamp a walk orders and filters by."""

    UPDATED = "updated"
    CREATED = "created"

    @property
    def other(self) -> WalkDimension:
        return WalkDimension.CREATED if self is WalkDimension.UPDATED else WalkDimension.UPDATED

    @property
    def sort_key(self) -> str:
        return f"{self.value}_at"

    def key(self, row: WalkRow) -> int:
        return row.updated_at if self is WalkDimension.UPDATED else row.created_at


class WalkRow(Protocol):
    """What the walk reads of a listed row: an end user, a response, a decline."""

    @property
    def id(self) -> int: ...

    @property
    def created_at(self) -> int: ...

    @property
    def updated_at(self) -> int: ...


R = TypeVar("R", bound=WalkRow)


@dataclass(frozen=True, slots=True)
class Listing(Generic[R]):
    """One list endpoint as the walk sees it.

    `dimensions`: the timestamps it filters on (`created[eq]` and so on). `tie_keys`: further
    sort keys a dense cell can be read in (end users: email). `get_one`: a GET by id alone for
    probing a cell's id gap (end users only; a response is fetched through its end user).
    """

    noun: str  # "end users", "responses": for messages
    list_page: Callable[[Query], list[R]]
    requests: Callable[[], int]  # HTTP requests so far, retries included
    dimensions: tuple[WalkDimension, ...] = (WalkDimension.UPDATED, WalkDimension.CREATED)
    tie_keys: tuple[str, ...] = ()
    get_one: Callable[[int], R] | None = None


class EndUserSource(Protocol):
    """What the walk needs from the client."""

    @property
    def request_count(self) -> int: ...

    def list_end_users(self, query: Sequence[tuple[str, str]]) -> list[EndUser]: ...

    def get_end_user(self, end_user_id: int) -> EndUser: ...


def end_user_listing(source: EndUserSource) -> Listing[EndUser]:
    """`GET /v1/end_users`: both timestamps, email as a further order, GET by id."""
    return Listing("end users", source.list_end_users, lambda: source.request_count,
                   tie_keys=("email",), get_one=source.get_end_user)


@dataclass(frozen=True, slots=True)
class WalkPage(Generic[R]):
    """Rows new to this walk, and the checkpoint they complete.

    `complete_before`: every row with a walk key strictly below it has now been yielded. On
    the last page it is the walk's `until` (None when unbounded: all done).
    """

    rows: tuple[R, ...]
    complete_before: int | None

    @property
    def end_users(self) -> tuple[R, ...]:
        """The rows of an end users' walk (the name its callers read)."""
        return self.rows


@dataclass(frozen=True, slots=True)
class UnreachableCell:
    """Rows sharing one second of each timestamp the listing filters on, beyond its reach.

    `updated_at` is None for a listing that filters on `created` alone (responses, declines).
    """

    updated_at: int | None
    created_at: int
    seen: int  # rows the list API returned for the cell
    note: str
    recovered: int = 0  # rows found by GET-by-id probes
    complete: bool = False  # True when the probes proved nothing is missing

    @property
    def where(self) -> str:
        """The cell in words for logs and notes: its second(s)."""
        if self.updated_at is None:
            return f"created_at={self.created_at}"
        return f"updated_at={self.updated_at} created_at={self.created_at}"


@dataclass(frozen=True, slots=True)
class WalkStats:
    """What a walk cost and found."""

    requests: int  # HTTP requests during the walk (retries and sign-ins included)
    rows: int  # rows yielded
    duplicates: int  # rows read again and dropped
    unreachable: tuple[UnreachableCell, ...] = ()
    list_requests: int = 0  # logical list calls
    probes: int = 0  # GET-by-id probes
    moved: int = 0  # rows that came back newer during the walk and were yielded again
    dense_seconds: int = 0  # seconds the walk had to descend into
    dense_cells: int = 0  # (updated, created) cells read in several orders
    newest_updated_at: int | None = None  # the latest updated_at yielded (a next `since`)


def _meets(asc: list[int], desc: list[int]) -> bool:
    """True when an ascending prefix and a descending read of one order cover all of it.

    The reversed descending read must overlap the end of the ascending one element for element
    and bring only new ids after the overlap; anything else (a service that does not reverse
    its tie order, rows changing meanwhile) is not proof.
    """
    if not asc or not desc:
        return False
    tail = desc[::-1]
    position = {i: n for n, i in enumerate(asc)}
    start = position.get(tail[0])
    if start is None:
        return False
    overlap = asc[start:]
    if tail[: len(overlap)] != overlap:
        return False
    return not any(i in position for i in tail[len(overlap):])


def _strictly(ids: list[int], ascending: bool) -> bool:
    pairs = itertools.pairwise(ids)
    return all(a < b for a, b in pairs) if ascending else all(a > b for a, b in pairs)


class TimestampWalk(Generic[R]):
    """An iterable of WalkPage over `since <= key < until` of one listing; iterate it once.

    `stats` is readable during and after the walk. Not thread-safe; the client it reads from
    serializes requests.
    """

    def __init__(
        self, listing: Listing[R], since: int | None, until: int | None = None, *,
        dimension: WalkDimension | None = None, probe_budget: int = PROBE_BUDGET,
        per_page: int = PER_PAGE, max_page: int = MAX_PAGE,
    ) -> None:
        dimension = dimension or listing.dimensions[0]
        if dimension not in listing.dimensions:
            raise ValueError(f"{listing.noun} cannot be walked by {dimension.sort_key}")
        # per_page/max_page mirror the service's caps; tests shrink them to reach every path
        self._per_page = per_page
        self._max_page = max_page
        self._reanchor_waste = max(1, per_page * REANCHOR_WASTE // PER_PAGE)
        self._listing = listing
        self._since = since
        self._until = until
        self._dim = dimension
        self._probe_budget = probe_budget
        self._started = False
        self._requests0 = 0
        self._seen: dict[int, tuple[int, int]] = {}  # id -> (walk key, updated_at) yielded
        self._prune_at = PRUNE_FLOOR
        self._rows = 0
        self._duplicates = 0
        self._moved = 0
        self._lists = 0
        self._probes = 0
        self._descents = 0
        self._cells = 0
        self._newest: int | None = None
        self._unreachable: list[UnreachableCell] = []

    @property
    def stats(self) -> WalkStats:
        return WalkStats(
            requests=(self._listing.requests() - self._requests0) if self._started else 0,
            rows=self._rows,
            duplicates=self._duplicates,
            unreachable=tuple(self._unreachable),
            list_requests=self._lists,
            probes=self._probes,
            moved=self._moved,
            dense_seconds=self._descents,
            dense_cells=self._cells,
            newest_updated_at=self._newest,
        )

    def __iter__(self) -> Iterator[WalkPage[R]]:
        if self._started:
            raise RuntimeError("a walk can be iterated only once; start a new one")
        self._started = True
        self._requests0 = self._listing.requests()
        return self._range(self._dim, [], self._since, self._until, None)

    # --- the keyset scan ------------------------------------------------------------------

    def _range(
        self, dim: WalkDimension, fixed: Query, lo: int | None, hi: int | None,
        outer: tuple[WalkDimension, int] | None,
    ) -> Iterator[WalkPage[R]]:
        """Scan `lo <= dim < hi` (within `fixed`); `outer` is the dense second being descended."""
        anchor, page = lo, 1
        while True:
            query = list(fixed)
            if anchor is not None:
                query.append((f"{dim.value}[gte]", str(anchor)))
            if hi is not None:
                query.append((f"{dim.value}[lt]", str(hi)))
            query += [("sort_key", dim.sort_key), ("sort_order", "asc"),
                      ("per_page", str(self._per_page)), ("page", str(page))]
            rows = self._list(query)
            keys = [dim.key(u) for u in rows]
            self._check_order(keys, anchor, hi)
            if len(rows) < self._per_page:
                yield self._page(rows, hi if outer is None else outer[1])
                return
            first, last = keys[0], keys[-1]
            checkpoint = last if outer is None else outer[1]
            if first == last:  # fifty rows in one second: look inside it
                yield self._page(rows, checkpoint)
                if outer is None and dim.other in self._listing.dimensions:
                    self._descents += 1
                    log.debug("dense %s second %d: descending by %s",
                              dim.value, last, dim.other.value)
                    inside = [*fixed, (f"{dim.value}[eq]", str(last))]
                    yield from self._range(dim.other, inside, None, None, (dim, last))
                else:
                    # page 1 from the cell's first key is also page 1 of its tie-order read
                    reusable = page == 1 and anchor in (None, last)
                    cell = {dim: last} if outer is None else {outer[0]: outer[1], dim: last}
                    yield from self._cell(cell, dim.sort_key, checkpoint,
                                          rows if reusable else None)
                anchor, page = last + 1, 1
                if hi is not None and anchor >= hi:
                    yield self._page([], hi if outer is None else outer[1])
                    return
                continue
            at_last = len(keys) - keys.index(last)
            if at_last <= self._reanchor_waste or page == self._max_page:
                anchor, page = last, 1
            else:
                page += 1
            yield self._page(rows, checkpoint)

    def _check_order(self, keys: list[int], anchor: int | None, hi: int | None) -> None:
        if not keys:
            return
        if (
            (anchor is not None and keys[0] < anchor)
            or (hi is not None and keys[-1] >= hi)
            or any(a > b for a, b in itertools.pairwise(keys))
        ):
            raise ProtocolError(
                f"the service listed {self._listing.noun} outside the requested order or range")

    # --- dense cells ----------------------------------------------------------------------

    def _cell(
        self, cell: dict[WalkDimension, int], tie_key: str, checkpoint: int,
        first_page: list[R] | None,
    ) -> Iterator[WalkPage[R]]:
        """All rows of one cell (a second of each timestamp filtered on), in several orders.

        The timestamps are constant inside, so sorting by `tie_key` yields the service's tie
        order. `first_page`: the cell's first page in that order, when the caller holds it.
        """
        self._cells += 1
        fixed: Query = [(f"{d.value}[eq]", str(v)) for d, v in sorted(cell.items(), reverse=True)]
        union: dict[int, R] = {}
        asc, desc, done = yield from self._read_both(fixed, tie_key, union, checkpoint, first_page)
        if done:
            return
        id_ordered = bool(desc) and _strictly(asc, True) and _strictly(desc, False) and (
            asc[-1] < desc[-1])
        gap = desc[-1] - asc[-1] - 1 if id_ordered else 0
        # no id fits between the two reads: whole, with or without a GET by id to probe
        probing = id_ordered and (self._listing.get_one is not None or gap == 0)
        if probing and gap <= 2 * self._max_page:
            # a narrow id gap: probing it costs less than two more full reads
            yield from self._close_gap(cell, asc, desc, union, checkpoint)
            return
        for key in self._listing.tie_keys:
            _, _, done = yield from self._read_both(fixed, key, union, checkpoint, None)
            if done:
                return
        if probing:
            yield from self._close_gap(cell, asc, desc, union, checkpoint)
            return
        if id_ordered:
            note = (f"ids {asc[-1] + 1}..{desc[-1] - 1} lie between the two reads, and "
                    f"{self._listing.noun} cannot be fetched by id alone")
        else:
            note = ("two reads per order did not meet and the service's tie order is not by id, "
                    "so what is missing cannot be bounded")
        self._report(_unreachable(cell, len(union), note))

    def _close_gap(
        self, cell: dict[WalkDimension, int], asc: list[int], desc: list[int],
        union: dict[int, R], checkpoint: int,
    ) -> Iterator[WalkPage[R]]:
        """Probe the ids between the id-ordered ascending and descending reads, or report."""
        seen = len(union)
        gap = range(asc[-1] + 1, desc[-1])
        missing = [i for i in gap if i not in union]
        # how densely ids fill the two id-ordered reads predicts how full the gap is
        density = (len(asc) + len(desc)) / (asc[-1] - asc[0] + desc[0] - desc[-1] + 2)
        if missing and density < MIN_ID_DENSITY:  # nothing missing: whole, however sparse
            note = f"ids too sparse to probe ({density:.0%} of the id range in use)"
        elif len(missing) > self._probe_budget:
            note = (f"{len(missing)} ids in the gap {gap.start}..{gap.stop - 1} exceed the "
                    f"probe budget ({self._probe_budget} left)")
        else:
            recovered = (yield from self._probe(missing, cell, checkpoint)) if missing else 0
            note = (f"list API reached {seen}; probed ids {gap.start}..{gap.stop - 1} "
                    f"({len(missing)} unseen), recovered {recovered}")
            self._report(_unreachable(cell, seen, note, recovered, complete=True))
            return
        self._report(_unreachable(cell, seen, note))

    def _report(self, cell: UnreachableCell) -> None:
        self._unreachable.append(cell)
        where = cell.where
        if cell.complete:
            log.info("dense cell %s: %s", where, cell.note)
        else:
            log.warning("%s possibly missing at %s: the list API reached %d; %s",
                        self._listing.noun, where, cell.seen, cell.note)

    def _read_both(
        self, fixed: Query, sort_key: str, union: dict[int, R], checkpoint: int,
        first_page: list[R] | None,
    ) -> Generator[WalkPage[R], None, tuple[list[int], list[int], bool]]:
        """The cell ascending, then descending until the reads meet: (asc, desc, whole)."""
        asc, done = yield from self._read_order(fixed, sort_key, "asc", union, checkpoint,
                                                first_page=first_page)
        if done:
            return asc, [], True
        desc, done = yield from self._read_order(fixed, sort_key, "desc", union, checkpoint,
                                                 meet=asc)
        return asc, desc, done

    def _read_order(
        self, fixed: Query, sort_key: str, order: str, union: dict[int, R], checkpoint: int,
        *, first_page: list[R] | None = None, meet: list[int] | None = None,
    ) -> Generator[WalkPage[R], None, tuple[list[int], bool]]:
        """Up to 30 pages of the cell in one order: (ids in order, True if that proves it whole).

        A read is whole when it ends on a short page, or (given the opposite read `meet`)
        as soon as it meets that read consistently.
        """
        ids: list[int] = []
        start = 1
        if first_page is not None:  # already read and yielded by the caller
            ids.extend(u.id for u in first_page)
            union.update((u.id, u) for u in first_page)
            start = 2
        meet_ids = set(meet or ())
        read = set(ids)
        for page in range(start, self._max_page + 1):
            rows = self._list([*fixed, ("sort_key", sort_key), ("sort_order", order),
                               ("per_page", str(self._per_page)), ("page", str(page))])
            # A service that repeats rows across pages must not break the order checks below:
            # the read is the order of first appearances.
            fresh = [u.id for u in rows if u.id not in read]
            ids.extend(fresh)
            read.update(fresh)
            union.update((u.id, u) for u in rows)
            yield self._page(rows, checkpoint)
            if len(rows) < self._per_page:
                return ids, True
            if meet and any(u.id in meet_ids for u in rows) and _meets(meet, ids):
                return ids, True
        return ids, False

    def _probe(
        self, ids: list[int], cell: dict[WalkDimension, int], checkpoint: int,
    ) -> Generator[WalkPage[R], None, int]:
        """GET each id; keep those that belong to the cell (others are read where they are)."""
        get_one = self._listing.get_one
        assert get_one is not None  # only listings with a GET by id are probed
        found: list[R] = []
        recovered = 0
        for row_id in ids:
            self._probes += 1
            self._probe_budget -= 1
            try:
                row = get_one(row_id)
            except NotFoundError:
                continue
            if all(d.key(row) == v for d, v in cell.items()):
                found.append(row)
                recovered += 1
            if len(found) == self._per_page:
                yield self._page(found, checkpoint)
                found = []
        if found:
            yield self._page(found, checkpoint)
        return recovered

    # --- bookkeeping ----------------------------------------------------------------------

    def _list(self, query: Query) -> list[R]:
        self._lists += 1
        return self._listing.list_page(query)

    def _page(self, rows: Sequence[R], checkpoint: int | None) -> WalkPage[R]:
        """Drop what this walk already yielded (keeping the freshest version) and count."""
        fresh: list[R] = []
        key = self._dim.key
        for row in rows:
            previous = self._seen.get(row.id)
            if previous is not None:
                if previous[1] >= row.updated_at:
                    self._duplicates += 1
                    continue
                self._moved += 1
            self._seen[row.id] = (key(row), row.updated_at)
            if self._newest is None or row.updated_at > self._newest:
                self._newest = row.updated_at
            fresh.append(row)
        self._rows += len(fresh)
        if checkpoint is not None and len(self._seen) > self._prune_at:
            # rows below the checkpoint can only come back newer: no need to remember them
            self._seen = {i: v for i, v in self._seen.items() if v[0] >= checkpoint}
            self._prune_at = max(PRUNE_FLOOR, 2 * len(self._seen))
        return WalkPage(tuple(fresh), checkpoint)


def _unreachable(cell: dict[WalkDimension, int], seen: int, note: str, recovered: int = 0,
                 complete: bool = False) -> UnreachableCell:
    return UnreachableCell(cell.get(WalkDimension.UPDATED), cell[WalkDimension.CREATED], seen,
                           note, recovered, complete)


class UpdatedWalk(TimestampWalk[EndUser]):
    """The end users' walk: `since <= updated_at < until` (or by created_at); see TimestampWalk."""

    def __init__(
        self, source: EndUserSource, since: int | None, until: int | None = None, *,
        dimension: WalkDimension = WalkDimension.UPDATED, probe_budget: int = PROBE_BUDGET,
        per_page: int = PER_PAGE, max_page: int = MAX_PAGE,
    ) -> None:
        super().__init__(end_user_listing(source), since, until, dimension=dimension,
                         probe_budget=probe_budget, per_page=per_page, max_page=max_page)
