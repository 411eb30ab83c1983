"""A cache that is still opening: the window reads and paints while the writer side loads.

Importing SQLModel and SQLAlchemy and opening the `Cache` (schema check, query indexes) takes
about two seconds, longer than the first paint should. The session builds its window over a
`CacheOpening` and a `ReadPool`, paints, and then calls `open()` on a worker thread. Until the
cache is open, subscribers are remembered and attached on open, and any other call waits for
the open to finish: only worker threads make such calls (edits, undo state, sync), so nothing
on the GUI thread waits unless a person acts within the first seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop_app.cache.changes import CacheChanges
    from desktop_app.cache.store import Cache

Subscriber = Callable[["CacheChanges"], None]


class CacheOpening:
    """Stands in for the `Cache` at `path` until `open()` (on a worker thread) has opened it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._opened = threading.Event()
        self._cache: Cache | None = None
        self._error: BaseException | None = None
        self._closed = False
        self._waiting: list[Subscriber] = []  # subscribed before the open, attached by it
        self._detach: dict[int, Callable[[], None]] = {}

    @property
    def is_open(self) -> bool:
        return self._cache is not None

    def open(self) -> Cache:
        """Open the cache (worker thread: imports SQLModel, migrates, builds indexes)."""
        from desktop_app.cache.store import Cache

        try:
            cache = Cache.open(self.path)
        except BaseException as exc:
            with self._lock:
                self._error = exc
            self._opened.set()
            raise
        with self._lock:
            if self._closed:  # the session ended while we opened: nobody will use it
                cache.close()
                self._error = RuntimeError("the cache was closed while it opened")
                self._opened.set()
                return cache
            self._cache = cache
            waiting, self._waiting = self._waiting, []
            for callback in waiting:
                self._detach[id(callback)] = cache.subscribe(callback)
        self._opened.set()
        return cache

    def wait(self, timeout: float | None = None) -> Cache:
        """The open cache; raises what the open raised, or TimeoutError."""
        if not self._opened.wait(timeout):
            raise TimeoutError("the cache is still opening")
        with self._lock:
            if self._cache is None:
                if self._closed:
                    raise RuntimeError("the cache was closed (the app is quitting)")
                raise RuntimeError("the cache could not be opened") from self._error
            return self._cache

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Like `Cache.subscribe`, also before the open (attached when it opens)."""
        with self._lock:
            if self._cache is not None:
                self._detach[id(callback)] = self._cache.subscribe(callback)
            else:
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
            self._closed = True
            cache, self._cache = self._cache, None
            self._waiting.clear()
            self._detach.clear()
            if cache is None and not self._opened.is_set():
                self._error = RuntimeError("the cache was closed before it finished opening")
        self._opened.set()
        if cache is not None:
            cache.close()

    def __getattr__(self, name: str) -> Any:
        # Everything else is the Cache's own API, once it is open.
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.wait(), name)
