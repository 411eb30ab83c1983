"""The sync bar's state machine: one test per state, and "Up to date" only when it is true."""

from __future__ import annotations

import pytest

from desktop_app.sync.bar_state import BarState, bar_state, describe_bar
from desktop_app.sync.estimate import PhaseEstimate
from desktop_app.sync.status import SyncState, SyncStatus

NOW = 1_800_000_000.0
SYNCED = int(NOW) - 180  # the cache's last completed run, three minutes ago


def _view(status: SyncStatus | None):
    return describe_bar(status, NOW)


def test_no_account() -> None:
    view = _view(None)
    assert view.state is BarState.NO_ACCOUNT
    assert view.headline == "Not connected: local data only"
    assert not view.can_sync_now and view.progress is None


def test_sign_in_needed() -> None:
    view = _view(SyncStatus(SyncState.AUTH_FAILED, last_success_at=SYNCED, pending=2))
    assert view.state is BarState.SIGN_IN_NEEDED
    assert view.headline == "Sign-in needed"
    assert view.pending == "2 edits waiting" and view.last_sync == "Last synced 3 min ago"


def test_working_offline() -> None:
    view = _view(SyncStatus(SyncState.WORKING_OFFLINE, last_success_at=SYNCED, pending=6))
    assert view.state is BarState.WORKING_OFFLINE
    assert view.headline == "Working offline: nothing is sent or received"
    assert not view.can_sync_now


def test_offline_counts_down_to_the_retry() -> None:
    view = _view(SyncStatus(SyncState.OFFLINE, last_success_at=SYNCED, next_retry_at=NOW + 30))
    assert view.state is BarState.OFFLINE
    assert view.headline == "Offline: the service cannot be reached (retrying in 30 s)"
    assert view.ticking


def test_failed() -> None:
    view = _view(SyncStatus(SyncState.FAILED, message="Sync failed: 500", next_retry_at=NOW + 8))
    assert view.state is BarState.FAILED
    assert view.headline == "Sync failed (retrying in 8 s)" and view.detail == "Sync failed: 500"


def test_rate_limited_says_why_nothing_moves() -> None:
    view = _view(SyncStatus(SyncState.SYNCING, phase="push", done=1200, total=5773, rate_per_s=8.0,
                            eta_s=600, next_retry_at=NOW + 42))
    assert view.state is BarState.RATE_LIMITED
    assert view.headline == ("Sending edits · 1,200 of 5,773 · 8/s · waiting for the service's "
                             "rate limit, going on in 42 s…")
    assert view.progress is not None and view.progress.total == 5773


def test_sending_shows_the_outbox_total_and_an_estimate() -> None:
    view = _view(SyncStatus(SyncState.SYNCING, phase="push", done=1200, total=5773,
                            rate_per_s=40.0, eta_s=115))
    assert view.state is BarState.SENDING
    assert view.headline == "Sending edits · 1,200 of 5,773 · 40/s · about 2 min left…"
    assert (view.progress.done, view.progress.total) == (1200, 5773)


def test_receiving_without_a_total_says_so_and_promises_nothing() -> None:
    view = _view(SyncStatus(SyncState.SYNCING, phase="pull", done=7655, total=None,
                            rate_per_s=900.0, eta_s=3))
    assert view.state is BarState.RECEIVING
    assert view.headline == "Receiving end users · 7,655 so far, total not known · 900/s…"


def test_the_survey_history_phases_say_what_they_receive() -> None:
    view = _view(SyncStatus(SyncState.SYNCING, phase="responses", done=2_400, rate_per_s=600.0))
    assert view.state is BarState.RECEIVING
    assert view.headline == "Receiving survey responses · 2,400 so far, total not known · 600/s…"
    view = _view(SyncStatus(SyncState.SYNCING, phase="declines"))
    assert view.headline == "Receiving declined surveys · total not known yet…"
    assert "left" not in view.headline  # no estimate without a total
    assert view.progress is not None and view.progress.total is None  # a busy bar, no percentage


def test_checking_for_deletions() -> None:
    view = _view(SyncStatus(SyncState.SYNCING, phase="reconcile", done=300))
    assert view.state is BarState.CHECKING
    assert view.headline.startswith("Checking for deletions · 300")


def test_building_the_search_index_shows_its_progress() -> None:
    view = _view(SyncStatus(SyncState.SYNCING, phase="index", done=4000, total=10000))
    assert view.state is BarState.INDEXING
    assert view.headline.startswith("Building the search index")
    assert view.progress is not None and (view.progress.done, view.progress.total) == (4000, 10000)


def test_conflicts_need_attention_not_up_to_date() -> None:
    view = _view(SyncStatus(SyncState.IDLE, last_success_at=SYNCED, conflicts=1, rejected=2))
    assert view.state is BarState.NEEDS_ATTENTION
    assert view.headline == "Synced, but some edits need you"
    assert view.issues == "1 conflict · 2 rejected edits"
    assert view.icon_state is SyncState.FAILED  # a warning shape, not the tick


