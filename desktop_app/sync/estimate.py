"""How long a sync phase with a known total has left, rate-limit waits included."""

from __future__ import annotations

import time
from collections.abc import Callable

MIN_SAMPLE_S = 1.0  # before this much wall time, a rate says nothing yet


class PhaseEstimate:
    """Rate and time left for one phase (push: edits out of the outbox size).

    The rate is measured over wall time since the phase began, so every wait for the service's
    rate limit already counts. Before the first wait the measured rate can be far above what
    the limit allows: when the service said its limit (requests a minute), the estimate is never
    below what the requests still to come need at that limit.
    """

    def __init__(self, total: int | None, *, requests: Callable[[], int] = lambda: 0,
                 limit_per_minute: Callable[[], int | None] = lambda: None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self._requests = requests
        self._limit = limit_per_minute
        self._monotonic = monotonic
        self._started = monotonic()
        self._requests0 = requests()

    def rate_and_eta(self, done: int) -> tuple[float | None, float | None]:
        """(items a second, seconds left); None where nothing can be said honestly."""
        elapsed = self._monotonic() - self._started
        if done <= 0 or elapsed < MIN_SAMPLE_S:
            return None, None
        rate = done / elapsed
        if self.total is None:
            return rate, None
        left = max(0, self.total - done)
        eta = left / rate
        limit = self._limit()
        spent = self._requests() - self._requests0
        if limit and spent > 0:
            eta = max(eta, left * (spent / done) * 60.0 / limit)
        return rate, eta
