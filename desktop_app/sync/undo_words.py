"""What a confirmation may say about undoing an edit, and what it says once that changes.

An edit stays undoable until a push carries it (see the service's undo grace): online that is
`grace` seconds after the newest edit, offline the next sync. The words are decided here, from
the sync bar's state, so the window's texts are true and tested without Qt.
"""

from __future__ import annotations

from desktop_app.sync.bar_state import BarState, bar_state
from desktop_app.sync.status import SyncStatus

UNDO_KEYS = "Ctrl+Z"
# Nothing goes out in these: an edit stays undoable until the next sync that reaches the service.
NOT_SENDING = frozenset({BarState.WORKING_OFFLINE, BarState.OFFLINE, BarState.FAILED,
                         BarState.SIGN_IN_NEEDED})


def seconds_words(seconds: float) -> str:
    n = max(0, int(round(seconds)))
    return "1 second" if n == 1 else f"{n} seconds"


def undo_promise(state: BarState, grace: float) -> str:
    """Said when an edit is done: how long it can be undone."""
    if state is BarState.NO_ACCOUNT:
        return f"It stays on this computer; you can undo it ({UNDO_KEYS})."
    if state in NOT_SENDING:
        return f"You can undo this until the next sync ({UNDO_KEYS})."
    if grace <= 0:
        return "It is sent to the service at once, and then can no longer be undone."
    return f"You can undo this for {seconds_words(grace)} ({UNDO_KEYS})."


def undo_question_note(state: BarState, grace: float) -> str:
    """Said in a bulk action's question, before it is done."""
    if state is BarState.NO_ACCOUNT:
        return "The changes stay on this computer, and can be undone."
    if state in NOT_SENDING:
        return "The changes stay on this computer until the next sync, and can be undone until then."
    if grace <= 0:
        return "The changes are sent to the service at once, and then can no longer be undone."
    return (f"Once done, you can undo them for {seconds_words(grace)} ({UNDO_KEYS}); "
            "then they are sent to the service.")


class UndoNotice:
    """The activity line's word on the newest edit: its promise first, then what came true.

    `follow` gets each status the bar shows. The bar's statuses are coalesced (a quick push may
    never show as "Sending"), so "sent" is read from the outbox draining, not from the phase.
    An undo also drains it, but then the window says "Undone." instead of this notice.
    """

    def __init__(self, done: str, status: SyncStatus | None, grace: float) -> None:
        self.done = done  # "Done: Disable surveys (3)."
        self._seen = (bar_state(status), status.pending if status else 0)
        self._sending = False
        self._said = undo_promise(self._seen[0], grace)

    @property
    def text(self) -> str:
        return f"{self.done} {self._said}"

    def follow(self, status: SyncStatus | None) -> bool:
        """Take the status the bar shows now; True when the text changed."""
        state, pending = bar_state(status), status.pending if status else 0
        # A rate-limit wait may come in any phase: it changes nothing of what was sent.
        if (state, pending) == self._seen or state is BarState.RATE_LIMITED:
            return False
        self._seen, before = (state, pending), self._said
        if state is BarState.SENDING:
            self._sending = True
            self._said = "Sending — it can no longer be undone."
        elif state in NOT_SENDING:
            if self._sending:  # a push cut short: some may have gone
                self._said = "Not all sent yet; what was sent can no longer be undone."
            else:
                self._said = f"Not sent yet: you can undo this until the next sync ({UNDO_KEYS})."
        elif pending == 0 and state is BarState.NEEDS_ATTENTION:
            self._said = "The service answered: some edits need you (the button below)."
        elif pending == 0 and state is not BarState.NO_ACCOUNT:
            self._said = "Sent — can no longer be undone."
        elif self._sending and state is BarState.EDITS_WAITING:
            self._said = "Partly sent; what was sent can no longer be undone."
        return self._said != before
