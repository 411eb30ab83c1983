"""The NPS read of a filter (`EndUserQuery.nps`, cache/reading/nps.py) against a plain Python
reference over random end users and responses: every response in the period counts, excluded
ones never, months split at midnight on the 1st of the account zone, and the v7 upgrade."""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from desktop_app.cache.reading import nps
from desktop_app.cache.reading.nps import ACCOUNT_ZONE, month_bounds, months_back, round_half_away
from desktop_app.cache.reading.plan import Plan
from desktop_app.cache.reading.query import EndUserQuery
from desktop_app.cache.schema import database
from desktop_app.cache.store import Cache
from desktop_app.domain import EndUser, SurveyResponse

from .conftest import T0

PLANS = ("free", "pro", "business")
DAY = 86_400


def _at(text: str, zone: ZoneInfo = ACCOUNT_ZONE) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=zone).timestamp())


@pytest.fixture
def history(cache: Cache) -> tuple[Cache, list[EndUser], list[SurveyResponse]]:
    rng = random.Random(15)
    users = [EndUser(id=i, email=f"{'acme' if i % 7 == 0 else 'user'}{i}@example.com",
                     created_at=T0, updated_at=T0, properties={"plan": rng.choice(PLANS)})
             for i in range(1, 301)]
    cache.ingest_pulled(users, "end_users", T0)
    start = _at("2023-01-01T00:00:00")
    responses = []
    for rid in range(1, 2001):
        created = start + rng.randrange(400 * DAY)
        if rid % 50 == 0:  # on a month's first second and its last, in the account zone
            created = _at(f"2023-{rng.randrange(1, 13):02d}-01T00:00:00") - rng.randrange(2)
        responses.append(SurveyResponse(
            id=rid, end_user_id=rng.randrange(1, 321),  # a few whose end user is not cached
            score=rng.randrange(11), created_at=created, updated_at=created,
            excluded_from_calculations=rng.random() < 0.1))
    for page in range(0, len(responses), 500):
        cache.ingest_responses(responses[page:page + 500], {})
    return cache, users, responses


def _reference(users: list[EndUser], responses: list[SurveyResponse], shown: set[int] | None,
               start: int, end: int) -> tuple[list[int], dict[str, list[int]]]:
    total = [0] * 11
    months: dict[str, list[int]] = {}
    for r in responses:
        if r.excluded_from_calculations or not start <= r.created_at < end:
            continue
        if shown is not None and r.end_user_id not in shown:
            continue
        total[r.score] += 1
        local = datetime.fromtimestamp(r.created_at, ACCOUNT_ZONE)
        months.setdefault(f"{local.year:04d}-{local.month:02d}", [0] * 11)[r.score] += 1
    return total, months


@pytest.mark.parametrize("filter_text, shown", [
    ("", None),
    ("plan:pro", lambda u: u.properties["plan"] == "pro"),
    ("acme", lambda u: "acme" in (u.email or "")),
    ("-plan:free", lambda u: u.properties["plan"] != "free"),
])
@pytest.mark.parametrize("period", [
    ("2023-01-01T00:00:00", "2024-03-01T00:00:00"),
    ("2023-03-15T12:00:00", "2023-07-01T00:00:00"),  # a partial first month
    ("2023-06-01T00:00:00", "2023-06-01T00:00:01"),  # one second
])
def test_the_nps_of_a_filter_equals_a_python_reference(history, filter_text, shown, period) -> None:
    cache, users, responses = history
    start, end = (_at(p) for p in period)
    ids = None if shown is None else {u.id for u in users if shown(u)}
    total, months = _reference(users, responses, ids, start, end)

    report = EndUserQuery(cache.engine).nps(filter_text, start, end)

    assert list(report.counts.distribution) == total
    assert report.counts.responses == sum(total)
    assert report.counts.promoters == total[9] + total[10]
    assert report.counts.passives == total[7] + total[8]
    assert report.counts.detractors == sum(total[:7])
    if sum(total):
        exact = 100 * (sum(total[9:]) - sum(total[:7])) / sum(total)
        assert report.counts.nps == round_half_away(exact)
    shown_months = {m.label: list(m.counts.distribution) for m in report.months if m.counts.responses}
    assert shown_months == months
    assert [m.start for m in report.months] == [b[2] for b in month_bounds(start, end, ACCOUNT_ZONE)]


def test_all_time_runs_from_the_first_response_that_counts_to_the_last(history) -> None:
    cache, users, responses = history
    counted = [r for r in responses if not r.excluded_from_calculations]
    report = EndUserQuery(cache.engine).nps("plan:business")
    assert report.start == min(r.created_at for r in counted)
    assert report.end == max(r.created_at for r in counted) + 1
    business = {u.id for u in users if u.properties["plan"] == "business"}
    total, _ = _reference(users, responses, business, report.start, report.end)
    assert list(report.counts.distribution) == total


