"""The NPS panel's read at scale: 1,000,000 end users and 3,000,000 responses over three years.

    .venv/bin/python benchmarks/bench_nps.py                          # 1,000,000 / 3,000,000
    .venv/bin/python benchmarks/bench_nps.py --users 100000 --responses 300000

Builds the file directly (one statement each for end users and responses, the cache's own
indexes in place and the search index built, as after a first sync), then prints the median of
`EndUserQuery.nps` for `plan:pro`, a free-text filter (`acme`) and the empty filter, over the
panel's default period (the last 12 months) and over all time, each beside a same-run reference:
a plain `count` of the same filter. The issue's target is 200 ms each. Last, the growth of the
file per response that the panel's two covering indexes cost. `--file` keeps the built cache
and reuses it on the next run.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desktop_app.cache.reading.nps import NPS_INDEX, NPS_USER_INDEX
from desktop_app.cache.reading.query import EndUserQuery
from desktop_app.cache.reading.read_pool import ReadPool
from desktop_app.cache.store import Cache
from desktop_app.ui.nps_panel import period_bounds

YEAR = 365 * 86_400


def fill(path: Path, users: int, responses: int, now: int) -> float:
    """End users (a third each free/pro/team, one in 97 with an acme email) and responses
    spread over the three years before `now`, oldest first as a walk brings them; scores
    lean by plan, one in 67 excluded. Returns the seconds the responses took."""
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA synchronous = OFF")
    raw.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
        " INSERT INTO end_user (id, email, external_id, created_at, updated_at, surveys_disabled,"
        " disabled_by, settings_json, properties_json, pending_count, has_conflict, pending_delete)"
        " SELECT i, CASE WHEN i % 97 = 0 THEN 'ops' || i || '@acme.example' ELSE 'user' || i || '@example.com' END,"
        " 'cus_' || i, 1600000000 + i, 1700000000 + i, 0, '', '{}',"
        " json_object('plan', CASE i % 3 WHEN 0 THEN 'free' WHEN 1 THEN 'pro' ELSE 'team' END, 'seats', i % 40),"
        " 0, 0, 0 FROM n", (users,))
    raw.commit()
    start = time.perf_counter()
    step = 3 * YEAR / responses
    raw.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)"
        " INSERT INTO response (id, end_user_id, score, completed, excluded_from_calculations,"
        " created_at, updated_at, tags_json, notes_json, end_user_properties_json)"
        " SELECT i, u, CASE u % 3 WHEN 0 THEN abs(random()) % 11"
        " WHEN 1 THEN min(10, 4 + abs(random()) % 8) ELSE min(10, 2 + abs(random()) % 10) END,"
        " 1, abs(random()) % 67 = 0, t, t, '[]', '[]', '{}'"
        " FROM (SELECT i, (i * 7919) % :users + 1 AS u, :start + CAST(i * :step AS INTEGER) AS t FROM n)",
        {"count": responses, "users": users, "start": now - 3 * YEAR, "step": step})
    raw.commit()
    raw.close()
    return time.perf_counter() - start


def raw_count(path: Path) -> int:
    raw = sqlite3.connect(path)
    try:
        return int(raw.execute("SELECT count(*) FROM response").fetchone()[0])
    finally:
        raw.close()


def median_ms(action: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds (on a shared machine the CPU time is the steadier)."""
    walls, cpus = [], []
    for _ in range(repeat):
        begin, cpu = time.perf_counter(), time.process_time()
        action()
        walls.append(time.perf_counter() - begin)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--responses", type=int, default=3_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--file", type=Path, help="keep the built cache here and reuse it next time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-nps-") as workdir:
        path = args.file or Path(workdir) / "cache.sqlite3"
        if not path.exists():
            Cache.open(path).close()
            seconds = fill(path, args.users, args.responses, int(time.time()))
            print(f"{args.users:,} end users, {args.responses:,} responses written ({seconds:.1f} s for the responses)")
            with Cache.open(path) as cache:
                cache.build_search_index()
        raw = sqlite3.connect(path)
        now = raw.execute("SELECT max(created_at) FROM response").fetchone()[0] + 1
        print(f"{raw.execute('SELECT count(*) FROM end_user').fetchone()[0]:,} end users,"
              f" {raw.execute('SELECT count(*) FROM response').fetchone()[0]:,} responses")
        raw.close()
        pool = ReadPool(path)
        try:
            query = EndUserQuery(pool)
            last_year = period_bounds(12, now)
            print(f"{'filter':<10} {'period':<10} {'nps read wall/CPU':>19} {'count ref wall/CPU':>19}"
                  "  responses  nps")
            for text in ("plan:pro", "acme", ""):
                ref_wall, ref_cpu = median_ms(lambda: query.count(text), args.repeat)
                for label, (start, end) in (("12 months", last_year), ("all", (None, None))):
                    query.nps(text, start, end)  # warm: the planner's sample, the page cache
                    wall, cpu = median_ms(lambda: query.nps(text, start, end), args.repeat)
                    counts = query.nps(text, start, end).counts
                    print(f"{text or '(empty)':<10} {label:<10} {wall:7.0f} / {cpu:5.0f} ms"
                          f"  {ref_wall:7.0f} / {ref_cpu:5.0f} ms  {counts.responses:>9,}  {counts.nps:+d}",
                          flush=True)
        finally:
            pool.close()
        raw = sqlite3.connect(path)
        sizes = dict(raw.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall())
        raw.close()
        response_bytes = sum(v for k, v in sizes.items() if k == "response" or k.startswith("ix_response"))
        responses = raw_count(path)
        for name in (NPS_INDEX, NPS_USER_INDEX):
            print(f"{name}: {sizes[name] / responses:.1f} bytes per response ({sizes[name] / 2**20:,.0f} MiB)")
        print(f"the response table and all its indexes: {response_bytes / responses:.1f} bytes per response;"
              f" file {os.path.getsize(path) / 2**20:,.0f} MiB")

if __name__ == "__main__":
    main()
