"""Text that is not text: lone surrogates. Python holds a byte that was not UTF-8 that way
(surrogateescape: arguments, environment, file names) and a window can hand over half a pair;
SQLite, the service and every encoded stream refuse them. Imports nothing: every layer asks here."""

from __future__ import annotations


def is_broken_char(ch: str) -> bool:
    """True for a lone surrogate (U+D800..U+DFFF)."""
    return "\ud800" <= ch <= "\udfff"


def has_broken_text(text: str) -> bool:
    """True when `text` holds a lone surrogate anywhere."""
    if text.isascii():  # the common case, in C: a 100k-row list checks 200k cells
        return False
    return any("\ud800" <= ch <= "\udfff" for ch in text)  # inline: called on 50,000-character filters