def test_waiting_to_send_during_an_undo_grace_period() -> None:
    view = _view(SyncStatus(SyncState.IDLE, last_success_at=SYNCED, pending=3, send_at=NOW + 4))
    assert view.state is BarState.WAITING_TO_SEND
    assert view.headline == "Sending 3 edits in 4 s · Undo (Ctrl+Z)"
    assert view.ticking


def test_a_grace_that_is_over_counts_down_no_more() -> None:
    """A run that cannot start at the end of the grace (another process holds the lock) must
    not leave "in 1 s" on the bar for a minute."""
    view = _view(SyncStatus(SyncState.IDLE, last_success_at=SYNCED, pending=2, send_at=NOW - 3))
    assert view.state is BarState.EDITS_WAITING
    assert view.headline == "2 edits waiting to be sent"
    assert not view.ticking
    assert _view(SyncStatus(SyncState.IDLE, pending=1, send_at=NOW + 0.2)).headline == (
        "Sending 1 edit in 1 s · Undo (Ctrl+Z)")  # rounded up while it can still be undone


def test_edits_waiting_is_not_up_to_date() -> None:
    view = _view(SyncStatus(SyncState.IDLE, last_success_at=SYNCED, pending=6))
    assert view.state is BarState.EDITS_WAITING
    assert view.headline == "6 edits waiting to be sent"
    assert "Up to date" not in view.headline
    assert view.pending == ""  # said once, in the headline


def test_not_synced_yet() -> None:
    view = _view(SyncStatus(SyncState.IDLE))
    assert view.state is BarState.NOT_SYNCED_YET
    assert (view.headline, view.last_sync) == ("Not synced yet", "Never synced")


def test_up_to_date_only_with_nothing_waiting() -> None:
    view = _view(SyncStatus(SyncState.IDLE, last_success_at=SYNCED))
    assert view.state is BarState.UP_TO_DATE
    assert (view.headline, view.last_sync) == ("Up to date", "Last synced 3 min ago")
    assert view.icon_state is SyncState.IDLE and view.can_sync_now


def test_every_state_has_a_test_above() -> None:
    covered = {
        bar_state(s) for s in (
            None, SyncStatus(SyncState.AUTH_FAILED), SyncStatus(SyncState.WORKING_OFFLINE),
            SyncStatus(SyncState.OFFLINE), SyncStatus(SyncState.FAILED),
            SyncStatus(SyncState.SYNCING, next_retry_at=NOW), SyncStatus(SyncState.SYNCING, phase="push"),
            SyncStatus(SyncState.SYNCING, phase="pull"), SyncStatus(SyncState.SYNCING, phase="reconcile"),
            SyncStatus(SyncState.SYNCING, phase="index"), SyncStatus(conflicts=1), SyncStatus(pending=1, send_at=NOW), SyncStatus(pending=1),
            SyncStatus(), SyncStatus(last_success_at=SYNCED),
        )
    }
    assert covered == set(BarState)


@pytest.mark.parametrize("state", [SyncState.IDLE, SyncState.SYNCING])
def test_nothing_but_the_idle_clean_state_reads_as_up_to_date(state: SyncState) -> None:
    for extra in ({"pending": 1}, {"conflicts": 1}, {"rejected": 1}):
        view = _view(SyncStatus(state, phase="pull", last_success_at=SYNCED, **extra))
        assert "Up to date" not in view.headline


def test_an_estimate_counts_the_rate_limit_before_the_first_wait() -> None:
    """100 edits at 2 requests each under 60 requests a minute take over 3 minutes, however
    fast the first ten went out."""
    clock = [0.0]
    requests = [0]
    estimate = PhaseEstimate(100, requests=lambda: requests[0], limit_per_minute=lambda: 60,
                             monotonic=lambda: clock[0])
    clock[0], requests[0] = 1.0, 20
    rate, eta = estimate.rate_and_eta(10)
    assert rate == pytest.approx(10.0)
    assert eta == pytest.approx(90 * 2 * 60 / 60)  # 180 s, not the 9 s the first second suggests


def test_an_estimate_waits_for_a_sample_and_needs_a_total() -> None:
    clock = [0.0]
    estimate = PhaseEstimate(None, monotonic=lambda: clock[0])
    assert estimate.rate_and_eta(5) == (None, None)  # too early to say
    clock[0] = 2.0
    assert estimate.rate_and_eta(10) == (5.0, None)  # a rate, but no total: no time left


def test_a_status_phase_is_a_sync_phase_and_the_old_words_still_mean_the_same() -> None:
    from desktop_app.sync.status import SyncPhase

    assert SyncStatus().phase is SyncPhase.NONE and not SyncStatus().phase
    for word, phase in [("push", SyncPhase.PUSH), ("pull", SyncPhase.PULL), ("index", SyncPhase.INDEX),
                        ("reconcile", SyncPhase.RECONCILE), ("", SyncPhase.NONE)]:
        status = SyncStatus(SyncState.SYNCING, phase=word)  # a plain word, as before the enum
        assert status.phase is phase and status.phase == word
    assert _view(SyncStatus(SyncState.SYNCING, phase=SyncPhase.RECONCILE)).state is BarState.CHECKING
