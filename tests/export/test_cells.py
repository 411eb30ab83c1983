"""Cell rendering: the neutralization rule, fast ISO timestamps, property values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop_app.export.cells import IsoTimestamps, neutralize, property_text
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
        (" =1", " =1"),  # leading space: not a formula start
        ("\n=1", "\n=1"),  # not in OWASP's list
        ("'=1", "'=1"),
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
