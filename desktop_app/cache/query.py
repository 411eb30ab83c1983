"""Read-only queries over the cached end users: counts, sorted ids, pages, rows, exports, facets.

Every method takes filter text in the filter-bar language (`filters.py`). Reads go through
plain sqlite3 cursors on connections borrowed from the SQLAlchemy engine (row building through
the ORM would cost more than the query), and each call borrows its own connection, so one
`EndUserQuery` serves any number of threads. In WAL mode these reads never block the writer.
"""

from __future__ import annotations

import array
import enum
import functools
import json
import re
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, fields
from datetime import timezone, tzinfo
from typing import TYPE_CHECKING, Any

from desktop_app.cache.filters import (
    And,
    CompileContext,
    Equals,
    FilterNode,
    FreeText,
    MatchAll,
    Not,
    PropertyField,
    Or,
    SqlCompiler,
    State,
    StateIs,
    Text,
    parse_filter,
)
from desktop_app.cache.indexes import (
    EMAIL_INDEX,
    PropertyCatalog,
    PropertyKind,
    number_index_name,
    property_sql,
    read_catalog,
    sample_properties,
    spread_ids,
    text_index_name,
)
from desktop_app.cache.read_pool import ReadPool
from desktop_app.cache.read_turns import HOLD_LIMIT_S, ReadTurns, interrupted
from desktop_app.clock import Clock, SystemClock
from desktop_app.domain import DisabledBy, EndUser, SurveySettings

if TYPE_CHECKING:  # SQLAlchemy is slow to import; the window's first paint reads without it
    from sqlalchemy.engine import Engine

PROPERTY_SORT_PREFIX = "prop:"
FILTER_FIRST_ROWS = 20_000  # a page finds and sorts its rows first when an index gives this few
WALK_ALL_SHARE = 0.3  # all rows walk the sort's index when at least this share of them match
FREE_TEXT_INDEX_SHARE = 0.05  # scan the email/external-id index when free text is this rare
TEXT_SCAN_SHARE = 0.1  # ... and prefer that scan to an indexed driver matching this share or more
LIST_SHARE_RATIO = 4.0  # a rowid list may be this many times the driver's rows, else re-check rows
WALK_BUDGET_S = 0.04  # a page's walk along the sort index gives up after this long
READ_CACHE_KIB = 8000  # SQLite's page cache per read (KiB); the connection's own size comes back after
_SAMPLE_IDS = 1000
_SAMPLE_TTL = 30.0


class ColumnKind(enum.Enum):
    TEXT = "text"
    INTEGER = "integer"
    TIMESTAMP = "timestamp"  # unix seconds
    BOOLEAN = "boolean"
    CHOICE = "choice"  # DisabledBy


@dataclass(frozen=True, slots=True)
class Column:
    """A seed column the table view can show and sort by; `key` is the ResultRow attribute."""

    key: str
    title: str
    kind: ColumnKind


COLUMNS: tuple[Column, ...] = (
    Column("email", "Email", ColumnKind.TEXT),
    Column("external_id", "External ID", ColumnKind.TEXT),
    Column("id", "ID", ColumnKind.INTEGER),
    Column("phone_number", "Phone", ColumnKind.TEXT),
    Column("created_at", "Created", ColumnKind.TIMESTAMP),
    Column("updated_at", "Updated", ColumnKind.TIMESTAMP),
    Column("last_surveyed", "Last surveyed", ColumnKind.TIMESTAMP),
    Column("external_created_at", "External created", ColumnKind.TIMESTAMP),
    Column("surveys_disabled", "Surveys off", ColumnKind.BOOLEAN),
    Column("disabled_by", "Disabled by", ColumnKind.CHOICE),
    Column("pending_count", "Pending edits", ColumnKind.INTEGER),
    Column("has_conflict", "Conflict", ColumnKind.BOOLEAN),
    Column("pending_delete", "Pending delete", ColumnKind.BOOLEAN),
)
_COLUMN_KEYS = frozenset(c.key for c in COLUMNS)
_SORT_ALIASES = {"created": "created_at", "updated": "updated_at", "phone": "phone_number"}


