"""The action on a list's matched people: one batch through the ordinary edit path, one undo step."""

from __future__ import annotations

import sqlite3

import pytest

from desktop_app.cache.records import EditKind, EditRejected
from desktop_app.cache.store import Cache
from desktop_app.lists.actions import apply_action, preview
from desktop_app.lists.identifiers import IdentifierKind
from desktop_app.lists.matching import match_list
from desktop_app.lists.wanted import ActionKind, ListAction

from .conftest import check_invariants

EMAIL = IdentifierKind.EMAIL


def _rows(cache: Cache) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(cache.path)
    try:
        return connection.execute("SELECT * FROM end_user ORDER BY id").fetchall()
    finally:
        connection.close()


def _audit(cache: Cache) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(cache.path)
    try:
        return connection.execute('SELECT batch_id, end_user_id, "key", before_json, after_json, outcome'
                                  " FROM audit_entry ORDER BY id").fetchall()
    finally:
        connection.close()


@pytest.mark.parametrize("action", [
    ListAction(ActionKind.DISABLE_SURVEYS), ListAction(ActionKind.ENABLE_SURVEYS),
    ListAction(ActionKind.SET_PROPERTY, "plan", "Enterprise"), ListAction(ActionKind.UNSET_PROPERTY, "plan"),
    ListAction(ActionKind.ERASE),
], ids=lambda a: a.kind.value)
def test_an_action_is_one_batch_and_one_undo_step_restoring_every_row(crowd: Cache, action: ListAction) -> None:
    before = _rows(crowd)
    emails = [f"user{i}@example.com" for i in (4, 5, 8, 9, 10, 11)]
    report = match_list(crowd, EMAIL, emails, action)
    assert report.matched, report.counts()
    apply_action(crowd, report)
    state = crowd.undo_state()
    assert state.undo is not None and state.undo.bulk and state.undo.end_users == len(report.matched)
    audit = _audit(crowd)
    assert len({row[0] for row in audit}) == 1  # one batch
    assert sorted(row[1] for row in audit) == sorted(report.ids_to_change)  # one entry per person
    check_invariants(crowd)
    assert crowd.undo() is not None
    assert _rows(crowd) == before
    assert crowd.undo_state().undo is None
    check_invariants(crowd)


def test_per_row_values_set_each_persons_own_in_one_batch_and_undo_whole(crowd: Cache) -> None:
    before = _rows(crowd)
    rows = [("user8@example.com", {"plan": "pro", "seats_amount": "80"}),  # plan unchanged
            ("USER9@example.com", {"plan": "team", "seats_amount": "9"}),
            ("user10@example.com", {"plan": "free", "seats_amount": ""}),  # changes nothing
            ("user11@example.com", {"plan": "Free", "seats_amount": "1,100"})]
    report = match_list(crowd, EMAIL, [r[0] for r in rows], ListAction(ActionKind.SET_COLUMNS),
                        values=[r[1] for r in rows])
    assert [m.id for m in report.matched] == [8, 9, 11] and [m.id for m in report.already] == [10]
    shown = {(p.id, c.field): (c.before, c.after, c.changes) for p in preview(report) for c in p.cells}
    assert shown == {
        (8, "plan"): ("pro", "pro", False), (8, "seats_amount"): (None, 80, True),
        (9, "plan"): ("free", "team", True), (9, "seats_amount"): (None, 9, True),
        (10, "plan"): ("free", "free", False),
        (11, "plan"): ("free", "Free", True), (11, "seats_amount"): (None, 1100, True),
    }
    changes = apply_action(crowd, report)
    assert changes is not None and changes.end_user_ids == frozenset({8, 9, 11})
    assert changes.new_property_keys == frozenset({"seats_amount"})
    props = {i: crowd.get(i).end_user.properties for i in (8, 9, 10, 11)}
    assert props[8] == {"plan": "pro", "seats": 8, "seats_amount": 80}
    assert props[9] == {"plan": "team", "seats": 9, "seats_amount": 9}
    assert props[10] == {"plan": "free", "seats": 10}
    assert props[11] == {"plan": "Free", "seats": 11, "seats_amount": 1100}
    outbox = sorted((e.end_user_id, e.key, e.base, e.value) for i in (8, 9, 11) for e in crowd.pending_for(i))
    assert outbox == [(8, "seats_amount", None, 80), (9, "plan", "free", "team"), (9, "seats_amount", None, 9),
                      (11, "plan", "free", "Free"), (11, "seats_amount", None, 1100)]
    state = crowd.undo_state().undo
    assert state is not None and (state.per_row, state.end_users, state.key) == (True, 3, "plan, seats_amount")
    check_invariants(crowd)
    crowd.undo()
    assert _rows(crowd) == before
    check_invariants(crowd)
    crowd.redo()  # each person's own values again, from the batch's audit
    assert crowd.get(11).end_user.properties["seats_amount"] == 1100
    assert crowd.get(9).end_user.properties["plan"] == "team"
    check_invariants(crowd)
    crowd.undo()
    assert _rows(crowd) == before


