"""Benchmark of the updated_at walk: requests used against the ceil(N/50) floor, and speed.

    .venv/bin/python benchmarks/bench_walk.py [--users 20000] [--runs 3] [--seed 0]

Starts an in-process emulator on 127.0.0.1 for each data profile (dense: a few days; sparse:
three years, a few a day; bursty: sparse plus bulk imports of thousands in one second), walks
it `--runs` times and prints one row per profile.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desktop_app.api.account import Credentials
from desktop_app.api.client import WootricClient
from desktop_app.api.walk import WalkStats
from desktop_app.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    Emulator,
    generate_end_users,
)

PROFILES = ("dense", "sparse", "bursty")
NOW = 1_760_000_000  # fixed, so runs are comparable


@dataclass(frozen=True, slots=True)
class WalkRun:
    """One profile's result."""

    profile: str
    users: int
    stats: WalkStats
    rows_per_second: float  # median over the runs
    seconds: float  # median wall time of one walk


def bench(profile: str, users: int, runs: int, seed: int) -> WalkRun:
    rows = generate_end_users(users, seed=seed, profile=profile, now=NOW)
    emu = Emulator(port=0, end_users=rows).start()
    try:
        creds = Credentials(emu.base_url, client_id=DEFAULT_CLIENT_ID,
                            client_secret=DEFAULT_CLIENT_SECRET)
        times: list[float] = []
        stats: WalkStats | None = None
        with WootricClient(creds) as client:
            client.authenticate()
            for _ in range(runs):
                started = time.perf_counter()
                walk = client.walk_updated(0)
                count = sum(len(page.end_users) for page in walk)
                times.append(time.perf_counter() - started)
                if count != users:
                    raise SystemExit(f"{profile}: walked {count} of {users} end users")
                stats = walk.stats
        assert stats is not None
        median = statistics.median(times)
        return WalkRun(profile, users, stats, users / median, median)
    finally:
        emu.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profiles", default=",".join(PROFILES))
    args = parser.parse_args(argv)

    header = (f"{'profile':<8} {'users':>7} {'requests':>9} {'ceil(N/50)':>10} {'ratio':>6} "
              f"{'dense s':>7} {'cells':>5} {'probes':>6} {'unreached':>9} {'rows/s':>8} "
              f"{'s/walk':>7}")
    print(header)
    print("-" * len(header))
    for profile in args.profiles.split(","):
        run = bench(profile, args.users, args.runs, args.seed)
        floor = math.ceil(run.users / 50)
        s = run.stats
        unreached = sum(not c.complete for c in s.unreachable)
        print(f"{run.profile:<8} {run.users:>7} {s.requests:>9} {floor:>10} "
              f"{s.requests / floor:>6.3f} {s.dense_seconds:>7} {s.dense_cells:>5} "
              f"{s.probes:>6} {unreached:>9} {run.rows_per_second:>8.0f} {run.seconds:>7.2f}",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
