"""The cache's public value types: edits, conflicts, audit entries, sync runs (frozen, Qt-free)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from desktop_app.domain import EndUser
from desktop_app.user_errors import ErrorKind, UserFacingError


class EditKind(enum.StrEnum):
    """What one local edit changes."""

    SET_PROPERTY = "set_property"
    UNSET_PROPERTY = "unset_property"
    SET_EMAIL = "set_email"
    SET_EXTERNAL_ID = "set_external_id"
    SET_SURVEYS = "set_surveys"  # value: True = every channel on, False = every channel off
    DELETE = "delete"
    # A new end user made here (an import): the row has a local, negative id until the push
    # creates it on the service and maps that id to the service's. Value: the created fields.
    CREATE = "create"

    @property
    def field(self) -> str:
        """The target an edit of this kind changes, as the push merge names it."""
        return _FIELD_OF_KIND[self]


_FIELD_OF_KIND = {
    EditKind.SET_PROPERTY: "properties",
    EditKind.UNSET_PROPERTY: "properties",
    EditKind.SET_EMAIL: "email",
    EditKind.SET_EXTERNAL_ID: "external_id",
    EditKind.SET_SURVEYS: "surveys",
    EditKind.DELETE: "delete",
    EditKind.CREATE: "create",
}


def is_local(end_user_id: int) -> bool:
    """Whether an end user id is a local one: created here, not yet on the service (negative)."""
    return end_user_id < 0


class EditState(enum.StrEnum):
    """Where an outbox entry stands."""

    QUEUED = "queued"  # waiting to be pushed; laid over the effective row
    REJECTED = "rejected"  # the service refused it; no longer laid over the row
    CONFLICTED = "conflicted"  # the server changed the same thing; still laid over the row


class AuditOutcome(enum.StrEnum):
    """What finally became of an audited edit."""

    QUEUED = "queued"
    PUSHED = "pushed"
    REJECTED = "rejected"
    CONFLICTED = "conflicted"
    UNDONE = "undone"
    SUPERSEDED = "superseded"  # replaced by a newer edit of the same target
    DISCARDED = "discarded"  # dropped: theirs kept, or the end user is gone


class ConflictChoice(enum.StrEnum):
    """How a person settles a conflict; the values are the command line's `--choice` words."""

    MINE = "mine"  # send my value again, now based on theirs
    THEIRS = "theirs"  # keep the service's value; my edit leaves
    VALUE = "value"  # send a new value, based on theirs


class EditRejected(UserFacingError, ValueError):
    """An edit that fails validation; nothing was written. `message` is fit to show a person."""

    title = "That change is not allowed"
    kind = ErrorKind.INPUT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CacheError(UserFacingError, RuntimeError):
    """The cache file cannot be opened or upgraded; the message says what to do."""

    title = headline = "The cache could not be read or written"


class CacheBusy(CacheError):
    """Another process held the cache's write lock past the busy timeout; nothing was written."""

    def __init__(self) -> None:
        super().__init__("The cache is busy: another Wootric Desk or a wootric-desk command is "
                         "writing to it. Nothing was changed; try again in a moment.")


@dataclass(frozen=True, slots=True)
class PendingEdit:
    """One outbox entry: a local edit of one end user not yet confirmed by the service.

    `base` is the value on the server when the edit was made (for the three-way merge), not
    the previous local value. Property values keep their JSON type; SET_SURVEYS values and
    bases are "enabled" booleans; a DELETE has value True and base None. `sent_at` is set
    while a push that carried `value` as ours may have reached the service (see the merge).
    """

    id: int
    end_user_id: int
    batch_id: int
    kind: EditKind
    key: str | None
    base: object
    value: object
    created_at: int
    state: EditState = EditState.QUEUED
    message: str | None = None
    sent_at: int | None = None


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """One undo step (an edit batch) as its name needs it: the kind of edit, its property key,
    its value (SET_SURVEYS: True = enabled), how many end users it changes, and whether it was
    a bulk action (its name then counts them, even when it changed just one end user)."""

    batch_id: int
    kind: EditKind
    key: str | None
    value: object
    end_users: int
    bulk: bool
    # Each end user got their own value (a list's columns): `value` is None and `key` names
    # the keys set, comma-separated ("plan, seats_amount").
    per_row: bool = False


@dataclass(frozen=True, slots=True)
class UndoState:
    """What undo and redo would do now, read in one snapshot; None where there is nothing."""

    undo: BatchSummary | None = None
    redo: BatchSummary | None = None


@dataclass(frozen=True, slots=True)
class CachedEndUser:
    """An end user as the cache holds it: the effective row, its outbox and the server's row."""

    end_user: EndUser  # effective: the server row with queued and conflicted edits laid over
    pending: tuple[PendingEdit, ...]  # every outbox entry, oldest first, whatever its state
    has_conflict: bool
    pending_delete: bool
    server: EndUser | None  # the last pulled (or pushed) server row
    erasure_pending: bool = False  # the service took the delete (202) and purges them later


@dataclass(frozen=True, slots=True)
class ConflictRecord:
    """A local edit the server contradicted: base, mine and theirs, nothing overwritten."""

    id: int
    end_user_id: int
    edit_id: int
    email: str
    field: str  # "properties", "email", "external_id", "surveys", "delete"
    key: str | None  # the property key for "properties"
    base: object
    mine: object
    theirs: object
    created_at: int


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited change: what, before, after, when, and whether it reached the service."""

    id: int
    edit_id: int
    batch_id: int
    end_user_id: int
    kind: EditKind
    key: str | None
    before: object  # the effective (local) value before the edit
    after: object
    created_at: int
    outcome: AuditOutcome
    outcome_at: int | None
    message: str | None

    @property
    def pushed(self) -> bool:
        return self.outcome is AuditOutcome.PUSHED


class SyncOutcome(enum.StrEnum):
    """How a recorded sync run ended; the values are the words stored in `sync_run.outcome`."""

    RUNNING = "running"
    COMPLETED = "completed"  # the only outcome that counts as "Last synced"
    PUSHED = "pushed"  # only sent held edits, on quitting: not a full sync
    OFFLINE = "offline"  # the service could not be reached
    AUTH_FAILED = "auth_failed"  # the service refused the credentials
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"  # the process ended while the run was going


@dataclass(frozen=True, slots=True)
class SyncRecords:
    """The cache's own account of sync, as the sync bar shows it (any process may change it)."""

    pending: int  # queued edits in the outbox
    conflicts: int
    rejected: int
    last_success_at: int | None  # when the newest completed sync run finished


@dataclass(frozen=True, slots=True)
class SyncRunRecord:
    """One recorded sync run."""

    id: int
    kind: str
    outcome: SyncOutcome | str  # a word this version does not know (a newer one wrote it) stays text
    reason: str
    started_at: int
    finished_at: int | None
    counts: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class SavedList:
    """A kept list: its name, where it came from, when, which column identified people, and
    how many end users it matched (`list:<name>` finds them)."""

    id: int
    name: str
    source: str  # the file's name, or "" for pasted text
    identifier_kind: str  # lists.identifiers.IdentifierKind's word
    created_at: int
    member_count: int
