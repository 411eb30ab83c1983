"""What the composition root hands to every window: the cache, queries, sync and the operations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from desktop_app.ui.relay import Relay

if TYPE_CHECKING:  # the core is imported for types only: the UI must start without a sync stack
    from desktop_app.cache.changes import CacheChanges
    from desktop_app.cache.opening import CacheFuture
    from desktop_app.cache.reading.query import EndUserQuery
    from desktop_app.sync import SyncService
    from desktop_app.ui.operations import Operations


@dataclass(frozen=True)
class AppServices:
    """The app's parts, built once by the composition root and passed down (no globals)."""

    cache: CacheFuture  # the cache opens in the background; views reach it through `ops`
    query: EndUserQuery
    sync: SyncService | None
    ops: Operations  # the one way a view runs work off the GUI thread
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


def _merge_same_initiator(last: CacheChanges, new: CacheChanges) -> CacheChanges | None:
    """Consecutive broadcasts of one initiator fold into one; another initiator waits in order."""
    return merge_changes(last, new) if last.initiator is new.initiator else None


class CacheChangesRelay(Relay):
    """CacheChanges from whichever thread wrote (often the sync worker) to the GUI thread
    (`delivered`), merged while the GUI thread is busy: a sync writes a page every few
    milliseconds, and handling each page on its own would cost the window a refresh per page.
    Subscribes on creation; the window calls `detach()` when it closes.
    """

    def __init__(self, cache: CacheFuture, parent: QObject | None = None) -> None:
        super().__init__(_merge_same_initiator, parent)
        self._unsubscribe: Callable[[], None] | None = cache.subscribe(self.push)

    def detach(self) -> None:
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
