"""What confirmations promise about undo, and how the activity line's notice follows the sync."""

from __future__ import annotations

from desktop_app.sync.bar_state import BarState
from desktop_app.sync.status import SyncState, SyncStatus
from desktop_app.sync.undo_words import UndoNotice, undo_promise, undo_question_note

NOW = 1_800_000_000.0
WAITING = SyncStatus(SyncState.IDLE, last_success_at=int(NOW), pending=1, send_at=NOW + 5)
SENDING = SyncStatus(SyncState.SYNCING, phase="push", pending=1, total=1)
PULLING = SyncStatus(SyncState.SYNCING, phase="pull", pending=0)
UP_TO_DATE = SyncStatus(SyncState.IDLE, last_success_at=int(NOW))
OFFLINE = SyncStatus(SyncState.OFFLINE, pending=1, next_retry_at=NOW + 8)


def test_online_the_promise_is_the_grace() -> None:
    assert undo_promise(BarState.WAITING_TO_SEND, 5) == "You can undo this for 5 seconds (Ctrl+Z)."
    assert undo_promise(BarState.UP_TO_DATE, 1) == "You can undo this for 1 second (Ctrl+Z)."
    assert undo_promise(BarState.RECEIVING, 0) == "It is sent to the service at once, and then can no longer be undone."
    assert undo_question_note(BarState.UP_TO_DATE, 5) == (
        "Once done, you can undo them for 5 seconds (Ctrl+Z); then they are sent to the service.")


def test_offline_the_promise_is_the_next_sync() -> None:
    for state in (BarState.OFFLINE, BarState.WORKING_OFFLINE, BarState.FAILED, BarState.SIGN_IN_NEEDED):
        assert undo_promise(state, 5) == "You can undo this until the next sync (Ctrl+Z)."
        assert undo_question_note(state, 0) == (
            "The changes stay on this computer until the next sync, and can be undone until then.")
    assert undo_promise(BarState.NO_ACCOUNT, 5) == "It stays on this computer; you can undo it (Ctrl+Z)."


def test_the_notice_says_sent_once_the_outbox_drains() -> None:
    notice = UndoNotice("Done: Set plan.", WAITING, 5)
    assert notice.text == "Done: Set plan. You can undo this for 5 seconds (Ctrl+Z)."
    assert not notice.follow(WAITING)  # nothing new
    assert notice.follow(SENDING)
    assert notice.text == "Done: Set plan. Sending — it can no longer be undone."
    assert notice.follow(PULLING)
    assert notice.text == "Done: Set plan. Sent — can no longer be undone."
    assert not notice.follow(UP_TO_DATE)


def test_a_quick_push_the_bar_never_showed_still_reads_as_sent() -> None:
    notice = UndoNotice("Done: Set plan.", WAITING, 5)
    assert notice.follow(UP_TO_DATE)
    assert notice.text == "Done: Set plan. Sent — can no longer be undone."


def test_a_push_already_running_when_the_edit_was_made_is_not_its_push() -> None:
    notice = UndoNotice("Done: Set plan.", SyncStatus(SyncState.SYNCING, phase="push", pending=40), 5)
    assert not notice.follow(SyncStatus(SyncState.SYNCING, phase="pull", pending=12))  # held back
    assert not notice.follow(SyncStatus(SyncState.IDLE, pending=12, send_at=NOW + 3))
    assert notice.text == "Done: Set plan. You can undo this for 5 seconds (Ctrl+Z)."


def test_going_offline_before_the_push_keeps_it_undoable_until_the_next_sync() -> None:
    notice = UndoNotice("Done: Set plan.", WAITING, 5)
    assert notice.follow(OFFLINE)
    assert notice.text == "Done: Set plan. Not sent yet: you can undo this until the next sync (Ctrl+Z)."
    sending_then_offline = UndoNotice("Done: Set plan.", WAITING, 5)
    sending_then_offline.follow(SENDING)
    sending_then_offline.follow(OFFLINE)
    assert sending_then_offline.text == "Done: Set plan. Not all sent yet; what was sent can no longer be undone."


def test_a_conflict_is_not_called_sent() -> None:
    notice = UndoNotice("Done: Set plan.", WAITING, 5)
    assert notice.follow(SyncStatus(SyncState.IDLE, last_success_at=int(NOW), conflicts=1))
    assert notice.text == "Done: Set plan. The service answered: some edits need you (the button below)."
