"""The tables beside `end_user`: server rows under edits, outbox, audit, conflicts, sync state.

Values of edits (bases, values, before/after, theirs) are JSON text so a property keeps its
type (1000 stays a number, ["a"] a list). Ids of outbox, audit and batches never repeat
(AUTOINCREMENT): the sync engine and the audit refer to edits by id after they left.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, String, text
from sqlmodel import Field, SQLModel

from desktop_app.cache.schema.history_tables import HISTORY_TABLES
from desktop_app.cache.schema.tables import EndUserRow


class ServerEndUserRow(SQLModel, table=True):
    """The last pulled server row of an end user whose effective row carries local edits.

    Present exactly while the end user has queued or conflicted edits; otherwise the
    `end_user` row *is* the server row and no copy is kept (so a 1M-row pull writes once).
    """

    __tablename__ = "server_end_user"

    id: int = Field(primary_key=True, foreign_key="end_user.id", ondelete="CASCADE")
    email: str
    external_id: str | None = None
    external_created_at: int | None = None
    last_surveyed: int | None = None
    phone_number: str | None = None
    created_at: int
    updated_at: int
    surveys_disabled: bool = False
    disabled_by: str = ""
    settings_json: str = "{}"
    properties_json: str = "{}"


class EditBatchRow(SQLModel, table=True):
    """One person-level action (one undo step), however many end users it touched."""

    __tablename__ = "edit_batch"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    key: str | None = None
    value_json: str = "null"
    created_at: int
    undoable: bool = True
    state: str = Field(default="done", index=True)  # done, undone, discarded
    pushed: bool = False  # some edit of it reached the service: it can no longer be undone
    # A bulk action (over a selection or a filter) rather than one end user's edit: its undo
    # name counts the end users ("Disable surveys (1)"), which the other columns cannot tell.
    bulk: bool = Field(default=False, sa_column_kwargs={"server_default": text("0")})
    # Each end user got their own value (a list's column: `email,plan,seats_amount`): the
    # values live in the batch's audit entries, and redo re-applies those, not `value_json`.
    per_row: bool = Field(default=False, sa_column_kwargs={"server_default": text("0")})


class PendingEditRow(SQLModel, table=True):
    """The outbox: edits not yet confirmed by the service, oldest first by id."""

    __tablename__ = "pending_edit"
    __table_args__ = (
        Index("ix_pending_edit_state_id", "state", "id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    end_user_id: int = Field(foreign_key="end_user.id", ondelete="CASCADE", index=True)
    batch_id: int = Field(index=True)
    kind: str
    key: str | None = None
    base_json: str = "null"
    value_json: str = "null"
    created_at: int
    state: str = "queued"
    message: str | None = None
    # Set, in its own durable commit, just before a push puts this edit's value on the wire as
    # ours: after a crash the service may hold it, and the merge must not take it for a
    # colleague's. NULL: never sent. Cleared when the entry is refused or conflicted.
    sent_at: int | None = None


class AuditEntryRow(SQLModel, table=True):
    """Every local edit ever made and what became of it; outlives the outbox entry."""

    __tablename__ = "audit_entry"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    edit_id: int = Field(index=True)
    batch_id: int = Field(index=True)
    end_user_id: int = Field(index=True)
    kind: str
    key: str | None = None
    before_json: str = "null"
    after_json: str = "null"
    created_at: int
    outcome: str = "queued"
    outcome_at: int | None = None
    message: str | None = None


class ConflictRow(SQLModel, table=True):
    """A conflicted outbox entry's three values; leaves with the entry."""

    __tablename__ = "edit_conflict"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    edit_id: int = Field(foreign_key="pending_edit.id", ondelete="CASCADE", unique=True)
    end_user_id: int = Field(foreign_key="end_user.id", ondelete="CASCADE", index=True)
    field: str
    key: str | None = None
    base_json: str = "null"
    mine_json: str = "null"
    theirs_json: str = "null"
    created_at: int


class SyncCursorRow(SQLModel, table=True):
    """Named sync checkpoints (e.g. the updated_at the next pull starts from)."""

    __tablename__ = "sync_cursor"

    key: str = Field(primary_key=True)
    value: int | None = None


class SyncRunRow(SQLModel, table=True):
    """One sync run; `running` rows whose process is gone are marked interrupted on open."""

    __tablename__ = "sync_run"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    outcome: str = Field(default="running", index=True)
    reason: str = ""
    started_at: int
    finished_at: int | None = None
    counts_json: str = "{}"
    pid: int | None = None


class PropertyKeyRow(SQLModel, table=True):
    """Property keys seen in the cache, for completion and columns without a 1M-row scan."""

    __tablename__ = "property_key"

    key: str = Field(primary_key=True)


class SearchIndexRow(SQLModel, table=True):
    """A search index recorded as complete (`search_index.py`): the planner trusts no other."""

    __tablename__ = "search_index"

    name: str = Field(primary_key=True)
    built_at: int


class SavedListRow(SQLModel, table=True):
    """A kept list: the people one file (or paste) matched, by name, for `list:<name>` later."""

    __tablename__ = "saved_list"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    # Unique ignoring case, as the filter term finds it (`list:"Last week"` is "last week").
    name: str = Field(sa_column=Column(String(collation="NOCASE"), unique=True, nullable=False))
    source: str = ""  # the file's name (not its folder), or "" for pasted text
    identifier_kind: str  # lists.identifiers.IdentifierKind: the column that said who is who
    created_at: int
    member_count: int = 0


class SavedListMemberRow(SQLModel, table=True):
    """One end user a kept list matched. No foreign key to `end_user`: a person erased later
    stays in the record of who the list named, and the filter simply finds them no more."""

    __tablename__ = "saved_list_member"

    list_id: int = Field(primary_key=True, foreign_key="saved_list.id", ondelete="CASCADE")
    end_user_id: int = Field(primary_key=True)


class ErasureRow(SQLModel, table=True):
    """A delete sent to the service, tracked until the service no longer has the person.

    pending: sent (`sent_at`), and once the service answered 202 (`accepted_at`) the person's
    row stays, marked `pending_delete = 2`, until a reconcile or a push finds them gone; then
    erased (`erased_at`): the row leaves, this record stays. Identifiers only as salted hashes
    (`cache.suppression`): this is also the suppression list.
    """

    __tablename__ = "erasure"

    end_user_id: int = Field(primary_key=True)  # no foreign key: the record outlives the row
    email_hash: str = Field(index=True)
    external_id_hash: str | None = Field(default=None, index=True)
    requested_at: int  # when the person asked for the delete (the outbox entry's time)
    sent_at: int | None = None
    accepted_at: int | None = None  # the service's 202
    erased_at: int | None = None
    state: str = "pending"  # pending, erased


class SuppressionSaltRow(SQLModel, table=True):
    """The one random salt of this cache file's identifier hashes (see cache.suppression)."""

    __tablename__ = "suppression_salt"

    id: int = Field(default=1, primary_key=True)
    salt: bytes


ALL_TABLES = tuple(
    model.__table__  # type: ignore[union-attr]  # SQLModel sets it on table models; its types do not say so
    for model in (
        EndUserRow, ServerEndUserRow, EditBatchRow, PendingEditRow, AuditEntryRow, ConflictRow,
        SyncCursorRow, SyncRunRow, PropertyKeyRow, SearchIndexRow, SavedListRow, SavedListMemberRow,
        ErasureRow, SuppressionSaltRow,
    )
) + HISTORY_TABLES
