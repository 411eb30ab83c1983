"""Sample end users: deterministic, shaped like a real account, fast."""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest

from desktop_app.emulator import EmulatorStore, generate_end_users
from desktop_app.emulator.sample_data import iter_records

NOW = 1_736_942_400
DAY = 86_400
PROPERTY_KEYS = {"plan", "company", "role", "revenue_amount", "signup_date", "features_array",
                 "seats_count", "region", "is_trial"}


@pytest.fixture(scope="module")
def account() -> list[dict[str, object]]:
    return generate_end_users(20_000, seed=3, profile="account", now=NOW)


def test_deterministic_for_a_seed() -> None:
    first = generate_end_users(500, seed=9, now=NOW)
    assert first == generate_end_users(500, seed=9, now=NOW)
    assert first != generate_end_users(500, seed=10, now=NOW)


def test_account_profile_looks_like_an_account(account: list[dict[str, object]]) -> None:
    n = len(account)
    ids = [row["id"] for row in account]
    assert len(set(ids)) == n and ids == sorted(ids)
    assert len({row["email"] for row in account}) == n
    created = [int(row["created_at"]) for row in account]
    assert created == sorted(created)  # ids follow creation
    assert min(created) >= NOW - 3 * 366 * DAY and max(created) <= NOW
    for row in account:
        assert row["created_at"] <= row["updated_at"] <= NOW
    # bulk imports: thousands share one created_at and updated_at second
    cells = Counter((row["created_at"], row["updated_at"]) for row in account)
    assert cells.most_common(1)[0][1] >= 1_500
    # quiet and busy days
    per_day = Counter(second // DAY for second in created)
    assert max(per_day.values()) > 10 * (sorted(per_day.values())[len(per_day) // 2])
    disabled = sum(1 for row in account if row["surveys_disabled"])
    opted_out = sum(1 for row in account
                    if (row.get("settings") or {}).get("surveys_disabled_by_end_user"))
    assert 0.03 < disabled / n < 0.07 and 0.01 < opted_out / n < 0.03
    assert 0.6 < sum(1 for row in account if "external_id" in row) / n < 0.95
    assert 0.4 < sum(1 for row in account if "last_surveyed" in row) / n < 0.8


def test_properties_follow_wootric_conventions(account: list[dict[str, object]]) -> None:
    seen: Counter[str] = Counter()
    for row in account:
        properties = row["properties"]
        assert isinstance(properties, dict) and set(properties) <= PROPERTY_KEYS
        seen.update(list(properties))
        if "revenue_amount" in properties:
            assert isinstance(properties["revenue_amount"], (int, float))
        if "signup_date" in properties:
            assert isinstance(properties["signup_date"], int)
        if "features_array" in properties:
            features = properties["features_array"]
            assert features and all(isinstance(f, str) for f in features)
    assert set(seen) == PROPERTY_KEYS
    assert all(seen[key] < len(account) for key in PROPERTY_KEYS)  # not every user has every key


def test_emails_come_in_many_shapes(account: list[dict[str, object]]) -> None:
    emails = [str(row["email"]) for row in account]
    shaped = {
        "plus": lambda e: "+" in e.split("@")[0],
        "subdomain": lambda e: e.split("@")[1].count(".") >= 2,
        "uppercase": lambda e: e != e.lower(),
        "unicode": lambda e: not e.split("@")[0].isascii(),
        "long": lambda e: len(e.split("@")[0]) > 40,
        "punycode": lambda e: "xn--" in e.split("@")[1],
    }
    for name, test in shaped.items():
        assert sum(1 for e in emails if test(e)) > 100, name
    assert all(re.match(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$", e) for e in emails)  # the API's own check
    assert all(len(e.split("@")[0]) <= 64 for e in emails)


def test_profiles_spread_time_differently() -> None:
    dense = generate_end_users(3_000, seed=1, profile="dense", now=NOW)
    assert all(NOW - 3 * DAY <= row["created_at"] <= NOW for row in dense)
    sparse = generate_end_users(3_000, seed=1, profile="sparse", now=NOW)
    days = Counter(int(row["created_at"]) // DAY for row in sparse)
    assert len(days) > 800 and max(days.values()) < 15  # a few a day for three years
    bursty = generate_end_users(20_000, seed=1, profile="bursty", now=NOW)
    cells = Counter((row["created_at"], row["updated_at"]) for row in bursty)
    big = [size for size in cells.values() if size >= 1_000]
    assert len(big) >= 2 and sum(big) > 0.3 * len(bursty)
    with pytest.raises(ValueError):
        generate_end_users(10, profile="lumpy")


def test_fifty_thousand_generate_and_load_quickly() -> None:
    started = time.perf_counter()
    store = EmulatorStore()
    assert store.load_samples(iter_records(50_000, seed=4, now=NOW)) == 50_000
    elapsed = time.perf_counter() - started
    assert store.count() == 50_000
    assert elapsed < 10, elapsed  # about 1 s here; generous for a loaded machine


def test_the_fast_load_path_stores_what_the_dicts_say() -> None:
    fast, plain = EmulatorStore(), EmulatorStore()
    fast.load_samples(iter_records(2_000, seed=6, now=NOW))
    plain.load(generate_end_users(2_000, seed=6, now=NOW))
    assert fast.seed_dicts() == plain.seed_dicts()
