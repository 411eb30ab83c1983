"""Local edits where each end user gets their own value (a list's `email,plan,seats_amount`).

The same outbox, audit and undo as `edits.apply_edit`, in one batch, set-based: the values go
into a temp table of cells (end user, key, JSON value) and a handful of statements join it, so
100k people's own values never mean a Python loop over rows. A batch records `per_row`; its
values live in its audit entries, which a redo re-applies. Runs inside the caller's write
transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache

from sqlalchemy import Connection, TextClause, text

from desktop_app.cache.records import EditKind, EditRejected
from desktop_app.cache.rows import SERVER_COLUMNS, dump_json
from desktop_app.cache.writes.edits import AppliedEdit, EditOp, _check_targets, _listed_targets, property_json_sql
from desktop_app.cache.writes.overlay import relay

ROW_KINDS = (EditKind.SET_PROPERTY, EditKind.SET_EXTERNAL_ID)
# A cell: (end user id, property key or None for the external id, the new value).
Cell = tuple[int, str | None, object]

_CELLS = "temp.edit_cell"
_NO_KEY = ""  # the cell key of a seed field (external id); no property is named "" (validation)
_KEY = f"NULLIF(c.key, '{_NO_KEY}')"  # the outbox's key: NULL for a seed field


@cache
def _statements(kind: EditKind) -> tuple[TextClause, ...]:
    if kind is EditKind.SET_PROPERTY:
        same = f"{property_json_sql('e', 'c.key')} = c.value_json"
        base, before = property_json_sql("s", "c.key"), property_json_sql("e", 'p."key"')
        assign = (f"properties_json = json_patch(properties_json, (SELECT json_group_object(c.key,"
                  f" json(c.value_json)) FROM {_CELLS} c WHERE c.id = end_user.id))")
    else:
        same = "e.external_id IS json_extract(c.value_json, '$')"
        base, before = "json_quote(s.external_id)", "json_quote(e.external_id)"
        assign = f"external_id = (SELECT json_extract(c.value_json, '$') FROM {_CELLS} c WHERE c.id = end_user.id)"
    target = "(SELECT id FROM temp.edit_target)"
    return tuple(text(s) for s in (
        # cells that would change nothing go first; their end users may have other cells
        f"DELETE FROM {_CELLS} AS c WHERE EXISTS (SELECT 1 FROM end_user e WHERE e.id = c.id AND {same})",
        f"INSERT INTO server_end_user ({', '.join(SERVER_COLUMNS)})"
        f" SELECT {', '.join(SERVER_COLUMNS)} FROM end_user e WHERE e.id IN {target}"
        f" AND NOT EXISTS (SELECT 1 FROM server_end_user s WHERE s.id = e.id)",
        f'INSERT INTO pending_edit (end_user_id, batch_id, kind, "key", base_json, value_json,'
        f" created_at, state) SELECT s.id, :batch, :kind, {_KEY}, {base}, c.value_json, :now,"
        f" 'queued' FROM {_CELLS} c JOIN server_end_user s ON s.id = c.id ORDER BY c.id, c.key",
        f'INSERT INTO audit_entry (edit_id, batch_id, end_user_id, kind, "key", before_json,'
        f" after_json, created_at, outcome) SELECT p.id, p.batch_id, p.end_user_id, p.kind,"
        f" p.\"key\", {before}, p.value_json, p.created_at, 'queued'"
        f" FROM pending_edit p JOIN end_user e ON e.id = p.end_user_id"
        f" WHERE p.batch_id = :batch AND p.state = 'queued'",
        f"UPDATE end_user SET {assign}, pending_count = pending_count"
        f" + (SELECT count(*) FROM {_CELLS} c WHERE c.id = end_user.id) WHERE id IN {target}",
    ))


def _fill_cells(connection: Connection, cells: Sequence[tuple[int, str, str]]) -> None:
    connection.exec_driver_sql(
        "CREATE TEMP TABLE IF NOT EXISTS edit_cell (id INTEGER NOT NULL, key TEXT NOT NULL,"
        " value_json TEXT NOT NULL, PRIMARY KEY (id, key))")
    connection.exec_driver_sql(f"DELETE FROM {_CELLS}")
    # One statement over a JSON array, as overlay.fill_ids loads ids.
    connection.exec_driver_sql(
        f"INSERT OR REPLACE INTO {_CELLS} (id, key, value_json) SELECT json_extract(value, '$[0]'),"
        " json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?)",
        (json.dumps(cells, ensure_ascii=False),))


def _targets_from_cells(connection: Connection) -> int:
    connection.exec_driver_sql("CREATE TEMP TABLE IF NOT EXISTS edit_target (id INTEGER PRIMARY KEY)")
    connection.exec_driver_sql("DELETE FROM temp.edit_target")
    connection.exec_driver_sql(f"INSERT INTO temp.edit_target (id) SELECT DISTINCT id FROM {_CELLS}")
    return int(connection.exec_driver_sql("SELECT count(*) FROM temp.edit_target").scalar_one())


def _supersede_conflicts(connection: Connection, kind: EditKind, now: int) -> list[int]:
    """A cell's new value is the person's newer answer to a conflict on that target."""
    if connection.exec_driver_sql("SELECT 1 FROM edit_conflict LIMIT 1").first() is None:
        return []
    kinds = ", ".join(repr(k.value) for k in EditKind if k.field == kind.field)
    where = (f"state = 'conflicted' AND kind IN ({kinds}) AND EXISTS (SELECT 1 FROM {_CELLS} c"
             f' WHERE c.id = pending_edit.end_user_id AND {_KEY} IS pending_edit."key")')
    users = [row[0] for row in connection.exec_driver_sql(
        f"SELECT DISTINCT end_user_id FROM pending_edit WHERE {where}")]
    if users:
        connection.exec_driver_sql(
            "UPDATE audit_entry SET outcome = 'superseded', outcome_at = ? WHERE edit_id IN"
            f" (SELECT id FROM pending_edit WHERE {where})", (now,))
        connection.exec_driver_sql(f"DELETE FROM pending_edit WHERE {where}")
    return users


def apply_row_edits(
    connection: Connection,
    kind: EditKind,
    cells: Sequence[Cell],
    now: int,
    *,
    redo_batch: int | None = None,
    listed_limit: int = 10_000,
) -> AppliedEdit:
    """Give each end user their own value(s) in one batch; raises EditRejected before
    writing anything (an unknown end user, one deleted here and not yet pushed).

    Values are checked by the caller (`Cache.set_values_per_row`). Cells that change nothing
    are skipped; an end user all of whose cells change nothing gets no outbox entry. A later
    cell for the same (end user, key) replaces an earlier one.
    """
    if kind not in ROW_KINDS:
        raise EditRejected(f"Values per end user are for properties and external ids, not {kind}.")
    rows = [(id, _NO_KEY if key is None else key, dump_json(value)) for id, key, value in cells]
    _fill_cells(connection, rows)
    _targets_from_cells(connection)
    _check_targets(connection, EditOp(kind), redo_batch is not None)
    if redo_batch is not None:  # end users gone since the undo were dropped from the targets
        connection.exec_driver_sql(f"DELETE FROM {_CELLS} WHERE id NOT IN (SELECT id FROM temp.edit_target)")
    skip_same, copy_servers, queue, audit, assign = _statements(kind)
    connection.execute(skip_same)
    count = _targets_from_cells(connection)
    if redo_batch is not None:
        connection.execute(text("UPDATE edit_batch SET state = :state WHERE id = :id"),
                           {"state": "done" if count else "discarded", "id": redo_batch})
    if not count:
        return AppliedEdit(None, kind, 0, frozenset(), False)
    keys = [k for (k,) in connection.exec_driver_sql(f"SELECT DISTINCT key FROM {_CELLS} ORDER BY key")]
    if redo_batch is None:
        connection.exec_driver_sql("UPDATE edit_batch SET state = 'discarded' WHERE state = 'undone'")
        batch_id = connection.execute(text(
            'INSERT INTO edit_batch (kind, "key", value_json, created_at, undoable, state, pushed,'
            " bulk, per_row) VALUES (:kind, :key, 'null', :now, 1, 'done', 0, 1, 1)"),
            {"kind": kind.value, "key": ", ".join(k for k in keys if k) or None, "now": now}).lastrowid
    else:
        batch_id = redo_batch
    params = {"batch": batch_id, "kind": kind.value, "now": now}
    superseded = _supersede_conflicts(connection, kind, now)
    for statement in (copy_servers, queue, audit, assign):
        connection.execute(statement, params)
    new_keys: frozenset[str] = frozenset()
    if kind is EditKind.SET_PROPERTY:
        known = {k for (k,) in connection.exec_driver_sql('SELECT "key" FROM property_key')}
        fresh = [k for k in keys if k not in known]
        if fresh:
            connection.exec_driver_sql('INSERT OR IGNORE INTO property_key ("key") VALUES (?)',
                                       [(k,) for k in fresh])
            new_keys = frozenset(fresh)
    if superseded:
        relay(connection, superseded)
    return AppliedEdit(batch_id, kind, count, _listed_targets(connection, count, listed_limit),
                       bool(superseded), new_keys)


def redo_row_batch(connection: Connection, batch_id: int, kind: EditKind, now: int, *,
                   listed_limit: int = 10_000) -> AppliedEdit:
    """Re-apply an undone per-row batch: each (end user, key)'s newest undone value."""
    cells = [(int(user), key, json.loads(after)) for user, key, after in connection.exec_driver_sql(
        'SELECT end_user_id, "key", after_json FROM audit_entry WHERE id IN (SELECT max(id)'
        " FROM audit_entry WHERE batch_id = ? AND outcome = 'undone' AND kind = ?"
        " GROUP BY end_user_id, \"key\")", (batch_id, kind.value))]
    return apply_row_edits(connection, kind, cells, now, redo_batch=batch_id, listed_limit=listed_limit)
