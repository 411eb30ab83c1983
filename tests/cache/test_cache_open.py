"""Opening a cache: private files, WAL, versioned schema, backup before upgrade, crash marks."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop_app.cache.schema.paths import account_db_path, default_data_dir
from desktop_app.cache.records import CacheBusy, CacheError
from desktop_app.cache.store import Cache
from desktop_app.cache.schema import database
from desktop_app.cache.schema.database import Migration
from desktop_app.domain import EndUser

REPO = Path(__file__).resolve().parents[2]
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and signals")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def user_version(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        return int(connection.execute("PRAGMA user_version").fetchone()[0])
    finally:
        connection.close()


def columns(path: Path, table: str) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
    finally:
        connection.close()


@posix_only
def test_a_new_cache_is_user_only_even_with_an_open_umask(tmp_path: Path) -> None:
    path = tmp_path / "home" / "wootric-desk" / "cache" / "a.sqlite3"
    previous = os.umask(0)
    try:
        with Cache.open(path) as cache:
            cache.set_cursor("probe", 1)  # a write, so the -wal and -shm files exist
            for directory in (path.parent, path.parent.parent, tmp_path / "home"):
                assert mode(directory) == 0o700, directory
            for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                assert mode(file) == 0o600, file
            with cache.engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        os.umask(previous)
    assert user_version(path) == database.SCHEMA_VERSION


@posix_only
def test_a_loose_existing_file_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "loose.sqlite3"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)
    with Cache.open(path):
        assert mode(path) == 0o600


def test_reopening_keeps_data_and_makes_no_backup(cache_path: Path,
                                                  make_user: Callable[..., EndUser]) -> None:
    with Cache.open(cache_path) as cache:
        cache.ingest_pulled([make_user(1), make_user(2)], "end_users", 99)
    with Cache.open(cache_path) as cache:
        assert cache.count_all() == 2
        assert cache.cursor("end_users") == 99
    assert not list(cache_path.parent.glob("*.bak"))


def _add_segment(connection: object) -> None:
    connection.exec_driver_sql("ALTER TABLE end_user ADD COLUMN nps_segment TEXT")
    connection.exec_driver_sql("UPDATE end_user SET nps_segment = 'promoter'")


def test_an_upgrade_copies_the_file_first_then_migrates(
        cache_path: Path, make_user: Callable[..., EndUser], monkeypatch: pytest.MonkeyPatch) -> None:
    with Cache.open(cache_path) as cache:
        cache.ingest_pulled([make_user(i) for i in range(1, 4)], "end_users", 5)
    current = database.SCHEMA_VERSION
    monkeypatch.setattr(database, "SCHEMA_VERSION", current + 1)
    monkeypatch.setattr(database, "MIGRATIONS", (
        *database.MIGRATIONS, Migration(current + 1, "add nps_segment", _add_segment)))

    with Cache.open(cache_path) as cache:
        assert cache.count_all() == 3
    assert user_version(cache_path) == current + 1
    assert "nps_segment" in columns(cache_path, "end_user")
    [backup] = cache_path.parent.glob("*.bak")
    assert backup.name.startswith(f"{cache_path.name}.v{current}-")
    assert user_version(backup) == current  # the copy is the old file, WAL content included
    assert "nps_segment" not in columns(backup, "end_user")
    copy = sqlite3.connect(backup)
    assert copy.execute("SELECT count(*) FROM end_user").fetchone()[0] == 3
    copy.close()
    if os.name == "posix":
        assert mode(backup) == 0o600


def test_a_failed_upgrade_rolls_back_and_names_the_copy(
        cache_path: Path, make_user: Callable[..., EndUser], monkeypatch: pytest.MonkeyPatch) -> None:
    with Cache.open(cache_path) as cache:
        cache.ingest_pulled([make_user(1)], "end_users", 5)

    def half_then_fail(connection: object) -> None:
        _add_segment(connection)
        raise RuntimeError("disk says no")

    current = database.SCHEMA_VERSION
    monkeypatch.setattr(database, "SCHEMA_VERSION", current + 1)
    monkeypatch.setattr(database, "MIGRATIONS", (
        *database.MIGRATIONS, Migration(current + 1, "breaks", half_then_fail)))
    with pytest.raises(CacheError) as raised:
        Cache.open(cache_path)
    [backup] = cache_path.parent.glob("*.bak")
    assert str(backup) in str(raised.value) and "Nothing was changed" in str(raised.value)
    assert user_version(cache_path) == current
    assert "nps_segment" not in columns(cache_path, "end_user")  # the ALTER was rolled back

    monkeypatch.undo()  # this app's own schema again
    with Cache.open(cache_path) as cache:
        assert cache.count_all() == 1


def _v1_file(path: Path) -> None:
    """A cache as the first release wrote it: its schema, one end user with a queued edit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    try:
        connection.executescript((Path(__file__).parent / "schema_v1.sql").read_text())
        connection.execute(
            "INSERT INTO end_user VALUES (7, 'a@example.com', NULL, NULL, NULL, NULL, 1600000000,"
            " 1600000000, 0, '', '{}', '{\"plan\": \"Pro\"}', 1, 0, 0)")
        connection.execute(
            "INSERT INTO server_end_user VALUES (7, 'a@example.com', NULL, NULL, NULL, NULL,"
            " 1600000000, 1600000000, 0, '', '{}', '{}')")
        connection.execute(
            "INSERT INTO edit_batch VALUES (1, 'set_property', 'plan', '\"Pro\"', 1600000001,"
            " 1, 'done', 0)")
        connection.execute(
            "INSERT INTO pending_edit VALUES (1, 7, 1, 'set_property', 'plan', 'null', '\"Pro\"',"
            " 1600000001, 'queued', NULL)")
        connection.commit()
    finally:
        connection.close()


