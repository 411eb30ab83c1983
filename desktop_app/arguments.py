"""Argument parsing shared by `wootric-desk` and the emulator: errors stay one readable line."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NoReturn

from desktop_app.broken_text import has_broken_text

MAX_QUOTED = 80  # a 50,000-character value quoted back in full would bury the message


def shorten(text: str, limit: int = MAX_QUOTED) -> str:
    return text if len(text) <= limit else f"{text[:limit // 2]}…({len(text):,} characters)"


class ArgumentParser(argparse.ArgumentParser):
    """argparse, with the value an error quotes cut short and undecodable bytes shown as \\xNN."""

    def error(self, message: str) -> NoReturn:
        words = message.split(" ")
        message = " ".join(shorten(word, 4 * MAX_QUOTED) for word in words)
        if len(message) > 8 * MAX_QUOTED:
            message = shorten(message, 8 * MAX_QUOTED)
        message = message.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        super().error(message)


def refuse_broken_text(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """An error (exit 2) for a str argument holding bytes that are not UTF-8 (surrogateescape):
    printed or sent, it would raise UnicodeEncodeError. Path arguments (Path type) may hold any."""
    for action in parser._actions:
        value = getattr(args, action.dest, None)
        if isinstance(value, str) and has_broken_text(value):
            name = action.option_strings[0] if action.option_strings else action.dest
            parser.error(f"argument {name}: not valid text (it holds a byte that is not UTF-8)")


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from low to high (SQLite and sockets have limits)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {shorten(text)!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"out of range ({low} to {high}): {shorten(text)}")
        return value

    parse.__name__ = "whole number"  # argparse names the type in its own messages
    return parse
