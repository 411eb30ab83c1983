"""The one way a value crosses from a worker thread to the GUI thread.

Workers (the sync thread, a cache writer, an export, the task pool) call `push(value)`; the GUI
thread gets `delivered(value)` on its next turn. Values that arrive while a delivery is queued
are folded by `merge(last, new)`: return the merged value, or None to keep both in order. So a
sync writing a page every few milliseconds costs the window one refresh per turn, not one per
page, and a progress bar gets only the newest figure.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

Merge = Callable[[Any, Any], Any]


def keep_newest(_last: Any, new: Any) -> Any:
    """For snapshots (a status, a progress figure): only the newest one matters."""
    return new


class Relay(QObject):
    """Delivers pushed values on the GUI thread, in order, folded by `merge` while they wait."""

    delivered = Signal(object)  # on the GUI thread
    _arrived = Signal()

    def __init__(self, merge: Merge | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._merge = merge
        self._lock = threading.Lock()
        self._waiting: list[Any] = []  # in order; a delivery is queued while non-empty
        self._arrived.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def push(self, value: Any) -> None:
        """Any thread. Never raises for a relay whose window has gone."""
        with self._lock:
            queued = bool(self._waiting)
            merged = self._merge(self._waiting[-1], value) if queued and self._merge is not None else None
            if merged is not None:
                self._waiting[-1] = merged
            else:
                self._waiting.append(value)
        if queued:
            return  # the delivery already queued takes this one along
        try:
            self._arrived.emit()
        except RuntimeError:  # the relay was deleted (window closed) while a worker still reports
            pass

    def _deliver(self) -> None:
        with self._lock:
            waiting, self._waiting = self._waiting, []
        for value in waiting:
            self.delivered.emit(value)
