"""What the composition root hands to every window: the cache, queries, sync and the task runner."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal

if TYPE_CHECKING:  # the core is imported for types only: the UI must start without a sync stack
    from desktop_app.cache.store import Cache
    from desktop_app.cache.changes import CacheChanges
    from desktop_app.cache.opening import CacheOpening
    from desktop_app.cache.reading.query import EndUserQuery
    from desktop_app.domain import SurveyResponse
    from desktop_app.sync import SyncService
    from desktop_app.ui.tasks import TaskRunner


@dataclass(frozen=True)
class AppServices:
    """The app's parts, built once by the composition root and passed down (no globals)."""

    cache: Cache | CacheOpening  # the app hands a CacheOpening while the cache opens in the background
    query: EndUserQuery
    sync: SyncService | None
    tasks: TaskRunner
    responses: Callable[[int], list[SurveyResponse]] | None  # an end user's survey responses
    account_label: str
    demo: object | None = None  # the embedded emulator when running with --demo
    rows_readable: bool = True  # False while a new cache file is created: the table waits for
    #                             MainWindow.cache_opened() before its first query


# A merged broadcast lists at most this many ids (as the cache's own broadcasts do); beyond it
# it says "refresh all", which costs a view less than looking up that many ids one by one.
MERGED_IDS_LIMIT = 10_000


def merge_changes(first: CacheChanges, second: CacheChanges) -> CacheChanges:
    """One broadcast that tells a view everything two broadcasts of the same initiator did."""
    if first.end_user_ids is None or second.end_user_ids is None:
        ids: frozenset[int] | None = None
    else:
        ids = first.end_user_ids | second.end_user_ids
        if len(ids) > MERGED_IDS_LIMIT:
            ids = None
    return replace(
        first,
        end_user_ids=ids,
        rows_added_or_removed=first.rows_added_or_removed or second.rows_added_or_removed,
        outbox_changed=first.outbox_changed or second.outbox_changed,
        conflicts_changed=first.conflicts_changed or second.conflicts_changed,
        new_property_keys=first.new_property_keys | second.new_property_keys,
    )


class CacheChangesRelay(QObject):
    """Carries CacheChanges from whichever thread wrote (often the sync worker) to the GUI thread.

    Changes that arrive while the GUI thread is busy are merged (consecutive ones of the same
    initiator) and delivered together on its next turn: a sync writes a page every few
    milliseconds, and handling each page on its own would cost the window a refresh per page.
    Subscribes on creation; the window calls `detach()` when it closes.
    """

    changed = Signal(object)  # CacheChanges, delivered on the GUI thread

    def __init__(self, cache: Cache | CacheOpening, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._waiting: list[CacheChanges] = []  # in order; a delivery is queued while non-empty
        self._arrived.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe: Callable[[], None] | None = cache.subscribe(self._from_any_thread)

    _arrived = Signal()

    def _from_any_thread(self, changes: CacheChanges) -> None:
        with self._lock:
            queued = bool(self._waiting)
            last = self._waiting[-1] if queued else None
            if last is not None and last.initiator is changes.initiator:
                self._waiting[-1] = merge_changes(last, changes)
            else:
                self._waiting.append(changes)
        if queued:
            return  # the delivery already queued takes this one along
        try:
            self._arrived.emit()
        except RuntimeError:  # the relay is gone (window closed) while a writer still reports
            pass

    def _deliver(self) -> None:
        with self._lock:
            waiting, self._waiting = self._waiting, []
        for changes in waiting:
            self.changed.emit(changes)

    def detach(self) -> None:
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
