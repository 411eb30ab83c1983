"""Benchmark: filter/sort/count speed over a cache of N end users, and what the indexes cost.

    .venv/bin/python benchmarks/bench_query.py                 # 1,000,000 end users
    .venv/bin/python benchmarks/bench_query.py --rows 200000 --ingest-rows 50000

Builds a cache file in a temp dir (schema from `desktop_app.cache.schema.tables`), runs
`ensure_query_indexes`, then prints per filter the median first-page time (50 rows sorted by
email), count time and match count; sort times; and ingest throughput with and without the
query indexes (CPU time, median of --repeat runs, 5,000-row transactions). `--mmap-mib` maps
that much of the file per connection (the app maps none: mapped pages count once per pooled
connection in the process's memory), to compare.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, event
from sqlmodel import SQLModel

import desktop_app.cache.reading.plan as query_plan
from desktop_app.cache.indexes.expressions import ensure_query_indexes
from desktop_app.cache.reading.query import EndUserQuery, SortSpec
from desktop_app.cache.indexes.search import (
    build_search_index,
    complete_indexes,
    drop_search_index,
)
from desktop_app.cache.schema.state_tables import SearchIndexRow  # noqa: F401  (registers the table)
from desktop_app.cache.schema.tables import EndUserRow  # noqa: F401  (registers the table)

COLUMNS = (
    "id, email, external_id, external_created_at, last_surveyed, phone_number, created_at, "
    "updated_at, surveys_disabled, disabled_by, settings_json, properties_json, pending_count, "
    "has_conflict, pending_delete"
)
INSERT = f"INSERT INTO end_user ({COLUMNS}) VALUES ({', '.join('?' * 15)})"
COMPANIES = ["acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka"]
FIRST = ["ana", "bob", "carla", "dev", "emma", "farid", "gus", "hana", "ivan", "jo", "kim", "lea"]
DAY = 86_400
FILTERS = (
    "",
    "plan:pro",
    "surveys:disabled",
    "revenue_amount:>=1000",
    "seats_count:<10",
    "last_surveyed:<30d",
    "acme",
    "is:pending",
    "plan:pro OR plan:enterprise",
    "-plan:free",
    "surveys:disabled -plan:free",
    "plan:pro last_surveyed:>1y",
    "(plan:pro OR plan:team) -surveys:disabled",
    "acme plan:pro",
    "zzqx",
    "region:eu",
    "features_array:sso",
    "churn_risk:high",
    "has:churn_risk",
    ".424242@",  # a rare email fragment (one end user)
    "{external}",  # a rare external-id fragment, read from the file (see `rare_external`)
    "stark.com",
    "ac",
)
SORTS = (
    SortSpec("email"), SortSpec("email", True), SortSpec("last_surveyed", True),
    SortSpec("created_at"), SortSpec("prop:revenue_amount", True), SortSpec("prop:plan"),
)


def end_user_rows(count: int, seed: int, now: int) -> Iterator[tuple[object, ...]]:
    """Deterministic end users shaped like a real account's: mixed property types included."""
    rnd = random.Random(seed)
    for n in range(1, count + 1):
        company = rnd.choice(COMPANIES) if rnd.random() < 0.02 else f"co{rnd.randrange(20_000)}"
        created = now - rnd.randrange(6 * 365 * DAY)
        props: dict[str, object] = {}
        if rnd.random() < 0.95:
            props["plan"] = rnd.choice(["free", "free", "pro", "pro", "Pro", "enterprise", "team"])
        amount = rnd.randrange(20_000)
        kind = rnd.random()
        if kind < 0.9:  # the service hands numbers back as strings after a form PUT
            props["revenue_amount"] = amount if kind < 0.6 else str(amount)
        props["seats_count"] = rnd.randrange(1, 500)
        props["signup_date"] = created + rnd.randrange(30 * DAY)
        if rnd.random() < 0.5:
            props["features_array"] = rnd.sample(["sso", "api", "exports", "webhooks", "audit"], rnd.randrange(4))
        props["region"] = rnd.choice(["us", "eu", "apac"])
        props["company"] = company.title()
        if rnd.random() < 0.3:
            props["churn_risk"] = rnd.choice(["low", "medium", "high"])
        roll = rnd.random()
        disabled_by = "admin" if roll < 0.03 else "end_user" if roll < 0.05 else ""
        surveyed = now - rnd.randrange(3 * 365 * DAY) if rnd.random() < 0.6 else None
        yield (
            n, f"{rnd.choice(FIRST)}.{n}@{company}.com",
            f"cus_{rnd.getrandbits(40):010x}" if rnd.random() < 0.7 else None,
            created - rnd.randrange(DAY) if rnd.random() < 0.5 else None, surveyed,
            f"+1415555{n % 10_000:04d}" if rnd.random() < 0.2 else None,
            created, created + rnd.randrange(100 * DAY), int(bool(disabled_by)), disabled_by, "{}",
            json.dumps(props), 1 if rnd.random() < 0.001 else 0, int(rnd.random() < 0.0001),
            int(rnd.random() < 0.0001),
        )


