"""Soak: the SIGKILL crash test with many more trials than CI runs.

    python benchmarks/soak_crash.py --trials 100 [--seed N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    env = dict(os.environ, WOOTRIC_CRASH_TRIALS=str(args.trials), WOOTRIC_CRASH_SEED=str(args.seed),
               QT_QPA_PLATFORM="offscreen")
    return subprocess.call(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "--timeout", "7200",
         "tests/sync/test_crash.py"], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
