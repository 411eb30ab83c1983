"""Failures the emulator injects on purpose: latency, error statuses, broken connections, offline.

A fault is decided before the request is handled, so a failed request changed nothing, except
the `*_after_write` kinds: the write is applied and then the answer is lost (reset or cut
short), the nasty case where the server did it but the client never heard.
"""

from __future__ import annotations

import enum
import random
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class FaultKind(enum.StrEnum):
    """What an injected failure looks like to a raw HTTP client."""

    SERVER_ERROR = "500"  # 500 with an error_list body
    UNAVAILABLE = "503"  # 503 with the HTML page of a load balancer, not JSON
    RATE_LIMITED = "429"  # a 429 burst with X-Rate-Limit-* headers, budget or not
    RESET = "reset"  # the connection is reset (RST) before any answer
    TRUNCATED = "truncated"  # Content-Length promises more than is sent, then close
    MALFORMED = "malformed"  # 200 with a body that is not valid JSON
    TIMEOUT = "timeout"  # no answer at all until `hang_seconds` pass, then close
    RESET_AFTER_WRITE = "reset_after_write"  # the write is applied, then the connection reset
    TRUNCATED_AFTER_WRITE = "truncated_after_write"  # the write is applied, the answer cut short

    @property
    def after_write(self) -> bool:
        return self in (FaultKind.RESET_AFTER_WRITE, FaultKind.TRUNCATED_AFTER_WRITE)


# `fail(rate)` without kinds: everything but the slow `timeout`.
DEFAULT_KINDS = frozenset(FaultKind) - {FaultKind.TIMEOUT}


@dataclass(frozen=True, slots=True)
class _Queued:
    kind: FaultKind
    path_prefix: str | None


@dataclass(frozen=True, slots=True)
class Tamper:
    """One field of an answer's first end user replaced by any JSON value (`tamper_next`)."""

    field: str
    value: Any
    path_prefix: str | None


def _applies(kind: FaultKind, method: str) -> bool:
    return method in WRITE_METHODS if kind.after_write else True


