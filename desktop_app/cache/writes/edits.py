"""Local edits in bulk: one SQL pass writes server copies, outbox, audit and effective rows.

An edit of 100k end users is a handful of set-based statements over a temp table of ids,
never a Python loop over rows. Undo and redo work on whole batches (one person-level action)
through the same outbox. Everything here runs inside the caller's write transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from sqlalchemy import Connection, TextClause, text

from desktop_app.cache.writes.creates import created_in_batch, drop_local_rows, recreate_undone
from desktop_app.cache.writes.overlay import EDITABLE_COLUMNS, fill_ids, relay
from desktop_app.cache.records import BatchSummary, EditKind, EditRejected, UndoState
from desktop_app.cache.rows import SERVER_COLUMNS, dump_json, load_json
from desktop_app.cache.writes.validation import describe_ids

# The JSON text of property {key} (an SQL expression) in a properties_json column, 'null'
# when absent; _PROP reads the key :key.
_PROP_KEYED = (
    "COALESCE((SELECT CASE WHEN je.type IN ('true', 'false', 'null') THEN je.type"
    " WHEN je.type IN ('array', 'object') THEN je.value ELSE json_quote(je.value) END"
    " FROM json_each({t}.properties_json) AS je WHERE je.key = {key}), 'null')"
)
_PROP = _PROP_KEYED.replace("{key}", ":key")


def property_json_sql(table: str, key_sql: str) -> str:
    """The JSON text of the property `key_sql` names on `table`'s row ('null' when absent),
    as the outbox stores bases and values: the form every edit compares with."""
    return _PROP_KEYED.format(t=table, key=key_sql)
_HAS_PROP = "EXISTS (SELECT 1 FROM json_each({t}.properties_json) AS je WHERE je.key = :key)"
_ENABLED = "(CASE WHEN {t}.surveys_disabled THEN 'false' ELSE 'true' END)"
_ALL_ON = " AND ".join(
    f"coalesce(json_extract({{t}}.settings_json, '$.{name}'), 1) = 1"
    for name in ("email_nps", "mobile_nps", "web_nps")
)
_SET_CHANNELS = (
    "settings_json = json_set(settings_json, '$.email_nps', json(:flag),"
    " '$.mobile_nps', json(:flag), '$.web_nps', json(:flag)),"
    " surveys_disabled = :disabled, disabled_by = :disabled_by"
)


@dataclass(frozen=True, slots=True)
class _KindSql:
    noop: str  # on the effective row `e`: true when the edit would change nothing
    base: str  # JSON text of the server's value, on the server copy `s`
    before: str  # JSON text of the effective value, on `e`
    assign: str  # the SET clause on end_user


_PROPERTY = dict(base=_PROP.format(t="s"), before=_PROP.format(t="e"),
                 assign="properties_json = json_patch(properties_json, :patch)")
_SQL_OF_KIND = {
    EditKind.SET_PROPERTY: _KindSql(noop=_PROP.format(t="e") + " = :value_json", **_PROPERTY),
    EditKind.UNSET_PROPERTY: _KindSql(noop="NOT " + _HAS_PROP.format(t="e"), **_PROPERTY),
    EditKind.SET_EMAIL: _KindSql("e.email = :value", "json_quote(s.email)",
                                 "json_quote(e.email)", "email = :value"),
    EditKind.SET_EXTERNAL_ID: _KindSql("e.external_id IS :value", "json_quote(s.external_id)",
                                       "json_quote(e.external_id)", "external_id = :value"),
    # noop is chosen per direction in _noop_sql
    EditKind.SET_SURVEYS: _KindSql("", _ENABLED.format(t="s"), _ENABLED.format(t="e"),
                                   _SET_CHANNELS),
    EditKind.DELETE: _KindSql("e.pending_delete", "'null'", "'false'", "pending_delete = 1"),
}


# What each kind writes on the effective row (besides the flags).
COLUMNS_OF_KIND: dict[EditKind, tuple[str, ...]] = {
    EditKind.SET_PROPERTY: ("properties_json",),
    EditKind.UNSET_PROPERTY: ("properties_json",),
    EditKind.SET_EMAIL: ("email",),
    EditKind.SET_EXTERNAL_ID: ("external_id",),
    EditKind.SET_SURVEYS: ("settings_json", "surveys_disabled", "disabled_by"),
    EditKind.DELETE: (),
}


@dataclass(frozen=True, slots=True)
class EditOp:
    """One kind of change with its key and new value, applied to any number of end users."""

    kind: EditKind
    key: str | None = None
    value: object = None

    def params(self, now: int) -> dict[str, object]:
        """Bind values for the statements of this kind ("batch" is set once it exists)."""
        enabled = bool(self.value)
        patch = {self.key: None if self.kind is EditKind.UNSET_PROPERTY else self.value}
        return {
            "key": self.key, "value": self.value, "value_json": dump_json(self.value),
            "patch": dump_json(patch), "flag": "true" if enabled else "false",
            "disabled": not enabled, "disabled_by": "" if enabled else "admin",
            "batch": None, "kind": self.kind.value, "now": now,
        }


@dataclass(frozen=True, slots=True)
class AppliedEdit:
    """What an edit, undo or redo wrote: batch, kind, how many end users, which ones (None
    when more than the listed limit)."""

    batch_id: int | None
    kind: EditKind
    count: int
    end_user_ids: frozenset[int] | None
    conflicts_changed: bool
    new_property_keys: frozenset[str] = frozenset()  # a key set here that no end user had


def unchanged_sql(op: EditOp) -> str:
    """The condition on the effective row `e` (with `op.params`) under which `op` changes
    nothing for that end user: what `apply_edit` skips, for reports made before it runs."""
    return _noop_sql(op)


def _listed_targets(connection: Connection, count: int, limit: int) -> frozenset[int] | None:
    if count > limit:
        return None
    return frozenset(row[0] for row in connection.exec_driver_sql("SELECT id FROM temp.edit_target"))


def _noop_sql(op: EditOp) -> str:
    if op.kind is EditKind.SET_SURVEYS:
        return _ALL_ON.format(t="e") if op.value else "e.disabled_by <> ''"
    return _SQL_OF_KIND[op.kind].noop


@cache
def _statements(kind: EditKind, noop: str) -> tuple[TextClause, ...]:
    sql = _SQL_OF_KIND[kind]
    target = "(SELECT id FROM temp.edit_target)"
    return tuple(text(s) for s in (
        f"DELETE FROM temp.edit_target WHERE id IN (SELECT e.id FROM end_user e"
        f" WHERE e.id IN {target} AND {noop})",
        f"INSERT INTO server_end_user ({', '.join(SERVER_COLUMNS)})"
        f" SELECT {', '.join(SERVER_COLUMNS)} FROM end_user e WHERE e.id IN {target}"
        f" AND NOT EXISTS (SELECT 1 FROM server_end_user s WHERE s.id = e.id)",
        f'INSERT INTO pending_edit (end_user_id, batch_id, kind, "key", base_json, value_json,'
        f" created_at, state) SELECT s.id, :batch, :kind, :key, {sql.base}, :value_json, :now,"
        f" 'queued' FROM server_end_user s WHERE s.id IN {target} ORDER BY s.id",
        f'INSERT INTO audit_entry (edit_id, batch_id, end_user_id, kind, "key", before_json,'
        f" after_json, created_at, outcome) SELECT p.id, p.batch_id, p.end_user_id, p.kind,"
        f" p.\"key\", {sql.before}, p.value_json, p.created_at, 'queued'"
        f" FROM pending_edit p JOIN end_user e ON e.id = p.end_user_id"
        f" WHERE p.batch_id = :batch AND p.state = 'queued'",
        f"UPDATE end_user SET {sql.assign}, pending_count = pending_count + 1"
        f" WHERE id IN {target}",
    ))


def _reject_listed(connection: Connection, condition: str, params: dict[str, object],
                   message: str) -> None:
    """Raise EditRejected(message.format(ids=...)) when any target row meets `condition`."""
    found = [row[0] for row in connection.execute(text(
        f"SELECT t.id FROM temp.edit_target t JOIN end_user e ON e.id = t.id WHERE {condition}"
        " ORDER BY t.id LIMIT 6"), params)]
    if found:
        total = connection.execute(text(
            f"SELECT count(*) FROM temp.edit_target t JOIN end_user e ON e.id = t.id"
            f" WHERE {condition}"), params).scalar_one() if len(found) > 5 else len(found)
        raise EditRejected(message.format(ids=describe_ids(found, total), count=total))


def _check_targets(connection: Connection, op: EditOp, redo: bool) -> None:
    missing_sql = ("SELECT t.id FROM temp.edit_target t WHERE NOT EXISTS"
                   " (SELECT 1 FROM end_user e WHERE e.id = t.id)")
    if redo:  # end users gone since the undo are simply skipped
        connection.exec_driver_sql(f"DELETE FROM temp.edit_target WHERE id IN ({missing_sql})")
    else:
        missing = [row[0] for row in connection.exec_driver_sql(missing_sql + " ORDER BY t.id")]
        if missing:
            raise EditRejected(f"Unknown end user id(s): {describe_ids(missing)}. "
                               "They are not in the cache; sync, then try again.")
    _reject_listed(connection, "e.pending_delete = 2", {}, (
        "End user(s) {ids} are being erased: the service accepted the delete and purges them "
        "soon, so they can no longer be changed."))
    if op.kind is not EditKind.DELETE:
        _reject_listed(connection, "e.pending_delete", {}, (
            "End user(s) {ids} are deleted locally and not yet pushed; "
            "undo the delete before editing them."))
    if op.kind is EditKind.SET_SURVEYS and op.value:
        _reject_listed(connection, "e.disabled_by = 'end_user'", {}, (
            "{count} end user(s) opted out of surveys themselves ({ids}). Only they can opt "
            "back in, so surveys cannot be enabled for them; leave them out and try again."))


def _supersede_conflicts(connection: Connection, op: EditOp, now: int) -> list[int]:
    """A new edit of a conflicted target is the person's newer answer: the conflict goes."""
    if op.kind is EditKind.DELETE or connection.exec_driver_sql(
            "SELECT 1 FROM edit_conflict LIMIT 1").first() is None:
        return []
    kinds = tuple(k.value for k in EditKind if k.field == op.kind.field)
    where = (f"state = 'conflicted' AND end_user_id IN (SELECT id FROM temp.edit_target)"
             f" AND kind IN ({', '.join(repr(k) for k in kinds)}) AND \"key\" IS :key")
    params = {"key": op.key, "now": now}
    users = [row[0] for row in connection.execute(
        text(f"SELECT DISTINCT end_user_id FROM pending_edit WHERE {where}"), params)]
    if users:
        connection.execute(text(
            "UPDATE audit_entry SET outcome = 'superseded', outcome_at = :now WHERE edit_id IN"
            f" (SELECT id FROM pending_edit WHERE {where})"), params)
        connection.execute(text(f"DELETE FROM pending_edit WHERE {where}"), params)
    return users


