"""TaskRunner: results and failures on the GUI thread, serial queues, superseded results."""

from __future__ import annotations

import threading

from pytestqt.qtbot import QtBot

from desktop_app.ui.tasks import TaskRunner


def test_success_is_delivered_on_the_gui_thread(qtbot: QtBot, tasks: TaskRunner) -> None:
    gui = threading.get_ident()
    seen: list[tuple[int, int, int]] = []

    def work() -> int:
        return threading.get_ident()

    tasks.run(work, lambda worker: seen.append((worker, threading.get_ident(), 1)))
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    worker, callback_thread, _ = seen[0]
    assert worker != gui
    assert callback_thread == gui


def test_failure_goes_to_on_failure_with_the_exception(qtbot: QtBot, tasks: TaskRunner) -> None:
    errors: list[BaseException] = []

    def boom() -> None:
        raise ValueError("bad filter")

    handle = tasks.run(boom, lambda _: None, errors.append)
    qtbot.waitUntil(lambda: handle.done, timeout=10_000)
    assert len(errors) == 1 and isinstance(errors[0], ValueError)
    assert str(errors[0]) == "bad filter"


def test_unhandled_failure_is_signalled_not_raised(qtbot: QtBot, tasks: TaskRunner) -> None:
    def boom() -> None:
        raise RuntimeError("nobody listens")

    with qtbot.waitSignal(tasks.unhandled_failure, timeout=10_000) as blocker:
        tasks.run(boom, lambda _: None, name="boom")
    assert blocker.args[0] == "boom"
    assert isinstance(blocker.args[1], RuntimeError)


def test_serial_tasks_never_overlap_and_keep_order(qtbot: QtBot, tasks: TaskRunner) -> None:
    running = threading.Lock()
    overlaps: list[int] = []
    order: list[int] = []
    delivered: list[int] = []

    def make(i: int):
        def work() -> int:
            if not running.acquire(blocking=False):
                overlaps.append(i)
                return i
            try:
                # Real work that takes a moment, so unserialised tasks would overlap.
                sum(range(20_000))
                order.append(i)
            finally:
                running.release()
            return i

        return work

    for i in range(12):
        tasks.run(make(i), delivered.append, serial="db-write")
    qtbot.waitUntil(lambda: len(delivered) == 12, timeout=10_000)
    assert overlaps == []
    assert order == list(range(12))
    assert delivered == list(range(12))


def test_latest_key_drops_the_superseded_result(qtbot: QtBot, tasks: TaskRunner) -> None:
    gate = threading.Event()
    results: list[str] = []

    def slow() -> str:
        gate.wait(5)
        return "old"

    first = tasks.run(slow, results.append, latest="count")
    second = tasks.run(lambda: "new", results.append, latest="count")
    qtbot.waitUntil(lambda: second.done, timeout=10_000)
    gate.set()
    qtbot.waitUntil(lambda: first.done, timeout=10_000)
    assert first.cancelled
    assert results == ["new"]
    assert not tasks.busy


def test_cancel_before_start_skips_the_work(qtbot: QtBot, tasks: TaskRunner) -> None:
    gate = threading.Event()
    ran: list[str] = []
    blocker = tasks.run(lambda: gate.wait(5), lambda _: ran.append("blocker"), serial="w")
    queued = tasks.run(lambda: ran.append("queued-work"), lambda _: ran.append("queued"), serial="w")
    queued.cancel()
    gate.set()
    qtbot.waitUntil(lambda: blocker.done and queued.done, timeout=10_000)
    assert ran == ["blocker"]


def test_busy_changed_reports_idle_after_the_last_task(qtbot: QtBot, tasks: TaskRunner) -> None:
    states: list[bool] = []
    tasks.busy_changed.connect(states.append)
    tasks.run(lambda: 1, lambda _: None)
    tasks.run(lambda: 2, lambda _: None)
    qtbot.waitUntil(lambda: not tasks.busy, timeout=10_000)
    assert states == [True, False]
