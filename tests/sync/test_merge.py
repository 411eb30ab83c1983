"""The three-way merge's rule for values a push may already have sent (pure logic)."""

from __future__ import annotations

from desktop_app.cache.records import EditKind, PendingEdit
from desktop_app.domain import EndUser
from desktop_app.sync.merge import plan_push


def _theirs(plan: object, email: str = "base@example.com") -> EndUser:
    return EndUser(id=1, email=email, created_at=1, updated_at=2,
                   properties={} if plan is None else {"plan": plan})


def _edit(edit_id: int, value: object, *, base: object = "base", sent: bool = False,
          kind: EditKind = EditKind.SET_PROPERTY) -> PendingEdit:
    key = "plan" if kind in (EditKind.SET_PROPERTY, EditKind.UNSET_PROPERTY) else None
    return PendingEdit(id=edit_id, end_user_id=1, batch_id=edit_id, kind=kind, key=key,
                       base=base, value=value, created_at=0, sent_at=5 if sent else None)


def test_a_sent_value_on_the_service_is_ours_and_the_newest_goes_out() -> None:
    plan = plan_push([_edit(1, "one", sent=True), _edit(2, "two")], _theirs("one"))
    assert plan.conflicts == () and plan.properties == {"plan": "two"}
    assert plan.done == (1, 2) and plan.sending == (2,)


def test_any_of_several_sent_values_counts() -> None:
    edits = [_edit(1, "one", sent=True), _edit(2, "two", sent=True), _edit(3, "three")]
    for on_service in ("one", "two"):
        plan = plan_push(edits, _theirs(on_service))
        assert plan.conflicts == () and plan.properties == {"plan": "three"}


def test_an_unsent_older_value_on_the_service_is_a_colleague_s() -> None:
    edits = [_edit(1, "one"), _edit(2, "two", sent=True), _edit(3, "three")]
    plan = plan_push(edits, _theirs("one"))
    assert plan.conflicts == ((3, "one"),) and plan.properties is None and plan.sending == ()


def test_changing_back_after_a_sent_value_sends_the_old_value() -> None:
    plan = plan_push([_edit(1, "one", sent=True), _edit(2, "base")], _theirs("one"))
    assert plan.properties == {"plan": "base"} and plan.sending == (2,)


def test_unset_and_email_follow_the_same_rule() -> None:
    plan = plan_push([_edit(1, "one", sent=True), _edit(2, None, kind=EditKind.UNSET_PROPERTY)],
                     _theirs("one"))
    assert plan.properties == {} and plan.conflicts == ()
    emails = [_edit(1, "a@example.com", base="base@example.com", sent=True,
                    kind=EditKind.SET_EMAIL),
              _edit(2, "b@example.com", base="base@example.com", kind=EditKind.SET_EMAIL)]
    plan = plan_push(emails, _theirs(None, email="a@example.com"))
    assert plan.fields == {"email": "b@example.com"} and plan.conflicts == ()
