"""Cache write-side benchmark: ingest vs raw executemany, one local edit, a 100k bulk disable.

    .venv/bin/python benchmarks/bench_cache.py              # 100,000 end users
    .venv/bin/python benchmarks/bench_cache.py --million    # 1,000,000 end users

The reference is a raw `executemany` of the very same row tuples into a fresh `end_user`
table (same schema and indexes, same pragmas) in the same run; rates are medians of trials.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine

from desktop_app.cache.store import Cache
from desktop_app.cache.rows import EFFECTIVE_COLUMNS, server_values
from desktop_app.cache.schema.tables import EndUserRow
from desktop_app.domain import EndUser, SurveySettings

PLANS = ("free", "starter", "pro", "enterprise")
REGIONS = ("emea", "amer", "apac")
OFF = SurveySettings.all_channels(False)
OPTED_OUT = SurveySettings(surveys_disabled_by_end_user=True)
ON = SurveySettings()


def generate(n: int, seed: int = 7) -> list[EndUser]:
    """`n` plausible end users, quickly (about 1 s per 300k here)."""
    rng = random.Random(seed)
    base = 1_600_000_000
    out = []
    for i in range(1, n + 1):
        roll = rng.random()
        properties: dict[str, object] = {
            "plan": PLANS[i % 4], "region": REGIONS[i % 3], "seats": rng.randrange(1, 500),
        }
        if roll < 0.2:
            properties["tags"] = ["beta", "vip"] if roll < 0.1 else ["beta"]
        out.append(EndUser(
            id=i, email=f"user{i}@example{i % 97}.com", created_at=base + i,
            updated_at=base + 10 * i, external_id=f"ext-{i}" if i % 3 else None,
            last_surveyed=base + i * 5 if roll < 0.6 else None, properties=properties,
            settings=OFF if roll > 0.97 else OPTED_OUT if roll > 0.95 else ON,
        ))
    return out


def _load() -> float:
    """The 1-minute load average (nan where the platform has none): context for wall times."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def raw_executemany(workdir: Path, rows: Sequence[tuple[object, ...]],
                    trial: int) -> tuple[float, float]:
    """(wall, CPU) seconds for one executemany of `rows` into a fresh end_user table."""
    path = workdir / f"raw-{trial}.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    EndUserRow.__table__.create(engine)
    engine.dispose()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    sql = (f"INSERT INTO end_user ({', '.join(EFFECTIVE_COLUMNS)}) VALUES"
           f" ({', '.join('?' for _ in EFFECTIVE_COLUMNS)})")
    full = [(*row, 0, False, False) for row in rows]
    started, cpu = time.perf_counter(), time.process_time()
    connection.execute("BEGIN")
    connection.executemany(sql, full)
    connection.execute("COMMIT")
    elapsed = (time.perf_counter() - started, time.process_time() - cpu)
    connection.close()
    return elapsed


