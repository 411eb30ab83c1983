"""The property index: every end user's property values in one key-first side table, so a
filter on any key (not only the two with an expression index) finds its rows by index.

`end_user_prop` (key, kind, val, end_user_id), a WITHOUT ROWID table keyed in that order, holds
per end user and key one row per thing a filter compares (`kind`):

- TEXT_TOP / TEXT_ELEMENT: a text value at the top level or as an array's element (val the
  text; NOCASE);
- TOP_NUMBER / TOP_NUMERIC_TEXT: a top-level JSON number, or top-level text that reads as one
  (val the number; ranges count both, equality only the first);
- ELEMENT_NUMBER: an array's number element (equality counts it);
- OTHER: a top-level true, false, array or object (val its JSON type);
- ELEMENT_BOOL: an array holds true or false (val which).

A key is set (`has:`) when it has a TEXT_TOP row other than "", a TOP_NUMBER or an OTHER row:
exactly one of them per end user.

The rows are computed by the same SQLite JSON functions as the filters' JSON expressions
(`filter_sql`), so a lookup answers exactly what those answer, and no row is read to check.
One statement per end user fills it (one pass over the JSON; a trigger removes the old rows
by recomputing them from the old JSON). Built and recorded like the text index
(`search_index.py`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

PROPERTY_INDEX = "end_user_prop"  # the table, and its name in the `search_index` record
TEXT_TOP, TEXT_ELEMENT, TOP_NUMBER, TOP_NUMERIC_TEXT, ELEMENT_NUMBER, OTHER, ELEMENT_BOOL = range(7)

_TABLE = (
    f"CREATE TABLE {PROPERTY_INDEX} (key TEXT NOT NULL, kind INTEGER NOT NULL, val NOT NULL COLLATE NOCASE, "
    "end_user_id INTEGER NOT NULL, PRIMARY KEY (key, kind, val, end_user_id)) WITHOUT ROWID"
)
_COLUMNS = "key, kind, val, end_user_id"
_TRIGGER_NAMES = tuple(f"{PROPERTY_INDEX}{suffix}" for suffix in ("_ai", "_ad", "_au"))  # as `_triggers` makes them
# For each top-level entry t (and each element e of an array), the rows of each kind k.
_VALUE = (
    f"CASE k.column1 WHEN {TEXT_TOP} THEN t.value WHEN {TEXT_ELEMENT} THEN e.value "
    f"WHEN {OTHER} THEN t.type WHEN {ELEMENT_BOOL} THEN e.type "
    f"WHEN {ELEMENT_NUMBER} THEN CAST(e.value AS REAL) ELSE CAST(t.value AS REAL) END"
)
_WHEN = (
    f"CASE k.column1 WHEN {TEXT_TOP} THEN e.id IS NULL AND t.type = 'text' "
    f"WHEN {TEXT_ELEMENT} THEN e.type = 'text' "
    f"WHEN {TOP_NUMBER} THEN e.id IS NULL AND t.type IN ('integer', 'real') "
    # Nested CASEs: json_type() raises on text that is not JSON, and AND may evaluate both sides.
    f"WHEN {TOP_NUMERIC_TEXT} THEN (CASE WHEN e.id IS NULL AND t.type = 'text' AND json_valid(t.value) "
    "THEN json_type(t.value) IN ('integer', 'real') END) "
    f"WHEN {ELEMENT_NUMBER} THEN e.type IN ('integer', 'real') "
    # Once per array (its first element, or the empty array's single row).
    f"WHEN {OTHER} THEN t.type IN ('true', 'false', 'array', 'object') AND (e.id IS NULL OR e.key = 0) "
    f"ELSE e.type IN ('true', 'false') END"
)
_KINDS = ", ".join(f"({k})" for k in range(7))
HAS_KINDS = f"({TEXT_TOP}, {TOP_NUMBER}, {OTHER})"  # with val <> '' for TEXT_TOP


def _rows(source: str, rid: str, props: str, where: str = "1", distinct: bool = True) -> str:
    """SELECT of the rows for the end users of `source` (id `rid`, JSON `props`) where `where`;
    `distinct` drops repeats (["a", "A", "a"] is one row under NOCASE)."""
    # json_each over text that is not a JSON object would fail or list array elements. CROSS
    # JOIN keeps the kinds innermost, so each document is parsed once, not once per kind.
    document = (f"(CASE WHEN json_valid({props}) THEN (CASE WHEN json_type({props}) = 'object' "
                f"THEN {props} ELSE '{{}}' END) ELSE '{{}}' END)")
    return (f"SELECT {'DISTINCT ' if distinct else ''}t.key AS key, k.column1 AS kind, "
            f"{_VALUE} COLLATE NOCASE AS val, {rid} AS end_user_id "
            f"FROM {source} CROSS JOIN json_each({document}) AS t "
            "LEFT JOIN json_each(CASE WHEN t.type = 'array' THEN t.value END) AS e "
            f"CROSS JOIN (VALUES {_KINDS}) AS k WHERE {where} AND ({_WHEN})")


def _insert(source: str, rid: str, props: str) -> str:
    # DISTINCT, not OR IGNORE: inside a trigger the outer statement's conflict policy (a
    # pull's upsert) overrides the trigger's.
    return f"INSERT INTO {PROPERTY_INDEX} ({_COLUMNS}) {_rows(source, rid, props)}"


def _delete(rid: str, props: str) -> str:
    """DELETE of the rows an end user's document `props` made.

    SQLite 3.40 seeks a row-value IN on the key alone (`key=?`), so each edit scanned every row
    of its keys: 1.4 s per changed end user at a million. Scalar INs on each column first let
    it seek the whole primary key; the row-value IN keeps exactly the rows the document made.
    """
    rows = _rows("(SELECT 1)", rid, props)
    return (f"DELETE FROM {PROPERTY_INDEX} WHERE end_user_id = {rid} "
            f"AND key IN (SELECT key FROM ({rows})) AND kind IN (SELECT kind FROM ({rows})) "
            f"AND val IN (SELECT val FROM ({rows})) AND ({_COLUMNS}) IN ({rows})")


def _triggers() -> tuple[str, ...]:
    insert = _insert("(SELECT 1)", "new.id", "new.properties_json")
    delete = _delete("old.id", "old.properties_json")
    return (
        f"CREATE TRIGGER {PROPERTY_INDEX}_ai AFTER INSERT ON end_user BEGIN {insert}; END",
        f"CREATE TRIGGER {PROPERTY_INDEX}_ad AFTER DELETE ON end_user BEGIN {delete}; END",
        # A pull rewrites every column; only a changed document (or id) costs anything.
        f"CREATE TRIGGER {PROPERTY_INDEX}_au AFTER UPDATE OF id, properties_json ON end_user "
        "WHEN old.id IS NOT new.id OR old.properties_json IS NOT new.properties_json "
        f"BEGIN {delete}; {insert}; END",
    )


def refresh_property_triggers(raw: sqlite3.Connection) -> bool:
    """Inside the caller's transaction: replace triggers an older version made (a built index
    keeps its rows; only how edits maintain them changed). True when it replaced any."""
    wanted = dict(zip(_TRIGGER_NAMES, _triggers(), strict=True))
    found = dict(raw.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN (?, ?, ?)",
                             tuple(wanted)).fetchall())
    if not found or found == wanted:  # not built (the build makes them), or current
        return False
    for name, statement in wanted.items():
        raw.execute(f"DROP TRIGGER IF EXISTS {name}")
        raw.execute(statement)
    return True


def drop_property_index(raw: sqlite3.Connection) -> None:
    """Inside the caller's transaction: the triggers, the table and the record."""
    for name in _TRIGGER_NAMES:
        raw.execute(f"DROP TRIGGER IF EXISTS {name}")
    raw.execute(f"DROP TABLE IF EXISTS {PROPERTY_INDEX}")
    raw.execute("DELETE FROM search_index WHERE name = ?", (PROPERTY_INDEX,))


def fill_property_index(raw: sqlite3.Connection, spans: Iterator[tuple[int, int]]) -> None:
    """Inside the caller's transaction: the table, the rows of the end users in each id span
    (low, high] of `spans`, then the triggers. The caller records it as complete."""
    drop_property_index(raw)
    raw.execute(_TABLE)
    for low, high in spans:
        # OR IGNORE rather than DISTINCT here: a DISTINCT over 50,000 end users' rows costs
        # four times the rest of the build.
        raw.execute(f"INSERT OR IGNORE INTO {PROPERTY_INDEX} ({_COLUMNS}) "
                    + _rows("end_user AS u", "u.id", "u.properties_json", "u.id > :low AND u.id <= :high", False),
                    {"low": low, "high": high})
    for statement in _triggers():
        raw.execute(statement)
