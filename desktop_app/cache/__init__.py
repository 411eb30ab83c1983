"""The local SQLite cache: server rows, local edits and their outbox, sync state (Qt-free).

Names are resolved on first use (PEP 562): importing a light submodule such as
`desktop_app.cache.query` must not import SQLModel and SQLAlchemy (about 1.7 s), which only
the writer side (`Cache`, records) needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from desktop_app.lazy import lazy_exports

if TYPE_CHECKING:
    from desktop_app.cache.changes import CacheChanges, Initiator
    from desktop_app.cache.paths import account_db_path, default_data_dir
    from desktop_app.cache.records import (
        AuditEntry,
        AuditOutcome,
        BatchSummary,
        CacheBusy,
        CachedEndUser,
        CacheError,
        ConflictRecord,
        EditKind,
        EditRejected,
        EditState,
        PendingEdit,
        SyncOutcome,
        SyncRunRecord,
        UndoState,
    )
    from desktop_app.cache.store import Cache

_HOMES = {
    "CacheChanges": "changes", "Initiator": "changes",
    "account_db_path": "paths", "default_data_dir": "paths",
    "AuditEntry": "records", "AuditOutcome": "records", "BatchSummary": "records",
    "CacheBusy": "records", "CachedEndUser": "records",
    "CacheError": "records", "ConflictRecord": "records", "EditKind": "records",
    "EditRejected": "records", "EditState": "records", "PendingEdit": "records",
    "SyncOutcome": "records", "SyncRunRecord": "records", "UndoState": "records",
    "Cache": "store",
}

__all__ = sorted(_HOMES)
__getattr__ = lazy_exports(__name__, _HOMES)
