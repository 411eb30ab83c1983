"""JSON documents the emulator sends: end users (§5.1), settings, errors (responses: responses.py).

Timestamps are rendered `%Y-%m-%d %H:%M:%S %z` in the account zone (America/Los_Angeles by
default), except `external_created_at`, a unix integer, as on the real service.
"""

from __future__ import annotations

import time
from datetime import datetime, tzinfo
from typing import Any

from desktop_app.domain import EndUser
from desktop_app.emulator.response_store import LastResponse

# UTC offsets by (zone, hour). An hour whose two ends agree has one offset throughout (zones
# change at most once in an hour); an hour with a transition in it is computed exactly.
_OFFSETS: dict[tuple[tzinfo, int], tuple[int, str] | None] = {}


def _offset(unix: int, zone: tzinfo) -> tuple[int, str]:
    offset = datetime.fromtimestamp(unix, zone).utcoffset()
    seconds = int(offset.total_seconds()) if offset is not None else 0
    sign = "-" if seconds < 0 else "+"
    minutes, rest = divmod(abs(seconds), 60)
    extra = f"{rest:02d}" if rest else ""  # old local mean times, as `%z` renders them
    return seconds, f" {sign}{minutes // 60:02d}{minutes % 60:02d}{extra}"


def format_wire_time(unix: int | None, zone: tzinfo) -> str | None:
    """`timestamps.format_wire_time`, several times faster (it renders every row of a page)."""
    if unix is None:
        return None
    hour = unix // 3600
    key = (zone, hour)
    if key in _OFFSETS:
        cached = _OFFSETS[key]
    else:
        start, end = _offset(hour * 3600, zone), _offset(hour * 3600 + 3599, zone)
        cached = start if start == end else None
        if len(_OFFSETS) > 500_000:
            _OFFSETS.clear()
        _OFFSETS[key] = cached
    seconds, suffix = cached if cached is not None else _offset(unix, zone)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(unix + seconds)) + suffix


def error_list(status: str, message: str, field: str | None = None) -> dict[str, Any]:
    """The Grape `error_list` body every API error uses."""
    error = {"status": status, "message": message, "field": field}
    return {"type": "error_list", "errors": [error]}


def end_user_document(
    user: EndUser, zone: tzinfo, last_response: LastResponse | None
) -> dict[str, Any]:
    """The end-user object of `GET /v1/end_users/{id}`, plus the seed's `surveys_disabled`."""
    settings = user.settings
    return {
        "id": user.id,
        "created_at": format_wire_time(user.created_at, zone),
        "updated_at": format_wire_time(user.updated_at, zone),
        "email": user.email,
        "last_surveyed": format_wire_time(user.last_surveyed, zone),
        "external_created_at": user.external_created_at,
        "last_seen_at": None,
        "properties": dict(user.properties),
        "phone_number": user.phone_number,
        "external_id": user.external_id,
        "last_response": None if last_response is None else {
            "id": last_response.id,
            "score": last_response.score,
            "text": last_response.text,
            "survey": {"channel": last_response.channel},
        },
        "settings": {
            "email_nps": settings.email_nps,
            "mobile_nps": settings.mobile_nps,
            "web_nps": settings.web_nps,
            "force_mobile_survey": settings.force_mobile_survey,
            "force_web_survey": settings.force_web_survey,
            "surveys_disabled_by_end_user": settings.surveys_disabled_by_end_user,
        },
        "surveys_disabled": user.surveys_disabled,
    }


def settings_document(user: EndUser, zone: tzinfo) -> dict[str, Any]:
    """`GET /v1/end_users/{id}/settings`: the settings record (its id is the end user's)."""
    settings = user.settings
    return {
        "id": user.id,
        "end_user_id": user.id,
        "created_at": format_wire_time(user.created_at, zone),
        "updated_at": format_wire_time(user.updated_at, zone),
        "email_nps": settings.email_nps,
        "mobile_nps": settings.mobile_nps,
        "web_nps": settings.web_nps,
        "force_web_survey": settings.force_web_survey,
        "force_mobile_survey": settings.force_mobile_survey,
        "surveys_disabled_by_end_user": settings.surveys_disabled_by_end_user,
    }
