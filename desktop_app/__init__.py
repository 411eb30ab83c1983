"""Wootric Desk: an offline-first desktop tool for managing Wootric end users."""

from __future__ import annotations

APP_NAME = "Wootric Desk"
APP_ID = "wootric-desk"
# Kept equal to pyproject.toml's version by a test; importlib.metadata costs 90 ms at start-up.
__version__ = "0.1.0"
