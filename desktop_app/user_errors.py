"""Errors whose words are meant for the person: what the window's notice and the command line say.

An error class says it itself, as class attributes, so the two error sinks (`logs.describe_exception`
for the window, `cli.errors.explain` for the command line) need no list of class names and import
none of the packages that raise them. The message is the error's own text (`str(error)`), in plain
words and without secrets. This module imports nothing, so every layer can derive from it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class ErrorKind(StrEnum):
    """What the person can do about it; the command line's exit code follows from it."""

    INPUT = "input"  # what they typed or asked for was refused: fix it (exit 2)
    SIGN_IN = "sign-in"  # the credentials or the keyring (exit 3)
    OFFLINE = "offline"  # the service cannot be reached (exit 4)
    FAILED = "failed"  # anything else that went wrong (exit 1)


class UserFacingError(Exception):
    """Base of every error whose message is written for the person."""

    # The heading of the window's error notice.
    title: ClassVar[str] = "Something went wrong"
    # The command line's words before the message ("<headline>: <message>"); None: the message
    # alone, when it already says everything (a refused filter, an export that could not be written).
    headline: ClassVar[str | None] = None
    kind: ClassVar[ErrorKind] = ErrorKind.FAILED