def test_a_v1_cache_gains_the_sent_mark_and_keeps_its_outbox(cache_path: Path) -> None:
    _v1_file(cache_path)
    with Cache.open(cache_path) as cache:
        [edit] = cache.pending_for(7)
        assert (edit.key, edit.value, edit.sent_at) == ("plan", "Pro", None)
        assert cache.get(7).end_user.properties == {"plan": "Pro"}
    assert user_version(cache_path) == database.SCHEMA_VERSION
    assert "sent_at" in columns(cache_path, "pending_edit")
    [backup] = cache_path.parent.glob("*.bak")
    assert backup.name.startswith(f"{cache_path.name}.v1-")
    assert user_version(backup) == 1 and "sent_at" not in columns(backup, "pending_edit")


def test_an_old_cache_gains_the_bulk_mark_and_names_its_undo_step(cache_path: Path) -> None:
    _v1_file(cache_path)  # walks every step: sent_at (2), then edit_batch.bulk (3)
    with Cache.open(cache_path) as cache:
        state = cache.undo_state()
        assert state.redo is None and state.undo is not None
        assert (state.undo.key, state.undo.value, state.undo.end_users, state.undo.bulk) == (
            "plan", "Pro", 1, False)
        cache.set_property([7], "plan", "Team", bulk=True)
        assert cache.undo_state().undo.bulk
    assert user_version(cache_path) == database.SCHEMA_VERSION == 10
    assert "bulk" in columns(cache_path, "edit_batch")


def _table_sql(path: Path, *names: str) -> dict[str, str]:
    connection = sqlite3.connect(path)
    try:
        return {name: sql for name, sql in connection.execute(
            f"SELECT name, sql FROM sqlite_master WHERE tbl_name IN ({', '.join('?' for _ in names)})"
            " AND sql IS NOT NULL", names)}
    finally:
        connection.close()


def _squeeze(sql: str) -> str:
    """DDL without its layout: a migration's one-line CREATE equals create_all's indented one."""
    return " ".join(sql.split()).replace("( ", "(").replace(" )", ")")


def test_an_old_cache_gains_kept_lists_and_per_row_batches_shaped_as_a_new_file(tmp_path: Path) -> None:
    old, new = tmp_path / "old" / "cache.sqlite3", tmp_path / "new" / "cache.sqlite3"
    _v1_file(old)  # schema 5 adds saved_list and its members, 6 edit_batch.per_row
    with Cache.open(old) as cache:
        list_id = cache.save_list("Last week", [7], identifier_kind="email", source="optouts.csv")
        [kept] = cache.saved_lists()
        assert (kept.id, kept.name, kept.source, kept.member_count) == (list_id, "Last week", "optouts.csv", 1)
        assert cache.undo_state().undo.per_row is False  # the v1 batch reads as a plain one
    Cache.open(new).close()
    tables = ("saved_list", "saved_list_member")
    assert {k: _squeeze(v) for k, v in _table_sql(old, *tables).items()} == {
        k: _squeeze(v) for k, v in _table_sql(new, *tables).items()}
    assert "per_row" in columns(old, "edit_batch")


