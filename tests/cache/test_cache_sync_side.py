"""The sync engine's side: pulls never clobber edits; push, reject, conflict and resolve flows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from desktop_app.cache.changes import CacheChanges, Initiator
from desktop_app.cache.records import AuditOutcome, ConflictChoice, EditKind, EditRejected, EditState
from desktop_app.cache.store import Cache
from desktop_app.domain import EndUser, SurveySettings

Check = Callable[[Cache], None]
MakeUser = Callable[..., EndUser]


def test_ingest_upserts_rows_and_moves_the_cursor(cache: Cache, make_user: MakeUser,
                                                  invariants: Check) -> None:
    heard: list[CacheChanges] = []
    cache.subscribe(heard.append)
    first = cache.ingest_pulled([make_user(1), make_user(2, external_id="crm-2")], "updated", 10)
    assert first == CacheChanges(Initiator.PULL, frozenset({1, 2}), rows_added_or_removed=True,
                                 new_property_keys=frozenset({"plan", "seats"}))
    again = cache.ingest_pulled([make_user(2, email="renamed@example.com", updated_at=2_000_000_000)],
                                "updated", 11)
    assert again.rows_added_or_removed is False  # only an update
    assert cache.get(2).end_user.email == "renamed@example.com"
    assert cache.cursor("updated") == 11 and cache.cursor("other") is None
    cache.ingest_pulled([], "updated", None)
    assert cache.cursor("updated") is None
    assert heard == [first, again]  # an empty page changes nothing worth announcing
    assert cache.count_all() == 2 and cache.all_ids() == {1, 2}
    invariants(cache)


def test_a_broadcast_names_the_property_keys_the_cache_meets_for_the_first_time(
        cache: Cache, make_user: MakeUser) -> None:
    """So a window offers a first sync's keys (facets, columns, completion) as they arrive."""
    heard: list[CacheChanges] = []
    cache.subscribe(heard.append)
    first = cache.ingest_pulled([make_user(1, properties={"plan": "pro", "seats": 3})], "updated", 10)
    assert first.new_property_keys == {"plan", "seats"}
    again = cache.ingest_pulled([make_user(2, properties={"plan": "team", "region": "EU"})], "updated", 11)
    assert again.new_property_keys == {"region"}  # plan was known already
    assert cache.ingest_pulled([make_user(3, properties={"plan": "free"})], "updated", 12).new_property_keys == set()
    assert cache.set_property([1], "tier", "gold").new_property_keys == {"tier"}
    assert cache.set_property([2], "tier", "silver").new_property_keys == set()
    assert heard[:2] == [first, again]
    assert set(cache.property_keys()) == {"plan", "seats", "region", "tier"}


def test_ingest_never_goes_back_to_an_older_server_row(seeded: Cache, make_user: MakeUser) -> None:
    current = seeded.get(3).end_user
    stale = replace(current, email="stale@example.com", updated_at=current.updated_at - 5)
    seeded.ingest_pulled([stale], "updated", 1)
    assert seeded.get(3).end_user.email == current.email


def test_an_older_pull_under_an_edit_keeps_the_newer_server_row(seeded: Cache,
                                                                 make_user: MakeUser) -> None:
    seeded.set_email(3, "mine@example.com")
    [edit] = seeded.pending_for(3)
    pushed = make_user(3, updated_at=2_000_000_100, properties={"plan": "pushed"})
    seeded.reject_push(3, [], "", pushed)  # stores the server's newer row, edit still queued
    seeded.ingest_pulled([make_user(3, updated_at=2_000_000_000)], "updated", 1)
    row = seeded.get(3)
    assert row is not None and row.server == pushed
    assert row.end_user.email == "mine@example.com" and row.pending[0].id == edit.id


