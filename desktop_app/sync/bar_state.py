"""What the sync bar says: one state machine from the service's status and the cache's records.

`describe_bar` is a pure function of a `SyncStatus` (the service's run state and progress, plus
the counts the service read from the cache's own records: queued edits, conflicts, rejected
edits and the last completed sync run) and the time. The status bar only draws the result, so
every state and its words are tested here without Qt. The states and what makes each are
listed in docs/architecture.md ("The sync bar's states").
"""

from __future__ import annotations

import enum
import math
import time
from dataclasses import dataclass

from desktop_app.sync.status import SyncPhase, SyncState, SyncStatus


class BarState(enum.StrEnum):
    """What the bar tells a person, most urgent first when several are true."""

    NO_ACCOUNT = "no_account"  # no sync service: local data only
    SIGN_IN_NEEDED = "sign_in_needed"  # the service refused the credentials, or none are stored
    WORKING_OFFLINE = "working_offline"  # the person chose to work offline
    OFFLINE = "offline"  # the service did not answer; retrying by itself
    FAILED = "failed"  # the last run failed for another reason; retrying by itself
    RATE_LIMITED = "rate_limited"  # a run waits for the service's rate limit
    SENDING = "sending"  # a run pushes queued edits
    RECEIVING = "receiving"  # a run pulls changed end users
    CHECKING = "checking"  # a run looks for end users deleted on the service
    INDEXING = "indexing"  # a run builds the search index after a first pull
    WAITING_TO_SEND = "waiting_to_send"  # idle, edits held back until `send_at` (undo grace)
    NEEDS_ATTENTION = "needs_attention"  # idle, with conflicts or rejected edits to look at
    EDITS_WAITING = "edits_waiting"  # idle, edits queued for the next run
    NOT_SYNCED_YET = "not_synced_yet"  # idle, and no run of this account ever completed
    UP_TO_DATE = "up_to_date"  # idle, the last run completed, nothing waits, nothing to look at


SYNCING_STATES = frozenset({BarState.RATE_LIMITED, BarState.SENDING, BarState.RECEIVING,
                            BarState.CHECKING, BarState.INDEXING})
_PHASES = {SyncPhase.PUSH: BarState.SENDING, SyncPhase.PULL: BarState.RECEIVING,
           SyncPhase.RECONCILE: BarState.CHECKING, SyncPhase.INDEX: BarState.INDEXING}
_PHASE_WORDS = {BarState.SENDING: "Sending edits", BarState.RECEIVING: "Receiving end users",
                BarState.CHECKING: "Checking for deletions",
                BarState.INDEXING: "Building the search index"}
# Receiving, but not end users: what the survey-history phases bring.
_HISTORY_WORDS = {SyncPhase.RESPONSES: "Receiving survey responses",
                  SyncPhase.DECLINES: "Receiving declined surveys"}
_UNCOUNTED = frozenset({SyncPhase.PULL, *_HISTORY_WORDS})  # the lists give no total


@dataclass(frozen=True, slots=True)
class BarProgress:
    """The progress bar: a count out of a known total, or busy (total None: not known)."""

    done: int
    total: int | None


@dataclass(frozen=True, slots=True)
class SyncBarView:
    """Everything the sync bar shows, in words; the widget draws it and decides nothing."""

    state: BarState
    headline: str  # the state in words, beside the icon
    detail: str  # the service's own message, for the tooltip
    progress: BarProgress | None  # None: no progress bar
    last_sync: str  # "Last synced 3 min ago" / "Never synced"
    pending: str  # "3 edits waiting", or "" when none
    issues: str  # "2 conflicts · 1 rejected edit", or ""
    ticking: bool  # the words count seconds down: redraw every second
    can_sync_now: bool

    @property
    def icon_state(self) -> SyncState:
        """The icon's shape: a warning for anything that needs the person."""
        if self.state in SYNCING_STATES:
            return SyncState.SYNCING
        return {
            BarState.SIGN_IN_NEEDED: SyncState.AUTH_FAILED,
            BarState.WORKING_OFFLINE: SyncState.WORKING_OFFLINE,
            BarState.OFFLINE: SyncState.OFFLINE,
            BarState.FAILED: SyncState.FAILED,
            BarState.NEEDS_ATTENTION: SyncState.FAILED,
            BarState.NO_ACCOUNT: SyncState.WORKING_OFFLINE,
            BarState.EDITS_WAITING: SyncState.SYNCING,  # not in step yet: about to send
            BarState.WAITING_TO_SEND: SyncState.SYNCING,
        }.get(self.state, SyncState.IDLE)


def bar_state(status: SyncStatus | None) -> BarState:
    """The one state the bar is in (None: no sync service at all)."""
    if status is None:
        return BarState.NO_ACCOUNT
    state = status.state
    if state is SyncState.AUTH_FAILED:
        return BarState.SIGN_IN_NEEDED
    if state is SyncState.WORKING_OFFLINE:
        return BarState.WORKING_OFFLINE
    if state is SyncState.OFFLINE:
        return BarState.OFFLINE
    if state is SyncState.FAILED:
        return BarState.FAILED
    if state is SyncState.SYNCING:
        if status.next_retry_at is not None:
            return BarState.RATE_LIMITED
        return _PHASES.get(status.phase, BarState.RECEIVING)
    if status.pending and status.send_at is not None:  # a countdown outranks the conflicts
        return BarState.WAITING_TO_SEND  # (still counted on the button beside it)
    if status.conflicts or status.rejected:
        return BarState.NEEDS_ATTENTION
    if status.pending:
        return BarState.EDITS_WAITING
    if status.last_success_at is None:
        return BarState.NOT_SYNCED_YET
    return BarState.UP_TO_DATE


