"""Kept lists: a list's matched end users stored under a name, for `list:<name>` (one transaction)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import Connection

from desktop_app.broken_text import has_broken_text
from desktop_app.cache.records import EditRejected

MAX_LIST_NAME_CHARS = 100


def check_list_name(name: object) -> str:
    """A name the filter term can spell: text, not blank, no control characters."""
    if not isinstance(name, str) or not name.strip():
        raise EditRejected("A kept list needs a name, for example “opt-outs 2026-12-07”.")
    name = name.strip()
    if len(name) > MAX_LIST_NAME_CHARS:
        raise EditRejected(f"A list name can have at most {MAX_LIST_NAME_CHARS} characters.")
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in name) or has_broken_text(name):
        raise EditRejected("A list name cannot contain control characters or broken text.")
    return name


def save_list(connection: Connection, name: str, source: str, identifier_kind: str,
              end_user_ids: Sequence[int], now: int, *, replace: bool) -> int:
    """Store the list and its members; the id of the list. A name already kept (ignoring
    case) is refused unless `replace`, which swaps the old list for this one."""
    existing = connection.exec_driver_sql("SELECT id, name FROM saved_list WHERE name = ?", (name,)).first()
    if existing is not None:
        if not replace:
            raise EditRejected(f"A list named “{existing[1]}” is already kept; choose another name "
                               "or replace it.")
        connection.exec_driver_sql("DELETE FROM saved_list_member WHERE list_id = ?", (existing[0],))
        connection.exec_driver_sql("DELETE FROM saved_list WHERE id = ?", (existing[0],))
    ids = sorted(set(end_user_ids))
    list_id = int(connection.exec_driver_sql(
        "INSERT INTO saved_list (name, source, identifier_kind, created_at, member_count)"
        " VALUES (?, ?, ?, ?, ?)", (name, source, identifier_kind, now, len(ids))).lastrowid)
    connection.exec_driver_sql(
        "INSERT INTO saved_list_member (list_id, end_user_id) SELECT ?, value FROM json_each(?)",
        (list_id, json.dumps(ids)))
    return list_id


def delete_list(connection: Connection, name: str) -> bool:
    """Forget a kept list (its end users stay as they are); False when there was none."""
    found = connection.exec_driver_sql("SELECT id FROM saved_list WHERE name = ?", (name,)).first()
    if found is None:
        return False
    connection.exec_driver_sql("DELETE FROM saved_list_member WHERE list_id = ?", (found[0],))
    connection.exec_driver_sql("DELETE FROM saved_list WHERE id = ?", (found[0],))
    return True