@dataclass(frozen=True, slots=True)
class SortSpec:
    """Sort order: a seed column or `prop:<key>`; id breaks ties in the same direction.

    Text sorts ignore case (email) or not (ids, phone numbers); empty values come first
    ascending and last descending. Property sorts put numbers first, in numeric order.
    """

    column: str = "email"
    descending: bool = False

    def __post_init__(self) -> None:
        column = _SORT_ALIASES.get(self.column, self.column)
        if column.startswith(PROPERTY_SORT_PREFIX):
            if not column[len(PROPERTY_SORT_PREFIX):]:
                raise ValueError("sort by property needs a key: prop:<key>")
        elif column not in _COLUMN_KEYS:
            raise ValueError(f"cannot sort by {self.column!r}")
        object.__setattr__(self, "column", column)


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One effective end user as the cache holds it, decoded."""

    id: int
    email: str
    external_id: str | None
    external_created_at: int | None
    last_surveyed: int | None
    phone_number: str | None
    created_at: int
    updated_at: int
    surveys_disabled: bool
    disabled_by: DisabledBy
    settings: SurveySettings
    properties: dict[str, Any] = field(hash=False)
    pending_count: int = 0
    has_conflict: bool = False
    pending_delete: bool = False

    @classmethod
    def from_sql(cls, row: Sequence[Any]) -> ResultRow:
        (id_, email, external_id, external_created_at, last_surveyed, phone, created, updated,
         disabled, disabled_by, settings_json, properties_json, pending, conflict, deleting) = row[:15]
        return cls(
            id_, email, external_id, external_created_at, last_surveyed, phone, created, updated,
            bool(disabled), _disabled_by(disabled_by), _settings(settings_json),
            _properties(properties_json), pending or 0, bool(conflict), bool(deleting),
        )

    def to_end_user(self) -> EndUser:
        return EndUser(
            id=self.id, email=self.email, created_at=self.created_at, updated_at=self.updated_at,
            external_id=self.external_id, external_created_at=self.external_created_at,
            last_surveyed=self.last_surveyed, phone_number=self.phone_number,
            properties=dict(self.properties), settings=self.settings,
        )


_ROW_SQL = (
    "id, email, external_id, external_created_at, last_surveyed, phone_number, created_at, "
    "updated_at, surveys_disabled, disabled_by, settings_json, properties_json, pending_count, "
    "has_conflict, pending_delete"
)
_SETTINGS_FIELDS = frozenset(f.name for f in fields(SurveySettings))


_DISABLED_BY = {member.value: member for member in DisabledBy}


def _disabled_by(value: str | None) -> DisabledBy:
    return _DISABLED_BY.get(value or "", DisabledBy.NOBODY)


_decode = json.JSONDecoder().raw_decode  # json.loads minus its whitespace handling: rows are compact


@functools.lru_cache(maxsize=256)  # a handful of distinct channel combinations exist
def _settings(text: str | None) -> SurveySettings:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return SurveySettings()
    if not isinstance(data, dict):
        return SurveySettings()
    return SurveySettings(**{k: v for k, v in data.items() if k in _SETTINGS_FIELDS})


def _properties(text: str | None) -> dict[str, Any]:
    if not text or text == "{}":
        return {}
    try:
        data = _decode(text)[0]
    except ValueError:
        try:
            data = json.loads(text)
        except ValueError:
            return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True, slots=True)
class _Order:
    """A resolved sort: the ORDER BY expression, its index (if any) and its parameters."""

    expr: str
    index: str | None  # index name, "rowid" for the table itself, or None
    descending: bool
    params: dict[str, Any]

    @property
    def sql(self) -> str:
        direction = "DESC" if self.descending else "ASC"
        if self.expr == "id":
            return f"id {direction}"
        return f"{self.expr} {direction}, id {direction}"

    @property
    def hidden_sql(self) -> str:
        """The same order, spelled so that no index can serve it (unary + is a no-op)."""
        direction = "DESC" if self.descending else "ASC"
        return f"+{self.expr} {direction}, +id {direction}"

    def source(self) -> str:
        if self.index == "rowid":
            return "end_user NOT INDEXED"
        return f'end_user INDEXED BY "{self.index}"'


@dataclass(frozen=True, slots=True)
class _Plan:
    """How one read runs: FROM clause (with any index hint), WHERE, ORDER BY."""

    source: str
    where: str
    params: dict[str, Any]
    order: str
    walks_sort_index: bool = False
    share: float = 1.0  # of a sample of end users that match


def _keyset_pages(
    plan: _Plan, order: _Order, batch_size: int,
    fetch: Callable[[str, dict[str, Any]], list[Any]], last_of: Callable[[Any], tuple[Any, int]],
) -> Iterator[list[Any]]:
    """Page along the sort's index by (key, id): each page starts where the last ended.

    `fetch(tail, params)` runs the caller's SELECT with `tail` (WHERE ... ORDER BY ... LIMIT);
    `last_of(row)` gives a row's (key, id). Empty keys (NULL) form their own run, first
    ascending and last descending, paged by id.
    """
    key, after = order.expr, "<" if order.descending else ">"
    runs = ["all"] if key == "id" else (["set", "null"] if order.descending else ["null", "set"])
    base = {**plan.params, **order.params, "_limit": batch_size}
    for run in runs:
        last: tuple[Any, int] | None = None
        while True:
            terms = [f"({plan.where})"]
            if run != "all":
                terms.append(f"{key} IS {'NOT ' if run == 'set' else ''}NULL")
            params = dict(base)
            if last is not None:
                params["_key"], params["_id"] = last
                terms.append(
                    f"{key} {after}= :_key AND ({key} {after} :_key OR id {after} :_id)"
                    if run == "set" else f"id {after} :_id"
                )
            rows = fetch(f"WHERE {' AND '.join(terms)} ORDER BY {order.sql} LIMIT :_limit", params)
            if not rows:
                break
            yield rows
            if len(rows) < batch_size:
                break
            last = last_of(rows[-1])


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
        self._clock = clock or SystemClock()
        self._zone = zone
        self._mmap_bytes = mmap_bytes
        self._lock = threading.Lock()
        self._catalog: PropertyCatalog | None = None
        self._schema_version = -1
        self._sample: tuple[float, str] | None = None  # (taken at, JSON list of ids)
        self._sample_total = 0
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
            order = self._order(raw, self._sort(sort))
            plan = self._plan(raw, node, order, offset + limit)
            extra = {**order.params, "_limit": limit, "_offset": offset}
            budget = WALK_BUDGET_S if plan.walks_sort_index and not isinstance(node, MatchAll) else None
            rows = self._page_rows(raw, plan, extra, budget)
            if rows is None:  # the walk found too few rows in time: find them first instead
                rows = self._page_rows(raw, self._plan(raw, node, order, offset + limit, walk=False), extra, None)
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
            order = self._order(raw, sort)
            plan = self._plan(raw, node, order, None)
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
        select = _TupleSelect(columns)
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
            catalog = self._refresh_catalog(raw)
            keys = set(sample_properties(raw, 5000).presence)
        return sorted(keys | catalog.text_indexed | catalog.number_indexed)

    def property_values(self, key: str, limit: int = 20, filter_text: str = "") -> list[tuple[str, int]]:
        """The most common values of a property among the matching end users, with row counts.

        Values group ignoring case; array elements count one by one; numbers show as typed in
        a filter (1000, not 1000.0). Exact at any size: one pass over the matching rows, or,
        for an indexed key without a filter, one index lookup per value seen in a sample.
        """
        node = self._parse(filter_text)
        limit = max(0, limit)
        with self._read(snapshot=True) as raw:
            catalog = self._refresh_catalog(raw)
            sql = property_sql(key, "_facet_key")
            if isinstance(node, MatchAll) and sql.indexable and catalog.index_for(key):
                return self._values_by_index(raw, key, limit)
            plan = self._plan(raw, node, None, None)
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
        keys = list(_property_keys(node))
        if keys:
            with self._lock:
                self._used_keys.update(keys)
        return node

    def _sort(self, sort: SortSpec | None) -> SortSpec:
        sort = sort or SortSpec()
        if sort.column.startswith(PROPERTY_SORT_PREFIX):
            with self._lock:
                self._used_keys[sort.column[len(PROPERTY_SORT_PREFIX):]] += 1
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
            raw = connection.connection.driver_connection
            if not isinstance(raw, sqlite3.Connection):
                raise TypeError("EndUserQuery needs an engine on SQLite")
            yield raw

    def _refresh_catalog(self, raw: sqlite3.Connection) -> PropertyCatalog:
        version = raw.execute("PRAGMA schema_version").fetchone()[0]
        with self._lock:
            if self._catalog is not None and version == self._schema_version:
                return self._catalog
        catalog = read_catalog(raw, sample_properties(raw, 500))
        with self._lock:
            self._catalog, self._schema_version = catalog, version
        return catalog

    def _context(self, raw: sqlite3.Connection, node: FilterNode | None = None) -> CompileContext:
        catalog = self._refresh_catalog(raw)
        array_free = set()
        for key in set(_property_keys(node)) if node is not None else ():
            if catalog.index_for(key) is PropertyKind.TEXT:
                # Arrays come back as JSON text starting with '[': one short index range.
                value = property_sql(key).value
                if not raw.execute(
                    f"SELECT EXISTS (SELECT 1 FROM end_user WHERE {value} COLLATE NOCASE >= '[' "
                    f"AND {value} COLLATE NOCASE < '\\' AND {property_sql(key).type} = 'array')"
                ).fetchone()[0]:
                    array_free.add(key)
        return CompileContext(self._clock.now(), self._zone, catalog, frozenset(array_free))

    def _order(self, raw: sqlite3.Connection, sort: SortSpec) -> _Order:
        catalog = self._refresh_catalog(raw)
        column, desc = sort.column, sort.descending
        if column == "id":
            return _Order("id", "rowid", desc, {})
        if column == "email":
            return _Order("email COLLATE NOCASE", _known(catalog, EMAIL_INDEX), desc, {})
        if not column.startswith(PROPERTY_SORT_PREFIX):
            return _Order(column, _known(catalog, f"ix_end_user_{column}"), desc, {})
        key = column[len(PROPERTY_SORT_PREFIX):]
        sql = property_sql(key, "_sort_key")
        index = catalog.index_for(key) if sql.indexable else None
        if index is PropertyKind.NUMBER:
            return _Order(sql.number, _known(catalog, number_index_name(key)), desc, sql.params)
        if index is PropertyKind.TEXT:
            return _Order(f"{sql.value} COLLATE NOCASE", _known(catalog, text_index_name(key)), desc, sql.params)
        if catalog.kind(key) is PropertyKind.NUMBER:
            return _Order(sql.number, None, desc, sql.params)
        return _Order(f"{sql.value} COLLATE NOCASE", None, desc, sql.params)

    def _total(self, raw: sqlite3.Connection) -> int:
        """How many end users there are, as of the last sample (refreshed with it)."""
        self._sample_ids(raw)
        with self._lock:
            return self._sample_total

    def _sample_ids(self, raw: sqlite3.Connection) -> str:
        """About 1,000 ids spread over the id range, as JSON (refreshed every 30 s)."""
        now = time.monotonic()
        with self._lock:
            if self._sample and now - self._sample[0] < _SAMPLE_TTL:
                return self._sample[1]
        ids = spread_ids(raw, _SAMPLE_IDS)
        total = raw.execute("SELECT count(*) FROM end_user").fetchone()[0]
        sample = json.dumps(ids)
        with self._lock:
            self._sample, self._sample_total = (now, sample), total
        return sample

    def _shares(self, raw: sqlite3.Connection, pieces: list[str], params: dict[str, Any]) -> list[float]:
        """The share of a sample of end users each piece of SQL matches, in one pass."""
        sums = ", ".join(f"total(({piece}) IS 1)" for piece in pieces)
        row = raw.execute(
            f"SELECT count(*), {sums} FROM end_user NOT INDEXED "
            "WHERE id IN (SELECT value FROM json_each(:_sample))",
            {**params, "_sample": self._sample_ids(raw)},
        ).fetchone()
        return [hits / row[0] if row[0] else 0.0 for hits in row[1:]]

    def _index_served(self, raw: sqlite3.Connection, where: str, params: dict[str, Any],
                      hint: str | None = None) -> bool:
        """Whether SQLite finds the rows of `where` through an index (the hinted one, if any)."""
        source = f'end_user INDEXED BY "{hint}"' if hint else "end_user"
        try:
            plan = raw.execute(f"EXPLAIN QUERY PLAN SELECT 1 FROM {source} WHERE {where}", params).fetchall()
        except sqlite3.OperationalError:  # "no query solution": the hinted index cannot help
            return False
        return any(str(row[3]).startswith(("SEARCH end_user", "MULTI-INDEX OR")) for row in plan)

    def _plan(self, raw: sqlite3.Connection, node: FilterNode, order: _Order | None,
              wanted: int | None, walk: bool | None = None, one_statement: bool = False) -> _Plan:
        """Choose how to read a filter's rows; `wanted` rows from the start of the order (a
        page), or None for all of them. Shares come from a ~1,000-row sample (a few ms).

        - A page walks the sort's index unless an index finds the matches in a short range;
          `page` gives the walk WALK_BUDGET_S and then finds the rows first instead. All rows
          walk when most of them match; a `one_statement` walk turns index-served parts into
          rowid lists.
        - Otherwise find the rows first. Of the AND-ed parts an index serves, the rarest
          drives; others become rowid lists (`+id IN (SELECT id ...)`) when building the list
          costs less than reading the driver's rows. SQLite's planner never picks a property
          index for a range (it has no statistics for it), so property indexes are named.
          Rare free text scans the small email index instead of the table. The sort index is
          kept out of reach (`+key`) so SQLite does not walk it looking for rare rows.
        """
        compiler = SqlCompiler(self._context(raw, node))
        params = compiler.params
        sortable = order is not None and order.index is not None
        natural = order.sql if order else ""
        if isinstance(node, MatchAll):
            return _Plan(order.source() if sortable else "end_user", "1", params, natural, sortable)
        catalog = self._refresh_catalog(raw)
        conjuncts = list(node.children) if isinstance(node, And) else [node]
        inner = [compiler.node(c.child if isinstance(c, Not) else c) for c in conjuncts]
        pieces = [f"({sql}) IS NOT 1" if isinstance(c, Not) else sql for c, sql in zip(conjuncts, inner)]
        whole = " AND ".join(f"({p})" for p in pieces)
        shares = self._shares(raw, [*pieces, whole], params)
        share = shares[-1]
        hints = [_index_hint(c.child if isinstance(c, Not) else c, catalog) for c in conjuncts]
        served: list[str | None] = []  # "" = the planner finds an index itself; a name = hint it
        for sql, hint in zip(inner, hints):
            if self._index_served(raw, sql, params):
                served.append("")
            elif hint and self._index_served(raw, sql, params, hint):
                served.append(hint)
            else:
                served.append(None)
        driver = min((i for i, c in enumerate(conjuncts) if served[i] is not None and not isinstance(c, Not)),
                     key=lambda i: shares[i], default=None)
        if walk is None:
            if wanted is None:  # every match: walking pays when most rows match anyway
                walk = sortable and share >= WALK_ALL_SHARE
            else:  # a page: walk (time-boxed by `page`) unless a small index range has the rows
                few = driver is not None and shares[driver] * self._total(raw) <= FILTER_FIRST_ROWS
                walk = sortable and not few

        full_walk = bool(walk and sortable and wanted is None and one_statement)
        if walk and sortable and not full_walk:
            return _Plan(order.source(), whole, params, natural, True, share)
        terms = []
        for i, conjunct in enumerate(conjuncts):
            negated = isinstance(conjunct, Not)
            listed = served[i] is not None and (full_walk or i != driver and (
                driver is None or shares[i] <= LIST_SHARE_RATIO * max(shares[driver], 1 / _SAMPLE_IDS)))
            if listed:
                hint = f' INDEXED BY "{served[i]}"' if served[i] else ""
                terms.append(f"+id {'NOT ' if negated else ''}IN (SELECT id FROM end_user{hint} WHERE {inner[i]})")
            else:
                terms.append(f"({pieces[i]})")
        if full_walk:  # every row of the sort index is visited: probe lists, never read rows
            return _Plan(order.source(), " AND ".join(terms), params, natural, True, share)
        hidden = order.hidden_sql if sortable else natural
        rare_text = any(isinstance(c, FreeText) and shares[i] <= FREE_TEXT_INDEX_SHARE
                        for i, c in enumerate(conjuncts))
        if rare_text and EMAIL_INDEX in catalog.indexes and (driver is None or shares[driver] >= TEXT_SCAN_SHARE):
            # Scanning the small email index (it holds external_id too) beats reading a large
            # driver's rows; the other parts are checked on the few rows the text leaves.
            return _Plan(f"end_user INDEXED BY {EMAIL_INDEX}", whole, params, hidden)
        source = "end_user"
        if driver is not None and sortable and hints[driver] == order.index:
            source, hidden = order.source(), natural  # the driver's index is the sort's: in order
        elif driver is not None and served[driver]:
            source = f'end_user INDEXED BY "{served[driver]}"'
        return _Plan(source, " AND ".join(terms), params, hidden)

    def _count(self, raw: sqlite3.Connection, node: FilterNode) -> int:
        if isinstance(node, MatchAll):
            return raw.execute("SELECT count(*) FROM end_user").fetchone()[0]
        if isinstance(node, Not):
            # "everything but X" counts as total minus X: X usually has an index, NOT X never.
            return self._count(raw, MatchAll()) - self._count(raw, node.child)
        plan = self._plan(raw, node, None, None)
        return raw.execute(f"SELECT count(*) FROM {plan.source} WHERE {plan.where}", plan.params).fetchone()[0]

    def _ids(self, raw: sqlite3.Connection, node: FilterNode, sort: SortSpec) -> array.array[int]:
        order = self._order(raw, sort)
        plan = self._plan(raw, node, order, None, one_statement=True)
        cursor = raw.execute(f"SELECT id FROM {plan.source} WHERE {plan.where} ORDER BY {plan.order}",
                             {**plan.params, **order.params})
        out = array.array("q")
        while chunk := cursor.fetchmany(50_000):
            out.extend([i for (i,) in chunk])
        return out

    def _page_rows(self, raw: sqlite3.Connection, plan: _Plan, extra: dict[str, Any],
                   budget: float | None) -> list[Any] | None:
        sql = (f"SELECT {_ROW_SQL} FROM {plan.source} WHERE {plan.where} ORDER BY {plan.order} "
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
                f"SELECT {_ROW_SQL} FROM end_user WHERE id IN (SELECT value FROM json_each(?))", (chunk,)
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

    def _keyset(self, raw: sqlite3.Connection, plan: _Plan, order: _Order,
                batch_size: int) -> Iterator[list[ResultRow]]:
        """Rows in order, a batch per keyset page (see `_keyset_pages`)."""
        def fetch(tail: str, params: dict[str, Any]) -> list[Any]:
            return raw.execute(f"SELECT {_ROW_SQL}, {order.expr} FROM {plan.source} {tail}", params).fetchall()

        for rows in _keyset_pages(plan, order, batch_size, fetch, lambda row: (row[15], row[0])):
            yield [ResultRow.from_sql(r) for r in rows]

    def _tuple_batches(self, node: FilterNode, sort: SortSpec, select: _TupleSelect, batch_size: int,
                       ids: Sequence[int] | None) -> Iterator[list[tuple[Any, ...]]]:
        """`iter_rows`' way of reading, for `iter_tuples`."""
        with self._read(snapshot=True) as raw:
            if ids is not None:
                yield from self._tuples_by_id(raw, ids, select, batch_size)
                return
            order = self._order(raw, sort)
            plan = self._plan(raw, node, order, None)
            if plan.walks_sort_index:
                yield from self._keyset_tuples(raw, plan, order, select, batch_size)
            else:
                yield from self._tuples_by_id(raw, self._ids(raw, node, sort), select, batch_size)

    def _tuples_by_id(self, raw: sqlite3.Connection, ids: Sequence[int], select: _TupleSelect,
                      batch_size: int) -> Iterator[list[tuple[Any, ...]]]:
        """`_batches_by_id` for `iter_tuples`: rows in the order of `ids`, missing ids skipped."""
        for start in range(0, len(ids), batch_size):
            chunk = json.dumps([int(i) for i in ids[start:start + batch_size]])
            rows = select.fetch(
                raw, "", "FROM json_each(:_ids) AS picked CROSS JOIN end_user "
                "ON end_user.id = picked.value ORDER BY picked.key", {"_ids": chunk},
            )
            if rows:
                yield rows

    def _keyset_tuples(self, raw: sqlite3.Connection, plan: _Plan, order: _Order, select: _TupleSelect,
                       batch_size: int) -> Iterator[list[tuple[Any, ...]]]:
        """`_keyset` for `iter_tuples`: the same (key, id) pages, rows as plain tuples."""
        key = order.expr
        # Each page starts after the last row's (key, id): taken from the row when both are
        # columns asked for (an email, a date, the id), else selected after the columns.
        id_at = select.position("id")
        key_at = id_at if key == "id" else select.position(key.removesuffix(" COLLATE NOCASE"))
        inline = id_at is not None and key_at is not None
        if id_at is None or key_at is None:
            key_at, id_at = -1, -2
        width = select.width

        def fetch(tail: str, params: dict[str, Any]) -> list[Any]:
            return select.fetch(raw, "" if inline else f", end_user.id, {key}",
                                f"FROM {plan.source} {tail}", params)

        for rows in _keyset_pages(plan, order, batch_size, fetch, lambda row: (row[key_at], row[id_at])):
            yield rows if inline else [row[:width] for row in rows]

    def _values_by_index(self, raw: sqlite3.Connection, key: str, limit: int) -> list[tuple[str, int]]:
        sample = self._sample_ids(raw)
        texts = [t for (t,) in raw.execute(
            "SELECT properties_json FROM end_user WHERE id IN (SELECT value FROM json_each(?))", (sample,))]
        counted = []
        for value, _ in _tally(texts, key, max(limit * 2, 20)):
            node = Equals(PropertyField(key), (Text((value,)),))
            counted.append((value, self._count(raw, node)))
        counted.sort(key=lambda pair: (-pair[1], _ascii_lower(pair[0])))
        return [pair for pair in counted if pair[1] > 0][:limit]