def test_per_row_external_ids(crowd: Cache) -> None:
    report = match_list(crowd, EMAIL, ["user9@example.com", "user8@example.com", "user10@example.com"],
                        ListAction(ActionKind.SET_EXTERNAL_ID),
                        values=[{"external_id": "cus_9"}, {"external_id": "cus_8"}, {"external_id": ""}])
    assert [m.id for m in report.matched] == [9] and [m.id for m in report.already] == [8, 10]
    apply_action(crowd, report)
    assert crowd.get(9).end_user.external_id == "cus_9"
    [edit] = crowd.pending_for(9)
    assert (edit.kind, edit.key, edit.base, edit.value) == (EditKind.SET_EXTERNAL_ID, None, None, "cus_9")
    check_invariants(crowd)


def test_a_person_who_opted_out_since_the_report_refuses_the_whole_batch(crowd: Cache) -> None:
    from desktop_app.domain import SurveySettings
    from tests.cache.conftest import end_user

    report = match_list(crowd, EMAIL, ["user5@example.com", "user9@example.com"], ListAction(ActionKind.ENABLE_SURVEYS))
    assert [m.id for m in report.matched] == [5]
    crowd.ingest_pulled([end_user(5, settings=SurveySettings(surveys_disabled_by_end_user=True))], "end_users", 1)
    with pytest.raises(EditRejected, match="opted out"):
        apply_action(crowd, report)
    assert _audit(crowd) == []


def test_bad_per_row_values_write_nothing(crowd: Cache) -> None:
    with pytest.raises(EditRejected):
        crowd.set_values_per_row(EditKind.SET_PROPERTY, [(8, "plan", "pro"), (9, "bad[key]", "x")])
    with pytest.raises(EditRejected, match="Unknown end user"):
        crowd.set_values_per_row(EditKind.SET_PROPERTY, [(8, "plan", "team"), (999, "plan", "x")])
    assert _audit(crowd) == [] and crowd.get(8).end_user.properties["plan"] == "pro"


def test_a_kept_list_holds_everyone_it_named_and_only_the_files_name(crowd: Cache) -> None:
    from desktop_app.cache.reading.query import EndUserQuery, SortSpec
    from desktop_app.lists.actions import keep_list

    report = match_list(crowd, EMAIL, ["user4@example.com", "user5@example.com", "user9@example.com",
                                       "shared@example.com", "nobody@example.com"], ListAction(ActionKind.ENABLE_SURVEYS))
    keep_list(crowd, report, "week 49", source="/home/ops/Downloads/support opt-outs.csv")
    [kept] = crowd.saved_lists()
    assert (kept.name, kept.source, kept.identifier_kind, kept.member_count) == (
        "week 49", "support opt-outs.csv", "email", 3)
    # refused (4), matched (5) and already (9); not the ambiguous pair, not the stranger
    assert list(EndUserQuery(crowd.engine).ids('list:"week 49"', SortSpec("id"))) == [4, 5, 9]