def test_ingest_never_clobbers_a_pending_edit(seeded: Cache, make_user: MakeUser,
                                              invariants: Check) -> None:
    seeded.set_property([4], "plan", "pro")
    seeded.set_surveys_enabled([4], False)
    pulled = make_user(4, email="colleague@example.com", updated_at=2_000_000_000,
                       properties={"plan": "enterprise", "seats": 99, "region": "emea"})
    changes = seeded.ingest_pulled([pulled], "updated", 2_000_000_000)
    assert changes.end_user_ids == frozenset({4})
    row = seeded.get(4)
    assert row is not None
    # effective: the pull's other changes with my pending edits still on top
    assert row.end_user.email == "colleague@example.com"
    assert row.end_user.properties == {"plan": "pro", "seats": 99, "region": "emea"}
    assert row.end_user.surveys_disabled
    assert row.server == pulled  # the server row is exactly what was pulled
    assert [e.kind for e in row.pending] == [EditKind.SET_PROPERTY, EditKind.SET_SURVEYS]
    assert "region" in seeded.property_keys()
    invariants(seeded)


def test_end_users_with_pending_oldest_first_skipping_blocked_ones(seeded: Cache) -> None:
    seeded.set_property([9], "plan", "a")
    seeded.set_property([3, 5], "plan", "b")
    seeded.set_property([9], "plan", "c")
    seeded.set_email(7, "seven@example.com")
    assert seeded.end_users_with_pending() == [9, 3, 5, 7]
    assert seeded.end_users_with_pending(limit=2) == [9, 3]
    [edit3] = seeded.pending_for(3)
    seeded.reject_push(3, [edit3.id], "The service refused it.", None)
    [edit5] = seeded.pending_for(5)
    seeded.record_conflicts(5, [(edit5.id, "enterprise")], seeded.get(5).server)
    assert seeded.end_users_with_pending() == [9, 7]
    assert seeded.pending_count() == 3  # queued only: 9 twice, 7 once


def test_complete_push_stores_the_server_row_under_what_remains(
        seeded: Cache, make_user: MakeUser, invariants: Check) -> None:
    seeded.set_property([2], "plan", "pro")
    seeded.set_email(2, "two@example.com")
    first, second = seeded.pending_for(2)
    server = make_user(2, updated_at=2_000_000_000, properties={"plan": "pro", "seats": 2})
    changes = seeded.complete_push(2, [first.id], server)
    assert changes.initiator is Initiator.PUSH and changes.outbox_changed
    row = seeded.get(2)
    assert row is not None
    assert row.server == server
    assert row.end_user.email == "two@example.com"  # the unpushed edit is still laid over
    assert [e.id for e in row.pending] == [second.id]
    assert {a.edit_id: a.outcome for a in seeded.audit_log(2)} == {
        first.id: AuditOutcome.PUSHED, second.id: AuditOutcome.QUEUED}
    seeded.complete_push(2, [second.id], replace(server, email="two@example.com"))
    row = seeded.get(2)
    assert row is not None and row.pending == () and row.server == row.end_user
    invariants(seeded)


def test_a_confirmed_delete_removes_the_row(seeded: Cache, invariants: Check) -> None:
    seeded.set_property([6], "plan", "pro")
    seeded.delete_end_users([6])
    ids = [e.id for e in seeded.pending_for(6)]
    changes = seeded.complete_push(6, ids, None)
    assert changes.rows_added_or_removed
    assert seeded.get(6) is None and seeded.count_all() == 19
    assert {a.outcome for a in seeded.audit_log(6)} == {AuditOutcome.PUSHED}
    invariants(seeded)


def test_rejected_edits_stay_visible_but_leave_the_row(seeded: Cache, make_user: MakeUser,
                                                       invariants: Check) -> None:
    seeded.set_email(8, "eight@example.com")
    seeded.set_property([8], "plan", "pro")
    email_edit, plan_edit = seeded.pending_for(8)
    seeded.reject_push(8, [email_edit.id], "Email has already been taken", None)
    row = seeded.get(8)
    assert row is not None
    assert row.end_user.email == "user8@example.com"  # no longer shown
    assert row.end_user.properties["plan"] == "pro"  # the rest still is
    [rejected] = seeded.rejected_edits()
    assert (rejected.id, rejected.state, rejected.message) == (
        email_edit.id, EditState.REJECTED, "Email has already been taken")
    assert seeded.end_users_with_pending() == [8]  # the queued edit still goes
    audit = {a.edit_id: a for a in seeded.audit_log(8)}
    assert audit[email_edit.id].outcome is AuditOutcome.REJECTED
    assert audit[email_edit.id].message == "Email has already been taken"
    invariants(seeded)

    seeded.complete_push(8, [plan_edit.id], make_user(8, properties={"plan": "pro", "seats": 8},
                                                      updated_at=2_000_000_000))
    assert seeded.dismiss_rejected(email_edit.id).outbox_changed
    assert seeded.rejected_edits() == [] and seeded.pending_for(8) == []
    assert seeded.dismiss_rejected(email_edit.id).end_user_ids == frozenset()
    invariants(seeded)


