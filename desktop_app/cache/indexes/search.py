"""The search index: an FTS5 trigram index over email and external id, for free text.

Built in bulk once a pull has filled the cache (`build_search_index`, on the sync worker),
then kept current by triggers on `end_user`, so every write (pull upserts, local edits, undo,
deletes) maintains it in the writer's own transaction. Building it during a first pull instead
would cost that pull about three quarters of its speed (the triggers run per row).

The table is external-content (it holds no second copy of the text) with `detail='none'`
(no positions: about 62 MB at a million end users). It only narrows: the filter still checks
its LIKE on the rows the index finds, so wildcards, quotes and case mean exactly what they mean
without it. The build runs in one transaction that ends by recording the index in
`search_index`; a crash part way leaves neither the table nor the record, and the planner uses
the index only when the record is there.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator

from desktop_app.cache.filters.nodes import Text
from desktop_app.cache.indexes.properties import PROPERTY_INDEX, drop_property_index, fill_property_index

log = logging.getLogger(__name__)

TEXT_INDEX = "end_user_text"  # the FTS5 table, and its name in the `search_index` record
MIN_TRIGRAM = 3  # the trigram tokenizer cannot find anything shorter
BUILD_BATCH = 50_000  # rows per step of a build (a progress report after each)
BUILD_CACHE_KIB = 131_072  # SQLite's page cache while building (KiB)

_TEXT_TABLE = (
    f"CREATE VIRTUAL TABLE {TEXT_INDEX} USING fts5(email, external_id, content='end_user', "
    "content_rowid='id', tokenize='trigram', detail='none')"
)
# The update trigger fires only when the text changed: a pull's upsert rewrites every column,
# but email and external id rarely differ, and a local edit never touches them.
_TEXT_TRIGGERS = (
    f"CREATE TRIGGER {TEXT_INDEX}_ai AFTER INSERT ON end_user BEGIN "
    f"INSERT INTO {TEXT_INDEX}(rowid, email, external_id) VALUES (new.id, new.email, new.external_id); END",
    f"CREATE TRIGGER {TEXT_INDEX}_ad AFTER DELETE ON end_user BEGIN "
    f"INSERT INTO {TEXT_INDEX}({TEXT_INDEX}, rowid, email, external_id) "
    "VALUES ('delete', old.id, old.email, old.external_id); END",
    f"CREATE TRIGGER {TEXT_INDEX}_au AFTER UPDATE OF id, email, external_id ON end_user "
    "WHEN old.id IS NOT new.id OR old.email IS NOT new.email OR old.external_id IS NOT new.external_id BEGIN "
    f"INSERT INTO {TEXT_INDEX}({TEXT_INDEX}, rowid, email, external_id) "
    "VALUES ('delete', old.id, old.email, old.external_id); "
    f"INSERT INTO {TEXT_INDEX}(rowid, email, external_id) VALUES (new.id, new.email, new.external_id); END",
)


def complete_indexes(raw: sqlite3.Connection) -> frozenset[str]:
    """The search indexes recorded as built (the planner uses no other)."""
    try:
        return frozenset(name for (name,) in raw.execute("SELECT name FROM search_index"))
    except sqlite3.OperationalError:  # a file without the table (tests' bare schemas)
        return frozenset()


def _drop_text_index(raw: sqlite3.Connection) -> None:
    for suffix in ("_ai", "_ad", "_au"):
        raw.execute(f"DROP TRIGGER IF EXISTS {TEXT_INDEX}{suffix}")
    raw.execute(f"DROP TABLE IF EXISTS {TEXT_INDEX}")
    raw.execute("DELETE FROM search_index WHERE name = ?", (TEXT_INDEX,))


def build_search_index(raw: sqlite3.Connection, progress: Callable[[int, int], None] | None = None,
                       batch: int = BUILD_BATCH) -> bool:
    """Build the text and property indexes not recorded as complete; True when it built any.

    Each in its own transaction on `raw` (which must not be in one): BEGIN IMMEDIATE, the
    tables, their rows in id order (`progress(done, total)` after each `batch` end users, over
    both), the triggers and the record, then COMMIT. At a million end users about 6 s for the
    text and half a minute for the properties; readers go on meanwhile (WAL), writers wait.
    """
    missing = [name for name in (TEXT_INDEX, PROPERTY_INDEX) if name not in complete_indexes(raw)]
    if not missing:
        return False
    rows = raw.execute("SELECT count(*) FROM end_user").fetchone()[0]
    kept = raw.execute("PRAGMA cache_size").fetchone()[0]
    # The property table's rows land all over its b-tree (key first): with it in the page
    # cache the build is CPU-bound; the connection's own size comes back after.
    raw.execute(f"PRAGMA cache_size = -{BUILD_CACHE_KIB}")
    try:
        return _build(raw, missing, rows, progress, batch)
    finally:
        raw.execute(f"PRAGMA cache_size = {int(kept)}")


def _build(raw: sqlite3.Connection, missing: list[str], rows: int,
           progress: Callable[[int, int], None] | None, batch: int) -> bool:
    built = False
    for step, name in enumerate(missing):
        started = time.perf_counter()
        raw.execute("BEGIN IMMEDIATE")
        try:
            if name in complete_indexes(raw):  # another process built it meanwhile
                raw.execute("ROLLBACK")
                continue
            spans = _spans(raw, batch, _reporter(progress, step * rows, rows * len(missing)))
            if name == TEXT_INDEX:
                _fill_text_index(raw, spans)
            else:
                fill_property_index(raw, spans)
            raw.execute("INSERT INTO search_index (name, built_at) VALUES (?, ?)", (name, int(time.time())))
            raw.execute("COMMIT")
        except BaseException:
            if raw.in_transaction:
                raw.execute("ROLLBACK")
            raise
        built = True
        log.info("built the search index %s in %.1f s", name, time.perf_counter() - started)
    return built


def _reporter(progress: Callable[[int, int], None] | None, before: int, total: int) -> Callable[[int], None]:
    def report(done: int) -> None:
        if progress is not None:
            progress(before + done, total)
    return report


def _spans(raw: sqlite3.Connection, batch: int, report: Callable[[int], None]) -> Iterator[tuple[int, int]]:
    """Id spans (low, high] of `batch` end users each, in order; `report(done)` after each."""
    done, low = 0, -(2**63)
    while True:
        row = raw.execute("SELECT id FROM end_user WHERE id > ? ORDER BY id LIMIT 1 OFFSET ?",
                          (low, max(0, batch - 1))).fetchone()
        high = row[0] if row else 2**63 - 1
        yield low, high
        done = done + batch if row else raw.execute("SELECT count(*) FROM end_user").fetchone()[0]
        report(done)
        if row is None:
            return
        low = high


def _fill_text_index(raw: sqlite3.Connection, spans: Iterator[tuple[int, int]]) -> None:
    _drop_text_index(raw)  # a table without its record is never trusted
    raw.execute(_TEXT_TABLE)
    for low, high in spans:
        raw.execute(f"INSERT INTO {TEXT_INDEX}(rowid, email, external_id) SELECT id, email, external_id "
                    "FROM end_user WHERE id > ? AND id <= ?", (low, high))
    for statement in _TEXT_TRIGGERS:
        raw.execute(statement)


def drop_search_index(raw: sqlite3.Connection) -> None:
    """Remove both indexes, their triggers and records (bulk loads then run without them)."""
    raw.execute("BEGIN IMMEDIATE")
    try:
        _drop_text_index(raw)
        drop_property_index(raw)
        raw.execute("COMMIT")
    except BaseException:
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        raise


def text_match(texts: Iterable[Text]) -> str | None:
    """An FTS5 query every row whose email or external id contains `texts` matches, or None
    when no part is long enough for a trigram (the caller then scans).

    A superset: the parts of one text may sit in different columns, and case folds wider than
    LIKE's (é and É); the caller's LIKE decides.
    """
    grams: dict[str, None] = {}
    for part in (p for text in texts for p in text.parts if len(p) >= MIN_TRIGRAM):
        # detail='none' has no positions, so no phrases: the trigrams one by one, every third
        # (and the last) so that each character is in one; the LIKE checks their order.
        for at in [*range(0, len(part) - MIN_TRIGRAM, MIN_TRIGRAM), len(part) - MIN_TRIGRAM]:
            grams[part[at:at + MIN_TRIGRAM]] = None
    if not grams:
        return None
    return " AND ".join('"' + g.replace('"', '""') + '"' for g in grams)
