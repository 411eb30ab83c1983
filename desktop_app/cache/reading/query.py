"""Read-only queries over the cached end users: counts, sorted ids, pages, rows, exports, facets.

Every method takes filter text in the filter-bar language (`filters.py`). Reads go through
plain sqlite3 cursors on connections borrowed from the SQLAlchemy engine (row building through
the ORM would cost more than the query), and each call borrows its own connection, so one
`EndUserQuery` serves any number of threads. In WAL mode these reads never block the writer.

How each read runs is `query_plan.py`'s choice; `iter_tuples`' columns and reads are in
`query_tuples.py`; the row and sort types are in `query_rows.py` and importable from here.
"""

from __future__ import annotations

import array
import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import timezone, tzinfo
from typing import TYPE_CHECKING, Any

from desktop_app.cache.filters.language import (
    And,
    Equals,
    FilterNode,
    MatchAll,
    Not,
    PropertyField,
    State,
    StateIs,
    Text,
    parse_filter,
)
from desktop_app.cache.indexes.expressions import property_sql, sample_properties
from desktop_app.cache.reading.list_match import saved_list_names
from desktop_app.cache.indexes.history import RESPONSE_TAG
from desktop_app.cache.reading.nps import ACCOUNT_ZONE, NpsReport, read_nps
from desktop_app.cache.reading.plan import Order, Plan, QueryPlanner, keyset_pages, property_keys
from desktop_app.cache.reading.results import (
    ROW_SQL,
    ResultRow,
    SortSpec,
    decode_properties,
)
from desktop_app.cache.reading.tuples import (
    TUPLE_COLUMNS,
    TupleSelect,
    keyset_tuples,
    properties_from_json,
    property_token_key,
    tuples_by_id,
)
from desktop_app.cache.reading.read_pool import ReadPool
from desktop_app.cache.reading.turns import HOLD_LIMIT_S, ReadTurns, interrupted
from desktop_app.clock import Clock, SystemClock
from desktop_app.fields import property_key

if TYPE_CHECKING:  # SQLAlchemy is slow to import; the window's first paint reads without it
    from sqlalchemy.engine import Engine

__all__ = [  # the names other modules import from here, wherever they now live
    "TUPLE_COLUMNS",
    "EndUserQuery", "ResultRow", "SortSpec", "properties_from_json", "property_token_key",
]

WALK_BUDGET_S = 0.04  # a page's walk along the sort index gives up after this long
READ_CACHE_KIB = 8000  # SQLite's page cache per read (KiB); the connection's own size comes back after


