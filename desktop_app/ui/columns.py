"""The end-user table's columns: what each shows, how it sorts, and the remembered layout."""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from PySide6.QtCore import QCoreApplication, QSettings

from desktop_app.domain import DisabledBy
from desktop_app.fields import (
    FIELDS,
    FIELDS_BY_KEY,
    MARKERS,
    PROPERTY_PREFIX,
    SURVEYS,
    EndUserField,
    PropertyType,
    property_key,
    property_type,
)
from desktop_app.timestamps import iso_utc


class ColumnKind(enum.Enum):
    """What a table column draws from: one seed field, several at once, or one property."""

    MARKERS = "markers"  # pending edits, conflict, deleted here: icons (`fields.MARKERS`)
    SURVEYS = "surveys"  # surveys on/off and who turned them off, in words (`fields.SURVEYS`)
    FIELD = "field"  # one seed field: `field` says its title and kind
    PROPERTY = "property"


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column: `key` is a seed field's key, `markers`, `surveys` or `prop:<property key>`."""

    key: str
    kind: ColumnKind
    default_width: int = 140
    field: EndUserField | None = None

    @property
    def sort_column(self) -> str | None:
        """The SortSpec column this column sorts by in SQL (None: not sortable)."""
        if self.kind is ColumnKind.MARKERS:
            return None  # three facts in icons: no one order reads right
        if self.kind is ColumnKind.SURVEYS:
            return next((f.key for f in _shown_in(self.key) if f.sorts), None)
        return self.key

    @property
    def property_key(self) -> str | None:
        return property_key(self.key)

    @property
    def export_ids(self) -> tuple[str, ...]:
        """The export columns holding what this column shows (the markers are left out)."""
        if self.kind is ColumnKind.MARKERS:
            return ()
        if self.kind is ColumnKind.SURVEYS:
            return tuple(f.key for f in _shown_in(self.key) if f.exports)
        return (self.key,)

    def title(self) -> str:
        if self.field is not None:
            return _t(self.field.title)
        if self.kind is ColumnKind.SURVEYS:
            return _t("Surveys")
        return self.property_key or ""  # a property column's title is its key


def _t(text: str) -> str:
    return QCoreApplication.translate("Columns", text)


def _shown_in(table_column: str) -> tuple[EndUserField, ...]:
    return tuple(f for f in FIELDS if f.table == table_column)


# The table's own presentation: where each column sits (in the chooser too) and how wide it
# starts. What the columns are comes from `fields.FIELDS`; a field missing here goes last.
_PLACES: dict[str, int] = {
    MARKERS: 44, "email": 260, SURVEYS: 150, "external_id": 130, "id": 90, "phone_number": 130,
    "created_at": 110, "updated_at": 110, "last_surveyed": 110, "external_created_at": 120,
    "latest_score": 90, "latest_comment": 260, "response_count": 90,
}
_ORDER = {key: place for place, key in enumerate(_PLACES)}
_COMPOSED = {MARKERS: ColumnKind.MARKERS, SURVEYS: ColumnKind.SURVEYS}


def _builtin(key: str) -> ColumnSpec:
    width = _PLACES.get(key, PROPERTY_WIDTH)
    if key in _COMPOSED:
        return ColumnSpec(key, _COMPOSED[key], width)
    return ColumnSpec(key, ColumnKind.FIELD, width, FIELDS_BY_KEY[key])


PROPERTY_WIDTH = 120
BUILTIN_COLUMNS: tuple[ColumnSpec, ...] = tuple(
    _builtin(key)
    for key in sorted(dict.fromkeys(f.table for f in FIELDS if f.table), key=lambda k: _ORDER.get(k, len(_ORDER)))
)
_BUILTIN_BY_KEY = {c.key: c for c in BUILTIN_COLUMNS}
DEFAULT_VISIBLE: tuple[str, ...] = (
    MARKERS, "email", SURVEYS, "external_id", "last_surveyed", "created_at",
)


