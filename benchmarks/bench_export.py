"""Benchmark: the CSV export of a million-row cache against the sqlite3 shell's `-csv` output.

    .venv/bin/python benchmarks/bench_export.py [--rows 1000000] [--runs 3] [--db FILE]

Builds a cache file (the real `end_user` table) in a temp dir, or reuses `--db`, then times,
as medians of `--runs`, each in a fresh process:
  * export_csv with a fixed column set (8 fields + 2 properties), unix timestamps, against
    `sqlite3 -csv` printing the same columns in the same order (like for like);
  * the same with ISO 8601 timestamps, against sqlite3 formatting them with strftime();
  * the default column set (every property key: the first pass over keys included), alone.
Besides wall-clock time, each side's CPU time (user + system) is reported: on a shared machine
it moves less with other people's load than wall time does. The load average is printed at
the start and the end.
Memory of each export process, from /proc: peak RSS (VmHWM), which includes the pages of the
cache file the query memory-maps (the OS drops those at will), and the export's own memory,
RssAnon, sampled every 5% of the rows: equal numbers at 10% and at the end mean memory does
not grow with rows.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIXED_COLUMNS = (
    "id", "email", "external_id", "created_at", "updated_at", "last_surveyed",
    "surveys_disabled", "disabled_by", "prop:plan", "prop:seats_count",
)
_ISO = "strftime('%Y-%m-%dT%H:%M:%SZ', {0}, 'unixepoch')"


def sqlite_select(iso: bool) -> str:
    """The sqlite3-shell query that prints what the fixed-column export writes."""
    def stamp(name: str) -> str:
        return _ISO.format(name) if iso else name

    cells = [
        "id", "email", "external_id", stamp("created_at"), stamp("updated_at"),
        stamp("last_surveyed"),
        "CASE WHEN surveys_disabled THEN 'true' ELSE 'false' END", "NULLIF(disabled_by, '')",
        "json_extract(properties_json, '$.\"plan\"')",
        "json_extract(properties_json, '$.\"seats_count\"')",
    ]
    header = ", ".join(f"{cell} AS \"{name}\"" for cell, name in zip(cells, FIXED_COLUMNS, strict=True))
    # The view's default order, spelled as the query layer spells it (emails ignore case).
    return f"SELECT {header} FROM end_user ORDER BY email COLLATE NOCASE, id;"


def build_cache(path: Path, rows: int, seed: int = 7) -> float:
    """A cache file with `rows` end users and the app's query indexes; returns the seconds."""
    from sqlalchemy import create_engine
    from sqlmodel import SQLModel

    from desktop_app.cache.indexes.expressions import ensure_query_indexes
    from desktop_app.cache.schema.history_tables import HISTORY_TABLES
    from desktop_app.cache.schema.tables import EndUserRow

    engine = create_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine, tables=[EndUserRow.__table__, *HISTORY_TABLES])  # rows read history
    engine.dispose()
    rnd = random.Random(seed)
    # Values both sides write alike (no formula-like text), so the outputs can be compared
    # byte for byte; one needs quoting.
    plans = ("free", "pro", "enterprise", "Pro, annual")
    start = time.perf_counter()

    def generate():
        for i in range(1, rows + 1):
            disabled = i % 10 == 0
            properties = {
                "plan": plans[i % 4],
                "seats_count": rnd.randint(1, 500),
                "revenue_amount": str(rnd.randint(-1000, 100_000)),
                "features_array": ["sso", "api", "audit"][: i % 4],
                "signup_date": 1_600_000_000 + i,
                "note": 'said "hi", left' if i % 50 == 0 else "",
            }
            yield (
                i, f"user{rnd.randrange(10**9):09d}@acme{i % 97}.example", f"ext-{i}" if i % 3 else None,
                1_500_000_000 + i, 1_650_000_000 + i if i % 2 else None, f"+1415555{i % 10_000:04d}",
                1_500_000_000 + i, 1_700_000_000 + i, disabled, "admin" if disabled else "",
                "{}", json.dumps(properties), 0, False, False,
            )

    with sqlite3.connect(path) as connection:
        connection.executemany(
            "INSERT INTO end_user (id, email, external_id, external_created_at, last_surveyed, "
            "phone_number, created_at, updated_at, surveys_disabled, disabled_by, settings_json, "
            "properties_json, pending_count, has_conflict, pending_delete) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            generate(),
        )
        # The indexes the app's cache has (Cache.open makes them): the export's sort uses one.
        ensure_query_indexes(connection)
    connection.close()
    return time.perf_counter() - start


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_export(db: Path, out: Path, timestamps: str, default_columns: bool) -> None:
    """Runs in a fresh process: one export, then a JSON line with time and memory."""
    from sqlalchemy import create_engine

    from desktop_app.cache.reading.query import EndUserQuery, SortSpec
    from desktop_app.export import ExportOptions, export_csv

    engine = create_engine(f"sqlite:///{db}")
    query = EndUserQuery(engine)
    options = ExportOptions(
        columns=None if default_columns else FIXED_COLUMNS, timestamps=timestamps, sort=SortSpec("email")
    )
    anon: dict[int, float] = {}  # RssAnon at each 5% of the rows

    def progress(done: int, total: int) -> None:
        step = done * 20 // max(total, 1)
        if step not in anon:
            anon[step] = _rss_mb("RssAnon")

    rss_before = _rss_mb("VmRSS")
    start, cpu = time.perf_counter(), time.process_time()
    result = export_csv(query, "", out, options, progress=progress)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    anon[21] = _rss_mb("RssAnon")
    print(json.dumps({
        "seconds": seconds, "cpu_seconds": cpu_seconds, "rows": result.rows, "columns": len(result.columns),
        "rss_before_mb": rss_before, "peak_rss_mb": _rss_mb("VmHWM"), "bytes": out.stat().st_size,
        "anon_10pct_mb": anon.get(2, float("nan")), "anon_peak_mb": max(anon.values()),
        "anon_end_mb": anon[21],
    }))


