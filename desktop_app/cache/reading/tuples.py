"""`EndUserQuery.iter_tuples`' side: the columns it can read (`TupleSelect`) and its two ways of
reading them, rows by id (`tuples_by_id`) and keyset pages along the sort (`keyset_tuples`).

Rows stay plain tuples of stored values, nothing decoded: what the CSV export streams.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from desktop_app.cache.reading.plan import Order, Plan, keyset_pages
from desktop_app.cache.reading.results import COLUMN_KEYS, decode_properties
from desktop_app.fields import FIELDS_BY_KEY, property_key

TUPLE_COLUMNS = frozenset(COLUMN_KEYS | {"settings_json", "properties_json"})
# Keys SQLite's JSON path `$."key"` finds exactly: no double quote (a path cannot spell one)
# and nothing a JSON writer escapes (SQLite compares keys as written, escapes and all).
_TOKEN_KEY = re.compile(r'[^"\\\x00-\x1f\ud800-\udfff]*')


def property_token_key(key: str) -> bool:
    """Whether `iter_tuples` can take the property `key` out of `properties_json` in SQL."""
    return _TOKEN_KEY.fullmatch(key) is not None


def properties_from_json(text: str | None) -> dict[str, Any]:
    """A `properties_json` text decoded exactly as `ResultRow.properties` is ({} if unreadable)."""
    return decode_properties(text)


class TupleSelect:
    """The SELECT list of `iter_tuples`, and how a batch is read again when SQLite meets a
    `properties_json` it cannot parse (the property texts then come from Python's decoding)."""

    def __init__(self, columns: Sequence[str]) -> None:
        if not columns:
            raise ValueError("iter_tuples needs at least one column")
        sql: list[str] = []
        self.params: dict[str, str] = {}
        self._tokens: list[tuple[int, str]] = []  # (position, key) of each property text
        for position, column in enumerate(columns):
            key = property_key(column)
            history = FIELDS_BY_KEY[column].history_sql if column in FIELDS_BY_KEY else ""
            if history:
                sql.append(history)
            elif column in TUPLE_COLUMNS:
                sql.append(f"end_user.{column}")
            elif key is not None and property_token_key(key):
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

    @property
    def reads_json(self) -> bool:
        """Whether SQLite takes property texts out of documents (and can meet a damaged one)."""
        return bool(self._tokens)

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
        document = decode_properties(row[-1])
        values = list(row[:-1])
        for position, key in self._tokens:
            if key in document:
                values[position] = json.dumps(document[key])
        return tuple(values)


def tuples_by_id(raw: sqlite3.Connection, ids: Sequence[int], select: TupleSelect,
                 batch_size: int) -> Iterator[list[tuple[Any, ...]]]:
    """`EndUserQuery._batches_by_id` for `iter_tuples`: rows in the order of `ids`, missing ids skipped."""
    for start in range(0, len(ids), batch_size):
        chunk = json.dumps([int(i) for i in ids[start:start + batch_size]])
        rows = select.fetch(
            raw, "", "FROM json_each(:_ids) AS picked CROSS JOIN end_user "
            "ON end_user.id = picked.value ORDER BY picked.key", {"_ids": chunk},
        )
        if rows:
            yield rows


def keyset_tuples(raw: sqlite3.Connection, plan: Plan, order: Order, select: TupleSelect,
                  batch_size: int) -> Iterator[list[tuple[Any, ...]]]:
    """`EndUserQuery._keyset` for `iter_tuples`: the rows of the same (key, id) pages, in the
    same order, as plain tuples.

    Every row is wanted, so one statement walks the sort's index and is read a batch at a
    time: pages re-seek the index and test their bounds on every row (a tenth of a
    million-row export's time). A document SQLite cannot parse ends that statement; the rest
    is then read in pages, each read again the Python way where it fails (`TupleSelect.fetch`).
    """
    done = 0
    cursor = raw.execute(f"SELECT {select.sql} FROM {plan.source} WHERE {plan.where} ORDER BY {order.sql}",
                         {**plan.params, **order.params, **select.params})
    try:
        while rows := cursor.fetchmany(batch_size):
            yield rows
            done += len(rows)
        return
    except sqlite3.OperationalError as error:
        if not select.reads_json or "malformed JSON" not in str(error):
            raise
    finally:
        cursor.close()  # an abandoned stream must not hold the statement (and its snapshot)
    skip = done  # the pages' rows up to here were yielded already
    for rows in _paged_tuples(raw, plan, order, select, batch_size):
        if skip < len(rows):
            yield rows[skip:] if skip else rows
        skip = max(0, skip - len(rows))


def _paged_tuples(raw: sqlite3.Connection, plan: Plan, order: Order, select: TupleSelect,
                  batch_size: int) -> Iterator[list[tuple[Any, ...]]]:
    """The (key, id) pages of `keyset_pages`, rows as plain tuples."""
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

    for rows in keyset_pages(plan, order, batch_size, fetch, lambda row: (row[key_at], row[id_at])):
        yield rows if inline else [row[:width] for row in rows]