def apply_edit(
    connection: Connection,
    op: EditOp,
    ids: Sequence[int],
    now: int,
    *,
    redo_batch: int | None = None,
    bulk: bool = False,
    listed_limit: int = 10_000,
) -> AppliedEdit:
    """Validate and apply `op` to `ids`; raises EditRejected before writing anything.

    End users the edit would not change are skipped (no outbox entry). `redo_batch` re-applies
    an undone batch under its own id. `bulk` records that a new batch is a bulk action.
    """
    fill_ids(connection, "edit_target", ids)
    _check_targets(connection, op, redo_batch is not None)
    delete_noops, copy_servers, queue, audit, assign = _statements(op.kind, _noop_sql(op))
    params = op.params(now)
    connection.execute(delete_noops, params)
    count = connection.exec_driver_sql("SELECT count(*) FROM temp.edit_target").scalar_one()
    if redo_batch is not None:
        connection.execute(text("UPDATE edit_batch SET state = :state WHERE id = :id"),
                           {"state": "done" if count else "discarded", "id": redo_batch})
    if not count:
        return AppliedEdit(None, op.kind, 0, frozenset(), False)
    if redo_batch is None:
        # A new action ends the redo chain, as in any editor.
        connection.exec_driver_sql("UPDATE edit_batch SET state = 'discarded' WHERE state = 'undone'")
        batch_id = connection.execute(text(
            'INSERT INTO edit_batch (kind, "key", value_json, created_at, undoable, state, pushed,'
            " bulk) VALUES (:kind, :key, :value_json, :now, 1, 'done', 0, :bulk)"),
            {**params, "bulk": bulk}).lastrowid
    else:
        batch_id = redo_batch
    params["batch"] = batch_id
    superseded = _supersede_conflicts(connection, op, now)
    for statement in (copy_servers, queue, audit, assign):
        connection.execute(statement, params)
    new_keys: frozenset[str] = frozenset()
    if op.kind is EditKind.SET_PROPERTY:
        inserted = connection.execute(text('INSERT OR IGNORE INTO property_key ("key") VALUES (:key)'),
                                      params).rowcount
        if inserted and op.key:
            new_keys = frozenset({op.key})
    if superseded:
        relay(connection, superseded)  # flags and values without the superseded entries
    listed = _listed_targets(connection, count, listed_limit)
    return AppliedEdit(batch_id, op.kind, count, listed, bool(superseded), new_keys)


