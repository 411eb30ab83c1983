"""The sync engine's writes: pulled rows, push outcomes, conflicts, resolutions, deletions.

Everything here runs inside the caller's write transaction; none of it ever overwrites a
pending local edit: rows under edits get a new server copy and the edits are laid over it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from desktop_app.cache.writes import erasure
from desktop_app.cache.writes.overlay import LAID_SQL, fill_ids, relay
from desktop_app.cache.records import ConflictChoice, EditKind, EditRejected
from desktop_app.cache.rows import (
    EFFECTIVE_COLUMNS,
    FLAG_COLUMNS,
    I_UPDATED_AT,
    SERVER_COLUMNS,
    ServerValues,
    dump_json,
    end_user_of,
    load_json,
    server_values,
)
from desktop_app.cache.writes.validation import (
    check_email,
    check_enabled,
    check_external_id,
    check_property_value,
)
from desktop_app.domain import EndUser, canonical_value

# A pulled row replaces the effective row only when no edit is laid over it, and never with
# an older version (a page read before a push answered must not undo the push's row).
UPSERT_PULLED = (
    f"INSERT INTO end_user ({', '.join(EFFECTIVE_COLUMNS)})"
    f" VALUES ({', '.join('?' for _ in SERVER_COLUMNS)}, {', '.join('0' for _ in FLAG_COLUMNS)})"
    f" ON CONFLICT(id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in SERVER_COLUMNS[1:])}"
    " WHERE end_user.pending_count = 0 AND excluded.updated_at >= end_user.updated_at"
)
GONE_MESSAGE = "The end user was deleted on the service."


@dataclass(frozen=True, slots=True)
class Ingested:
    end_user_ids: list[int]
    added: bool  # some end user was new to the cache
    new_property_keys: frozenset[str] = frozenset()  # keys the cache had never seen


def set_cursor(connection: Connection, key: str, value: int | None) -> None:
    connection.exec_driver_sql(
        'INSERT INTO sync_cursor ("key", value) VALUES (?, ?)'
        " ON CONFLICT(\"key\") DO UPDATE SET value = excluded.value", (key, value))


def remember_property_keys(connection: Connection, keys: Iterable[str]) -> frozenset[str]:
    """Record the keys in the cache's key list; returns those it did not hold before."""
    wanted = set(keys)
    if not wanted:
        return frozenset()
    known = {k for (k,) in connection.exec_driver_sql(
        'SELECT "key" FROM property_key WHERE "key" IN (SELECT value FROM json_each(?))',
        (json.dumps(sorted(wanted)),))}
    new = wanted - known
    if new:
        connection.exec_driver_sql('INSERT INTO property_key ("key") VALUES (?)', [(k,) for k in sorted(new)])
    return frozenset(new)


