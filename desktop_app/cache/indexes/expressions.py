"""Query indexes on `end_user` and the SQL expressions they index (shared with the filter compiler).

Property values live in `properties_json`; SQLite uses an index on an expression only when a
query spells the very same expression, so `property_sql` is the single source of both the index
definitions and the filter SQL. A key goes into SQL text only when it matches `SAFE_KEY` (no
quotes, no backslash: nothing can break out of the literal); any other key is a bound parameter
read through `json_each`, which no index serves but which is always correct.
"""

from __future__ import annotations

import enum
import json
import logging
import math
import re
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from desktop_app.cache.indexes.properties import refresh_property_triggers
from desktop_app.cache.indexes.search import complete_indexes

log = logging.getLogger(__name__)

SAFE_KEY = re.compile(r"^[\w][\w .\-@/]{0,79}$")
TEXT_INDEX_PREFIX = "ix_q_pt_"  # + hex of the key: json_extract(...) COLLATE NOCASE
NUMBER_INDEX_PREFIX = "ix_q_pn_"  # + hex of the key: the guarded numeric value
# Email order (id as the tiebreak, so no sort step), email equality and prefixes, and free-text
# scans that never read the table (external_id rides along).
EMAIL_INDEX = "ix_q_email"
_OBSOLETE_INDEXES = ("ix_q_email_text",)

# Small partial indexes: they keep "is:conflict" fast and let the planner see that it is rare.
_FIXED_INDEXES = (
    f"CREATE INDEX IF NOT EXISTS {EMAIL_INDEX} ON end_user(email COLLATE NOCASE, id, external_id)",
    "CREATE INDEX IF NOT EXISTS ix_q_pending ON end_user(pending_count) WHERE pending_count > 0",
    "CREATE INDEX IF NOT EXISTS ix_q_conflict ON end_user(has_conflict) WHERE has_conflict = 1",
    "CREATE INDEX IF NOT EXISTS ix_q_deleted ON end_user(pending_delete) WHERE pending_delete = 1",
    "CREATE INDEX IF NOT EXISTS ix_q_erasure ON end_user(pending_delete) WHERE pending_delete = 2",
    "CREATE INDEX IF NOT EXISTS ix_q_disabled_by ON end_user(disabled_by) WHERE surveys_disabled = 1",
)
NUMERIC_SHARE = 0.8  # a key is numeric when this share of its sampled values are numbers
MIN_PRESENCE = 0.05  # keys rarer than this in the sample get no index of their own
SAMPLE_ROWS = 2000
_DISTINCT_CAP = 50  # more distinct text values than this in a sample: free-form, not a segment


class PropertyKind(enum.Enum):
    """How a property key's values look in a sample, which decides its index and sort order."""

    TEXT = "text"
    NUMBER = "number"


# The JSON number grammar with JSON whitespace around it: exactly what SQLite's json_valid()
# accepts as a number, so "1000" and " 1e3" are numbers and "007", "+1", "1." are text.
_JSON_NUMBER = re.compile(r"^[ \t\n\r]*-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?[ \t\n\r]*$")


def is_number_text(value: str) -> bool:
    """True when a string property value counts as a number (it is a JSON number literal)."""
    return bool(_JSON_NUMBER.match(value))


def _sql_literal(text: str) -> str:
    # Only reached for SAFE_KEY keys; doubling quotes is still the complete SQLite escape.
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True, slots=True)
class PropertySql:
    """The SQL expressions for one property key, with any parameters they need."""

    key: str
    value: str  # json_extract(...): SQL value; arrays/objects come back as JSON text
    type: str  # json_type(...): 'text', 'integer', 'real', 'true', 'false', 'array', ...
    number: str  # REAL for numbers and numeric strings, NULL otherwise
    elements: str  # a table-valued source of the array's elements (rows with type, value)
    params: dict[str, Any] = field(default_factory=dict)
    indexable: bool = True  # False for keys passed as parameters


def property_sql(key: str, param_name: str = "k") -> PropertySql:
    """The expressions for `key`; inlined (index-matching) for safe keys, bound otherwise."""
    if SAFE_KEY.match(key):
        path = _sql_literal('$."' + key + '"')
        value = f"json_extract(properties_json, {path})"
        kind = f"json_type(properties_json, {path})"
        return PropertySql(
            key, value, kind, _number_sql(value, kind),
            f"json_each(properties_json, {path})",
        )
    name = f":{param_name}"
    value = f"(SELECT pj.value FROM json_each(end_user.properties_json) AS pj WHERE pj.key = {name})"
    kind = f"(SELECT pj.type FROM json_each(end_user.properties_json) AS pj WHERE pj.key = {name})"
    return PropertySql(
        key, value, kind, _number_sql(value, kind),
        f"json_each(CASE WHEN {kind} = 'array' THEN {value} ELSE '[]' END)",
        {param_name: key}, indexable=False,
    )


