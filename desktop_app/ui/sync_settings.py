"""The sync settings a person chooses, kept in QSettings (non-secret numbers only)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from desktop_app.sync.history_pull import DEFAULT_REREAD_DAYS, MAX_REREAD_DAYS

UNDO_GRACE_KEY = "sync/undo_grace_seconds"
DEFAULT_UNDO_GRACE_S = 5  # like "undo send": long enough to catch a slip, short enough to forget
MAX_UNDO_GRACE_S = 60  # colleagues see an edit this late at the most
RESPONSE_REREAD_KEY = "sync/response_reread_days"


def _read_whole(key: str, default: int, high: int) -> int:
    """A whole number setting: a missing or unreadable value is `default`, one out of range
    is brought into 0..high."""
    raw = QSettings().value(key, default)
    try:
        number = int(str(raw).strip())
    except ValueError:
        return default
    return min(high, max(0, number))


def _keep_whole(key: str, value: int, high: int) -> int:
    kept = min(high, max(0, int(value)))
    settings = QSettings()
    settings.setValue(key, kept)
    settings.sync()
    return kept


def undo_grace() -> int:
    """Seconds an edit stays undoable before it is sent."""
    return _read_whole(UNDO_GRACE_KEY, DEFAULT_UNDO_GRACE_S, MAX_UNDO_GRACE_S)


def set_undo_grace(seconds: int) -> int:
    """Remember a new undo grace (brought into 0..MAX_UNDO_GRACE_S); returns what was kept."""
    return _keep_whole(UNDO_GRACE_KEY, seconds, MAX_UNDO_GRACE_S)


def response_reread_days() -> int:
    """Days of survey responses and declines each sync reads again (their tags and exclusions
    change after creation, and no list filters on `updated`)."""
    return _read_whole(RESPONSE_REREAD_KEY, DEFAULT_REREAD_DAYS, MAX_REREAD_DAYS)


def set_response_reread_days(days: int) -> int:
    """Remember a new trailing window (brought into 0..MAX_REREAD_DAYS); returns what was kept."""
    return _keep_whole(RESPONSE_REREAD_KEY, days, MAX_REREAD_DAYS)
