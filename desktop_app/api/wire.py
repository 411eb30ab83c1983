"""Wire <-> domain mapping: the service's JSON into EndUser & co, parameters into Rails forms."""

from __future__ import annotations

import calendar
import enum
import json
from collections.abc import Mapping, Sequence
from typing import Any

from desktop_app.api.errors import ProtocolError
from desktop_app.domain import EndUser, PropertyValue, SurveyResponse, SurveySettings
from desktop_app.timestamps import TimestampError, parse_wire_time


class Unset(enum.Enum):
    """'Leave this field alone' in an update, as opposed to None ('clear it')."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset.UNSET

# What a request parameter may be before encoding (a JSON body's values).
FormValue = str | int | float | bool | None | Sequence[Any] | Mapping[str, Any]


def _scalar(value: object) -> str:
    """One value as the service reads it from a form: booleans as true/false, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _canonical_time(text: str) -> int | None:
    """Unix seconds of exactly `YYYY-MM-DD HH:MM:SS +hhmm`, else None.

    The service's usual form; a walk parses four per row, and this is ~3x faster than the
    general parser (which every other form goes to).
    """
    if (
        len(text) != 25 or text[4] != "-" or text[7] != "-" or text[10] != " "
        or text[13] != ":" or text[16] != ":" or text[19] != " " or text[20] not in "+-"
    ):
        return None
    try:
        fields = (int(text[0:4]), int(text[5:7]), int(text[8:10]),
                  int(text[11:13]), int(text[14:16]), int(text[17:19]))
        offset = int(text[21:23]) * 3600 + int(text[23:25]) * 60
    except ValueError:
        return None
    if not (1 <= fields[1] <= 12 and 1 <= fields[2] <= 31 and fields[3] < 24 and fields[4] < 60
            and fields[5] < 60 and text[21:25].isdigit() and text[0:4].isdigit()):
        return None
    return calendar.timegm(fields) - (offset if text[20] == "+" else -offset)


def _time(value: Any, name: str) -> int | None:  # whatever the JSON held
    if type(value) is str:  # exactly str: the hot path
        fast = _canonical_time(value)
        if fast is not None:
            return fast
    try:
        return parse_wire_time(value)
    except (TimestampError, TypeError, ValueError) as exc:
        raise ProtocolError(f"unreadable {name} in the service's answer") from exc


def _required_time(data: Mapping[str, Any], name: str) -> int:
    value = _time(data.get(name), name)
    if value is None:
        raise ProtocolError(f"end user without {name} in the service's answer")
    return value


def _property(value: object) -> PropertyValue:
    if isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, list):
        return [_scalar(v) for v in value]
    # nested objects do not exist in the seed's model; keep them readable rather than drop them
    return json.dumps(value, sort_keys=True, default=str)


def _optional_bool(value: object) -> bool | None:
    return None if value is None else bool(value)


def settings_from_wire(data: Mapping[str, Any] | None) -> SurveySettings:
    """`settings` of an end user, or the body of `/v1/end_users/{id}/settings`."""
    if not data:
        return SurveySettings()
    if not isinstance(data, Mapping):
        raise ProtocolError("survey settings in the service's answer are not an object")
    return SurveySettings(
        email_nps=bool(data.get("email_nps", True)),
        mobile_nps=bool(data.get("mobile_nps", True)),
        web_nps=bool(data.get("web_nps", True)),
        surveys_disabled_by_end_user=bool(data.get("surveys_disabled_by_end_user") or False),
        force_web_survey=_optional_bool(data.get("force_web_survey")),
        force_mobile_survey=_optional_bool(data.get("force_mobile_survey")),
    )


def end_user_from_wire(data: object) -> EndUser:
    """One end user as GET /v1/end_users/{id} renders it; ProtocolError when it is not one."""
    if not isinstance(data, Mapping):
        raise ProtocolError("expected an end user object in the service's answer")
    try:
        user_id = int(data["id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError("end user without a usable id in the service's answer") from exc
    raw_props = data.get("properties") or {}
    if isinstance(raw_props, str):  # the 2015-era docs show properties rendered as a string
        try:
            raw_props = json.loads(raw_props)
        except ValueError:
            raw_props = {}
    if not isinstance(raw_props, Mapping):
        raise ProtocolError("end user properties in the service's answer are not an object")
    external_id = data.get("external_id")
    return EndUser(
        id=user_id,
        email=str(data.get("email") or ""),
        created_at=_required_time(data, "created_at"),
        updated_at=_required_time(data, "updated_at"),
        external_id=None if external_id in (None, "") else str(external_id),
        external_created_at=_time(data.get("external_created_at"), "external_created_at"),
        last_surveyed=_time(data.get("last_surveyed"), "last_surveyed"),
        phone_number=data.get("phone_number") or None,
        properties={str(k): _property(v) for k, v in raw_props.items()},
        settings=settings_from_wire(data.get("settings")),
    )


def end_users_from_wire(data: object) -> list[EndUser]:
    """A list endpoint's bare JSON array of end users."""
    if not isinstance(data, list):
        raise ProtocolError("expected a JSON array of end users")
    return [end_user_from_wire(item) for item in data]


def response_from_wire(data: object) -> SurveyResponse:
    """One survey response of `/v1/end_users/{id}/responses`."""
    if not isinstance(data, Mapping):
        raise ProtocolError("expected a survey response object in the service's answer")
    survey = data.get("survey")
    channel = survey.get("channel") if isinstance(survey, Mapping) else data.get("channel")
    try:
        created = _time(data.get("created_at"), "created_at")
        return SurveyResponse(
            id=int(data["id"]),
            end_user_id=int(data["end_user_id"]),
            score=int(data["score"]),
            created_at=created if created is not None else 0,
            text=data.get("text"),
            survey_id=None if data.get("survey_id") is None else int(data["survey_id"]),
            completed=bool(data.get("completed", True)),
            channel=None if channel is None else str(channel),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError("unreadable survey response in the service's answer") from exc


def error_details(data: object) -> tuple[str | None, str | None, str | None]:
    """(message, field, code) of a Grape `error_list` or a Doorkeeper `{error, ...}` body."""
    if isinstance(data, Mapping):
        errors = data.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
            first = errors[0]
            field = first.get("field")
            return (
                None if first.get("message") is None else str(first["message"]),
                None if field is None else str(field),
                None if first.get("status") is None else str(first["status"]),
            )
        if "error" in data:
            description = data.get("error_description")
            return (
                None if description is None else str(description),
                None,
                str(data["error"]),
            )
    return None, None, None
