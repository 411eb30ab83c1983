"""Which reads go first: the first screen after a keystroke runs while other reads pause, and
the reads of a task nobody waits for any more stop.

On two cores a count or a facet tally of a million rows, started for the previous filter, takes
the CPU (and, between rows, the interpreter lock) that the next keystroke's first screen needs.
SQLite calls a progress handler every few thousand virtual-machine steps of a statement; ours
pauses a read while an urgent one is wanted (`ReadTurns.hold`), stops it when its task was
cancelled (`interrupted_when`), and ends a time-boxed walk (`time_box`). A stopped statement
raises `sqlite3.OperationalError("interrupted")`; a paused one simply continues later, so no
read is ever repeated or left half-done.
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

HOLD_LIMIT_S = 1.0  # a hold that is never released stops pausing other reads after this long
CHECK_STEPS = 20_000  # VM steps between checks of an ordinary read (well under a millisecond)
TIME_BOX_STEPS = 1000  # ... of a time-boxed walk, which looks at the clock more often
_WAIT_SLICE_S = 0.05  # a paused read looks at its cancel check this often

_local = threading.local()  # per thread: cancel check, urgent depth, time-box deadline


@contextmanager
def interrupted_when(check: Callable[[], bool]) -> Iterator[None]:
    """Reads on this thread stop (OperationalError "interrupted") soon after `check()` is true."""
    previous = getattr(_local, "cancelled", None)
    _local.cancelled = check
    try:
        yield
    finally:
        _local.cancelled = previous


def interrupted() -> bool:
    """True when this thread's reads were told to stop (tells a cancel from a time-box end)."""
    check = getattr(_local, "cancelled", None)
    return check is not None and check()


class ReadTurns:
    """Lets urgent reads run alone: while a hold is on, every other read pauses at its next check.

    `hold()` (on any thread, typically the GUI thread as it submits the first-screen query)
    starts a pause that ends when its release is called or after HOLD_LIMIT_S; reads inside
    `urgent()` never pause. `checking(raw)` wraps every read with the progress handler.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._holds: dict[int, float] = {}  # hold id -> monotonic time it stops pausing reads
        self._ids = itertools.count(1)

    def hold(self, limit_s: float = HOLD_LIMIT_S) -> Callable[[], None]:
        """Pause reads outside `urgent()` until the returned callable is called (idempotent)."""
        with self._changed:
            hold_id = next(self._ids)
            self._holds[hold_id] = time.monotonic() + limit_s

        def release() -> None:
            with self._changed:
                if self._holds.pop(hold_id, None) is not None:
                    self._changed.notify_all()

        return release

    @property
    def holding(self) -> bool:
        with self._changed:
            self._expire(time.monotonic())
            return bool(self._holds)

    @contextmanager
    def urgent(self) -> Iterator[None]:
        """Reads on this thread inside the block never pause for a hold."""
        _local.urgent = getattr(_local, "urgent", 0) + 1
        try:
            yield
        finally:
            _local.urgent -= 1

    @contextmanager
    def checking(self, raw: sqlite3.Connection) -> Iterator[None]:
        """Check for pauses and cancels while `raw` runs statements on this thread."""
        raw.set_progress_handler(self._check, CHECK_STEPS)
        try:
            yield
        finally:
            raw.set_progress_handler(None, 0)  # pooled connections also serve the writer

    @contextmanager
    def time_box(self, raw: sqlite3.Connection, seconds: float) -> Iterator[None]:
        """Statements in the block stop ("interrupted") once `seconds` have passed."""
        previous = getattr(_local, "deadline", None)
        _local.deadline = time.perf_counter() + seconds
        raw.set_progress_handler(self._check, TIME_BOX_STEPS)
        try:
            yield
        finally:
            _local.deadline = previous
            raw.set_progress_handler(self._check, CHECK_STEPS)

    def _check(self) -> int:
        """SQLite's progress handler: non-zero stops the statement."""
        check = getattr(_local, "cancelled", None)
        if check is not None and check():
            return 1
        deadline = getattr(_local, "deadline", None)
        if deadline is not None and time.perf_counter() > deadline:
            return 1
        if self._holds and not getattr(_local, "urgent", 0):
            return self._wait(check)
        return 0

    def _wait(self, check: Callable[[], bool] | None) -> int:
        with self._changed:
            while True:
                now = time.monotonic()
                self._expire(now)
                if not self._holds:
                    return 0
                if check is not None and check():
                    return 1
                self._changed.wait(min(_WAIT_SLICE_S, min(self._holds.values()) - now))

    def _expire(self, now: float) -> None:
        for hold_id in [h for h, until in self._holds.items() if until <= now]:
            del self._holds[hold_id]
