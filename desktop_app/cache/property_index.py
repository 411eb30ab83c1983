"""The property index: every end user's property values in three key-first side tables, so a
filter on any key (not only the two with an expression index) finds its rows by index.

- `end_user_prop_text` (key, text, id): text values, top level and array elements (NOCASE).
- `end_user_prop_num` (key, number, kind, id): numbers; kind 0 a JSON number at the top level,
  1 a top-level text that reads as a number (ranges count it), 2 an array's number element
  (equality counts it).
- `end_user_prop_key` (key, type, id): top-level keys that are set (not null, not ""), with
  their JSON type, plus `true[]`/`false[]` for arrays holding a boolean.

The rows are exactly what the filter language compares (`filter_sql.property_equals` and
friends), computed by the same SQLite JSON functions, so a lookup here answers the same as the
JSON expressions, and no row is read to check. All three are WITHOUT ROWID tables keyed by key
first: no second index, and a trigger removes an end user's old rows by recomputing them from
the old JSON. Built and recorded like the text index (`search_index.py`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

PROPERTY_INDEX = "end_user_prop"  # its name in the `search_index` record
TEXT_TABLE = "end_user_prop_text"
NUMBER_TABLE = "end_user_prop_num"
KEY_TABLE = "end_user_prop_key"
TOP_NUMBER, TOP_NUMERIC_TEXT, ELEMENT_NUMBER = 0, 1, 2
SET_TYPES = "('text', 'integer', 'real', 'true', 'false', 'array', 'object')"

_TABLES = (
    f"CREATE TABLE {TEXT_TABLE} (key TEXT NOT NULL, txt TEXT NOT NULL COLLATE NOCASE, "
    "end_user_id INTEGER NOT NULL, PRIMARY KEY (key, txt, end_user_id)) WITHOUT ROWID",
    f"CREATE TABLE {NUMBER_TABLE} (key TEXT NOT NULL, num REAL NOT NULL, kind INTEGER NOT NULL, "
    "end_user_id INTEGER NOT NULL, PRIMARY KEY (key, num, kind, end_user_id)) WITHOUT ROWID",
    f"CREATE TABLE {KEY_TABLE} (key TEXT NOT NULL, type TEXT NOT NULL, "
    "end_user_id INTEGER NOT NULL, PRIMARY KEY (key, type, end_user_id)) WITHOUT ROWID",
)


def _object(json_sql: str) -> str:
    # json_each over text that is not a JSON object would fail or list array elements.
    return f"(CASE WHEN json_valid({json_sql}) AND json_type({json_sql}) = 'object' THEN {json_sql} ELSE '{{}}' END)"


def _rows(table: str, source: str, rid: str, props: str, where: str = "1") -> str:
    """SELECT of the rows `table` holds for the end users of `source` (id `rid`, JSON `props`,
    those for which `where` holds)."""
    each = f"{source}, json_each({_object(props)}) AS t"
    elements = f"{each}, json_each(t.value) AS e"
    if table == TEXT_TABLE:
        return (f"SELECT t.key AS key, t.value AS txt, {rid} AS end_user_id FROM {each} WHERE {where} "
                f"AND t.type = 'text' UNION ALL SELECT t.key, e.value, {rid} FROM {elements} WHERE {where} AND t.type = 'array' "
                "AND e.type = 'text'")
    if table == NUMBER_TABLE:
        return (f"SELECT t.key AS key, CAST(t.value AS REAL) AS num, {TOP_NUMBER} AS kind, {rid} AS end_user_id "
                f"FROM {each} "
                f"WHERE {where} AND t.type IN ('integer', 'real') UNION ALL "
                f"SELECT t.key, CAST(t.value AS REAL), {TOP_NUMERIC_TEXT}, {rid} FROM {each} WHERE {where} "
                "AND t.type = 'text' AND json_valid(t.value) AND json_type(t.value) IN ('integer', 'real') "
                f"UNION ALL SELECT t.key, CAST(e.value AS REAL), {ELEMENT_NUMBER}, {rid} FROM {elements} "
                f"WHERE {where} AND t.type = 'array' AND e.type IN ('integer', 'real')")
    return (f"SELECT t.key AS key, t.type AS type, {rid} AS end_user_id FROM {each} WHERE {where} "
            f"AND t.type IN {SET_TYPES} "
            "AND NOT (t.type = 'text' AND t.value = '') UNION ALL "
            f"SELECT t.key, e.type || '[]', {rid} FROM {elements} "
            f"WHERE {where} AND t.type = 'array' AND e.type IN ('true', 'false')")


_COLUMNS = {TEXT_TABLE: "key, txt, end_user_id", NUMBER_TABLE: "key, num, kind, end_user_id",
            KEY_TABLE: "key, type, end_user_id"}


def _insert(table: str, source: str, rid: str, props: str, where: str = "1") -> str:
    # DISTINCT: ["a", "A", "a"] is one row under NOCASE (a set is all a lookup needs). Not OR
    # IGNORE: inside a trigger the outer statement's conflict policy (a pull's upsert) wins.
    columns = _COLUMNS[table].replace("txt", "txt COLLATE NOCASE")
    return (f"INSERT INTO {table} ({_COLUMNS[table]}) SELECT DISTINCT {columns} FROM "
            f"({_rows(table, source, rid, props, where)})")


def _delete(table: str) -> str:
    return (f"DELETE FROM {table} WHERE ({_COLUMNS[table]}) IN "
            f"({_rows(table, '(SELECT 1)', 'old.id', 'old.properties_json')})")


def _triggers() -> tuple[str, ...]:
    inserts = "; ".join(_insert(t, "(SELECT 1)", "new.id", "new.properties_json") for t in _COLUMNS)
    deletes = "; ".join(_delete(t) for t in _COLUMNS)
    return (
        f"CREATE TRIGGER {PROPERTY_INDEX}_ai AFTER INSERT ON end_user BEGIN {inserts}; END",
        f"CREATE TRIGGER {PROPERTY_INDEX}_ad AFTER DELETE ON end_user BEGIN {deletes}; END",
        # A pull rewrites every column; only a changed document (or id) costs anything.
        f"CREATE TRIGGER {PROPERTY_INDEX}_au AFTER UPDATE OF id, properties_json ON end_user "
        "WHEN old.id IS NOT new.id OR old.properties_json IS NOT new.properties_json "
        f"BEGIN {deletes}; {inserts}; END",
    )


def drop_property_index(raw: sqlite3.Connection) -> None:
    """Inside the caller's transaction: the triggers, the tables and the record."""
    for suffix in ("_ai", "_ad", "_au"):
        raw.execute(f"DROP TRIGGER IF EXISTS {PROPERTY_INDEX}{suffix}")
    for table in _COLUMNS:
        raw.execute(f"DROP TABLE IF EXISTS {table}")
    raw.execute("DELETE FROM search_index WHERE name = ?", (PROPERTY_INDEX,))


def fill_property_index(raw: sqlite3.Connection, spans: Iterator[tuple[int, int]]) -> None:
    """Inside the caller's transaction: the tables, the rows of the end users in each id span
    (low, high] of `spans`, then the triggers. The caller records it as complete."""
    drop_property_index(raw)
    for statement in _TABLES:
        raw.execute(statement)
    for low, high in spans:
        for table in _COLUMNS:
            raw.execute(_insert(table, "end_user AS u", "u.id", "u.properties_json", "u.id > :low AND u.id <= :high"),
                        {"low": low, "high": high})
    for statement in _triggers():
        raw.execute(statement)