class EndUserQuery:
    """Filtered, sorted reads over `end_user` (see the module docstring for threading).

    `zone` is where typed dates (created:2024-01) start and end; `clock` says what "now" is
    for `last_surveyed:<30d`. `mmap_bytes` maps that much of the file per connection: off by
    default, since mapped pages count in the process's memory once per pooled connection (1.3 GB
    at a million rows) and measured no faster than SQLite's own page cache over the OS's.
    """

    def __init__(self, source: Engine | ReadPool, clock: Clock | None = None, zone: tzinfo = timezone.utc,
                 mmap_bytes: int = 0) -> None:
        self._source = source
        self._mmap_bytes = mmap_bytes
        self._lock = threading.Lock()
        self._planner = QueryPlanner(clock or SystemClock(), zone)
        self._used_keys: Counter[str] = Counter()
        self._turns = ReadTurns()

    # -- public API ----------------------------------------------------------------------------
    def count(self, filter_text: str = "") -> int:
        node = self._parse(filter_text)
        with self._read(snapshot=True) as raw:
            return self._count(raw, node)

    def ids(self, filter_text: str = "", sort: SortSpec | None = None) -> array.array[int]:
        """Ids of the matching end users in sort order (8 bytes each; no rows are built)."""
        node = self._parse(filter_text)
        with self._read(snapshot=True) as raw:
            return self._ids(raw, node, self._sort(sort))

    def page(self, filter_text: str = "", sort: SortSpec | None = None, offset: int = 0,
             limit: int = 50) -> list[ResultRow]:
        node = self._parse(filter_text)
        offset, limit = max(0, offset), max(0, limit)
        with self._read(snapshot=True) as raw:
            order = self._planner.order(raw, self._sort(sort))
            plan = self._planner.plan(raw, node, order, offset + limit)
            extra = {**order.params, "_limit": limit, "_offset": offset}
            budget = WALK_BUDGET_S if plan.walks_sort_index and not isinstance(node, MatchAll) else None
            rows = self._page_rows(raw, plan, extra, budget)
            if rows is None:  # the walk found too few rows in time: find them first instead
                rows = self._page_rows(raw, self._planner.plan(raw, node, order, offset + limit, walk=False), extra, None)
        assert rows is not None
        return [ResultRow.from_sql(r) for r in rows]

    def rows_by_ids(self, ids: Sequence[int]) -> dict[int, ResultRow]:
        """The rows of these ids that exist (for lazy table models; never paused by a hold,
        since a table paints with it on the GUI thread)."""
        with self._turns.urgent(), self._read(snapshot=True) as raw:
            return self._rows_by_ids(raw, ids)

    def iter_rows(self, filter_text: str = "", sort: SortSpec | None = None, batch_size: int = 2000,
                  ids: Sequence[int] | None = None) -> Iterator[list[ResultRow]]:
        """Batches in order from one consistent snapshot, memory flat in the result size.

        When many rows match and an index serves the sort, batches page along that index by
        (key, id) — keyset pagination, never OFFSET. Otherwise the matching ids are sorted once
        (8 bytes each) and rows are read by id. With `ids`, rows come in that order.
        """
        batch_size = max(1, batch_size)
        node = self._parse(filter_text) if ids is None else MatchAll()
        sort = self._sort(sort)
        with self._read(snapshot=True) as raw:
            if ids is not None:
                yield from self._batches_by_id(raw, ids, batch_size)
                return
            order = self._planner.order(raw, sort)
            plan = self._planner.plan(raw, node, order, None)
            if plan.walks_sort_index:
                yield from self._keyset(raw, plan, order, batch_size)
            else:
                yield from self._batches_by_id(raw, self._ids(raw, node, sort), batch_size)

    def iter_tuples(self, filter_text: str = "", sort: SortSpec | None = None,
                    columns: Sequence[str] = ("id",), batch_size: int = 2000,
                    ids: Sequence[int] | None = None) -> Iterator[list[tuple[Any, ...]]]:
        """`iter_rows` for bulk readers such as the CSV export: the same rows in the same order,
        from one snapshot, read the same way (keyset or by id), but each row is a plain tuple
        of just `columns`, with nothing decoded.

        A column is a name in `TUPLE_COLUMNS` (the stored value: booleans 0/1, `disabled_by`
        as stored text, `properties_json` as JSON text), or `prop:<key>` for a key that
        `property_token_key` accepts: the JSON text of that property's value (None when
        absent), taken out of the document by SQLite, so only the keys asked for are read. A
        row whose `properties_json` SQLite cannot parse gets those texts from the Python
        decoding `ResultRow` uses (`properties_from_json`) instead of failing the read.
        Raises ValueError for an unknown column before anything is read.
        """
        select = TupleSelect(columns)
        node = self._parse(filter_text) if ids is None else MatchAll()
        return self._tuple_batches(node, self._sort(sort), select, max(1, batch_size), ids)

    def property_keys(self, exhaustive: bool = False) -> list[str]:
        """Property keys for completion and the column chooser.

        By default the keys of a 5,000-row sample plus every indexed key: fast at any size, but
        a key that fewer than about 0.1% of end users have may be missing. `exhaustive` reads
        every row (about a second per 300,000 end users).
        """
        with self._read(snapshot=True) as raw:
            if exhaustive:
                return [k for (k,) in raw.execute(
                    "SELECT DISTINCT pj.key FROM end_user, json_each(end_user.properties_json) AS pj "
                    "ORDER BY pj.key"
                )]
            catalog = self._planner.catalog(raw)
            keys = set(sample_properties(raw, 5000).presence)
        return sorted(keys | catalog.text_indexed | catalog.number_indexed)

    def response_tags(self, limit: int = 20) -> list[tuple[str, int]]:
        """The most used response tags (grouped ignoring case), with how many end users carry
        each on some response: what `tag:` completes to. Reads the tag table (indexed by tag)."""
        with self._read(snapshot=True) as raw:
            if not raw.execute(f"SELECT count(*) FROM sqlite_master WHERE name = '{RESPONSE_TAG}'").fetchone()[0]:
                return []
            rows = raw.execute(
                f"SELECT max(tag), count(DISTINCT end_user_id) AS n FROM {RESPONSE_TAG} GROUP BY tag"
                " ORDER BY n DESC, tag LIMIT ?", (max(0, limit),)).fetchall()
        return [(str(tag), int(n)) for tag, n in rows]

    def property_values(self, key: str, limit: int = 20, filter_text: str = "") -> list[tuple[str, int]]:
        """The most common values of a property among the matching end users, with row counts.

        Values group ignoring case; array elements count one by one; numbers show as typed in
        a filter (1000, not 1000.0). Exact at any size: one pass over the matching rows, or,
        for an indexed key without a filter, one index lookup per value seen in a sample.
        """
        node = self._parse(filter_text)
        limit = max(0, limit)
        with self._read(snapshot=True) as raw:
            catalog = self._planner.catalog(raw)
            sql = property_sql(key, "_facet_key")
            if isinstance(node, MatchAll) and sql.indexable and catalog.index_for(key):
                return self._values_by_index(raw, key, limit)
            plan = self._planner.plan(raw, node, None, None)
            if not sql.indexable:
                texts = (t for (t,) in raw.execute(  # streamed: a million rows' JSON is ~150 MB
                    f"SELECT properties_json FROM {plan.source} WHERE {plan.where}", plan.params))
                return _tally(texts, key, limit)
            shown = (
                "CASE e.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
                "WHEN 'real' THEN CASE WHEN e.value = CAST(e.value AS INTEGER) "
                "THEN CAST(CAST(e.value AS INTEGER) AS TEXT) ELSE CAST(e.value AS TEXT) END "
                "ELSE CAST(e.value AS TEXT) END"
            )
            rows = raw.execute(
                f"SELECT max(v), count(DISTINCT rid) AS n FROM (SELECT end_user.id AS rid, {shown} AS v "
                f"FROM {plan.source}, {sql.elements} AS e WHERE ({plan.where}) "
                "AND e.type IN ('text', 'integer', 'real', 'true', 'false')) WHERE v <> '' "
                "GROUP BY lower(v) ORDER BY n DESC, lower(v) LIMIT :_limit",
                {**plan.params, "_limit": limit},
            ).fetchall()
        return [(v, n) for v, n in rows]

    def facet_counts(self, filter_text: str = "") -> dict[str, int]:
        """Counts among the matching end users, from one snapshot: total, surveys_enabled,
        surveys_disabled, disabled_by_admin, disabled_by_end_user, pending, conflicts, deleted."""
        node = self._parse(filter_text)
        with self._read(snapshot=True) as raw:
            total = self._count(raw, node)
            counts = {
                name: self._count(raw, _and(node, StateIs(state))) if total else 0
                for name, state in (
                    ("surveys_disabled", State.SURVEYS_DISABLED),
                    ("disabled_by_admin", State.DISABLED_BY_ADMIN),
                    ("disabled_by_end_user", State.DISABLED_BY_END_USER),
                    ("pending", State.PENDING),
                    ("conflicts", State.CONFLICT),
                    ("deleted", State.DELETED),
                )
            }
        return {"total": total, "surveys_enabled": total - counts["surveys_disabled"], **counts}

    def nps(self, filter_text: str = "", start: int | None = None, end: int | None = None,
            zone: tzinfo = ACCOUNT_ZONE) -> NpsReport:
        """The NPS of the end users the filter shows, over [start, end) (None: from the first or
        to the last response), by score and by month of `zone` (see `reading/nps.py`)."""
        node = self._parse(filter_text)
        with self._read(snapshot=True) as raw:
            plan = None if isinstance(node, MatchAll) else self._planner.plan(raw, node, None, None)
            return read_nps(raw, plan, start, end, zone)

    def list_names(self) -> list[str]:
        """The kept lists' names, newest first: what completes after `list:` in the filter bar."""
        with self._read() as raw:
            return saved_list_names(raw)

    def used_property_keys(self) -> list[str]:
        """Property keys this session filtered or sorted by, most used first: worth passing to
        `ensure_query_indexes(property_keys=...)` next time the cache opens."""
        with self._lock:
            return [key for key, _ in self._used_keys.most_common()]

    # -- who reads first (see read_turns.py) ---------------------------------------------------
    def hold_reads(self, limit_s: float = HOLD_LIMIT_S) -> Callable[[], None]:
        """Pause this query's reads on other threads (those not inside `urgent()`) until the
        returned callable is called, or for at most `limit_s`: the first screen of a new filter
        then has both cores. Paused reads continue where they were."""
        return self._turns.hold(limit_s)

    @property
    def reads_held(self) -> bool:
        """True while a hold from `hold_reads` is on."""
        return self._turns.holding

    def urgent(self) -> AbstractContextManager[None]:
        """Reads on this thread inside the block run even while a hold is on."""
        return self._turns.urgent()

    # -- plumbing ------------------------------------------------------------------------------
    def _parse(self, filter_text: str) -> FilterNode:
        node = parse_filter(filter_text)
        keys = list(property_keys(node))
        if keys:
            with self._lock:
                self._used_keys.update(keys)
        return node

    def _sort(self, sort: SortSpec | None) -> SortSpec:
        sort = sort or SortSpec()
        key = property_key(sort.column)
        if key is not None:
            with self._lock:
                self._used_keys[key] += 1
        return sort

    @contextmanager
    def _read(self, snapshot: bool = False) -> Iterator[sqlite3.Connection]:
        with self._borrow() as raw:
            if raw.execute("PRAGMA mmap_size").fetchone()[0] != self._mmap_bytes:
                raw.execute(f"PRAGMA mmap_size = {int(self._mmap_bytes)}")
            # Every pooled connection that once counted a million rows would otherwise keep a
            # full page cache (32 MB on the Cache's engine); reads gain little from it, since
            # the OS caches the file, so a read runs with a small one and frees the rest.
            kept = raw.execute("PRAGMA cache_size").fetchone()[0]
            raw.execute(f"PRAGMA cache_size = -{READ_CACHE_KIB}")
            began = False
            if snapshot and not raw.in_transaction:
                raw.execute("BEGIN")  # one read snapshot across several statements (WAL)
                began = True
            try:
                with self._turns.checking(raw):  # off again before the clean-up below runs
                    yield raw
            finally:
                if began and raw.in_transaction:
                    raw.execute("ROLLBACK")
                raw.execute(f"PRAGMA cache_size = {int(kept)}")

    @contextmanager
    def _borrow(self) -> Iterator[sqlite3.Connection]:
        """A plain sqlite3 connection from the read pool or the Cache's engine."""
        if isinstance(self._source, ReadPool):
            with self._source.borrow() as raw:
                yield raw
            return
        with self._source.connect() as connection:
            driver = connection.connection.driver_connection
            if not isinstance(driver, sqlite3.Connection):
                raise TypeError("EndUserQuery needs an engine on SQLite")
            yield driver

    def _count(self, raw: sqlite3.Connection, node: FilterNode) -> int:
        if isinstance(node, MatchAll):
            return raw.execute("SELECT count(*) FROM end_user").fetchone()[0]
        if isinstance(node, Not):
            # "everything but X" counts as total minus X: X usually has an index, NOT X never.
            return self._count(raw, MatchAll()) - self._count(raw, node.child)
        lookup = self._planner.lookup_count(raw, node)
        if lookup is not None:  # one property condition: counted in the side tables alone
            return raw.execute(*lookup).fetchone()[0]
        plan = self._planner.plan(raw, node, None, None)
        return raw.execute(f"SELECT count(*) FROM {plan.source} WHERE {plan.where}", plan.params).fetchone()[0]

    def _ids(self, raw: sqlite3.Connection, node: FilterNode, sort: SortSpec) -> array.array[int]:
        order = self._planner.order(raw, sort)
        plan = self._planner.plan(raw, node, order, None, one_statement=True)
        cursor = raw.execute(f"SELECT id FROM {plan.source} WHERE {plan.where} ORDER BY {plan.order}",
                             {**plan.params, **order.params})
        out = array.array("q")
        while chunk := cursor.fetchmany(50_000):
            out.extend([i for (i,) in chunk])
        return out

    def _page_rows(self, raw: sqlite3.Connection, plan: Plan, extra: dict[str, Any],
                   budget: float | None) -> list[Any] | None:
        sql = (f"SELECT {ROW_SQL} FROM {plan.source} WHERE {plan.where} ORDER BY {plan.order} "
               "LIMIT :_limit OFFSET :_offset")
        if budget is None:
            return raw.execute(sql, {**plan.params, **extra}).fetchall()
        try:
            with self._turns.time_box(raw, budget):
                return raw.execute(sql, {**plan.params, **extra}).fetchall()
        except sqlite3.OperationalError as error:
            if "interrupt" not in str(error) or interrupted():  # a cancel, not the time box
                raise
            return None

    def _rows_by_ids(self, raw: sqlite3.Connection, ids: Sequence[int]) -> dict[int, ResultRow]:
        out: dict[int, ResultRow] = {}
        for start in range(0, len(ids), 5000):
            chunk = json.dumps([int(i) for i in ids[start:start + 5000]])
            for row in raw.execute(
                f"SELECT {ROW_SQL} FROM end_user WHERE id IN (SELECT value FROM json_each(?))", (chunk,)
            ):
                out[row[0]] = ResultRow.from_sql(row)
        return out

    def _batches_by_id(self, raw: sqlite3.Connection, ids: Sequence[int],
                       batch_size: int) -> Iterator[list[ResultRow]]:
        for start in range(0, len(ids), batch_size):
            chunk = ids[start:start + batch_size]
            rows = self._rows_by_ids(raw, chunk)
            batch = [rows[i] for i in chunk if i in rows]
            if batch:
                yield batch

    def _keyset(self, raw: sqlite3.Connection, plan: Plan, order: Order,
                batch_size: int) -> Iterator[list[ResultRow]]:
        """Rows in order, a batch per keyset page (see `keyset_pages`)."""
        def fetch(tail: str, params: dict[str, Any]) -> list[Any]:
            return raw.execute(f"SELECT {ROW_SQL}, {order.expr} FROM {plan.source} {tail}", params).fetchall()

        for rows in keyset_pages(plan, order, batch_size, fetch, lambda row: (row[-1], row[0])):  # key last
            yield [ResultRow.from_sql(r) for r in rows]

    def _tuple_batches(self, node: FilterNode, sort: SortSpec, select: TupleSelect, batch_size: int,
                       ids: Sequence[int] | None) -> Iterator[list[tuple[Any, ...]]]:
        """`iter_rows`' way of reading, for `iter_tuples`."""
        with self._read(snapshot=True) as raw:
            if ids is not None:
                yield from tuples_by_id(raw, ids, select, batch_size)
                return
            order = self._planner.order(raw, sort)
            plan = self._planner.plan(raw, node, order, None)
            if plan.walks_sort_index:
                yield from keyset_tuples(raw, plan, order, select, batch_size)
            else:
                yield from tuples_by_id(raw, self._ids(raw, node, sort), select, batch_size)

    def _values_by_index(self, raw: sqlite3.Connection, key: str, limit: int) -> list[tuple[str, int]]:
        sample = self._planner.sample_ids(raw)
        texts = [t for (t,) in raw.execute(
            "SELECT properties_json FROM end_user WHERE id IN (SELECT value FROM json_each(?))", (sample,))]
        counted = []
        for value, _ in _tally(texts, key, max(limit * 2, 20)):
            node = Equals(PropertyField(key), (Text((value,)),))
            counted.append((value, self._count(raw, node)))
        counted.sort(key=lambda pair: (-pair[1], _ascii_lower(pair[0])))
        return [pair for pair in counted if pair[1] > 0][:limit]


def _and(node: FilterNode, extra: FilterNode) -> FilterNode:
    if isinstance(node, MatchAll):
        return extra
    return And((*node.children, extra) if isinstance(node, And) else (node, extra))


_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _ascii_lower(text: str) -> str:
    """Lower case the way SQLite's NOCASE and LIKE see it: A-Z only."""
    return text.translate(_LOWER)


def _display(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float, str)):
        return str(value)
    return None


def _tally(texts: Iterable[str], key: str, limit: int) -> list[tuple[str, int]]:
    """Rows per value of one property, ignoring case; array elements one by one."""
    counts: Counter[str] = Counter()
    spelling: dict[str, str] = {}
    for text in texts:
        value = decode_properties(text).get(key)
        items = value if isinstance(value, list) else [value]
        seen: set[str] = set()
        for item in items:
            shown = _display(item)
            if not shown:
                continue
            folded = _ascii_lower(shown)
            if folded not in seen:
                seen.add(folded)
                counts[folded] += 1
                spelling[folded] = max(spelling.get(folded, shown), shown)
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:limit]
    return [(spelling[folded], n) for folded, n in ranked]
