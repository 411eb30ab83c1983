"""Opening a cache file: private permissions, the SQLAlchemy engine and its pragmas, migrations.

Durability: the database runs in WAL mode. Local edits commit with `synchronous=FULL` (the
WAL is fsynced before the edit call returns: a person's edit exists nowhere else, so it must
survive a power cut, and it costs about 0.2 ms here), and so does the outbox's "sent" mark a
push sets before each request (the merge relies on it after any crash). Pulls and push
outcomes commit with `synchronous=NORMAL`: in WAL mode that is still safe against a crash of
the app, and after a power cut the worst case is re-pulling a page or re-merging an edit the
service already has.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError

from desktop_app.cache.indexes.history import FILL_HISTORY_INDEXES, HISTORY_INDEX_DDL
from desktop_app.cache.records import CacheError
from desktop_app.cache.schema.history_tables import HISTORY_TABLES
from desktop_app.cache.schema.state_tables import ALL_TABLES, ErasureRow, SuppressionSaltRow

log = logging.getLogger(__name__)

PRIVATE_FILE = 0o600
BUSY_TIMEOUT_MS = 10_000  # another process (the CLI beside the GUI) may hold the write lock
BEGIN_OPTION = "wootric_begin"  # execution option: DEFERRED (readers) or IMMEDIATE (writers)
SYNC_OPTION = "wootric_synchronous"  # execution option: NORMAL or FULL for this transaction


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step from `version - 1` to `version`; runs inside the upgrade transaction."""

    version: int
    description: str
    apply: Callable[[Connection], None]


# The schema a fresh file gets is the current models (`create_all`); existing files walk these
# steps in order. Add a step (and bump SCHEMA_VERSION) whenever a table changes shape.
SCHEMA_VERSION = 10


def _add_pending_edit_sent_at(connection: Connection) -> None:
    connection.exec_driver_sql("ALTER TABLE pending_edit ADD COLUMN sent_at INTEGER")


def _add_edit_batch_bulk(connection: Connection) -> None:
    connection.exec_driver_sql("ALTER TABLE edit_batch ADD COLUMN bulk BOOLEAN NOT NULL DEFAULT 0")


def _add_search_index(connection: Connection) -> None:
    # Only the record: the index itself is built after the next pull (search_index.py).
    connection.exec_driver_sql(
        "CREATE TABLE search_index (name VARCHAR NOT NULL, built_at INTEGER NOT NULL, PRIMARY KEY (name))")


def _add_saved_lists(connection: Connection) -> None:
    # The DDL `create_all` writes for SavedListRow and SavedListMemberRow (a test holds the
    # upgraded file to a fresh one's).
    connection.exec_driver_sql(
        "CREATE TABLE saved_list (id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,"
        ' name VARCHAR COLLATE "NOCASE" NOT NULL, source VARCHAR NOT NULL,'
        " identifier_kind VARCHAR NOT NULL, created_at INTEGER NOT NULL,"
        " member_count INTEGER NOT NULL, UNIQUE (name))")
    connection.exec_driver_sql(
        "CREATE TABLE saved_list_member (list_id INTEGER NOT NULL, end_user_id INTEGER NOT NULL,"
        " PRIMARY KEY (list_id, end_user_id),"
        " FOREIGN KEY(list_id) REFERENCES saved_list (id) ON DELETE CASCADE)")


def _add_edit_batch_per_row(connection: Connection) -> None:
    connection.exec_driver_sql("ALTER TABLE edit_batch ADD COLUMN per_row BOOLEAN NOT NULL DEFAULT 0")


def _add_survey_history(connection: Connection) -> None:
    # The tables as a fresh file gets them (indexes included); filled by the next sync.
    for table in HISTORY_TABLES:
        table.create(connection)


def _add_nps_indexes(connection: Connection) -> None:
    # The DDL `create_all` writes for them (a file upgraded from 6 has them already).
    where = " WHERE excluded_from_calculations = 0"
    connection.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_response_nps ON response"
        " (score, created_at, excluded_from_calculations)" + where)
    connection.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_response_nps_by_user ON response"
        " (end_user_id, created_at, score, excluded_from_calculations)" + where)


def _add_erasure(connection: Connection) -> None:
    # The tables as a fresh file gets them; the salt is made with the first erasure.
    for model in (ErasureRow, SuppressionSaltRow):
        model.__table__.create(connection)  # type: ignore[union-attr]  # SQLModel sets it on table models


