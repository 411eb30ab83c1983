"""Wootric Desk: an offline-first desktop tool for managing Wootric end users."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

APP_NAME = "Wootric Desk"
APP_ID = "wootric-desk"

try:
    __version__ = version("wootric-desk")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
