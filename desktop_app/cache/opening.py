"""The cache while it opens: an explicit future of the `Cache`, ready or failed.

Importing SQLModel and SQLAlchemy and opening the `Cache` (schema check, query indexes) takes
about two seconds, longer than the first paint should. The session builds its window over a
`ReadPool` (plain reads) and a `CacheFuture`, paints, and then calls `open()` on a worker
thread. Whoever needs the `Cache` itself asks the future for it: worker threads wait with
`result()`, the window is told by `add_done_callback`. Nothing stands in for the cache, so no
call can wait by accident: a read of the future's state never blocks.

Subscribers to the change broadcast may subscribe before the open; they are attached by it, so
no broadcast of the first writes is missed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.cancellation import Cancelled

if TYPE_CHECKING:
    from desktop_app.cache.changes import CacheChanges
    from desktop_app.cache.store import Cache

log = logging.getLogger(__name__)

Subscriber = Callable[["CacheChanges"], None]


class CacheClosed(Cancelled):
    """The cache was closed (the app is quitting) before or while it opened."""


class CacheFuture:
    """The `Cache` at `path`, once `open()` (on a worker thread) has opened it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._settled = threading.Event()  # opened, failed or closed
        self._cache: Cache | None = None
        self._error: BaseException | None = None
        self._closed = False
        self._done_callbacks: list[Callable[[CacheFuture], None]] = []
        self._waiting: list[Subscriber] = []  # subscribed before the open, attached by it
        self._detach: dict[int, Callable[[], None]] = {}

    @classmethod
    def of(cls, cache: Cache) -> CacheFuture:
        """A future that is ready at once (the command line and tests open caches directly)."""
        future = cls(cache.path)
        future._settle(cache, None)
        return future

    # --- state: never blocks ---------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self._cache is not None

    @property
    def failed(self) -> bool:
        """The open raised, or the future was closed before it opened."""
        return self._settled.is_set() and self._cache is None

    @property
    def error(self) -> BaseException | None:
        return self._error

    # --- the open ----------------------------------------------------------------------------

    def open(self) -> Cache:
        """Open the cache (worker thread: imports SQLModel, migrates, builds indexes)."""
        from desktop_app.cache.store import Cache

        try:
            cache = Cache.open(self.path)
        except BaseException as exc:
            self._settle(None, exc)
            raise
        if not self._settle(cache, None):  # the session ended while we opened: nobody will use it
            cache.close()
            raise CacheClosed("the cache was closed while it opened")
        return cache

    def _settle(self, cache: Cache | None, error: BaseException | None) -> bool:
        """Record the outcome once; False when the future was closed first."""
        with self._lock:
            if self._closed or self._settled.is_set():
                return False
            self._cache, self._error = cache, error
            if cache is not None:
                for callback in self._waiting:
                    self._detach[id(callback)] = cache.subscribe(callback)
            self._waiting = []
            callbacks, self._done_callbacks = self._done_callbacks, []
            self._settled.set()
        self._run_callbacks(callbacks)
        return True

    def _run_callbacks(self, callbacks: list[Callable[[CacheFuture], None]]) -> None:
        for callback in callbacks:
            try:
                callback(self)
            except Exception:  # one listener's bug must not keep the others from hearing
                log.exception("a cache-ready callback raised")

    # --- getting the cache ---------------------------------------------------------------------

    def result(self, timeout: float | None = None) -> Cache:
        """The open cache (waits: worker threads only); raises the open's error, `CacheClosed`
        once the future is closed, or TimeoutError."""
        if not self._settled.wait(timeout):
            raise TimeoutError("the cache is still opening")
        with self._lock:
            if self._cache is not None:
                return self._cache
            if self._closed:
                raise CacheClosed("the cache was closed (the app is quitting)")
            raise RuntimeError("the cache could not be opened") from self._error

    def add_done_callback(self, callback: Callable[[CacheFuture], None]) -> None:
        """`callback(future)` once the open ends (ready, failed or closed): on the opening
        thread, or at once on this one when it already has. The UI hands it to the GUI thread."""
        with self._lock:
            if not self._settled.is_set():
                self._done_callbacks.append(callback)
                return
        self._run_callbacks([callback])

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """`Cache.subscribe`, also before the open (attached when it opens)."""
        with self._lock:
            if self._cache is not None:
                self._detach[id(callback)] = self._cache.subscribe(callback)
            elif not self._settled.is_set():
                self._waiting.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._waiting:
                    self._waiting.remove(callback)
                detach = self._detach.pop(id(callback), None)
            if detach is not None:
                detach()

        return unsubscribe

    def close(self) -> None:
        """Close the cache if it opened; if it is still opening, it closes when it does, and
        every call waiting for it gives up at once (a quit never waits on a slow open)."""
        with self._lock:
            already = self._closed
            self._closed = True
            cache, self._cache = self._cache, None
            self._waiting.clear()
            self._detach.clear()
            callbacks, self._done_callbacks = self._done_callbacks, []
            if not self._settled.is_set():
                self._error = CacheClosed("the cache was closed before it finished opening")
            self._settled.set()
        if not already:
            self._run_callbacks(callbacks)
        if cache is not None:
            cache.close()
