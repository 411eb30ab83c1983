"""The first paint's plain reads (ReadPool) and the cache that opens behind them (CacheFuture)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from desktop_app.cache.changes import CacheChanges
from desktop_app.cache.store import Cache
from desktop_app.cache.opening import CacheClosed, CacheFuture
from desktop_app.cancellation import Cancelled
from desktop_app.cache.reading.query import EndUserQuery
from desktop_app.cache.reading.read_pool import ReadPool
from desktop_app.domain import EndUser

ROOT = Path(__file__).resolve().parents[2]


def _end_user(n: int) -> EndUser:
    return EndUser(id=n, email=f"user{n}@acme.example", created_at=1_700_000_000 + n,
                   updated_at=1_700_000_000 + n, properties={"plan": "pro" if n % 2 else "free"})


@pytest.fixture()
def cache_file(tmp_path: Path) -> Path:
    path = tmp_path / "cache.sqlite3"
    cache = Cache.open(path)
    try:
        cache.ingest_pulled([_end_user(n) for n in range(1, 31)], "end_users.updated_at", 1_700_000_030)
    finally:
        cache.close()
    return path


def test_read_pool_never_creates_a_file_and_says_when_there_is_nothing_to_read(tmp_path: Path) -> None:
    missing = ReadPool(tmp_path / "absent.sqlite3")
    assert not missing.readable()
    with pytest.raises(sqlite3.OperationalError), missing.borrow():
        pass
    assert not (tmp_path / "absent.sqlite3").exists()  # the Cache makes the file, user-only

    sqlite3.connect(tmp_path / "empty.sqlite3").close()
    assert not ReadPool(tmp_path / "empty.sqlite3").readable()


def test_read_pool_reads_from_many_threads_and_never_writes(cache_file: Path) -> None:
    pool = ReadPool(cache_file)
    assert pool.readable()
    query = EndUserQuery(pool)
    counts: list[int] = []

    def read() -> None:
        for _ in range(20):
            counts.append(query.count("plan:pro"))

    threads = [threading.Thread(target=read) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counts == [15] * 120
    with pool.borrow() as raw, pytest.raises(sqlite3.OperationalError, match="readonly"):
        raw.execute("DELETE FROM end_user")
    pool.close()
    with pytest.raises(sqlite3.ProgrammingError), pool.borrow():
        pass


def test_the_future_hands_on_subscribers_and_the_cache_once_open(cache_file: Path) -> None:
    future = CacheFuture(cache_file)
    seen: list[CacheChanges] = []
    told: list[bool] = []
    unsubscribe = future.subscribe(seen.append)
    future.add_done_callback(lambda f: told.append(f.ready))
    assert not future.ready and not future.failed
    with pytest.raises(TimeoutError):
        future.result(timeout=0.01)
    assert not hasattr(future, "count_all")  # nothing stands in for the cache

    waited: list[int] = []
    waiter = threading.Thread(target=lambda: waited.append(future.result().count_all()))  # waits for the open
    waiter.start()
    opener = threading.Thread(target=future.open)
    opener.start()
    opener.join()
    waiter.join(10)
    assert future.ready and waited == [30] and told == [True]
    late: list[bool] = []
    future.add_done_callback(lambda f: late.append(f.ready))  # after the open: called at once
    assert late == [True]

    cache = future.result()
    cache.set_email(1, "first@acme.example")  # the subscriber attached at the open hears the edit
    assert seen and 1 in seen[-1].end_user_ids
    unsubscribe()
    cache.set_email(2, "second@acme.example")
    assert not any(2 in change.end_user_ids for change in seen)
    future.close()
    assert not future.ready and cache._closed


def test_a_cache_that_cannot_open_fails_the_future_for_every_caller(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder-not-a-file.sqlite3"
    folder.mkdir()
    future = CacheFuture(folder)
    told: list[BaseException | None] = []
    future.add_done_callback(lambda f: told.append(f.error))
    with pytest.raises(Exception):  # noqa: B017 - whatever Cache.open raised
        future.open()
    assert future.failed and not future.ready
    assert told and told[0] is future.error is not None
    with pytest.raises(RuntimeError, match="could not be opened"):
        future.result(0)


def test_closing_while_it_opens_closes_the_cache_when_the_open_finishes(
    cache_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_app.cache.store import Cache

    closed: list[Cache] = []
    real_close = Cache.close
    monkeypatch.setattr(Cache, "close", lambda self: (closed.append(self), real_close(self))[1])
    future = CacheFuture(cache_file)
    future.close()  # the session ended before the worker got to it
    with pytest.raises(CacheClosed):
        future.open()
    assert not future.ready and future.failed
    with pytest.raises(CacheClosed):
        future.result(0)
    assert len(closed) == 1  # the late cache was closed at once: nothing holds its file


def test_closing_before_the_open_ends_releases_every_worker_waiting_for_it(cache_file: Path) -> None:
    """A worker waiting for the cache (the undo state, an edit) gives up when the session
    closes, instead of keeping the process alive until a slow open ends."""
    future = CacheFuture(cache_file)
    outcome: list[BaseException] = []
    told: list[bool] = []
    future.add_done_callback(lambda f: told.append(f.failed))

    def waiting_worker() -> None:
        try:
            future.result().undo_state()
        except BaseException as exc:  # noqa: BLE001 - what the caller would be told
            outcome.append(exc)

    worker = threading.Thread(target=waiting_worker, daemon=True)
    worker.start()
    worker.join(0.2)
    assert worker.is_alive()  # waiting: nobody has opened the cache
    future.close()
    worker.join(2.0)
    assert not worker.is_alive()
    assert isinstance(outcome[0], CacheClosed) and isinstance(outcome[0], Cancelled)
    assert told == [True]


def test_the_first_paint_path_does_not_import_the_writer_side_or_the_keyring() -> None:
    """What the window needs to show cached rows: no SQLModel, SQLAlchemy, pydantic, keyring or
    httpx (together over two seconds of imports, done on a worker after the first paint)."""
    code = (
        "import sys\n"
        "import desktop_app.cli, desktop_app.ui.app, desktop_app.ui.main_window\n"
        "import desktop_app.cache.reading.query, desktop_app.cache.reading.read_pool, desktop_app.cache.opening\n"
        "import desktop_app.sync\n"
        "heavy = [m for m in ('sqlmodel', 'sqlalchemy', 'pydantic', 'keyring', 'httpx') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == ""
