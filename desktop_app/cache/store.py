"""The Cache: one account's SQLite database of effective end users, outbox and sync state.

Writes are serialized by a lock, run in one `BEGIN IMMEDIATE` transaction each, and are
announced to subscribers (from the writing thread) only after they committed. Reads use the
shared engine and may run on any thread while a write is going (WAL).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from desktop_app.cache.writes import creates, edits, erasure, history, row_edits, saved_lists, sync
from desktop_app.cache.changes import CacheChanges, Initiator
from desktop_app.cache.schema.database import (
    BEGIN_OPTION,
    SYNC_OPTION,
    create_cache_engine,
    make_private_file,
    prepare_schema,
)
from desktop_app.cache.writes.edits import EditOp
from desktop_app.cache.reading.erasure_reads import ErasureReads
from desktop_app.cache.reading.history import HistoryReads
from desktop_app.cache.reading.store_reads import CacheReads
from desktop_app.cache.records import (
    CacheBusy,
    CacheError,
    ConflictChoice,
    EditKind,
    EditRejected,
    SyncOutcome,
    UndoState,
)
from desktop_app.cache.rows import dump_json
from desktop_app.cache.writes.validation import (
    check_email,
    check_enabled,
    check_external_id,
    check_ids,
    check_property_key,
    check_property_value,
)
from desktop_app.clock import Clock, SystemClock
from desktop_app.domain import EndUser, PropertyValue, SurveyDecline, SurveyResponse
from desktop_app.private_dirs import make_private_dirs

log = logging.getLogger(__name__)

CLOSE_LOCK_WAIT_S = 0.3  # closing waits this long for a write of ours in progress
OPTIMIZE_BUSY_MS = 200  # PRAGMA optimize at close: skipped when the file stays locked longer

LISTED_IDS_LIMIT = 10_000  # above this a CacheChanges says "refresh all" (end_user_ids=None)
# Property keys people filtered or sorted on live in `sync_cursor` as FILTER_KEY_PREFIX + key,
# valued with when they were last used (unix seconds): the cache's one key-value table.
FILTER_KEY_PREFIX = "filter_key:"
REMEMBERED_FILTER_KEYS = 16  # the most recently used are kept; property indexes take the first few
FORGET_FILTER_KEY_S = 180 * 86_400  # a key nobody filtered on for this long is forgotten
INTERRUPTED_REASON = "The app stopped while this sync was running."
AUDIT_KEPT_DAYS = 90  # entries of edits the service took are kept this long after it took them

ChangeCallback = Callable[[CacheChanges], None]


def _listed(ids: Sequence[int]) -> frozenset[int] | None:
    return frozenset(ids) if len(ids) <= LISTED_IDS_LIMIT else None


def _edit_changes(initiator: Initiator, applied: edits.AppliedEdit) -> CacheChanges:
    return CacheChanges(
        initiator, applied.end_user_ids,
        rows_added_or_removed=applied.kind is EditKind.DELETE and applied.count > 0,
        outbox_changed=applied.count > 0, conflicts_changed=applied.conflicts_changed,
        new_property_keys=applied.new_property_keys)


def _process_alive(pid: int | None) -> bool:
    if pid is None:
        return False
    if pid == os.getpid():
        return True  # another Cache in this very process owns the run
    if os.name != "posix":
        return False  # no cheap, safe probe: treat the run as orphaned
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Cache(CacheReads, HistoryReads, ErasureReads):
    """One account's cache. Build it with `Cache.open(path)`; close it (or use `with`)."""

    def __init__(self, path: Path, engine: Engine, clock: Clock) -> None:
        self._path = path
        self._engine = engine
        self._clock = clock
        self._write_lock = threading.RLock()
        self._subscribers: list[ChangeCallback] = []
        self._closed = False

    # --- lifecycle ----------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | str, *, clock: Clock | None = None) -> Cache:
        """Open (creating or upgrading) the cache at `path`; raises CacheError with advice.

        The directory is created 0700 and the file 0600; an upgrade copies the file beside
        itself first. Sync runs left "running" by a process that is gone become "interrupted".
        """
        path = Path(path).expanduser().resolve()
        make_private_dirs(path.parent)
        make_private_file(path)
        engine = create_cache_engine(path)
        try:
            prepare_schema(engine, path)
            make_private_file(path)  # the -wal / -shm files now exist: check them too
            cache = cls(path, engine, clock or SystemClock())
            cache._mark_interrupted_runs()
            cache._prune_audit()
            cache.refresh_query_indexes()
        except BaseException:
            engine.dispose()
            raise
        return cache

    def refresh_query_indexes(self, property_keys: Sequence[str] | None = None) -> None:
        """Create the filter indexes that are missing (cheap when none are).

        Called on open, and by the sync service after a big pull: property indexes are built
        in bulk once rows exist, which beats maintaining them row by row during the pull.
        Property indexes go first to the keys people filtered on lately (`remember_filter_keys`);
        a key indexed before loses its index to one of those (building one takes seconds at a
        million end users, so this changes only when what people filter on does).
        """
        from desktop_app.cache.indexes.expressions import ensure_query_indexes

        preferred = self.remembered_filter_keys() if property_keys is None else []
        with self._write_lock, self._engine.begin() as connection:
            ensure_query_indexes(connection, property_keys=property_keys, preferred_keys=preferred)

    def search_index_ready(self) -> bool:
        """True when the free-text search index is built (reads then use it)."""
        from desktop_app.cache.indexes.search import TEXT_INDEX, complete_indexes

        with self._engine.connect() as connection:
            raw = connection.connection.driver_connection
            assert raw is not None  # a live pooled connection always has its sqlite3 one
            return TEXT_INDEX in complete_indexes(raw)

    def build_search_index(self, progress: Callable[[int, int], None] | None = None) -> bool:
        """Build the free-text search index unless it is built; True when this call built it.

        For the sync worker after a pull: seconds at a million end users, in one transaction
        (writes wait, reads go on with the plain scan). From then on every write keeps it
        current. `progress(done, total)` reports the end users indexed so far.
        """
        from desktop_app.cache.indexes.search import build_search_index

        with self._write_lock, self._engine.connect() as connection:
            raw = connection.connection.driver_connection
            assert raw is not None
            return build_search_index(raw, progress)

    def remember_filter_keys(self, keys: Sequence[str]) -> None:
        """Note the property keys a session filtered or sorted on, most used first
        (`EndUserQuery.used_property_keys()`): the next `refresh_query_indexes` indexes them.

        Only the REMEMBERED_FILTER_KEYS most recently used are kept, and none unused for
        FORGET_FILTER_KEY_S. Stamps a second apart keep the session's own order.
        """
        named = [k for k in dict.fromkeys(keys) if k]
        now = self._now()

        def work(connection: Connection) -> CacheChanges:
            for rank, key in enumerate(named[:REMEMBERED_FILTER_KEYS]):
                sync.set_cursor(connection, FILTER_KEY_PREFIX + key, now - rank)
            ours = 'substr("key", 1, ?) = ?'
            connection.exec_driver_sql(
                f'DELETE FROM sync_cursor WHERE {ours} AND (value < ? OR "key" NOT IN ('
                f'SELECT "key" FROM sync_cursor WHERE {ours} ORDER BY value DESC LIMIT ?))',
                (len(FILTER_KEY_PREFIX), FILTER_KEY_PREFIX, now - FORGET_FILTER_KEY_S,
                 len(FILTER_KEY_PREFIX), FILTER_KEY_PREFIX, REMEMBERED_FILTER_KEYS))
            return CacheChanges(Initiator.PULL)  # nothing a view shows: not announced

        if named:
            self._write(work, durable=False)

    def remembered_filter_keys(self) -> list[str]:
        """Property keys people filtered or sorted on, most recently used first."""
        since = self._now() - FORGET_FILTER_KEY_S
        with self._engine.connect() as connection:
            rows = connection.exec_driver_sql(
                'SELECT "key" FROM sync_cursor WHERE substr("key", 1, ?) = ? AND value >= ?'
                ' ORDER BY value DESC, "key"', (len(FILTER_KEY_PREFIX), FILTER_KEY_PREFIX, since)).all()
        return [key[len(FILTER_KEY_PREFIX):] for (key,) in rows]

    @property
    def path(self) -> Path:
        return self._path

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine; readers (queries, export, UI) share it."""
        return self._engine

    def close(self) -> None:
        """Close the file; bounded (about a second) when another process holds its write lock.

        A write of ours stuck behind that lock (busy timeout: 10 s a statement) is not waited
        for: it finds the cache closed when it gets the lock. `PRAGMA optimize` is a hint for
        the next open; a busy file skips it.
        """
        owned = self._write_lock.acquire(timeout=CLOSE_LOCK_WAIT_S)
        try:
            if self._closed:
                return
            self._closed = True
            if not owned:
                log.info("closing the cache while one of its writes waits for the file's lock")
                return
            try:
                with self._engine.connect() as connection:
                    connection.exec_driver_sql(f"PRAGMA busy_timeout = {OPTIMIZE_BUSY_MS}")
                    connection.exec_driver_sql("PRAGMA optimize")
            except OperationalError as exc:
                log.info("skipped PRAGMA optimize at close: %s", exc.orig)
        finally:
            if owned:
                self._write_lock.release()
            if self._closed:
                self._engine.dispose()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def subscribe(self, callback: ChangeCallback) -> Callable[[], None]:
        """Call `callback(changes)` after every committed write, on the writing thread.

        Writes that change nothing a view shows (cursors, sync-run bookkeeping, edits that
        were no-ops) are not announced. A callback that raises is logged and skipped.
        """
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    # --- the write path -----------------------------------------------------------------

    def _now(self) -> int:
        return int(self._clock.now())

    def _write(self, work: Callable[[Connection], CacheChanges], *, durable: bool) -> CacheChanges:
        """Run `work` in one write transaction; announce its changes once committed."""
        with self._write_lock:
            if self._closed:
                raise CacheError(f"The cache {self._path} is closed.")
            try:
                with self._engine.connect() as connection:
                    connection.execution_options(**{
                        BEGIN_OPTION: "IMMEDIATE", SYNC_OPTION: "FULL" if durable else "NORMAL"})
                    with connection.begin():
                        changes = work(connection)
            except OperationalError as exc:  # the busy timeout ran out: say so in plain words
                if "locked" in str(exc.orig) or "busy" in str(exc.orig):
                    raise CacheBusy() from None
                raise
        if (changes.end_user_ids is None or changes.end_user_ids or changes.rows_added_or_removed
                or changes.outbox_changed or changes.conflicts_changed or changes.new_property_keys):
            for callback in list(self._subscribers):
                try:
                    callback(changes)
                except Exception:  # a broken view must not undo or block a committed write
                    log.exception("a cache subscriber failed")
        return changes

    def _edit(self, op: EditOp, ids: Sequence[int], bulk: bool = False) -> CacheChanges:
        targets = check_ids(ids)

        def work(connection: Connection) -> CacheChanges:
            return _edit_changes(Initiator.EDIT, edits.apply_edit(
                connection, op, targets, self._now(), bulk=bulk, listed_limit=LISTED_IDS_LIMIT))

        return self._write(work, durable=True)

    # --- local edits --------------------------------------------------------------------
    # `bulk=True`: the edit is a bulk action (a selection, a filter), which its undo name tells.

    def set_property(self, ids: Sequence[int], key: str, value: PropertyValue, *,
                     bulk: bool = False) -> CacheChanges:
        op = EditOp(EditKind.SET_PROPERTY, check_property_key(key), check_property_value(value))
        return self._edit(op, ids, bulk)

    def unset_property(self, ids: Sequence[int], key: str, *, bulk: bool = False) -> CacheChanges:
        return self._edit(EditOp(EditKind.UNSET_PROPERTY, check_property_key(key)), ids, bulk)

    def set_email(self, id: int, email: str) -> CacheChanges:
        return self._edit(EditOp(EditKind.SET_EMAIL, None, check_email(email)), [id])

    def set_external_id(self, id: int, external_id: str | None) -> CacheChanges:
        return self._edit(EditOp(EditKind.SET_EXTERNAL_ID, None, check_external_id(external_id)),
                          [id])

    def set_surveys_enabled(self, ids: Sequence[int], enabled: bool, *,
                            bulk: bool = False) -> CacheChanges:
        """All channels on or off. End users who opted out themselves stay read-only:
        enabling them is rejected (only they can opt back in), disabling them is a no-op."""
        return self._edit(EditOp(EditKind.SET_SURVEYS, None, check_enabled(enabled)), ids, bulk)

    def delete_end_users(self, ids: Sequence[int], *, bulk: bool = False) -> CacheChanges:
        """Queue deletions; rows stay (flagged pending_delete) until the service confirms."""
        return self._edit(EditOp(EditKind.DELETE, None, True), ids, bulk)

    def set_values_per_row(self, kind: EditKind, cells: Sequence[row_edits.Cell]) -> CacheChanges:
        """Each end user's own value(s) in one bulk batch (one undo step): `cells` are (end user
        id, property key, value) for SET_PROPERTY, (id, None, external id or None) for
        SET_EXTERNAL_ID. Every key and value is checked first; a bad one raises EditRejected
        and nothing is written."""
        checked: list[row_edits.Cell]
        if kind is EditKind.SET_PROPERTY:
            keys: dict[object, str] = {}  # a list has a few columns: each key is checked once
            checked = [(id, keys[key] if key in keys else keys.setdefault(key, check_property_key(key)),
                        check_property_value(value)) for id, key, value in cells]
        elif kind is EditKind.SET_EXTERNAL_ID:
            checked = [(id, None, check_external_id(value)) for id, _key, value in cells]
        else:
            raise EditRejected(f"Values per end user are for properties and external ids, not {kind}.")
        check_ids([id for id, _k, _v in checked])

        def work(connection: Connection) -> CacheChanges:
            return _edit_changes(Initiator.EDIT, row_edits.apply_row_edits(
                connection, kind, checked, self._now(), listed_limit=LISTED_IDS_LIMIT))

        return self._write(work, durable=True)

    def import_end_users(self, cells: Sequence[row_edits.Cell],
                         people: Sequence[creates.NewEndUser]) -> tuple[CacheChanges, list[int]]:
        """An import in one batch (one undo step): each matched end user's own property values
        (`cells`, as `set_values_per_row` takes them) and `people` created here with local
        ids, each queued as a create for the push. Everything is checked first; a bad email,
        key or value raises EditRejected and nothing is written. Returns the changes and the
        local ids, in `people`'s order. An undo before the push removes the created rows."""
        keys: dict[object, str] = {}

        def key_of(key: object) -> str:
            return keys[key] if key in keys else keys.setdefault(key, check_property_key(key))

        checked = [(id, key_of(key), check_property_value(value)) for id, key, value in cells]
        if checked:
            check_ids([id for id, _k, _v in checked])
        new = [creates.NewEndUser(
            check_email(p.email), check_external_id(p.external_id),
            {key_of(k): check_property_value(v) for k, v in (p.properties or {}).items()})
            for p in people]
        created: list[int] = []

        def work(connection: Connection) -> CacheChanges:
            applied = (row_edits.apply_row_edits(connection, EditKind.SET_PROPERTY, checked, self._now(),
                                                 listed_limit=LISTED_IDS_LIMIT) if checked else None)
            if not new:
                return _edit_changes(Initiator.EDIT, applied) if applied else CacheChanges(Initiator.EDIT)
            batch_id = applied.batch_id if applied is not None else None
            if batch_id is None:
                connection.exec_driver_sql("UPDATE edit_batch SET state = 'discarded' WHERE state = 'undone'")
                named = sorted({k for p in new for k in (p.properties or {})})
                batch_id = connection.exec_driver_sql(
                    'INSERT INTO edit_batch (kind, "key", value_json, created_at, undoable, state,'
                    " pushed, bulk, per_row) VALUES (?, ?, 'null', ?, 1, 'done', 0, 1, 1)",
                    (EditKind.CREATE.value, ", ".join(named) or None, self._now())).lastrowid
            else:
                connection.exec_driver_sql("UPDATE edit_batch SET kind = ? WHERE id = ?",
                                           (EditKind.CREATE.value, batch_id))
            assert batch_id is not None
            created.extend(creates.create_local(connection, int(batch_id), new, self._now()))
            updated = applied.end_user_ids if applied is not None else frozenset()
            ids = None if updated is None else _listed([*updated, *created])
            return CacheChanges(Initiator.EDIT, ids, rows_added_or_removed=True, outbox_changed=True,
                                conflicts_changed=bool(applied and applied.conflicts_changed),
                                new_property_keys=(applied.new_property_keys if applied else frozenset())
                                | frozenset(k for p in new for k in (p.properties or {})))

        return self._write(work, durable=True), created

    # --- kept lists ---------------------------------------------------------------------

    def save_list(self, name: str, end_user_ids: Sequence[int], *, identifier_kind: str,
                  source: str = "", replace: bool = False) -> int:
        """Keep a list's matched end users under `name` (one transaction); its id. A name
        already kept (ignoring case) raises EditRejected unless `replace`."""
        checked = saved_lists.check_list_name(name)
        ids = check_ids(end_user_ids) if end_user_ids else []
        found: list[int] = []

        def work(connection: Connection) -> CacheChanges:
            found.append(saved_lists.save_list(connection, checked, source, identifier_kind, ids,
                                               self._now(), replace=replace))
            # No end user changed, but who `list:<name>` finds did: results and counts are stale.
            return CacheChanges(Initiator.EDIT, rows_added_or_removed=True)

        self._write(work, durable=True)
        return found[0]

    def delete_list(self, name: str) -> bool:
        """Forget a kept list; False when none had that name."""
        done: list[bool] = []

        def work(connection: Connection) -> CacheChanges:
            done.append(saved_lists.delete_list(connection, name.strip()))
            return CacheChanges(Initiator.EDIT, rows_added_or_removed=done[0])

        self._write(work, durable=True)
        return done[0]

    def undo_state(self) -> UndoState:
        """What undo and redo would revert or re-apply now, with what their names need, read
        in one snapshot: any later committed write is seen whole or not at all."""
        with self._engine.connect() as connection, connection.begin():
            return edits.undo_state(connection)

    def undo(self) -> CacheChanges | None:
        """Revert the newest action if none of it was pushed; None when there is nothing."""
        return self._step_history(edits.undoable_batch, edits.undo_batch)

    def redo(self) -> CacheChanges | None:
        """Re-apply the most recently undone action; None when there is nothing to redo."""
        return self._step_history(edits.redoable_batch, edits.redo_batch)

    def _step_history(
        self,
        find: Callable[[Connection], int | None],
        step: Callable[..., edits.AppliedEdit],
    ) -> CacheChanges | None:
        found: list[int] = []

        def work(connection: Connection) -> CacheChanges:
            batch = find(connection)
            if batch is None:
                return CacheChanges(Initiator.UNDO)
            found.append(batch)
            return _edit_changes(Initiator.UNDO, step(connection, batch, self._now(),
                                                      listed_limit=LISTED_IDS_LIMIT))

        changes = self._write(work, durable=True)
        return changes if found else None

    # --- the sync engine's side ---------------------------------------------------------

    def ingest_pulled(self, end_users: Sequence[EndUser], cursor_key: str,
                      cursor_value: int | None) -> CacheChanges:
        """Store pulled server rows and the cursor in one transaction; never clobbers edits."""
        def work(connection: Connection) -> CacheChanges:
            done = sync.ingest(connection, end_users, cursor_key, cursor_value)
            return CacheChanges(Initiator.PULL, _listed(done.end_user_ids),
                                rows_added_or_removed=done.added, new_property_keys=done.new_property_keys)

        return self._write(work, durable=False)

    def ingest_responses(self, responses: Sequence[SurveyResponse],
                         cursors: Mapping[str, int | None]) -> CacheChanges:
        """Store pulled responses, their end users' summaries and `cursors`, in one transaction."""
        def work(connection: Connection) -> CacheChanges:
            return CacheChanges(Initiator.PULL, _listed(
                history.ingest_responses(connection, responses, cursors)))

        return self._write(work, durable=False)

    def ingest_declines(self, declines: Sequence[SurveyDecline],
                        cursors: Mapping[str, int | None]) -> CacheChanges:
        """Store pulled declines, their end users' summaries and `cursors`, in one transaction."""
        def work(connection: Connection) -> CacheChanges:
            return CacheChanges(Initiator.PULL, _listed(
                history.ingest_declines(connection, declines, cursors)))

        return self._write(work, durable=False)

    def remove_unlisted_history(self, table: str, since: int, listed: Collection[int]) -> int:
        """After a whole walk of `table` ("response", "decline") from `since`: the cached rows
        of that range it did not list were deleted on the service and go. Returns how many."""
        removed: list[int] = []

        def work(connection: Connection) -> CacheChanges:
            count, touched = history.remove_unlisted(connection, table, since, listed)
            removed.append(count)
            return CacheChanges(Initiator.PULL, _listed(touched))

        self._write(work, durable=False)
        return removed[0]

    def set_cursor(self, key: str, value: int | None) -> None:
        def work(connection: Connection) -> CacheChanges:
            sync.set_cursor(connection, key, value)
            return CacheChanges(Initiator.PULL)

        self._write(work, durable=False)

    def mark_sent(self, end_user_id: int, edit_ids: Sequence[int]) -> None:
        """Remember, durably and before the request, that a push puts these edits' values on
        the wire: after a crash the service may hold them, and they are ours, not a colleague's.
        Their batch can no longer be undone; nobody is told, since the answer's broadcast
        follows at once (an undo asked for meanwhile finds nothing to undo)."""
        def work(connection: Connection) -> CacheChanges:
            sync.mark_sent(connection, end_user_id, list(edit_ids), self._now())
            return CacheChanges(Initiator.PUSH)

        if edit_ids:
            self._write(work, durable=True)

    def erasure_sent(self, end_user_id: int, edit_ids: Sequence[int] = ()) -> None:
        """Before a DELETE goes out: its erasure record (hashes, sent time), durably, so a
        crash after the service's 202 still knows whom it must not bring back; the delete's
        outbox entries are marked sent like any edit on the wire (no undo from here on)."""
        def work(connection: Connection) -> CacheChanges:
            erasure.record_sent(connection, end_user_id, self._now())
            if edit_ids:
                sync.mark_sent(connection, end_user_id, list(edit_ids), self._now())
            return CacheChanges(Initiator.PUSH)

        self._write(work, durable=True)

    def complete_push(self, end_user_id: int, edit_ids: Sequence[int],
                      server_row: EndUser | None, *, erasure_accepted: bool = False) -> CacheChanges:
        """The service took `edit_ids`: they leave the outbox, the audit says pushed, and the
        server's row is stored under what remains. None: a delete, which with
        `erasure_accepted` (a 202) leaves the row marked erasure pending, and otherwise (the
        service no longer has them) removes it, its erasure record kept as erased."""
        def work(connection: Connection) -> CacheChanges:
            removed, conflicts = sync.complete_push(
                connection, end_user_id, list(edit_ids), server_row, self._now(),
                erasure_accepted=erasure_accepted)
            if removed:  # their responses carry their email: they go with them (temp.gone_ids)
                history.forget_history(connection)
            return CacheChanges(Initiator.PUSH, frozenset({end_user_id}),
                                rows_added_or_removed=removed, outbox_changed=True,
                                conflicts_changed=conflicts)

        return self._write(work, durable=False)

    def adopt_created(self, local_id: int, server: EndUser, edit_ids: Sequence[int]) -> CacheChanges:
        """A person created here is on the service as `server`: the local id becomes the
        service's everywhere (row, outbox, audit, kept lists) and `edit_ids` leave as pushed."""
        def work(connection: Connection) -> CacheChanges:
            removed, conflicts = creates.adopt_service_id(connection, local_id, server, list(edit_ids),
                                                          self._now())
            return CacheChanges(Initiator.PUSH, frozenset({local_id, server.id}),
                                rows_added_or_removed=True, outbox_changed=True,
                                conflicts_changed=conflicts or removed)

        return self._write(work, durable=False)

    def drop_unsent_create(self, local_id: int, message: str) -> CacheChanges:
        """A person created here and deleted again before any push: nothing goes to the
        service; the row leaves and its audit entries say why."""
        def work(connection: Connection) -> CacheChanges:
            connection.exec_driver_sql(
                "UPDATE audit_entry SET outcome = 'discarded', outcome_at = ?, message = ?"
                " WHERE end_user_id = ? AND outcome = 'queued'", (self._now(), message, local_id))
            creates.drop_local_rows(connection, [local_id])
            return CacheChanges(Initiator.PUSH, frozenset({local_id}), rows_added_or_removed=True,
                                outbox_changed=True)

        return self._write(work, durable=False)

    def reject_push(self, end_user_id: int, edit_ids: Sequence[int], message: str,
                    server_row: EndUser | None) -> CacheChanges:
        """The service refused `edit_ids` with `message`; they stay listed as REJECTED."""
        def work(connection: Connection) -> CacheChanges:
            conflicts = sync.reject_push(connection, end_user_id, list(edit_ids), message,
                                                server_row, self._now())
            return CacheChanges(Initiator.PUSH, frozenset({end_user_id}), outbox_changed=True,
                                conflicts_changed=conflicts)

        return self._write(work, durable=False)

    def record_conflicts(self, end_user_id: int, conflicts: Sequence[tuple[int, object]],
                         server_row: EndUser) -> CacheChanges:
        """(edit id, their value) pairs become CONFLICTED with base, mine and theirs kept."""
        def work(connection: Connection) -> CacheChanges:
            count = sync.record_conflicts(connection, end_user_id, list(conflicts),
                                                 server_row, self._now())
            return CacheChanges(Initiator.PUSH, frozenset({end_user_id}),
                                outbox_changed=count > 0, conflicts_changed=count > 0)

        return self._write(work, durable=False)

    def resolve_conflict(self, conflict_id: int, choice: ConflictChoice, value: object = None) -> CacheChanges:
        """choice "theirs": keep the server's value; "mine" or "value" (with `value`): queue
        it afresh, based on theirs. Raises EditRejected for a bad choice or value."""
        def work(connection: Connection) -> CacheChanges:
            end_user_id = sync.resolve_conflict(connection, conflict_id, choice, value,
                                                       self._now())
            return CacheChanges(Initiator.RESOLVE, frozenset({end_user_id}), outbox_changed=True,
                                conflicts_changed=True)

        return self._write(work, durable=True)

    def dismiss_rejected(self, edit_id: int) -> CacheChanges:
        def work(connection: Connection) -> CacheChanges:
            end_user_id = sync.dismiss_rejected(connection, edit_id)
            if end_user_id is None:
                return CacheChanges(Initiator.EDIT)
            return CacheChanges(Initiator.EDIT, frozenset({end_user_id}), outbox_changed=True,
                                rows_added_or_removed=end_user_id < 0)  # a refused create's row goes

        return self._write(work, durable=True)

    def remove_end_users(self, ids: Sequence[int]) -> CacheChanges:
        """End users deleted on the service (found by reconcile) leave the cache."""
        targets = list(dict.fromkeys(ids))

        def work(connection: Connection) -> CacheChanges:
            removed, outbox, conflicts = sync.remove_end_users(connection, targets,
                                                                      self._now())
            history.forget_history(connection)  # their responses and declines go with them
            return CacheChanges(Initiator.RECONCILE, _listed(targets),
                                rows_added_or_removed=removed > 0, outbox_changed=outbox,
                                conflicts_changed=conflicts)

        return self._write(work, durable=False) if targets else CacheChanges(Initiator.RECONCILE)

    # --- sync runs ----------------------------------------------------------------------

    def start_sync_run(self, kind: str) -> int:
        run_id: list[int] = []

        def work(connection: Connection) -> CacheChanges:
            run_id.append(int(connection.exec_driver_sql(
                "INSERT INTO sync_run (kind, outcome, reason, started_at, counts_json, pid)"
                " VALUES (?, ?, '', ?, '{}', ?)", (kind, SyncOutcome.RUNNING.value, self._now(), os.getpid())
            ).lastrowid))
            return CacheChanges(Initiator.PULL)

        self._write(work, durable=False)
        return run_id[0]

    def finish_sync_run(self, run_id: int, outcome: SyncOutcome, reason: str,
                        counts: Mapping[str, int]) -> None:
        def work(connection: Connection) -> CacheChanges:
            connection.exec_driver_sql(
                "UPDATE sync_run SET outcome = ?, reason = ?, finished_at = ?, counts_json = ?"
                " WHERE id = ?",
                (str(outcome), reason, self._now(), dump_json({k: int(v) for k, v in counts.items()}),
                 run_id))
            return CacheChanges(Initiator.PULL)

        self._write(work, durable=False)

    def _prune_audit(self) -> None:
        """Forget audit entries of edits that reached the service (or were dropped) long ago.

        A bulk edit audits every end user it touched, so an audit that is never pruned grows by
        100k rows per bulk action. Entries still in play (queued, conflicted, rejected, undone:
        redo reads them) are kept whatever their age.
        """
        cutoff = self._now() - AUDIT_KEPT_DAYS * 86_400

        def work(connection: Connection) -> CacheChanges:
            connection.exec_driver_sql(
                "DELETE FROM audit_entry WHERE outcome IN ('pushed', 'discarded') AND outcome_at < ?",
                (cutoff,))
            return CacheChanges(Initiator.PUSH)  # lists no end user: nobody is told

        self._write(work, durable=False)

    def _mark_interrupted_runs(self) -> None:
        with self._engine.connect() as connection:
            running = connection.exec_driver_sql(
                "SELECT id, pid FROM sync_run WHERE outcome = ?", (SyncOutcome.RUNNING.value,)).all()
        orphans = [(run_id,) for run_id, pid in running if not _process_alive(pid)]
        if not orphans:
            return

        def work(connection: Connection) -> CacheChanges:
            connection.exec_driver_sql(
                "UPDATE sync_run SET outcome = ?, reason = ?, finished_at = ? WHERE id = ? AND outcome = ?",
                [(SyncOutcome.INTERRUPTED.value, INTERRUPTED_REASON, self._now(), run_id,
                  SyncOutcome.RUNNING.value) for (run_id,) in orphans])
            return CacheChanges(Initiator.PULL)

        self._write(work, durable=False)
        log.warning("%d sync run(s) were interrupted by an earlier exit", len(orphans))