def create_cache(path: Path) -> None:
    engine = create_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA journal_mode = WAL")


def insert(raw: sqlite3.Connection, rows: list[tuple[object, ...]], batch: int = 5000) -> float:
    """CPU seconds to insert `rows` in `batch`-row transactions."""
    start = time.process_time()
    for at in range(0, len(rows), batch):
        with raw:
            raw.executemany(INSERT, rows[at:at + batch])
    return time.process_time() - start


def file_bytes(path: Path) -> int:
    return sum(Path(f"{path}{suffix}").stat().st_size for suffix in ("", "-wal") if Path(f"{path}{suffix}").exists())


def table_mib(raw: sqlite3.Connection, prefix: str) -> int:
    """MiB the tables and indexes named `prefix`... take in the file (SQLite's dbstat)."""
    (size,) = raw.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE ?", (f"{prefix}%",)).fetchone()
    return round((size or 0) / 2**20)


def rare_external(raw: sqlite3.Connection) -> str:
    """Eight characters from the middle of one end user's external id."""
    (value,) = raw.execute("SELECT external_id FROM end_user WHERE external_id IS NOT NULL AND id >= 700000 "
                           "ORDER BY id LIMIT 1").fetchone() or ("cus_0000000000",)
    return str(value)[5:13]


@contextmanager
def search_index_unused() -> Iterator[None]:
    """The planner as if no search index were built (the plain scan, for reference)."""
    saved = query_plan.TEXT_INDEX, query_plan.PROPERTY_INDEX
    query_plan.TEXT_INDEX, query_plan.PROPERTY_INDEX = "(unused)", "(unused)"  # never in the catalog
    try:
        yield
    finally:
        query_plan.TEXT_INDEX, query_plan.PROPERTY_INDEX = saved