def conflict_on_plan(cache: Cache, make_user: MakeUser) -> tuple[int, EndUser]:
    cache.set_property([5], "plan", "pro")
    [edit] = cache.pending_for(5)
    theirs = make_user(5, updated_at=2_000_000_000, properties={"plan": "enterprise", "seats": 5})
    changes = cache.record_conflicts(5, [(edit.id, "enterprise")], theirs)
    assert changes.conflicts_changed and changes.outbox_changed
    return edit.id, theirs


def test_a_conflict_keeps_base_mine_and_theirs(seeded: Cache, make_user: MakeUser,
                                               invariants: Check) -> None:
    edit_id, theirs = conflict_on_plan(seeded, make_user)
    row = seeded.get(5)
    assert row is not None and row.has_conflict
    assert row.end_user.properties["plan"] == "pro"  # nothing overwritten
    assert row.server == theirs
    assert row.pending[0].state is EditState.CONFLICTED
    [conflict] = seeded.conflicts()
    assert (conflict.end_user_id, conflict.edit_id, conflict.email, conflict.field, conflict.key,
            conflict.base, conflict.mine, conflict.theirs) == (
        5, edit_id, "user5@example.com", "properties", "plan", "free", "pro", "enterprise")
    assert seeded.conflict_count() == 1 and seeded.pending_count() == 0
    assert seeded.end_users_with_pending() == []
    invariants(seeded)


def test_resolving_with_theirs(seeded: Cache, make_user: MakeUser, invariants: Check) -> None:
    edit_id, _ = conflict_on_plan(seeded, make_user)
    [conflict] = seeded.conflicts()
    changes = seeded.resolve_conflict(conflict.id, "theirs")
    assert changes.initiator is Initiator.RESOLVE and changes.conflicts_changed
    row = seeded.get(5)
    assert row is not None
    assert row.end_user.properties["plan"] == "enterprise" and not row.has_conflict
    assert row.pending == () and seeded.conflicts() == []
    assert seeded.audit_log(5)[0].outcome is AuditOutcome.DISCARDED
    with pytest.raises(EditRejected, match="already resolved"):
        seeded.resolve_conflict(conflict.id, "theirs")
    invariants(seeded)


@pytest.mark.parametrize("choice,value,expected", [("mine", None, "pro"),
                                                   ("value", "custom", "custom")])
def test_resolving_with_mine_or_a_value_queues_it_on_theirs(
        seeded: Cache, make_user: MakeUser, invariants: Check, choice: str, value: object,
        expected: str) -> None:
    edit_id, _ = conflict_on_plan(seeded, make_user)
    [conflict] = seeded.conflicts()
    seeded.resolve_conflict(conflict.id, choice, value)
    row = seeded.get(5)
    assert row is not None and not row.has_conflict
    [fresh] = row.pending
    assert fresh.id != edit_id and fresh.state is EditState.QUEUED
    assert (fresh.base, fresh.value) == ("enterprise", expected)  # base = theirs
    assert row.end_user.properties["plan"] == expected
    assert seeded.end_users_with_pending() == [5]
    outcomes = {a.edit_id: a.outcome for a in seeded.audit_log(5)}
    assert outcomes == {edit_id: AuditOutcome.SUPERSEDED, fresh.id: AuditOutcome.QUEUED}
    invariants(seeded)


