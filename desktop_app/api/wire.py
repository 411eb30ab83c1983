"""Wire <-> domain mapping: the service's JSON into EndUser & co, parameters into Rails forms."""

from __future__ import annotations

import calendar
import enum
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from desktop_app.api.errors import ProtocolError
from desktop_app.domain import (
    EndUser,
    PropertyValue,
    SurveyDecline,
    SurveyResponse,
    SurveySettings,
)
from desktop_app.timestamps import EARLIEST_UNIX, LATEST_UNIX, TimestampError, parse_wire_time


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


# SQLite's INTEGER: what an id or a count may be before the cache can store it.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_DECIMAL = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)  # int() also takes other scripts' digits and 1_0


def _shown(value: object) -> str:
    """A value of the answer in a message: JSON-ish and short (it may be anything)."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _bad_field(name: str, value: object, why: str, owner: str | None) -> ProtocolError:
    whose = f" ({owner})" if owner else ""
    return ProtocolError(f"unusable {name} in the service's answer{whose}: {_shown(value)} is {why}")


def wire_int(value: object, name: str, owner: str | None = None, *,
             low: int = INT64_MIN, high: int = INT64_MAX, beyond: str | None = None) -> int:
    """An integer field of the answer (a JSON integer or a decimal string), within low..high.

    A boolean, a float (1.0 included: the service renders integers as integers) or anything
    else is a ProtocolError naming the field; so is a number the cache could not store.
    """
    if type(value) is int:  # exactly int: bool is a subclass and no integer
        number = value
    elif isinstance(value, str) and _DECIMAL.fullmatch(value):
        # past 20 digits it is out of range anyway, and int() refuses past 4,300
        number = int(value) if len(value) <= 40 else (INT64_MAX + 1) * (-1 if "-" in value else 1)
    else:
        raise _not_an_integer(name, value, owner)
    if not low <= number <= high:
        raise _bad_field(name, value, beyond or f"out of range ({low} to {high})", owner)
    return number


_NO_DATE = "beyond the dates a timestamp can hold (years 1 to 9999)"


def _canonical_time(text: str) -> int | None:
    """Unix seconds of exactly `YYYY-MM-DD HH:MM:SS +hhmm`, else None.

    The service's usual form; a walk parses four per row, and this is ~3x faster than the
    general parser (which every other form goes to, and which says what is wrong with it).
    """
    if (
        len(text) != 25 or text[4] != "-" or text[7] != "-" or text[10] != " "
        or text[13] != ":" or text[16] != ":" or text[19] != " " or text[20] not in "+-"
    ):
        return None
    try:
        year, month, day = int(text[0:4]), int(text[5:7]), int(text[8:10])
        hour, minute, second = int(text[11:13]), int(text[14:16]), int(text[17:19])
        offset = int(text[21:23]) * 3600 + int(text[23:25]) * 60
    except ValueError:
        return None
    if not (1 <= month <= 12 and day >= 1 and hour < 24 and minute < 60 and second < 60
            and text[21:25].isdigit() and text[0:4].isdigit() and year >= 1
            and (day <= 28 or day <= calendar.monthrange(year, month)[1])):
        return None
    unix = calendar.timegm((year, month, day, hour, minute, second)) - (
        offset if text[20] == "+" else -offset)
    return unix if EARLIEST_UNIX <= unix <= LATEST_UNIX else None


def _not_an_integer(name: str, value: object, owner: str | None,
                    expected: str = "an integer") -> ProtocolError:
    if isinstance(value, bool):
        return _bad_field(name, value, f"a boolean, not {expected}", owner)
    if isinstance(value, float):
        return _bad_field(name, value, f"a floating-point number, not {expected}", owner)
    return _bad_field(name, value, f"not {expected}", owner)


def wire_time(value: Any, name: str, owner: str | None = None) -> int | None:  # whatever the JSON held
    """Unix seconds of a timestamp field (None or "" for none); a ProtocolError naming the
    field for anything else: a boolean, a float, text in no known form, or a moment outside
    what a date can hold (years 1 to 9999)."""
    if type(value) is str:  # exactly str: the hot path
        fast = _canonical_time(value)
        if fast is not None:
            return fast
    if value is None or value == "":
        return None
    if type(value) is int or (isinstance(value, str) and _DECIMAL.fullmatch(value)):
        return wire_int(value, name, owner, low=EARLIEST_UNIX, high=LATEST_UNIX, beyond=_NO_DATE)
    if not isinstance(value, str):
        raise _not_an_integer(name, value, owner, "an integer or a timestamp")
    try:
        unix = parse_wire_time(value)
    except TimestampError:
        raise _bad_field(name, value, "not a valid timestamp", owner) from None
    if unix is None or not EARLIEST_UNIX <= unix <= LATEST_UNIX:
        raise _bad_field(name, value, _NO_DATE, owner)
    return unix


def _required_time(data: Mapping[str, Any], name: str, owner: str) -> int:
    value = wire_time(data.get(name), name, owner)
    if value is None:
        raise ProtocolError(f"the service's answer has {owner} without {name}")
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
    if "id" not in data:
        raise ProtocolError("the service's answer has an end user without an id")
    user_id = wire_int(data["id"], "id", "an end user", low=1)
    owner = f"end user {user_id}"
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
        created_at=_required_time(data, "created_at", owner),
        updated_at=_required_time(data, "updated_at", owner),
        external_id=None if external_id in (None, "") else str(external_id),
        external_created_at=wire_time(data.get("external_created_at"), "external_created_at", owner),
        last_surveyed=wire_time(data.get("last_surveyed"), "last_surveyed", owner),
        phone_number=data.get("phone_number") or None,
        properties={str(k): _property(v) for k, v in raw_props.items()},
        settings=settings_from_wire(data.get("settings")),
    )


def end_users_from_wire(data: object) -> list[EndUser]:
    """A list endpoint's bare JSON array of end users."""
    if not isinstance(data, list):
        raise ProtocolError("expected a JSON array of end users")
    return [end_user_from_wire(item) for item in data]


