"""One account's session: its window first, over plain reads; then its cache, then its sync.

`DeskApp` (ui/app.py) makes one per signed-in account and closes it on sign-out, on switching
accounts and on quit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

from desktop_app.accounts import AccountProfile, SignedInAccount
from desktop_app.logs import register_secrets
from desktop_app.ui.tasks import TaskHandle, TaskRunner

if TYPE_CHECKING:
    from desktop_app.api.client import WootricClient
    from desktop_app.emulator import Emulator
    from desktop_app.sync import SyncService
    from desktop_app.ui.main_window import MainWindow

log = logging.getLogger(__name__)

OPEN_CACHE_LATEST_MS = 3000  # the cache opens after the first paint, or after this at the latest
PAINT_GRACE_MS = 50
# Quitting ends within two seconds whatever the workers do: a cache open or a sync held up by
# another process's write lock (10 s a statement), a keyring that does not answer. Each stage
# has its bound (with Cache.close's 0.3 s and the app's task pool, 1.7 s if all are stuck):
SYNC_STOP_S = 0.5  # the sync thread, when no edit in its undo grace is to be sent first
CLOSE_WAIT_S = 0.5  # running queries and edits, to reach the window and the file


class DeskSession:
    """One account's parts: the window first, over plain reads; then the cache, then sync.

    Cold start paints the table from a `ReadPool` before SQLModel is even imported. Once the
    first rows are on screen, `open_in_background` opens the `Cache` (and reads the secret from
    the keyring when it is not known yet) on a worker thread; `cache_opened` then starts sync.
    """

    def __init__(self, profile: AccountProfile, tasks: TaskRunner, root: Path, *,
                 account: SignedInAccount | None = None, demo: Emulator | None = None,
                 sync_interval: float = 60.0) -> None:
        from desktop_app.cache.opening import CacheFuture
        from desktop_app.cache.reading.query import EndUserQuery
        from desktop_app.cache.reading.read_pool import ReadPool
        from desktop_app.sync import SyncService
        from desktop_app.sync.pacing import SHARE_BESIDE_A_WINDOW
        from desktop_app.ui.main_window import MainWindow
        from desktop_app.ui.operations import Operations
        from desktop_app.ui.services import AppServices
        from desktop_app.ui.sync_settings import response_reread_days, undo_grace

        self.profile = profile
        self.account: SignedInAccount | None = None
        path = profile.cache_path(root)
        self.reads = ReadPool(path)
        readable = self.reads.readable()
        self.cache = CacheFuture(path)
        self.query = EndUserQuery(self.reads)
        # Its thread starts once the cache is open; until then the window shows its status.
        self.sync: SyncService = SyncService(self.cache, self._client, interval=sync_interval,
                                             cpu_share=SHARE_BESIDE_A_WINDOW, grace=undo_grace(),
                                             reread_days=response_reread_days())
        self.ops = Operations(tasks, self.cache)
        self.services = AppServices(
            cache=self.cache, query=self.query, sync=self.sync, ops=self.ops,
            account_label=profile.display_name, demo=demo, rows_readable=readable,
        )
        self.window: MainWindow = MainWindow(self.services)
        self._began = time.perf_counter()
        self._opening: TaskHandle[Any] | None = None  # the open, once it started
        self._opening_started = False
        self._closed = False
        if account is not None:
            self.set_account(account)

    def _client(self) -> WootricClient:
        from desktop_app.api.client import WootricClient
        from desktop_app.api.errors import AuthError

        if self.account is None:
            raise AuthError("not signed in: the account's secret is not available")
        return WootricClient(self.account.credentials())

    def set_account(self, account: SignedInAccount) -> None:
        register_secrets([account.secret])
        self.account = account

    def open_in_background(
        self,
        read_account: Callable[[], tuple[SignedInAccount | None, str]],
        opened: Callable[[DeskSession, str], None],
        failed: Callable[[DeskSession, BaseException], None],
    ) -> None:
        """Once the first rows are painted (at once for a new cache file), open the cache on a
        worker and read the secret when it is missing; then `opened(session, why_no_account)`."""
        model = self.window.model

        def begin() -> None:
            if self._opening_started or self._closed:
                return
            self._opening_started = True
            log.info("opening the cache %.0f ms after the session began (first rows %s)",
                     (time.perf_counter() - self._began) * 1000, "shown" if model.loaded else "not shown yet")

            def work() -> tuple[SignedInAccount | None, str]:
                began = time.perf_counter()
                self.cache.open()
                log.info("cache open in %.0f ms", (time.perf_counter() - began) * 1000)
                self.sync.refresh_records()  # the last sync and the outbox, before any run
                return (self.account, "") if self.account is not None else read_account()

            def done(result: tuple[SignedInAccount | None, str]) -> None:
                if self._closed:
                    return
                account, why = result
                if account is not None and self.account is None:
                    self.set_account(account)
                self.window.cache_opened()
                opened(self, why)

            def fail(exc: BaseException) -> None:
                if not self._closed:
                    failed(self, exc)

            self._opening = self.ops.work(work, done, failed=fail, name="open the cache")

        if not self.services.rows_readable:
            begin()
            return
        # The import competes for the interpreter: let the first screen paint before it starts.
        model.first_rows_shown.connect(lambda: QTimer.singleShot(PAINT_GRACE_MS, self.window, begin))
        model.query_failed.connect(lambda _message: begin())
        QTimer.singleShot(OPEN_CACHE_LATEST_MS, self.window, begin)  # a slow first query never holds it up

    def start_sync(self) -> None:
        from desktop_app.ui.responsiveness import settle_heap

        if self.account is not None:
            settle_heap()  # before the sync's churn begins
            self.sync.start()

    def close(self, *, send_held: bool = True) -> None:
        """Stop sync (sending edits still in their undo grace unless `send_held` is False),
        let the window go, close the cache. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        # Edits in their undo grace are sent first, within the sync's own bound. Otherwise the
        # sync thread gets the quit's bound: it may be stuck behind another process's write
        # lock (10 s a statement). A sync that never started (the cache opening) returns at once.
        status = self.sync.status
        if send_held and status.pending and status.send_at is not None:
            self.sync.stop(send_held=True)
        else:
            self.sync.stop(SYNC_STOP_S, send_held=send_held)
        if not self.cache.ready:
            self.cache.close()  # an open still under way is abandoned; work waiting for it gives up
        self.window.sync_bar.detach()
        unsaved = self.window.detail.unsaved_fields()
        if unsaved:  # a quit nobody can answer (a signal, signing out)
            log.info("typing in the detail panel was not saved: %s", ", ".join(unsaved))
        self.window.ask_before_closing = False
        self.window.close()
        # Let queries and edits already running finish and reach the (still alive) window
        # before the cache closes under them; bounded, so a stuck one cannot hold up quitting,
        # and an abandoned open is not waited for at all.
        deadline = time.monotonic() + CLOSE_WAIT_S
        while self._others_running() and time.monotonic() < deadline:
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        self.window.deleteLater()
        self._remember_filter_keys()
        self.cache.close()
        self.reads.close()

    def _others_running(self) -> bool:
        opening = 1 if self._opening is not None and not self._opening.done else 0
        return self.ops.tasks.pending_count() > opening

    def _remember_filter_keys(self) -> None:
        """The property keys filtered or sorted on get the query indexes at the next open."""
        keys = self.query.used_property_keys()
        if not keys or not self.cache.ready:
            return
        try:
            self.cache.result().remember_filter_keys(keys)
        except Exception:  # a lost hint must never stop the app from closing
            log.warning("could not remember the filtered property keys", exc_info=True)
