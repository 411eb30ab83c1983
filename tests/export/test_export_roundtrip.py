"""Round trips through Python's csv module: every nasty value comes back exactly as rendered."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from desktop_app.cache.reading.query import EndUserQuery, SortSpec
from desktop_app.export import (
    ColumnError,
    ExportOptions,
    FieldKind,
    TimestampFormat,
    available_columns,
    export_csv,
)
from nasty_end_users import LONG_VALUE, NASTY_USERS, SeedUser

BASE = (
    "id",
    "email",
    "external_id",
    "created_at",
    "updated_at",
    "last_surveyed",
    "external_created_at",
    "surveys_disabled",
    "disabled_by",
)
ALL_KEYS = sorted({k for u in NASTY_USERS for k in u.properties}, key=lambda k: (k.casefold(), k))


# --- an independent reference rendering (deliberately not the implementation's code) -------

def _iso(unix: int | None) -> str:
    if unix is None:
        return ""
    return datetime.fromtimestamp(unix, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def _inert(text: str, on: bool) -> str:
    # a formula sign (or its full-width form) first once leading whitespace is trimmed, as
    # some spreadsheets do; a tab or CR first on its own; a plain number never
    trimmed = text.lstrip()
    number = re.fullmatch(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?", trimmed)
    if on and (text[:1] in {"\t", "\r"} or (trimmed[:1] in set("=+-@＝＋－＠") and not number)):
        return "'" + text
    return text


def _prop(value: Any, on: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        items = ["" if v is None else ("true" if v is True else str(v)) for v in value]
        return _inert("; ".join(items), on)
    if isinstance(value, dict):
        return "{" + ",".join(f'"{k}":' + _json(value[k]) for k in sorted(value)) + "}"
    return _inert(value, on)


def _json(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ",".join(_json(v) for v in value) + "]"
    return f'"{value}"' if isinstance(value, str) else repr(value)


def expected_row(user: SeedUser, columns: list[str], *, unix: bool = False, on: bool = True) -> list[str]:
    stamp: Callable[[int | None], str] = (lambda u: "" if u is None else str(u)) if unix else _iso
    cells = {
        "id": str(user.id),
        "email": _inert(user.email, on),
        "external_id": _inert(user.external_id or "", on),
        "phone_number": _inert(user.phone_number or "", on),
        "created_at": stamp(user.created_at),
        "updated_at": stamp(user.updated_at),
        "last_surveyed": stamp(user.last_surveyed),
        "external_created_at": stamp(user.external_created_at),
        "surveys_disabled": "true" if user.surveys_disabled else "false",
        "disabled_by": user.disabled_by,
        "pending_count": str(user.pending_count),
        "has_conflict": "true" if user.has_conflict else "false",
    }
    return [
        _prop(user.properties.get(c[5:]), on) if c.startswith("prop:") else cells[c]
        for c in columns
    ]


def read_csv(data: bytes, bom: bool = False) -> list[list[str]]:
    if bom:
        assert data.startswith(b"\xef\xbb\xbf")
        data = data[3:]
    else:
        assert not data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def view_order(query: EndUserQuery, filter_text: str, sort: SortSpec) -> list[int]:
    return [row.id for batch in query.iter_rows(filter_text, sort) for row in batch]


# --- the tests ----------------------------------------------------------------------------

@pytest.fixture
def nasty(cache_factory: Callable[..., EndUserQuery]) -> EndUserQuery:
    return cache_factory(NASTY_USERS)


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("timestamps", ["iso", "unix"])
@pytest.mark.parametrize("on", [True, False])
def test_every_nasty_cell_round_trips(
    nasty: EndUserQuery, tmp_path: Path, bom: bool, timestamps: str, on: bool
) -> None:
    target = tmp_path / "out.csv"
    options = ExportOptions(timestamps=timestamps, bom=bom, neutralize_formulas=on)
    result = export_csv(nasty, "", target, options)

    header = [*BASE, *(f"prop:{k}" for k in ALL_KEYS)]
    rows = read_csv(target.read_bytes(), bom=bom)
    assert rows[0] == header
    assert result.columns == tuple(header)
    assert result.rows == len(NASTY_USERS) == len(rows) - 1
    assert result.path == target
    by_id = {u.id: u for u in NASTY_USERS}
    order = view_order(nasty, "", SortSpec())
    assert [int(r[0]) for r in rows[1:]] == order
    for row in rows[1:]:
        assert row == expected_row(by_id[int(row[0])], header, unix=timestamps == "unix", on=on)


def test_record_structure_is_rfc4180(nasty: EndUserQuery, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    export_csv(nasty, "", target)
    data = target.read_bytes()
    assert data.endswith(b"\r\n")
    # Embedded newlines survive inside quotes; record ends are CRLF.
    assert b'"windows\r\nline"' in data
    assert b'"a\r\nb\rc\nd"' in data
    assert b'"say ""hi"", then """"leave"""""' in data
    # Simple cells stay unquoted (QUOTE_MINIMAL); only the one with commas is quoted.
    assert b"\r\n1,plain@example.com,\"ext,with,commas\",2024-05-01T12:00:00Z," in data
    data.decode("utf-8")  # strict UTF-8 throughout


def test_spot_checks_of_neutralization(nasty: EndUserQuery, tmp_path: Path) -> None:
    """Exactly which cells get the apostrophe, spelled out rather than computed."""
    target = tmp_path / "out.csv"
    export_csv(nasty, "", target, ExportOptions(columns=["id", "email", "external_id", "phone_number", "prop:*"]))
    rows = read_csv(target.read_bytes())
    header = rows[0]
    five = dict(zip(header, next(r for r in rows if r[0] == "5"), strict=True))
    assert five["email"] == "'=HYPERLINK(\"http://evil.example\",\"click\")@example.com"
    assert five["external_id"] == "'+1+1"
    assert five["phone_number"] == "'-2+3"
    assert five["prop:formula"] == "'=SUM(A1:A2)"
    assert five["prop:at"] == "'@cmd"
    assert five["prop:tab"] == "'\tstarts with tab"
    assert five["prop:cr"] == "'\rstarts with CR"
    assert five["prop:minus_text"] == "'-not a number"
    assert five["prop:minus_number_text"] == "-12.5"  # a plain number: left alone
    assert five["prop:plus_number_text"] == "+3"
    assert five["prop:negative"] == "-5"  # a JSON number the app writes: never touched
    assert five["prop:negative_float"] == "-0.25"
    assert five["prop:array_formula"] == "'=evil; ok"
    assert five["prop:space_formula"] == "' =1+1"
    assert five["prop:newline_formula"] == "'\n=1+1"
    assert five["prop:nbsp_at"] == "'\u00a0@cmd"
    assert five["prop:fullwidth_formula"] == "'\uff1d1+1"
    assert five["prop:ideographic_minus"] == "'\u3000\uff0d1"
    assert five["prop:space_number_text"] == " -5"  # a number after the space: left alone
    assert five["prop:indented_text"] == "  indented"
    one = dict(zip(header, next(r for r in rows if r[0] == "1"), strict=True))
    assert one["phone_number"] == "+14155554131"
    assert one["prop:seats_count"] == "12"
    six = dict(zip(header, next(r for r in rows if r[0] == "6"), strict=True))
    assert six["email"] == "'@at-start@example.com"
    assert six["prop:features_array"] == "sso; api"
    assert six["prop:empty_array"] == ""
    assert six["prop:tricky_array"] == 'a; b; c,d; e"f'
    assert six["prop:numbers_array"] == "'-1; 2.5; true; "
    assert six["prop:nested"] == '{"a":"x","b":[1,2]}'
    assert six["prop:big"] == str(2**62)
    assert six["prop:tiny"] == "1e-07"
    assert six["prop:float_whole"] == "3.0"
    seven = dict(zip(header, next(r for r in rows if r[0] == "7"), strict=True))
    assert seven["prop:long"] == LONG_VALUE
    assert seven["prop:=formula_key"] == "v5"
    assert seven["prop:"] == "empty key"
    assert seven["prop:key\nwith newline"] == "v3"
    # Headers are never neutralized: every one starts with a letter.
    assert all(h[0].isalpha() for h in header)


def test_property_columns_sorted_case_insensitively(nasty: EndUserQuery, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    export_csv(nasty, "", target, ExportOptions(columns=["id", "prop:*"]))
    header = read_csv(target.read_bytes())[0]
    keys = [h[5:] for h in header[1:]]
    assert keys.index("apple") < keys.index("Banana") < keys.index("banana") < keys.index("cherry")
    assert keys[0] == ""  # the empty key sorts first
    assert keys == sorted(keys, key=lambda k: (k.casefold(), k))


def test_filter_exports_only_matches_and_only_their_keys(nasty: EndUserQuery, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    matching = {row.id for batch in nasty.iter_rows("example.com", SortSpec()) for row in batch}
    assert 0 < len(matching) < len(NASTY_USERS)
    result = export_csv(nasty, "example.com", target)
    rows = read_csv(target.read_bytes())
    assert {int(r[0]) for r in rows[1:]} == matching
    assert result.rows == len(matching)
    wanted = {k for u in NASTY_USERS if u.id in matching for k in u.properties}
    assert {h[5:] for h in rows[0] if h.startswith("prop:")} == wanted
    # Keys that only non-matching rows have (row 4, the Japanese domain) are not columns.
    assert "prop:greeting" not in rows[0]


def test_selection_exports_exactly_the_selected_rows(nasty: EndUserQuery, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    # Click order, with a repeat; row 4 does not match the filter but was selected.
    result = export_csv(nasty, "example.com", target, ids=[4, 9, 2, 4])
    rows = read_csv(target.read_bytes())
    assert result.rows == 3
    # The view's order (emails sort case-insensitively: Banana before quote"in).
    assert [int(r[0]) for r in rows[1:]] == [9, 2, 4]
    assert {h[5:] for h in rows[0] if h.startswith("prop:")} == {
        k for u in NASTY_USERS if u.id in {2, 4, 9} for k in u.properties
    }


def test_selected_rows_the_filter_no_longer_shows_come_last(nasty: EndUserQuery, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    # Only row 1 still matches "plain"; 9 and 3 were edited away from it since the selection.
    export_csv(nasty, "plain", target, ExportOptions(columns=["id"]), ids=[9, 1, 3])
    assert read_csv(target.read_bytes()) == [["id"], ["1"], ["9"], ["3"]]
    # Without a filter the same selection is simply in email order.
    export_csv(nasty, "", target, ExportOptions(columns=["id"]), ids=[9, 1, 3])
    assert read_csv(target.read_bytes()) == [["id"], ["9"], ["3"], ["1"]]


def test_empty_selection_and_empty_result_write_just_the_header(
    nasty: EndUserQuery, tmp_path: Path
) -> None:
    for name, kwargs in (("sel.csv", {"ids": []}), ("none.csv", {})):
        target = tmp_path / name
        text = "" if kwargs else "no-such-end-user-anywhere"
        result = export_csv(nasty, text, target, ExportOptions(columns=["id", "email", "prop:*"]), **kwargs)
        assert result.rows == 0
        assert read_csv(target.read_bytes()) == [["id", "email"]]


def test_sort_follows_the_view(nasty: EndUserQuery, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    sort = SortSpec("created_at", descending=True)
    export_csv(nasty, "", target, ExportOptions(columns=["id", "created_at"], timestamps="unix", sort=sort))
    rows = read_csv(target.read_bytes())[1:]
    assert [int(r[0]) for r in rows] == view_order(nasty, "", sort)
    stamps = [int(r[1]) for r in rows]
    assert stamps == sorted(stamps, reverse=True)


def test_picked_columns_in_picked_order(nasty: EndUserQuery, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    columns = ["prop:plan", "email", "pending_count", "has_conflict", "prop:not_a_key", "id"]
    result = export_csv(nasty, "", target, ExportOptions(columns=columns))
    rows = read_csv(target.read_bytes())
    assert rows[0] == columns == list(result.columns)
    nine = next(r for r in rows if r[-1] == "9")
    assert nine == ["", "Banana@example.com", "2", "true", "", "9"]
    two = next(r for r in rows if r[-1] == "2")
    assert two[0] == 'Pro "Plus"'


def test_named_property_is_not_repeated_by_the_wildcard(nasty: EndUserQuery, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    result = export_csv(nasty, "", target, ExportOptions(columns=["prop:plan", "id", "prop:*"]))
    assert result.columns.count("prop:plan") == 1
    assert result.columns[:2] == ("prop:plan", "id")


@pytest.mark.parametrize("columns", [["id", "nope"], ["id", "id"], []])
def test_bad_column_lists_are_refused_with_a_message(columns: list[str]) -> None:
    with pytest.raises(ColumnError) as info:
        ExportOptions(columns=columns)
    assert str(info.value)


def test_available_columns_lists_fields_then_every_key(nasty: EndUserQuery) -> None:
    columns = available_columns(nasty)
    ids = [c.id for c in columns]
    assert ids[:3] == ["id", "email", "external_id"]
    assert [c.key for c in columns if c.kind is FieldKind.PROPERTY] == ALL_KEYS
    assert "prop:key,with,commas" in ids


def test_options_accept_plain_strings() -> None:
    assert ExportOptions(timestamps="unix").timestamps is TimestampFormat.UNIX
    with pytest.raises(ValueError):
        ExportOptions(timestamps="local")


def test_streams_binary_and_text(nasty: EndUserQuery) -> None:
    binary = io.BytesIO()
    result = export_csv(nasty, "", binary, ExportOptions(bom=True))
    assert result.path is None
    rows = read_csv(binary.getvalue(), bom=True)
    assert len(rows) == len(NASTY_USERS) + 1
    text = io.StringIO(newline="")
    export_csv(nasty, "", text, ExportOptions(bom=True))
    assert text.getvalue().startswith("\ufeffid,")
    assert text.getvalue().encode("utf-8") == binary.getvalue()
    assert not binary.closed and not text.closed  # the caller's streams stay open


def test_a_console_text_stream_gets_exact_utf8_bytes(nasty: EndUserQuery) -> None:
    """Like sys.stdout under an ASCII locale on Windows: neither encoding nor newlines may bite."""
    raw = io.BytesIO()
    console = io.TextIOWrapper(raw, encoding="ascii", newline="\r\n")
    console.write("before\n")
    export_csv(nasty, "", console)
    console.write("after\n")
    console.flush()
    expected = io.BytesIO()
    export_csv(nasty, "", expected)
    assert raw.getvalue() == b"before\r\n" + expected.getvalue() + b"after\r\n"
