"""The client's waits (rate limits, backoff), which a caller on another thread can cut short."""

from __future__ import annotations

import threading

from desktop_app.api.errors import WaitInterrupted
from desktop_app.clock import Clock, SystemClock

SLICE_S = 0.25  # a wait on a clock other than the wall clock checks for an interrupt this often


class InterruptibleWaits:
    """A clock whose sleeps end at once, raising WaitInterrupted, after `interrupt()`.

    A rate limit can make the client wait up to two minutes; cancelling a sync or quitting the
    app must not wait with it. Interrupts stay in force until `allow()` (the next run).
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._interrupted = threading.Event()

    def now(self) -> float:
        return self._clock.now()

    def sleep(self, seconds: float) -> None:
        if isinstance(self._clock, SystemClock):
            if self._interrupted.wait(max(0.0, seconds)):
                raise WaitInterrupted("the wait was cancelled")
            return
        # Another clock (a scaled one in tests) sleeps in slices of its own time.
        end = self._clock.now() + seconds
        while not self._interrupted.is_set():
            left = end - self._clock.now()
            if left <= 0:
                return
            self._clock.sleep(min(left, SLICE_S))
        raise WaitInterrupted("the wait was cancelled")

    def interrupt(self) -> None:
        """End the current wait and every later one until `allow()`; safe from any thread."""
        self._interrupted.set()

    def allow(self) -> None:
        self._interrupted.clear()
