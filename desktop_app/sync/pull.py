"""Pulling end users changed on the service since the last checkpoint, by `updated_at`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # SQLModel and httpx stay unimported until the cache opens and sync runs
    from desktop_app.api.client import WootricClient
    from desktop_app.cache.store import Cache

CURSOR_KEY = "end_users.updated_at"
FIRST_ROW_KEY = "end_users.first_updated_at"
# Rows whose second was still being written when a page was read can appear "behind" the
# checkpoint; re-reading a few seconds is cheap because ingest de-duplicates by id.
OVERLAP_SECONDS = 3


@dataclass(frozen=True, slots=True)
class PullProgress:
    rows: int
    rate_per_s: float | None
    eta_s: float | None  # from how much of the time range is covered; None until known


@dataclass(frozen=True, slots=True)
class PullResult:
    rows: int
    requests: int
    unreachable: int  # cells of rows the list API could not hand over (reported, never dropped)
    notes: tuple[str, ...] = ()


def pull_changes(
    client: WootricClient,
    cache: Cache,
    *,
    server_now: Callable[[], float],
    cancelled: Callable[[], bool] = lambda: False,
    progress: Callable[[PullProgress], None] = lambda p: None,
    pace: Callable[[], None] = lambda: None,
) -> PullResult:
    """Walk rows changed since the cursor; rows and the cursor commit in one transaction a page.

    A crash between pages loses nothing: the cursor only moves past rows already committed,
    so a restarted pull resumes where the last committed page ended. `pace` is called after
    every page (see pacing.py).
    """
    cursor = cache.cursor(CURSOR_KEY)
    since = 0 if cursor is None else max(0, cursor - OVERLAP_SECONDS)
    walk = client.walk_updated(since)
    started = time.monotonic()
    first = cache.cursor(FIRST_ROW_KEY)
    rows = 0
    high = cursor or 0
    for page in walk:
        if page.end_users:
            high = max(high, max(u.updated_at for u in page.end_users))
            if first is None:
                first = min(u.updated_at for u in page.end_users)
                cache.set_cursor(FIRST_ROW_KEY, first)
        checkpoint = page.complete_before if page.complete_before is not None else high
        cache.ingest_pulled(page.end_users, CURSOR_KEY, max(checkpoint, cursor or 0))
        rows += len(page.end_users)
        progress(_progress(rows, started, since if cursor else first, high, server_now()))
        if cancelled():
            break
        pace()
    stats = walk.stats
    open_cells = [c for c in stats.unreachable if not c.complete]
    notes = tuple(
        f"{c.seen} end users share updated {c.updated_at} / created {c.created_at}; "
        f"more may exist beyond the list API's reach ({c.note})" for c in open_cells)
    unreachable = len(open_cells)
    return PullResult(rows, stats.requests, unreachable, notes)


def _progress(rows: int, started: float, origin: int | None, reached: int, now: float) -> PullProgress:
    elapsed = max(time.monotonic() - started, 1e-6)
    rate = rows / elapsed
    eta = None
    if origin is not None and reached > origin and now > reached:
        covered = reached - origin
        eta = elapsed * (now - reached) / covered
    return PullProgress(rows, rate, eta)
