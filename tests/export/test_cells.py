"""Cell rendering: the neutralization rule, fast ISO timestamps, property values."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop_app.export.cells import (
    IsoTimestamps,
    base_cells,
    document_cells,
    neutralize,
    property_text,
    token_cells,
)
from desktop_app.export.columns import ExportColumn, TimestampFormat
from desktop_app.fields import FieldKind
from desktop_app.timestamps import iso_utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1+1", "'+1+1"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-", "'-"),
        ("+", "'+"),
        ("-e5", "'-e5"),
        ("--5", "'--5"),
        ("-5 ", "'-5 "),  # not exactly a number: a spreadsheet would not read it as one
        ("-٣", "'-٣"),  # Arabic-Indic digit: not a plain ASCII number
        ("-0x1F", "'-0x1F"),
        ("-5", "-5"),
        ("+5", "+5"),
        ("-12.5", "-12.5"),
        ("-.5", "-.5"),
        ("+1e6", "+1e6"),
        ("-1E-6", "-1E-6"),
        ("+14155554131", "+14155554131"),
        ("", ""),
        ("plain", "plain"),
        ("'=1", "'=1"),
        # issue 11 item 7: spreadsheets that trim leading whitespace before evaluating
        (" =1", "' =1"),
        ("\n=1", "'\n=1"),
        ("\r\n=1", "'\r\n=1"),
        ("  @SUM(A1)", "'  @SUM(A1)"),
        (" \t+1+1", "' \t+1+1"),
        ("\u00a0=1", "'\u00a0=1"),  # no-break space
        ("\u3000=1", "'\u3000=1"),  # ideographic space
        ("\v-1+1", "'\v-1+1"),
        ("\u2028=1", "'\u2028=1"),  # line separator
        (" -", "' -"),
        (" - 5", "' - 5"),
        (" +1 ", "' +1 "),  # as "-5 ": not exactly a number
        (" -5", " -5"),  # a number once trimmed: left alone, as "-5"
        ("\n+14155554131", "\n+14155554131"),
        (" 5", " 5"),
        ("  indented", "  indented"),
        (" ", " "),
        (" '=1", " '=1"),
        ("\u200b=1", "\u200b=1"),  # zero-width space is no whitespace: nothing trims it
        # full-width forms, read as the ASCII signs by some spreadsheets (Japanese input)
        ("\uff1d1+1", "'\uff1d1+1"),
        ("\uff0b1", "'\uff0b1"),
        ("\uff0d1", "'\uff0d1"),
        ("\uff20cmd", "'\uff20cmd"),
        (" \uff1dSUM(A1)", "' \uff1dSUM(A1)"),
        ("\uff0d\uff15", "'\uff0d\uff15"),  # full-width digits: no plain number
        ("a=1", "a=1"),
    ],
)
def test_neutralize(text: str, expected: str) -> None:
    assert neutralize(text) == expected


@given(st.integers(min_value=-62135596800, max_value=253402300799))
def test_iso_timestamps_match_the_reference(unix: int) -> None:
    iso = IsoTimestamps()
    assert iso(unix) == iso_utc(unix)
    assert iso.column([unix, None]) == [iso_utc(unix), ""]


def test_iso_timestamps_out_of_range_write_the_number() -> None:
    iso = IsoTimestamps()
    assert iso.column([10**15, 0, -(10**15)]) == [str(10**15), "1970-01-01T00:00:00Z", str(-(10**15))]
    assert iso(253402300800) == "253402300800"


def test_iso_day_cache_stays_bounded() -> None:
    iso = IsoTimestamps()
    values = [d * 86400 for d in range(-30_000, 30_000)]
    iso.column(values)
    assert len(iso._days) <= iso._days.LIMIT


@pytest.mark.parametrize(
    ("value", "on", "expected"),
    [
        (None, True, ""),
        ("", True, ""),
        ("=x", True, "'=x"),
        ("=x", False, "=x"),
        (True, True, "true"),
        (False, True, "false"),
        (-5, True, -5),
        (-0.5, True, -0.5),
        (float("nan"), True, "NaN"),
        (float("-inf"), True, "'-Infinity"),
        (["a", "b"], True, "a; b"),
        (["-a"], True, "'-a"),
        (["-a"], False, "-a"),
        ([], True, ""),
        ({"z": 1, "a": [True]}, True, '{"a":[true],"z":1}'),
        ({"ü": "é"}, True, '{"ü":"é"}'),
    ],
)
def test_property_text(value: object, on: bool, expected: object) -> None:
    assert property_text(value, on) == expected


_FORMULA_SIGNS = "=+-@\uff1d\uff0b\uff0d\uff20"


def _reference(text: str) -> str:
    """The rule spelled out once more, slowly (see the export module's doc)."""
    trimmed = text.lstrip()
    number = re.fullmatch(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", trimmed)
    if text[:1] in ("\t", "\r"):
        return "'" + text
    if trimmed[:1] and trimmed[0] in _FORMULA_SIGNS and not number:
        return "'" + text
    return text


_cell_text = st.text(alphabet=st.sampled_from(
    list(" \t\r\n\v\x0c\u00a0\u2028\u3000\u200b=+-@'.e5a") + list(_FORMULA_SIGNS)), max_size=6)


@settings(max_examples=500, deadline=None)
@given(_cell_text)
def test_every_renderer_neutralizes_as_the_rule_says(text: str) -> None:
    """The fast paths (built-in text columns, JSON property tokens, decoded documents, arrays)
    decide from the first character and must agree with `neutralize` for every cell."""
    expected = _reference(text)
    assert neutralize(text) == expected
    text_column = base_cells(ExportColumn("email", "email", FieldKind.TEXT), TimestampFormat.ISO,
                             True, IsoTimestamps())
    assert text_column is not None and list(text_column([text])) == [expected]
    token = json.dumps(text, ensure_ascii=False)
    assert list(token_cells(True)([token, json.dumps(text)])) == [expected, expected]
    assert list(document_cells("k", True)([{"k": text}])) == [expected]
    assert property_text([text, "x"], True) == _reference(text + "; x")
