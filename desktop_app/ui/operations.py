"""The window's one way to run work off the GUI thread (in the spirit of Anki's QueryOp and
CollectionOp): views say what to do and what to do with the answer, never how.

- `query(fn, done)`: a read of the plain query side (`EndUserQuery`, a `ReadPool`); runs at
  once, whether the cache is open or not.
- `read(fn, done)`: `fn(cache)` reads through the `Cache` (outbox, conflicts, one end user);
  it runs as soon as the cache is open, on a worker, so the GUI thread never waits for it.
  Until then it waits here, not on a worker: ops waiting for the open never fill the pool the
  open itself runs on.
- `write(fn, done)`: `fn(cache)` writes. Writes run one after another in submission order, and
  after each one the undo state is read again and broadcast (`undo_state_changed`), so no view
  refreshes the Undo and Redo actions by hand.
- `work(fn, done)`: anything else slow (the network, a file): no cache involved.

`done` runs on the GUI thread with the typed result. A failure goes to `failed` when the caller
passes one (to restore what it changed in the window); otherwise to the one failure renderer
(`failure_shown`): a cancel is silent, a `UserFacingError` shows its own words.
`latest="key"` lets a newer op of the same key drop an older one's result (an old filter's
count never overwrites a newer one) and stop its cache reads; `urgent` is for the first screen
of a filter, on threads of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QObject, Signal

from desktop_app.cancellation import Cancelled
from desktop_app.ui.relay import Relay
from desktop_app.ui.tasks import TaskHandle, TaskRunner

if TYPE_CHECKING:
    from desktop_app.cache.opening import CacheFuture
    from desktop_app.cache.store import Cache

log = logging.getLogger(__name__)

T = TypeVar("T")
Failure = Callable[[BaseException], None]

WRITE_QUEUE = "db-write"  # the serial key every database write shares


def log_failure(exc: BaseException) -> None:
    """For reads whose failure the person need not hear about (a facet count of a filter being
    typed): logged, not shown."""
    if not isinstance(exc, Cancelled):
        log.warning("background read failed: %s", exc)


class Operations(QObject):
    """Runs a window's ops on the app's `TaskRunner`, handing cache ops the open `Cache`."""

    # (name, error) of a failure no caller handled: the window shows it (one renderer).
    failure_shown = Signal(str, object)
    # UndoState after every write and on `refresh_undo_state()`, on the GUI thread.
    undo_state_changed = Signal(object)

    def __init__(self, tasks: TaskRunner, cache: CacheFuture | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._cache = cache  # None for windows without an account yet (sign-in)
        self._undo_key = f"undo-{id(self)}"
        # Cache ops asked for before the open ended, in order: (latest key, submit).
        self._deferred: list[tuple[str | None, Callable[[], object]]] = []
        self._open_ended = cache is None or cache.ready
        if not self._open_ended and cache is not None:
            settled = Relay(parent=self)  # the open ends on a worker; the queue is ours
            settled.delivered.connect(self._open_settled)
            cache.add_done_callback(settled.push)

    @property
    def tasks(self) -> TaskRunner:
        """The runner underneath: for the session's bookkeeping (busy, shutdown), not for views."""
        return self._tasks

    @property
    def cache_ready(self) -> bool:
        return self._cache is not None and self._cache.ready

    def query(self, fn: Callable[[], T], done: Callable[[T], None], *, failed: Failure | None = None,
              latest: str | None = None, serial: str | None = None, urgent: bool = False,
              name: str) -> TaskHandle[T]:
        return self._tasks.run(fn, done, self._failure(name, failed), latest=latest, serial=serial,
                               urgent=urgent, name=name)

    def work(self, fn: Callable[[], T], done: Callable[[T], None], *, failed: Failure | None = None,
             latest: str | None = None, name: str) -> TaskHandle[T]:
        return self._tasks.run(fn, done, self._failure(name, failed), latest=latest, name=name)

    def read(self, fn: Callable[[Cache], T], done: Callable[[T], None], *, failed: Failure | None = None,
             latest: str | None = None, name: str) -> None:
        future = self._future()
        on_failure = self._failure(name, failed)
        self._when_open(latest, lambda: self._tasks.run(lambda: fn(future.result()), done, on_failure,
                                                        latest=latest, name=name))

    def write(self, fn: Callable[[Cache], T], done: Callable[[T], None], *, failed: Failure | None = None,
              name: str) -> None:
        future = self._future()
        on_failure = self._failure(name, failed)

        def succeeded(result: T) -> None:
            try:
                done(result)
            finally:
                self.refresh_undo_state()

        def failed_too(exc: BaseException) -> None:
            try:
                on_failure(exc)
            finally:
                self.refresh_undo_state()  # a refused write may still have changed nothing, or much

        self._when_open(None, lambda: self._tasks.run(lambda: fn(future.result()), succeeded, failed_too,
                                                      serial=WRITE_QUEUE, name=name))

    def refresh_undo_state(self) -> None:
        """Read what undo and redo would do from the cache's edit history, then broadcast it.

        The history is the only record of it: every read reflects a committed state, and the
        newest read supersedes older ones (`latest`), so whichever order commits, change
        broadcasts and callbacks arrive in, the read after the last commit names it right."""
        if self._cache is None:
            return
        self.read(lambda cache: cache.undo_state(), self.undo_state_changed.emit, failed=log_failure,
                  latest=self._undo_key, name="undo state")

    @property
    def waiting_for_cache(self) -> int:
        """Cache ops asked for before the open ended, waiting here (not on a worker)."""
        return len(self._deferred)

    def _when_open(self, latest: str | None, submit: Callable[[], object]) -> None:
        """Submit now, or once the open has ended (a failed open then fails each op at once)."""
        if self._open_ended:
            submit()
            return
        if latest is not None:  # a newer op of the key replaces the older one still waiting
            self._deferred = [(key, job) for key, job in self._deferred if key != latest]
        self._deferred.append((latest, submit))

    def _open_settled(self, _future: object) -> None:
        # Only here, on the GUI thread, does the queue end: an op asked for between the open's
        # end and this call still queues behind the older ones, so writes keep their order.
        self._open_ended = True
        deferred, self._deferred = self._deferred, []
        for _latest, submit in deferred:
            submit()

    def _future(self) -> CacheFuture:
        if self._cache is None:
            raise RuntimeError("this window has no cache: it runs no cache ops")
        return self._cache

    def _failure(self, name: str, failed: Failure | None) -> Failure:
        if failed is not None:
            return failed
        return lambda exc: self._render(name, exc)

    def _render(self, name: str, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            return
        self.failure_shown.emit(name, exc)
