"""Undo and redo: one bulk action is one step, through the outbox, only while unpushed."""

from __future__ import annotations

from collections.abc import Callable

from desktop_app.cache.changes import Initiator
from desktop_app.cache.records import AuditOutcome, EditKind, UndoState
from desktop_app.cache.store import Cache
from desktop_app.domain import EndUser

Check = Callable[[Cache], None]
Snapshot = Callable[[Cache], dict[str, list[tuple[object, ...]]]]


def effective(cache: Cache) -> dict[int, EndUser]:
    return {i: cache.get(i).end_user for i in sorted(cache.all_ids())}


def test_undo_and_redo_a_bulk_action_as_one_step(seeded: Cache, invariants: Check) -> None:
    seeded.set_property([1], "plan", "solo")
    after_first = effective(seeded)
    bulk = list(range(1, 21))
    seeded.set_surveys_enabled(bulk, False)
    after_bulk = effective(seeded)
    assert seeded.pending_count() == 1 + 18  # 17 opted out, 18 already off

    changes = seeded.undo()
    assert changes is not None and changes.initiator is Initiator.UNDO
    assert changes.end_user_ids == frozenset(bulk) - {17, 18} and changes.outbox_changed
    assert effective(seeded) == after_first
    state = seeded.undo_state()
    assert seeded.pending_count() == 1 and state.undo is not None and state.redo is not None
    assert {a.outcome for a in seeded.audit_log(2)} == {AuditOutcome.UNDONE}
    invariants(seeded)

    redone = seeded.redo()
    assert redone is not None and redone.end_user_ids == changes.end_user_ids
    assert effective(seeded) == after_bulk and seeded.pending_count() == 19
    assert seeded.undo_state().redo is None
    invariants(seeded)

    seeded.undo()
    seeded.undo()  # the single edit before it
    assert seeded.pending_count() == 0 and seeded.undo_state().undo is None
    assert seeded.undo() is None
    assert seeded.get(1).server == seeded.get(1).end_user
    invariants(seeded)


def test_undo_puts_back_a_local_delete(seeded: Cache, invariants: Check) -> None:
    seeded.delete_end_users([3, 4])
    changes = seeded.undo()
    assert changes is not None and changes.rows_added_or_removed
    assert not seeded.get(3).pending_delete
    invariants(seeded)


def test_undo_keeps_other_actions_on_the_same_end_users(seeded: Cache, invariants: Check) -> None:
    seeded.set_property([2, 3], "plan", "pro")
    seeded.set_property([2, 3], "plan", "enterprise")
    seeded.set_email(2, "two@example.com")
    seeded.undo()  # the email
    seeded.undo()  # enterprise
    row = seeded.get(2)
    assert row is not None and row.end_user.properties["plan"] == "pro"
    assert row.end_user.email == "user2@example.com" and len(row.pending) == 1
    invariants(seeded)


def test_a_new_action_ends_the_redo_chain(seeded: Cache) -> None:
    seeded.set_property([1], "plan", "pro")
    seeded.undo()
    assert seeded.undo_state().redo is not None
    seeded.set_property([2], "plan", "pro")
    assert seeded.undo_state().redo is None and seeded.redo() is None


def test_nothing_pushed_can_be_undone(seeded: Cache, make_user: Callable[..., EndUser],
                                      snapshot: Snapshot) -> None:
    seeded.set_property([1, 2], "plan", "pro")
    [edit] = seeded.pending_for(1)
    seeded.complete_push(1, [edit.id], make_user(1, properties={"plan": "pro", "seats": 1},
                                                 updated_at=2_000_000_000))
    assert seeded.undo_state().undo is None  # half of the action already reached the service
    before = snapshot(seeded)
    assert seeded.undo() is None
    assert snapshot(seeded) == before


def test_undo_through_a_conflict_drops_it(seeded: Cache, make_user: Callable[..., EndUser],
                                          invariants: Check) -> None:
    seeded.set_property([5], "plan", "pro")
    [edit] = seeded.pending_for(5)
    seeded.record_conflicts(5, [(edit.id, "enterprise")],
                            make_user(5, properties={"plan": "enterprise"}, updated_at=2_000_000_000))
    changes = seeded.undo()
    assert changes is not None and changes.conflicts_changed
    row = seeded.get(5)
    assert row is not None and row.end_user.properties == {"plan": "enterprise"}
    assert seeded.conflicts() == [] and not row.has_conflict
    invariants(seeded)