def _number_sql(value: str, kind: str) -> str:
    # Nested CASEs because json_type() raises on text that is not JSON; CASE never evaluates
    # the branch it does not take.
    return (
        f"(CASE {kind} WHEN 'integer' THEN CAST({value} AS REAL) WHEN 'real' THEN {value} "
        f"WHEN 'text' THEN (CASE WHEN json_valid({value}) THEN "
        f"(CASE WHEN json_type({value}) IN ('integer', 'real') THEN CAST({value} AS REAL) END) "
        f"END) END)"
    )


def text_index_name(key: str) -> str:
    return TEXT_INDEX_PREFIX + key.encode().hex()


def number_index_name(key: str) -> str:
    return NUMBER_INDEX_PREFIX + key.encode().hex()


def _key_from_index(name: str, prefix: str) -> str | None:
    try:
        return bytes.fromhex(name[len(prefix):]).decode()
    except (ValueError, UnicodeDecodeError):
        return None


@dataclass(frozen=True, slots=True)
class PropertyCatalog:
    """Which property keys have which query index, and which keys look numeric in a sample."""

    text_indexed: frozenset[str] = frozenset()
    number_indexed: frozenset[str] = frozenset()
    numeric_keys: frozenset[str] = frozenset()  # sampled values mostly numbers (sort numerically)
    indexes: frozenset[str] = frozenset()  # every index name on end_user
    search: frozenset[str] = frozenset()  # search indexes recorded as complete (search_index.py)

    def kind(self, key: str) -> PropertyKind:
        if key in self.number_indexed or (key in self.numeric_keys and key not in self.text_indexed):
            return PropertyKind.NUMBER
        return PropertyKind.TEXT

    def index_for(self, key: str) -> PropertyKind | None:
        if key in self.number_indexed:
            return PropertyKind.NUMBER
        if key in self.text_indexed:
            return PropertyKind.TEXT
        return None


@dataclass(frozen=True, slots=True)
class PropertySample:
    """Property keys seen in a sample of end users: how often, how numeric, how varied."""

    rows: int
    presence: dict[str, int]
    numeric: dict[str, int]
    arrays: dict[str, int] = field(default_factory=dict)
    distinct: dict[str, int] = field(default_factory=dict)  # distinct text values (capped)

    def numeric_keys(self) -> frozenset[str]:
        return frozenset(
            key for key, seen in self.presence.items()
            if seen and self.numeric.get(key, 0) / seen >= NUMERIC_SHARE
        )


def _raw(connection: Any) -> sqlite3.Connection:
    """The sqlite3 connection under a SQLAlchemy Connection (or the sqlite3 connection itself)."""
    if isinstance(connection, sqlite3.Connection):
        return connection
    dbapi = connection.connection.driver_connection  # SQLAlchemy Connection
    if not isinstance(dbapi, sqlite3.Connection):
        raise TypeError("query indexes need a SQLite connection")
    return dbapi


def spread_ids(connection: Any, count: int) -> list[int]:
    """About `count` existing ids spread evenly over the id range (a few ms at any size)."""
    raw = _raw(connection)
    # Two statements: SQLite answers a lone min() or max() from the end of the rowid tree, but
    # min() and max() together scan the whole table (170-400 ms at a million rows).
    low = raw.execute("SELECT min(id) FROM end_user").fetchone()[0]
    high = raw.execute("SELECT max(id) FROM end_user").fetchone()[0]
    if low is None:
        return []
    step = max(1.0, (high - low + 1) / max(1, count))
    targets = json.dumps(sorted({low + math.floor(n * step) for n in range(count) if low + n * step <= high}))
    found = raw.execute(
        "SELECT DISTINCT (SELECT id FROM end_user WHERE id >= t.value ORDER BY id LIMIT 1) "
        "FROM json_each(?) AS t", (targets,),
    ).fetchall()
    return sorted(i for (i,) in found if i is not None)


