"""`list:<name>` in the filter language: the people a kept list matched, by name, on a real cache."""

from __future__ import annotations

import sqlite3

import pytest

from desktop_app.cache.changes import CacheChanges, Initiator
from desktop_app.cache.filters.language import FilterError, InList, Or, compile_filter, CompileContext, parse_filter
from desktop_app.cache.filters.words import describe_filter
from desktop_app.cache.reading.query import EndUserQuery, SortSpec
from desktop_app.cache.records import EditRejected
from desktop_app.cache.reading.list_match import saved_list_names
from desktop_app.cache.store import Cache
from tests.cache.conftest import StepClock

BY_ID = SortSpec("id")


@pytest.mark.parametrize(("text", "expected"), [
    ("list:optouts", InList("optouts")),
    ('list:"last week"', InList("last week")),
    ("LIST:Optouts", InList("Optouts")),
    ('list:a|"b c"', Or((InList("a"), InList("b c")))),
])
def test_list_terms_parse(text: str, expected: object) -> None:
    assert parse_filter(text) == expected


def test_a_list_term_is_a_bound_parameter_and_reads_as_words() -> None:
    sql = compile_filter(parse_filter("list:\"x') OR 1=1 --\""), CompileContext(now=0))
    assert "OR 1=1" not in sql.where and list(sql.params.values()) == ["x') OR 1=1 --"]
    assert describe_filter('list:"last week" surveys:enabled') == "on the kept list “last week” and with surveys on"
    with pytest.raises(FilterError, match="list: needs a value"):
        parse_filter('list:""')


def test_a_kept_list_is_a_filter(seeded: Cache) -> None:
    seeded.save_list("Last week", [3, 5, 17, 999], identifier_kind="email", source="optouts.csv")
    seeded.save_list("plan changes", [4, 5], identifier_kind="external_id")
    query = EndUserQuery(seeded.engine)
    assert list(query.ids('list:"last week"', BY_ID)) == [3, 5, 17]  # 999 is in no cache row: found no more
    assert list(query.ids("list:\"Last week\" -surveys:disabled", BY_ID)) == [3, 5]
    assert list(query.ids('list:"plan changes" OR list:"last week"', BY_ID)) == [3, 4, 5, 17]
    assert list(query.ids('-list:"last week" id:<6', BY_ID)) == [1, 2, 4]
    assert query.count('list:"LAST WEEK"') == 3
    assert query.facet_counts('list:"last week"')["disabled_by_end_user"] == 1


def test_an_unknown_list_is_a_filter_error_with_a_suggestion(seeded: Cache) -> None:
    query = EndUserQuery(seeded.engine)
    with pytest.raises(FilterError, match="no list has been kept yet"):
        query.count("list:anything")
    seeded.save_list("last week", [1], identifier_kind="email")
    with pytest.raises(FilterError, match=r"did you mean list:\"last week\"\?") as caught:
        query.ids('plan:free list:"last weak"', BY_ID)
    assert caught.value.position == len("plan:free ")
    with pytest.raises(FilterError, match="kept lists: \"last week\""):
        query.page("list:zzz")


def test_a_name_is_kept_once_ignoring_case_unless_replaced(seeded: Cache) -> None:
    heard: list[CacheChanges] = []
    seeded.subscribe(heard.append)
    seeded.save_list("Opt-outs", [1, 2], identifier_kind="email")
    assert heard == [CacheChanges(Initiator.EDIT, rows_added_or_removed=True)]  # list: results are stale
    with pytest.raises(EditRejected, match="already kept"):
        seeded.save_list("opt-outs", [3], identifier_kind="email")
    seeded.save_list("opt-outs", [3], identifier_kind="email", replace=True)
    assert [(k.name, k.member_count) for k in seeded.saved_lists()] == [("opt-outs", 1)]
    assert list(EndUserQuery(seeded.engine).ids("list:opt-outs", BY_ID)) == [3]
    for bad in ("", "   ", "a\nb", "x" * 101):
        with pytest.raises(EditRejected):
            seeded.save_list(bad, [1], identifier_kind="email")
    heard.clear()
    assert seeded.delete_list("OPT-OUTS") and not seeded.delete_list("opt-outs")
    assert seeded.saved_lists() == []
    assert heard == [CacheChanges(Initiator.EDIT, rows_added_or_removed=True)]  # the second changed nothing


def test_kept_list_names_complete_newest_first_even_before_the_upgrade(seeded: Cache, clock: StepClock) -> None:
    query = EndUserQuery(seeded.engine)
    assert query.list_names() == []
    seeded.save_list("older", [1], identifier_kind="email")
    clock.sleep(5)
    seeded.save_list("Last week", [2], identifier_kind="email")
    assert query.list_names() == ["Last week", "older"]
    bare = sqlite3.connect(":memory:")  # a file the app has not upgraded yet: no saved_list table
    assert saved_list_names(bare) == []
