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
from desktop_app.property_types import PropertyType, property_type
from desktop_app.timestamps import iso_utc

PROPERTY_PREFIX = "prop:"
MARKERS = "markers"  # the narrow column with pending/conflict/deleted markers


class ColumnKind(enum.Enum):
    MARKERS = "markers"
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    SURVEYS = "surveys"
    PROPERTY = "property"


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column: `key` is a seed field name, `markers`, or `prop:<property key>`."""

    key: str
    kind: ColumnKind
    default_width: int = 140

    @property
    def sort_column(self) -> str | None:
        """The SortSpec column this column sorts by in SQL (None: not sortable)."""
        if self.kind is ColumnKind.MARKERS:
            return None
        if self.kind is ColumnKind.SURVEYS:
            return "surveys_disabled"
        return self.key

    @property
    def property_key(self) -> str | None:
        return self.key[len(PROPERTY_PREFIX):] if self.key.startswith(PROPERTY_PREFIX) else None

    def title(self) -> str:
        key = self.property_key
        if key is not None:
            return key
        return _TITLES.get(self.key, (lambda: self.key))()


def _t(text: str) -> str:
    return QCoreApplication.translate("Columns", text)


_TITLES = {
    MARKERS: lambda: "",
    "email": lambda: _t("Email"),
    "surveys": lambda: _t("Surveys"),
    "external_id": lambda: _t("External ID"),
    "id": lambda: _t("ID"),
    "phone_number": lambda: _t("Phone"),
    "created_at": lambda: _t("Created"),
    "updated_at": lambda: _t("Updated"),
    "last_surveyed": lambda: _t("Last surveyed"),
    "external_created_at": lambda: _t("External created"),
}

BUILTIN_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec(MARKERS, ColumnKind.MARKERS, 44),
    ColumnSpec("email", ColumnKind.TEXT, 260),
    ColumnSpec("surveys", ColumnKind.SURVEYS, 150),
    ColumnSpec("external_id", ColumnKind.TEXT, 130),
    ColumnSpec("id", ColumnKind.NUMBER, 90),
    ColumnSpec("phone_number", ColumnKind.TEXT, 130),
    ColumnSpec("created_at", ColumnKind.DATE, 110),
    ColumnSpec("updated_at", ColumnKind.DATE, 110),
    ColumnSpec("last_surveyed", ColumnKind.DATE, 110),
    ColumnSpec("external_created_at", ColumnKind.DATE, 120),
)
_BUILTIN_BY_KEY = {c.key: c for c in BUILTIN_COLUMNS}
DEFAULT_VISIBLE: tuple[str, ...] = (
    MARKERS, "email", "surveys", "external_id", "last_surveyed", "created_at",
)


def column_for(key: str) -> ColumnSpec | None:
    """The spec of a built-in column key or a `prop:<key>` column; None for unknown keys."""
    if key in _BUILTIN_BY_KEY:
        return _BUILTIN_BY_KEY[key]
    if key.startswith(PROPERTY_PREFIX) and len(key) > len(PROPERTY_PREFIX):
        return ColumnSpec(key, ColumnKind.PROPERTY, 120)
    return None


def property_column(property_key: str) -> ColumnSpec:
    return ColumnSpec(PROPERTY_PREFIX + property_key, ColumnKind.PROPERTY, 120)


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
