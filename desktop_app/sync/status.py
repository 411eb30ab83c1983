"""What the sync service reports to the UI and the command line."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class SyncState(enum.StrEnum):
    IDLE = "idle"  # the last run succeeded; waiting for the next one
    SYNCING = "syncing"
    OFFLINE = "offline"  # the service did not answer; retrying by itself
    WORKING_OFFLINE = "working_offline"  # the person chose not to touch the network
    FAILED = "failed"  # the last run failed for another reason; see message
    AUTH_FAILED = "auth_failed"  # credentials refused: needs the person to sign in again


class SyncPhase(enum.StrEnum):
    """Which part of a run is going (equal to the words stored and tested before: "push", ...)."""

    NONE = ""  # no run is going
    PUSH = "push"  # sending queued edits
    PULL = "pull"  # receiving changed end users
    RESPONSES = "responses"  # receiving survey responses (new ones, and the trailing re-read)
    DECLINES = "declines"  # receiving declined surveys
    INDEX = "index"  # building the search index after a first pull
    RECONCILE = "reconcile"  # checking the service for deleted end users


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """One snapshot of the sync service; a new one is published on every change."""

    state: SyncState = SyncState.IDLE
    phase: SyncPhase = SyncPhase.NONE
    done: int = 0  # rows pulled, end users indexed or edits pushed in this phase
    total: int | None = None  # an estimate where the service gives no count
    rate_per_s: float | None = None
    eta_s: float | None = None
    last_success_at: int | None = None
    next_retry_at: float | None = None
    pending: int = 0
    conflicts: int = 0
    rejected: int = 0
    message: str = ""
    send_at: float | None = None  # queued edits held back until then (an undo grace period)

    def __post_init__(self) -> None:
        if not isinstance(self.phase, SyncPhase):  # the words before the enum: "pull" and so on
            object.__setattr__(self, "phase", SyncPhase(self.phase))

    @property
    def is_healthy(self) -> bool:
        """True only when the last contact with the service worked; offline never counts."""
        return self.state in (SyncState.IDLE, SyncState.SYNCING)
