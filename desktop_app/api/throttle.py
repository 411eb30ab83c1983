"""Pacing: the service's per-minute rate limit (X-Rate-Limit-* headers) and retry backoff."""

from __future__ import annotations

import enum
import logging
import math
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from desktop_app.clock import Clock

log = logging.getLogger(__name__)

# The docs only say "continue after a minute has passed" when a 429 carries no Reset header.
DEFAULT_REFUSAL_WAIT = 60.0
# A valid Retry-After is the service's own word and is honoured past `wait_max`, up to this.
RETRY_AFTER_MAX = 3_600.0
_DELTA_SECONDS = re.compile(r"[0-9]+", re.ASCII)  # RFC 9110: 1*DIGIT, no sign, no fraction
MIN_WAIT = 1.0
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0


class WaitReason(enum.StrEnum):
    """Why the client pauses before its next request."""

    EXHAUSTED = "exhausted"  # Remaining reached 0: wait for the window to reset
    REFUSED = "refused"  # the service answered 429


@dataclass(frozen=True, slots=True)
class RateLimitWait:
    """Handed to `WootricClient.on_rate_limit` just before the client sleeps."""

    seconds: float
    reason: WaitReason
    limit: int | None  # requests per minute, when the service said


RateLimitListener = Callable[[RateLimitWait], None]


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return int(number) if math.isfinite(number) else None  # "inf" escaped as OverflowError


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _date_header(headers: Mapping[str, str]) -> float | None:
    return _http_date(headers.get("date"))


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds a `Retry-After` asks for: delta-seconds or an HTTP-date (RFC 9110 10.2.3),
    the date measured from `now` (the answer's Date when it has one); a date already past is 0.
    None for anything else, a negative or fractional number included: the caller then goes by
    the rate-limit headers, as without one."""
    if value is None:
        return None
    text = value.strip()
    if _DELTA_SECONDS.fullmatch(text):
        return min(float(text), RETRY_AFTER_MAX)  # float: no digit limit (a huge one is inf)
    if not text or text[0] in "+-" or text[0].isdigit():  # "-5", "1.5": no date either
        return None
    date = _http_date(text)
    if date is None:
        return None
    return min(max(0.0, date - now), RETRY_AFTER_MAX)


class RateLimitGate:
    """Remembers what the last answer said about the rate limit and makes the caller wait.

    Waits are computed as `Reset - Date` (both from the server, so immune to a skewed local
    clock) when both headers are present, else `Reset - clock.now()`, clamped to
    [1 s, wait_max], and spent through `clock.sleep`.
    """

    def __init__(self, clock: Clock, wait_max: float) -> None:
        self._clock = clock
        self._wait_max = max(MIN_WAIT, wait_max)
        self.limit: int | None = None
        self.remaining: int | None = None
        self._resume_at: float | None = None  # local clock time when Remaining==0 ends

    def _seconds_to_reset(self, headers: Mapping[str, str]) -> float:
        reset = _header_int(headers, "x-rate-limit-reset")
        if reset is None:
            seconds = DEFAULT_REFUSAL_WAIT
        elif reset < 1_000_000_000:  # a relative number of seconds, not a unix time
            seconds = float(reset)
        else:
            date = _date_header(headers)
            seconds = reset - (date if date is not None else self._clock.now())
        return min(self._wait_max, max(MIN_WAIT, seconds))

    def observe(self, headers: Mapping[str, str]) -> None:
        """Read the X-Rate-Limit-* headers of any answer (endpoints without them are unlimited)."""
        remaining = _header_int(headers, "x-rate-limit-remaining")
        limit = _header_int(headers, "x-rate-limit-limit")
        if limit is not None:
            self.limit = limit
        if remaining is None:
            return
        self.remaining = remaining
        if remaining <= 0:
            self._resume_at = self._clock.now() + self._seconds_to_reset(headers)
        else:
            self._resume_at = None

    def refusal_wait(self, headers: Mapping[str, str]) -> RateLimitWait:
        """How long to wait after a 429 before asking again: a valid Retry-After (at least
        1 s, and honoured beyond `wait_max`), else the rate-limit headers as above."""
        limit = _header_int(headers, "x-rate-limit-limit")
        if limit is not None:
            self.limit = limit
        self._resume_at = None
        date = _date_header(headers)
        told = parse_retry_after(headers.get("retry-after"),
                                 date if date is not None else self._clock.now())
        if told is not None:
            return RateLimitWait(max(MIN_WAIT, told), WaitReason.REFUSED, self.limit)
        if "retry-after" in headers:
            log.info("ignoring an unusable Retry-After: %r", headers["retry-after"][:40])
        return RateLimitWait(self._seconds_to_reset(headers), WaitReason.REFUSED, self.limit)

    def pending_wait(self) -> RateLimitWait | None:
        """The wait owed before the next request because Remaining reached 0, if any."""
        if self._resume_at is None:
            return None
        seconds = self._resume_at - self._clock.now()
        self._resume_at = None
        self.remaining = None
        if seconds <= 0:
            return None
        return RateLimitWait(seconds, WaitReason.EXHAUSTED, self.limit)

    def spend(self, wait: RateLimitWait, listener: RateLimitListener | None) -> None:
        """Tell the listener, then sleep on the clock."""
        log.info("rate limit (%s): waiting %.1f s", wait.reason.value, wait.seconds)
        if listener is not None:
            try:
                listener(wait)
            except Exception:  # a UI callback must not break a sync
                log.exception("on_rate_limit callback failed")
        self._clock.sleep(wait.seconds)


class Backoff:
    """Capped exponential backoff with full jitter, slept on the clock."""

    def __init__(
        self, clock: Clock, *, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP,
        rng: random.Random | None = None,
    ) -> None:
        self._clock = clock
        self._base = base
        self._cap = cap
        self._rng = rng or random.Random()

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the `attempt`-th failed attempt (1-based)."""
        return self._rng.uniform(0.0, min(self._cap, self._base * 2 ** (attempt - 1)))

    def sleep(self, attempt: int) -> float:
        seconds = self.delay(attempt)
        self._clock.sleep(seconds)
        return seconds
