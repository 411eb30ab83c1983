"""Erasure as a tracked job: a delete the service took (202) stays visible until it is purged.

The states, all written inside the caller's transaction:
- sent: `record_sent` before the DELETE goes out (durable), with the person's identifiers as
  salted hashes; a crash after the 202 leaves the outbox entry and this record, and the next
  push sends the DELETE again (202 again) or finds the person gone (404): either converges.
- accepted: `accept` after the 202: the outbox entries leave, the row stays as the server's
  row with `pending_delete = 2` ("erasure pending"); a pull keeps that mark (it never touches
  the flag columns of a row without edits, and marks a row it brings back).
- erased: `mark_erased` when a reconcile or a push no longer finds them; the row leaves, the
  record (the suppression list) stays, and a pull never brings an erased id back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import Connection

from desktop_app.cache.suppression import email_hash, external_id_hash, new_salt
from desktop_app.cache.writes.overlay import relay

ERASURE_PENDING = 2  # `end_user.pending_delete`: 1 deleted here, 2 accepted by the service


def salt(connection: Connection, *, create: bool) -> bytes | None:
    """This file's salt; made (and stored) on first use when `create`."""
    row = connection.exec_driver_sql("SELECT salt FROM suppression_salt WHERE id = 1").first()
    if row is not None:
        return bytes(row[0])
    if not create:
        return None
    made = new_salt()
    connection.exec_driver_sql("INSERT INTO suppression_salt (id, salt) VALUES (1, ?)", (made,))
    return made


def _identifiers(connection: Connection, end_user_id: int) -> tuple[str, str | None] | None:
    """The email and external id the service holds (the server copy under edits, else the row)."""
    row = connection.exec_driver_sql(
        "SELECT email, external_id FROM server_end_user WHERE id = ?", (end_user_id,)).first()
    if row is None:
        row = connection.exec_driver_sql(
            "SELECT email, external_id FROM end_user WHERE id = ?", (end_user_id,)).first()
    return None if row is None else (str(row[0]), row[1])


def record_sent(connection: Connection, end_user_id: int, now: int, *, sending: bool = True) -> None:
    """A DELETE of this person is about to go out: the record exists before the request.
    `sending` False: only make sure a record exists (its sent time, if any, stays)."""
    identifiers = _identifiers(connection, end_user_id)
    if identifiers is None:
        return
    key = salt(connection, create=True)
    assert key is not None
    requested = connection.exec_driver_sql(
        "SELECT min(created_at) FROM pending_edit WHERE end_user_id = ? AND kind = 'delete'",
        (end_user_id,)).scalar()
    connection.exec_driver_sql(
        "INSERT INTO erasure (end_user_id, email_hash, external_id_hash, requested_at, sent_at,"
        " state) VALUES (?, ?, ?, ?, ?, 'pending') ON CONFLICT(end_user_id) DO UPDATE SET"
        " sent_at = CASE WHEN ? THEN excluded.sent_at ELSE coalesce(erasure.sent_at, excluded.sent_at) END"
        " WHERE erasure.state = 'pending'",
        (end_user_id, email_hash(key, identifiers[0]), external_id_hash(key, identifiers[1]),
         int(requested if requested is not None else now), now, int(sending)))


def accept(connection: Connection, end_user_id: int, now: int) -> None:
    """The service answered 202: the row shows the server's values, marked erasure pending.
    Called once the outbox entries of this person have left (nothing is laid over the row)."""
    record_sent(connection, end_user_id, now, sending=False)  # in case none was written before
    connection.exec_driver_sql(
        "UPDATE erasure SET accepted_at = coalesce(accepted_at, ?) WHERE end_user_id = ?"
        " AND state = 'pending'", (now, end_user_id))
    relay(connection, [end_user_id])
    connection.exec_driver_sql(
        "UPDATE end_user SET pending_delete = ? WHERE id = ?", (ERASURE_PENDING, end_user_id))


def zero_what_is_deleted(connection: Connection) -> None:
    """From here on this connection overwrites what it deletes: an erased person's row (email,
    external id, properties) must not linger in a freed cell of the file. Only the erasing
    writes turn it on; a connection kept in the pool simply keeps zeroing."""
    connection.exec_driver_sql("PRAGMA secure_delete = ON")


def mark_erased(connection: Connection, ids: Sequence[int], now: int, *,
                record_missing: bool = False) -> int:
    """These people are gone from the service: their pending records become erased (and, with
    `record_missing`, a delete of ours that found them gone gets its record). Call before the
    rows leave: a missing record's hashes come from the row. Returns the records changed."""
    zero_what_is_deleted(connection)
    if record_missing:
        for end_user_id in ids:
            record_sent(connection, end_user_id, now, sending=False)
    return int(connection.exec_driver_sql(
        "UPDATE erasure SET state = 'erased', erased_at = ? WHERE state = 'pending'"
        " AND end_user_id IN (SELECT value FROM json_each(?))",
        (now, json.dumps([int(i) for i in ids]))).rowcount)


def screen_pulled(connection: Connection, ids: Sequence[int]) -> tuple[set[int], set[int]]:
    """Of pulled ids: (erased: never stored again, pending: to be marked after the upsert)."""
    erased: set[int] = set()
    pending: set[int] = set()
    for end_user_id, state, accepted in connection.exec_driver_sql(
            "SELECT end_user_id, state, accepted_at FROM erasure"
            " WHERE end_user_id IN (SELECT value FROM json_each(?))", (json.dumps(list(ids)),)):
        if state == "erased":
            erased.add(int(end_user_id))
        elif accepted is not None:
            pending.add(int(end_user_id))
    return erased, pending


def mark_pending_rows(connection: Connection, ids: set[int]) -> None:
    connection.exec_driver_sql(
        "UPDATE end_user SET pending_delete = ? WHERE pending_count = 0 AND id IN"
        " (SELECT value FROM json_each(?))", (ERASURE_PENDING, json.dumps(sorted(ids))))
