"""The sync settings a person chooses, kept in QSettings (non-secret numbers only)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

UNDO_GRACE_KEY = "sync/undo_grace_seconds"
DEFAULT_UNDO_GRACE_S = 5  # like "undo send": long enough to catch a slip, short enough to forget
MAX_UNDO_GRACE_S = 60  # colleagues see an edit this late at the most


def undo_grace() -> int:
    """Seconds an edit stays undoable before it is sent; a missing or unreadable value is the
    default, one out of range is brought into it."""
    raw = QSettings().value(UNDO_GRACE_KEY, DEFAULT_UNDO_GRACE_S)
    try:
        seconds = int(str(raw).strip())
    except ValueError:
        return DEFAULT_UNDO_GRACE_S
    return min(MAX_UNDO_GRACE_S, max(0, seconds))


def set_undo_grace(seconds: int) -> int:
    """Remember a new undo grace (brought into 0..MAX_UNDO_GRACE_S); returns what was kept."""
    kept = min(MAX_UNDO_GRACE_S, max(0, int(seconds)))
    settings = QSettings()
    settings.setValue(UNDO_GRACE_KEY, kept)
    settings.sync()
    return kept
