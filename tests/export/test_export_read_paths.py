"""The export's two ways of reading properties write the same bytes.

Up to SQL_PROPERTY_COLUMNS_MAX property columns, each with a key SQLite can address, are read
as JSON texts SQLite takes out of the document; otherwise the document is read and decoded in
Python. The round-trip tests check the second against an independent rendering (the nasty
data has keys SQL cannot address); these check the first against the second.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from desktop_app.cache.reading.query import EndUserQuery, SortSpec, property_token_key
from desktop_app.export import ExportOptions, export_csv
from desktop_app.export import csv_export
from nasty_end_users import NASTY_USERS, SeedUser

NASTY_KEYS = sorted({k for u in NASTY_USERS for k in u.properties})
SQL_KEYS = [k for k in NASTY_KEYS if property_token_key(k)]


@pytest.fixture
def nasty(cache_factory: Callable[..., EndUserQuery]) -> EndUserQuery:
    return cache_factory(NASTY_USERS)


def export_bytes(query: EndUserQuery, monkeypatch: pytest.MonkeyPatch, in_sql: bool, text: str = "",
                 ids: Sequence[int] | None = None, **options: Any) -> bytes:
    monkeypatch.setattr(csv_export, "SQL_PROPERTY_COLUMNS_MAX", 10_000 if in_sql else -1)
    out = io.BytesIO()
    export_csv(query, text, out, ExportOptions(**options), ids=ids)
    return out.getvalue()


def test_the_nasty_data_has_keys_of_both_kinds() -> None:
    assert len(SQL_KEYS) > 20
    assert {'key "quoted"', "key\nwith newline"} <= set(NASTY_KEYS) - set(SQL_KEYS)


@pytest.mark.parametrize("timestamps", ["iso", "unix"])
@pytest.mark.parametrize("on", [True, False])
def test_every_nasty_value_is_written_alike(nasty: EndUserQuery, monkeypatch: pytest.MonkeyPatch,
                                            timestamps: str, on: bool) -> None:
    columns = ["id", "email", "external_id", "phone_number", *(f"prop:{k}" for k in SQL_KEYS)]
    kwargs = dict(columns=columns, timestamps=timestamps, neutralize_formulas=on)
    in_sql = export_bytes(nasty, monkeypatch, True, **kwargs)
    assert in_sql == export_bytes(nasty, monkeypatch, False, **kwargs)
    rows = list(csv.reader(io.StringIO(in_sql.decode(), newline="")))
    assert len(rows) == len(NASTY_USERS) + 1 and rows[0] == columns


def test_a_few_cells_read_in_sql(nasty: EndUserQuery, monkeypatch: pytest.MonkeyPatch) -> None:
    data = export_bytes(nasty, monkeypatch, True, columns=["id", *(f"prop:{k}" for k in SQL_KEYS)])
    rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
    cells = {int(r[0]): dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert cells[2]["prop:plan"] == 'Pro "Plus"' and cells[2]["prop:note"] == "line one\nline two"
    assert cells[3]["prop:note"] == "a\r\nb\rc\nd" and cells[3]["prop:null_value"] == ""
    assert cells[5]["prop:formula"] == "'=SUM(A1:A2)" and cells[5]["prop:negative"] == "-5"
    assert cells[5]["prop:minus_number_text"] == "-12.5" and cells[5]["prop:array_formula"] == "'=evil; ok"
    assert cells[6]["prop:big"] == str(2**62) and cells[6]["prop:tiny"] == "1e-07"
    assert cells[6]["prop:float_whole"] == "3.0" and cells[6]["prop:flag"] == "true"
    assert cells[6]["prop:nested"] == '{"a":"x","b":[1,2]}' and cells[6]["prop:numbers_array"] == "'-1; 2.5; true; "
    assert cells[7]["prop:"] == "empty key" and cells[7]["prop:Ünïcödé key"] == "v6"
    assert cells[7]["prop: spaced key "] == "v4" and cells[7]["prop:=formula_key"] == "v5"
    assert cells[9]["prop:nul"] == "a\x00b"
    assert cells[1]["prop:note"] == ""  # absent


def test_a_selection_in_view_order_with_properties(nasty: EndUserQuery, monkeypatch: pytest.MonkeyPatch) -> None:
    kwargs = dict(columns=["id", "prop:plan", "prop:note", "prop:greeting"])
    data = export_bytes(nasty, monkeypatch, True, "example.com", ids=[4, 9, 2, 4], **kwargs)
    assert data == export_bytes(nasty, monkeypatch, False, "example.com", ids=[4, 9, 2, 4], **kwargs)
    assert data.decode().split("\r\n") == [
        "id,prop:plan,prop:note,prop:greeting", "9,,,", '2,"Pro ""Plus""","line one\nline two",',
        "4,,,مرحبا بالعالم", "",
    ]


