"""Wootric's property-name conventions: `_amount`, `_date`, `_array` ... say what a value is."""

from __future__ import annotations

import enum
import math
from datetime import date, datetime, timezone

from desktop_app.domain import PropertyValue


class PropertyType(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"  # *_amount, *_count, *_number: compared numerically
    DATE = "date"  # *_date, *_at: unix seconds
    LIST = "list"  # *_array: a list of strings
    FLAG = "flag"  # is_* / has_*: true or false


# Wootric's upload convention types `*_amount` numbers and `*_date` dates (purchase_date holds
# unix seconds); the app reads the common `*_count`/`*_number`/`*_score` and `*_at` alike.
NUMBER_SUFFIXES = ("_amount", "_count", "_number", "_score")
DATE_SUFFIXES = ("_date", "_at")


def property_type(key: str) -> PropertyType:
    """The type a property key's suffix announces."""
    name = key.lower()
    if name.endswith(NUMBER_SUFFIXES):
        return PropertyType.NUMBER
    if name.endswith(DATE_SUFFIXES):
        return PropertyType.DATE
    if name.endswith("_array"):
        return PropertyType.LIST
    if name.startswith(("is_", "has_")):
        return PropertyType.FLAG
    return PropertyType.TEXT


def is_date_property(key: str) -> bool:
    """Whether a property holds dates (unix seconds): the one answer the table, the detail
    panel's editor, the filter language and the export all use."""
    return property_type(key) is PropertyType.DATE


def parse_property_text(key: str, text: str) -> PropertyValue:
    """A value typed by a person (command line, a plain text field) in the key's type.

    Raises ValueError with a message a person understands.
    """
    kind = property_type(key)
    raw = text.strip()
    if kind is PropertyType.NUMBER:
        try:
            number = float(raw.replace(",", ""))
        except ValueError:
            raise ValueError(f"{key} holds numbers; {text!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"{key} holds numbers; {text!r} is not a finite number")
        return int(number) if number.is_integer() else number
    if kind is PropertyType.DATE:
        if raw.lstrip("-").isdigit():
            return int(raw)
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"{key} holds dates; write it as YYYY-MM-DD or unix seconds") from None
        return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())
    if kind is PropertyType.LIST:
        return [item.strip() for item in raw.split(",") if item.strip()]
    if kind is PropertyType.FLAG:
        lowered = raw.lower()
        if lowered in ("true", "yes", "1"):
            return "true"
        if lowered in ("false", "no", "0"):
            return "false"
        raise ValueError(f"{key} is a yes/no flag; write true or false")
    return text
