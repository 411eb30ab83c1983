"""Work from lists at scale: match and apply a 100,000-row list against a 1,000,000-user cache.

    .venv/bin/python benchmarks/bench_lists.py                 # 1,000,000 end users, 100,000-row list
    .venv/bin/python benchmarks/bench_lists.py --users 200000 --rows 20000

Prints wall and CPU seconds of one run each (on a shared machine the CPU time is the steadier): matching (one disable list, one per-row list of
`email,plan,seats_amount`), applying it as one batch, undoing it, keeping it and filtering by it.
The issue's target is match + apply within 5 s.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desktop_app.cache.reading.query import EndUserQuery
from desktop_app.cache.store import Cache
from desktop_app.lists.actions import apply_action, keep_list
from desktop_app.lists.identifiers import IdentifierKind
from desktop_app.lists.matching import match_list
from desktop_app.lists.wanted import ActionKind, ListAction


T = TypeVar("T")


def fill(path: Path, users: int) -> None:
    """`users` end users written in one statement (a recursive CTE): the cache's own indexes
    are in place, as after a first pull. Every 500th email is not ASCII, every 100th is
    written in capitals."""
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA synchronous = OFF")
    raw.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
        " INSERT INTO end_user (id, email, external_id, created_at, updated_at, surveys_disabled,"
        " disabled_by, settings_json, properties_json, pending_count, has_conflict, pending_delete)"
        " SELECT i, CASE WHEN i % 500 = 0 THEN 'josé' || i || '@example.com'"
        " WHEN i % 100 = 0 THEN 'USER' || i || '@EXAMPLE.COM' ELSE 'user' || i || '@example.com' END,"
        " 'cus_' || i, 1600000000 + i, 1700000000 + i, i % 50 = 0, CASE WHEN i % 50 = 0 THEN"
        " CASE WHEN i % 100 = 0 THEN 'end_user' ELSE 'admin' END ELSE '' END, '{}',"
        " json_object('plan', CASE i % 3 WHEN 0 THEN 'free' WHEN 1 THEN 'pro' ELSE 'team' END, 'seats', i % 40),"
        " 0, 0, 0 FROM n", (users,))
    raw.commit()
    raw.close()


def timed(label: str, work: Callable[[], T]) -> T:
    start, cpu = time.perf_counter(), time.process_time()
    result = work()
    print(f"{label:<52} {time.perf_counter() - start:6.2f} s wall  {time.process_time() - cpu:6.2f} s CPU", flush=True)
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cache.sqlite3"
        Cache.open(path).close()  # schema and query indexes
        timed(f"fill {args.users:,} end users", lambda: fill(path, args.users))
        rng = random.Random(14)
        picked = rng.sample(range(1, args.users + 1), args.rows)
        # as people paste them: stray spaces, other capitals, a few strangers and repeats
        emails = [f"  User{i}@Example.com " if i % 500 else f"JOSÉ{i}@example.com" for i in picked]
        emails += [f"stranger{i}@example.org" for i in range(args.rows // 100)] + emails[: args.rows // 100]
        with Cache.open(path) as cache:
            report = timed(f"match {len(emails):,} rows (disable surveys)", lambda: match_list(
                cache, IdentifierKind.EMAIL, emails, ListAction(ActionKind.DISABLE_SURVEYS)))
            print("   ", report.counts())
            timed(f"apply to {len(report.matched):,} (one batch)", lambda: apply_action(cache, report))
            timed("undo it", cache.undo)
            values = [{"plan": "enterprise" if i % 2 else "pro", "seats_amount": str(i % 90)} for i in picked]
            rows = timed(f"match {len(picked):,} rows with plan,seats_amount", lambda: match_list(
                cache, IdentifierKind.EMAIL, emails[: len(picked)], ListAction(ActionKind.SET_COLUMNS), values=values))
            print("   ", rows.counts())
            timed("apply each person's own values (one batch)", lambda: apply_action(cache, rows))
            timed("undo it", cache.undo)
            timed("redo it", cache.redo)
            timed("keep the list", lambda: keep_list(cache, report, "bench", source="/tmp/optouts.csv"))
            query = EndUserQuery(cache.engine)
            count = timed("count list:bench", lambda: query.count("list:bench"))
            print(f"    {count:,} end users on the list")
            timed("first page of list:bench plan:pro", lambda: query.page("list:bench plan:pro"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
