"""Each end user's own value in one batch (`Cache.set_values_per_row`), on a real cache file."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from desktop_app.cache.records import EditKind, EditRejected
from desktop_app.cache.store import Cache
from desktop_app.domain import EndUser

from .test_cache_sync_side import conflict_on_plan

MakeUser = Callable[..., EndUser]
Check = Callable[[Cache], None]
SET = EditKind.SET_PROPERTY


def test_a_later_cell_wins_and_unchanged_cells_leave_no_entry(seeded: Cache, invariants: Check) -> None:
    changes = seeded.set_values_per_row(SET, [(1, "plan", "pro"), (1, "plan", "team"), (2, "plan", "free"),
                                              (2, "seats", 2), (3, "tags_array", ["a", "b"])])
    assert changes.end_user_ids == frozenset({1, 3})  # 2 already has plan free and seats 2
    assert [(e.key, e.value) for e in seeded.pending_for(1)] == [("plan", "team")]
    assert seeded.pending_for(2) == []
    assert seeded.get(3).end_user.properties["tags_array"] == ["a", "b"]
    assert changes.new_property_keys == frozenset({"tags_array"})
    invariants(seeded)


def test_a_per_row_edit_supersedes_a_conflict_on_the_same_key_only(seeded: Cache, make_user: MakeUser,
                                                                   invariants: Check) -> None:
    conflict_on_plan(seeded, make_user)  # end user 5: mine pro, theirs enterprise
    changes = seeded.set_values_per_row(SET, [(5, "plan", "team"), (6, "plan", "team")])
    assert changes.conflicts_changed and seeded.conflicts() == []
    assert [(e.key, e.value, e.base) for e in seeded.pending_for(5)] == [("plan", "team", "enterprise")]
    assert seeded.get(5).end_user.properties["plan"] == "team"
    invariants(seeded)
    seeded.undo()  # the superseded conflict stays gone; the server's row shows again
    assert seeded.get(5).end_user.properties["plan"] == "enterprise"
    invariants(seeded)


def test_external_ids_per_row_and_their_checks(seeded: Cache, invariants: Check) -> None:
    seeded.set_values_per_row(EditKind.SET_EXTERNAL_ID, [(1, None, " crm-1 "), (2, None, "crm-2")])
    assert (seeded.get(1).end_user.external_id, seeded.get(2).end_user.external_id) == ("crm-1", "crm-2")
    seeded.set_values_per_row(EditKind.SET_EXTERNAL_ID, [(1, None, None)])  # cleared
    assert seeded.get(1).end_user.external_id is None
    invariants(seeded)
    with pytest.raises(EditRejected, match="255"):
        seeded.set_values_per_row(EditKind.SET_EXTERNAL_ID, [(3, None, "x" * 300)])
    with pytest.raises(EditRejected, match="not set_email"):
        seeded.set_values_per_row(EditKind.SET_EMAIL, [(3, None, "a@b.co")])
    with pytest.raises(EditRejected, match="cannot be empty"):
        seeded.set_values_per_row(SET, [(3, "plan", None)])


def test_deleted_here_refuses_and_redo_skips_who_is_gone(seeded: Cache, invariants: Check) -> None:
    seeded.delete_end_users([7])
    with pytest.raises(EditRejected, match="deleted locally"):
        seeded.set_values_per_row(SET, [(6, "plan", "x"), (7, "plan", "x")])
    seeded.undo()
    seeded.set_values_per_row(SET, [(8, "plan", "x"), (9, "plan", "y")])
    seeded.undo()
    seeded.remove_end_users([9])  # gone on the service meanwhile
    assert seeded.undo_state().redo.end_users == 1
    seeded.redo()
    assert seeded.get(8).end_user.properties["plan"] == "x" and seeded.get(9) is None
    invariants(seeded)
