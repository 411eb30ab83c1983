"""Push benchmark: the cost of pushing one end user's queued edit to the emulator on loopback.

    .venv/bin/python benchmarks/bench_push.py [--end-users 200] [--trials 5]

Each trial edits `--end-users` end users (one property each) and times `push_all` over them:
per end user that is a GET, the outbox's durable "sent" mark, a PUT and the stored answer.
Also times the sent mark alone (one synchronous=FULL commit). Medians of trials.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desktop_app.api.account import Credentials
from desktop_app.api.client import WootricClient
from desktop_app.cache.store import Cache
from desktop_app.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from desktop_app.sync import SyncService
from desktop_app.sync.push import push_all


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--end-users", type=int, default=200)
    parser.add_argument("--trials", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Emulator(users=args.end_users, seed=3) as emu, \
            Cache.open(Path(tmp) / "bench.sqlite3") as cache:
        credentials = Credentials(emu.base_url, client_id=DEFAULT_CLIENT_ID,
                                  client_secret=DEFAULT_CLIENT_SECRET)
        service = SyncService(cache, lambda: WootricClient(credentials))
        service.run_once()
        service.stop()
        ids = sorted(cache.all_ids())[: args.end_users]
        per_user: list[float] = []
        marks: list[float] = []
        with WootricClient(credentials) as client:
            for trial in range(args.trials):
                for end_user_id in ids:
                    cache.set_property([end_user_id], "plan", f"bench-{trial}")
                started = time.perf_counter()
                result = push_all(client, cache)
                per_user.append((time.perf_counter() - started) / len(ids))
                assert result.edits_done == len(ids) and cache.pending_count() == 0, result
            if hasattr(cache, "mark_sent"):
                for end_user_id in ids[:50]:
                    cache.set_property([end_user_id], "plan", "mark")
                    [edit] = cache.pending_for(end_user_id)
                    started = time.perf_counter()
                    cache.mark_sent(end_user_id, [edit.id])
                    marks.append(time.perf_counter() - started)
        print(f"push of one end user's edit median {statistics.median(per_user) * 1000:.2f} ms"
              f" ({len(ids)} end users x {args.trials} trials; runs"
              f" {', '.join(f'{t * 1000:.2f}' for t in per_user)} ms)")
        if marks:
            print(f"the sent mark alone (one durable commit) median"
                  f" {statistics.median(marks) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
