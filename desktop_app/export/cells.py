"""How each exported value becomes CSV cell text: timestamps, properties, formula neutralization.

Which cells are neutralized (when `neutralize_formulas` is on):
- Text that came from the data: email, external id, phone number, string property values and
  arrays joined into one cell. Such a cell gets a leading `'` (OWASP's CSV-injection advice)
  when it starts with `=`, `+`, `-`, `@`, a tab or a carriage return, with their full-width
  forms `＝`, `＋`, `－`, `＠` (some spreadsheets read those as the ASCII ones), or with any
  whitespace (spaces, line breaks, no-break and ideographic spaces...) followed by one of those
  (some spreadsheets, and LibreOffice's "Trim spaces" import, trim before evaluating). UNLESS
  the cell, less that leading whitespace, is a plain decimal number (`-12.5`, ` +14155554131`,
  `1e6`): a spreadsheet reads that as a number, never as a formula, so prefixing it would only
  mangle it. (A tab or carriage return at the very start is a trigger of its own, as OWASP
  lists it: `\t-5` is prefixed.)
- Never: cells the app writes itself from numbers or fixed vocabularies: ids, unix or ISO
  timestamps, `true`/`false`, `disabled_by`, JSON numbers in properties (negative ones
  included), nested objects rendered as JSON (they start with `{`), and the header row (every
  header starts with a letter).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from desktop_app.domain import DisabledBy
from desktop_app.export.columns import ExportColumn, TimestampFormat
from desktop_app.fields import FieldKind

# What a formula may start with, once a spreadsheet has trimmed leading whitespace.
FORMULA_STARTS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")  # and full-width ＝＋－＠
# Every whitespace character (str.isspace: the highest is U+3000, the ideographic space).
_WHITESPACE = frozenset(c for c in map(chr, range(0x3001)) if c.isspace())
# A cell whose first character is not one of these is never neutralized: the fast paths below
# test only that, and call `neutralize` for the rest.
FORMULA_TRIGGERS = FORMULA_STARTS | _WHITESPACE
ARRAY_SEPARATOR = "; "

# ASCII digits only: `\d` would also accept Arabic-Indic digits a spreadsheet does not parse.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

# One column of a batch of stored values -> that column's cells, in the same order.
ColumnCells = Callable[[Sequence[Any]], Sequence[object]]


def neutralize(text: str) -> str:
    """`text` made inert for spreadsheets: `'` before a formula-like start (see module doc)."""
    if not text:
        return text
    first = text[0]
    if first in FORMULA_STARTS or first in "\t\r":
        return text if _PLAIN_NUMBER.fullmatch(text) else "'" + text
    if first in _WHITESPACE:
        trimmed = text.lstrip()
        if trimmed[:1] in FORMULA_STARTS and _PLAIN_NUMBER.fullmatch(trimmed) is None:
            return "'" + text
    return text


_ISO_MIN = -62135596800  # 0001-01-01T00:00:00Z
_ISO_MAX = 253402300799  # 9999-12-31T23:59:59Z
# An ISO timestamp is glued from three lookups instead of building a datetime (about five
# times faster at a million rows): the day's `YYYY-MM-DDT`, the hour's `HH:`, and `MM:SSZ`.
_HOURS = tuple(f"{h:02d}:" for h in range(24))
_MINUTE_SECOND = tuple(f"{s // 60:02d}:{s % 60:02d}Z" for s in range(3600))


class _DayPrefixes(dict[int, str]):
    """`YYYY-MM-DDT` per unix day, computed on first use; bounded so memory stays flat."""

    LIMIT = 40_000  # a century of distinct days, about 3 MB at most

    def __missing__(self, day: int) -> str:
        if not _ISO_MIN <= day * 86400 <= _ISO_MAX:
            raise ValueError(day)  # the caller falls back to writing the number
        if len(self) >= self.LIMIT:
            self.clear()
        prefix = time.strftime("%Y-%m-%dT", time.gmtime(day * 86400))
        self[day] = prefix
        return prefix


class IsoTimestamps:
    """Unix seconds to ISO 8601 UTC (`2024-05-01T12:00:00Z`), fast, for one export run."""

    def __init__(self) -> None:
        self._days = _DayPrefixes()

    def __call__(self, unix: int | None) -> str:
        if unix is None:
            return ""
        unix = int(unix)
        if not _ISO_MIN <= unix <= _ISO_MAX:
            return str(unix)  # no ISO form exists for it: the number is the honest rendering
        return self._days[unix // 86400] + _HOURS[unix // 3600 % 24] + _MINUTE_SECOND[unix % 3600]

    def column(self, values: Sequence[int | None]) -> list[object]:
        days, hours, minute_second = self._days, _HOURS, _MINUTE_SECOND
        try:
            return [
                "" if u is None else days[u // 86400] + hours[u // 3600 % 24] + minute_second[u % 3600]
                for u in values
            ]
        except (TypeError, IndexError, OverflowError, OSError, ValueError):
            return [self(u) for u in values]  # out-of-range or odd values: the careful path


def property_text(value: Any, neutralize_formulas: bool) -> object:  # any decoded JSON value
    """One property value as a cell. Missing and JSON null are both an empty cell.

    Numbers stay numbers, booleans are `true`/`false`, arrays are their items joined with
    `"; "` (text, so neutralized as a whole), nested objects are compact JSON.
    """
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        return neutralize(value) if neutralize_formulas else value
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return value
    if kind is float:
        if math.isfinite(value):
            return value  # the csv module writes repr(): the shortest exact form
        text = json.dumps(value)  # NaN / Infinity: only from hand-made JSON; they are text
        return neutralize(text) if neutralize_formulas else text
    if kind is list:
        text = ARRAY_SEPARATOR.join(_array_item(item) for item in value)
        return neutralize(text) if neutralize_formulas else text
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _array_item(item: object) -> str:
    if item is None:
        return ""
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, (str, int, float)):
        return str(item)
    return json.dumps(item, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


_CHOICES = {member.value: member.value for member in DisabledBy}


def base_cells(
    column: ExportColumn,
    timestamps: TimestampFormat,
    neutralize_formulas: bool,
    iso: IsoTimestamps,
) -> ColumnCells | None:
    """How a built-in column's stored values (one column of a batch) become its cells.

    None when the stored values already are the cells: the csv module writes ints with str()
    and None as an empty cell. Each renderer is one list comprehension over the column, with
    no Python call per cell: that is what keeps a million-row export near the csv module's
    own speed.
    """
    kind = column.kind
    if kind is FieldKind.TEXT and neutralize_formulas:
        triggers = FORMULA_TRIGGERS

        def text_cells(values: Sequence[Any]) -> list[object]:
            return [neutralize(v) if v and v[0] in triggers else v for v in values]

        return text_cells
    if kind is FieldKind.BOOL:

        def boolean_cells(values: Sequence[Any]) -> list[object]:
            return ["true" if v else "false" for v in values]

        return boolean_cells
    if kind is FieldKind.DATE and timestamps is TimestampFormat.ISO:
        return iso.column
    if kind is FieldKind.CHOICE:
        choices = _CHOICES
        known = frozenset(choices)

        def choice_cells(values: Sequence[Any]) -> Sequence[object]:
            if known.issuperset(values):  # the usual batch: checked without a Python call per cell
                return values
            return [choices.get(v, "") for v in values]  # unknown stored text: nobody

        return choice_cells
    return None  # INTEGER, unix DATE, TEXT without neutralization


def token_cells(neutralize_formulas: bool) -> ColumnCells:
    """Cells from one property's JSON texts (`iter_tuples`' `prop:<key>` columns).

    Plain strings (no escapes) and non-negative integers are read inline; any other text is
    decoded by json and rendered by `property_text`, so every value renders exactly as it
    does from the decoded document.
    """
    if neutralize_formulas:
        triggers = FORMULA_TRIGGERS

        def neutralized(texts: Sequence[str | None]) -> list[object]:
            return [
                "" if t is None
                else (t[1:-1] if t[1:2] not in triggers else neutralize(t[1:-1]))
                if t[0] == '"' and "\\" not in t
                else t if t.isdigit() else _token_cell(t, True)
                for t in texts
            ]

        return neutralized

    def kept(texts: Sequence[str | None]) -> list[object]:
        return [
            "" if t is None
            else t[1:-1] if t[0] == '"' and "\\" not in t
            else t if t.isdigit() else _token_cell(t, False)
            for t in texts
        ]

    return kept


def _token_cell(text: str, neutralize_formulas: bool) -> object:
    try:
        value = _loads(text)
    except ValueError:  # an integer past Python's int-to-text digit limit: keep it as written
        return text
    return property_text(value, neutralize_formulas)


_loads = json.loads


def date_property_cells(cells: ColumnCells, iso: IsoTimestamps) -> ColumnCells:
    """A date property's cells (`*_date`, `*_at`: unix seconds) as ISO timestamps.

    Only whole seconds become dates, as in the window; other values keep their cells.
    """

    def dated(values: Sequence[Any]) -> list[object]:
        return [
            iso(int(c)) if type(c) is int or (type(c) is str and c.isdigit()) else c
            for c in cells(values)
        ]

    return dated


def document_cells(key: str, neutralize_formulas: bool) -> ColumnCells:
    """Cells of property `key` from decoded property dicts (keys SQL cannot take out)."""
    triggers = FORMULA_TRIGGERS

    def cells(documents: Sequence[Any]) -> list[object]:
        values = [document.get(key) for document in documents]
        # Text, missing (None: an empty cell) and integers inline; the rest in a call.
        if neutralize_formulas:
            return [
                (neutralize(v) if v and v[0] in triggers else v)
                if type(v) is str
                else v if v is None or type(v) is int else property_text(v, True)
                for v in values
            ]
        return [
            v if v is None or type(v) in (str, int) else property_text(v, False)
            for v in values
        ]

    return cells
