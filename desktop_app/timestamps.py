"""The service's timestamp formats, parsed to and rendered from unix seconds (UTC)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from desktop_app.user_errors import ErrorKind, UserFacingError

WIRE_FORMAT = "%Y-%m-%d %H:%M:%S %z"
PACIFIC = ZoneInfo("America/Los_Angeles")

# "2022-08-10 11:39:50 -0700", "2015-04-20 04:46:51-08:00", "2014-12-01 18:36:59",
# "2015-02-12T06:29:27.000-08:00", "2026-01-01T00:00:00Z"
_WIRE_RE = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?\s*$"
)


# The unix seconds a timestamp may hold: what `datetime` renders in any zone (a day inside
# years 1 and 9999, so an offset of up to a day cannot leave them), well within SQLite's 64 bits.
EARLIEST_UNIX = int(datetime(1, 1, 2, tzinfo=timezone.utc).timestamp())
LATEST_UNIX = int(datetime(9999, 12, 30, 23, 59, 59, tzinfo=timezone.utc).timestamp())


class TimestampError(UserFacingError, ValueError):
    """A timestamp in none of the forms the service is known to emit."""

    title = "A timestamp could not be read"
    kind = ErrorKind.INPUT


def parse_wire_time(value: str | int | float | None, naive_zone: tzinfo = PACIFIC) -> int | None:
    """Unix seconds from any timestamp form the service emits; None stays None.

    Offsets are honoured; the oldest data carries none, and is read in the service's Pacific zone.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TimestampError(f"not a timestamp: {value!r}")
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            raise TimestampError(f"not a timestamp: {value!r}")
        return int(value)
    text = value.strip()
    if text.isascii() and text.lstrip("-").isdigit():  # ASCII: int() would take any script's digits
        return int(text)
    match = _WIRE_RE.match(text)
    if not match or not text.isascii():
        raise TimestampError(f"not a timestamp: {value!r}")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    offset = match.group(7)
    try:
        if offset is None:
            local = datetime(year, month, day, hour, minute, second, tzinfo=naive_zone)
            return int(local.timestamp())
        if offset == "Z":
            zone: tzinfo = timezone.utc
        else:
            sign = -1 if offset[0] == "-" else 1
            digits = offset[1:].replace(":", "")
            zone = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        return int(datetime(year, month, day, hour, minute, second, tzinfo=zone).timestamp())
    except (ValueError, OverflowError) as exc:  # day 31 of February, year 0, an offset of 24 h
        raise TimestampError(f"not a timestamp: {value!r}") from exc


def format_wire_time(unix: int | float | None, zone: tzinfo = PACIFIC) -> str | None:
    """Render unix seconds the way the service does: `2022-08-10 11:39:50 -0700`."""
    if unix is None:
        return None
    return datetime.fromtimestamp(int(unix), tz=zone).strftime(WIRE_FORMAT)


def iso_utc(unix: int | None) -> str:
    """ISO 8601 in UTC, for people and exports: `2022-08-10T18:39:50Z`."""
    if unix is None:
        return ""
    return datetime.fromtimestamp(int(unix), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