def timed_ingest(workdir: Path, users: Sequence[EndUser], trial: int,
                 batch: int) -> tuple[float, float]:
    """(wall, CPU) seconds to ingest `users` in calls of `batch` rows into a fresh cache."""
    with Cache.open(workdir / f"ingest-{batch}-{trial}.sqlite3") as cache:
        started, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(users), batch):
            page = users[start:start + batch]
            cache.ingest_pulled(page, "bench", page[-1].updated_at)
        return time.perf_counter() - started, time.process_time() - cpu


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--million", action="store_true", help="1,000,000 end users")
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args(argv)
    n = 1_000_000 if args.million else 100_000
    trials = args.trials

    started = time.perf_counter()
    users = generate(n)
    rows = [server_values(u) for u in users]
    print(f"generated {n:,} end users in {time.perf_counter() - started:.1f} s; "
          f"load average {_load():.1f} on {os.cpu_count()} CPUs")

    with tempfile.TemporaryDirectory(prefix="bench-cache-") as tmp:
        workdir = Path(tmp)
        page_rows = users[:min(n, 100_000)]
        runs: dict[str, list[tuple[float, float]]] = {
            "raw": [], "whole": [], "batched": [], "pages": []}
        for trial in range(trials):  # interleaved, so a busy moment hits every variant alike
            runs["raw"].append(raw_executemany(workdir, rows, trial))
            runs["whole"].append(timed_ingest(workdir, users, trial, n))
            runs["batched"].append(timed_ingest(workdir, users, trial, 10_000))
            runs["pages"].append(timed_ingest(workdir, page_rows, trial, 50))
            for path in workdir.glob("*.sqlite3*"):
                path.unlink()
        wall = {k: statistics.median(w for w, _ in v) for k, v in runs.items()}
        cpu = {k: statistics.median(c for _, c in v) for k, v in runs.items()}
        print(f"raw executemany (reference)   {n / wall['raw']:>10,.0f} rows/s  "
              f"({wall['raw']:.2f} s, CPU {cpu['raw']:.2f} s)")
        for key, label in (("whole", "one call     "), ("batched", "10k-row calls")):
            print(f"ingest_pulled, {label}  {n / wall[key]:>10,.0f} rows/s  "
                  f"ratio {wall['raw'] / wall[key]:.0%} of raw "
                  f"(by CPU time {cpu['raw'] / cpu[key]:.0%})")
        print(f"ingest_pulled, 50-row pages   {len(page_rows) / wall['pages']:>10,.0f} rows/s  "
              f"({len(page_rows):,} rows, one transaction per API page)")

        with Cache.open(workdir / "edits.sqlite3") as cache:
            for start in range(0, n, 50_000):
                page = users[start:start + 50_000]
                cache.ingest_pulled(page, "bench", page[-1].updated_at)
            started = time.perf_counter()
            cache.build_search_index()  # as the sync does after a pull: edits below maintain it
            print(f"search indexes built in       {time.perf_counter() - started:.1f} s "
                  "(free text, every property key)")
            started = time.perf_counter()
            cache.ingest_pulled(users, "bench", users[-1].updated_at + 1)
            again = time.perf_counter() - started
            print(f"re-ingest into full cache     {n / again:>10,.0f} rows/s  (every row exists)")
            changed = [replace(u, email=f"x{u.email}", updated_at=u.updated_at + 10**6,
                               properties={**u.properties, "plan": "changed"}) for u in users[:10_000]]
            started = time.perf_counter()
            for start in range(0, len(changed), 50):
                cache.ingest_pulled(changed[start:start + 50], "bench", changed[start].updated_at)
            print(f"pull of {len(changed):,} changed end users {len(changed) / (time.perf_counter() - started):>8,.0f}"
                  " rows/s  (50-row pages; email and properties changed: the search indexes' triggers run)")

            rng = random.Random(3)
            single, single_cpu = [], []
            for i in range(200):
                target = rng.randrange(1, n + 1)
                t0, c0 = time.perf_counter(), time.process_time()
                cache.set_property([target], "plan", f"custom-{i}")
                single.append(time.perf_counter() - t0)
                single_cpu.append(time.process_time() - c0)
            single.sort()
            print(f"one local edit (set_property) median {statistics.median(single) * 1000:.2f} ms,"
                  f" p95 {single[int(len(single) * 0.95)] * 1000:.2f} ms, median CPU "
                  f"{statistics.median(single_cpu) * 1000:.2f} ms (synchronous=FULL)")

            ids = list(range(1, min(n, 100_000) + 1))
            # CPU seconds beside wall seconds: on a shared machine the wall clock also
            # measures the neighbours.
            t0, c0 = time.perf_counter(), time.process_time()
            changes = cache.set_surveys_enabled(ids, False)
            bulk_wall, bulk_cpu = time.perf_counter() - t0, time.process_time() - c0
            queued = cache.pending_count()
            print(f"bulk disable surveys, {len(ids):,} ids  {bulk_wall:.2f} s (CPU {bulk_cpu:.2f} s; "
                  f"{queued:,} queued, opted-out/already-off skipped;"
                  f" ids listed: {changes.end_user_ids is not None})")
            for name, step in (("undo", cache.undo), ("redo", cache.redo)):
                t0, c0 = time.perf_counter(), time.process_time()
                step()
                print(f"{name} of that bulk action        {time.perf_counter() - t0:.2f} s "
                      f"(CPU {time.process_time() - c0:.2f} s)")
            reads = []
            for _ in range(200):
                target = rng.randrange(1, n + 1)
                t0 = time.perf_counter()
                cache.get(target)
                reads.append(time.perf_counter() - t0)
            print(f"get(id) median {statistics.median(reads) * 1000:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
