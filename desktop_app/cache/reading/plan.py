"""How a read runs: the resolved sort (`Order`), the plan (`Plan`), the choice between them
(`QueryPlanner`: which index finds or orders the rows, from a sample's shares and SQLite's own
EXPLAIN QUERY PLAN) and keyset paging along the sort's index (`keyset_pages`).

`EndUserQuery` owns the connection and the snapshot; the planner only reads through what it is
given, and keeps the property catalog and the id sample between reads.
"""

from __future__ import annotations

import difflib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import Any, cast

from desktop_app.cache.filters.language import (
    And,
    Between,
    Compare,
    CompileContext,
    Equals,
    FieldKind,
    FilterNode,
    FreeText,
    FilterError,
    Has,
    InList,
    MatchAll,
    Not,
    Or,
    PropertyField,
    SeedField,
    SqlCompiler,
    StateIs,
    Text,
)
from desktop_app.cache.indexes.expressions import (
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
from desktop_app.cache.reading.list_match import saved_list_names
from desktop_app.cache.reading.results import SortSpec
from desktop_app.cache.indexes.history import HISTORY_INDEX_TABLES
from desktop_app.cache.indexes.properties import OTHER, PROPERTY_INDEX
from desktop_app.cache.indexes.search import TEXT_INDEX, text_match
from desktop_app.clock import Clock
from desktop_app.fields import FIELDS_BY_KEY, property_key

FILTER_FIRST_ROWS = 20_000  # a page finds and sorts its rows first when an index gives this few
WALK_ALL_SHARE = 0.3  # all rows walk the sort's index when at least this share of them match
FREE_TEXT_INDEX_SHARE = 0.05  # scan the email/external-id index when free text is this rare
TEXT_SCAN_SHARE = 0.1  # ... and prefer that scan to an indexed driver matching this share or more
TEXT_INDEX_SHARE = 0.1  # free text this rare or rarer is found through the trigram index ...
TEXT_INDEX_PAGE_ROWS = 5_000  # ... and, for a page that could walk the sort's index, this few rows
LOOKUP_PAGE_ROWS = 5_000  # ... and, for a page that could walk the sort's index, this few rows
PROPERTY_LOOKUP_RATIO = 1.0  # side tables unless another part matches this times fewer rows
LIST_SHARE_RATIO = 4.0  # a rowid list may be this many times the driver's rows, else re-check rows
# A plain column read off a row costs far less than a property's JSON: such a part is listed only
# when it is this much rarer than the driver (at 1M, `plan:pro last_surveyed:>1y` counted in
# 460-700 ms through a list of 400k dates and 160-360 ms checking them on the plan index's rows)
COLUMN_LIST_RATIO = 0.25
COLUMN_DRIVER_RATIO = 2.0  # ... and a property part up to this times as common drives instead
_SAMPLE_IDS = 1000
_SAMPLE_TTL = 30.0


@dataclass(frozen=True, slots=True)
class Order:
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
class Plan:
    """How one read runs: FROM clause (with any index hint), WHERE, ORDER BY."""

    source: str
    where: str
    params: dict[str, Any]
    order: str
    walks_sort_index: bool = False
    share: float = 1.0  # of a sample of end users that match


def keyset_pages(
    plan: Plan, order: Order, batch_size: int,
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


class QueryPlanner:
    """Chooses how each read runs; one per `EndUserQuery`, safe to share between its threads."""

    def __init__(self, clock: Clock, zone: tzinfo) -> None:
        self._clock = clock
        self._zone = zone
        self._lock = threading.Lock()
        self._catalog: PropertyCatalog | None = None
        self._schema_version = -1
        self._sample: tuple[float, str] | None = None  # (taken at, JSON list of ids)
        self._sample_total = 0

    def catalog(self, raw: sqlite3.Connection) -> PropertyCatalog:
        """The property catalog, read again whenever the schema changed (an index came or went)."""
        version = raw.execute("PRAGMA schema_version").fetchone()[0]
        with self._lock:
            if self._catalog is not None and version == self._schema_version:
                return self._catalog
        catalog = read_catalog(raw, sample_properties(raw, 500))
        with self._lock:
            self._catalog, self._schema_version = catalog, version
        return catalog

    def _context(self, raw: sqlite3.Connection, node: FilterNode | None = None) -> CompileContext:
        if node is not None:
            check_lists(raw, node)
        catalog = self.catalog(raw)
        array_free = set()
        for key in set(property_keys(node)) if node is not None else ():
            if catalog.index_for(key) is PropertyKind.TEXT:
                # Arrays come back as JSON text starting with '[': one short index range.
                value = property_sql(key).value
                if not raw.execute(
                    f"SELECT EXISTS (SELECT 1 FROM end_user WHERE {value} COLLATE NOCASE >= '[' "
                    f"AND {value} COLLATE NOCASE < '\\' AND {property_sql(key).type} = 'array')"
                ).fetchone()[0]:
                    array_free.add(key)
            elif (
                catalog.index_for(key) is None and PROPERTY_INDEX in catalog.search
                and not raw.execute(
                    f"SELECT EXISTS (SELECT 1 FROM {PROPERTY_INDEX} WHERE key = ? "
                    f"AND kind = {OTHER} AND val = 'array')", (key,)).fetchone()[0]
            ):
                array_free.add(key)
        history_index = raw.execute(
            f"SELECT count(*) FROM sqlite_master WHERE name IN ({', '.join('?' for _ in HISTORY_INDEX_TABLES)})",
            HISTORY_INDEX_TABLES).fetchone()[0] == len(HISTORY_INDEX_TABLES)
        return CompileContext(self._clock.now(), self._zone, catalog, frozenset(array_free),
                              history_index=history_index)

    def order(self, raw: sqlite3.Connection, sort: SortSpec) -> Order:
        """`sort` as SQL, with the index that serves it if there is one."""
        catalog = self.catalog(raw)
        column, desc = sort.column, sort.descending
        if column == "id":
            return Order("id", "rowid", desc, {})
        if column == "email":
            return Order("email COLLATE NOCASE", _known(catalog, EMAIL_INDEX), desc, {})
        key = property_key(column)
        history = FIELDS_BY_KEY[column].history_sql if column in FIELDS_BY_KEY else ""
        if history:  # read per row from the survey history: no index of end_user orders it
            return Order(history, None, desc, {})
        if key is None:
            return Order(column, _known(catalog, f"ix_end_user_{column}"), desc, {})
        sql = property_sql(key, "_sort_key")
        index = catalog.index_for(key) if sql.indexable else None
        if index is PropertyKind.NUMBER:
            return Order(sql.number, _known(catalog, number_index_name(key)), desc, sql.params)
        if index is PropertyKind.TEXT:
            return Order(f"{sql.value} COLLATE NOCASE", _known(catalog, text_index_name(key)), desc, sql.params)
        if catalog.kind(key) is PropertyKind.NUMBER:
            return Order(sql.number, None, desc, sql.params)
        return Order(f"{sql.value} COLLATE NOCASE", None, desc, sql.params)

    def _total(self, raw: sqlite3.Connection) -> int:
        """How many end users there are, as of the last sample (refreshed with it)."""
        self.sample_ids(raw)
        with self._lock:
            return self._sample_total

    def sample_ids(self, raw: sqlite3.Connection) -> str:
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
            {**params, "_sample": self.sample_ids(raw)},
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

    def plan(self, raw: sqlite3.Connection, node: FilterNode, order: Order | None,
              wanted: int | None, walk: bool | None = None, one_statement: bool = False) -> Plan:
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
        sort = cast(Order, order)  # read only where `sortable`, which implies an order
        natural = order.sql if order else ""
        if isinstance(node, MatchAll):
            return Plan(sort.source() if sortable else "end_user", "1", params, natural, sortable)
        catalog = self.catalog(raw)
        conjuncts: list[FilterNode] = list(node.children) if isinstance(node, And) else [node]
        inner, pieces, whole = _compile(compiler, conjuncts)
        # The sample (and a walk along the sort's index) checks few rows: history terms probe
        # each row's own summary rather than listing every match first.
        probe = SqlCompiler(replace(compiler.context, history_probe=True))
        _, probe_pieces, probe_whole = _compile(probe, conjuncts)
        shares = self._shares(raw, [*probe_pieces, probe_whole], probe.params)
        share = shares[-1]
        page_may_walk = wanted is not None and sortable and walk is not False
        text_index = self._text_index_pays(raw, catalog, conjuncts, shares, page_may_walk)
        property_index = self._property_index_pays(raw, compiler.context, conjuncts, shares, page_may_walk)
        if text_index or property_index:
            # The same filter, its free text or properties found through the search indexes
            # (shares stay: both spellings match the same rows).
            compiler = SqlCompiler(replace(compiler.context, text_index=text_index, property_index=property_index))
            params = compiler.params
            inner, pieces, whole = _compile(compiler, conjuncts)
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
        column = [_column_check(c) for c in conjuncts]
        if driver is not None and column[driver]:
            # a property part about as common drives (through its own index: SQLite would take
            # the column's), so the column is checked on its rows
            driver = min((i for i, c in enumerate(conjuncts) if served[i] is not None and hints[i]
                          and not column[i] and not isinstance(c, Not)
                          and shares[i] <= COLUMN_DRIVER_RATIO * shares[driver]
                          and (served[i] or self._index_served(raw, inner[i], params, hints[i]))),
                         key=lambda i: shares[i], default=driver)
            if not column[driver]:
                served[driver] = hints[driver]
        if walk is None:
            if wanted is None:  # every match: walking pays when most rows match anyway
                walk = sortable and share >= WALK_ALL_SHARE
            else:  # a page: walk (time-boxed by `page`) unless a small index range has the rows
                few = driver is not None and shares[driver] * self._total(raw) <= FILTER_FIRST_ROWS
                walk = sortable and not few

        full_walk = bool(walk and sortable and wanted is None and one_statement)
        if walk and sortable and not full_walk:
            walker = SqlCompiler(replace(compiler.context, history_probe=True))
            _, _, walked = _compile(walker, conjuncts)
            return Plan(sort.source(), walked, walker.params, natural, True, share)
        terms = []
        for i, conjunct in enumerate(conjuncts):
            negated = isinstance(conjunct, Not)
            if column[i] and driver is not None and not column[driver]:  # the list's own length
                share_i, ratio = (1 - shares[i] if negated else shares[i]), COLUMN_LIST_RATIO
            else:
                share_i, ratio = shares[i], LIST_SHARE_RATIO
            listed = served[i] is not None and (full_walk or i != driver and (
                driver is None or share_i <= ratio * max(shares[driver], 1 / _SAMPLE_IDS)))
            if listed:
                hint = f' INDEXED BY "{served[i]}"' if served[i] else ""
                terms.append(f"+id {'NOT ' if negated else ''}IN (SELECT id FROM end_user{hint} WHERE {inner[i]})")
            else:
                terms.append(f"({pieces[i]})")
        if full_walk:  # every row of the sort index is visited: probe lists, never read rows
            return Plan(sort.source(), " AND ".join(terms), params, natural, True, share)
        hidden = sort.hidden_sql if sortable else natural
        rare_text = any(isinstance(c, FreeText) and shares[i] <= FREE_TEXT_INDEX_SHARE
                        for i, c in enumerate(conjuncts))
        if rare_text and not compiler.context.text_index and EMAIL_INDEX in catalog.indexes and (driver is None or shares[driver] >= TEXT_SCAN_SHARE):
            # Scanning the small email index (it holds external_id too) beats reading a large
            # driver's rows; the other parts are checked on the few rows the text leaves.
            return Plan(f"end_user INDEXED BY {EMAIL_INDEX}", whole, params, hidden)
        source = "end_user"
        if driver is not None and sortable and hints[driver] == sort.index:
            source, hidden = sort.source(), natural  # the driver's index is the sort's: in order
        elif driver is not None and served[driver]:
            source = f'end_user INDEXED BY "{served[driver]}"'
        return Plan(source, " AND ".join(terms), params, hidden)


    def _text_index_pays(self, raw: sqlite3.Connection, catalog: PropertyCatalog, conjuncts: list[FilterNode],
                         shares: list[float], page_may_walk: bool) -> bool:
        """Whether free text should go through the trigram index: when it is built, some text
        is long enough for it, and its rows are few enough that reading them by id beats the
        scan (or, for a page that may walk the sort's index, beats finding a common fragment
        on the walk)."""
        if TEXT_INDEX not in catalog.search:
            return False
        found = [shares[i] for i, c in enumerate(conjuncts) if not isinstance(c, Not) and _indexable_text(c)]
        if not found:
            return False
        if page_may_walk:
            return min(found) * self._total(raw) <= TEXT_INDEX_PAGE_ROWS
        return min(found) <= TEXT_INDEX_SHARE


    def _property_index_pays(self, raw: sqlite3.Connection, context: CompileContext, conjuncts: list[FilterNode],
                             shares: list[float], page_may_walk: bool) -> bool:
        """Whether properties without an expression index should be looked up in the side
        tables: when they are built and such a property is the rarest part of the filter (a
        lookup lists all its ids; a rarer part is better checked row by row), and, for a page
        that may walk the sort's index, its rows are few."""
        if PROPERTY_INDEX not in context.catalog.search:
            return False
        probe = SqlCompiler(replace(context, property_index=True))
        found = [shares[i] for i, c in enumerate(conjuncts) if not isinstance(c, Not) and _looked_up(c, probe)]
        if not found:
            return False
        others = [shares[i] for i, c in enumerate(conjuncts) if not isinstance(c, Not) and not _looked_up(c, probe)]
        if others and min(others) * PROPERTY_LOOKUP_RATIO < min(found):
            return False
        return not page_may_walk or min(found) * self._total(raw) <= LOOKUP_PAGE_ROWS

    def lookup_count(self, raw: sqlite3.Connection, node: FilterNode) -> tuple[str, dict[str, Any]] | None:
        """A count that reads only the side tables, for a filter that is one property
        condition looked up there (None otherwise)."""
        if not isinstance(node, (Has, Equals, Compare, Between)) or not isinstance(node.target, PropertyField):
            return None
        context = self._context(raw, node)
        if PROPERTY_INDEX not in context.catalog.search:
            return None
        compiler = SqlCompiler(replace(context, property_index=True))
        if not compiler.looks_up(node.target.key):
            return None
        sql = compiler.lookup(node)
        # Without array elements each end user has one top-level value per key, which matches
        # at most one arm (unless two text patterns both match it): no DISTINCT, which would
        # sort every id.
        top_only = not isinstance(node, Equals) or (node.target.key in context.array_free and sum(
            1 for v in node.values if isinstance(v, Text) and not v.literal) <= (0 if any(
                isinstance(v, Text) and v.literal for v in node.values) else 1))
        return f"SELECT count({'*' if top_only else 'DISTINCT end_user_id'}) FROM ({sql})", compiler.params


def check_lists(raw: sqlite3.Connection, node: FilterNode) -> None:
    """Raise FilterError for a `list:` term that names no kept list (in this read's snapshot)."""
    wanted = list(list_terms(node))
    if not wanted:
        return
    names = saved_list_names(raw)
    known = {_nocase(name) for name in names}  # as saved_list.name compares
    for term in wanted:
        if _nocase(term.name) in known:
            continue
        close = difflib.get_close_matches(term.name, names, n=1, cutoff=0.6)
        if close:
            hint = f" — did you mean list:{_spelled(close[0])}?"
        elif names:
            hint = f" — kept lists: {', '.join(_spelled(n) for n in names[:5])}{' …' if len(names) > 5 else ''}"
        else:
            hint = " — no list has been kept yet"
        raise FilterError(f"No kept list is named '{term.name}'{hint}", term.position)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _nocase(text: str) -> str:
    return text.translate(_ASCII_LOWER)  # SQLite's NOCASE folds A-Z only


def _spelled(name: str) -> str:
    """A list name as it is typed in a term: quoted when it holds spaces or special characters."""
    plain = name and not any(c.isspace() or c in '():"|' for c in name)
    return name if plain else '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def list_terms(node: FilterNode) -> Iterator[InList]:
    """The `list:` terms of a filter, once per mention."""
    if isinstance(node, (And, Or)):
        for child in node.children:
            yield from list_terms(child)
    elif isinstance(node, Not):
        yield from list_terms(node.child)
    elif isinstance(node, InList):
        yield node


def _looked_up(node: FilterNode, probe: SqlCompiler) -> bool:
    """True when a node holds a property condition the side tables answer."""
    if isinstance(node, (And, Or)):
        return any(_looked_up(c, probe) for c in node.children)
    if isinstance(node, Not):
        return _looked_up(node.child, probe)
    target = getattr(node, "target", None)
    return isinstance(target, PropertyField) and probe.looks_up(target.key)


def _compile(compiler: SqlCompiler, conjuncts: list[FilterNode]) -> tuple[list[str], list[str], str]:
    """Each conjunct's SQL (a negation's child bare), the pieces as filters, and all of them AND-ed."""
    inner = [compiler.node(c.child if isinstance(c, Not) else c) for c in conjuncts]
    pieces = [f"({sql}) IS NOT 1" if isinstance(c, Not) else sql for c, sql in zip(conjuncts, inner)]
    return inner, pieces, " AND ".join(f"({p})" for p in pieces)


def _column_check(node: FilterNode) -> bool:
    """True when a part reads only plain columns of a row (no JSON, no text pattern)."""
    if isinstance(node, Not):
        return _column_check(node.child)
    if isinstance(node, StateIs):
        return True
    target = getattr(node, "target", None)
    return isinstance(target, SeedField) and target.kind is not FieldKind.TEXT


def _indexable_text(node: FilterNode) -> bool:
    """True when a node holds free text the trigram index can look up."""
    if isinstance(node, FreeText):
        return text_match([node.text]) is not None
    if isinstance(node, (And, Or)):
        return any(_indexable_text(c) for c in node.children)
    return isinstance(node, Not) and _indexable_text(node.child)


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


def property_keys(node: FilterNode) -> Iterator[str]:
    """The property keys a filter names, once per mention."""
    if isinstance(node, (And, Or)):
        for child in node.children:
            yield from property_keys(child)
    elif isinstance(node, Not):
        yield from property_keys(node.child)
    else:
        target = getattr(node, "target", None)
        if isinstance(target, PropertyField):
            yield target.key