def undoable_batch(connection: Connection) -> int | None:
    """The batch an undo would revert: the newest action, if none of it was pushed yet.

    An entry marked sent counts as pushed: the service may hold its value already, and
    undoing it here would be quietly reverted by the next pull.
    """
    top = connection.exec_driver_sql(
        "SELECT b.id, b.pushed OR EXISTS (SELECT 1 FROM pending_edit p WHERE p.batch_id = b.id"
        " AND p.sent_at IS NOT NULL) AS pushed FROM edit_batch b WHERE b.undoable AND b.state = 'done'"
        " ORDER BY b.id DESC LIMIT 1").first()
    return None if top is None or top.pushed else int(top.id)


def redoable_batch(connection: Connection) -> int | None:
    """The batch a redo would re-apply: the most recently undone one."""
    found = connection.exec_driver_sql(
        "SELECT id FROM edit_batch WHERE state = 'undone' ORDER BY id LIMIT 1").scalar()
    return None if found is None else int(found)


def _summary(connection: Connection, batch_id: int, users_sql: str) -> BatchSummary:
    kind, key, value_json, bulk, per_row = connection.exec_driver_sql(
        'SELECT kind, "key", value_json, bulk, per_row FROM edit_batch WHERE id = ?', (batch_id,)).one()
    users = connection.exec_driver_sql(users_sql, (batch_id,)).scalar_one()
    return BatchSummary(batch_id, EditKind(kind), key, load_json(value_json), int(users),
                        bool(bulk), bool(per_row))


