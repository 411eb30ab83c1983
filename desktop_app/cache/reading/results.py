"""What a query returns: `SortSpec`, `ResultRow` and how a stored row decodes.

Kept apart from `EndUserQuery` so the planner and the tuple reads share these without a cycle;
`desktop_app.cache.reading.query` re-exports them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from desktop_app.domain import DisabledBy, EndUser, SurveySettings
from desktop_app.fields import HISTORY_FIELDS, PROPERTY_PREFIX, field_named, sort_names

# The seed columns a read can sort by and return (`desktop_app.fields` describes each).
COLUMN_KEYS = frozenset(sort_names())


@dataclass(frozen=True, slots=True)
class SortSpec:
    """Sort order: a seed column or `prop:<key>`; id breaks ties in the same direction.

    Text sorts ignore case (email) or not (ids, phone numbers); empty values come first
    ascending and last descending. Property sorts put numbers first, in numeric order.
    """

    column: str = "email"
    descending: bool = False

    def __post_init__(self) -> None:
        seed = field_named(self.column)
        column = seed.key if seed is not None else self.column
        if column.startswith(PROPERTY_PREFIX):
            if not column[len(PROPERTY_PREFIX):]:
                raise ValueError("sort by property needs a key: prop:<key>")
        elif column not in COLUMN_KEYS:
            raise ValueError(f"cannot sort by {self.column!r}")
        object.__setattr__(self, "column", column)


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One effective end user as the cache holds it, decoded."""

    id: int
    email: str
    external_id: str | None
    external_created_at: int | None
    last_surveyed: int | None
    phone_number: str | None
    created_at: int
    updated_at: int
    surveys_disabled: bool
    disabled_by: DisabledBy
    settings: SurveySettings
    properties: dict[str, Any] = field(hash=False)
    pending_count: int = 0
    has_conflict: bool = False
    pending_delete: bool = False  # deleted here, not yet sent
    erasure_pending: bool = False  # the service took the delete (202) and purges them later
    # From the survey history (`fields.HISTORY_FIELDS`): None when nothing is cached.
    latest_score: int | None = None
    latest_comment: str | None = None
    response_count: int = 0

    @classmethod
    def from_sql(cls, row: Sequence[Any]) -> ResultRow:
        (id_, email, external_id, external_created_at, last_surveyed, phone, created, updated,
         disabled, disabled_by, settings_json, properties_json, pending, conflict, deleting,
         score, comment, responses) = row[:18]
        return cls(
            id_, email, external_id, external_created_at, last_surveyed, phone, created, updated,
            bool(disabled), _disabled_by(disabled_by), _settings(settings_json),
            decode_properties(properties_json), pending or 0, bool(conflict), deleting == 1, deleting == 2,
            score, comment, responses or 0,
        )

    def to_end_user(self) -> EndUser:
        return EndUser(
            id=self.id, email=self.email, created_at=self.created_at, updated_at=self.updated_at,
            external_id=self.external_id, external_created_at=self.external_created_at,
            last_surveyed=self.last_surveyed, phone_number=self.phone_number,
            properties=dict(self.properties), settings=self.settings,
        )


ROW_SQL = (
    "id, email, external_id, external_created_at, last_surveyed, phone_number, created_at, "
    "updated_at, surveys_disabled, disabled_by, settings_json, properties_json, pending_count, "
    "has_conflict, pending_delete, " + ", ".join(f.history_sql for f in HISTORY_FIELDS)
)
_SETTINGS_FIELDS = frozenset(f.name for f in fields(SurveySettings))


_DISABLED_BY = {member.value: member for member in DisabledBy}


def _disabled_by(value: str | None) -> DisabledBy:
    return _DISABLED_BY.get(value or "", DisabledBy.NOBODY)


_decode = json.JSONDecoder().raw_decode  # json.loads minus its whitespace handling: rows are compact


@functools.lru_cache(maxsize=256)  # a handful of distinct channel combinations exist
def _settings(text: str | None) -> SurveySettings:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return SurveySettings()
    if not isinstance(data, dict):
        return SurveySettings()
    return SurveySettings(**{k: v for k, v in data.items() if k in _SETTINGS_FIELDS})


def decode_properties(text: str | None) -> dict[str, Any]:
    if not text or text == "{}":
        return {}
    try:
        data = _decode(text)[0]
    except ValueError:
        try:
            data = json.loads(text)
        except ValueError:
            return {}
    return data if isinstance(data, dict) else {}
