"""Pacing the sync worker, so that a window in the same process keeps the interpreter lock."""

from __future__ import annotations

import time
from collections.abc import Callable

# Beside a window the worker computes at most this share of the time. Against a real service
# the wait for each answer alone keeps it below that, so pacing only ever slows a sync that is
# bound by its own parsing and writing (a fast local service, the embedded demo emulator).
SHARE_BESIDE_A_WINDOW = 0.25
MAX_REST_S = 0.25  # one rest never lasts longer: cancelling and the next page stay prompt


class Pacer:
    """Called by the worker between units of work (pages, pushes); rests when it computed a lot.

    Python threads take turns on one interpreter lock. A worker parsing and storing pages as
    fast as a local service hands them over holds it most of the time; the GUI thread then
    waits for it all through each paint, and on a busy machine every such wait also costs it
    its CPU. The pacer keeps the worker's own CPU time under `share` of the wall time since it
    last rested. `share` None: never rest (the command line, where nothing else is waiting).
    """

    def __init__(self, share: float | None, *,
                 sleep: Callable[[float], object] = time.sleep) -> None:
        if share is not None and not 0.0 < share <= 1.0:
            raise ValueError(f"a share of the time is in (0, 1], not {share!r}")
        self.share = share
        self._sleep = sleep
        self.rested_s = 0.0  # since begin(), for the log
        self._mark()

    def begin(self) -> None:
        """Start a run: measure afresh, on the worker thread."""
        self.rested_s = 0.0
        self._mark()

    def _mark(self) -> None:
        self._wall = time.perf_counter()
        self._cpu = time.thread_time()

    def __call__(self) -> None:
        if self.share is None:
            return
        computed = time.thread_time() - self._cpu
        rest = min(computed / self.share - (time.perf_counter() - self._wall), MAX_REST_S)
        if rest > 0.001:  # a shorter rest would cost more in thread switches than it gives
            self._sleep(rest)
            self.rested_s += rest
        self._mark()