def ingest(connection: Connection, end_users: Sequence[EndUser], cursor_key: str,
           cursor_value: int | None) -> Ingested:
    """Upsert pulled server rows (one executemany), re-lay edits where any, move the cursor."""
    rows: dict[int, ServerValues] = {}
    keys: set[str] = set()
    for user in end_users:
        values = server_values(user)
        held = rows.get(user.id)
        if held is None or user.updated_at >= held[I_UPDATED_AT]:
            rows[user.id] = values
        keys.update(user.properties)
    erased, erasure_pending = erasure.screen_pulled(connection, list(rows))
    for end_user_id in erased:  # purged after this page was read: never back as a live row
        del rows[end_user_id]
    ids = list(rows)
    # Which rows exist (for "added") and which carry edits, in one statement for the page.
    pending_counts: dict[int, int] = dict(connection.exec_driver_sql(
        "SELECT id, pending_count FROM end_user WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps(ids),)).all())
    plain = [values for i, values in rows.items() if not pending_counts.get(i)]
    under_edits = {i: values for i, values in rows.items() if pending_counts.get(i)}
    if plain:
        connection.exec_driver_sql(UPSERT_PULLED, plain)
    if under_edits:
        relay(connection, list(under_edits), under_edits, newer_only=True)
    if erasure_pending:  # a row brought back while its purge is awaited keeps the mark
        erasure.mark_pending_rows(connection, erasure_pending)
    new_keys = remember_property_keys(connection, keys)
    set_cursor(connection, cursor_key, cursor_value)
    return Ingested(ids, added=len(pending_counts) < len(rows), new_property_keys=new_keys)


def _mark_audit(connection: Connection, end_user_id: int, outcome: str, now: int,
                message: str | None = None) -> None:
    """Set the outcome of the audit entries of the edits in temp.push_edits."""
    connection.exec_driver_sql(
        "UPDATE audit_entry SET outcome = ?, outcome_at = ?, message = ?"
        " WHERE edit_id IN (SELECT id FROM temp.push_edits) AND end_user_id = ?",
        (outcome, now, message, end_user_id))


def _conflicts_among_push_edits(connection: Connection) -> bool:
    return connection.exec_driver_sql(
        "SELECT 1 FROM edit_conflict WHERE edit_id IN (SELECT id FROM temp.push_edits) LIMIT 1"
    ).first() is not None


def mark_sent(connection: Connection, end_user_id: int, edit_ids: Sequence[int],
              now: int) -> None:
    """A push is about to put these queued edits' values on the wire as ours."""
    fill_ids(connection, "push_edits", edit_ids)
    connection.exec_driver_sql(
        "UPDATE pending_edit SET sent_at = ? WHERE id IN (SELECT id FROM temp.push_edits)"
        " AND end_user_id = ? AND state = 'queued'", (now, end_user_id))


def _value_of(user: EndUser, kind: EditKind, key: str | None) -> object:
    """What an edit of `kind` (and `key`) changes, as `user` has it (not for a delete)."""
    if kind.field == "properties":
        return user.properties.get(key or "")
    if kind.field == "surveys":
        return not user.surveys_disabled
    return user.email if kind is EditKind.SET_EMAIL else user.external_id


def _rebase_on_our_answer(connection: Connection, end_user_id: int, server: EndUser) -> None:
    """Queued edits made while a push of the same target was on the wire (not in
    temp.push_edits) were based on the server's value before it. Where the answer holds a
    value we sent, that is the server value they now stand on; left as they were, our own value
    would meet them as a colleague's on the next push."""
    sent: dict[tuple[str, str | None], list[object]] = {}
    for kind_text, key, value_json in connection.exec_driver_sql(
            'SELECT kind, "key", value_json FROM pending_edit WHERE end_user_id = ?'
            " AND id IN (SELECT id FROM temp.push_edits) AND sent_at IS NOT NULL",
            (end_user_id,)):
        sent.setdefault((kind_text, key), []).append(load_json(value_json))
    for (kind_text, key), values in sent.items():
        kind = EditKind(kind_text)
        now_there = _value_of(server, kind, key)
        if not any(canonical_value(now_there) == canonical_value(v) for v in values):
            continue  # not ours on the service: a newer edit keeps its base and may conflict
        kinds = [k.value for k in EditKind if k.field == kind.field]
        connection.exec_driver_sql(
            f"UPDATE pending_edit SET base_json = ? WHERE end_user_id = ? AND state = 'queued'"
            f" AND id NOT IN (SELECT id FROM temp.push_edits)"
            f' AND kind IN ({", ".join("?" for _ in kinds)}) AND "key" IS ?',
            (dump_json(now_there), end_user_id, *kinds, key))


def complete_push(connection: Connection, end_user_id: int, edit_ids: Sequence[int],
                  server: EndUser | None, now: int, *,
                  erasure_accepted: bool = False) -> tuple[bool, bool]:
    """The service took these edits. Returns (end user removed, conflicts changed).

    `server` None: a delete; `erasure_accepted` the service answered 202 and purges later
    (the row stays, erasure pending), otherwise the person is already gone (erased)."""
    fill_ids(connection, "push_edits", edit_ids)
    conflicts_changed = _conflicts_among_push_edits(connection)
    if server is not None:
        _rebase_on_our_answer(connection, end_user_id, server)
    # Marked even when the entry left meanwhile (an undo raced the push): it did reach them.
    _mark_audit(connection, end_user_id, "pushed", now)
    connection.exec_driver_sql(
        "UPDATE edit_batch SET pushed = 1 WHERE id IN (SELECT batch_id FROM audit_entry"
        " WHERE edit_id IN (SELECT id FROM temp.push_edits)) AND NOT pushed")
    connection.exec_driver_sql(
        "DELETE FROM pending_edit WHERE id IN (SELECT id FROM temp.push_edits)"
        " AND end_user_id = ?", (end_user_id,))
    if server is None:  # deleted on the service: whatever else was queued has nowhere to go
        fill_ids(connection, "push_edits", [row[0] for row in connection.exec_driver_sql(
            "SELECT id FROM pending_edit WHERE end_user_id = ?", (end_user_id,))])
        conflicts_changed = conflicts_changed or _conflicts_among_push_edits(connection)
        _mark_audit(connection, end_user_id, "discarded", now, GONE_MESSAGE)
        if erasure_accepted:
            connection.exec_driver_sql("DELETE FROM pending_edit WHERE end_user_id = ?", (end_user_id,))
            erasure.accept(connection, end_user_id, now)
            return False, conflicts_changed
        erasure.mark_erased(connection, [end_user_id], now, record_missing=True)
        fill_ids(connection, "gone_ids", [end_user_id])  # the caller forgets their history
        connection.exec_driver_sql("DELETE FROM end_user WHERE id = ?", (end_user_id,))
        return True, conflicts_changed
    remember_property_keys(connection, server.properties)
    relay(connection, [end_user_id], {end_user_id: server_values(server)})
    return False, conflicts_changed


def reject_push(connection: Connection, end_user_id: int, edit_ids: Sequence[int],
                message: str, server: EndUser | None, now: int) -> bool:
    """The service refused these edits: they stay visible as REJECTED, no longer laid over.

    Returns whether conflicts changed.
    """
    fill_ids(connection, "push_edits", edit_ids)
    conflicts_changed = _conflicts_among_push_edits(connection)
    connection.exec_driver_sql(
        "DELETE FROM edit_conflict WHERE edit_id IN (SELECT id FROM temp.push_edits)")
    # Refused, so not on the service: the sent mark goes.
    connection.exec_driver_sql(
        "UPDATE pending_edit SET state = 'rejected', message = ?, sent_at = NULL"
        " WHERE id IN (SELECT id FROM temp.push_edits) AND end_user_id = ?",
        (message, end_user_id))
    _mark_audit(connection, end_user_id, "rejected", now, message)
    fresh = None if server is None else {end_user_id: server_values(server)}
    relay(connection, [end_user_id], fresh)
    return conflicts_changed


def encode_theirs(value: object) -> str:
    """Their value as JSON: an EndUser as the seed spells it, anything else as is or as text."""
    if isinstance(value, EndUser):
        return dump_json(value.to_seed_dict())
    try:
        return dump_json(value)
    except (TypeError, ValueError):
        return dump_json(str(value))


def record_conflicts(connection: Connection, end_user_id: int,
                     conflicts: Sequence[tuple[int, object]], server: EndUser, now: int) -> int:
    """Mark entries CONFLICTED with base, mine and theirs; nothing overwritten. Returns count."""
    recorded = 0
    for edit_id, theirs in conflicts:
        row = connection.exec_driver_sql(
            f'SELECT kind, "key", base_json, value_json FROM pending_edit WHERE id = ?'
            f" AND end_user_id = ? AND state IN {LAID_SQL}", (edit_id, end_user_id)).first()
        if row is None:
            continue  # undone or superseded while the push ran
        kind, key, base_json, value_json = row
        connection.exec_driver_sql(
            "UPDATE pending_edit SET state = 'conflicted', message = NULL, sent_at = NULL"
            " WHERE id = ?", (edit_id,))  # theirs is on the service, not this value
        connection.exec_driver_sql(
            'INSERT INTO edit_conflict (edit_id, end_user_id, field, "key", base_json, mine_json,'
            " theirs_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(edit_id)"
            " DO UPDATE SET theirs_json = excluded.theirs_json, created_at = excluded.created_at",
            (edit_id, end_user_id, EditKind(kind).field, key, base_json, value_json,
             encode_theirs(theirs), now))
        connection.exec_driver_sql(
            "UPDATE audit_entry SET outcome = 'conflicted', outcome_at = ? WHERE edit_id = ?",
            (now, edit_id))
        recorded += 1
    remember_property_keys(connection, server.properties)
    relay(connection, [end_user_id], {end_user_id: server_values(server)})
    return recorded


def _effective_value(connection: Connection, end_user_id: int, kind: EditKind,
                     key: str | None) -> object:
    row = connection.exec_driver_sql(
        f"SELECT {', '.join(EFFECTIVE_COLUMNS)} FROM end_user WHERE id = ?", (end_user_id,)).one()
    if kind is EditKind.DELETE:
        return bool(row[-1])
    return _value_of(end_user_of(row), kind, key)


def _chosen_edit(kind: EditKind, key: str | None, value: object) -> tuple[EditKind, object]:
    """The edit a "value" resolution queues, validated like a fresh edit of that target."""
    if kind.field == "properties":
        if value is None:
            return EditKind.UNSET_PROPERTY, None
        return EditKind.SET_PROPERTY, check_property_value(value)
    if kind is EditKind.SET_EMAIL:
        return kind, check_email(value)
    if kind is EditKind.SET_EXTERNAL_ID:
        return kind, check_external_id(value)
    if kind is EditKind.SET_SURVEYS:
        return kind, check_enabled(value)
    return kind, True  # a delete can only be kept or dropped


def resolve_conflict(connection: Connection, conflict_id: int, choice: ConflictChoice | str,
                     value: object, now: int) -> int:
    """Settle a conflict; returns the end user's id.

    theirs: the entry leaves and the effective row shows the server's value.
    mine / value: the entry is replaced by a fresh QUEUED edit whose base is theirs.
    """
    row = connection.exec_driver_sql(
        'SELECT c.edit_id, c.end_user_id, c.theirs_json, p.kind, p."key", p.value_json'
        " FROM edit_conflict c JOIN pending_edit p ON p.id = c.edit_id WHERE c.id = ?",
        (conflict_id,)).first()
    if row is None:
        raise EditRejected("This conflict is already resolved.")
    edit_id, end_user_id, theirs_json, kind_text, key, mine_json = row
    kind = EditKind(kind_text)
    try:
        choice = ConflictChoice(choice)
    except ValueError:
        raise EditRejected(f"Resolve with mine, theirs or value, not {choice!r}.") from None
    if choice is ConflictChoice.THEIRS:
        chosen = None
    elif choice is ConflictChoice.MINE:
        chosen = (kind, load_json(mine_json))
    else:
        chosen = _chosen_edit(kind, key, value)
    if chosen is not None and chosen == (EditKind.SET_SURVEYS, True):
        opted_out = connection.exec_driver_sql(
            "SELECT 1 FROM server_end_user WHERE id = ? AND disabled_by = 'end_user'",
            (end_user_id,)).first()
        if opted_out:
            raise EditRejected("This end user opted out of surveys themself; only they can opt "
                               "back in.")
    before = _effective_value(connection, end_user_id, kind, key)
    connection.exec_driver_sql(
        "UPDATE audit_entry SET outcome = ?, outcome_at = ? WHERE edit_id = ?",
        ("discarded" if chosen is None else "superseded", now, edit_id))
    connection.exec_driver_sql("DELETE FROM pending_edit WHERE id = ?", (edit_id,))
    if chosen is not None:
        new_kind, new_value = chosen
        value_json = dump_json(new_value)
        batch_id = connection.exec_driver_sql(
            'INSERT INTO edit_batch (kind, "key", value_json, created_at, undoable, state, pushed)'
            " VALUES (?, ?, ?, ?, 0, 'done', 0)", (new_kind.value, key, value_json, now)).lastrowid
        new_id = connection.exec_driver_sql(
            'INSERT INTO pending_edit (end_user_id, batch_id, kind, "key", base_json, value_json,'
            " created_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, 'queued')",
            (end_user_id, batch_id, new_kind.value, key, theirs_json, value_json, now)).lastrowid
        connection.exec_driver_sql(
            'INSERT INTO audit_entry (edit_id, batch_id, end_user_id, kind, "key", before_json,'
            " after_json, created_at, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued')",
            (new_id, batch_id, end_user_id, new_kind.value, key, dump_json(before), value_json,
             now))
        if new_kind is EditKind.SET_PROPERTY and key:
            remember_property_keys(connection, [key])
    relay(connection, [end_user_id])
    return int(end_user_id)


def dismiss_rejected(connection: Connection, edit_id: int) -> int | None:
    """Drop a REJECTED entry from the outbox (its audit entry keeps the service's message)."""
    row = connection.exec_driver_sql(
        "SELECT end_user_id, kind FROM pending_edit WHERE id = ? AND state = 'rejected'", (edit_id,)
    ).first()
    if row is None:
        return None
    connection.exec_driver_sql("DELETE FROM pending_edit WHERE id = ?", (edit_id,))
    if row[1] == EditKind.CREATE.value and row[0] < 0:
        # A person the service refused to create: without the create the local row could never
        # reach it, so it goes (with any edits made on it; the audit keeps them, discarded).
        connection.exec_driver_sql(
            "UPDATE audit_entry SET outcome = 'discarded', outcome_at = CAST(strftime('%s', 'now') AS INTEGER), message ="
            " 'The service refused to create this end user.' WHERE end_user_id = ?"
            " AND outcome = 'queued'", (row[0],))
        connection.exec_driver_sql("DELETE FROM saved_list_member WHERE end_user_id = ?", (row[0],))
        connection.exec_driver_sql("DELETE FROM end_user WHERE id = ?", (row[0],))
    return int(row[0])


def remove_end_users(connection: Connection, ids: Sequence[int], now: int) -> tuple[int, bool, bool]:
    """End users the service no longer has leave, with their outbox and conflicts.

    Returns (rows removed, outbox changed, conflicts changed).
    """
    fill_ids(connection, "gone_ids", ids)
    fill_ids(connection, "push_edits", [row[0] for row in connection.exec_driver_sql(
        "SELECT id FROM pending_edit WHERE end_user_id IN (SELECT id FROM temp.gone_ids)")])
    outbox_changed = connection.exec_driver_sql(
        "SELECT 1 FROM temp.push_edits LIMIT 1").first() is not None
    conflicts_changed = _conflicts_among_push_edits(connection)
    connection.exec_driver_sql(
        "UPDATE audit_entry SET outcome = 'discarded', outcome_at = ?, message = ?"
        " WHERE edit_id IN (SELECT id FROM temp.push_edits)", (now, GONE_MESSAGE))
    erasure.mark_erased(connection, list(ids), now)  # erasure pending -> erased; records stay
    removed = connection.exec_driver_sql(
        "DELETE FROM end_user WHERE id IN (SELECT id FROM temp.gone_ids)").rowcount
    return int(removed), outbox_changed, conflicts_changed