def test_redo_skips_end_users_removed_meanwhile(seeded: Cache, invariants: Check) -> None:
    seeded.set_property([1, 2, 3], "plan", "pro")
    seeded.undo()
    seeded.remove_end_users([2])
    changes = seeded.redo()
    assert changes is not None and changes.end_user_ids == frozenset({1, 3})
    invariants(seeded)


def test_undo_state_names_each_step_from_the_history(seeded: Cache, make_user: Callable[..., EndUser]) -> None:
    assert seeded.undo_state() == UndoState(None, None)

    seeded.set_surveys_enabled([7], False)  # one end user's edit (the detail panel)
    state = seeded.undo_state()
    assert state.redo is None and state.undo is not None
    single = state.undo
    assert (single.kind, single.key, single.value, single.end_users, single.bulk) == (
        EditKind.SET_SURVEYS, None, False, 1, False)

    seeded.set_property(list(range(1, 21)), "plan", "pro", bulk=True)  # a bulk action
    bulk = seeded.undo_state().undo
    assert bulk is not None and bulk.batch_id != single.batch_id
    assert (bulk.kind, bulk.key, bulk.value, bulk.end_users, bulk.bulk) == (
        EditKind.SET_PROPERTY, "plan", "pro", 20, True)

    seeded.undo()
    assert seeded.undo_state() == UndoState(single, bulk)  # the bulk step moved to redo
    seeded.undo()
    state = seeded.undo_state()
    assert state.undo is None and state.redo == single  # the newest undone is redone first

    seeded.redo()
    assert seeded.undo_state() == UndoState(single, bulk)
    seeded.redo()
    assert seeded.undo_state() == UndoState(bulk, None)

    seeded.unset_property([3], "plan", bulk=True)  # a bulk action that changed one end user
    state = seeded.undo_state()
    assert state.undo is not None and (state.undo.kind, state.undo.end_users, state.undo.bulk) == (
        EditKind.UNSET_PROPERTY, 1, True)
    seeded.undo()
    seeded.remove_end_users([3])  # gone from the service meanwhile: redo has nobody left
    state = seeded.undo_state()
    assert state.redo is not None and state.redo.end_users == 0


def test_a_pushed_step_leaves_the_undo_state(seeded: Cache, make_user: Callable[..., EndUser]) -> None:
    seeded.set_surveys_enabled([1, 2], True, bulk=True)  # already on: nothing to change
    assert seeded.undo_state() == UndoState(None, None)
    seeded.set_email(4, "four@example.com")
    state = seeded.undo_state()
    assert state.undo is not None and (state.undo.kind, state.undo.value, state.undo.end_users) == (
        EditKind.SET_EMAIL, "four@example.com", 1)
    [edit] = seeded.pending_for(4)
    seeded.complete_push(4, [edit.id], make_user(4, email="four@example.com", updated_at=2_000_000_000))
    assert seeded.undo_state() == UndoState(None, None)  # the service has it: no undo step


def test_a_step_whose_push_may_have_reached_the_service_is_not_undoable(
        seeded: Cache, make_user: Callable[..., EndUser], snapshot: Snapshot) -> None:
    seeded.set_property([1, 2], "plan", "pro")
    [edit] = seeded.pending_for(1)
    seeded.mark_sent(1, [edit.id])  # the push put it on the wire; no answer stored (a crash)
    # Undone here, it would come back with the next pull: the service may hold it already.
    assert seeded.undo_state().undo is None
    before = snapshot(seeded)
    assert seeded.undo() is None
    assert snapshot(seeded) == before
    # The service refused it: nothing of the step reached it, so it can be undone again.
    seeded.reject_push(1, [edit.id], "Invalid plan", make_user(1, updated_at=2_000_000_000))
    assert seeded.undo_state().undo is not None
    assert seeded.undo() is not None
    assert seeded.pending_for(1) == [] and seeded.pending_for(2) == []
