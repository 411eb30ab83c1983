"""End users created here (an import's new people) before the service knows them.

A created person gets a local id: negative, from a counter that never hands one out twice
(`sync_cursor` LOCAL_ID_CURSOR), so every table that names end users by id (effective row,
server copy, outbox, audit, kept lists) holds them as it holds anyone, and filters, sorting,
export, the detail panel and undo need nothing of their own. The outbox gets one CREATE entry
(its value: the fields created); the row's server copy is the row as created, so edits made
before the push are ordinary edits laid over it. The push maps the local id to the service's
in one transaction (`adopt_service_id`). Everything here runs inside the caller's write
transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text

from desktop_app.cache.records import EditKind
from desktop_app.cache.rows import EFFECTIVE_COLUMNS, SERVER_COLUMNS, dump_json, settings_json
from desktop_app.cache.writes import sync
from desktop_app.domain import EndUser, PropertyValue, SurveySettings

LOCAL_ID_CURSOR = "local_end_user_id"  # the last local id handed out (0, -1, -2, ...)


@dataclass(frozen=True, slots=True)
class NewEndUser:
    """A person to create: the email as the file gives it, an external id, properties."""

    email: str
    external_id: str | None = None
    properties: Mapping[str, PropertyValue] | None = None

    def value(self) -> dict[str, object]:
        """The CREATE entry's value (and its audit entry's `after`)."""
        return {"email": self.email, "external_id": self.external_id,
                "properties": dict(self.properties or {})}


def _next_local_ids(connection: Connection, count: int) -> list[int]:
    last = connection.exec_driver_sql(
        'SELECT value FROM sync_cursor WHERE "key" = ?', (LOCAL_ID_CURSOR,)).scalar()
    lowest = connection.exec_driver_sql("SELECT min(id) FROM end_user").scalar()
    start = min(int(last or 0), int(lowest or 0), 0) - 1
    ids = list(range(start, start - count, -1))
    if ids:
        sync.set_cursor(connection, LOCAL_ID_CURSOR, ids[-1])
    return ids


def create_local(connection: Connection, batch_id: int, people: Sequence[NewEndUser], now: int,
                 ids: Sequence[int] | None = None) -> list[int]:
    """Insert `people` as local rows of `batch_id`, each with its CREATE entry and audit entry;
    their ids (`ids` given: a redo re-creating the rows an undo removed, under the same ids)."""
    local_ids = list(ids) if ids is not None else _next_local_ids(connection, len(people))
    if not people:
        return []
    settings = SurveySettings()
    # One statement over a JSON array per table, as overlay.fill_ids loads ids: 50k people in
    # a fraction of a second, where executemany over four tables took seconds.
    connection.exec_driver_sql(
        "CREATE TEMP TABLE IF NOT EXISTS new_end_user (id INTEGER PRIMARY KEY, email TEXT NOT NULL,"
        " external_id TEXT, properties_json TEXT NOT NULL, value_json TEXT NOT NULL)")
    connection.exec_driver_sql("DELETE FROM temp.new_end_user")
    connection.exec_driver_sql(
        "INSERT INTO temp.new_end_user SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'),"
        " json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]')"
        " FROM json_each(?)",
        (json.dumps([[local_id, person.email, person.external_id,
                      dump_json(dict(person.properties or {})), dump_json(person.value())]
                     for local_id, person in zip(local_ids, people, strict=True)], ensure_ascii=False),))
    server = (f"n.id, n.email, n.external_id, NULL, NULL, NULL, :now, :now, {int(settings.surveys_disabled)},"
              f" '{settings.disabled_by.value}', :settings, n.properties_json")
    params = {"now": now, "settings": settings_json(settings), "batch": batch_id,
              "kind": EditKind.CREATE.value}
    connection.execute(text(
        f"INSERT INTO end_user ({', '.join(EFFECTIVE_COLUMNS)}) SELECT {server}, 1, 0, 0"
        " FROM temp.new_end_user n ORDER BY n.id DESC"), params)
    connection.execute(text(
        f"INSERT INTO server_end_user ({', '.join(SERVER_COLUMNS)}) SELECT {server}"
        " FROM temp.new_end_user n ORDER BY n.id DESC"), params)
    connection.execute(text(
        'INSERT INTO pending_edit (end_user_id, batch_id, kind, "key", base_json, value_json,'
        " created_at, state) SELECT n.id, :batch, :kind, NULL, 'null', n.value_json, :now, 'queued'"
        " FROM temp.new_end_user n ORDER BY n.id DESC"), params)
    connection.exec_driver_sql(
        'INSERT INTO audit_entry (edit_id, batch_id, end_user_id, kind, "key", before_json,'
        " after_json, created_at, outcome) SELECT id, batch_id, end_user_id, kind, NULL, 'null',"
        " value_json, created_at, 'queued' FROM pending_edit WHERE batch_id = ? AND kind = ?",
        (batch_id, EditKind.CREATE.value))
    keys = {key for person in people for key in (person.properties or {})}
    if keys:
        connection.exec_driver_sql('INSERT OR IGNORE INTO property_key ("key") VALUES (?)',
                                   [(k,) for k in sorted(keys)])
    return local_ids


def created_in_batch(connection: Connection, batch_id: int) -> list[int]:
    """The local rows a batch created (their CREATE entries still queued)."""
    return [row[0] for row in connection.exec_driver_sql(
        "SELECT end_user_id FROM pending_edit WHERE batch_id = ? AND kind = ?",
        (batch_id, EditKind.CREATE.value))]


def drop_local_rows(connection: Connection, ids: Sequence[int]) -> None:
    """Remove local rows never sent (an undo of their import, a delete before the push): the
    server copy and every outbox entry go with the row (foreign keys cascade)."""
    if not ids:
        return
    listed = json.dumps(list(ids))
    connection.exec_driver_sql(
        "DELETE FROM saved_list_member WHERE end_user_id IN (SELECT value FROM json_each(?))", (listed,))
    connection.exec_driver_sql(
        "DELETE FROM end_user WHERE id IN (SELECT value FROM json_each(?)) AND id < 0", (listed,))


def recreate_undone(connection: Connection, batch_id: int, now: int) -> list[int]:
    """Redo of an import: the rows its undo removed come back under their local ids, from the
    CREATE audit entries (which keep the fields)."""
    found = connection.exec_driver_sql(
        "SELECT end_user_id, after_json FROM audit_entry WHERE batch_id = ? AND kind = ?"
        " AND outcome = 'undone' ORDER BY end_user_id DESC", (batch_id, EditKind.CREATE.value)).all()
    people = []
    for _id, after in found:
        value = json.loads(after)
        people.append(NewEndUser(value["email"], value.get("external_id"), value.get("properties") or {}))
    ids = create_local(connection, batch_id, people, now, ids=[int(i) for i, _ in found])
    connection.exec_driver_sql(
        "DELETE FROM audit_entry WHERE batch_id = ? AND kind = ? AND outcome = 'undone'",
        (batch_id, EditKind.CREATE.value))
    return ids


_RENAMED = ("end_user", "server_end_user", "pending_edit", "edit_conflict", "audit_entry",
            "saved_list_member")
_ID_COLUMN = {"end_user": "id", "server_end_user": "id"}


def adopt_service_id(connection: Connection, local_id: int, server: EndUser,
                     done_edit_ids: Sequence[int], now: int) -> tuple[bool, bool]:
    """The service holds the person created here as `server` (created by our POST, or found
    by the lookup): the local id becomes the service's everywhere, `done_edit_ids` (the CREATE
    entry and the edits the POST carried) leave the outbox as pushed, and the rest stays queued
    on the new id, laid over the service's row. Returns what `sync.complete_push` does.

    When the cache already holds that id (a pull brought the person in meanwhile), the local
    row's entries move onto that row and the local row goes."""
    new_id = server.id
    connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")  # children follow in this transaction
    exists = connection.exec_driver_sql("SELECT 1 FROM end_user WHERE id = ?", (new_id,)).first()
    tables: tuple[str, ...] = _RENAMED
    if exists:  # only the entries move; the local row goes after them (deleting it cascades)
        tables = tuple(t for t in _RENAMED if t not in _ID_COLUMN)
    for table in tables:
        column = _ID_COLUMN.get(table, "end_user_id")
        verb = "UPDATE OR IGNORE" if table == "saved_list_member" else "UPDATE"
        connection.exec_driver_sql(f"{verb} {table} SET {column} = ? WHERE {column} = ?",
                                   (new_id, local_id))
    if exists:
        connection.exec_driver_sql("DELETE FROM server_end_user WHERE id = ?", (local_id,))
        connection.exec_driver_sql("DELETE FROM end_user WHERE id = ?", (local_id,))
    connection.exec_driver_sql("DELETE FROM saved_list_member WHERE end_user_id = ?", (local_id,))
    if exists:  # the kept row gains our entries: count and lay them again
        connection.exec_driver_sql(
            f"INSERT OR IGNORE INTO server_end_user ({', '.join(SERVER_COLUMNS)})"
            f" SELECT {', '.join(SERVER_COLUMNS)} FROM end_user WHERE id = ?", (new_id,))
    return sync.complete_push(connection, new_id, list(done_edit_ids), server, now)