def sample_properties(connection: Any, rows: int = SAMPLE_ROWS) -> PropertySample:
    """Property keys of about `rows` end users spread over the id range (cheap at any size)."""
    raw = _raw(connection)
    ids = spread_ids(raw, rows)
    presence: Counter[str] = Counter()
    numeric: Counter[str] = Counter()
    arrays: Counter[str] = Counter()
    values: dict[str, set[str]] = {}
    for text, in raw.execute(
        "SELECT properties_json FROM end_user WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps(ids),),
    ):
        try:
            props = json.loads(text or "{}")
        except ValueError:
            continue
        if not isinstance(props, dict):
            continue
        for key, value in props.items():
            if value is None or value == "":
                continue
            presence[key] += 1
            if _looks_numeric(value):
                numeric[key] += 1
            elif isinstance(value, list):
                arrays[key] += 1
            elif isinstance(value, str):
                bucket = values.setdefault(key, set())
                if len(bucket) <= _DISTINCT_CAP:
                    bucket.add(value.lower())
    return PropertySample(
        len(ids), dict(presence), dict(numeric), dict(arrays),
        {k: len(v) for k, v in values.items()},
    )


def _looks_numeric(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, str) and is_number_text(value)


def read_catalog(connection: Any, sample: PropertySample | None = None) -> PropertyCatalog:
    """The property indexes that exist now (from `sqlite_master`), plus sampled numeric keys."""
    raw = _raw(connection)
    names = [
        name for (name,) in raw.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'end_user'"
        )
    ]
    text_keys = {_key_from_index(n, TEXT_INDEX_PREFIX) for n in names if n.startswith(TEXT_INDEX_PREFIX)}
    number_keys = {
        _key_from_index(n, NUMBER_INDEX_PREFIX) for n in names if n.startswith(NUMBER_INDEX_PREFIX)
    }
    return PropertyCatalog(
        text_indexed=frozenset(k for k in text_keys if k and SAFE_KEY.match(k)),
        number_indexed=frozenset(k for k in number_keys if k and SAFE_KEY.match(k)),
        numeric_keys=sample.numeric_keys() if sample else frozenset(),
        indexes=frozenset(names),
        search=complete_indexes(raw),
    )


@dataclass(frozen=True, slots=True)
class IndexReport:
    """What `ensure_query_indexes` did."""

    created: tuple[str, ...]
    property_keys: tuple[str, ...]  # keys that have a property index now
    analyzed: bool
    dropped: tuple[str, ...] = ()  # property indexes given up for keys people filter on instead


def choose_property_keys(
    sample: PropertySample, limit: int, already: Iterable[str] = ()
) -> list[str]:
    """Keys worth an index: the ones already indexed, then the likeliest filter targets.

    Segment-like keys rank first — numbers, dates and text with few distinct values (plan,
    region) — then free-form text; arrays never (an index cannot find elements). Within a
    rank, the more end users have the key the better; ties go by name.
    """
    chosen = [k for k in already if SAFE_KEY.match(k)]
    if sample.rows == 0:
        return chosen
    numeric = sample.numeric_keys()

    def rank(key: str) -> tuple[int, int, str]:
        varied = sample.distinct.get(key, 0) > _DISTINCT_CAP
        return (1 if varied and key not in numeric else 0, -sample.presence[key], key)

    candidates = sorted(
        (k for k, seen in sample.presence.items()
         if SAFE_KEY.match(k) and k not in chosen and seen / sample.rows >= MIN_PRESENCE
         and sample.arrays.get(k, 0) < seen / 2),
        key=rank,
    )
    return chosen + candidates[: max(0, limit - len(chosen))]


def _eligible(sample: PropertySample, key: str) -> bool:
    """A key an index can serve: seen in the sample, and mostly not arrays."""
    seen = sample.presence.get(key, 0)
    return bool(seen) and sample.arrays.get(key, 0) < seen / 2


def plan_preferred_keys(existing: Sequence[str], preferred: Sequence[str], limit: int,
                        sample: Callable[[], PropertySample]) -> tuple[list[str], list[str]]:
    """(keys to index, indexed keys to drop) when `preferred` keys (most wanted first) come first.

    Up to `limit` keys: the preferred keys an index can serve, then the keys indexed already
    (no churn while slots are free), then the sample's choice. An indexed key loses its index
    only to a preferred key. `sample` is called only when a key without an index is considered.
    """
    wanted = list(dict.fromkeys(k for k in preferred if SAFE_KEY.match(k)))
    chosen: list[str] = []
    taken: PropertySample | None = None
    for key in wanted:
        if len(chosen) >= limit:
            break
        if key not in existing:
            taken = taken or sample()
            if not _eligible(taken, key):
                continue
        chosen.append(key)
    chosen += [k for k in existing if k not in chosen][: max(0, limit - len(chosen))]
    if len(chosen) < limit:
        taken = taken or sample()
        if taken.rows:
            chosen = choose_property_keys(taken, limit, chosen)
    return chosen, [k for k in existing if k not in chosen]


