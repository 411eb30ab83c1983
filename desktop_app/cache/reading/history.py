"""The cache's reads of survey history: an end user's responses, declines and summary."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from desktop_app.domain import SurveyDecline, SurveyResponse

_RESPONSE_SQL = (
    "SELECT id, end_user_id, survey_id, score, text, completed, excluded_from_calculations,"
    " channel, ip_address, origin_url, created_at, updated_at, tags_json, notes_json,"
    " end_user_email, end_user_properties_json FROM response")


@dataclass(frozen=True, slots=True)
class SurveySummary:
    """An end user's history in one row (see `survey_summary`)."""

    end_user_id: int
    response_count: int
    decline_count: int
    latest_response_id: int | None
    latest_score: int | None
    latest_response_at: int | None
    latest_decline_at: int | None


def _response(row: Sequence[Any]) -> SurveyResponse:  # a row as SQLite holds it
    (rid, end_user_id, survey_id, score, text, completed, excluded, channel, ip, origin,
     created_at, updated_at, tags_json, notes_json, email, props_json) = row
    return SurveyResponse(
        id=int(rid), end_user_id=int(end_user_id), score=int(score), created_at=int(created_at),
        updated_at=int(updated_at), text=text, survey_id=survey_id, completed=bool(completed),
        excluded_from_calculations=bool(excluded), channel=channel, ip_address=ip,
        origin_url=origin, tags=tuple(json.loads(tags_json)), notes=tuple(json.loads(notes_json)),
        end_user_email=email, end_user_properties=json.loads(props_json))


@dataclass(frozen=True, slots=True)
class SurveyHistory:
    """What the detail panel shows of one end user's survey history, read in one snapshot."""

    responses: tuple[SurveyResponse, ...]  # oldest first
    declines: tuple[SurveyDecline, ...]
    summary: SurveySummary | None

    @property
    def latest_counted(self) -> SurveyResponse | None:
        """The response `score:` and `nps:` read (the newest not excluded from calculations)."""
        wanted = self.summary.latest_response_id if self.summary else None
        return next((r for r in self.responses if r.id == wanted), None)


class HistoryReads:
    """Read methods of Cache over `response`, `decline` and `survey_summary`."""

    _engine: Engine

    def survey_history(self, end_user_id: int) -> SurveyHistory | None:
        """The end user's whole history from the cache; None while the account's responses
        have never been walked (nothing to say yet, rather than "no responses")."""
        with self._engine.connect() as connection, connection.begin():
            walked = connection.exec_driver_sql(
                "SELECT EXISTS (SELECT 1 FROM sync_cursor WHERE key IN ('responses.created_at',"
                " 'responses.reread_at')) OR EXISTS (SELECT 1 FROM response)").scalar_one()
            if not walked:
                return None
            responses = connection.exec_driver_sql(
                f"{_RESPONSE_SQL} WHERE end_user_id = ? ORDER BY created_at, id", (end_user_id,)).all()
            declines = connection.exec_driver_sql(
                "SELECT id, end_user_id, created_at, updated_at, survey_id, origin_url"
                " FROM decline WHERE end_user_id = ? ORDER BY created_at, id", (end_user_id,)).all()
            summary = connection.exec_driver_sql(
                "SELECT end_user_id, response_count, decline_count, latest_response_id,"
                " latest_score, latest_response_at, latest_decline_at FROM survey_summary"
                " WHERE end_user_id = ?", (end_user_id,)).first()
        return SurveyHistory(
            tuple(_response(row) for row in responses),
            tuple(SurveyDecline(int(i), int(u), int(c), int(m), s, o) for i, u, c, m, s, o in declines),
            None if summary is None else SurveySummary(*summary))

    def responses_of(self, end_user_id: int) -> list[SurveyResponse]:
        """The end user's cached responses, oldest first."""
        with self._engine.connect() as connection:
            rows = connection.exec_driver_sql(
                f"{_RESPONSE_SQL} WHERE end_user_id = ? ORDER BY created_at, id",
                (end_user_id,)).all()
        return [_response(row) for row in rows]

    def declines_of(self, end_user_id: int) -> list[SurveyDecline]:
        """The end user's cached declines, oldest first."""
        with self._engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT id, end_user_id, created_at, updated_at, survey_id, origin_url"
                " FROM decline WHERE end_user_id = ? ORDER BY created_at, id",
                (end_user_id,)).all()
        return [SurveyDecline(int(i), int(u), int(c), int(m), s, o) for i, u, c, m, s, o in rows]

    def survey_summary(self, end_user_id: int) -> SurveySummary | None:
        with self._engine.connect() as connection:
            row = connection.exec_driver_sql(
                "SELECT end_user_id, response_count, decline_count, latest_response_id,"
                " latest_score, latest_response_at, latest_decline_at FROM survey_summary"
                " WHERE end_user_id = ?", (end_user_id,)).first()
        return None if row is None else SurveySummary(*row)

    def history_counts(self) -> tuple[int, int]:
        """(responses, declines) in the cache."""
        with self._engine.connect() as connection:
            responses = connection.exec_driver_sql("SELECT count(*) FROM response").scalar_one()
            declines = connection.exec_driver_sql("SELECT count(*) FROM decline").scalar_one()
        return int(responses), int(declines)