def _add_history_indexes(connection: Connection) -> None:
    # The trigram index over response text and the tag table, filled from cached responses.
    for statement in (*HISTORY_INDEX_DDL, *FILL_HISTORY_INDEXES):
        connection.exec_driver_sql(statement)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(2, "pending_edit.sent_at: the outbox remembers what a push may have sent",
              _add_pending_edit_sent_at),
    Migration(3, "edit_batch.bulk: an undo step knows it was a bulk action, for its name",
              _add_edit_batch_bulk),
    Migration(4, "search_index: which search indexes are built and may be used", _add_search_index),
    Migration(5, "saved_list and its members: kept lists, for the list:<name> filter", _add_saved_lists),
    Migration(6, "edit_batch.per_row: a batch whose end users each got their own value",
              _add_edit_batch_per_row),
    Migration(7, "response, decline, survey_summary: the account's survey history",
              _add_survey_history),
    Migration(8, "ix_response_nps(_by_user): the NPS panel reads a period's scores from indexes",
              _add_nps_indexes),
    Migration(9, "erasure, suppression_salt: deletes tracked until purged, erased identifiers "
                 "as salted hashes", _add_erasure),
    Migration(10, "response_text, response_tag: comment: and tag: filters find responses by index",
              _add_history_indexes),
)


def make_private_file(path: Path) -> None:
    """Create the database file user-only (0600) before SQLite touches it; tighten if loose.

    SQLite gives its -wal and -shm files the main file's permissions.
    """
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE)
        os.close(fd)
    if os.name == "posix":
        for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            if candidate.exists() and candidate.stat().st_mode & 0o077:
                os.chmod(candidate, PRIVATE_FILE)


def create_cache_engine(path: Path) -> Engine:
    """An engine whose connections run WAL, foreign keys, and real BEGIN statements.

    pysqlite's own transaction handling is switched off (it would not BEGIN before a SELECT),
    so every SQLAlchemy transaction is an SQLite transaction: readers see one snapshot, and
    writers take the write lock up front (BEGIN IMMEDIATE) instead of failing to upgrade.
    """
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.isolation_level = None
        for pragma in (
            "journal_mode = WAL",
            "foreign_keys = ON",
            f"busy_timeout = {BUSY_TIMEOUT_MS}",
            "temp_store = MEMORY",
            "cache_size = -32000",
            "journal_size_limit = 67108864",  # a 100k-row edit grows the WAL; shrink it after
        ):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        synchronous = options.get(SYNC_OPTION, "NORMAL")
        begin = options.get(BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"PRAGMA synchronous = {synchronous}")
        connection.exec_driver_sql(f"BEGIN {begin}")

    return engine


def schema_version(connection: Connection) -> int:
    return int(connection.exec_driver_sql("PRAGMA user_version").scalar_one())


def _has_tables(connection: Connection) -> bool:
    found = connection.exec_driver_sql(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).scalar_one()
    return bool(found)


def backup_beside(path: Path, version: int) -> Path:
    """A consistent copy of the database (WAL included) next to it, user-only."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.v{version}-{stamp}.bak")
    counter = 1
    while target.exists():
        target = path.with_name(f"{path.name}.v{version}-{stamp}-{counter}.bak")
        counter += 1
    make_private_file(target)
    source = sqlite3.connect(path)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()
    return target


def prepare_schema(engine: Engine, path: Path) -> Path | None:
    """Create a fresh schema or upgrade an old one; returns the backup made, if any.

    An upgrade copies the file beside itself first, then runs every step in one transaction:
    a failure rolls everything back and raises CacheError naming the untouched copy.
    """
    target = SCHEMA_VERSION
    try:
        with engine.connect() as connection:
            # IMMEDIATE: two processes opening a new file at once must not both create it.
            connection.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
            with connection.begin():
                current = schema_version(connection)
                if current == 0:
                    if _has_tables(connection):
                        raise CacheError(f"{path} is an SQLite file but not a Wootric Desk cache.")
                    for table in ALL_TABLES:
                        table.create(connection)
                    for statement in HISTORY_INDEX_DDL:
                        connection.exec_driver_sql(statement)
                    connection.exec_driver_sql(f"PRAGMA user_version = {target}")
                    return None
    except DBAPIError as error:
        raise CacheError(f"Cannot open the cache {path}: {error.orig}") from error
    if current == target:
        return None
    if current > target:
        raise CacheError(
            f"The cache {path} was written by a newer Wootric Desk (schema {current}; "
            f"this version knows {target}). Update the app to open it."
        )

    backup = backup_beside(path, current)
    log.info("cache schema %s -> %s; copy saved at %s", current, target, backup)
    steps = sorted((m for m in MIGRATIONS if current < m.version <= target),
                   key=lambda m: m.version)
    if [m.version for m in steps] != list(range(current + 1, target + 1)):
        raise CacheError(f"No upgrade path for the cache {path} from schema {current} to "
                         f"{target}. Your data is unchanged; a copy is at {backup}.")
    try:
        with engine.connect() as connection:
            connection.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
            with connection.begin():
                if schema_version(connection) != current:
                    return backup  # another process upgraded it meanwhile
                for step in steps:
                    log.info("cache migration %s: %s", step.version, step.description)
                    step.apply(connection)
                connection.exec_driver_sql(f"PRAGMA user_version = {target}")
    except Exception as error:
        raise CacheError(
            f"Upgrading the cache {path} from schema {current} to {target} failed ({error}). "
            f"Nothing was changed; a copy made before the upgrade is at {backup}."
        ) from error
    return backup