def ensure_query_indexes(
    connection: Any,
    *,
    max_property_indexes: int = 2,
    property_keys: Sequence[str] | None = None,
    preferred_keys: Sequence[str] = (),
) -> IndexReport:
    """Create the query indexes that are missing; idempotent and cheap when nothing is missing.

    `connection` is a SQLAlchemy Connection or a sqlite3 Connection on the cache file. Property
    indexes go to at most `max_property_indexes` keys: the `preferred_keys` (what people filter
    and sort on, most wanted first), then keys indexed already, then the most common keys of a
    sample; an index is dropped only to make room for a preferred key. `property_keys` instead
    names exactly which keys get one (keeping all others). Each costs ingest time (see the
    README's "Filter language"), so the cap is deliberate. With an empty table no property
    index is made: the first big pull runs without them and the next call builds them in bulk,
    which is faster than maintaining them row by row.
    """
    raw = _raw(connection)
    refresh_property_triggers(raw)  # a file built by an older version: how edits keep it current
    before = read_catalog(raw)
    created: list[str] = []
    dropped: list[str] = []
    for name in _OBSOLETE_INDEXES:
        if name in before.indexes:
            raw.execute(f'DROP INDEX IF EXISTS "{name}"')
    for statement in _FIXED_INDEXES:
        name = statement.split(" IF NOT EXISTS ")[1].split(" ")[0]
        if name not in before.indexes:
            raw.execute(statement)
            created.append(name)
    existing = sorted(before.text_indexed | before.number_indexed)
    samples: list[PropertySample] = []

    def sample() -> PropertySample:
        # A few hundred random page reads: taken only when a key may be added.
        if not samples:
            samples.append(sample_properties(raw, 1000))
        return samples[0]

    if property_keys is None and preferred_keys:
        chosen, given_up = plan_preferred_keys(existing, preferred_keys, max_property_indexes, sample)
        for key in given_up:
            for name in (text_index_name(key), number_index_name(key)):
                if name in before.indexes:
                    raw.execute(f'DROP INDEX IF EXISTS "{name}"')
                    dropped.append(name)
        existing = [k for k in existing if k not in given_up]
        property_keys = [k for k in chosen if k not in existing]
    wanted = [k for k in property_keys if SAFE_KEY.match(k)] if property_keys is not None else None
    missing = [k for k in wanted if k not in existing] if wanted is not None else None
    if missing or (wanted is None and len(existing) < max_property_indexes):
        taken = sample()
        if taken.rows:  # an empty cache gets its property indexes after the first pull
            keys = missing if missing is not None else choose_property_keys(taken, max_property_indexes, existing)
            numeric = taken.numeric_keys()
            for key in keys:
                if key in existing or (wanted is None and not taken.presence.get(key)):
                    continue
                sql = property_sql(key)
                if key in numeric:
                    name = number_index_name(key)
                    raw.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON end_user({sql.number})')
                else:
                    name = text_index_name(key)
                    raw.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON end_user({sql.value} COLLATE NOCASE)')
                created.append(name)
    analyzed = False
    if created or dropped or _stats_stale(raw):
        # Cheap approximate statistics: enough for the planner to see that a partial index is
        # small and that a four-valued property index is not selective.
        raw.execute("PRAGMA analysis_limit = 1000")
        raw.execute("ANALYZE end_user")
        analyzed = True
    if created:
        log.info("created query indexes: %s", ", ".join(created))
    if dropped:
        log.info("dropped query indexes no longer filtered on: %s", ", ".join(dropped))
    after = read_catalog(raw)
    return IndexReport(
        tuple(created), tuple(sorted(after.text_indexed | after.number_indexed)), analyzed, tuple(dropped)
    )


def _stats_stale(raw: sqlite3.Connection) -> bool:
    """True when `sqlite_stat1` is missing for end_user or its row count is off by over 4x (estimates are rough)."""
    try:
        row = raw.execute(
            "SELECT stat FROM sqlite_stat1 WHERE tbl = 'end_user' AND idx IS NULL OR "
            "(tbl = 'end_user' AND idx = ?) LIMIT 1",
            (EMAIL_INDEX,),
        ).fetchone()
    except sqlite3.OperationalError:  # no sqlite_stat1 table yet
        row = None
    actual = raw.execute("SELECT count(*) FROM end_user").fetchone()[0]
    if row is None:
        return actual > 0
    recorded = int(str(row[0]).split()[0])
    return not (recorded / 4 <= actual <= recorded * 4 + 100)
