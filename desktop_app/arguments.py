"""Argument parsing shared by `wootric-desk` and the emulator: errors stay one readable line."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NoReturn

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