class FaultPlan:
    """What to inject, switchable while the emulator runs; thread-safe.

    Faults apply to `/v1/` and `/oauth/token` requests, never to the `/_emulator/` admin surface.
    """

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._latency = 0.0
        self._rate = 0.0
        self._kinds: tuple[FaultKind, ...] = ()
        self._prefix: str | None = None
        self._queue: deque[_Queued] = deque()
        self._counts: Counter[FaultKind] = Counter()
        self._released = threading.Event()
        self._go_offline: Callable[[], None] | None = None
        self._go_online: Callable[[], None] | None = None
        self._offline = False
        self._online_timer: threading.Timer | None = None
        self.hang_seconds = 30.0  # how long a `timeout` fault holds a request before closing
        # the Retry-After header of an injected 429, verbatim (None: none, as the service)
        self.retry_after: str | None = None
        self._repeated_rows = 0
        self._tampers: deque[Tamper] = deque()

    # -- switching -----------------------------------------------------------------------

    def latency(self, seconds: float) -> None:
        """Delay every request by `seconds` (real time) before handling it."""
        with self._lock:
            self._latency = max(0.0, float(seconds))

    def repeat_rows(self, rows: int) -> None:
        """Each list page repeats the last `rows` rows of the page before it, as an offset-paged
        service does while rows keep arriving ahead of the reader. 0 stops it."""
        with self._lock:
            self._repeated_rows = max(0, int(rows))

    def repeated_rows(self) -> int:
        return self._repeated_rows

    def fail(
        self, rate: float, kinds: Iterable[str] | None = None, *, path_prefix: str | None = None
    ) -> None:
        """Fail a `rate` share (0..1) of requests with a kind drawn from `kinds`.

        `path_prefix` limits it to matching paths (e.g. "/v1/end_users"). Rate 0 stops it.
        """
        chosen = tuple(sorted(FaultKind(k) for k in (DEFAULT_KINDS if kinds is None else kinds)))
        if not 0.0 <= rate <= 1.0:
            raise ValueError("a failure rate is between 0 and 1")
        with self._lock:
            self._rate = float(rate) if chosen else 0.0
            self._kinds = chosen
            self._prefix = path_prefix

    def tamper_next(self, field: str, value: Any, count: int = 1, *,
                    path_prefix: str | None = None) -> None:
        """In the next `count` successful JSON answers (of paths under `path_prefix`), set
        `field` of the first end user (of a list, or the object) to `value`, any JSON value:
        the answer of a service or a proxy that sends what the client must not believe."""
        with self._lock:
            self._tampers.extend([Tamper(field, value, path_prefix)] * count)

    def take_tamper(self, path: str) -> Tamper | None:
        """The tamper for an answer of `path`, if one is queued (used by the server)."""
        with self._lock:
            for index, tamper in enumerate(self._tampers):
                if tamper.path_prefix is None or path.startswith(tamper.path_prefix):
                    del self._tampers[index]
                    return tamper
        return None

    def fail_next(self, kind: str, count: int = 1, *, path_prefix: str | None = None) -> None:
        """Fail the next `count` matching requests with `kind`, whatever the rate."""
        queued = _Queued(FaultKind(kind), path_prefix)
        with self._lock:
            self._queue.extend([queued] * count)

    def offline(self, for_seconds: float | None = None) -> None:
        """Close the listening socket and drop open connections; back by itself after
        `for_seconds` (real time) if given."""
        with self._lock:
            if self._online_timer is not None:
                self._online_timer.cancel()
                self._online_timer = None
            if for_seconds is not None:
                self._online_timer = threading.Timer(for_seconds, self.online)
                self._online_timer.daemon = True
            go_offline, timer, self._offline = self._go_offline, self._online_timer, True
        if go_offline is not None:
            go_offline()
        if timer is not None:
            timer.start()

    def online(self) -> None:
        """Listen again on the same port."""
        with self._lock:
            if self._online_timer is not None:
                self._online_timer.cancel()
                self._online_timer = None
            go_online, was_offline, self._offline = self._go_online, self._offline, False
        if was_offline and go_online is not None:
            go_online()

    def clear(self) -> None:
        """No latency, no failures, nothing queued, online; held requests are let go.

        The counters stay (see `reset_counts`)."""
        with self._lock:
            self._latency = 0.0
            self._rate = 0.0
            self._kinds = ()
            self._prefix = None
            self._queue.clear()
            self._tampers.clear()
            self.retry_after = None
            self._repeated_rows = 0
            self._released.set()
            self._released = threading.Event()
        self.online()

    # -- what it did ---------------------------------------------------------------------

    @property
    def is_offline(self) -> bool:
        return self._offline

    def counts(self) -> dict[str, int]:
        """How many faults of each kind were injected so far."""
        with self._lock:
            return {kind.value: n for kind, n in self._counts.items()}

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()

    # -- used by the server --------------------------------------------------------------

    def attach(self, go_offline: Callable[[], None], go_online: Callable[[], None]) -> None:
        """Connect the offline/online switch to a server."""
        self._go_offline, self._go_online = go_offline, go_online

    def current_latency(self) -> float:
        return self._latency

    def pick(self, method: str, path: str) -> FaultKind | None:
        """Decide the fault for one request (and count it), or None."""
        with self._lock:
            for index, queued in enumerate(self._queue):
                if (queued.path_prefix is None or path.startswith(queued.path_prefix)) and _applies(
                    queued.kind, method
                ):
                    del self._queue[index]
                    self._counts[queued.kind] += 1
                    return queued.kind
            if not self._rate or (self._prefix is not None and not path.startswith(self._prefix)):
                return None
            if self._random.random() >= self._rate:
                return None
            candidates = [kind for kind in self._kinds if _applies(kind, method)]
            if not candidates:
                return None
            kind = self._random.choice(candidates)
            self._counts[kind] += 1
            return kind

    def hold(self) -> None:
        """Block a `timeout` request until `hang_seconds` pass or the plan is cleared/stopped."""
        self.hold_for(self.hang_seconds)

    def hold_for(self, seconds: float) -> None:
        """Wait `seconds` (latency), cut short when the plan is cleared or the emulator stops."""
        with self._lock:
            released = self._released
        released.wait(seconds)

    def release(self) -> None:
        """Let every held request go and forget a pending come-back (the emulator stops)."""
        with self._lock:
            self._released.set()
            self._released = threading.Event()
            if self._online_timer is not None:
                self._online_timer.cancel()
                self._online_timer = None
