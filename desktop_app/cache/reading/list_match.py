"""Finding the end users a list names: set-based SQL over a temp table of the list's keys.

A 100k-row list against a million end users is one join (each key probes an index: the email
index `ix_q_email`, the external id's, or the id itself), never a query per row. Emails compare
ignoring case: the email index folds A-Z only (NOCASE), which equals `str.casefold` on ASCII,
so the few stored emails holding other characters (`JOSÉ@…`, `STRAßE@…`) are folded in Python
in one extra pass over that index and matched against the same keys.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Literal, NamedTuple

MatchColumn = Literal["email", "external_id", "id"]

_KEYS = "temp.list_key"
# The state a match report shows, read with each matched end user.
_STATE = ("e.id, e.email, e.external_id, e.surveys_disabled = 1, coalesce(e.disabled_by, ''), e.pending_delete,"
          " coalesce(e.properties_json, '{}')")
_JOIN: dict[MatchColumn, str] = {
    # CROSS JOIN: the list's keys drive, each one probing the end users' index.
    "email": f"{_KEYS} t CROSS JOIN end_user e ON e.email COLLATE NOCASE = t.key",
    "external_id": f"{_KEYS} t CROSS JOIN end_user e ON e.external_id = t.key",
    "id": f"{_KEYS} t CROSS JOIN end_user e ON e.id = CAST(t.key AS INTEGER)",
}
# Stored emails with a character outside ASCII (NOCASE cannot fold them): more bytes than
# characters. A scan of the email index, ~50 ms at a million (a GLOB class took ~360 ms).
_WIDE_EMAILS = "SELECT id, email FROM end_user WHERE length(CAST(email AS BLOB)) <> length(email)"


class KeyMatch(NamedTuple):
    """One (list key, end user) pair, with the end user's current state (a plain tuple: a
    100k-row list builds 100k of them)."""

    key: str
    id: int
    email: str
    external_id: str | None
    surveys_disabled: int  # 0 or 1
    disabled_by: str
    pending_delete: int  # 0, 1 deleted here, 2 erasure pending (the service took the delete)
    properties_json: str
    unchanged: int  # 1: the action's edit would change nothing for this end user


@contextmanager
def _list_keys(raw: sqlite3.Connection, keys: Sequence[str]) -> Iterator[None]:
    raw.execute("CREATE TEMP TABLE IF NOT EXISTS list_key (key TEXT PRIMARY KEY) WITHOUT ROWID")
    raw.execute(f"DELETE FROM {_KEYS}")
    try:
        # One statement over a JSON array: a 100k-row list loads in tens of milliseconds.
        raw.execute(f"INSERT OR IGNORE INTO {_KEYS} (key) SELECT value FROM json_each(?)", (json.dumps(list(keys)),))
        yield
    finally:
        raw.execute(f"DELETE FROM {_KEYS}")


def match_keys(raw: sqlite3.Connection, column: MatchColumn, keys: Sequence[str],
               unchanged: str = "0", params: Mapping[str, object] | None = None) -> list[KeyMatch]:
    """Every (key, end user) pair where the end user's `column` is the key; a key on several
    end users gives several pairs (the caller calls that ambiguous). Email keys must be
    casefolded already. `unchanged` is an SQL condition on the end user `e` (with `params`):
    the edit layer's own test of "this edit would change nothing", so the report's "already
    in the wanted state" is exactly what the edit will skip.

    Runs in the caller's read transaction (one snapshot with whatever else it reads).
    """
    bound = dict(params or {})
    with _list_keys(raw, keys):
        rows = raw.execute(
            f"SELECT t.key, {_STATE}, ({unchanged}) IS 1 FROM {_JOIN[column]} ORDER BY t.key, e.id",
            bound).fetchall()
        if column == "email":
            rows += _wide_email_rows(raw, {(r[0], r[1]) for r in rows}, unchanged, bound)
    return list(map(KeyMatch._make, rows))


def _wide_email_rows(raw: sqlite3.Connection, found: set[tuple[str, int]], unchanged: str,
                     params: dict[str, object]) -> list[tuple[object, ...]]:
    folded: dict[str, list[int]] = {}
    for id, email in raw.execute(_WIDE_EMAILS):
        folded.setdefault(email.casefold(), []).append(int(id))
    if not folded:
        return []
    hits = [(key, id) for (key,) in raw.execute(f"SELECT key FROM {_KEYS}")
            for id in folded.get(key, ()) if (key, id) not in found]
    if not hits:
        return []
    pairs = json.dumps(hits)
    return raw.execute(
        f"SELECT json_extract(p.value, '$[0]'), {_STATE}, ({unchanged}) IS 1"
        " FROM json_each(:_pairs) p CROSS JOIN end_user e ON e.id = json_extract(p.value, '$[1]')",
        {**params, "_pairs": pairs}).fetchall()


def match_plan(raw: sqlite3.Connection, column: MatchColumn) -> list[str]:
    """SQLite's plan for matching on `column` (EXPLAIN QUERY PLAN's details): each key must
    SEARCH the end users by an index, never SCAN them."""
    with _list_keys(raw, []):
        return [str(row[3]) for row in raw.execute(f"EXPLAIN QUERY PLAN SELECT t.key, {_STATE} FROM {_JOIN[column]}")]


def saved_list_names(raw: sqlite3.Connection) -> list[str]:
    """The kept lists' names, newest first (for `list:` completion and "did you mean");
    none on a file the app has not upgraded yet."""
    try:
        return [name for (name,) in raw.execute("SELECT name FROM saved_list ORDER BY created_at DESC, id DESC")]
    except sqlite3.OperationalError:  # no such table: a file opened before its upgrade ran
        return []