def test_conflict_choices_are_an_enum_the_cache_and_the_command_line_share(
        seeded: Cache, make_user: MakeUser, invariants: Check) -> None:
    from desktop_app.cli import build_parser

    assert [str(choice) for choice in ConflictChoice] == ["mine", "theirs", "value"]
    args = build_parser().parse_args(["conflicts", "--resolve", "1", "--choice", "theirs"])
    assert ConflictChoice(args.choice) is ConflictChoice.THEIRS
    conflict_on_plan(seeded, make_user)
    [conflict] = seeded.conflicts()
    seeded.resolve_conflict(conflict.id, ConflictChoice.VALUE, "custom")
    row = seeded.get(5)
    assert row is not None and row.end_user.properties["plan"] == "custom" and not row.has_conflict
    invariants(seeded)


def test_resolving_with_a_bad_value_or_choice_is_rejected(seeded: Cache, make_user: MakeUser) -> None:
    conflict_on_plan(seeded, make_user)
    [conflict] = seeded.conflicts()
    with pytest.raises(EditRejected, match="dict"):
        seeded.resolve_conflict(conflict.id, "value", {"no": "dicts"})
    with pytest.raises(EditRejected, match="mine, theirs or value"):
        seeded.resolve_conflict(conflict.id, "both")
    assert seeded.conflict_count() == 1


def test_a_newer_edit_of_a_conflicted_target_supersedes_the_conflict(
        seeded: Cache, make_user: MakeUser, invariants: Check) -> None:
    conflict_on_plan(seeded, make_user)
    changes = seeded.set_property([5], "plan", "starter")
    assert changes.conflicts_changed
    row = seeded.get(5)
    assert row is not None and not row.has_conflict and seeded.conflicts() == []
    [edit] = row.pending
    assert (edit.base, edit.value) == ("enterprise", "starter")
    invariants(seeded)


def test_conflicts_on_surveys_and_email(seeded: Cache, make_user: MakeUser,
                                        invariants: Check) -> None:
    seeded.set_surveys_enabled([1], False)
    seeded.set_email(1, "mine@example.com")
    surveys, email = seeded.pending_for(1)
    theirs = make_user(1, email="theirs@example.com", updated_at=2_000_000_000,
                       settings=SurveySettings(surveys_disabled_by_end_user=True))
    seeded.record_conflicts(1, [(surveys.id, True), (email.id, "theirs@example.com")], theirs)
    fields = {c.field: c for c in seeded.conflicts()}
    assert set(fields) == {"surveys", "email"}
    assert (fields["email"].base, fields["email"].mine, fields["email"].theirs) == (
        "user1@example.com", "mine@example.com", "theirs@example.com")
    with pytest.raises(EditRejected, match="opted out"):
        seeded.resolve_conflict(fields["surveys"].id, "value", True)
    seeded.resolve_conflict(fields["surveys"].id, "mine")
    seeded.resolve_conflict(fields["email"].id, "theirs")
    row = seeded.get(1)
    assert row is not None and row.end_user.email == "theirs@example.com"
    assert row.end_user.surveys_disabled and not row.has_conflict
    invariants(seeded)


def test_reconcile_removes_end_users_with_their_outbox(seeded: Cache, make_user: MakeUser,
                                                       invariants: Check) -> None:
    seeded.set_property([12, 13], "plan", "pro")
    conflict_on_plan(seeded, make_user)
    changes = seeded.remove_end_users([5, 12, 14, 999])
    assert changes.initiator is Initiator.RECONCILE and changes.rows_added_or_removed
    assert changes.outbox_changed and changes.conflicts_changed
    assert seeded.get(12) is None and seeded.get(5) is None and seeded.count_all() == 17
    assert seeded.conflicts() == [] and seeded.end_users_with_pending() == [13]
    [audit] = seeded.audit_log(12)
    assert audit.outcome is AuditOutcome.DISCARDED and "deleted on the service" in audit.message
    invariants(seeded)


def test_id_chunks_stream_every_id_in_order(cache: Cache, make_user: MakeUser) -> None:
    cache.ingest_pulled([make_user(i) for i in range(1, 251)], "c", 1)
    chunks = list(cache.id_chunks(100))
    assert [len(c) for c in chunks] == [100, 100, 50]
    assert [i for c in chunks for i in c] == list(range(1, 251))