def undo_state(connection: Connection) -> UndoState:
    """What undo and redo would act on, summarized for their names. Call it inside one read
    transaction so both halves (and their counts) come from the same committed state."""
    undo, redo = undoable_batch(connection), redoable_batch(connection)
    return UndoState(
        # A done batch's outbox entries, by end user (a per-row batch may hold several each):
        # what undo_batch reverts.
        None if undo is None else _summary(
            connection, undo, "SELECT count(DISTINCT end_user_id) FROM pending_edit WHERE batch_id = ?"),
        # An undone batch: the end users redo_batch would apply it to again (those still here).
        None if redo is None else _summary(
            connection, redo, "SELECT count(DISTINCT a.end_user_id) FROM audit_entry a"
            " WHERE a.batch_id = ? AND a.outcome = 'undone'"
            " AND EXISTS (SELECT 1 FROM end_user e WHERE e.id = a.end_user_id)"),
    )


def undo_batch(connection: Connection, batch_id: int, now: int, *,
               listed_limit: int = 10_000) -> AppliedEdit:
    """Remove the batch's entries from the outbox and re-lay its end users."""
    fill_ids(connection, "edit_target", [row[0] for row in connection.exec_driver_sql(
        "SELECT DISTINCT end_user_id FROM pending_edit WHERE batch_id = ?", (batch_id,))])
    count = connection.exec_driver_sql("SELECT count(*) FROM temp.edit_target").scalar_one()
    had_conflicts = connection.exec_driver_sql(
        "SELECT 1 FROM edit_conflict WHERE edit_id IN"
        " (SELECT id FROM pending_edit WHERE batch_id = ?) LIMIT 1", (batch_id,)).first()
    connection.exec_driver_sql(
        "UPDATE audit_entry SET outcome = 'undone', outcome_at = ? WHERE batch_id = ?"
        " AND outcome IN ('queued', 'rejected', 'conflicted')", (now, batch_id))
    kind = EditKind(connection.exec_driver_sql(
        "SELECT kind FROM edit_batch WHERE id = ?", (batch_id,)).scalar_one())
    created = created_in_batch(connection, batch_id)
    connection.exec_driver_sql("DELETE FROM pending_edit WHERE batch_id = ?", (batch_id,))
    if created:  # never sent (the batch is undoable): the people it created go again
        drop_local_rows(connection, created)
        connection.exec_driver_sql("DELETE FROM temp.edit_target WHERE id < 0")
    relay(connection, [row[0] for row in connection.exec_driver_sql(
        "SELECT id FROM temp.edit_target")], changed_columns=COLUMNS_OF_KIND.get(kind, EDITABLE_COLUMNS))
    connection.exec_driver_sql("UPDATE edit_batch SET state = 'undone' WHERE id = ?", (batch_id,))
    return AppliedEdit(batch_id, kind, count, _listed_targets(connection, count, listed_limit),
                       had_conflicts is not None)


