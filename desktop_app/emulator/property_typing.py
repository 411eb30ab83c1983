"""How the service types custom properties it is sent: by the name's suffix, whatever the encoding.

Wootric's own convention (its upload docs and segment `data_type`s): `*_amount` holds numbers,
`*_date` unix seconds, `*_array` a list. The service stores such a value typed, so a form's
`properties[revenue_amount]=9680` is the number 9680, and a value that does not fit its suffix
is refused naming the field. Other keys keep the type they arrive with: JSON keeps numbers and
booleans, a form can only send text. Suffixes are case-sensitive, as property names are.
"""

from __future__ import annotations

import math
import re
from typing import Any

_INTEGER = re.compile(r"-?\d{1,18}")
_DECIMAL = re.compile(r"-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?")


class PropertyTypeError(ValueError):
    """A property value that does not fit its name's suffix; `field` is the bracketed name."""

    def __init__(self, key: str, wanted: str) -> None:
        self.field = f"properties[{key}]"
        super().__init__(f"{self.field} must be {wanted}")


def _number(key: str, value: Any) -> int | float:
    if type(value) is int:
        return value
    if type(value) is float and math.isfinite(value):
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.fullmatch(text):
            return int(text)
        if _DECIMAL.fullmatch(text):
            number = float(text)
            if math.isfinite(number):
                return number
    raise PropertyTypeError(key, "a number")


def _unix_date(key: str, value: Any) -> int:
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    raise PropertyTypeError(key, "a date in unix seconds")


def _array(key: str, value: Any) -> list[Any]:
    if isinstance(value, list):
        if any(isinstance(item, (dict, list)) for item in value):
            raise PropertyTypeError(key, "a list of plain values")
        return value
    if isinstance(value, str):  # a form's `k=a,b`: the upload convention's comma-separated list
        return [item.strip() for item in value.split(",") if item.strip()]
    raise PropertyTypeError(key, "a list")


def typed_property(key: str, value: Any) -> Any:
    """The value as the service stores it under `key`; None (JSON null) stays None."""
    if value is None:
        return None
    if key.endswith("_amount"):
        return _number(key, value)
    if key.endswith("_date"):
        return _unix_date(key, value)
    if key.endswith("_array"):
        return _array(key, value)
    return value


def typed_properties(raw: dict[str, Any]) -> dict[str, Any]:
    """A whole properties hash as stored; PropertyTypeError on the first value that does not fit."""
    return {key: typed_property(key, value) for key, value in raw.items()}


def segment_data_type(key: str) -> str:
    """The `data_type` `GET /v1/segments` gives a property: one of string, date, integer."""
    if key.endswith("_date"):
        return "date"
    if key.endswith("_amount"):
        return "integer"
    return "string"