def test_excluded_responses_never_count_and_an_empty_period_is_empty(cache: Cache) -> None:
    cache.ingest_pulled([EndUser(id=1, email="a@example.com", created_at=T0, updated_at=T0)], "end_users", T0)
    cache.ingest_responses([
        SurveyResponse(1, 1, 10, T0, T0, excluded_from_calculations=True),
        SurveyResponse(2, 1, 0, T0 + 5, T0 + 5),
    ], {})
    query = EndUserQuery(cache.engine)
    assert query.nps("").counts.distribution == (1,) + (0,) * 10
    assert query.nps("").counts.nps == -100
    assert query.nps("", T0 + 6, T0 + 100).empty
    assert query.nps("plan:nobody").empty and query.nps("plan:nobody").counts.nps is None
    # the PUT that excludes the last one (a re-read) leaves nothing, and nothing in "all"
    cache.ingest_responses([SurveyResponse(2, 1, 0, T0 + 5, T0 + 9, excluded_from_calculations=True)], {})
    report = query.nps("")
    assert report.empty and report.months == () and report.counts.share(0) == 0.0


def test_last_months_start_on_the_first_of_the_month_in_the_account_zone() -> None:
    now = _at("2024-03-10T08:00:00")
    assert months_back(now, 1) == _at("2024-03-01T00:00:00")
    assert months_back(now, 3) == _at("2024-01-01T00:00:00")
    assert months_back(now, 12) == _at("2023-04-01T00:00:00")
    # a summer month starts at 07:00 UTC, a winter one at 08:00 UTC (Pacific)
    assert [b[2] for b in month_bounds(_at("2024-02-15T00:00:00"), _at("2024-04-02T00:00:00"), ACCOUNT_ZONE)] == [
        _at("2024-02-15T00:00:00"), _at("2024-03-01T00:00:00"), _at("2024-04-01T00:00:00")]
    assert _at("2024-04-01T00:00:00") % DAY == 7 * 3600


def test_both_reads_come_from_the_nps_indexes_alone(history) -> None:
    cache, _, _ = history
    raw = sqlite3.connect(cache.path)
    try:
        account = raw.execute(f"EXPLAIN QUERY PLAN {nps._RANGE_COUNT}", (1, 0, 9)).fetchall()
        plan = Plan("end_user", "id > 5", {}, "")
        shown = raw.execute(
            "EXPLAIN QUERY PLAN SELECT r.score FROM (SELECT id FROM end_user WHERE id > 5) AS shown"
            f" CROSS JOIN response AS r INDEXED BY {nps.NPS_USER_INDEX} ON r.end_user_id = shown.id"
            " WHERE r.excluded_from_calculations = 0 AND r.created_at >= 0 AND r.created_at < 9").fetchall()
        assert nps.read_nps(raw, plan, T0, T0 + 1).empty
    finally:
        raw.close()
    assert any("COVERING INDEX ix_response_nps (score=? AND created_at>? AND created_at<?)" in str(row[3])
               for row in account)
    assert any("COVERING INDEX ix_response_nps_by_user (end_user_id=? AND created_at>? AND created_at<?)"
               in str(row[3]) for row in shown)


def test_a_v7_cache_gains_the_nps_index_as_a_fresh_file_has_it(tmp_path: Path, cache_path: Path) -> None:
    fresh = tmp_path / "fresh.sqlite3"
    Cache.open(fresh).close()
    Cache.open(cache_path).close()
    connection = sqlite3.connect(cache_path)
    connection.execute("DROP INDEX ix_response_nps")
    connection.execute("DROP INDEX ix_response_nps_by_user")
    for table in ("erasure", "suppression_salt"):  # schema 9's tables came after
        connection.execute(f"DROP TABLE {table}")
    for table in ("response_text", "response_tag"):  # schema 10's search tables came after
        connection.execute(f"DROP TABLE {table}")
    for trigger in ("ai", "ad", "text_au", "tag_au"):
        connection.execute(f"DROP TRIGGER response_history_{trigger}")
    connection.execute("PRAGMA user_version = 7")
    connection.close()
    with Cache.open(cache_path) as cache:
        cache.ingest_responses([SurveyResponse(1, 7, 9, T0, T0)], {})
        assert EndUserQuery(cache.engine).nps("").counts.promoters == 1

    def ddl(path: Path) -> list[str]:
        c = sqlite3.connect(path)
        try:
            return [str(sql) for (sql,) in c.execute(
                "SELECT sql FROM sqlite_master WHERE name LIKE 'ix_response_nps%' ORDER BY name")]
        finally:
            c.close()

    assert database.SCHEMA_VERSION == 10
    assert len(ddl(cache_path)) == 2 and ddl(cache_path) == ddl(fresh)


def test_a_cancelled_nps_read_stops_like_any_other_read(history) -> None:
    from desktop_app.cache.reading.turns import interrupted_when

    cache, _, _ = history
    query = EndUserQuery(cache.engine)
    with interrupted_when(lambda: True), pytest.raises(sqlite3.OperationalError, match="interrupt"):
        query.nps("-plan:free", 0, 2**40)
    assert query.nps("-plan:free", 0, 2**40).counts.responses > 0  # the next read runs as ever
