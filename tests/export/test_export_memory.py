"""The export streams: its own peak memory does not grow with the number of rows."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator, Sequence
from pathlib import Path

from desktop_app.cache.query import ResultRow, SortSpec
from desktop_app.domain import DisabledBy, SurveySettings
from desktop_app.export import ExportOptions, export_csv


class GeneratedQuery:
    """Rows made on the fly, so only the export's own memory is measured, not a result set."""

    def __init__(self, rows: int) -> None:
        self.rows = rows

    def count(self, filter_text: str) -> int:
        return self.rows

    def property_keys(self, exhaustive: bool = False) -> list[str]:
        return ["features_array", "k0", "k1", "k2", "k3", "k4", "plan", "seats_count"]

    def iter_rows(self, filter_text: str, sort: SortSpec, batch_size: int = 2000,
                  ids: Sequence[int] | None = None) -> Iterator[list[_Row]]:
        for start in range(0, self.rows, batch_size):
            yield [
                ResultRow(i, f"user{i}@example.com", f"=ext-{i}", None, 1_700_000_000 + i, None,
                          1_600_000_000 + i * 3600, 1_700_000_000 + i, i % 2 == 0, DisabledBy.NOBODY,
                          SurveySettings(),
                          {"plan": "pro", "seats_count": i, "features_array": ["a", "b"], f"k{i % 5}": "-x"})
                for i in range(start, min(start + batch_size, self.rows))
            ]


def peak_bytes(rows: int, target: Path) -> int:
    tracemalloc.start()
    try:
        # Default columns and a filter: the first pass over property keys runs batch by batch.
        result = export_csv(GeneratedQuery(rows), "user", target, ExportOptions())
        assert result.rows == rows
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_is_flat(tmp_path: Path) -> None:
    small = peak_bytes(2_000, tmp_path / "small.csv")
    large = peak_bytes(20_000, tmp_path / "large.csv")
    # Ten times the rows (and thousands of distinct hours in the ISO cache): under 1 MB more.
    assert large - small < 1_000_000, (small, large)
    assert (tmp_path / "large.csv").stat().st_size > 9 * (tmp_path / "small.csv").stat().st_size