def test_a_cache_from_a_newer_app_is_refused(cache_path: Path) -> None:
    Cache.open(cache_path).close()
    connection = sqlite3.connect(cache_path)
    connection.execute("PRAGMA user_version = 99")
    connection.close()
    with pytest.raises(CacheError, match="newer Wootric Desk"):
        Cache.open(cache_path)


def test_files_that_are_not_a_cache_are_refused_clearly(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE notes (body TEXT)")
    connection.close()
    with pytest.raises(CacheError, match="not a Wootric Desk cache"):
        Cache.open(other)
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(CacheError, match="Cannot open the cache"):
        Cache.open(garbage)


RUN_AND_HANG = textwrap.dedent("""
    import sys, time
    from desktop_app.cache.store import Cache
    cache = Cache.open(sys.argv[1])
    print(cache.start_sync_run("sync"), flush=True)
    time.sleep(60)
""")


@posix_only
def test_runs_left_running_by_a_killed_process_become_interrupted(cache_path: Path) -> None:
    with Cache.open(cache_path) as cache:
        mine = cache.start_sync_run("sync")  # this process lives on: its run stays running
    child = subprocess.Popen([sys.executable, "-c", RUN_AND_HANG, str(cache_path)],
                             stdout=subprocess.PIPE, text=True, cwd=REPO,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        theirs = int(child.stdout.readline())
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        child.stdout.close()
    with Cache.open(cache_path) as cache:
        runs = {run.id: run for run in cache.last_sync_runs(5)}
        assert runs[theirs].outcome == "interrupted"
        assert runs[theirs].finished_at is not None and "stopped" in runs[theirs].reason
        assert runs[mine].outcome == "running"
        cache.finish_sync_run(mine, "completed", "", {"pulled": 3})
        assert {r.id: r for r in cache.last_sync_runs(5)}[mine].counts == {"pulled": 3}
        assert cache.last_successful_sync() is not None


def test_sync_runs_are_recorded_newest_first(cache: Cache, clock: object) -> None:
    first = cache.start_sync_run("sync")
    cache.finish_sync_run(first, "offline", "The service cannot be reached.", {})
    assert cache.last_successful_sync() is None
    second = cache.start_sync_run("sync")
    clock.value += 30
    cache.finish_sync_run(second, "completed", "", {"pulled": 10, "pushed": 2})
    runs = cache.last_sync_runs(5)
    assert [r.id for r in runs] == [second, first]
    assert runs[1].outcome == "offline" and runs[1].reason == "The service cannot be reached."
    assert runs[0].counts == {"pulled": 10, "pushed": 2}
    assert cache.last_successful_sync() == runs[0].finished_at == clock.value


def test_readers_on_other_threads_run_while_a_pull_writes(
        cache: Cache, make_user: Callable[..., EndUser]) -> None:
    errors: list[BaseException] = []
    done = threading.Event()
    reads = [0]

    def read() -> None:
        try:
            while not done.is_set():
                cache.count_all()
                cache.get(1)
                reads[0] += 1
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for page in range(40):
            cache.ingest_pulled([make_user(page * 50 + i + 1) for i in range(50)], "c", page)
    finally:
        done.set()
        reader.join(timeout=10)
    assert not errors
    assert reads[0] > 0
    assert cache.count_all() == 2000


def test_data_dir_and_per_account_paths(tmp_path: Path) -> None:
    assert default_data_dir({"WOOTRIC_DESK_HOME": str(tmp_path)}) == tmp_path
    if sys.platform.startswith("linux"):
        assert default_data_dir({}) == Path.home() / ".local" / "share" / "wootric-desk"
        assert default_data_dir({"XDG_DATA_HOME": "/x"}) == Path("/x/wootric-desk")
    key = "https://api.wootric.com\nclient-id-1234"
    path = account_db_path(tmp_path, key)
    assert path.parent == tmp_path / "cache" and path.suffix == ".sqlite3"
    assert "wootric" not in path.name and "client" not in path.name
    assert path == account_db_path(tmp_path, key)
    assert path != account_db_path(tmp_path, key + "5")
    assert account_db_path(tmp_path, "acct-0123abcd").name == "acct-0123abcd.sqlite3"


def test_the_cache_never_imports_qt() -> None:
    code = ("import sys, desktop_app.cache, desktop_app.cache.store; "
            "print(sorted(m for m in sys.modules if m.startswith('PySide6')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_an_edit_while_another_process_holds_the_write_lock_says_busy_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 200)  # the real 10 s, shortened
    path = tmp_path / "busy.sqlite3"
    cache = Cache.open(path)
    try:
        cache.ingest_pulled([EndUser(id=1, email="a@acme.example", created_at=1, updated_at=1)],
                            "end_users.updated_at", 1)
        other = sqlite3.connect(path, isolation_level=None)  # e.g. the command line, mid-write
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(CacheBusy, match="Nothing was changed"):
                cache.set_email(1, "b@acme.example")
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert cache.pending_count() == 0
        cache.set_email(1, "b@acme.example")  # free again: the edit goes through
        assert cache.pending_count() == 1
    finally:
        cache.close()


def test_opening_forgets_the_audit_of_edits_the_service_took_long_ago(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    Cache.open(path).close()
    now = int(time.time())
    old, recent = now - 200 * 86_400, now - 5 * 86_400
    rows = [  # (edit_id, outcome, outcome_at)
        (1, "pushed", old), (2, "discarded", old), (3, "pushed", recent),
        (4, "queued", None), (5, "undone", old), (6, "rejected", old), (7, "conflicted", old),
    ]
    with sqlite3.connect(path) as raw:
        raw.executemany(
            "INSERT INTO audit_entry (edit_id, batch_id, end_user_id, kind, before_json, after_json,"
            " created_at, outcome, outcome_at)"
            " VALUES (?, 1, 1, 'set_email', 'null', 'null', ?, ?, ?)",
            [(edit_id, old, outcome, at) for edit_id, outcome, at in rows])
    Cache.open(path).close()
    with sqlite3.connect(path) as raw:
        kept = [r[0] for r in raw.execute("SELECT edit_id FROM audit_entry ORDER BY edit_id")]
    assert kept == [3, 4, 5, 6, 7]  # recent, or still in play (redo reads "undone" entries)


def test_an_old_cache_gains_the_search_index_record_and_builds_the_index_on_request(cache_path: Path) -> None:
    _v1_file(cache_path)  # schema 4 adds the search_index record; the index waits for a pull
    with Cache.open(cache_path) as cache:
        assert user_version(cache_path) == database.SCHEMA_VERSION
        assert not cache.search_index_ready()
        assert cache.build_search_index()
        assert cache.search_index_ready()
        from desktop_app.cache.reading.query import EndUserQuery
        assert EndUserQuery(cache.engine).ids("example.com", None).tolist() == [7]
        assert EndUserQuery(cache.engine).count("plan:pro") == 1


def test_closing_while_another_process_holds_the_write_lock_takes_well_under_a_second(
        cache_path: Path, make_user: Callable[..., EndUser]) -> None:
    """Quitting the app must not wait out the busy timeout (10 s a statement): neither for
    its own write stuck behind the lock nor for the PRAGMA optimize hint."""
    cache = Cache.open(cache_path)
    cache.ingest_pulled([make_user(1)], "updated", 1)
    holder = sqlite3.connect(cache_path, isolation_level=None)  # a wootric-desk command mid-write
    holder.execute("BEGIN IMMEDIATE")
    outcome: list[object] = []

    def stuck_write() -> None:
        try:
            outcome.append(cache.set_email(1, "late@example.com"))
        except Exception as exc:  # noqa: BLE001 - whatever the write was told
            outcome.append(exc)

    writer = threading.Thread(target=stuck_write, daemon=True)
    try:
        writer.start()
        time.sleep(0.3)  # the write waits for the lock, holding the cache's own
        began = time.monotonic()
        cache.close()  # raises nothing, waits for neither
        took = time.monotonic() - began
    finally:
        holder.rollback()
        holder.close()
    writer.join(15)
    assert took < 1.0, f"close took {took:.1f} s"
    assert not writer.is_alive() and outcome  # once the lock went, the write ended either way
    with pytest.raises(CacheError):
        cache.set_email(1, "after@example.com")  # closed means closed


def test_closing_an_idle_cache_beside_a_writer_skips_the_optimize_hint(cache_path: Path) -> None:
    cache = Cache.open(cache_path)
    holder = sqlite3.connect(cache_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        began = time.monotonic()
        cache.close()
        took = time.monotonic() - began
    finally:
        holder.rollback()
        holder.close()
    assert took < 1.0, f"close took {took:.1f} s"
