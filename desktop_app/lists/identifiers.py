"""What identifies a person in a list, and how one cell of a list becomes a comparable key."""

from __future__ import annotations

import enum
import re


class IdentifierKind(enum.StrEnum):
    """The column of a list that says who each row is; the words are the command line's."""

    EMAIL = "email"
    EXTERNAL_ID = "external_id"
    WOOTRIC_ID = "wootric_id"  # the service's numeric end user id

    @property
    def words(self) -> str:
        """What a column of this kind holds, in the report's words."""
        return {"email": "email addresses", "external_id": "external ids",
                "wootric_id": "Wootric ids"}[self.value]


_DIGITS = re.compile(r"[0-9]+")  # ASCII only: "١٢" is not an id a person typed from the dashboard


def normalize_identifier(kind: IdentifierKind, raw: str) -> str | None:
    """The key two cells of one person share, or None for a cell that names nobody.

    Emails compare ignoring case and surrounding spaces (`casefold`, as the service treats
    them as one address); external ids are exact after trimming; a Wootric id is digits
    only, leading zeros dropped (`0042` is end user 42). Blank cells and ids that are not a
    number give None.
    """
    text = raw.strip()
    if not text:
        return None
    if kind is IdentifierKind.EMAIL:
        return text.casefold()
    if kind is IdentifierKind.EXTERNAL_ID:
        return text
    if not _DIGITS.fullmatch(text) or len(text.lstrip("0")) > 18:  # past 10^18: not an SQLite integer
        return None
    return str(int(text))
