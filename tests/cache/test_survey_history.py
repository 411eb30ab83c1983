"""The cache's survey history: responses and declines upserted by id, each end user's summary
kept in the same transaction, cursors committed with the rows, and the v4 -> v5 upgrade."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from desktop_app.cache.schema import database
from desktop_app.cache.store import Cache
from desktop_app.domain import SurveyDecline, SurveyResponse

from .conftest import T0, end_user


def response(id: int, end_user_id: int, score: int, created_at: int, **fields: object) -> SurveyResponse:
    return SurveyResponse(id=id, end_user_id=end_user_id, score=score, created_at=created_at,
                          updated_at=created_at, **fields)


def test_responses_land_with_their_end_users_summary_and_the_cursor(cache: Cache) -> None:
    page = [
        response(1, 7, 9, T0, text="Love it", tags=("ux",), end_user_properties={"plan": "pro"}),
        response(2, 7, 3, T0 + 50, text="Too slow", notes=('{"text": "call"}',)),
        response(3, 7, 10, T0 + 90, excluded_from_calculations=True),  # a test answer
        response(4, 8, 6, T0 + 10),
    ]
    changes = cache.ingest_responses(page, {"responses.created_at": T0 + 90})
    assert changes.end_user_ids == frozenset({7, 8})
    assert cache.cursor("responses.created_at") == T0 + 90
    assert [r.id for r in cache.responses_of(7)] == [1, 2, 3]
    assert cache.responses_of(7)[0] == page[0]  # every field round-trips
    seven = cache.survey_summary(7)
    assert seven is not None
    # the excluded response counts as a response but is not the latest score
    assert (seven.response_count, seven.latest_response_id, seven.latest_score,
            seven.latest_response_at) == (3, 2, 3, T0 + 50)
    assert cache.survey_summary(8).latest_score == 6


def test_a_re_read_replaces_a_response_and_its_summary(cache: Cache) -> None:
    cache.ingest_responses([response(1, 7, 9, T0), response(2, 7, 4, T0 + 5)], {})
    tagged = response(2, 7, 4, T0 + 5, tags=("billing",), excluded_from_calculations=True)
    cache.ingest_responses([tagged], {})  # the same updated_at: still the newer truth
    assert cache.responses_of(7)[1].tags == ("billing",)
    summary = cache.survey_summary(7)
    assert summary is not None and (summary.response_count, summary.latest_score) == (2, 9)


def test_declines_count_beside_responses(cache: Cache) -> None:
    cache.ingest_responses([response(1, 7, 9, T0)], {})
    cache.ingest_declines([SurveyDecline(11, 7, T0 + 1, T0 + 1), SurveyDecline(12, 7, T0 + 9, T0 + 9),
                           SurveyDecline(13, 9, T0, T0)], {"declines.created_at": T0 + 9})
    seven = cache.survey_summary(7)
    assert seven is not None
    assert (seven.response_count, seven.decline_count, seven.latest_decline_at) == (1, 2, T0 + 9)
    assert [d.id for d in cache.declines_of(7)] == [11, 12]
    assert cache.survey_summary(9).response_count == 0
    assert cache.cursor("declines.created_at") == T0 + 9
    assert cache.history_counts() == (1, 3)


def test_rows_and_cursor_commit_together_or_not_at_all(cache: Cache) -> None:
    """A page that fails half-way (here: a response the table cannot hold) leaves neither its
    rows nor its cursor: a resumed walk reads the page again."""
    cache.ingest_responses([response(1, 7, 9, T0)], {"responses.created_at": T0})
    broken = replace(response(3, 7, 9, T0 + 2), score=None)
    with pytest.raises(Exception, match="NOT NULL"):
        cache.ingest_responses([response(2, 7, 5, T0 + 1), broken], {"responses.created_at": T0 + 2})
    assert cache.cursor("responses.created_at") == T0
    assert [r.id for r in cache.responses_of(7)] == [1]
    assert cache.survey_summary(7).latest_score == 9


def test_history_leaves_with_an_end_user_deleted_on_the_service(cache: Cache) -> None:
    cache.ingest_pulled([end_user(7), end_user(8)], "end_users.updated_at", T0)
    cache.ingest_responses([response(1, 7, 9, T0), response(2, 8, 1, T0)], {})
    cache.ingest_declines([SurveyDecline(5, 7, T0, T0)], {})
    cache.remove_end_users([7])
    assert cache.responses_of(7) == [] and cache.declines_of(7) == []
    assert cache.survey_summary(7) is None and cache.survey_summary(8) is not None


def _schema(path: Path, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    connection = sqlite3.connect(path)
    try:
        return sorted(connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE tbl_name IN"
            f" ({', '.join('?' for _ in tables)})", tables).fetchall())
    finally:
        connection.close()


def test_a_v4_cache_gains_the_history_tables_as_a_fresh_file_has_them(
    tmp_path: Path, cache_path: Path,
) -> None:
    history = ("response", "decline", "survey_summary")
    fresh = tmp_path / "fresh.sqlite3"
    Cache.open(fresh).close()
    Cache.open(cache_path).close()
    connection = sqlite3.connect(cache_path)  # what schema 4 was: no history tables
    for table in ("response_text", "response_tag", *history, "erasure", "suppression_salt"):  # and what came after
        connection.execute(f"DROP TABLE {table}")
    connection.execute("PRAGMA user_version = 6")  # the schema before the history came
    connection.close()

    with Cache.open(cache_path) as cache:
        cache.ingest_responses([response(1, 7, 9, T0)], {})
        assert cache.survey_summary(7).latest_score == 9
    assert database.SCHEMA_VERSION == 10
    assert _schema(cache_path, history) == _schema(fresh, history)  # indexes included
    names = {name for name, _ in _schema(cache_path, history)}
    assert {"ix_response_end_user_created", "ix_response_created", "ix_decline_end_user_created",
            "ix_survey_summary_latest_score", "ix_survey_summary_response_count"} <= names
    [backup] = cache_path.parent.glob("*.bak")
    assert backup.name.startswith(f"{cache_path.name}.v6-")
