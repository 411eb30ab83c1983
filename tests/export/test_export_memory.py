"""The export streams: its own peak memory does not grow with the number of rows."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from desktop_app.cache.reading.query import TUPLE_COLUMNS, SortSpec
from desktop_app.export import ALL_PROPERTIES, DEFAULT_COLUMNS, ExportOptions, export_csv

PROPERTIES = ["features_array", "k0", "k1", "k2", "k3", "k4", "plan", "seats_count"]


class GeneratedQuery:
    """`EndUserQuery.iter_tuples` on rows made on the fly, so only the export's own memory is
    measured, not a result set. Values come as the real query gives them: stored values,
    `properties_json` as JSON text and `prop:<key>` as the JSON text of one value."""

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self.read: list[tuple[str, ...]] = []  # the columns of each iter_tuples call

    def count(self, filter_text: str) -> int:
        return self.rows

    def property_keys(self, exhaustive: bool = False) -> list[str]:
        return PROPERTIES

    def iter_tuples(self, filter_text: str, sort: SortSpec, columns: Sequence[str], batch_size: int = 2000,
                    ids: Sequence[int] | None = None) -> Iterator[list[tuple[Any, ...]]]:
        self.read.append(tuple(columns))
        for start in range(0, self.rows, batch_size):
            yield [self._row(i, columns) for i in range(start, min(start + batch_size, self.rows))]

    def _row(self, i: int, columns: Sequence[str]) -> tuple[Any, ...]:
        properties: dict[str, Any] = {"plan": "pro", "seats_count": i, "features_array": ["a", "b"], f"k{i % 5}": "-x"}
        stored = {
            "id": i, "email": f"user{i}@example.com", "external_id": f"=ext-{i}", "external_created_at": None,
            "last_surveyed": 1_700_000_000 + i, "phone_number": None, "created_at": 1_600_000_000 + i * 3600,
            "updated_at": 1_700_000_000 + i, "surveys_disabled": i % 2, "disabled_by": "",
            "settings_json": "{}", "properties_json": "", "pending_count": 0,
            "has_conflict": 0, "pending_delete": 0, "latest_score": i % 11, "latest_comment": "slow",
            "response_count": i % 4,
        }
        assert set(stored) == TUPLE_COLUMNS
        stored["properties_json"] = json.dumps(properties) if "properties_json" in columns else "{}"
        return tuple(
            stored[c] if c in stored
            else json.dumps(properties[c[5:]]) if c[5:] in properties else None
            for c in columns
        )


def peak_bytes(query: GeneratedQuery, target: Path, options: ExportOptions) -> int:
    tracemalloc.start()
    try:
        result = export_csv(query, "user", target, options)
        assert result.rows == query.rows
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


SQL_PROPERTIES = ExportOptions(columns=[c for c in DEFAULT_COLUMNS if c != ALL_PROPERTIES]
                               + ["prop:plan", "prop:seats_count", "prop:features_array"])


# Three property columns: read as JSON texts SQL takes out. Default columns (every key, eight
# of them) and a filter: the first pass over keys runs batch by batch, then the documents are
# decoded in Python.
@pytest.mark.parametrize("options", [SQL_PROPERTIES, ExportOptions()], ids=["sql", "documents"])
def test_peak_memory_is_flat(tmp_path: Path, options: ExportOptions) -> None:
    small = peak_bytes(GeneratedQuery(2_000), tmp_path / "small.csv", options)
    query = GeneratedQuery(20_000)
    large = peak_bytes(query, tmp_path / "large.csv", options)
    in_sql = options is SQL_PROPERTIES
    assert any(c.startswith("prop:") for c in query.read[-1]) is in_sql
    assert ("properties_json" in query.read[-1]) is not in_sql
    # Ten times the rows (and thousands of distinct hours in the ISO cache): under 1 MB more.
    assert large - small < 1_000_000, (small, large)
    assert (tmp_path / "large.csv").stat().st_size > 9 * (tmp_path / "small.csv").stat().st_size
