"""Process-wide settings that keep the window responsive while worker threads compute.

Python threads share one interpreter lock and one garbage collector. A worker (a sync, a
query) can hold the first while Qt waits to call into Python to paint a cell, and any thread's
allocations can set off a full collection of the second, which stops every thread while it
visits the whole heap. Measured during a first sync of 20,000 end users beside a scrolling
table (`benchmarks/bench_ui.py --sync-users`): a dozen full collections of 4-50 ms each.
"""

from __future__ import annotations

import gc
import logging
import sys
import time

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger(__name__)

# How long a thread may keep the interpreter lock while another waits for it (CPython's default
# is 5 ms). Every call from Qt into Python (a painted cell, a slot) takes the lock; while a
# worker computes, each take could wait the whole interval.
GUI_SWITCH_INTERVAL_S = 0.001
# Young-generation collections before a full one (CPython's default is 10). The app's own data
# is bounded (a row cache, a page of results) and holds few reference cycles, so full passes
# are rare on purpose and happen on a timer instead, at a moment of the app's choosing.
FULL_COLLECTION_THRESHOLD = 1000
FULL_COLLECTION_INTERVAL_MS = 5 * 60 * 1000


def favour_the_gui_thread() -> None:
    """Let the GUI thread take the interpreter lock back soon, and make full collections rare."""
    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
    young, middle, _full = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_THRESHOLD)


def settle_heap() -> None:
    """Take what start-up built out of the garbage collector's full passes (once the window is up).

    A full pass visits every tracked object: with the start-up heap in it (modules, Qt
    wrappers, the demo service's end users) one took 50-130 ms. Only young objects are
    collected first: a full collection here would delay the first paint as long.
    """
    gc.collect(1)
    gc.freeze()


def collect_full() -> float:
    """One full collection now; returns its seconds (logged, so a slow one can be seen)."""
    started = time.perf_counter()
    found = gc.collect()
    seconds = time.perf_counter() - started
    log.debug("full garbage collection: %d objects in %.0f ms", found, seconds * 1000)
    return seconds


def schedule_full_collections(parent: QObject, interval_ms: int = FULL_COLLECTION_INTERVAL_MS) -> QTimer:
    """Collect reference cycles every `interval_ms` on the GUI thread, owned by `parent`."""
    timer = QTimer(parent)
    timer.setObjectName("full-garbage-collection")
    timer.timeout.connect(collect_full)
    timer.start(interval_ms)
    return timer