def median_ms(action: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, result




def ingest_costs(rows: int, seed: int, repeat: int, keys: list[str], workdir: Path) -> None:
    data = list(end_user_rows(rows, seed, int(time.time())))
    probe = list(end_user_rows(2000, seed + 1, int(time.time())))
    variants: list[tuple[str, list[str] | None, tuple[str, ...]]] = [
        ("end_user as tables.py defines it", None, ()),
        ("+ fixed query indexes", [], ()),
        *[(f"+ fixed + {k}", [k], ()) for k in keys],
        (f"+ fixed + {', '.join(keys)}", keys, ()),
        ("+ search indexes' triggers (pulls after the first)", None, ("search",)),
    ]
    results: dict[str, list[float]] = {label: [] for label, _, _ in variants}
    for _ in range(repeat):
        for label, index_keys, extra in variants:
            path = workdir / "ingest.sqlite"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            create_cache(path)
            raw = sqlite3.connect(path)
            if index_keys is not None:  # let the sample see the keys, then start empty
                with raw:
                    raw.executemany(INSERT, [(r[0] + 10**9, *r[1:]) for r in probe])
                ensure_query_indexes(raw, property_keys=index_keys)
                with raw:
                    raw.execute("DELETE FROM end_user")
            if "search" in extra:  # built on the empty table: every row goes through the triggers
                raw.commit()
                build_search_index(raw)
            results[label].append(insert(raw, data))
            raw.close()
    base = statistics.median(results[variants[0][0]])
    print(f"\nIngest, {rows:,} rows in 5,000-row transactions (CPU time, median of {repeat}):")
    for label, _, _ in variants:
        cpu = statistics.median(results[label])
        print(f"  {label:48s} {rows / cpu:9,.0f} rows/s  {base / cpu:5.2f}x  "
              f"(+{(cpu - base) / rows * 1e6:5.1f} us/row)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--index-keys", default="plan,revenue_amount",
                        help="property keys to index, comma-separated, or 'auto' for the sample's choice")
    parser.add_argument("--ingest-rows", type=int, default=200_000, help="0 skips the ingest experiment")
    parser.add_argument("--ingest-repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="build the cache here and keep it")
    parser.add_argument("--rebuild-search-index", action="store_true",
                        help="drop the search indexes of a kept file and build them again (to time the build)")
    parser.add_argument("--mmap-mib", type=int, default=0, help="memory-map this much of the file per connection")
    args = parser.parse_args()
    logging.basicConfig(format="  %(message)s")
    logging.getLogger("desktop_app.cache.indexes.search").setLevel(logging.INFO)  # each index's build time
    keys = None if args.index_keys == "auto" else [k for k in args.index_keys.split(",") if k]

    with tempfile.TemporaryDirectory(prefix="bench_query_") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        path = workdir / "cache.sqlite"
        if not path.exists():
            create_cache(path)
            rows = list(end_user_rows(args.rows, args.seed, int(time.time())))
            with sqlite3.connect(path) as raw:
                cpu = insert(raw, rows)
            print(f"built {args.rows:,} end users in {cpu:.1f} s CPU ({args.rows / cpu:,.0f} rows/s, "
                  "tables.py indexes only)")
            del rows
        create_cache(path)  # a kept file from before gains the tables added since
        with sqlite3.connect(path) as raw:
            start = time.perf_counter()
            report = ensure_query_indexes(raw, property_keys=keys)
            print(f"ensure_query_indexes: {time.perf_counter() - start:.1f} s, created {len(report.created)}, "
                  f"property indexes: {', '.join(report.property_keys) or 'none'}")
            start = time.perf_counter()
            ensure_query_indexes(raw, property_keys=keys)
            print(f"ensure_query_indexes again: {(time.perf_counter() - start) * 1000:.0f} ms")
            raw.commit()
            if args.rebuild_search_index:
                drop_search_index(raw)
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                raw.execute("VACUUM")  # the dropped pages, given back, so the growth below is real
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            before = file_bytes(path)
            start = time.perf_counter()
            built = build_search_index(raw)
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            if built:
                print(f"search indexes built in {time.perf_counter() - start:.1f} s; file +"
                      f"{(file_bytes(path) - before) / 2**20:.0f} MiB (of {file_bytes(path) / 2**20:.0f} MiB; "
                      f"text {table_mib(raw, 'end_user_text')} MiB, properties {table_mib(raw, 'end_user_prop')} MiB)")
            else:
                print(f"search indexes already built ({', '.join(sorted(complete_indexes(raw)))}): text "
                      f"{table_mib(raw, 'end_user_text')} MiB, properties {table_mib(raw, 'end_user_prop')} MiB")
            external = rare_external(raw)
        engine = create_engine(f"sqlite:///{path}")

        @event.listens_for(engine, "connect")
        def _wal(dbapi: sqlite3.Connection, _record: object) -> None:
            dbapi.execute("PRAGMA journal_mode = WAL")

        query = EndUserQuery(engine, mmap_bytes=args.mmap_mib * 1024 * 1024)
        query.count("")  # warm the page cache and the catalog, as an open app would be
        print(f"\n{'filter':44s} {'first page':>11s} {'count':>10s} {'matches':>10s}   "
              "without the search index (same run)")
        for pattern in FILTERS:
            text = pattern.format(external=external)
            page_ms, _ = median_ms(lambda: query.page(text, SortSpec("email"), 0, 50), args.repeat)
            count_ms, matches = median_ms(lambda: query.count(text), args.repeat)
            with search_index_unused():
                plain_page, _ = median_ms(lambda: query.page(text, SortSpec("email"), 0, 50), args.repeat)
                plain_count, plain = median_ms(lambda: query.count(text), args.repeat)
            assert plain == matches, (text, plain, matches)
            print(f"{text or '(empty)':44s} {page_ms:8.1f} ms {count_ms:7.1f} ms {matches:>10,}   "
                  f"{plain_page:8.1f} ms {plain_count:7.1f} ms")
        print(f"\n{'sort (first page of 50, no filter / plan:pro)':52s}")
        for sort in SORTS:
            label = f"{sort.column} {'desc' if sort.descending else 'asc'}"
            all_ms, _ = median_ms(lambda: query.page("", sort, 0, 50), args.repeat)
            pro_ms, _ = median_ms(lambda: query.page("plan:pro", sort, 0, 50), args.repeat)
            print(f"  {label:30s} {all_ms:8.1f} ms {pro_ms:8.1f} ms")
        ids_ms, ids = median_ms(lambda: query.ids("", SortSpec("email")), 3)
        print(f"\nids(all, email): {ids_ms:.0f} ms for {len(ids):,} ids")
        ids_ms, ids = median_ms(lambda: query.ids("plan:pro", SortSpec("last_surveyed", True)), 3)
        print(f"ids(plan:pro, last_surveyed desc): {ids_ms:.0f} ms for {len(ids):,} ids")
        window = list(ids[:200])
        rows_ms, _ = median_ms(lambda: query.rows_by_ids(window), args.repeat)
        print(f"rows_by_ids(200): {rows_ms:.1f} ms")
        start = time.perf_counter()
        exported = sum(len(batch) for batch in query.iter_rows("plan:pro", SortSpec("email")))
        print(f"iter_rows(plan:pro, email): {exported:,} rows in {time.perf_counter() - start:.1f} s")
        for label, action in (
            ("facet_counts()", lambda: query.facet_counts("")),
            ("facet_counts(plan:pro)", lambda: query.facet_counts("plan:pro")),
            ("property_values(plan)", lambda: query.property_values("plan")),
            ("property_values(region, plan:pro)", lambda: query.property_values("region", 20, "plan:pro")),
            ("property_keys()", query.property_keys),
        ):
            ms, _ = median_ms(action, 3)
            print(f"{label}: {ms:.0f} ms")
        print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
              f" (mmap {args.mmap_mib} MiB per connection)")
        engine.dispose()
        if args.ingest_rows:
            ingest_costs(args.ingest_rows, args.seed, args.ingest_repeat, keys or ["plan", "revenue_amount"], workdir)
        if args.keep is None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