def run_export(db: Path, out: Path, timestamps: str, default_columns: bool = False) -> dict[str, float]:
    command = [sys.executable, __file__, "--child-export", str(db), str(out), timestamps]
    if default_columns:
        command.append("--default-columns")
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT, timeout=1800)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_sqlite(sqlite: str, db: Path, out: Path, iso: bool) -> tuple[float, float]:
    """Wall and CPU seconds of `sqlite3 -csv` writing the fixed columns to `out`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with out.open("wb") as sink:
        subprocess.run([sqlite, "-csv", "-header", "-newline", "\r\n", str(db), sqlite_select(iso)], stdout=sink,
                       check=True, timeout=1800)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def load_average() -> str:
    return "load average " + ", ".join(f"{n:.2f}" for n in os.getloadavg())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", type=Path, help="reuse (or create) this cache file")
    parser.add_argument("--child-export", nargs=3, metavar=("DB", "OUT", "TIMESTAMPS"), help=argparse.SUPPRESS)
    parser.add_argument("--default-columns", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_export:
        db, out, stamps = args.child_export
        child_export(Path(db), Path(out), stamps, args.default_columns)
        return 0

    sqlite = shutil.which("sqlite3")
    if sqlite is None:
        print("the sqlite3 command line is missing: apt-get install -y sqlite3", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-export-"))
    try:
        db = args.db or work / "cache.sqlite3"
        if not db.exists():
            print(f"building {args.rows:,} end users in {db} ...", flush=True)
            print(f"  built in {build_cache(db, args.rows):.1f} s", flush=True)
        rows = sqlite3.connect(db).execute("SELECT count(*) FROM end_user").fetchone()[0]
        print(f"cache: {rows:,} end users, {db.stat().st_size / 2**20:,.0f} MiB; "
              f"{args.runs} runs each, medians; {load_average()}\n", flush=True)

        for label, stamps in (("unix timestamps", "unix"), ("ISO 8601 timestamps", "iso")):
            runs: list[dict[str, float]] = []
            theirs: list[tuple[float, float]] = []
            for _ in range(args.runs):  # interleaved, so load from elsewhere hits both alike
                runs.append(run_export(db, work / "ours.csv", stamps))
                theirs.append(run_sqlite(sqlite, db, work / "theirs.csv", stamps == "iso"))

            def median(name: str) -> float:
                return statistics.median(run[name] for run in runs)

            ours_s, ours_cpu = median("seconds"), median("cpu_seconds")
            theirs_s, theirs_cpu = (statistics.median(t[i] for t in theirs) for i in (0, 1))
            measured = runs[-1]
            same = (work / "ours.csv").read_bytes() == (work / "theirs.csv").read_bytes()
            print(f"{label}: {len(FIXED_COLUMNS)} columns, {measured['rows']:,} rows, "
                  f"{measured['bytes'] / 2**20:,.0f} MiB")
            print(f"  export_csv   {ours_s:6.2f} s  ({measured['rows'] / ours_s:,.0f} rows/s), CPU {ours_cpu:6.2f} s")
            print(f"  sqlite3 -csv {theirs_s:6.2f} s, CPU {theirs_cpu:6.2f} s")
            print(f"  ratio {ours_s / theirs_s:.2f} (target <= 2.0), CPU-time ratio {ours_cpu / theirs_cpu:.2f}; "
                  f"identical bytes: {same}")
            print("  runs (export / sqlite3 s): "
                  + ", ".join(f"{r['seconds']:.1f}/{t[0]:.1f}" for r, t in zip(runs, theirs, strict=True)))
            print(f"  memory: peak RSS {median('peak_rss_mb'):.0f} MiB (mapped cache pages included); "
                  f"own (RssAnon) {median('anon_10pct_mb'):.0f} MiB after 10% of rows, "
                  f"{median('anon_end_mb'):.0f} MiB at the end, peak {median('anon_peak_mb'):.0f} MiB")
            print(f"  {load_average()}\n", flush=True)

        measured = run_export(db, work / "default.csv", "iso", default_columns=True)
        print(f"default columns ({measured['columns']} columns: every property key, so a first "
              f"pass over keys): {measured['seconds']:.2f} s, CPU {measured['cpu_seconds']:.2f} s, "
              f"peak RSS {measured['peak_rss_mb']:.0f} MiB, own peak {measured['anon_peak_mb']:.0f} MiB; "
              f"{load_average()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
