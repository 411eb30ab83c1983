"""The cache's read side: end users with their outbox, conflicts, audit, cursors, sync runs.

Each read is one short transaction on the shared engine (one consistent WAL snapshot), safe
on any thread while a write is going.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Engine

from desktop_app.cache.records import (
    AuditEntry,
    AuditOutcome,
    CachedEndUser,
    ConflictRecord,
    EditKind,
    EditState,
    PendingEdit,
    SavedList,
    SyncOutcome,
    SyncRecords,
    SyncRunRecord,
)
from desktop_app.cache.rows import EFFECTIVE_COLUMNS, SERVER_COLUMNS, end_user_of, load_json
from desktop_app.domain import EndUser

_PENDING_COLUMNS = ('id, end_user_id, batch_id, kind, "key", base_json, value_json, created_at,'
                    " state, message, sent_at")


def _pending_edit(row: Sequence[Any]) -> PendingEdit:  # a row as SQLite holds it
    (edit_id, end_user_id, batch_id, kind, key, base_json, value_json, created_at, state,
     message, sent_at) = row
    return PendingEdit(
        id=int(edit_id), end_user_id=int(end_user_id), batch_id=int(batch_id),
        kind=EditKind(kind), key=key, base=load_json(base_json),
        value=load_json(value_json), created_at=int(created_at),
        state=EditState(state), message=message,
        sent_at=None if sent_at is None else int(sent_at),
    )


def _outcome(word: str) -> SyncOutcome | str:
    try:
        return SyncOutcome(word)
    except ValueError:
        return word


def _sync_run(row: Sequence[Any]) -> SyncRunRecord:
    run_id, kind, outcome, reason, started_at, finished_at, counts_json = row
    return SyncRunRecord(
        id=int(run_id), kind=str(kind), outcome=_outcome(str(outcome)), reason=str(reason or ""),
        started_at=int(started_at),
        finished_at=None if finished_at is None else int(finished_at),
        counts=json.loads(str(counts_json or "{}")),
    )


class CacheReads:
    """Read methods of Cache (kept apart from the write path)."""

    _engine: Engine

    def get(self, id: int) -> CachedEndUser | None:
        with self._engine.connect() as connection:
            row = connection.exec_driver_sql(
                f"SELECT {', '.join(EFFECTIVE_COLUMNS)} FROM end_user WHERE id = ?", (id,)).first()
            if row is None:
                return None
            copy = connection.exec_driver_sql(
                f"SELECT {', '.join(SERVER_COLUMNS)} FROM server_end_user WHERE id = ?", (id,)
            ).first()
            pending = connection.exec_driver_sql(
                f"SELECT {_PENDING_COLUMNS} FROM pending_edit WHERE end_user_id = ? ORDER BY id",
                (id,)).all()
        effective = end_user_of(row)
        pending_count, has_conflict, pending_delete = row[-3:]
        server: EndUser | None
        if copy is not None:
            server = end_user_of(copy)
        else:  # nothing laid over it: the effective row is the server's row
            server = effective if not pending_count else None
        return CachedEndUser(
            end_user=effective, pending=tuple(_pending_edit(p) for p in pending),
            has_conflict=bool(has_conflict), pending_delete=pending_delete == 1, server=server,
            erasure_pending=pending_delete == 2)

    def count_all(self) -> int:
        with self._engine.connect() as connection:
            return int(connection.exec_driver_sql("SELECT count(*) FROM end_user").scalar_one())

    def all_ids(self) -> set[int]:
        """Every cached id (1M ids take about 60 MB; id_chunks streams them instead)."""
        with self._engine.connect() as connection:
            return {row[0] for row in connection.exec_driver_sql("SELECT id FROM end_user")}

    def id_chunks(self, size: int = 50_000) -> Iterator[list[int]]:
        """Every cached id in ascending chunks, each read in its own short transaction."""
        after = -(2**63)
        while True:
            with self._engine.connect() as connection:
                chunk = [row[0] for row in connection.exec_driver_sql(
                    "SELECT id FROM end_user WHERE id > ? ORDER BY id LIMIT ?", (after, size))]
            if not chunk:
                return
            yield chunk
            after = chunk[-1]

    def pending_for(self, end_user_id: int) -> list[PendingEdit]:
        """Every outbox entry of one end user, oldest first, whatever its state."""
        with self._engine.connect() as connection:
            rows = connection.exec_driver_sql(
                f"SELECT {_PENDING_COLUMNS} FROM pending_edit WHERE end_user_id = ? ORDER BY id",
                (end_user_id,)).all()
        return [_pending_edit(row) for row in rows]

    def end_users_with_pending(self, limit: int = 100) -> list[int]:
        """End users with QUEUED edits, the one with the oldest edit first.

        Users whose entries are all REJECTED or CONFLICTED are skipped: they never block
        the queue.
        """
        found: dict[int, None] = {}
        with self._engine.connect() as connection:
            result = connection.exec_driver_sql(
                "SELECT end_user_id FROM pending_edit WHERE state = 'queued' ORDER BY id")
            for (end_user_id,) in result:  # stops early: no scan of a 100k-entry outbox
                found[end_user_id] = None
                if len(found) >= limit:
                    break
            result.close()
        return list(found)

    def rejected_edits(self) -> list[PendingEdit]:
        with self._engine.connect() as connection:
            rows = connection.exec_driver_sql(
                f"SELECT {_PENDING_COLUMNS} FROM pending_edit WHERE state = 'rejected' ORDER BY id"
            ).all()
        return [_pending_edit(row) for row in rows]

    def pending_count(self) -> int:
        """Outbox entries waiting to be pushed (QUEUED); conflicts are counted apart."""
        with self._engine.connect() as connection:
            return int(connection.exec_driver_sql(
                "SELECT count(*) FROM pending_edit WHERE state = 'queued'").scalar_one())

    def conflict_count(self) -> int:
        with self._engine.connect() as connection:
            return int(connection.exec_driver_sql("SELECT count(*) FROM edit_conflict").scalar_one())

    def conflicts(self) -> list[ConflictRecord]:
        with self._engine.connect() as connection:
            rows = connection.exec_driver_sql(
                'SELECT c.id, c.end_user_id, c.edit_id, e.email, c.field, c."key", c.base_json,'
                " c.mine_json, c.theirs_json, c.created_at FROM edit_conflict c"
                " JOIN end_user e ON e.id = c.end_user_id ORDER BY c.id").all()
        return [
            ConflictRecord(id=r[0], end_user_id=r[1], edit_id=r[2], email=r[3], field=r[4],
                           key=r[5], base=load_json(r[6]), mine=load_json(r[7]),
                           theirs=load_json(r[8]), created_at=r[9])
            for r in rows
        ]

    def audit_log(self, end_user_id: int | None = None, limit: int = 100) -> list[AuditEntry]:
        """Newest first; one entry per end user an edit touched."""
        where, params = ("WHERE end_user_id = ?", (end_user_id, limit)) if end_user_id is not None \
            else ("", (limit,))
        with self._engine.connect() as connection:
            rows = connection.exec_driver_sql(
                'SELECT id, edit_id, batch_id, end_user_id, kind, "key", before_json, after_json,'
                f" created_at, outcome, outcome_at, message FROM audit_entry {where}"
                " ORDER BY id DESC LIMIT ?", params).all()
        return [
            AuditEntry(id=r[0], edit_id=r[1], batch_id=r[2], end_user_id=r[3],
                       kind=EditKind(r[4]), key=r[5], before=load_json(r[6]),
                       after=load_json(r[7]), created_at=r[8], outcome=AuditOutcome(r[9]),
                       outcome_at=r[10], message=r[11])
            for r in rows
        ]

    def property_keys(self) -> list[str]:
        """Property keys seen in pulled rows or edits, for completion and columns."""
        with self._engine.connect() as connection:
            return [row[0] for row in connection.exec_driver_sql(
                'SELECT "key" FROM property_key ORDER BY "key" COLLATE NOCASE')]

    def cursor(self, key: str) -> int | None:
        with self._engine.connect() as connection:
            value = connection.exec_driver_sql(
                'SELECT value FROM sync_cursor WHERE "key" = ?', (key,)).scalar()
        return None if value is None else int(value)

    def last_sync_runs(self, n: int = 10) -> list[SyncRunRecord]:
        with self._engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT id, kind, outcome, reason, started_at, finished_at, counts_json"
                " FROM sync_run ORDER BY id DESC LIMIT ?", (n,)).all()
        return [_sync_run(row) for row in rows]

    def sync_records(self) -> SyncRecords:
        """What the sync bar reads from the cache, in one cheap statement: the outbox, the
        conflicts, the rejected edits and the last completed sync run (of any process)."""
        with self._engine.connect() as connection:
            row = connection.exec_driver_sql(
                "SELECT (SELECT count(*) FROM pending_edit WHERE state = 'queued'),"
                " (SELECT count(*) FROM edit_conflict),"
                " (SELECT count(*) FROM pending_edit WHERE state = 'rejected'),"
                " (SELECT max(finished_at) FROM sync_run WHERE outcome = ?)",
                (SyncOutcome.COMPLETED.value,)).one()
        return SyncRecords(int(row[0]), int(row[1]), int(row[2]),
                           None if row[3] is None else int(row[3]))

    def last_successful_sync(self) -> int | None:
        """When the newest run with outcome "completed" finished (unix seconds)."""
        with self._engine.connect() as connection:
            value = connection.exec_driver_sql(
                "SELECT max(finished_at) FROM sync_run WHERE outcome = ?",
                (SyncOutcome.COMPLETED.value,)).scalar()
        return None if value is None else int(value)

    def saved_lists(self) -> list[SavedList]:
        """The kept lists, newest first."""
        with self._engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT id, name, source, identifier_kind, created_at, member_count FROM saved_list"
                " ORDER BY created_at DESC, id DESC").all()
        return [SavedList(int(i), str(n), str(s), str(k), int(c), int(m)) for i, n, s, k, c, m in rows]
