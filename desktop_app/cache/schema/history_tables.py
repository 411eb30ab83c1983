"""Survey history: every response and decline of the account, and a summary per end user.

Rows are the service's (nothing here is edited locally), upserted by id on every pull. The
summary is kept in the same transaction as the rows it sums, so the filter terms to come
(`score:<=6`, `nps:detractor`, `responses:>=3`, `declines:>=2`, `responded:<90d`) read one
indexed row per end user instead of aggregating millions of responses.
"""

from __future__ import annotations

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel


class ResponseRow(SQLModel, table=True):
    """One survey response. JSON columns keep lists and the survey-time properties whole."""

    __tablename__ = "response"
    __table_args__ = (
        Index("ix_response_end_user_created", "end_user_id", "created_at"),
        Index("ix_response_created", "created_at"),
        # The NPS panel's reads (cache/reading/nps.py), from the indexes alone and only over
        # the responses that count towards NPS (the flag is a column too: SQLite 3.40 reads a
        # partial index's WHERE columns from the table): the account's by score, a filter's
        # by end user.
        Index("ix_response_nps", "score", "created_at", "excluded_from_calculations",
              sqlite_where=text("excluded_from_calculations = 0")),
        Index("ix_response_nps_by_user", "end_user_id", "created_at", "score", "excluded_from_calculations",
              sqlite_where=text("excluded_from_calculations = 0")),
    )

    id: int = Field(primary_key=True)  # the service's id
    end_user_id: int  # no foreign key: a response may arrive before its end user does
    survey_id: int | None = None
    score: int
    text: str | None = None
    completed: bool = True
    excluded_from_calculations: bool = False
    channel: str | None = None
    ip_address: str | None = None
    origin_url: str | None = None
    created_at: int
    updated_at: int
    tags_json: str = "[]"
    notes_json: str = "[]"
    end_user_email: str | None = None
    end_user_properties_json: str = "{}"  # as of survey time


class DeclineRow(SQLModel, table=True):
    """One declined survey."""

    __tablename__ = "decline"
    __table_args__ = (
        Index("ix_decline_end_user_created", "end_user_id", "created_at"),
        Index("ix_decline_created", "created_at"),
    )

    id: int = Field(primary_key=True)
    end_user_id: int
    survey_id: int | None = None
    origin_url: str | None = None
    created_at: int
    updated_at: int


class SurveySummaryRow(SQLModel, table=True):
    """An end user's history in one row: counts, and the latest response that counts.

    `latest_*` is the newest response not excluded from calculations (Wootric leaves those
    out of NPS, so `nps:detractor` does too); `response_count` counts every response.
    """

    __tablename__ = "survey_summary"

    end_user_id: int = Field(primary_key=True)
    response_count: int = Field(default=0, index=True)
    decline_count: int = Field(default=0, index=True)
    latest_response_id: int | None = None
    latest_score: int | None = Field(default=None, index=True)
    latest_response_at: int | None = Field(default=None, index=True)
    latest_decline_at: int | None = None


HISTORY_TABLES = tuple(
    model.__table__  # type: ignore[union-attr]  # SQLModel sets it on table models
    for model in (ResponseRow, DeclineRow, SurveySummaryRow)
)
