"""A fuzz of the filter language on a real cache: any text gives results or a FilterError.

FUZZ_FILTER_CASES sets the count (a few hundred here; `benchmarks/fuzz_filters.py` runs 10,000).
"""

from __future__ import annotations

import os

from desktop_app.cache.store import Cache
from desktop_app.cache.reading.query import EndUserQuery
from desktop_app.domain import SurveySettings

from .conftest import T0, end_user
from .filter_fuzz import filter_cases, run_case

CASES = int(os.environ.get("FUZZ_FILTER_CASES", "300"))


def seed_fuzz_cache(cache: Cache) -> EndUserQuery:
    """A few end users with every kind of value the language compares."""
    users = [end_user(i, properties={
        "plan": ["pro", "team", "free"][i % 3], "seats": i, "revenue_amount": i * 250.5,
        "signup_date": T0 - i * 86400, "features_array": ["sso", "api"][: i % 3],
        "revenue amount": str(i), "email": "shadow@example.org",
    }, external_id=f"cus_{i}" if i % 2 else None, last_surveyed=T0 - i * 3 * 86400 if i % 4 else None)
        for i in range(1, 31)]
    users[3] = end_user(4, settings=SurveySettings(surveys_disabled_by_end_user=True))
    users[4] = end_user(5, settings=SurveySettings.all_channels(False))
    cache.ingest_pulled(users, "end_users", T0 + 40)
    cache.set_property([6, 7], "plan", "enterprise")
    cache.save_list("week", [1, 2, 3, 99], identifier_kind="email")  # `list:` terms find them
    cache.save_list("last week", [4, 5], identifier_kind="external_id")
    return EndUserQuery(cache.engine)


def test_any_filter_text_gives_results_or_a_filter_error(cache: Cache) -> None:
    query = seed_fuzz_cache(cache)
    failures = [f for f in map(lambda t: run_case(query, t), filter_cases(20261207, CASES)) if f]
    assert not failures, "\n\n".join(f"{f.text[:200]!r}:\n{f.error}" for f in failures[:5])
