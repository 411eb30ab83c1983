"""Date properties (`*_date`, `*_at`) follow the export's timestamp option, as the built-in
timestamps do: the window shows them as dates, so an ISO export must not write unix seconds."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop_app.cache.reading.query import EndUserQuery
from desktop_app.export import ExportOptions, TimestampFormat, export_csv
from nasty_end_users import SeedUser

USERS = [
    SeedUser(1, "a@example.org", properties={
        "signup_date": 1_714_564_800, "renewed_at": 1_700_000_000, "plan": "Pro",
        "seats_count": 12, "zip": "1714564800"}),
    SeedUser(2, "b@example.org", properties={"signup_date": "soon", "renewed_at": -86400}),
    SeedUser(3, "c@example.org", properties={}),
]


def _rows(query: EndUserQuery, tmp_path: Path, timestamps: TimestampFormat,
          columns: list[str]) -> list[dict[str, str]]:
    out = tmp_path / f"{timestamps.value}-{len(columns)}.csv"
    export_csv(query, "", out, ExportOptions(columns=columns, timestamps=timestamps))
    return list(csv.DictReader(io.StringIO(out.read_text("utf-8"))))


# Up to three property columns are read in SQL, more from the decoded document: both paths.
@pytest.mark.parametrize("columns", [
    ["id", "prop:signup_date", "prop:renewed_at"],
    ["id", "prop:signup_date", "prop:renewed_at", "prop:plan", "prop:seats_count", "prop:zip"],
])
def test_date_properties_follow_the_timestamp_option(
    cache_factory: Callable[..., EndUserQuery], tmp_path: Path, columns: list[str]
) -> None:
    query = cache_factory(USERS)
    iso = _rows(query, tmp_path, TimestampFormat.ISO, columns)
    assert [r["prop:signup_date"] for r in iso] == ["2024-05-01T12:00:00Z", "soon", ""]
    assert [r["prop:renewed_at"] for r in iso] == ["2023-11-14T22:13:20Z", "1969-12-31T00:00:00Z", ""]
    unix = _rows(query, tmp_path, TimestampFormat.UNIX, columns)
    assert [r["prop:signup_date"] for r in unix] == ["1714564800", "soon", ""]
    if "prop:zip" in columns:  # not a date key: digits stay as they are
        assert iso[0]["prop:zip"] == "1714564800" and iso[0]["prop:seats_count"] == "12"
