"""Fixtures for the list tests: the cache tests' real cache file per test, and a crafted crowd."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.cache.store import Cache
from desktop_app.domain import SurveySettings
from tests.cache.conftest import StepClock, check_invariants, end_user

__all__ = ["StepClock", "check_invariants", "end_user"]


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def cache(tmp_path: Path, clock: StepClock) -> Iterator[Cache]:
    opened = Cache.open(tmp_path / "data" / "cache" / "account.sqlite3", clock=clock)
    yield opened
    opened.close()


@pytest.fixture
def crowd(cache: Cache) -> Cache:
    """End users 1..12 with the awkward cases a list meets:

    1 Ann@Example.com (mixed case), 2 and 3 share shared@example.com in two spellings (an
    email on two end users), 4 opted out of surveys herself, 5 surveys off by an admin,
    6 JOSÉ@example.com (not ASCII), 7 STRAßE@example.com (casefolds to strasse@…), 8 has
    external id cus_8 and plan pro, others plain (user{n}@example.com, plan free, seats n).
    """
    users = [end_user(i) for i in range(1, 13)]
    users[0] = end_user(1, email="Ann@Example.com")
    users[1] = end_user(2, email="shared@example.com")
    users[2] = end_user(3, email="SHARED@example.com")
    users[3] = end_user(4, settings=SurveySettings(surveys_disabled_by_end_user=True))
    users[4] = end_user(5, settings=SurveySettings.all_channels(False))
    users[5] = end_user(6, email="JOSÉ@example.com")
    users[6] = end_user(7, email="STRAßE@example.com")
    users[7] = end_user(8, external_id="cus_8", properties={"plan": "pro", "seats": 8})
    cache.ingest_pulled(users, "end_users", 1_700_000_100)
    return cache
