"""The columns an export can have, the export's options, and how a column list is resolved."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from desktop_app.cache.reading.query import SortSpec
from desktop_app.fields import FIELDS, PROPERTY_PREFIX, EndUserField, FieldKind, property_key

if TYPE_CHECKING:
    from desktop_app.cache.reading.query import EndUserQuery

# Stands for "every property key in the exported rows", sorted case-insensitively. A property
# literally named "*" is still exported by it; it just cannot be picked on its own.
ALL_PROPERTIES = PROPERTY_PREFIX + "*"


class TimestampFormat(enum.StrEnum):
    """How timestamp columns are written."""

    ISO = "iso"  # 2024-05-01T12:00:00Z
    UNIX = "unix"  # 1714564800


@dataclass(frozen=True, slots=True)
class ExportColumn:
    """One column of an export. `id` is also its header cell; `kind` says how its cells render
    (see `cells`): text is neutralized, integers never, dates as ISO 8601 or unix seconds."""

    id: str
    label: str  # what the export dialog shows
    kind: FieldKind
    attr: str = ""  # a built-in column's stored column (an `iter_tuples` column, a ResultRow field)
    key: str = ""  # the property key of a property column

    @classmethod
    def for_property(cls, key: str) -> ExportColumn:
        return cls(PROPERTY_PREFIX + key, key, FieldKind.PROPERTY, key=key)

    @classmethod
    def for_field(cls, seed: EndUserField) -> ExportColumn:
        return cls(seed.key, seed.title, seed.kind, attr=seed.key)


BASE_COLUMNS: tuple[ExportColumn, ...] = tuple(ExportColumn.for_field(f) for f in FIELDS if f.exports)
BASE_BY_ID = {column.id: column for column in BASE_COLUMNS}

DEFAULT_COLUMNS: tuple[str, ...] = (
    "id",
    "email",
    "external_id",
    "created_at",
    "updated_at",
    "last_surveyed",
    "external_created_at",
    "surveys_disabled",
    "disabled_by",
    ALL_PROPERTIES,
)


class ColumnError(ValueError):
    """A column list names a column that does not exist, or one twice."""


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """What to export and how. `columns=None` means `DEFAULT_COLUMNS`."""

    columns: Sequence[str] | None = None
    timestamps: TimestampFormat = TimestampFormat.ISO
    bom: bool = False
    neutralize_formulas: bool = True
    sort: SortSpec = field(default_factory=SortSpec)

    def __post_init__(self) -> None:
        # Accept plain strings ("unix") from the CLI; store the enum so comparisons are exact.
        object.__setattr__(self, "timestamps", TimestampFormat(self.timestamps))
        if self.columns is not None:
            object.__setattr__(self, "columns", tuple(self.columns))
            validate_column_ids(self.columns)

    @property
    def column_ids(self) -> tuple[str, ...]:
        return tuple(self.columns) if self.columns is not None else DEFAULT_COLUMNS

    @property
    def needs_property_scan(self) -> bool:
        """True when the header depends on which property keys the exported rows have."""
        return ALL_PROPERTIES in self.column_ids


def sorted_keys(keys: Iterable[str]) -> list[str]:
    """Property keys in the export's stable order: case-insensitive, ties broken exactly."""
    return sorted(set(keys), key=lambda k: (k.casefold(), k))


def validate_column_ids(column_ids: Sequence[str]) -> None:
    """Raise ColumnError naming the first unknown or repeated column."""
    if not column_ids:
        raise ColumnError("Choose at least one column to export.")
    seen: set[str] = set()
    for column_id in column_ids:
        if column_id in seen:
            raise ColumnError(f"Column {column_id!r} is listed twice.")
        seen.add(column_id)
        if column_id in BASE_BY_ID or column_id.startswith(PROPERTY_PREFIX):
            continue  # "prop:" alone is the property with the empty key: JSON allows it
        known = ", ".join(column.id for column in BASE_COLUMNS)
        raise ColumnError(
            f"Unknown column {column_id!r}. Columns: {known}, prop:<key> for one property, "
            f"{ALL_PROPERTIES} for every property."
        )


def resolve_columns(column_ids: Sequence[str], result_keys: Sequence[str]) -> tuple[ExportColumn, ...]:
    """The concrete columns: `prop:*` expands to `result_keys` not already picked by name."""
    validate_column_ids(column_ids)
    named = {
        cid[len(PROPERTY_PREFIX):]
        for cid in column_ids
        if cid.startswith(PROPERTY_PREFIX) and cid != ALL_PROPERTIES
    }
    columns: list[ExportColumn] = []
    for column_id in column_ids:
        if column_id == ALL_PROPERTIES:
            columns.extend(
                ExportColumn.for_property(key) for key in sorted_keys(result_keys) if key not in named
            )
        elif (key := property_key(column_id)) is not None:
            columns.append(ExportColumn.for_property(key))
        else:
            columns.append(BASE_BY_ID[column_id])
    return tuple(columns)


def available_columns(query: EndUserQuery) -> tuple[ExportColumn, ...]:
    """Every column an export can have: the built-in ones, then one per property key cached.

    Reads every row for the keys (seconds at a million end users): call it off the GUI thread.
    """
    keys = query.property_keys(exhaustive=True)
    properties = (ExportColumn.for_property(key) for key in sorted_keys(keys))
    return BASE_COLUMNS + tuple(properties)