@pytest.mark.parametrize("text", ["example.com", "-has:plan", "plan:pro", "surveys:disabled"])
def test_a_filter_with_properties(nasty: EndUserQuery, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    kwargs = dict(columns=["prop:plan", "id", "prop:seats_count", "prop:*"], sort=SortSpec("created_at"))
    assert export_bytes(nasty, monkeypatch, True, text, **kwargs) == export_bytes(nasty, monkeypatch, False, text,
                                                                                 **kwargs)


def test_many_batches_and_damaged_documents(cache_factory: Callable[..., EndUserQuery], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    rows = 2 * csv_export.BATCH_SIZE + 7
    users = [SeedUser(i, f"u{i:05d}@example.com", properties={"plan": ["pro", "=x", 'a"b'][i % 3], "n": i})
             for i in range(1, rows + 1)]
    query = cache_factory(users)
    with sqlite3.connect(tmp_path / "cache.sqlite3") as raw:  # edited by hand, or damaged
        raw.execute("UPDATE end_user SET properties_json = 'not json' WHERE id = 3")
        raw.execute("""UPDATE end_user SET properties_json = '{"plan": "kept"} tail' WHERE id = ?""", (rows - 1,))
    kwargs = dict(columns=["id", "prop:plan", "prop:n"], sort=SortSpec("email", descending=True))
    data = export_bytes(query, monkeypatch, True, **kwargs)
    assert data == export_bytes(query, monkeypatch, False, **kwargs)
    lines = data.decode().split("\r\n")
    assert len(lines) == rows + 2 and lines[1] == f'{rows},"a""b",{rows}' and lines[-2] == "1,'=x,1"
    assert f"{rows - 1},kept," in lines and "3,," in lines


def test_an_unknown_stored_disabled_by_is_written_as_nobody(cache_factory: Callable[..., EndUserQuery],
                                                              tmp_path: Path) -> None:
    users = [SeedUser(i, f"u{i}@example.com", surveys_disabled=True, disabled_by="admin") for i in (1, 2, 3)]
    query = cache_factory(users)
    with sqlite3.connect(tmp_path / "cache.sqlite3") as raw:  # like ResultRow: unknown means nobody
        raw.execute("UPDATE end_user SET disabled_by = 'someone else' WHERE id = 2")
    out = io.BytesIO()
    export_csv(query, "", out, ExportOptions(columns=["id", "disabled_by"], sort=SortSpec("id")))
    assert out.getvalue() == b"id,disabled_by\r\n1,admin\r\n2,\r\n3,admin\r\n"
    assert [r.disabled_by.value for b in query.iter_rows("", SortSpec("id")) for r in b] == ["admin", "", "admin"]


def test_every_property_when_nobody_has_one(cache_factory: Callable[..., EndUserQuery]) -> None:
    query = cache_factory([SeedUser(i, f"u{i}@example.com") for i in (1, 2, 3)])
    out = io.BytesIO()
    result = export_csv(query, "", out, ExportOptions(columns=["prop:*"]))
    assert (result.rows, result.columns, out.getvalue()) == (3, (), b"\r\n")  # no columns, as before
