"""The per-account, per-minute request budget of the `/v1/` endpoints (emulator clock).

Windows are aligned to whole minutes of the emulator clock (Rack::Attack style): the budget
resets at `X-Rate-Limit-Reset`, the unix second the next minute starts. No Retry-After header:
the real service documents none.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from desktop_app.clock import Clock

WINDOW_SECONDS = 60


@dataclass(frozen=True, slots=True)
class RateDecision:
    """Whether one request may go ahead, and the numbers for the X-Rate-Limit-* headers."""

    allowed: bool
    limit: int
    remaining: int
    reset: int

    def headers(self) -> tuple[tuple[str, str], ...]:
        return (
            ("X-Rate-Limit-Limit", str(self.limit)),
            ("X-Rate-Limit-Remaining", str(self.remaining)),
            ("X-Rate-Limit-Reset", str(self.reset)),
        )


class MinuteBudget:
    """A fixed-window counter; thread-safe."""

    def __init__(self, limit: int, clock: Clock) -> None:
        if limit < 1:
            raise ValueError("a rate limit allows at least one request per minute")
        self.limit = limit
        self._clock = clock
        self._window = -1
        self._used = 0
        self._lock = threading.Lock()

    def take(self) -> RateDecision:
        """Spend one request if any is left in the current minute."""
        window = int(self._clock.now()) // WINDOW_SECONDS
        reset = (window + 1) * WINDOW_SECONDS
        with self._lock:
            if window != self._window:
                self._window, self._used = window, 0
            if self._used >= self.limit:
                return RateDecision(False, self.limit, 0, reset)
            self._used += 1
            return RateDecision(True, self.limit, self.limit - self._used, reset)

    def peek(self) -> RateDecision:
        """The numbers right now, spending nothing (for an injected 429)."""
        window = int(self._clock.now()) // WINDOW_SECONDS
        with self._lock:
            used = self._used if window == self._window else 0
        return RateDecision(used < self.limit, self.limit, max(0, self.limit - used),
                            (window + 1) * WINDOW_SECONDS)