def redo_batch(connection: Connection, batch_id: int, now: int, *,
               listed_limit: int = 10_000) -> AppliedEdit:
    """Apply an undone batch again to the end users it had changed, with fresh bases."""
    kind, key, value_json, per_row = connection.exec_driver_sql(
        'SELECT kind, "key", value_json, per_row FROM edit_batch WHERE id = ?', (batch_id,)).one()
    if kind == EditKind.CREATE.value:  # an import: its new people first, then its updates
        from desktop_app.cache.writes.row_edits import redo_row_batch

        created = recreate_undone(connection, batch_id, now)
        updated = redo_row_batch(connection, batch_id, EditKind.SET_PROPERTY, now, listed_limit=listed_limit)
        connection.exec_driver_sql("UPDATE edit_batch SET state = 'done' WHERE id = ?", (batch_id,))
        ids = None if updated.end_user_ids is None else updated.end_user_ids | frozenset(created)
        return AppliedEdit(batch_id, EditKind.CREATE, updated.count + len(created), ids,
                           updated.conflicts_changed, updated.new_property_keys)
    if per_row:  # each end user's own value, as its audit entries keep it
        from desktop_app.cache.writes.row_edits import redo_row_batch

        return redo_row_batch(connection, batch_id, EditKind(kind), now, listed_limit=listed_limit)
    users = [row[0] for row in connection.exec_driver_sql(
        "SELECT DISTINCT end_user_id FROM audit_entry WHERE batch_id = ? AND outcome = 'undone'"
        " ORDER BY end_user_id", (batch_id,))]
    op = EditOp(EditKind(kind), key, load_json(value_json))
    return apply_edit(connection, op, users, now, redo_batch=batch_id, listed_limit=listed_limit)

