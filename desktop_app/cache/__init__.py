"""The local SQLite cache: server rows, local edits and their outbox, sync state (Qt-free)."""

from __future__ import annotations

from desktop_app.cache.changes import CacheChanges, Initiator
from desktop_app.cache.paths import account_db_path, default_data_dir
from desktop_app.cache.records import (
    AuditEntry,
    AuditOutcome,
    CachedEndUser,
    CacheError,
    ConflictRecord,
    EditKind,
    EditRejected,
    EditState,
    PendingEdit,
    SyncOutcome,
    SyncRunRecord,
)
from desktop_app.cache.store import Cache

__all__ = [
    "AuditEntry", "AuditOutcome", "Cache", "CacheChanges", "CacheError", "CachedEndUser",
    "ConflictRecord", "EditKind", "EditRejected", "EditState", "Initiator", "PendingEdit",
    "SyncOutcome", "SyncRunRecord", "account_db_path", "default_data_dir",
]
