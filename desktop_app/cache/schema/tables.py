"""The `end_user` table every reader (queries, export, UI) relies on.

It holds the *effective* end user: the server's row with pending local edits laid over it, so
filters, sorting and exports always show what the person sees. Other tables (outbox, audit,
conflicts, sync state) live beside it and are owned by the cache's store module.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class EndUserRow(SQLModel, table=True):
    __tablename__ = "end_user"

    id: int = Field(primary_key=True)  # the service's id
    email: str = Field(index=True)
    external_id: str | None = Field(default=None, index=True)
    external_created_at: int | None = None
    last_surveyed: int | None = Field(default=None, index=True)
    phone_number: str | None = None
    created_at: int = Field(index=True)
    updated_at: int = Field(index=True)  # the server's updated_at as last pulled
    surveys_disabled: bool = Field(default=False, index=True)
    disabled_by: str = ""  # DisabledBy value: "", "admin", "end_user"
    settings_json: str = "{}"  # SurveySettings channels, JSON object
    properties_json: str = "{}"  # custom properties, JSON object
    pending_count: int = Field(default=0, index=True)  # outbox entries not yet pushed
    has_conflict: bool = Field(default=False, index=True)
    pending_delete: bool = False  # deleted locally, not yet confirmed by the service
