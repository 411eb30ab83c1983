"""What a list asks to do to the people it names: one action, or each person's own values."""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from dataclasses import dataclass

from desktop_app.cache.records import EditKind, EditRejected
from desktop_app.cache.writes.edits import EditOp
from desktop_app.cache.writes.validation import check_property_key, check_property_value
from desktop_app.domain import PropertyValue
from desktop_app.property_types import parse_property_text


class ActionKind(enum.StrEnum):
    """The actions a list can carry; the words are the command line's (`apply-list --erase`)."""

    DISABLE_SURVEYS = "disable_surveys"
    ENABLE_SURVEYS = "enable_surveys"
    SET_PROPERTY = "set_property"  # one key and value for everyone
    UNSET_PROPERTY = "unset_property"
    SET_EXTERNAL_ID = "set_external_id"  # each person's own, from a column (`email,external_id`)
    SET_COLUMNS = "set_columns"  # each person's own property values, one column per key
    ERASE = "erase"


PER_ROW = frozenset({ActionKind.SET_EXTERNAL_ID, ActionKind.SET_COLUMNS})
EXTERNAL_ID_COLUMN = "external_id"
# The field a report's current/wanted pairs name for the actions that are not about properties.
SURVEYS_FIELD = "surveys"  # True: surveys on
ERASED_FIELD = "erased"


@dataclass(frozen=True, slots=True)
class ListAction:
    """One action on a list's people. SET_PROPERTY has `key` and `value`, UNSET_PROPERTY a
    `key`; SET_EXTERNAL_ID reads the column `key` (default `external_id`); SET_COLUMNS reads
    every column of the per-row values as a property, typed by its name's suffix."""

    kind: ActionKind
    key: str | None = None
    value: PropertyValue | None = None

    def __post_init__(self) -> None:
        if self.kind in (ActionKind.SET_PROPERTY, ActionKind.UNSET_PROPERTY):
            object.__setattr__(self, "key", check_property_key(self.key))
        if self.kind is ActionKind.SET_PROPERTY:
            object.__setattr__(self, "value", check_property_value(self.value))

    @property
    def per_row(self) -> bool:
        return self.kind in PER_ROW

    def edit_op(self) -> EditOp:
        """The edit one value for everyone makes (not for per-row actions)."""
        match self.kind:
            case ActionKind.DISABLE_SURVEYS | ActionKind.ENABLE_SURVEYS:
                return EditOp(EditKind.SET_SURVEYS, None, self.kind is ActionKind.ENABLE_SURVEYS)
            case ActionKind.SET_PROPERTY:
                return EditOp(EditKind.SET_PROPERTY, self.key, self.value)
            case ActionKind.UNSET_PROPERTY:
                return EditOp(EditKind.UNSET_PROPERTY, self.key)
            case ActionKind.ERASE:
                return EditOp(EditKind.DELETE, None, True)
        raise ValueError(f"{self.kind} gives each person their own value; it has no single edit")

    @property
    def edit_kind(self) -> EditKind:
        if self.kind is ActionKind.SET_EXTERNAL_ID:
            return EditKind.SET_EXTERNAL_ID
        if self.kind is ActionKind.SET_COLUMNS:
            return EditKind.SET_PROPERTY
        return self.edit_op().kind


@functools.lru_cache(maxsize=256)
def _checked_key(column: str) -> str:
    return check_property_key(column)  # a list has a few columns and 100k rows: once per column


def wanted_cells(action: ListAction, values: Mapping[str, str]) -> tuple[tuple[str, object], ...]:
    """One row's cells typed as the action writes them: (field, value). A blank cell leaves
    its field as it is (it is not in the result). Raises EditRejected for a value that does
    not fit its column's type (`seats_amount` "ten")."""
    if action.kind is ActionKind.SET_EXTERNAL_ID:
        column = action.key or EXTERNAL_ID_COLUMN
        text = (values.get(column) or "").strip()
        return ((EXTERNAL_ID_COLUMN, text),) if text else ()
    cells = []
    for column, text in values.items():
        if not text or not text.strip():
            continue
        key = _checked_key(column)
        try:
            value = parse_property_text(key, text.strip())
        except ValueError as error:
            raise EditRejected(str(error)) from None
        cells.append((key, check_property_value(value)))
    return tuple(cells)
