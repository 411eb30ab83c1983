"""The single-flight, cancellable sync service the app and the command line share."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from desktop_app.api.errors import AuthError, NetworkError, WootricError
from desktop_app.cache.changes import CacheChanges, Initiator
from desktop_app.cache.opening import CacheFuture
from desktop_app.cache.records import SyncOutcome
from desktop_app.cancellation import Cancelled
from desktop_app.clock import Clock, SystemClock
from desktop_app.sync.estimate import PhaseEstimate
from desktop_app.sync.history_pull import (
    DEFAULT_REREAD_DAYS,
    HistoryList,
    HistoryResult,
    bounded_reread_days,
    pull_history,
)
from desktop_app.sync.pacing import Pacer
from desktop_app.sync.pull import CURSOR_KEY, PullProgress, pull_changes
from desktop_app.sync.push import PushResult, push_all
from desktop_app.sync.reconcile import LAST_RECONCILE_KEY, reconcile_deletions
from desktop_app.sync.run_lock import RunLock
from desktop_app.sync.status import SyncPhase, SyncState, SyncStatus

if TYPE_CHECKING:  # SQLModel and httpx stay unimported until the cache opens and sync runs
    from desktop_app.api.client import WootricClient
    from desktop_app.api.throttle import RateLimitWait
    from desktop_app.cache.records import SyncRecords
    from desktop_app.cache.store import Cache

log = logging.getLogger(__name__)

StatusCallback = Callable[[SyncStatus], None]
# After a pull this big, the property indexes for filters are (re)considered: building them
# once in bulk is cheaper than maintaining them row by row during a first sync.
BIG_PULL_ROWS = 5_000
# While it waits between runs, the thread reads the cache's sync records this often: an edit
# or a sync made by the command line (another process, no change broadcast) shows within it.
RECORDS_EVERY_S = 2.0
# Quitting sends edits still in their undo grace; a service this slow to answer leaves them in
# the outbox for the next start instead of holding the window open.
FLUSH_ON_STOP_S = 5.0


class SyncCancelled(Cancelled):
    """The person (or shutdown) cancelled the run; silent by design."""


class SyncService:
    """Runs sync on its own thread: push queued edits, pull changes (end users, then survey
    responses and declines), reconcile deletions.

    One run at a time (a lock file guards against the command line running beside the app);
    every run is recorded in the cache with its outcome. Offline, it backs off and retries by
    itself; local edits wake it so they go out promptly. `cpu_share` paces the worker beside a
    window (see pacing.py); None, for the command line, runs flat out.

    `grace` (seconds) is the undo window of a local edit made in this process: nothing is
    pushed until the newest such edit is that old, and an edit made meanwhile restarts it. The
    edit is in the outbox (SQLite) all along; only the PUT waits. "Sync now" and a quit push
    at once; 0 never waits (the command line's: it has no undo to wait for).
    """

    def __init__(
        self,
        cache: Cache | CacheFuture,
        client_factory: Callable[[], WootricClient],
        *,
        clock: Clock | None = None,
        interval: float = 60.0,
        reconcile_every: float = 6 * 3600,
        backoff_max: float = 120.0,
        edit_delay: float = 1.0,
        cpu_share: float | None = None,
        records_every: float = RECORDS_EVERY_S,
        grace: float = 0.0,
        reread_days: float = DEFAULT_REREAD_DAYS,
    ) -> None:
        # The window builds its sync before the file is open; the thread starts after the open.
        self._cache = cache if isinstance(cache, CacheFuture) else CacheFuture.of(cache)
        self._client_factory = client_factory
        self._client: WootricClient | None = None
        self.clock = clock or SystemClock()
        self.interval = interval
        self.reconcile_every = reconcile_every
        self.backoff_max = backoff_max
        self.edit_delay = edit_delay
        self.records_every = records_every
        self._records: SyncRecords | None = None  # as last published
        self._estimate = PhaseEstimate(None)
        self._lock_path = self._cache.path.with_name(self._cache.path.name + ".sync-lock")
        self._subscribers: list[StatusCallback] = []
        self._status_lock = threading.Lock()
        self._status = SyncStatus()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._cancel = threading.Event()
        self._work_offline = False
        self._failures = 0
        self._thread: threading.Thread | None = None
        self._edit_timer: threading.Timer | None = None
        self._grace = max(0.0, grace)
        self._reread_days = bounded_reread_days(reread_days)
        self._hold_until: float | None = None  # service clock: no push before then (undo grace)
        self._hold_lock = threading.Lock()  # its own: status updates read it under _status_lock
        self._flushing = False  # stopping: push the held edits, then end
        self._edited = threading.Event()  # a local edit since this run's push began
        self._flushed = threading.Event()
        self._pacer = Pacer(cpu_share, sleep=self._cancel.wait)  # a cancel ends a rest at once
        self._unsubscribe_cache = self._cache.subscribe(self._on_cache_change)

    @property
    def cache(self) -> Cache:
        """The open cache. Waits for it: only the sync thread and workers ask, and the thread
        starts once the cache is open."""
        return self._cache.result()

    # --- control -------------------------------------------------------------------------

    @property
    def status(self) -> SyncStatus:
        with self._status_lock:
            return self._status

    def subscribe(self, callback: StatusCallback) -> Callable[[], None]:
        """`callback` runs on the sync thread; the UI hands it to the GUI thread by signal."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._flushing = False
            self._flushed.clear()
            self._thread = threading.Thread(target=self._loop, name="wootric-sync", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0, *, send_held: bool = True) -> None:
        """End the thread. Edits still in their undo grace are sent first (bounded by
        FLUSH_ON_STOP_S) while the service answers and `send_held`; otherwise they wait in
        the outbox for the next start."""
        thread = self._thread
        status = self.status
        if (send_held and thread is not None and thread.is_alive() and status.pending
                and self._hold_remaining() > 0 and not self._work_offline and status.is_healthy):
            self._flushing = True
            self._release_hold()
            self._cancel.set()  # a pull that started during the grace gives way to the push
            self._interrupt_waits()
            self._wake.set()
            self._flushed.wait(min(timeout, FLUSH_ON_STOP_S))
        self._stop.set()
        self._cancel.set()
        self._interrupt_waits()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._unsubscribe_cache()
        if self._client is not None:
            self._client.close()
            self._client = None

    def sync_now(self) -> None:
        """Run now; edits in their undo grace go with it (the person asked to send)."""
        self._failures = 0
        self._release_hold()
        self._wake.set()

    @property
    def grace(self) -> float:
        """Seconds a local edit stays undoable before it is pushed (0: pushed at once)."""
        return self._grace

    def set_grace(self, seconds: float) -> None:
        """A new undo grace for edits from now on; 0 also sends the ones waiting."""
        self._grace = max(0.0, seconds)
        if self._grace == 0:  # the run this wakes publishes the status (no read on the caller's thread)
            self._release_hold()
            self._wake.set()

    @property
    def reread_days(self) -> float:
        """Days of responses and declines each sync reads again (their tags, exclusions and
        notes change after creation, and no list filters on `updated`)."""
        return self._reread_days

    def set_reread_days(self, days: float) -> None:
        """A new trailing window from the next run on (brought into 0..MAX_REREAD_DAYS)."""
        self._reread_days = bounded_reread_days(days)

    def cancel(self) -> None:
        self._cancel.set()
        self._interrupt_waits()

    def _interrupt_waits(self) -> None:
        """A run waiting out a rate limit or a backoff stops waiting (it ends as cancelled)."""
        client = self._client  # set by the sync thread; a plain attribute read is enough here
        if client is not None:
            client.interrupt_waits()

    def hold_for_sign_in(self, reason: str) -> None:
        """Not started: the account's secret is missing. The bar offers to sign in again."""
        self._publish(replace(self.status, state=SyncState.AUTH_FAILED, phase=SyncPhase.NONE, next_retry_at=None,
                              message=f"Sign-in needed: {reason}"))

    def set_work_offline(self, offline: bool) -> None:
        self._work_offline = offline
        if offline:
            self._cancel.set()
            self._interrupt_waits()
            self._publish(replace(self.status, state=SyncState.WORKING_OFFLINE, phase=SyncPhase.NONE,
                                  next_retry_at=None, message="Working offline: nothing is sent."))
        else:
            self.sync_now()

    # --- one run ---------------------------------------------------------------------------

    def run_once(self, *, reconcile: bool | None = None) -> SyncStatus:
        """One full run in the calling thread (the CLI and tests use this directly)."""
        self._cancel.clear()
        lock = RunLock(self._lock_path)
        if not lock.acquire():
            self._publish(self._counts(replace(self.status, message="Another sync of this account is running.")))
            return self.status
        with lock:
            run_id = self.cache.start_sync_run("sync")
            counts: dict[str, int] = {}
            try:
                self._run(run_id, counts, reconcile)
            except Cancelled:  # the person, shutdown, or a wait cut short (SyncCancelled, WaitInterrupted)
                self.cache.finish_sync_run(run_id, SyncOutcome.CANCELLED, "cancelled", counts)
                self._publish(self._counts(replace(self.status, state=SyncState.IDLE, phase=SyncPhase.NONE,
                                                   message="Sync cancelled.")))
            except NetworkError as error:
                self._failures += 1
                delay = self._backoff()
                self.cache.finish_sync_run(run_id, SyncOutcome.OFFLINE, str(error), counts)
                self._publish(self._counts(replace(
                    self.status, state=SyncState.OFFLINE, phase=SyncPhase.NONE,
                    next_retry_at=self.clock.now() + delay,
                    message=f"Offline: {error}. Retrying by itself.")))
            except AuthError as error:
                self.cache.finish_sync_run(run_id, SyncOutcome.AUTH_FAILED, str(error), counts)
                self._drop_client()
                self._publish(self._counts(replace(
                    self.status, state=SyncState.AUTH_FAILED, phase=SyncPhase.NONE, next_retry_at=None,
                    message=f"Sign-in needed: {error}")))
            except (WootricError, Exception) as error:  # recorded and shown; never a crash
                log.exception("sync run failed")
                self._failures += 1
                self.cache.finish_sync_run(run_id, SyncOutcome.FAILED, str(error), counts)
                self._publish(self._counts(replace(
                    self.status, state=SyncState.FAILED, phase=SyncPhase.NONE,
                    next_retry_at=self.clock.now() + self._backoff(),
                    message=f"Sync failed: {error}")))
        return self.status

    def _run(self, run_id: int, counts: dict[str, int], reconcile: bool | None) -> None:
        client = self._get_client()
        client.allow_waits()
        self._check_cancel()  # a cancel between the start of the run and allow_waits()
        pace = self._pacer
        pace.begin()
        self._edited.clear()  # what is queued now goes out with this push
        pushed = self._push(client, self._counts(self.status), pace)
        self._check_cancel()
        if self._flushing:  # quitting: the held edits are out; the pull can wait for next time
            counts.update(pushed_end_users=pushed.end_users, edits_done=pushed.edits_done,
                          conflicts=pushed.conflicts, rejected=pushed.rejected)
            self.cache.finish_sync_run(run_id, SyncOutcome.PUSHED, "edits sent on quitting", counts)  # no "Last synced"
            self._publish(self._counts(replace(
                self.status, state=SyncState.IDLE, phase=SyncPhase.NONE, done=0, total=None, rate_per_s=None,
                eta_s=None, next_retry_at=None, message=f"{pushed.edits_done} edits sent.")))
            return
        # The list API gives no count: how many end users changed is not known until the end.
        self._begin_phase(client, None)
        self._publish(replace(self.status, phase=SyncPhase.PULL, done=0, total=None, rate_per_s=None,
                              eta_s=None, next_retry_at=None, message="Receiving changes…"))
        first_pull = self.cache.cursor(CURSOR_KEY) is None and self.cache.count_all() == 0
        pull_started = int(self.clock.now())
        pulled = pull_changes(client, self.cache, server_now=self.clock.now,
                              cancelled=self._cancelled, progress=self._pull_progress, pace=pace)
        self._check_cancel()
        if pulled.rows >= BIG_PULL_ROWS:
            self.cache.refresh_query_indexes()
        self._build_search_index()
        history: list[HistoryResult] = []
        for kind in HistoryList:
            if self._history_gives_way():
                break  # the next run resumes the history from its cursors
            history.append(self._pull_history(client, kind))
        # Edits made while the pull ran go out now rather than a whole interval later, with the
        # push's own phase and total (the bar said "Receiving survey responses" while it sent).
        late = self._counts(self.status)
        pushed_late = (self._push(client, late, pace) if late.pending
                       else push_all(client, self.cache, cancelled=self._cancelled, held=self._held, pace=pace))
        removed = 0
        if first_pull and reconcile is None:
            # Into an empty cache, the pull itself read the service's whole id set as of its
            # start: walking every end user again to find deletions would double the run.
            self.cache.set_cursor(LAST_RECONCILE_KEY, pull_started)
        elif self._reconcile_due(reconcile):
            self._begin_phase(client, None)
            self._publish(replace(self.status, phase=SyncPhase.RECONCILE, done=0, total=None,
                                  rate_per_s=None, eta_s=None, next_retry_at=None,
                                  message="Checking for end users deleted on the service…"))
            result = reconcile_deletions(client, self.cache, cancelled=self._cancelled,
                                         progress=lambda n: self._phase(SyncPhase.RECONCILE, n), pace=pace)
            self._check_cancel()
            removed = result or 0
            self.cache.set_cursor(LAST_RECONCILE_KEY, int(self.clock.now()))
        if pace.rested_s:
            log.debug("sync paced: rested %.1f s beside the window", pace.rested_s)
        counts.update(
            pushed_end_users=pushed.end_users + pushed_late.end_users,
            edits_done=pushed.edits_done + pushed_late.edits_done,
            conflicts=pushed.conflicts + pushed_late.conflicts,
            rejected=pushed.rejected + pushed_late.rejected,
            pulled=pulled.rows, requests=pulled.requests, unreachable=pulled.unreachable,
            removed=removed,
        )
        for listed in history:
            counts[listed.kind.value] = listed.rows
            counts[f"{listed.kind.value}_requests"] = listed.requests
            counts[f"{listed.kind.value}_removed"] = listed.removed
        note = ""
        if pulled.unreachable:
            note = (f" {pulled.unreachable} groups of end users could not be fully read from "
                    "the service; see the log.")
            for line in pulled.notes:
                log.warning("pull: %s", line)
        for listed in history:
            if listed.unreachable:
                seconds = "1 second" if listed.unreachable == 1 else f"{listed.unreachable} seconds"
                note += (f" {seconds} of {listed.kind.value} could not be fully read from the "
                         "service; see the log.")
                for line in listed.notes:
                    log.warning("%s: %s", listed.kind.value, line)
        self.cache.finish_sync_run(run_id, SyncOutcome.COMPLETED, note.strip(), counts)
        self._failures = 0
        self._publish(self._counts(replace(
            self.status, state=SyncState.IDLE, phase=SyncPhase.NONE, done=0, total=None, rate_per_s=None,
            eta_s=None, last_success_at=int(self.clock.now()), next_retry_at=None,
            message=f"Synced: {pulled.rows} received, {counts['edits_done']} edits sent.{note}")))

    # --- the thread ------------------------------------------------------------------------

    def _loop(self) -> None:
        self._publish_counts()  # what the cache says before the first run (read off the GUI thread)
        while not self._stop.is_set():
            if self._flushing:
                if not self._work_offline:
                    self.run_once()  # pushes what the grace held, then ends (see _run)
                self._flushed.set()
                return
            held = self._hold_remaining()
            if held > 0 and not self._work_offline:
                self._wait(held)  # an edit meanwhile moves the end; "Sync now" ends it
                continue
            if not self._work_offline:
                self.run_once()
            state = self.status.state
            if state is SyncState.AUTH_FAILED or self._work_offline:
                timeout: float | None = None  # wait for the person
            elif state in (SyncState.OFFLINE, SyncState.FAILED):
                retry_at = self.status.next_retry_at or self.clock.now()
                timeout = max(0.05, retry_at - self.clock.now())
            else:
                timeout = self.interval
                held = self._hold_remaining()  # an edit made while this run pulled
                if held > 0:
                    timeout = min(timeout, held)
            self._wait(timeout)

    def _wait(self, timeout: float | None) -> None:
        """Wait for a wake-up or `timeout`, reading the cache's records now and then: what the
        command line changed shows, and edits it queued go out without waiting an interval."""
        # Wall-clock wait: a ScaledClock in tests shortens it through `interval` instead.
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._stop.is_set():
            step = self.records_every
            if deadline is not None:
                step = min(step, deadline - time.monotonic())
                if step <= 0:
                    break
            if self._wake.wait(step):
                break
            if self._records_grew_elsewhere() and self.status.state is SyncState.IDLE \
                    and not self._work_offline:
                break
        self._wake.clear()

    def refresh_records(self) -> None:
        """Publish what the cache's records say now (any thread; the window calls it once the
        cache is open, so a relaunch shows the last sync before any run starts)."""
        self._publish_counts()

    def _records_grew_elsewhere(self) -> bool:
        """Re-read the records; publish when another process changed them. True when more
        edits are queued than the last published count."""
        before = self._records
        try:
            records = self.cache.sync_records()
        except Exception:  # a busy or closing cache: the next look will do
            log.debug("sync records unreadable for now", exc_info=True)
            return False
        if records == before:
            return False
        self._publish_counts(records)
        return before is not None and records.pending > before.pending

    def _on_cache_change(self, changes: CacheChanges) -> None:
        if changes.initiator in (Initiator.EDIT, Initiator.UNDO) and self._grace > 0:
            # Before the counts go out, so the first status after the edit shows the countdown.
            with self._hold_lock:
                self._hold_until = self.clock.now() + self._grace
        if changes.initiator in (Initiator.EDIT, Initiator.UNDO, Initiator.RESOLVE):
            self._edited.set()
            self._publish_counts()
            if self._thread is not None and not self._work_offline:
                self._wake_soon()
        elif changes.outbox_changed or changes.conflicts_changed:
            self._publish_counts()

    def _wake_soon(self) -> None:
        """Wake the thread `edit_delay` after an edit; a burst of edits shares one timer."""
        with self._status_lock:
            if self._edit_timer is not None and self._edit_timer.is_alive():
                return
            self._edit_timer = threading.Timer(self.edit_delay, self._wake.set)
            self._edit_timer.daemon = True
            self._edit_timer.start()

    # --- the undo grace --------------------------------------------------------------------

    def _hold_remaining(self) -> float:
        """Seconds until held edits may be pushed; 0 when nothing is held."""
        with self._hold_lock:
            until = self._hold_until
        if until is None:
            return 0.0
        return max(0.0, until - self.clock.now())

    def _held(self) -> bool:
        """True while the newest local edit is within its undo grace: pushes wait."""
        return self._hold_remaining() > 0

    def _release_hold(self) -> None:
        with self._hold_lock:
            self._hold_until = None

    def _send_at(self, pending: int) -> float | None:
        """When held edits go out, for the bar's countdown; None when nothing is held."""
        with self._hold_lock:
            until = self._hold_until
        if until is None or not pending or until <= self.clock.now():
            return None
        return until

    # --- helpers ---------------------------------------------------------------------------

    def _get_client(self) -> WootricClient:
        if self._client is None:
            self._client = self._client_factory()
            self._client.on_rate_limit = self._rate_limited
        return self._client

    def _rate_limited(self, wait: RateLimitWait) -> None:
        """The client is about to wait for the service's rate limit: a run that shows no
        progress for a minute must say why, and when it goes on."""
        limit = f" of {wait.limit} requests a minute" if wait.limit else ""
        self._publish(replace(self.status, next_retry_at=self.clock.now() + wait.seconds,
                              message=f"Waiting for the service's rate limit{limit}."))

    def _drop_client(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None

    def _cancelled(self) -> bool:
        return self._cancel.is_set()

    def _check_cancel(self) -> None:
        if self._cancel.is_set():
            raise SyncCancelled()

    def _backoff(self) -> float:
        base = min(self.backoff_max, 2.0 * 2 ** min(self._failures, 10))
        return random.uniform(base / 2, base)

    def _reconcile_due(self, forced: bool | None) -> bool:
        if forced is not None:
            return forced
        last = self.cache.cursor(LAST_RECONCILE_KEY)
        return last is None or self.clock.now() - last >= self.reconcile_every

    def _push(self, client: WootricClient, status: SyncStatus, pace: Pacer) -> PushResult:
        """Send the outbox as the run's push phase, its total the outbox's size (`status.pending`)."""
        self._begin_phase(client, status.pending)
        self._publish(replace(status, state=SyncState.SYNCING, phase=SyncPhase.PUSH, done=0,
                              total=status.pending, rate_per_s=None, eta_s=None,
                              next_retry_at=None, message="Sending local edits…"))
        return push_all(client, self.cache, cancelled=self._cancelled, held=self._held,
                        progress=lambda n: self._phase(SyncPhase.PUSH, n), pace=pace)

    def _begin_phase(self, client: WootricClient, total: int | None) -> None:
        self._estimate = PhaseEstimate(
            total, requests=lambda: client.request_count,
            limit_per_minute=lambda: getattr(client, "rate_limit", None))

    def _build_search_index(self) -> None:
        """Once end users are cached, index their text (once; writes keep it current after).

        Never into an empty cache: a first pull then runs without the index's triggers."""
        if self.cache.search_index_ready() or self.cache.count_all() == 0:
            return
        self._publish(replace(self.status, phase=SyncPhase.INDEX, done=0, total=None, rate_per_s=None, eta_s=None,
                              next_retry_at=None, message="Building the search index…"))
        self.cache.build_search_index(
            lambda done, total: self._publish(replace(self.status, phase=SyncPhase.INDEX, done=done, total=total)))

    def _phase(self, phase: SyncPhase, done: int) -> None:
        rate, eta = self._estimate.rate_and_eta(done)
        total = self._estimate.total
        self._publish(replace(self.status, phase=phase, done=done,
                              total=None if total is None else max(total, done),
                              rate_per_s=rate, eta_s=eta, next_retry_at=None))

    def _pull_history(self, client: WootricClient, kind: HistoryList) -> HistoryResult:
        """One history list after the end users' pull; a cancel ends the run after its page."""
        phase = SyncPhase(kind.value)
        self._begin_phase(client, None)
        self._publish(replace(self.status, phase=phase, done=0, total=None, rate_per_s=None,
                              eta_s=None, next_retry_at=None,
                              message=f"Receiving survey {kind.value}…"))
        result = pull_history(client, self.cache, kind, reread_days=self._reread_days,
                              server_now=self.clock.now, cancelled=self._history_gives_way,
                              progress=lambda n: self._phase(phase, n), pace=self._pacer)
        self._check_cancel()
        return result

    def _history_gives_way(self) -> bool:
        """Stop the history walk after its page: on a cancel, or for a local edit past its undo
        grace. A re-read of months of responses takes minutes against a rate-limited service;
        the edit goes out in this run's late push and the next run resumes the walk."""
        return self._cancelled() or (self._edited.is_set() and not self._held())

    def _pull_progress(self, p: PullProgress) -> None:
        # No total and no estimate: the service never says how many end users changed, and a
        # guess from the time range covered crept and promised "3 s left" for many seconds.
        self._publish(replace(self.status, phase=SyncPhase.PULL, done=p.rows, total=None,
                              rate_per_s=p.rate_per_s, eta_s=None, next_retry_at=None))

    def _publish_counts(self, records: SyncRecords | None = None) -> None:
        """Publish the cache's records on top of the status as it is when they are read: a
        state another thread published meanwhile (Work offline) is not overwritten."""
        records = records or self.cache.sync_records()
        with self._status_lock:
            status = self._counts(self._status, records)
            self._status = status
        self._notify(status)

    def _counts(self, status: SyncStatus, records: SyncRecords | None = None) -> SyncStatus:
        """`status` with the cache's own records: the outbox, conflicts, rejected edits and
        the last completed run (also one another process made)."""
        records = records or self.cache.sync_records()
        self._records = records
        last = records.last_success_at if records.last_success_at is not None else status.last_success_at
        return replace(status, pending=records.pending, conflicts=records.conflicts,
                       rejected=records.rejected, last_success_at=last,
                       send_at=self._send_at(records.pending))

    def _publish(self, status: SyncStatus) -> None:
        if self._work_offline and status.state is not SyncState.WORKING_OFFLINE:
            # A run cancelled by Work offline ends after the switch: the person's choice stands.
            status = replace(status, state=SyncState.WORKING_OFFLINE, phase=SyncPhase.NONE, next_retry_at=None,
                             message="Working offline: nothing is sent.")
        with self._status_lock:
            self._status = status
        self._notify(status)

    def _notify(self, status: SyncStatus) -> None:
        for callback in list(self._subscribers):
            try:
                callback(status)
            except Exception:  # a broken subscriber must not stop syncing
                log.exception("sync status subscriber failed")
