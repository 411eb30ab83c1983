"""EndUserQuery.iter_tuples, the export's read: iter_rows' rows and order, as plain tuples."""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import desktop_app.cache.reading.query as query_module
from desktop_app.cache.indexes.expressions import ensure_query_indexes
from desktop_app.cache.reading.query import (
    TUPLE_COLUMNS,
    EndUserQuery,
    ResultRow,
    SortSpec,
    properties_from_json,
    property_token_key,
)
from nasty_end_users import SeedUser

SEED_COLUMNS = (
    "id", "email", "external_id", "external_created_at", "last_surveyed", "phone_number", "created_at",
    "updated_at", "surveys_disabled", "disabled_by", "pending_count", "has_conflict", "pending_delete",
)
KEYS = ("plan", "seats_count", "features_array", "nested", "note", "flag", "ratio", "Ünïcödé key", "")
COLUMNS = (*SEED_COLUMNS, "properties_json", *(f"prop:{key}" for key in KEYS))


def seed_users(count: int = 150, seed: int = 3) -> list[SeedUser]:
    rnd = random.Random(seed)
    users = []
    for n in range(1, count + 1):
        properties: dict[str, Any] = {}
        if n % 5:
            properties["plan"] = rnd.choice(["pro", "Pro", "free", "=cmd", 'say "hi"', "a\nb", "é"])
        if n % 3:
            properties["seats_count"] = rnd.choice([0, 7, -3, 2**62, 10**30])
        if n % 4 == 0:
            properties["features_array"] = ["sso", "api"][: n % 3]
        if n % 7 == 0:
            properties["nested"] = {"b": [1, None], "a": "x"}
        if n % 6 == 0:
            properties["note"] = None
        properties["flag"] = n % 2 == 0
        if n % 8 == 0:
            properties["ratio"] = rnd.choice([0.1, -2.5, 1e-7, 3.0])
        if n % 9 == 0:
            properties["Ünïcödé key"] = "ü"
            properties[""] = "empty key"
        users.append(SeedUser(
            n, f"{rnd.choice(['user', 'User', 'zed', 'Ann'])}{n:03d}@{rnd.choice(['acme', 'Globex'])}.com",
            created_at=1_700_000_000 - n * 86_400, updated_at=1_700_000_000 + n,
            external_id=f"ext-{n}" if n % 2 else None,
            external_created_at=1_600_000_000 + n if n % 3 else None,
            last_surveyed=1_650_000_000 + rnd.randrange(10**6) if n % 4 else None,
            phone_number=f"+1415555{n:04d}" if n % 10 == 0 else None,
            surveys_disabled=n % 5 == 0, disabled_by=["", "admin", "end_user"][n % 3] if n % 5 == 0 else "",
            properties=properties, pending_count=n % 3, has_conflict=n % 11 == 0, pending_delete=n % 13 == 0,
        ))
    return users


@pytest.fixture
def query(cache_factory: Callable[..., EndUserQuery], tmp_path: Path) -> EndUserQuery:
    built = cache_factory(seed_users())
    with sqlite3.connect(tmp_path / "cache.sqlite3") as raw:
        raw.execute("PRAGMA journal_mode = WAL")  # like the app's cache: readers never block the writer
        ensure_query_indexes(raw, property_keys=["plan", "seats_count"])
    return built


