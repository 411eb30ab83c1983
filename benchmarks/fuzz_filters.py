"""Soak: fuzz the filter language with many more cases than CI runs.

    python benchmarks/fuzz_filters.py [--cases 10000] [--seed N]

Every case is parsed, compiled and run on a real cache; the run fails on any exception other
than the filter's own FilterError, and prints the count, the failures and the rate.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_app.cache.store import Cache
from tests.cache.filter_fuzz import filter_cases, run_case
from tests.cache.test_filter_fuzz import seed_fuzz_cache


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, Cache.open(Path(folder) / "fuzz.sqlite3") as cache:
        query = seed_fuzz_cache(cache)
        started = time.perf_counter()
        failures = [f for f in (run_case(query, t) for t in filter_cases(args.seed, args.cases)) if f]
        elapsed = time.perf_counter() - started
    for failure in failures[:10]:
        print(f"FAIL {failure.text[:200]!r}\n{failure.error}")
    print(f"filter fuzz: {args.cases} cases (seed {args.seed}), {len(failures)} failures, "
          f"{args.cases / elapsed:,.0f} cases/s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