def _required(data: Mapping[str, Any], names: Sequence[str], what: str) -> None:
    missing = [name for name in names if name not in data]
    if missing:
        raise ProtocolError(f"the service's answer has {what} without {missing[0]}")


def _optional_text(data: Mapping[str, Any], name: str, owner: str) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _bad_field(name, value, "not text", owner)
    return value


def _flag(data: Mapping[str, Any], name: str, owner: str, default: bool) -> bool:
    value = data.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):  # "false" read as truthy would count an excluded response
        raise _bad_field(name, value, "not true or false", owner)
    return value


def _texts(data: Mapping[str, Any], name: str, owner: str) -> tuple[str, ...]:
    """`tags` (strings) or `notes` (strings or objects, kept as JSON text) of a response."""
    value = data.get(name)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _bad_field(name, value, "not a list", owner)
    out = []
    for item in value:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, Mapping) and name == "notes":
            out.append(json.dumps(item, sort_keys=True, default=str))
        else:
            raise _bad_field(name, item, "not text" if name == "tags" else "not a note", owner)
    return tuple(out)


def _survey_time_end_user(data: Mapping[str, Any], owner: str) -> tuple[str | None, dict[str, PropertyValue]]:
    """(email, properties) of the `end_user` object a list renders beside a response."""
    end_user = data.get("end_user")
    if end_user is None:
        return None, {}
    if not isinstance(end_user, Mapping):
        raise _bad_field("end_user", end_user, "not an object", owner)
    props = end_user.get("properties") or {}
    if not isinstance(props, Mapping):
        raise _bad_field("end_user.properties", props, "not an object", owner)
    email = end_user.get("email")
    return (None if email in (None, "") else str(email)), {str(k): _property(v) for k, v in props.items()}


def response_from_wire(data: object) -> SurveyResponse:
    """One survey response, of `/v1/responses` or `/v1/end_users/{id}/responses` alike."""
    if not isinstance(data, Mapping):
        raise ProtocolError("expected a survey response object in the service's answer")
    _required(data, ("id", "end_user_id", "score", "created_at"), "a survey response")
    response_id = wire_int(data["id"], "id", "a survey response", low=1)
    owner = f"survey response {response_id}"
    created = _required_time(data, "created_at", owner)
    updated = wire_time(data.get("updated_at"), "updated_at", owner)
    survey = data.get("survey")
    channel = survey.get("channel") if isinstance(survey, Mapping) else data.get("channel")
    survey_id = data.get("survey_id")
    email, properties = _survey_time_end_user(data, owner)
    return SurveyResponse(
        id=response_id,
        end_user_id=wire_int(data["end_user_id"], "end_user_id", owner, low=1),
        score=wire_int(data["score"], "score", owner, low=0, high=10,
                       beyond="not a score from 0 to 10"),
        created_at=created,
        updated_at=created if updated is None else updated,
        text=_optional_text(data, "text", owner),
        survey_id=None if survey_id is None else wire_int(survey_id, "survey_id", owner),
        completed=_flag(data, "completed", owner, True),
        excluded_from_calculations=_flag(data, "excluded_from_calculations", owner, False),
        channel=None if channel is None else str(channel),
        ip_address=_optional_text(data, "ip_address", owner),
        origin_url=_optional_text(data, "origin_url", owner),
        tags=_texts(data, "tags", owner),
        notes=_texts(data, "notes", owner),
        end_user_email=email,
        end_user_properties=properties,
    )


def decline_from_wire(data: object) -> SurveyDecline:
    """One declined survey, of `/v1/declines` or `/v1/end_users/{id}/declines` alike."""
    if not isinstance(data, Mapping):
        raise ProtocolError("expected a survey decline object in the service's answer")
    _required(data, ("id", "end_user_id", "created_at"), "a survey decline")
    decline_id = wire_int(data["id"], "id", "a survey decline", low=1)
    owner = f"survey decline {decline_id}"
    created = _required_time(data, "created_at", owner)
    updated = wire_time(data.get("updated_at"), "updated_at", owner)
    survey_id = data.get("survey_id")
    return SurveyDecline(
        id=decline_id,
        end_user_id=wire_int(data["end_user_id"], "end_user_id", owner, low=1),
        created_at=created,
        updated_at=created if updated is None else updated,
        survey_id=None if survey_id is None else wire_int(survey_id, "survey_id", owner),
        origin_url=_optional_text(data, "origin_url", owner),
    )


def responses_from_wire(data: object) -> list[SurveyResponse]:
    """A list endpoint's bare JSON array of survey responses."""
    if not isinstance(data, list):
        raise ProtocolError("expected a JSON array of survey responses")
    return [response_from_wire(item) for item in data]


def declines_from_wire(data: object) -> list[SurveyDecline]:
    """A list endpoint's bare JSON array of survey declines."""
    if not isinstance(data, list):
        raise ProtocolError("expected a JSON array of survey declines")
    return [decline_from_wire(item) for item in data]


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
