"""The sync engine's writes of survey history: pulled responses and declines, their cursors,
and each touched end user's summary, all in the caller's one write transaction.

Nothing of the history is edited locally, so a pulled row always replaces the cached one (a
re-read is the newer truth, even where the service left `updated_at` alone on a new tag).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence

from sqlalchemy import Connection

from desktop_app.cache.rows import dump_json
from desktop_app.cache.writes.sync import set_cursor
from desktop_app.domain import SurveyDecline, SurveyResponse

_RESPONSE_COLUMNS = (
    "id", "end_user_id", "survey_id", "score", "text", "completed",
    "excluded_from_calculations", "channel", "ip_address", "origin_url", "created_at",
    "updated_at", "tags_json", "notes_json", "end_user_email", "end_user_properties_json",
)
_DECLINE_COLUMNS = ("id", "end_user_id", "survey_id", "origin_url", "created_at", "updated_at")


def _upsert(table: str, columns: Sequence[str]) -> str:
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
            f" ON CONFLICT(id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in columns[1:])}")


UPSERT_RESPONSE = _upsert("response", _RESPONSE_COLUMNS)
UPSERT_DECLINE = _upsert("decline", _DECLINE_COLUMNS)

# One statement for the summaries of the end users in `json_each(?)`: the counts, and the
# newest response that counts (as the (end_user_id, created_at) index orders them).
_LATEST = ("(SELECT {col} FROM response r WHERE r.end_user_id = u.value"
           " AND NOT r.excluded_from_calculations ORDER BY r.created_at DESC, r.id DESC LIMIT 1)")
REFRESH_SUMMARIES = (
    "INSERT INTO survey_summary (end_user_id, response_count, decline_count, latest_response_id,"
    " latest_score, latest_response_at, latest_decline_at)"
    " SELECT u.value,"
    " (SELECT count(*) FROM response r WHERE r.end_user_id = u.value),"
    " (SELECT count(*) FROM decline d WHERE d.end_user_id = u.value),"
    f" {_LATEST.format(col='r.id')}, {_LATEST.format(col='r.score')},"
    f" {_LATEST.format(col='r.created_at')},"
    " (SELECT max(d.created_at) FROM decline d WHERE d.end_user_id = u.value)"
    " FROM json_each(?) u WHERE true"  # `WHERE true`: SQLite's upsert-after-SELECT rule
    " ON CONFLICT(end_user_id) DO UPDATE SET response_count = excluded.response_count,"
    " decline_count = excluded.decline_count, latest_response_id = excluded.latest_response_id,"
    " latest_score = excluded.latest_score, latest_response_at = excluded.latest_response_at,"
    " latest_decline_at = excluded.latest_decline_at"
)


def _response_values(r: SurveyResponse) -> tuple[object, ...]:
    return (r.id, r.end_user_id, r.survey_id, r.score, r.text, r.completed,
            r.excluded_from_calculations, r.channel, r.ip_address, r.origin_url, r.created_at,
            r.updated_at, dump_json(list(r.tags)), dump_json(list(r.notes)), r.end_user_email,
            dump_json(dict(r.end_user_properties)))


def _decline_values(d: SurveyDecline) -> tuple[object, ...]:
    return (d.id, d.end_user_id, d.survey_id, d.origin_url, d.created_at, d.updated_at)


def refresh_summaries(connection: Connection, end_user_ids: Sequence[int]) -> None:
    if end_user_ids:
        connection.exec_driver_sql(REFRESH_SUMMARIES, (json.dumps(sorted(set(end_user_ids))),))


def _set_cursors(connection: Connection, cursors: Mapping[str, int | None]) -> None:
    for key, value in cursors.items():
        set_cursor(connection, key, value)


def _ingest(connection: Connection, upsert: str, values: Sequence[tuple[object, ...]],
            end_user_ids: set[int], cursors: Mapping[str, int | None]) -> list[int]:
    if values:
        connection.exec_driver_sql(upsert, values)
    touched = sorted(end_user_ids)
    refresh_summaries(connection, touched)
    _set_cursors(connection, cursors)
    return touched


def ingest_responses(connection: Connection, responses: Sequence[SurveyResponse],
                     cursors: Mapping[str, int | None]) -> list[int]:
    """Upsert a page of responses, refresh their end users' summaries, move the cursors.

    Returns the end users whose history changed."""
    return _ingest(connection, UPSERT_RESPONSE, [_response_values(r) for r in responses],
                   {r.end_user_id for r in responses}, cursors)


def ingest_declines(connection: Connection, declines: Sequence[SurveyDecline],
                    cursors: Mapping[str, int | None]) -> list[int]:
    """Upsert a page of declines, refresh their end users' summaries, move the cursors."""
    return _ingest(connection, UPSERT_DECLINE, [_decline_values(d) for d in declines],
                   {d.end_user_id for d in declines}, cursors)


HISTORY_TABLES = ("response", "decline")


def remove_unlisted(connection: Connection, table: str, since: int,
                    listed: Collection[int]) -> tuple[int, list[int]]:
    """Rows of `table` created at or after `since` that a whole walk of that range did not list
    were deleted on the service: they go, and their end users' summaries follow.

    Returns (rows removed, end users whose history changed)."""
    if table not in HISTORY_TABLES:
        raise ValueError(f"no survey history table {table!r}")
    cached = connection.exec_driver_sql(
        f"SELECT id, end_user_id FROM {table} WHERE created_at >= ?", (since,)).all()
    gone = [(int(i), int(u)) for i, u in cached if i not in listed]
    if not gone:
        return 0, []
    connection.exec_driver_sql(
        f"DELETE FROM {table} WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps([i for i, _ in gone]),))
    touched = sorted({u for _, u in gone})
    refresh_summaries(connection, touched)
    return len(gone), touched


def forget_history(connection: Connection) -> None:
    """The history of end users in temp.gone_ids leaves with them (deleted on the service)."""
    for table in HISTORY_TABLES:
        connection.exec_driver_sql(
            f"DELETE FROM {table} WHERE end_user_id IN (SELECT id FROM temp.gone_ids)")
    connection.exec_driver_sql(
        "DELETE FROM survey_summary WHERE end_user_id IN (SELECT id FROM temp.gone_ids)")
