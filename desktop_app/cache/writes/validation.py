"""Checks a local edit passes before anything is written; failures raise EditRejected."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from desktop_app.broken_text import has_broken_text
from desktop_app.cache.records import EditRejected
from desktop_app.domain import PropertyValue, canonical_value

MAX_KEY_CHARS = 100
MAX_VALUE_CHARS = 1000
MAX_EMAIL_CHARS = 254
MAX_EXTERNAL_ID_CHARS = 255


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # C0, DEL and C1: one search, not a loop per character


def _has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None


def _check_text(text: str, what: str) -> None:
    if has_broken_text(text):
        raise EditRejected(f"{what} holds a character that is not text (half of a surrogate pair, "
                           "or a byte that is not UTF-8). Nothing was changed.")


def check_ids(ids: Iterable[int]) -> list[int]:
    """Distinct end user ids in the given order; at least one."""
    if isinstance(ids, (int, str, bytes)):
        raise EditRejected("End user ids must be given as a list.")
    out: dict[int, None] = {}
    for value in ids:
        if isinstance(value, bool) or not isinstance(value, int):
            raise EditRejected(f"Not an end user id: {value!r}.")
        out[value] = None
    if not out:
        raise EditRejected("Select at least one end user.")
    return list(out)


def check_property_key(key: object) -> str:
    """A key as the service's bracket encoding (`properties[key]=`) can carry it."""
    if not isinstance(key, str):
        raise EditRejected("A property name must be text.")
    key = key.strip()
    if not key:
        raise EditRejected("A property name cannot be empty.")
    if len(key) > MAX_KEY_CHARS:
        raise EditRejected(f"A property name can have at most {MAX_KEY_CHARS} characters.")
    if "[" in key or "]" in key:
        raise EditRejected("A property name cannot contain [ or ] (the service's form encoding "
                           "uses them).")
    if _has_control(key):
        raise EditRejected("A property name cannot contain control characters.")
    _check_text(key, "A property name")
    return key


def check_property_value(value: object) -> PropertyValue:
    """Text, a number, a boolean or a list of texts; at most 1,000 characters as sent."""
    if value is None:
        raise EditRejected("A property value cannot be empty (None); remove the property "
                           "instead.")
    if isinstance(value, float) and not math.isfinite(value):
        raise EditRejected("A property value must be a finite number.")
    if isinstance(value, list):
        if not all(isinstance(item, str) for item in value):
            raise EditRejected("A list property value can only hold text.")
    elif not isinstance(value, (str, bool, int, float)):
        raise EditRejected(f"The service does not take {type(value).__name__} property values; "
                           "use text, a number, true/false or a list of texts.")
    for text in value if isinstance(value, list) else [value]:
        if isinstance(text, str):
            _check_text(text, "A property value")
    if len(canonical_value(value) or "") > MAX_VALUE_CHARS:
        raise EditRejected(f"A property value can have at most {MAX_VALUE_CHARS} characters.")
    return value


def check_email(email: object) -> str:
    """A pragmatic check: one @, a local part, a dotted domain, no spaces, <= 254 chars."""
    if not isinstance(email, str):
        raise EditRejected("An email address must be text.")
    email = email.strip()
    if not email:
        raise EditRejected("An email address cannot be empty.")
    _check_text(email, "An email address")
    if len(email) > MAX_EMAIL_CHARS:
        raise EditRejected(f"An email address can have at most {MAX_EMAIL_CHARS} characters.")
    if any(ch.isspace() for ch in email) or _has_control(email):
        raise EditRejected(f"An email address cannot contain spaces: {email!r}.")
    local, at, domain = email.partition("@")
    if not at or "@" in domain:
        raise EditRejected(f"An email address needs exactly one @: {email!r}.")
    if not local:
        raise EditRejected(f"An email address needs a name before the @: {email!r}.")
    labels = domain.split(".")
    if len(labels) < 2 or not all(labels):
        raise EditRejected(f"An email address needs a domain like example.com after the @: "
                           f"{email!r}.")
    return email


def check_external_id(external_id: object) -> str | None:
    """Text of at most 255 characters; None (or blank) clears it."""
    if external_id is None:
        return None
    if not isinstance(external_id, str):
        raise EditRejected("An external id must be text.")
    external_id = external_id.strip()
    if not external_id:
        return None
    if len(external_id) > MAX_EXTERNAL_ID_CHARS:
        raise EditRejected(f"An external id can have at most {MAX_EXTERNAL_ID_CHARS} characters.")
    if _has_control(external_id):
        raise EditRejected("An external id cannot contain control characters.")
    _check_text(external_id, "An external id")
    return external_id


def check_enabled(enabled: object) -> bool:
    if not isinstance(enabled, bool):
        raise EditRejected("Surveys are either enabled (True) or disabled (False).")
    return enabled


def describe_ids(ids: Iterable[int], total: int | None = None, shown: int = 5) -> str:
    """`12, 15, 19` or `12, 15, 19, 21, 30 and 7 more`, for messages."""
    listed = list(ids)
    total = len(listed) if total is None else total
    head = ", ".join(str(i) for i in listed[:shown])
    return head if total <= shown else f"{head} and {total - shown} more"