def column_for(key: str) -> ColumnSpec | None:
    """The spec of a built-in column key or a `prop:<key>` column; None for unknown keys."""
    if key in _BUILTIN_BY_KEY:
        return _BUILTIN_BY_KEY[key]
    if key.startswith(PROPERTY_PREFIX) and len(key) > len(PROPERTY_PREFIX):
        return ColumnSpec(key, ColumnKind.PROPERTY, PROPERTY_WIDTH)
    return None


def property_column(key: str) -> ColumnSpec:
    return ColumnSpec(PROPERTY_PREFIX + key, ColumnKind.PROPERTY, PROPERTY_WIDTH)


# --- rendering values -----------------------------------------------------------------------


def format_date(unix: int | None) -> str:
    """A date for a table cell: `2024-05-01` (UTC, so it matches exports and filters)."""
    if unix is None:
        return ""
    return iso_utc(unix)[:10]


def format_datetime(unix: int | None) -> str:
    """A full readable timestamp for the detail panel: `2024-05-01 14:03:22 UTC`."""
    if unix is None:
        return ""
    return iso_utc(unix).replace("T", " ").replace("Z", " UTC")


def format_property(key: str, value: Any) -> str:
    """A property value as people read it, following the key's suffix convention."""
    if value is None:
        return ""
    kind = property_type(key)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if kind is PropertyType.DATE:
        unix = _as_number(value)
        if unix is not None and math.isfinite(unix) and 0 <= unix < 10**11:
            return datetime.fromtimestamp(int(unix), tz=timezone.utc).strftime("%Y-%m-%d")
    if kind is PropertyType.LIST and isinstance(value, str) and value.startswith("["):
        try:
            items = json.loads(value)
        except ValueError:
            return value
        if isinstance(items, list):
            return ", ".join(str(v) for v in items)
    if kind is PropertyType.NUMBER:
        number = _as_number(value)
        if number is not None and math.isfinite(number):
            return f"{int(number):,}" if number.is_integer() else f"{number:,.2f}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def surveys_text(disabled: bool, disabled_by: str | DisabledBy) -> str:
    """Readable without colour: the word says on/off and who turned them off."""
    if not disabled:
        return _t("On")
    if str(disabled_by) == DisabledBy.END_USER.value:
        return _t("Off (opted out)")
    return _t("Off (admin)")


# --- remembered layout ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnLayout:
    """Visible columns in visual order with their widths; stored as JSON in QSettings."""

    keys: tuple[str, ...] = DEFAULT_VISIBLE
    widths: Mapping[str, int] | None = None

    def width_of(self, spec: ColumnSpec) -> int:
        return int((self.widths or {}).get(spec.key, spec.default_width))

    def specs(self) -> list[ColumnSpec]:
        out: list[ColumnSpec] = []
        for key in self.keys:
            spec = column_for(key)
            if spec is not None and spec not in out:
                out.append(spec)
        return out or [default for k in DEFAULT_VISIBLE if (default := column_for(k)) is not None]

    def with_keys(self, keys: Sequence[str]) -> ColumnLayout:
        return ColumnLayout(tuple(keys), self.widths)

    def to_json(self) -> str:
        return json.dumps({"keys": list(self.keys), "widths": dict(self.widths or {})})

    @classmethod
    def from_json(cls, text: str | None) -> ColumnLayout:
        if not text:
            return cls()
        try:
            data = json.loads(text)
            keys = tuple(str(k) for k in data["keys"] if column_for(str(k)) is not None)
            widths = {str(k): int(v) for k, v in dict(data.get("widths", {})).items()}
        except (ValueError, KeyError, TypeError):
            return cls()  # a damaged setting must never stop the window from opening
        return cls(keys or DEFAULT_VISIBLE, widths)

    SETTINGS_KEY = "main_window/columns"

    @classmethod
    def load(cls, settings: QSettings) -> ColumnLayout:
        value = settings.value(cls.SETTINGS_KEY, "")
        return cls.from_json(value if isinstance(value, str) else None)

    def save(self, settings: QSettings) -> None:
        settings.setValue(self.SETTINGS_KEY, self.to_json())
