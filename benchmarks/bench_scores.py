"""Benchmark: the survey history's filter terms over 1,000,000 end users and 3,000,000 responses.

    .venv/bin/python benchmarks/bench_scores.py                        # 1M end users, 3M responses
    .venv/bin/python benchmarks/bench_scores.py --users 100000 --responses 300000
    .venv/bin/python benchmarks/bench_scores.py --keep /tmp/scores     # build once, measure again

Builds the cache with `Cache.open` (the app's schema: history tables, the trigram index over
response text and the tag table with their triggers), bulk-inserts the end users as
benchmarks/bench_query.py does, then ingests the responses through `Cache.ingest_responses` in
pages of --page (the sync's own write: upsert, summaries, triggers, one transaction a page),
oldest first as the walk reads them. Prints the cache's growth per response, then per filter
the median first page (50 rows sorted by email) and count, and, as a same-run reference, the
same filter through the plain path (no search tables: `comment:` and `tag:` scan `response`).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import desktop_app.cache.reading.plan as query_plan
from benchmarks.bench_query import end_user_rows, file_bytes, insert, table_mib
from desktop_app.cache.indexes.expressions import ensure_query_indexes
from desktop_app.cache.reading.query import EndUserQuery, SortSpec
from desktop_app.cache.store import Cache
from desktop_app.domain import SurveyResponse

DAY = 86_400
FILTERS = ("score:<=6", "nps:detractor", "responded:<90d", "comment:slow", "tag:billing",
           "plan:pro nps:promoter")
COMMENTS = ("Too slow to load", "Love the new dashboard", "Exports are slow", "Great support, thanks!",
            "Pricing is confusing", "Muy lento a veces", "Sehr gut", "Interface un peu lente",
            "Works as expected", "The billing page keeps failing", "ok", "Would recommend")
TAGS = ("billing", "ux", "speed", "support", "pricing", "onboarding")


def responses(count: int, users: int, seed: int, now: int) -> Iterator[SurveyResponse]:
    """Oldest first, as the walk reads them: 60% of end users answer, some many times."""
    rnd = random.Random(seed)
    answering = max(1, int(users * 0.6))
    start = now - 3 * 365 * DAY
    step = (now - start) / max(1, count)
    for n in range(1, count + 1):
        created = int(start + n * step)
        roll = rnd.random()  # about 45% promoters, 30% passives, 25% detractors
        score = rnd.randint(9, 10) if roll < 0.45 else rnd.randint(7, 8) if roll < 0.75 else rnd.randint(0, 6)
        yield SurveyResponse(
            id=n, end_user_id=1 + (rnd.randrange(answering) if rnd.random() < 0.7 else rnd.randrange(max(1, answering // 20))),
            score=score,
            created_at=created, updated_at=created,
            text=rnd.choice(COMMENTS) if rnd.random() < 0.35 else None,
            tags=tuple(rnd.sample(TAGS, rnd.randint(1, 2))) if rnd.random() < 0.15 else (),
            excluded_from_calculations=rnd.random() < 0.02,
        )


@contextmanager
def history_index_unused() -> Iterator[None]:
    """The planner as if the history's search tables were not there (the plain scan)."""
    saved = query_plan.HISTORY_INDEX_TABLES
    query_plan.HISTORY_INDEX_TABLES = ("(unused)",)
    try:
        yield
    finally:
        query_plan.HISTORY_INDEX_TABLES = saved


def median_ms(action: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, result


def build(path: Path, users: int, count: int, page: int, seed: int, now: int) -> None:
    Cache.open(path).close()  # the app's fresh schema
    with sqlite3.connect(path) as raw:
        cpu = insert(raw, list(end_user_rows(users, seed, now)))
        ensure_query_indexes(raw, property_keys=["plan"])
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the growth below is the history's alone
    print(f"built {users:,} end users in {cpu:.1f} s CPU")
    before = file_bytes(path)
    with Cache.open(path) as cache:
        start = time.perf_counter()
        batch: list[SurveyResponse] = []
        for response in responses(count, users, seed, now):
            batch.append(response)
            if len(batch) == page:
                cache.ingest_responses(batch, {"responses.created_at": batch[-1].created_at})
                batch = []
        if batch:
            cache.ingest_responses(batch, {"responses.created_at": batch[-1].created_at})
        seconds = time.perf_counter() - start
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        growth = file_bytes(path) - before
        (history,) = raw.execute(
            "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'response%' OR name LIKE 'ix_response%'"
            " OR name LIKE 'survey_summary%' OR name LIKE 'ix_survey_summary%'"
            " OR name LIKE 'sqlite_autoindex_survey_summary%'").fetchone()
        print(f"ingested {count:,} responses through Cache.ingest_responses in {seconds:.0f} s "
              f"({count / seconds:,.0f}/s, pages of {page:,})")
        print(f"cache growth: {growth / 2**20:,.0f} MiB, {growth / count:.0f} bytes per response; the history's"
              f" tables and indexes hold {(history or 0) / count:.0f} bytes per response "
              f"(response {table_mib(raw, 'response')} MiB incl. response_text/response_tag, "
              f"response_text {table_mib(raw, 'response_text')} MiB, response_tag {table_mib(raw, 'response_tag')} MiB, "
              f"survey_summary {table_mib(raw, 'survey_summary')} MiB, indexes "
              f"{table_mib(raw, 'ix_response')} MiB + {table_mib(raw, 'ix_survey_summary')} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--responses", type=int, default=3_000_000)
    parser.add_argument("--page", type=int, default=5_000, help="responses per ingest transaction")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build the cache here and keep it")
    args = parser.parse_args()
    now = int(time.time())
    with tempfile.TemporaryDirectory(prefix="bench_scores_") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        path = workdir / "cache.sqlite"
        if not path.exists():
            build(path, args.users, args.responses, args.page, args.seed, now)
        cache = Cache.open(path)
        try:
            query = EndUserQuery(cache.engine)
            query.count("")  # warm the page cache and the catalog, as an open app would be
            print(f"\n{'filter':28s} {'first page':>11s} {'count':>10s} {'matches':>10s}   "
                  "plain path, same run (no search tables)")
            for text in FILTERS:
                page_ms, _ = median_ms(lambda: query.page(text, SortSpec("email"), 0, 50), args.repeat)
                count_ms, matches = median_ms(lambda: query.count(text), args.repeat)
                with history_index_unused():
                    plain_page, _ = median_ms(lambda: query.page(text, SortSpec("email"), 0, 50), args.repeat)
                    plain_count, plain = median_ms(lambda: query.count(text), args.repeat)
                assert plain == matches, (text, plain, matches)
                print(f"{text:28s} {page_ms:8.1f} ms {count_ms:7.1f} ms {matches:>10,}   "
                      f"{plain_page:8.1f} ms {plain_count:7.1f} ms")
            for sort in (SortSpec("latest_score"), SortSpec("response_count", True)):
                ms, _ = median_ms(lambda: query.page("nps:detractor", sort, 0, 50), args.repeat)
                print(f"nps:detractor sorted by {sort.column}{' desc' if sort.descending else ''}: {ms:.1f} ms")
        finally:
            cache.close()
        if args.keep is None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
