"""The window's operations: cache ops get the Cache when it is ready, writes queue, the undo
state follows every write, and a failure nobody handles reaches the one renderer."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from desktop_app.cache.opening import CacheClosed, CacheFuture
from desktop_app.cache.records import EditRejected, UndoState
from desktop_app.cancellation import Cancelled
from desktop_app.ui.operations import Operations
from desktop_app.ui.tasks import TaskRunner
from tests.ui.conftest import sample_end_users

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from desktop_app.cache.store import Cache


@pytest.fixture
def cache_file(tmp_path: Path) -> Path:
    from desktop_app.cache.store import Cache

    path = tmp_path / "cache.db"
    cache = Cache.open(path)
    cache.ingest_pulled(sample_end_users(20), "end_users", 1)
    cache.close()
    return path


def test_a_write_asked_for_before_the_open_runs_once_the_cache_is_ready(
    qtbot: QtBot, tasks: TaskRunner, cache_file: Path
) -> None:
    future = CacheFuture(cache_file)
    ops = Operations(tasks, future)
    states: list[UndoState] = []
    ops.undo_state_changed.connect(states.append)
    written: list[int] = []
    first_id = sample_end_users(1)[0].id

    ops.write(lambda cache: cache.set_email(first_id, "early@acme.example"),
              lambda changes: written.append(len(changes.end_user_ids or ())), name="early edit")
    time.sleep(0.2)
    assert written == [] and not future.ready  # waiting on a worker, not on the GUI thread
    threading.Thread(target=future.open).start()
    qtbot.waitUntil(lambda: written == [1] and bool(states), timeout=10_000)
    assert states[-1].undo is not None  # the undo state was read again after the write, unasked
    cached = future.result().get(first_id)
    assert cached is not None and cached.end_user.email == "early@acme.example"
    qtbot.waitUntil(lambda: tasks.pending_count() == 0, timeout=10_000)
    future.close()


def test_ops_waiting_for_the_open_leave_the_pool_to_the_open(qtbot: QtBot, cache_file: Path) -> None:
    """With one worker thread, reads asked for before the open must not sit on it: the open
    runs on the same pool (they did sit on it, and the open waited behind them for ever)."""
    runner = TaskRunner(max_threads=1, urgent_threads=1)
    future = CacheFuture(cache_file)
    ops = Operations(runner, future)
    counted: list[int] = []
    for n in range(4):
        ops.read(lambda cache: cache.pending_count(), counted.append, latest=f"read {n}", name="count")
    opened = ops.work(future.open, lambda _cache: None, name="open the cache")
    qtbot.waitUntil(lambda: opened.done and len(counted) == 4, timeout=10_000)
    assert counted == [0, 0, 0, 0]
    assert runner.shutdown(10_000)
    future.close()


def test_a_newer_read_of_a_key_replaces_an_older_one_still_waiting_for_the_open(
    qtbot: QtBot, tasks: TaskRunner, cache_file: Path
) -> None:
    future = CacheFuture(cache_file)
    ops = Operations(tasks, future)
    seen: list[str] = []
    ops.read(lambda _cache: "older", seen.append, latest="detail", name="load")
    ops.read(lambda _cache: "newer", seen.append, latest="detail", name="load")
    threading.Thread(target=future.open).start()
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    qtbot.waitUntil(lambda: tasks.pending_count() == 0, timeout=10_000)
    assert seen == ["newer"]
    future.close()


def test_a_failed_open_reaches_each_waiting_op_as_its_error(qtbot: QtBot, tasks: TaskRunner,
                                                           tmp_path: Path) -> None:
    folder = tmp_path / "a-folder.db"
    folder.mkdir()
    future = CacheFuture(folder)
    ops = Operations(tasks, future)
    errors: list[BaseException] = []
    ops.read(lambda cache: cache.pending_count(), lambda _n: None, failed=errors.append, name="count")
    with pytest.raises(Exception):  # noqa: B017 - whatever Cache.open raised
        future.open()
    qtbot.waitUntil(lambda: bool(errors), timeout=10_000)
    assert isinstance(errors[0], RuntimeError) and "could not be opened" in str(errors[0])
    assert errors[0].__cause__ is future.error


def test_writes_run_one_after_another_in_submission_order(qtbot: QtBot, tasks: TaskRunner,
                                                          cache_file: Path) -> None:
    from desktop_app.cache.store import Cache

    cache = Cache.open(cache_file)
    ops = Operations(tasks, CacheFuture.of(cache))
    running, overlaps, order = [0], [0], []

    def write(n: int) -> None:
        def fn(_cache: Cache) -> int:
            running[0] += 1
            overlaps[0] = max(overlaps[0], running[0])
            time.sleep(0.02)
            running[0] -= 1
            return n
        ops.write(fn, order.append, name=f"write {n}")

    for n in range(6):
        write(n)
    qtbot.waitUntil(lambda: len(order) == 6, timeout=10_000)
    assert order == list(range(6)) and overlaps == [1]
    qtbot.waitUntil(lambda: tasks.pending_count() == 0, timeout=10_000)
    cache.close()


def test_a_failure_nobody_handles_goes_to_the_renderer_and_a_cancel_stays_silent(
    qtbot: QtBot, tasks: TaskRunner
) -> None:
    ops = Operations(tasks)
    shown: list[tuple[str, object]] = []
    ops.failure_shown.connect(lambda name, exc: shown.append((name, exc)))

    def refused() -> None:
        raise EditRejected("That email is not valid.")

    def stopped() -> None:
        raise Cancelled()

    a = ops.work(refused, lambda _none: None, name="save email")
    b = ops.work(stopped, lambda _none: None, name="stopped work")
    qtbot.waitUntil(lambda: a.done and b.done, timeout=10_000)
    assert [(name, str(exc)) for name, exc in shown] == [("save email", "That email is not valid.")]


def test_ops_of_a_closed_session_give_up_instead_of_waiting(qtbot: QtBot, tasks: TaskRunner,
                                                             cache_file: Path) -> None:
    future = CacheFuture(cache_file)
    ops = Operations(tasks, future)
    errors: list[BaseException] = []
    ops.write(lambda cache: cache.undo(), lambda _r: None, failed=errors.append, name="undo")
    future.close()  # quitting while the file still opens
    qtbot.waitUntil(lambda: bool(errors), timeout=5_000)
    assert isinstance(errors[0], CacheClosed)


def test_a_window_without_a_cache_refuses_cache_ops_plainly(tasks: TaskRunner) -> None:
    ops = Operations(tasks)
    with pytest.raises(RuntimeError, match="no cache"):
        ops.read(lambda cache: cache.pending_count(), lambda _n: None, name="count")
