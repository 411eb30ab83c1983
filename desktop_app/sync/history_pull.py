"""Pulling the account's survey history: responses and declines, walked by `created_at`.

Neither list filters on `updated`, so a tag, an exclusion or a note added to an old response
is only seen by reading it again: every sync re-reads a trailing window of creation times
(`reread_days`, 120 by default; docs/sync.md says what a change older than that misses). Two
cursors per list, committed with each page's rows:

* `<list>.created_at`, the frontier: every row created before it has been read at least once.
  It only moves forward.
* `<list>.reread_at`, the position of a walk that has not finished (a crash, a cancel, a
  quit): the next sync resumes there instead of starting its window again. NULL once a walk
  reached the end.

A walk that covers its whole window in one go also shows what the service deleted from it:
cached rows of the window it did not list are removed (never when a second of it could not be
read whole).
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from desktop_app.api.errors import NotFoundError

if TYPE_CHECKING:  # SQLModel and httpx stay unimported until the cache opens and sync runs
    from desktop_app.api.client import WootricClient
    from desktop_app.api.walk import R, TimestampWalk
    from desktop_app.cache.changes import CacheChanges
    from desktop_app.cache.store import Cache

log = logging.getLogger(__name__)

DEFAULT_REREAD_DAYS = 120
MAX_REREAD_DAYS = 3_650
DAY_S = 86_400
# The newest second may still be filling when it is read: the frontier is re-read from a few
# seconds before (the upsert by id makes that free of duplicates).
OVERLAP_SECONDS = 3


class HistoryList(enum.StrEnum):
    """An account-wide list of survey history; its value names its cursors."""

    RESPONSES = "responses"
    DECLINES = "declines"

    @property
    def frontier_key(self) -> str:
        return f"{self.value}.created_at"

    @property
    def reread_key(self) -> str:
        return f"{self.value}.reread_at"

    @property
    def table(self) -> str:
        """The cache's table of this list."""
        return self.value[:-1]


@dataclass(frozen=True, slots=True)
class HistoryResult:
    kind: HistoryList
    rows: int
    requests: int
    since: int | None  # where this walk started (None: the whole history)
    unreachable: int = 0  # seconds the list API could not hand over whole (reported)
    notes: tuple[str, ...] = ()
    skipped: bool = False  # the service has no such list (an older service or emulator)
    removed: int = 0  # cached rows of the walked range the service no longer lists


def bounded_reread_days(days: float) -> float:
    """A window setting brought into 0..MAX_REREAD_DAYS (0: no re-read, only new rows)."""
    return min(float(MAX_REREAD_DAYS), max(0.0, float(days)))


def walk_start(cache: Cache, kind: HistoryList, now: int, reread_days: float) -> int | None:
    """Where the next walk of `kind` starts: an unfinished walk's position, else the earlier
    of the frontier (less an overlap) and the trailing window; None for the whole history."""
    resume = cache.cursor(kind.reread_key)
    if resume is not None:
        return resume
    frontier = cache.cursor(kind.frontier_key)
    if frontier is None:
        return None
    window_start = now - int(bounded_reread_days(reread_days) * DAY_S)
    return max(0, min(frontier - OVERLAP_SECONDS, window_start))


def pull_history(
    client: WootricClient,
    cache: Cache,
    kind: HistoryList,
    *,
    reread_days: float,
    server_now: Callable[[], float],
    cancelled: Callable[[], bool] = lambda: False,
    progress: Callable[[int], None] = lambda rows: None,
    pace: Callable[[], None] = lambda: None,
) -> HistoryResult:
    """Walk `kind` from `walk_start`; each page's rows and both cursors commit together.

    A service answering 404 for the list (one that predates it) is logged and skipped: the
    end users' sync must not fail for it.
    """
    resumed = cache.cursor(kind.reread_key) is not None
    since = walk_start(cache, kind, int(server_now()), reread_days)
    # Only a walk of the whole range in one go shows what the service deleted from it (a
    # resumed walk did not list the rows before its start; a first one has nothing to drop).
    reader = _Reader(cache, kind, since, cancelled, progress, pace,
                     set() if since is not None and not resumed else None)
    if kind is HistoryList.RESPONSES:
        return reader.read(client.walk_responses(since), cache.ingest_responses)
    return reader.read(client.walk_declines(since), cache.ingest_declines)


@dataclass(slots=True)
class _Reader:
    cache: Cache
    kind: HistoryList
    since: int | None
    cancelled: Callable[[], bool]
    progress: Callable[[int], None]
    pace: Callable[[], None]
    listed: set[int] | None  # ids the walk listed, when it covers its whole range

    def read(self, walk: TimestampWalk[R],
             ingest: Callable[[Sequence[R], Mapping[str, int | None]], CacheChanges]) -> HistoryResult:
        kind = self.kind
        frontier = self.cache.cursor(kind.frontier_key)
        started = time.monotonic()
        rows, newest, finished = 0, frontier, False
        try:
            for page in walk:
                if self.listed is not None:
                    self.listed.update(r.id for r in page.rows)
                finished = page.complete_before is None
                if page.rows:
                    top = max(r.created_at for r in page.rows)
                    newest = top if newest is None else max(newest, top)
                cursors: dict[str, int | None]
                if page.complete_before is None:  # the end: everything there is has been read
                    cursors = {kind.frontier_key: newest, kind.reread_key: None}
                else:
                    reached = page.complete_before
                    frontier = reached if frontier is None else max(frontier, reached)
                    cursors = {kind.frontier_key: frontier, kind.reread_key: reached}
                ingest(page.rows, cursors)
                rows += len(page.rows)
                self.progress(rows)
                if self.cancelled():
                    break
                self.pace()
        except NotFoundError as error:
            if rows:
                raise  # the list answered before: a 404 now is not "no such list"
            log.info("%s: the service has no account-wide list (%s); skipped", kind.value, error)
            return HistoryResult(kind, 0, walk.stats.requests, self.since, skipped=True)
        stats = walk.stats
        open_cells = [c for c in stats.unreachable if not c.complete]
        notes = tuple(
            f"{c.seen} {kind.value} created at {c.created_at} read; more may exist beyond the "
            f"list API's reach ({c.note})" for c in open_cells)
        removed = 0
        if finished and self.listed is not None and self.since is not None:
            if open_cells:  # rows it could not reach are not gone
                log.info("%s: not looking for deletions; %d seconds were not read whole",
                         kind.value, len(open_cells))
            else:
                removed = self.cache.remove_unlisted_history(kind.table, self.since, self.listed)
        log.debug("%s: %d rows in %d requests from %s (%.1f s), %d gone", kind.value, rows,
                  stats.requests, self.since, time.monotonic() - started, removed)
        return HistoryResult(kind, rows, stats.requests, self.since, len(open_cells), notes,
                             removed=removed)
