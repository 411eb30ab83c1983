"""Time as the app and the emulator see it; a scaled clock lets tests live through minutes fast."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the unix epoch."""
        ...

    def sleep(self, seconds: float) -> None:
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class ScaledClock:
    """A clock that runs `speed` times faster than the wall clock, optionally from `start`.

    Share one instance between an in-process emulator and the client: a 60-second rate-limit
    window then passes in one real second for both, and nobody's notion of time disagrees.
    """

    def __init__(self, speed: float = 60.0, start: float | None = None) -> None:
        self.speed = speed
        self._real0 = time.monotonic()
        self._virt0 = time.time() if start is None else start
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._virt0 + self._offset + (time.monotonic() - self._real0) * self.speed

    def advance(self, seconds: float) -> None:
        """Jump forward without waiting."""
        with self._lock:
            self._offset += seconds

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.speed)
