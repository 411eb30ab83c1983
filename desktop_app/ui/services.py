"""What the composition root hands to every window: the cache, queries, sync and the task runner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal

if TYPE_CHECKING:  # the core is imported for types only: the UI must start without a sync stack
    from desktop_app.cache import Cache
    from desktop_app.cache.changes import CacheChanges
    from desktop_app.cache.opening import CacheOpening
    from desktop_app.cache.query import EndUserQuery
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


class CacheChangesRelay(QObject):
    """Carries CacheChanges from whichever thread wrote (often the sync worker) to the GUI thread.

    Subscribes on creation; the window calls `detach()` when it closes.
    """

    changed = Signal(object)  # CacheChanges, delivered on the GUI thread

    def __init__(self, cache: Cache | CacheOpening, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._forward.connect(self.changed, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe: Callable[[], None] | None = cache.subscribe(self._from_any_thread)

    _forward = Signal(object)

    def _from_any_thread(self, changes: CacheChanges) -> None:
        try:
            self._forward.emit(changes)
        except RuntimeError:  # the relay is gone (window closed) while a writer still reports
            pass

    def detach(self) -> None:
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
