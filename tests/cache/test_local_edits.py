"""Local edits: effective row, outbox and audit in one transaction; validation writes nothing."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable

import pytest
from sqlalchemy.exc import DBAPIError

from desktop_app.cache.changes import CacheChanges, Initiator
from desktop_app.cache.records import AuditOutcome, EditKind, EditRejected, EditState
from desktop_app.cache.store import Cache
from desktop_app.cache.writes import edits as local_edits
from desktop_app.domain import DisabledBy, EndUser

Snapshot = Callable[[Cache], dict[str, list[tuple[object, ...]]]]
Check = Callable[[Cache], None]


def only_edit(cache: Cache, end_user_id: int) -> object:
    [edit] = cache.pending_for(end_user_id)
    return edit


def test_set_property_lays_the_value_queues_and_audits(seeded: Cache, invariants: Check) -> None:
    changes = seeded.set_property([3, 4], "plan", "pro")
    assert changes == CacheChanges(Initiator.EDIT, frozenset({3, 4}), outbox_changed=True)
    row = seeded.get(3)
    assert row is not None
    assert row.end_user.properties == {"plan": "pro", "seats": 3}
    assert row.server is not None and row.server.properties["plan"] == "free"
    [edit] = row.pending
    assert (edit.kind, edit.key, edit.base, edit.value, edit.state) == (
        EditKind.SET_PROPERTY, "plan", "free", "pro", EditState.QUEUED)
    [audit] = seeded.audit_log(3)
    assert (audit.before, audit.after, audit.outcome, audit.pushed) == (
        "free", "pro", AuditOutcome.QUEUED, False)
    assert audit.edit_id == edit.id
    assert seeded.pending_count() == 2 and "plan" in seeded.property_keys()
    invariants(seeded)


def test_a_second_edit_keeps_the_server_value_as_its_base(seeded: Cache, invariants: Check) -> None:
    seeded.set_property([5], "plan", "pro")
    seeded.set_property([5], "plan", "enterprise")
    first, second = seeded.pending_for(5)
    assert first.base == second.base == "free"  # the server's value, not the previous local one
    assert seeded.audit_log(5)[0].before == "pro"  # the audit shows what the person saw
    assert seeded.get(5).end_user.properties["plan"] == "enterprise"
    invariants(seeded)


@pytest.mark.parametrize("value", [42, 2.5, True, False, ["beta", "vip"], "", "ünïcode ✓", "a\"b\\c"])
def test_property_values_keep_their_type(seeded: Cache, value: object, invariants: Check) -> None:
    seeded.set_property([6], "new key.with dots and \"quotes\"", value)
    row = seeded.get(6)
    assert row is not None
    assert row.end_user.properties["new key.with dots and \"quotes\""] == value
    assert type(row.end_user.properties["new key.with dots and \"quotes\""]) is type(value)
    assert only_edit(seeded, 6).base is None
    invariants(seeded)


def test_unset_property(seeded: Cache, invariants: Check) -> None:
    seeded.unset_property([7, 8], "seats")
    assert seeded.get(7).end_user.properties == {"plan": "free"}
    edit = only_edit(seeded, 7)
    assert (edit.kind, edit.base, edit.value) == (EditKind.UNSET_PROPERTY, 7, None)
    invariants(seeded)


def test_email_and_external_id(seeded: Cache, invariants: Check) -> None:
    seeded.set_email(9, "  new.address@example.org ")
    seeded.set_external_id(9, "crm-9")
    seeded.set_external_id(10, None)  # already None on the server: nothing to do
    row = seeded.get(9)
    assert row is not None
    assert (row.end_user.email, row.end_user.external_id) == ("new.address@example.org", "crm-9")
    email, external = row.pending
    assert (email.kind, email.base, email.value) == (EditKind.SET_EMAIL, "user9@example.com",
                                                     "new.address@example.org")
    assert (external.kind, external.base, external.value) == (EditKind.SET_EXTERNAL_ID, None,
                                                              "crm-9")
    assert seeded.pending_for(10) == []
    seeded.set_external_id(9, "")  # blank clears
    assert seeded.get(9).end_user.external_id is None
    invariants(seeded)


def test_surveys_disable_and_enable(seeded: Cache, invariants: Check) -> None:
    changes = seeded.set_surveys_enabled([1, 2, 17, 18], False)
    # 17 opted out (read-only, a no-op) and 18 is already off: only 1 and 2 change
    assert changes.end_user_ids == frozenset({1, 2})
    row = seeded.get(1)
    assert row is not None and row.end_user.surveys_disabled
    assert row.end_user.disabled_by is DisabledBy.ADMIN
    assert not (row.end_user.settings.email_nps or row.end_user.settings.web_nps)
    edit = only_edit(seeded, 1)
    assert (edit.kind, edit.base, edit.value) == (EditKind.SET_SURVEYS, True, False)
    assert seeded.pending_for(17) == [] and seeded.pending_for(18) == []

    seeded.set_surveys_enabled([1, 18], True)
    assert not seeded.get(18).end_user.surveys_disabled
    assert seeded.get(18).end_user.disabled_by is DisabledBy.NOBODY
    invariants(seeded)


def test_enabling_an_end_user_who_opted_out_is_rejected(seeded: Cache, snapshot: Snapshot) -> None:
    before = snapshot(seeded)
    with pytest.raises(EditRejected, match=r"opted out of surveys themselves \(17\)"):
        seeded.set_surveys_enabled([1, 17, 18], True)
    assert snapshot(seeded) == before


def test_delete_flags_the_row_until_confirmed(seeded: Cache, invariants: Check) -> None:
    changes = seeded.delete_end_users([11, 12])
    assert changes.rows_added_or_removed and changes.end_user_ids == frozenset({11, 12})
    row = seeded.get(11)
    assert row is not None and row.pending_delete and row.end_user.email == "user11@example.com"
    assert seeded.delete_end_users([11]).end_user_ids == frozenset()  # already queued
    with pytest.raises(EditRejected, match="deleted locally"):
        seeded.set_property([11], "plan", "pro")
    assert seeded.count_all() == 20
    invariants(seeded)


def test_edits_that_change_nothing_queue_nothing(seeded: Cache, snapshot: Snapshot) -> None:
    before = snapshot(seeded)
    for change in (seeded.set_property([1, 2], "plan", "free"),
                   seeded.unset_property([1], "missing"),
                   seeded.set_email(1, "user1@example.com"),
                   seeded.set_surveys_enabled([1], True)):
        assert change.end_user_ids == frozenset() and not change.outbox_changed
    assert snapshot(seeded) == before
    assert seeded.undo_state().undo is None


BAD_EDITS: list[tuple[str, Callable[[Cache], object], str]] = [
    ("empty key", lambda c: c.set_property([1], "  ", "x"), "cannot be empty"),
    ("long key", lambda c: c.set_property([1], "k" * 101, "x"), "at most 100"),
    ("bracket key", lambda c: c.set_property([1], "a[b]", "x"), r"\["),
    ("control key", lambda c: c.set_property([1], "a\x07b", "x"), "control"),
    ("dict value", lambda c: c.set_property([1], "k", {"a": 1}), "dict"),
    ("None value", lambda c: c.set_property([1], "k", None), "remove the property"),
    ("nested list", lambda c: c.set_property([1], "k", [["a"]]), "only hold text"),
    ("list of ints", lambda c: c.set_property([1], "k", [1, 2]), "only hold text"),
    ("nan", lambda c: c.set_property([1], "k", math.nan), "finite"),
    ("inf", lambda c: c.set_property([1], "k", math.inf), "finite"),
    ("long value", lambda c: c.set_property([1], "k", "v" * 1001), "at most 1000"),
    ("long list", lambda c: c.set_property([1], "k", ["v" * 600, "w" * 600]), "at most 1000"),
    ("unknown id", lambda c: c.set_property([1, 404, 405], "plan", "pro"), "404, 405"),
    ("no ids", lambda c: c.set_property([], "plan", "pro"), "at least one"),
    ("bool id", lambda c: c.set_property([True], "plan", "pro"), "Not an end user id"),
    ("email no @", lambda c: c.set_email(1, "nobody.example.com"), "exactly one @"),
    ("email two @", lambda c: c.set_email(1, "a@b@example.com"), "exactly one @"),
    ("email no local", lambda c: c.set_email(1, "@example.com"), "before the @"),
    ("email no dot", lambda c: c.set_email(1, "a@localhost"), "domain"),
    ("email empty label", lambda c: c.set_email(1, "a@example..com"), "domain"),
    ("email space", lambda c: c.set_email(1, "a b@example.com"), "spaces"),
    ("email long", lambda c: c.set_email(1, "a" * 250 + "@x.com"), "at most 254"),
    ("email unknown id", lambda c: c.set_email(999, "a@example.com"), "999"),
    ("external long", lambda c: c.set_external_id(1, "x" * 256), "at most 255"),
    ("surveys not bool", lambda c: c.set_surveys_enabled([1], 1), "enabled"),
    ("delete unknown", lambda c: c.delete_end_users([1, 77]), "77"),
    # half a surrogate pair (a window can hand one over) or an undecodable byte (surrogateescape)
    ("surrogate key", lambda c: c.set_property([1], "pl\ud800an", "x"), "property name holds a character"),
    ("surrogate value", lambda c: c.set_property([1], "plan", "pro\udcff"), "property value holds"),
    ("surrogate in list", lambda c: c.set_property([1], "tags", ["ok", "\ud83d"]), "property value holds"),
    ("surrogate email", lambda c: c.set_email(1, "a\udfff@example.com"), "email address holds"),
    ("surrogate external", lambda c: c.set_external_id(1, "\udce9x"), "external id holds"),
]


@pytest.mark.parametrize("attempt,message", [(a, m) for _, a, m in BAD_EDITS],
                         ids=[name for name, _, _ in BAD_EDITS])
def test_invalid_edits_are_rejected_and_write_nothing(
        seeded: Cache, snapshot: Snapshot, attempt: Callable[[Cache], object], message: str) -> None:
    heard: list[CacheChanges] = []
    seeded.subscribe(heard.append)
    before = snapshot(seeded)
    with pytest.raises(EditRejected, match=message) as raised:
        attempt(seeded)
    assert raised.value.message == str(raised.value)
    assert snapshot(seeded) == before
    assert heard == []


def test_subscribers_hear_committed_writes_and_can_leave(seeded: Cache) -> None:
    heard: list[CacheChanges] = []
    seen_committed: list[bool] = []

    def listener(changes: CacheChanges) -> None:
        heard.append(changes)
        # a fresh connection sees the write: the callback runs after the commit
        connection = sqlite3.connect(seeded.path)
        seen_committed.append(connection.execute(
            "SELECT count(*) FROM pending_edit").fetchone()[0] > 0)
        connection.close()

    def broken(changes: CacheChanges) -> None:
        raise RuntimeError("a view crashed")

    seeded.subscribe(broken)
    leave = seeded.subscribe(listener)
    seeded.set_property([1], "plan", "pro")
    assert [c.initiator for c in heard] == [Initiator.EDIT] and seen_committed == [True]
    leave()
    seeded.set_property([1], "plan", "basic")
    assert len(heard) == 1


def test_an_sql_failure_mid_bulk_leaves_nothing(seeded: Cache, snapshot: Snapshot) -> None:
    # A trigger aborts on the 15th audit insert: outbox rows, server copies and the batch
    # were already written in the same transaction when it fires.
    raw = sqlite3.connect(seeded.path)
    raw.execute("CREATE TRIGGER boom BEFORE INSERT ON audit_entry WHEN NEW.end_user_id = 15"
                " BEGIN SELECT RAISE(ABORT, 'boom'); END")
    raw.commit()
    raw.close()
    before = snapshot(seeded)
    with pytest.raises(DBAPIError, match="boom"):
        seeded.set_property(list(range(1, 21)), "plan", "pro")
    assert snapshot(seeded) == before


def test_a_python_failure_mid_bulk_leaves_nothing(
        seeded: Cache, snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch) -> None:
    real = local_edits._supersede_conflicts

    def fail_after_the_batch(*args: object, **kwargs: object) -> list[int]:
        real(*args, **kwargs)
        raise RuntimeError("power cut simulation")

    monkeypatch.setattr(local_edits, "_supersede_conflicts", fail_after_the_batch)
    before = snapshot(seeded)
    with pytest.raises(RuntimeError):
        seeded.delete_end_users(list(range(1, 21)))
    assert snapshot(seeded) == before
    monkeypatch.undo()
    assert seeded.delete_end_users([1]).end_user_ids == frozenset({1})  # the cache still works


def test_bulk_edits_list_ids_only_up_to_a_limit(cache: Cache, make_user: Callable[..., EndUser],
                                                monkeypatch: pytest.MonkeyPatch,
                                                invariants: Check) -> None:
    from desktop_app.cache import store

    cache.ingest_pulled([make_user(i) for i in range(1, 301)], "c", 1)
    monkeypatch.setattr(store, "LISTED_IDS_LIMIT", 100)
    changes = cache.set_surveys_enabled(list(range(1, 301)), False)
    assert changes.end_user_ids is None and changes.outbox_changed  # "refresh everything"
    assert cache.pending_count() == 300
    invariants(cache)


def test_edits_commit_with_a_synced_wal_and_pulls_without(seeded: Cache,
                                                          make_user: Callable[..., EndUser]) -> None:
    from sqlalchemy import event

    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.startswith(("PRAGMA synchronous", "BEGIN")):
            statements.append(statement)

    event.listen(seeded.engine, "before_cursor_execute", record)
    try:
        seeded.set_property([1], "plan", "pro")
        edit = list(statements)
        statements.clear()
        seeded.ingest_pulled([make_user(2, updated_at=2_000_000_000)], "c", 3)
        pull = list(statements)
    finally:
        event.remove(seeded.engine, "before_cursor_execute", record)
    assert edit == ["PRAGMA synchronous = FULL", "BEGIN IMMEDIATE"]
    assert pull == ["PRAGMA synchronous = NORMAL", "BEGIN IMMEDIATE"]