def _index_hint(node: FilterNode, catalog: PropertyCatalog) -> str | None:
    """The property index that could find a node's rows, if it has one."""
    target = getattr(node, "target", None)
    if isinstance(node, Or):
        hints = {_index_hint(child, catalog) for child in node.children}
        return hints.pop() if len(hints) == 1 else None
    if not isinstance(target, PropertyField):
        return None
    kind = catalog.index_for(target.key)
    if kind is PropertyKind.NUMBER:
        return number_index_name(target.key)
    return text_index_name(target.key) if kind is PropertyKind.TEXT else None


def _known(catalog: PropertyCatalog, index: str) -> str | None:
    return index if index in catalog.indexes else None


def _and(node: FilterNode, extra: FilterNode) -> FilterNode:
    if isinstance(node, MatchAll):
        return extra
    return And((*node.children, extra) if isinstance(node, And) else (node, extra))


def _property_keys(node: FilterNode) -> Iterator[str]:
    if isinstance(node, (And, Or)):
        for child in node.children:
            yield from _property_keys(child)
    elif isinstance(node, Not):
        yield from _property_keys(node.child)
    else:
        target = getattr(node, "target", None)
        if isinstance(target, PropertyField):
            yield target.key


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
        value = _properties(text).get(key)
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


# -- iter_tuples -------------------------------------------------------------------------------
TUPLE_COLUMNS = frozenset(_COLUMN_KEYS | {"settings_json", "properties_json"})
PROPERTY_TOKEN_PREFIX = "prop:"
# Keys SQLite's JSON path `$."key"` finds exactly: no double quote (a path cannot spell one)
# and nothing a JSON writer escapes (SQLite compares keys as written, escapes and all).
_TOKEN_KEY = re.compile(r'[^"\\\x00-\x1f\ud800-\udfff]*')


