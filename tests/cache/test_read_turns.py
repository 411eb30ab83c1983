"""Reads take turns: a hold pauses background reads for the first screen, cancelled reads stop,
and the pooled connections (which also serve the writer) are left as they were found."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import desktop_app.cache.reading.turns as read_turns
from desktop_app.cache.indexes.expressions import ensure_query_indexes
from desktop_app.cache.reading.query import EndUserQuery, SortSpec
from desktop_app.cache.reading.turns import interrupted_when
from desktop_app.cache.schema.tables import EndUserRow  # noqa: F401  (registers the table)
from tests.cache.test_query_api import INSERT, FixedClock, app_engine, row

ROWS = 3000


@pytest.fixture()
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    # Check every few VM steps, so even a small table's count meets a check many times.
    monkeypatch.setattr(read_turns, "CHECK_STEPS", 50)
    path = tmp_path / "cache.sqlite"
    made = app_engine(path)
    SQLModel.metadata.create_all(made)
    with sqlite3.connect(path) as raw:
        raw.executemany(INSERT, [row(n) for n in range(1, ROWS + 1)])
        ensure_query_indexes(raw)
    yield made
    made.dispose()


@pytest.fixture()
def query(engine: Engine) -> EndUserQuery:
    return EndUserQuery(engine, clock=FixedClock())


def _in_thread(work: object) -> tuple[threading.Thread, list[object]]:
    out: list[object] = []
    thread = threading.Thread(target=lambda: out.append(work()), daemon=True)
    thread.start()
    return thread, out


def test_a_hold_pauses_other_reads_until_it_is_released(query: EndUserQuery) -> None:
    expected = query.count("acme")  # free text: every row is looked at
    release = query.hold_reads(limit_s=30)
    assert query.reads_held
    thread, out = _in_thread(lambda: query.count("acme"))
    thread.join(0.5)
    assert thread.is_alive() and not out  # paused, not finished
    release()
    thread.join(10)
    assert out == [expected] and not query.reads_held


def test_urgent_reads_and_row_fetches_never_wait_for_a_hold(query: EndUserQuery) -> None:
    expected = query.count("acme")
    release = query.hold_reads(limit_s=30)
    try:
        started = time.monotonic()
        with query.urgent():
            assert query.count("acme") == expected
            assert [r.id for r in query.page("acme", SortSpec("id"), 0, 3)] == [3, 6, 9]
        assert set(query.rows_by_ids([1, 2, 3])) == {1, 2, 3}  # a table paints with it
        assert time.monotonic() - started < 10
    finally:
        release()


def test_a_hold_that_is_never_released_ends_by_itself(query: EndUserQuery) -> None:
    query.hold_reads(limit_s=0.2)
    thread, out = _in_thread(lambda: query.count("acme"))
    thread.join(10)
    assert out == [query.count("acme")] and not query.reads_held


def test_reads_of_a_cancelled_task_stop(query: EndUserQuery) -> None:
    cancelled = threading.Event()
    with interrupted_when(cancelled.is_set):
        assert query.count("acme") > 0
        cancelled.set()
        with pytest.raises(sqlite3.OperationalError, match="interrupt"):
            query.count("acme")
        # A page's walk that runs out of time falls back to another plan; a cancelled one stops.
        with pytest.raises(sqlite3.OperationalError, match="interrupt"):
            query.page("acme plan:pro", SortSpec("email"), 0, 50)
    assert query.count("acme") > 0  # outside the block the same thread reads again


def test_a_paused_read_of_a_cancelled_task_stops_without_waiting_for_the_hold(query: EndUserQuery) -> None:
    cancelled = threading.Event()
    release = query.hold_reads(limit_s=30)
    failures: list[BaseException] = []

    def read() -> None:
        with interrupted_when(cancelled.is_set):
            try:
                query.count("acme")
            except sqlite3.OperationalError as error:
                failures.append(error)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    thread.join(0.3)
    cancelled.set()
    thread.join(10)
    release()
    assert not thread.is_alive() and len(failures) == 1


def test_pooled_connections_are_left_as_they_were_found(engine: Engine, query: EndUserQuery) -> None:
    with engine.connect() as connection:
        before = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    with interrupted_when(lambda: True), pytest.raises(sqlite3.OperationalError):
        query.count("acme")
    query.facet_counts("plan:pro")
    release = query.hold_reads(limit_s=30)
    try:
        # The writer borrows the same connections: no progress handler may pause or stop it.
        started = time.monotonic()
        with engine.begin() as connection:
            assert connection.exec_driver_sql("PRAGMA cache_size").scalar_one() == before
            assert connection.exec_driver_sql("PRAGMA mmap_size").scalar_one() == 0
            connection.exec_driver_sql(
                "UPDATE end_user SET pending_count = pending_count WHERE email LIKE '%acme%'")
        assert time.monotonic() - started < 10
    finally:
        release()