def describe_bar(status: SyncStatus | None, now: float | None = None) -> SyncBarView:
    """The bar's words for one snapshot; `now` (unix seconds) for ages and countdowns."""
    now = time.time() if now is None else now
    state = bar_state(status)
    if state is BarState.WAITING_TO_SEND and status is not None and status.send_at is not None \
            and status.send_at <= now:
        state = BarState.EDITS_WAITING  # the grace is over: no countdown stuck at "1 s"
    if status is None:
        return SyncBarView(state, "Not connected: local data only", "No account is signed in.",
                           None, "", "", "", False, False)
    headline = _headline(state, status, now)
    detail = status.message
    if state is BarState.SIGN_IN_NEEDED and not detail:
        detail = "The service refused the credentials."
    progress = None
    if state in SYNCING_STATES:
        total = status.total if status.total else None
        progress = BarProgress(status.done, None if total is None else max(total, status.done))
    issues = " · ".join(p for p in (
        _plural(status.conflicts, "conflict"),
        _plural(status.rejected, "rejected edit"),
    ) if p)
    ticking = status.next_retry_at is not None or (
        state is BarState.WAITING_TO_SEND and status.send_at is not None)
    return SyncBarView(
        state=state, headline=headline, detail=detail, progress=progress,
        last_sync=last_sync_words(status.last_success_at, now),
        # the headline of the two waiting states already says how many
        pending=_plural(status.pending, "edit") + " waiting"
        if status.pending and state not in (BarState.EDITS_WAITING, BarState.WAITING_TO_SEND) else "",
        issues=issues, ticking=ticking,
        can_sync_now=state not in SYNCING_STATES and state is not BarState.WORKING_OFFLINE,
    )


def _headline(state: BarState, status: SyncStatus, now: float) -> str:
    if state is BarState.SIGN_IN_NEEDED:
        return "Sign-in needed"
    if state is BarState.WORKING_OFFLINE:
        return "Working offline: nothing is sent or received"
    if state is BarState.OFFLINE:
        return "Offline: the service cannot be reached" + _retry(status.next_retry_at, now)
    if state is BarState.FAILED:
        return "Sync failed" + _retry(status.next_retry_at, now)
    if state in SYNCING_STATES:
        return _syncing(state, status, now)
    if state is BarState.NEEDS_ATTENTION:  # the counts are on the button beside it
        return "Synced, but some edits need you"
    if state is BarState.WAITING_TO_SEND:
        assert status.send_at is not None
        # Rounded up: "in 0 s" while an edit can still be undone would read as sent.
        return (f"Sending {_plural(status.pending, 'edit')} in "
                f"{duration_words(max(1.0, math.ceil(status.send_at - now)))} · Undo (Ctrl+Z)")
    if state is BarState.EDITS_WAITING:
        return f"{_plural(status.pending, 'edit')} waiting to be sent"
    if state is BarState.NOT_SYNCED_YET:
        return "Not synced yet"
    return "Up to date"


def _syncing(state: BarState, status: SyncStatus, now: float) -> str:
    phase = (_HISTORY_WORDS.get(status.phase) or _PHASE_WORDS.get(state)
             or _PHASE_WORDS[_PHASES.get(status.phase, BarState.RECEIVING)])
    parts = [phase]
    if status.total:
        parts.append(f"{status.done:,} of {max(status.total, status.done):,}")
    elif status.done:
        parts.append(f"{status.done:,} so far, total not known")
    else:
        parts.append("total not known yet" if status.phase in _UNCOUNTED else "starting")
    if status.rate_per_s:
        parts.append(f"{status.rate_per_s:,.0f}/s")
    if status.next_retry_at is not None:  # the client waits for the service's rate limit
        parts.append("waiting for the service's rate limit, going on in "
                     + duration_words(max(0.0, status.next_retry_at - now)))
    elif status.total and status.eta_s is not None and status.eta_s >= 1:
        parts.append(f"about {duration_words(status.eta_s)} left")
    return " · ".join(parts) + "…"


def _retry(retry_at: float | None, now: float) -> str:
    if retry_at is None:
        return ""
    return f" (retrying in {duration_words(max(0.0, retry_at - now))})"


def _plural(n: int, noun: str) -> str:
    if not n:
        return ""
    return f"1 {noun}" if n == 1 else f"{n:,} {noun}s"


def duration_words(seconds: float) -> str:
    """A countdown or an estimate: "42 s", "3 min", "1 h 5 min"."""
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{(s + 30) // 60} min"
    return f"{s // 3600} h {(s % 3600) // 60} min"


def last_sync_words(last: float | None, now: float) -> str:
    """When the last run completed, from the cache's sync-run records."""
    if last is None:
        return "Never synced"
    seconds = max(0, int(now - last))
    if seconds < 60:
        age = "just now"
    elif seconds < 3600:
        age = f"{seconds // 60} min ago"
    elif seconds < 86_400:
        hours = seconds // 3600
        age = "1 hour ago" if hours == 1 else f"{hours} hours ago"
    else:
        days = seconds // 86_400
        age = "1 day ago" if days == 1 else f"{days} days ago"
    return f"Last synced {age}"
