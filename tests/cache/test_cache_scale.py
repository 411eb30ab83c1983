"""Bulk work stays set-based: 20k end users pulled, disabled, undone and re-pulled quickly.

The time bounds are loose on purpose (a shared 2-core machine); they catch a per-row Python
loop or a quadratic query, not small regressions. benchmarks/bench_cache.py has the figures.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from desktop_app.cache.store import Cache
from desktop_app.domain import EndUser, SurveySettings

N = 20_000


def test_twenty_thousand_end_users_in_bulk(cache: Cache, make_user: Callable[..., EndUser],
                                           invariants: Callable[[Cache], None]) -> None:
    opted_out = SurveySettings(surveys_disabled_by_end_user=True)
    users = [make_user(i, settings=opted_out if i % 100 == 0 else SurveySettings())
             for i in range(1, N + 1)]
    started = time.perf_counter()
    changes = cache.ingest_pulled(users, "c", 1)
    assert changes.end_user_ids is None and changes.rows_added_or_removed  # too many to list
    ids = list(range(1, N + 1))

    cache.set_surveys_enabled(ids, False)
    assert cache.pending_count() == N - N // 100  # opted-out users are a no-op
    assert cache.end_users_with_pending(limit=3) == [1, 2, 3]
    # a pull of every row while 19,800 edits are pending: none is clobbered
    cache.ingest_pulled([make_user(i, updated_at=2_000_000_000, settings=users[i - 1].settings)
                         for i in ids], "c", 2)
    row = cache.get(N // 2 + 1)
    assert row is not None and row.end_user.surveys_disabled
    assert row.server is not None and row.server.updated_at == 2_000_000_000
    invariants(cache)

    assert cache.undo() is not None
    assert cache.pending_count() == 0 and not cache.get(1).end_user.surveys_disabled
    elapsed = time.perf_counter() - started
    assert elapsed < 60, f"bulk work took {elapsed:.1f} s"
    invariants(cache)
