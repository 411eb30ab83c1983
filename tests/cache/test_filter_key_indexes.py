"""Property indexes follow what people filter on: keys are remembered in the cache, and the next
index refresh gives them the (few) property indexes, taking them from keys nobody filters on."""

from __future__ import annotations

from pathlib import Path

from desktop_app.cache.store import Cache
from desktop_app.cache.indexes.expressions import (
    PropertySample,
    number_index_name,
    plan_preferred_keys,
    read_catalog,
)
from desktop_app.cache.reading.query import EndUserQuery, SortSpec
from desktop_app.cache.store import FORGET_FILTER_KEY_S, REMEMBERED_FILTER_KEYS
from tests.cache.conftest import T0, StepClock, end_user


def _users(n: int = 200) -> list:
    return [end_user(i, properties={"region": ["us", "eu"][i % 2], "seats_count": i % 40,
                                    "plan": ["free", "pro", "team"][i % 3], "revenue_amount": i * 10,
                                    "tags": ["a", "b"]})
            for i in range(1, n + 1)]


def _indexed(cache: Cache) -> tuple[set[str], set[str]]:
    with cache.engine.connect() as connection:
        catalog = read_catalog(connection)
    return set(catalog.text_indexed), set(catalog.number_indexed)


def test_keys_filtered_on_get_the_property_indexes_next_time(cache: Cache) -> None:
    cache.ingest_pulled(_users(), "end_users", T0)
    cache.refresh_query_indexes()
    text, number = _indexed(cache)
    assert len(text | number) == 2 and not {"plan", "revenue_amount"} <= text | number

    query = EndUserQuery(cache.engine)
    query.count("revenue_amount:>=1000")
    query.count("plan:pro revenue_amount:<50")
    query.page("", SortSpec("prop:plan"), 0, 10)
    assert query.used_property_keys()[0] == "revenue_amount"
    cache.remember_filter_keys(query.used_property_keys())
    cache.refresh_query_indexes()

    assert _indexed(cache) == ({"plan"}, {"revenue_amount"})  # numbers get a numeric index
    assert query.count("revenue_amount:>=1000") == sum(i * 10 >= 1000 for i in range(1, 201))
    cache.refresh_query_indexes()  # nothing changed: nothing rebuilt
    assert _indexed(cache) == ({"plan"}, {"revenue_amount"})


def test_the_most_recently_used_keys_win_and_old_ones_are_forgotten(cache: Cache, clock: StepClock) -> None:
    cache.ingest_pulled(_users(), "end_users", T0)
    cache.remember_filter_keys(["plan", "revenue_amount"])
    clock.value += 86_400
    cache.remember_filter_keys(["region"])
    assert cache.remembered_filter_keys() == ["region", "plan", "revenue_amount"]
    cache.refresh_query_indexes()
    text, number = _indexed(cache)
    assert text | number == {"region", "plan"}

    clock.value += FORGET_FILTER_KEY_S + 1
    cache.remember_filter_keys(["seats_count"])
    assert cache.remembered_filter_keys() == ["seats_count"]
    cache.refresh_query_indexes()
    text, number = _indexed(cache)
    assert "seats_count" in number and len(text | number) == 2  # region or plan gave up its slot


def test_remembered_keys_are_bounded_and_ignore_what_no_index_can_serve(cache: Cache) -> None:
    cache.ingest_pulled(_users(), "end_users", T0)
    many = [f"key{i}" for i in range(REMEMBERED_FILTER_KEYS + 10)]
    cache.remember_filter_keys(["tags", "no_such_key", *many])
    remembered = cache.remembered_filter_keys()
    assert len(remembered) == REMEMBERED_FILTER_KEYS and remembered[:2] == ["tags", "no_such_key"]
    cache.refresh_query_indexes()
    text, number = _indexed(cache)
    # Arrays and keys nobody has get no index; the slots go to the sample's choice instead.
    assert len(text | number) == 2 and not {"tags", "no_such_key"} & (text | number)


def test_remembered_keys_survive_reopening(cache_path: Path, clock: StepClock) -> None:
    with Cache.open(cache_path, clock=clock) as cache:
        cache.ingest_pulled(_users(), "end_users", T0)
        cache.remember_filter_keys(["revenue_amount", "plan"])
    with Cache.open(cache_path, clock=clock) as cache:  # open refreshes the indexes
        assert cache.remembered_filter_keys() == ["revenue_amount", "plan"]
        assert _indexed(cache) == ({"plan"}, {"revenue_amount"})
        with cache.engine.connect() as connection:
            assert number_index_name("revenue_amount") in read_catalog(connection).indexes


def test_plan_keeps_existing_indexes_while_slots_are_free_and_samples_only_when_needed() -> None:
    taken: list[int] = []
    sample = PropertySample(rows=100, presence={"plan": 90, "region": 100, "tags": 50, "seats": 100},
                            numeric={"seats": 100}, arrays={"tags": 50})

    def take() -> PropertySample:
        taken.append(1)
        return sample

    assert plan_preferred_keys(["plan", "region"], ["region", "plan"], 2, take) == (["region", "plan"], [])
    assert taken == []  # every preferred key has its index: no sample read
    assert plan_preferred_keys(["plan", "region"], ["seats"], 2, take) == (["seats", "plan"], ["region"])
    assert plan_preferred_keys(["plan"], ["tags", "gone"], 3, take) == (["plan", "region", "seats"], [])
    assert plan_preferred_keys([], ["x'); DROP TABLE end_user; --"], 1, take) == (["region"], [])
