"""Streaming CSV export of the filtered end users from the offline cache (Qt-free).

RFC 4180 as the csv module writes it (CRLF line ends, minimal quoting; `csv_lines` builds the
same bytes a column at a time), UTF-8 with an optional BOM, ISO 8601 UTC or unix-seconds
timestamps, one column per property key (arrays joined with "; "), formula neutralization on
by default (exactly which cells: `cells` module docstring).
"""

from __future__ import annotations

from desktop_app.export.cells import ARRAY_SEPARATOR, FORMULA_TRIGGERS, neutralize
from desktop_app.export.columns import (
    ALL_PROPERTIES,
    BASE_COLUMNS,
    DEFAULT_COLUMNS,
    PROPERTY_PREFIX,
    ColumnError,
    ExportColumn,
    ExportOptions,
    TimestampFormat,
    available_columns,
)
from desktop_app.export.csv_export import (
    ExportCancelled,
    ExportResult,
    export_csv,
    result_property_keys,
)
from desktop_app.export.destination import ExportError
from desktop_app.fields import FieldKind

__all__ = [
    "ALL_PROPERTIES",
    "ARRAY_SEPARATOR",
    "BASE_COLUMNS",
    "DEFAULT_COLUMNS",
    "FORMULA_TRIGGERS",
    "PROPERTY_PREFIX",
    "ColumnError",
    "ExportCancelled",
    "ExportColumn",
    "ExportError",
    "ExportOptions",
    "ExportResult",
    "FieldKind",
    "TimestampFormat",
    "available_columns",
    "export_csv",
    "neutralize",
    "result_property_keys",
]