def property_token_key(key: str) -> bool:
    """Whether `iter_tuples` can take the property `key` out of `properties_json` in SQL."""
    return _TOKEN_KEY.fullmatch(key) is not None


def properties_from_json(text: str | None) -> dict[str, Any]:
    """A `properties_json` text decoded exactly as `ResultRow.properties` is ({} if unreadable)."""
    return _properties(text)


class _TupleSelect:
    """The SELECT list of `iter_tuples`, and how a batch is read again when SQLite meets a
    `properties_json` it cannot parse (the property texts then come from Python's decoding)."""

    def __init__(self, columns: Sequence[str]) -> None:
        if not columns:
            raise ValueError("iter_tuples needs at least one column")
        sql: list[str] = []
        self.params: dict[str, str] = {}
        self._tokens: list[tuple[int, str]] = []  # (position, key) of each property text
        for position, column in enumerate(columns):
            key = column[len(PROPERTY_TOKEN_PREFIX):]
            if column in TUPLE_COLUMNS:
                sql.append(f"end_user.{column}")
            elif column.startswith(PROPERTY_TOKEN_PREFIX) and property_token_key(key):
                name = f"_tk{position}"
                self.params[name] = '$."' + key + '"'
                sql.append(f"end_user.properties_json -> :{name}")
                self._tokens.append((position, key))
            else:
                raise ValueError(f"iter_tuples cannot read the column {column!r}")
        self.columns = tuple(columns)
        self.width = len(sql)
        self.sql = ", ".join(sql)
        tokens = {position for position, _ in self._tokens}
        self._fallback_sql = ", ".join("NULL" if i in tokens else e for i, e in enumerate(sql))

    def position(self, column: str) -> int | None:
        """Where the stored column `column` is in each row, if it was asked for."""
        return self.columns.index(column) if column in TUPLE_COLUMNS and column in self.columns else None

    def fetch(self, raw: sqlite3.Connection, extra: str, tail: str,
              params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Every row of `SELECT <columns><extra> <tail>`."""
        try:
            return raw.execute(f"SELECT {self.sql}{extra} {tail}", {**params, **self.params}).fetchall()
        except sqlite3.OperationalError as error:
            if not self._tokens or "malformed JSON" not in str(error):
                raise
        # Hand-made or damaged JSON in this batch: read it again, decoding the Python way.
        rows = raw.execute(f"SELECT {self._fallback_sql}{extra}, end_user.properties_json {tail}", params)
        return [self._filled(row) for row in rows]

    def _filled(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        document = _properties(row[-1])
        values = list(row[:-1])
        for position, key in self._tokens:
            if key in document:
                values[position] = json.dumps(document[key])
        return tuple(values)
