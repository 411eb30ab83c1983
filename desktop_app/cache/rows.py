"""EndUser <-> `end_user` row values, JSON text for edit values, and laying edits over a row."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any
from dataclasses import fields

from desktop_app.cache.records import EditKind
from desktop_app.domain import EndUser, SurveySettings

# The columns a server row fills, in the order every tuple in this package uses.
SERVER_COLUMNS: tuple[str, ...] = (
    "id", "email", "external_id", "external_created_at", "last_surveyed", "phone_number",
    "created_at", "updated_at", "surveys_disabled", "disabled_by", "settings_json",
    "properties_json",
)
# The effective row adds what local edits leave on it.
FLAG_COLUMNS: tuple[str, ...] = ("pending_count", "has_conflict", "pending_delete")
EFFECTIVE_COLUMNS = SERVER_COLUMNS + FLAG_COLUMNS

I_ID, I_EMAIL, I_EXTERNAL_ID = 0, 1, 2
I_UPDATED_AT = 7
I_SURVEYS_DISABLED, I_DISABLED_BY, I_SETTINGS, I_PROPERTIES = 8, 9, 10, 11

ServerValues = tuple[Any, ...]  # one row in SERVER_COLUMNS order, as SQLite holds it

_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_SETTING_NAMES = tuple(f.name for f in fields(SurveySettings))
# Few distinct settings combinations exist: derive and encode each once (ingest's hot loop).
_settings_text: dict[SurveySettings, str] = {}
_settings_values: dict[SurveySettings, tuple[bool, str, str]] = {}


def dump_json(value: object) -> str:
    """Compact JSON text, the same shape SQLite's JSON functions produce."""
    return _encode(value)


def load_json(text: str | None) -> object:
    return None if text is None else json.loads(text)


def settings_json(settings: SurveySettings) -> str:
    text = _settings_text.get(settings)
    if text is None:
        text = _encode({name: getattr(settings, name) for name in _SETTING_NAMES})
        if len(_settings_text) < 256:
            _settings_text[settings] = text
    return text


def settings_from_json(text: str) -> SurveySettings:
    data = json.loads(text) if text else {}
    return SurveySettings(**{k: v for k, v in data.items() if k in _SETTING_NAMES})


def server_values(user: EndUser) -> ServerValues:
    """The row values of a server end user (SERVER_COLUMNS order)."""
    settings = user.settings
    derived = _settings_values.get(settings)
    if derived is None:
        derived = (settings.surveys_disabled, settings.disabled_by.value, settings_json(settings))
        if len(_settings_values) < 256:
            _settings_values[settings] = derived
    properties = user.properties
    return (
        user.id, user.email, user.external_id, user.external_created_at, user.last_surveyed,
        user.phone_number, user.created_at, user.updated_at, *derived,
        (_encode(properties if type(properties) is dict else dict(properties))
         if properties else "{}"),
    )


def end_user_of(values: Sequence[Any]) -> EndUser:
    """An EndUser from row values in SERVER_COLUMNS order (extra trailing columns ignored)."""
    return EndUser(
        id=int(values[0]),
        email=str(values[1]),
        external_id=values[2],
        external_created_at=values[3],
        last_surveyed=values[4],
        phone_number=values[5],
        created_at=values[6],
        updated_at=values[7],
        properties=json.loads(str(values[I_PROPERTIES])),
        settings=settings_from_json(str(values[I_SETTINGS])),
    )


def lay_edits(server: ServerValues, edits: Iterable[tuple[EditKind, str | None, object]]) -> tuple[
    ServerValues, bool
]:
    """The effective values: `edits` (kind, key, value), oldest first, over a server row.

    Returns (values, deleted). Must agree with the SQL that applies a fresh edit in bulk
    (desktop_app.cache.writes.edits); the tests compare the two.
    """
    row = list(server)
    properties: dict[str, object] | None = None
    settings: SurveySettings | None = None
    deleted = False
    for kind, key, value in edits:
        if kind is EditKind.SET_PROPERTY or kind is EditKind.UNSET_PROPERTY:
            if properties is None:
                properties = json.loads(str(row[I_PROPERTIES]))
            if kind is EditKind.SET_PROPERTY:
                properties[key or ""] = value
            else:
                properties.pop(key or "", None)
        elif kind is EditKind.SET_EMAIL:
            row[I_EMAIL] = value
        elif kind is EditKind.SET_EXTERNAL_ID:
            row[I_EXTERNAL_ID] = value
        elif kind is EditKind.SET_SURVEYS:
            current = settings or settings_from_json(str(row[I_SETTINGS]))
            on = bool(value)
            settings = SurveySettings(
                email_nps=on, mobile_nps=on, web_nps=on,
                surveys_disabled_by_end_user=current.surveys_disabled_by_end_user,
                force_web_survey=current.force_web_survey,
                force_mobile_survey=current.force_mobile_survey,
            )
        elif kind is EditKind.DELETE:
            deleted = True
    if properties is not None:
        row[I_PROPERTIES] = _encode(properties)
    if settings is not None:
        row[I_SETTINGS] = settings_json(settings)
        row[I_SURVEYS_DISABLED] = settings.surveys_disabled
        row[I_DISABLED_BY] = settings.disabled_by.value
    return tuple(row), deleted