@pytest.fixture
def paths(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Which of iter_tuples' two ways of reading ran: "keyset" or "by id"."""
    seen: list[str] = []
    for name, label in (("keyset_tuples", "keyset"), ("tuples_by_id", "by id")):
        original = getattr(query_module, name)

        def spy(*args: Any, _original: Any = original, _label: str = label) -> Iterator[Any]:
            seen.append(_label)
            return _original(*args)

        monkeypatch.setattr(query_module, name, spy)  # where EndUserQuery looks them up
    return seen


def expected(row: ResultRow, raw: dict[str, Any], column: str) -> Any:
    """What iter_tuples gives for `column` of the row iter_rows decoded as `row`."""
    if column.startswith("prop:"):
        key = column[5:]
        return row.properties.get(key)
    return raw[column]


def same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def check_rows(query: EndUserQuery, tuples: list[tuple[Any, ...]], rows: list[ResultRow],
               path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.row_factory = sqlite3.Row
        stored = {r["id"]: dict(r) for r in connection.execute("SELECT * FROM end_user")}
    assert [t[0] for t in tuples] == [r.id for r in rows]
    for values, row in zip(tuples, rows, strict=True):
        assert len(values) == len(COLUMNS)
        for column, value in zip(COLUMNS, values, strict=True):
            if column.startswith("prop:"):  # the JSON text of the value; None when absent
                decoded = None if value is None else json.loads(value)
                # Compared as JSON text: 1 is not 1.0 or true, and NaN is NaN.
                assert same(decoded, expected(row, stored[row.id], column)), (row.id, column)
                assert (value is None) == (column[5:] not in row.properties)
            else:
                assert value == stored[row.id][column], (row.id, column)
        assert bool(values[8]) is row.surveys_disabled and values[9] == row.disabled_by.value
        assert same(properties_from_json(values[13]), row.properties)


CASES = [
    ("", SortSpec()),
    ("", SortSpec("email", descending=True)),
    ("", SortSpec("id")),
    ("", SortSpec("last_surveyed", descending=True)),  # empty keys: their own run, last
    ("", SortSpec("last_surveyed")),  # ... first
    ("", SortSpec("prop:seats_count")),
    ("", SortSpec("prop:plan", descending=True)),
    ("plan:pro", SortSpec("email")),
    ("zed", SortSpec("created_at")),
    ("-surveys:disabled", SortSpec("updated_at", descending=True)),
    ("is:conflict OR is:deleted", SortSpec("phone_number")),
    ("no-such-end-user", SortSpec()),
]


@pytest.mark.parametrize(("text", "sort"), CASES)
def test_the_rows_and_order_of_iter_rows(query: EndUserQuery, tmp_path: Path, paths: list[str],
                                         text: str, sort: SortSpec) -> None:
    batches = list(query.iter_tuples(text, sort, COLUMNS, batch_size=7))
    assert all(1 <= len(batch) <= 7 for batch in batches)
    rows = [row for batch in query.iter_rows(text, sort, batch_size=7) for row in batch]
    check_rows(query, [t for batch in batches for t in batch], rows, tmp_path / "cache.sqlite3")
    assert [t[0] for batch in batches for t in batch] == list(query.ids(text, sort))


def test_both_ways_of_reading_are_covered(query: EndUserQuery, paths: list[str]) -> None:
    for text, sort in CASES:
        list(query.iter_tuples(text, sort, ("id",), batch_size=7))
    assert set(paths) == {"keyset", "by id"}


def test_a_selection_comes_in_the_given_order(query: EndUserQuery, tmp_path: Path) -> None:
    chosen = [30, 2, 999, 17, 150, 1]
    batches = list(query.iter_tuples("plan:nothing-matches", SortSpec(), COLUMNS, batch_size=2, ids=chosen))
    assert all(1 <= len(batch) <= 2 for batch in batches)
    tuples = [t for batch in batches for t in batch]
    rows = query.rows_by_ids(chosen)
    check_rows(query, tuples, [rows[i] for i in chosen if i in rows], tmp_path / "cache.sqlite3")
    assert [t[0] for t in tuples] == [30, 2, 17, 150, 1]
    assert list(query.iter_tuples(ids=[])) == []


def test_only_the_columns_asked_for_in_their_order(query: EndUserQuery) -> None:
    batches = list(query.iter_tuples("", SortSpec("id"), ("prop:plan", "email", "id"), batch_size=3))
    rows = query.rows_by_ids([1, 5])
    assert batches[0][0] == (json.dumps(rows[1].properties["plan"]), rows[1].email, 1)
    assert batches[1][1] == (None, rows[5].email, 5)  # every fifth end user has no plan


@pytest.mark.parametrize("columns", [("email",), ("id",), ("prop:plan", "created_at"), ("last_surveyed", "id")])
@pytest.mark.parametrize("sort", [SortSpec(), SortSpec("created_at", True), SortSpec("last_surveyed"), SortSpec("id")])
def test_pages_continue_whichever_columns_are_read(query: EndUserQuery, columns: tuple[str, ...],
                                                    sort: SortSpec) -> None:
    """The walk continues after the last row's (key, id), read from the row or selected besides."""
    rows = [row for batch in query.iter_rows("", sort) for row in batch]
    tuples = [t for batch in query.iter_tuples("", sort, columns, batch_size=7) for t in batch]
    assert len(tuples) == len(rows)
    for column_at, column in enumerate(columns):
        if not column.startswith("prop:"):
            assert [t[column_at] for t in tuples] == [getattr(r, column) for r in rows]
    assert all(len(t) == len(columns) for t in tuples)


@pytest.mark.parametrize("columns", [[], ["nope"], ["settings"], ['prop:say "hi"'], ["prop:a\\b"],
                                     ["prop:line\nbreak"], ["id", "id; DROP TABLE end_user"]])
def test_unknown_columns_are_refused_before_anything_is_read(query: EndUserQuery, columns: list[str]) -> None:
    with pytest.raises(ValueError):
        query.iter_tuples("", SortSpec(), columns)


def test_which_keys_sql_can_take_out() -> None:
    assert all(property_token_key(k) for k in ["plan", "", "é", " spaced ", "a.b", "x[0]", "=f", "k,v"])
    assert not any(property_token_key(k) for k in ['a"b', "a\\b", "a\nb", "tab\there", "\ud800"])
    assert {"id", "email", "properties_json", "settings_json", "pending_delete"} <= TUPLE_COLUMNS


@pytest.mark.parametrize("damaged", [
    "not json", '{"plan": "pro"} trailing', "", "[1, 2]", '"text"', '{"plan": NaN, "seats_count": 5}',
    '{"plan": "unterminated', '{"plan": 1e999}',
])
def test_a_document_sqlite_cannot_parse_reads_like_iter_rows(
    query: EndUserQuery, tmp_path: Path, damaged: str
) -> None:
    with sqlite3.connect(tmp_path / "cache.sqlite3") as raw:
        # The app cannot write such a row while a property index reads every document; a file
        # damaged or edited by hand can still hold one.
        for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE name LIKE 'ix_q_p%'").fetchall():
            raw.execute(f'DROP INDEX "{name}"')
        raw.execute("UPDATE end_user SET properties_json = ? WHERE id IN (4, 40)", (damaged,))
    for text, sort, size in (("", SortSpec("id"), 7), ("", SortSpec(), 500), ("zed", SortSpec("created_at"), 3)):
        tuples = [t for batch in query.iter_tuples(text, sort, COLUMNS, batch_size=size) for t in batch]
        rows = [row for batch in query.iter_rows(text, sort) for row in batch]
        check_rows(query, tuples, rows, tmp_path / "cache.sqlite3")


def test_a_damaged_document_late_in_the_stream_loses_and_repeats_nothing(
    query: EndUserQuery, tmp_path: Path,
) -> None:
    # The walk along the sort's index is one statement; the damaged row ends it after some
    # batches were handed on, and the read goes on in pages from there.
    order = [t[0] for batch in query.iter_tuples("", SortSpec("email"), ("id",), batch_size=50) for t in batch]
    late = order[97]  # in the third batch of 20
    with sqlite3.connect(tmp_path / "cache.sqlite3") as raw:
        for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE name LIKE 'ix_q_p%'").fetchall():
            raw.execute(f'DROP INDEX "{name}"')
        raw.execute("UPDATE end_user SET properties_json = 'not json' WHERE id = ?", (late,))
    batches = list(query.iter_tuples("", SortSpec("email"), COLUMNS, batch_size=20))
    assert all(1 <= len(batch) <= 20 for batch in batches)
    tuples = [t for batch in batches for t in batch]
    assert [t[0] for t in tuples] == order
    rows = [row for batch in query.iter_rows("", SortSpec("email")) for row in batch]
    check_rows(query, tuples, rows, tmp_path / "cache.sqlite3")


def test_one_snapshot_for_the_whole_stream(query: EndUserQuery, tmp_path: Path) -> None:
    stream = query.iter_tuples("", SortSpec("email"), ("id", "email", "prop:plan"), batch_size=10)
    first = next(stream)
    with sqlite3.connect(tmp_path / "cache.sqlite3", timeout=5) as writer:
        writer.execute("DELETE FROM end_user WHERE id > 5")
        writer.execute("UPDATE end_user SET email = 'zzz@x.com', properties_json = '{}'")
    rest = [t for batch in stream for t in batch]
    assert len(first) + len(rest) == 150  # deletes committed mid-export are not seen
    assert all(t[1] != "zzz@x.com" for t in rest)
    assert query.count("") == 5  # a new read sees them


def test_an_abandoned_stream_lets_go_of_its_snapshot(query: EndUserQuery, tmp_path: Path) -> None:
    stream = query.iter_tuples("", SortSpec("email"), ("id",), batch_size=10)
    next(stream)
    stream.close()
    with sqlite3.connect(tmp_path / "cache.sqlite3", timeout=5) as writer:
        writer.execute("UPDATE end_user SET pending_count = 3")
        writer.commit()
        busy, _, _ = writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0  # no reader is holding an old snapshot
