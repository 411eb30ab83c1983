"""Copy the selected end users to the clipboard: tab-separated text (Ctrl+C) or CSV.

The cells come from the export itself (`export_csv` into memory), so the clipboard holds what
an export of the same rows would: ISO dates, properties flattened, and text that starts like a
spreadsheet formula neutralized. Tab-separated text is that CSV re-joined with tabs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from desktop_app.export.columns import ExportOptions
from desktop_app.export.csv_export import export_csv
from desktop_app.ui.columns import ColumnSpec

if TYPE_CHECKING:
    from desktop_app.cache.reading.query import EndUserQuery, SortSpec


def export_columns(table_columns: Sequence[ColumnSpec]) -> list[str]:
    """The export column ids for the table's visible columns, in their order (markers left out)."""
    ids: list[str] = []
    for spec in table_columns:
        for column_id in spec.export_ids:
            if column_id not in ids:
                ids.append(column_id)
    return ids or ["email"]


def rows_as_csv(
    query: EndUserQuery, filter_text: str, sort: SortSpec, ids: Sequence[int], table_columns: Sequence[ColumnSpec]
) -> str:
    """The end users `ids` as CSV with a header row, in the table's order and columns."""
    out = io.StringIO()
    options = ExportOptions(columns=export_columns(table_columns), sort=sort)
    export_csv(query, filter_text, out, options, ids=ids)
    return out.getvalue()


def csv_as_tsv(text: str) -> str:
    """CSV re-joined with tabs, one line a row; tabs and line breaks inside a cell become spaces."""
    lines = []
    for row in csv.reader(io.StringIO(text)):
        lines.append("\t".join(" ".join(cell.split()) if any(c in cell for c in "\t\r\n") else cell for cell in row))
    return "\n".join(lines) + ("\n" if lines else "")
