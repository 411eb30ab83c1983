"""The survey history in the filter language: score:, nps:, responded:, responses:, declines:,
comment:, tag: and has:response, over a real cache file the sync's own writes filled.

What `excluded_from_calculations` means for each term: `score:`, `nps:` and `responded:` read
the latest response that counts (Wootric leaves excluded ones out of NPS); `responses:`,
`comment:`, `tag:` and `has:response` see every response.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from desktop_app.cache.filters.language import FilterError, parse_filter
from desktop_app.cache.filters.words import describe_filter
from desktop_app.cache.reading.query import EndUserQuery, SortSpec
from desktop_app.cache.schema import database
from desktop_app.cache.store import Cache
from desktop_app.domain import SurveyDecline, SurveyResponse

from .conftest import T0, StepClock, end_user

BY_ID = SortSpec("id")
DAY = 86_400


def response(id: int, end_user_id: int, score: int, created_at: int, **fields: object) -> SurveyResponse:
    return SurveyResponse(id=id, end_user_id=end_user_id, score=score, created_at=created_at,
                          updated_at=created_at, **fields)


@pytest.fixture
def surveyed(cache: Cache, clock: StepClock) -> Cache:
    """End users 1..8 with history: 1 detractor, 2 passive (a later excluded 10), 3 promoter
    long ago, 4 declined twice and never answered, 5 three answers, 6..8 nothing."""
    cache.ingest_pulled([end_user(i) for i in range(1, 9)], "end_users", T0)
    cache.ingest_responses([
        response(1, 1, 3, T0 - 5 * DAY, text="Too slow on Mondays", tags=("billing", "Speed")),
        response(2, 2, 8, T0 - 10 * DAY, text="fine"),
        response(3, 2, 10, T0 - DAY, text="test answer", excluded_from_calculations=True),
        response(4, 3, 9, T0 - 400 * DAY, text="Love it", tags=("ux",)),
        response(5, 5, 6, T0 - 300 * DAY, text="SLOW exports"),
        response(6, 5, 7, T0 - 200 * DAY),
        response(7, 5, 10, T0 - 20 * DAY, tags=("BILLING",)),
        response(8, 99, 0, T0),  # an end user not pulled yet
    ], {})
    cache.ingest_declines([SurveyDecline(11, 4, T0 - DAY, T0 - DAY), SurveyDecline(12, 4, T0, T0),
                           SurveyDecline(13, 1, T0, T0)], {})
    clock.value = T0
    return cache


@pytest.mark.parametrize(("text", "ids"), [
    ("score:<=6", [1]),
    ("score:9|10", [3, 5]),
    ("score:7..8", [2]),  # the excluded 10 is not user 2's latest score
    ("nps:detractor", [1]),
    ("nps:passive", [2]),
    ("nps:promoter|detractor", [1, 3, 5]),
    ("-nps:promoter", [1, 2, 4, 6, 7, 8]),
    ("responded:<30d", [1, 2, 5]),
    ("responded:>1y", [3]),
    ("responses:>=3", [5]),
    ("responses:2", [2]),  # the excluded response is still a response
    ("responses:<1", [4, 6, 7, 8]),  # no history at all is zero responses
    ("responses:0", [4, 6, 7, 8]),
    ("declines:>=2", [4]),
    ("declines:0..1", [1, 2, 3, 5, 6, 7, 8]),
    ('comment:"too slow"', [1]),
    ("comment:slow", [1, 5]),
    ("comment:test", [2]),  # any response's text, excluded ones too
    ("comment:sl*w", [1, 5]),
    ("comment:t*w", [1, 2]),  # "Too slow", "test answer"
    ("tag:billing", [1, 5]),
    ("tag:speed|ux", [1, 3]),
    ("tag:bill*", [1, 5]),
    ("has:response", [1, 2, 3, 5]),
    ("-has:response", [4, 6, 7, 8]),
    ("has:decline", [1, 4]),
    ("nps:detractor responded:<90d", [1]),
    ("prop.score:>1", []),  # a property called score is still reachable
])
def test_history_terms_find_their_end_users(surveyed: Cache, text: str, ids: list[int]) -> None:
    query = EndUserQuery(surveyed.engine, clock=StepClock(T0))
    assert list(query.ids(text, BY_ID)) == ids, text
    assert query.count(text) == len(ids), text
    assert [row.id for row in query.page(text, BY_ID, 0, 2)] == ids[:2]


@pytest.mark.parametrize(("text", "message"), [
    ("nps:detracter", "Unknown value 'detracter' for nps: — did you mean 'detractor'?"),
    ("nps:happy", "Unknown value 'happy' for nps: — use detractor, passive or promoter"),
    ("score:high", "'high' is not a whole number — score takes numbers like score:<=6"),
    ("responses:>=a", "'a' is not a whole number — responses takes numbers like responses:>=3"),
    ("responded:90d", "Say responded:<90d for within the last 90 days, or responded:>90d for longer ago"),
    ("responded:2024-13", "'2024-13' is not a date — use 2024, 2024-01 or 2024-01-31"),
    ('score:"6"', "'6' is not a number or a date"),
    ("tag:", "A value is missing after ':' (for example plan:pro)"),
])
def test_bad_history_terms_say_what_to_type(text: str, message: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter(text)
    assert caught.value.message == message


def test_history_terms_read_in_words() -> None:
    assert describe_filter("nps:detractor responded:<90d") == (
        "detractors (latest score 0–6) and last responded within the last 90 days")
    assert describe_filter('score:<=6 comment:"too slow" tag:billing') == (
        "latest score at most 6 and with a response comment containing “too slow”"
        " and with a response tagged “billing”")
    assert describe_filter("-has:response declines:>=2") == (
        "not (who responded to a survey) and declines at least 2")


def test_comment_and_tag_values_are_bound_never_inlined(surveyed: Cache) -> None:
    hostile = "x') OR 1=1 --"
    query = EndUserQuery(surveyed.engine, clock=StepClock(T0))
    assert query.count(f'comment:"{hostile}"') == 0
    assert query.count(f'tag:"{hostile}"') == 0


def test_a_re_read_moves_the_comment_and_tag_indexes(surveyed: Cache) -> None:
    query = EndUserQuery(surveyed.engine, clock=StepClock(T0))
    surveyed.ingest_responses([response(4, 3, 9, T0 - 400 * DAY, text="slow lately", tags=("billing",))], {})
    assert list(query.ids("comment:lately", BY_ID)) == [3]
    assert list(query.ids("tag:billing", BY_ID)) == [1, 3, 5]
    assert list(query.ids("tag:ux", BY_ID)) == []
    assert list(query.ids('comment:"love it"', BY_ID)) == []


def test_the_trigram_index_and_the_tag_table_serve_comment_and_tag(surveyed: Cache) -> None:
    with sqlite3.connect(surveyed.path) as raw:
        rows = raw.execute("SELECT rowid FROM response_text WHERE response_text MATCH ?", ('"slo" AND "low"',)).fetchall()
        assert sorted(r for (r,) in rows) == [1, 5]
        plan = " ".join(str(r[3]) for r in raw.execute(
            "EXPLAIN QUERY PLAN SELECT end_user_id FROM response_tag WHERE tag IN ('billing')"))
        assert "USING COVERING INDEX ix_response_tag_tag" in plan
        assert raw.execute("SELECT count(*) FROM response_tag WHERE tag = 'BILLING'").fetchone()[0] == 2


def test_a_v9_cache_gains_the_history_indexes_filled_from_its_responses(tmp_path: Path, cache_path: Path) -> None:
    fresh = tmp_path / "fresh.sqlite3"
    Cache.open(fresh).close()
    with Cache.open(cache_path) as cache:
        cache.ingest_pulled([end_user(1), end_user(2)], "end_users", T0)
        cache.ingest_responses([response(1, 1, 3, T0, text="Too slow", tags=("billing",)),
                                response(2, 2, 9, T0, text="great")], {})
    connection = sqlite3.connect(cache_path)  # what schema 9 was: no search tables over responses
    for table in ("response_text", "response_tag"):
        connection.execute(f"DROP TABLE {table}")
    for trigger in ("ai", "ad", "text_au", "tag_au"):
        connection.execute(f"DROP TRIGGER response_history_{trigger}")
    connection.execute("PRAGMA user_version = 9")
    connection.close()

    with Cache.open(cache_path, clock=StepClock(T0)) as cache:
        query = EndUserQuery(cache.engine, clock=StepClock(T0))
        assert list(query.ids("comment:slow", BY_ID)) == [1]
        assert list(query.ids("tag:BILLING", BY_ID)) == [1]
    assert database.SCHEMA_VERSION == 10

    def schema(path: Path) -> list[tuple[str, str]]:
        with sqlite3.connect(path) as raw:
            return sorted(raw.execute("SELECT name, sql FROM sqlite_master WHERE name LIKE 'response%'"
                                      " OR name LIKE 'ix_response_tag%'").fetchall())
    assert schema(cache_path) == schema(fresh)
