"""The engine under `operations.Operations`: run a callable off the GUI thread, get the result
or the exception back on the GUI thread.

Views never use it directly: they run ops (`ui/operations.py`), which decide the queue. Here
`serial="key"` queues work that must not overlap (database writes share one key), and
`latest="key"` makes a newer task of the same key supersede an older one, whose result is
then dropped and whose cache reads stop early. `urgent=True` is for what a person is waiting
to see (the first screen of a new filter): it runs on threads of its own, never queued behind
background work.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from desktop_app.cache.reading.turns import interrupted_when
from desktop_app.ui.relay import Relay

log = logging.getLogger(__name__)

T = TypeVar("T")

class TaskHandle(Generic[T]):
    """A submitted task: cancel it to drop its result. Its cache queries stop early; other
    work it does runs to completion."""

    def __init__(self, task_id: int, name: str) -> None:
        self.task_id = task_id
        self.name = name
        self._cancelled = threading.Event()
        self._done = threading.Event()

    def cancel(self) -> None:
        """Never call this task's callbacks; skip the work if it has not started yet, and stop
        its queries (EndUserQuery reads) if it has."""
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    @property
    def done(self) -> bool:
        """The task ran (or was skipped) and its outcome was handled on the GUI thread."""
        return self._done.is_set()


@dataclass(slots=True)
class _Job:
    handle: TaskHandle[Any]
    fn: Callable[[], Any]
    on_success: Callable[[Any], None]
    on_failure: Callable[[BaseException], None] | None
    serial: str | None
    latest: str | None
    urgent: bool = False
    outcome: tuple[bool, Any] = field(default=(False, None))


class _JobRunnable(QRunnable):
    def __init__(self, job: _Job, relay: Relay) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._job = job
        self._relay = relay

    def run(self) -> None:
        job = self._job
        if not job.handle.cancelled:
            try:
                with interrupted_when(job.handle._cancelled.is_set):
                    job.outcome = (True, job.fn())
            except BaseException as exc:  # noqa: BLE001 - every failure goes to on_failure
                job.outcome = (False, exc)
        self._relay.push(job.handle.task_id)  # a runner destroyed meanwhile: nobody to tell


class TaskRunner(QObject):
    """Runs callables on a private QThreadPool; callbacks always run on the GUI thread."""

    busy_changed = Signal(bool)
    # A failure nobody handled (no on_failure, or a callback that raised): the window shows it.
    unhandled_failure = Signal(str, object)

    def __init__(self, parent: QObject | None = None, max_threads: int = 3, urgent_threads: int = 2) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        # Urgent work gets threads of its own: background tasks that fill the pool (a facet
        # tally, a completion list, an export) never delay the first screen of a filter.
        self._urgent_pool = QThreadPool(self)
        self._urgent_pool.setMaxThreadCount(urgent_threads)
        self._urgent_pool.setExpiryTimeout(-1)  # kept: a keystroke never waits for a new thread
        self._relay = Relay()  # finished job ids, from the pool threads to the GUI thread
        self._relay.delivered.connect(self._deliver)
        self._ids = itertools.count(1)
        self._jobs: dict[int, _Job] = {}
        self._serial_busy: set[str] = set()
        self._serial_waiting: dict[str, deque[_Job]] = {}
        self._latest: dict[str, TaskHandle[Any]] = {}
        self._closed = False

    def run(
        self,
        fn: Callable[[], T],
        on_success: Callable[[T], None],
        on_failure: Callable[[BaseException], None] | None = None,
        *,
        serial: str | None = None,
        latest: str | None = None,
        urgent: bool = False,
        name: str = "",
    ) -> TaskHandle[T]:
        """Run `fn()` in the background and hand its result to `on_success` on the GUI thread.

        `serial`: tasks with the same key run one after another, in submission order.
        `latest`: a new task with the same key cancels the previous one (see `TaskHandle.cancel`).
        `urgent`: start at once on the urgent threads (short reads a person is waiting for).
        """
        handle: TaskHandle[T] = TaskHandle(next(self._ids), name or getattr(fn, "__name__", ""))
        if self._closed:
            handle.cancel()
            handle._done.set()
            return handle
        if latest is not None:
            previous = self._latest.get(latest)
            if previous is not None:
                previous.cancel()
            self._latest[latest] = handle
        job = _Job(handle, fn, on_success, on_failure, serial, latest, urgent)
        was_idle = not self._jobs
        self._jobs[handle.task_id] = job
        if serial is not None and serial in self._serial_busy:
            self._serial_waiting.setdefault(serial, deque()).append(job)
        else:
            self._start(job)
        if was_idle:
            self.busy_changed.emit(True)
        return handle

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    def unfinished_names(self) -> list[str]:
        """The names of the tasks submitted and not delivered yet (running or queued)."""
        return [job.handle.name for job in self._jobs.values()]

    def pending_count(self, serial: str | None = None) -> int:
        """Tasks not yet delivered, optionally only those of one serial queue."""
        return sum(1 for j in self._jobs.values() if serial is None or j.serial == serial)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel everything queued, wait for running work; True if the pool drained in time."""
        self._closed = True
        for job in self._jobs.values():
            job.handle.cancel()
        self._serial_waiting.clear()
        started = time.monotonic()
        drained = self._urgent_pool.waitForDone(timeout_ms)
        left_ms = max(0, timeout_ms - int((time.monotonic() - started) * 1000))
        return self._pool.waitForDone(left_ms) and drained

    def _start(self, job: _Job) -> None:
        if job.serial is not None:
            self._serial_busy.add(job.serial)
        (self._urgent_pool if job.urgent else self._pool).start(_JobRunnable(job, self._relay))

    @Slot(object)
    def _deliver(self, task_id: int) -> None:
        job = self._jobs.pop(task_id, None)
        if job is None:
            return
        if job.serial is not None:
            self._serial_busy.discard(job.serial)
            waiting = self._serial_waiting.get(job.serial)
            # Start the next write before running callbacks, so the queue never stalls on a
            # callback that raises and callbacks that enqueue more work keep their order.
            while waiting:
                nxt = waiting.popleft()
                if nxt.handle.cancelled:
                    self._finish_skipped(nxt)
                    continue
                self._start(nxt)
                break
        if job.latest is not None and self._latest.get(job.latest) is job.handle:
            del self._latest[job.latest]
        try:
            if not job.handle.cancelled:
                ok, payload = job.outcome
                self._call(job, ok, payload)
        finally:
            job.handle._done.set()
            if not self._jobs:
                self.busy_changed.emit(False)

    def _finish_skipped(self, job: _Job) -> None:
        self._jobs.pop(job.handle.task_id, None)
        job.handle._done.set()

    def _call(self, job: _Job, ok: bool, payload: Any) -> None:
        try:
            if ok:
                job.on_success(payload)
                return
            if job.on_failure is not None:
                job.on_failure(payload)
                return
            log.error("background task %r failed", job.handle.name, exc_info=payload)
            self.unhandled_failure.emit(job.handle.name, payload)
        except Exception as exc:  # a callback bug must not take the GUI thread down
            log.exception("callback of background task %r raised", job.handle.name)
            self.unhandled_failure.emit(job.handle.name, exc)
