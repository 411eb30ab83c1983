"""Fixtures for the cache tests: a fresh cache file per test, end users, invariant checks."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from desktop_app.cache.records import EditKind
from desktop_app.cache.store import Cache
from desktop_app.cache.rows import EFFECTIVE_COLUMNS, SERVER_COLUMNS, lay_edits, load_json
from desktop_app.domain import EndUser, SurveySettings

T0 = 1_700_000_000


class StepClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: float = T0) -> None:
        self.value = start

    def now(self) -> float:
        return self.value

    def sleep(self, seconds: float) -> None:
        self.value += max(seconds, 0)


def end_user(id: int, **fields: object) -> EndUser:
    values: dict[str, object] = {
        "email": f"user{id}@example.com", "created_at": T0 - 1000 + id, "updated_at": T0 + id,
        "properties": {"plan": "free", "seats": id},
    }
    values.update(fields)
    return EndUser(id=id, **values)


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "cache" / "account.sqlite3"


@pytest.fixture
def cache(cache_path: Path, clock: StepClock) -> Iterator[Cache]:
    opened = Cache.open(cache_path, clock=clock)
    yield opened
    opened.close()


@pytest.fixture
def seeded(cache: Cache) -> Cache:
    """A cache holding end users 1..20 (17 opted out, 18 disabled by an admin)."""
    users = [end_user(i) for i in range(1, 21)]
    users[16] = end_user(17, settings=SurveySettings(surveys_disabled_by_end_user=True))
    users[17] = end_user(18, settings=SurveySettings.all_channels(False))
    cache.ingest_pulled(users, "end_users", T0 + 20)
    return cache


def _rows(connection: sqlite3.Connection, table: str) -> list[tuple[object, ...]]:
    return connection.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()


TABLES = ("end_user", "server_end_user", "pending_edit", "audit_entry", "edit_conflict",
          "edit_batch", "sync_cursor", "sync_run", "property_key")


@pytest.fixture
def snapshot() -> Callable[[Cache], dict[str, list[tuple[object, ...]]]]:
    """Every row of every table, read through a separate plain sqlite3 connection."""
    def take(cache: Cache) -> dict[str, list[tuple[object, ...]]]:
        connection = sqlite3.connect(cache.path)
        try:
            return {table: _rows(connection, table) for table in TABLES}
        finally:
            connection.close()

    return take


def check_invariants(cache: Cache) -> None:
    """What every write must leave true, checked independently of the cache's own code.

    The effective row equals the server row with queued and conflicted edits laid over it in
    Python: this also proves the bulk SQL and the Python laying agree.
    """
    connection = sqlite3.connect(cache.path)
    try:
        effective = {r[0]: r for r in connection.execute(
            f"SELECT {', '.join(EFFECTIVE_COLUMNS)} FROM end_user")}
        copies = {r[0]: r for r in connection.execute(
            f"SELECT {', '.join(SERVER_COLUMNS)} FROM server_end_user")}
        laid: dict[int, list[tuple[EditKind, str | None, object, str]]] = {}
        for user_id, kind, key, value_json, state in connection.execute(
                'SELECT end_user_id, kind, "key", value_json, state FROM pending_edit'
                " WHERE state IN ('queued', 'conflicted') ORDER BY id"):
            laid.setdefault(user_id, []).append((EditKind(kind), key, load_json(value_json), state))
        conflicted = {r[0] for r in connection.execute(
            "SELECT id FROM pending_edit WHERE state = 'conflicted'")}
        conflict_edits = {r[0] for r in connection.execute("SELECT edit_id FROM edit_conflict")}
        unaudited = connection.execute(
            "SELECT count(*) FROM pending_edit WHERE id NOT IN (SELECT edit_id FROM audit_entry)"
        ).fetchone()[0]
    finally:
        connection.close()
    assert conflicted == conflict_edits, "every CONFLICTED entry has exactly one conflict record"
    assert unaudited == 0, "every outbox entry is audited"
    assert set(copies) == set(laid), "a server copy exists exactly while edits are laid over"
    for user_id, row in effective.items():
        edits = laid.get(user_id, [])
        assert row[-3] == len(edits), f"pending_count of {user_id}"
        assert bool(row[-2]) == any(e[3] == "conflicted" for e in edits), f"has_conflict {user_id}"
        server = copies.get(user_id, row[:len(SERVER_COLUMNS)])
        expected, deleted = lay_edits(server, [(k, key, v) for k, key, v, _ in edits])
        assert bool(row[-1]) == deleted, f"pending_delete of {user_id}"
        got = list(row[:len(SERVER_COLUMNS)])
        want = list(expected)
        for index in (10, 11):  # JSON columns: compare meaning, not spelling
            got[index], want[index] = load_json(got[index]), load_json(want[index])
        got[8], want[8] = bool(got[8]), bool(want[8])
        assert got == want, f"effective row of {user_id}"


@pytest.fixture
def invariants() -> Callable[[Cache], None]:
    return check_invariants


@pytest.fixture
def make_user() -> Callable[..., EndUser]:
    """end_user(id, **fields): a server row with plan=free and seats=id unless overridden."""
    return end_user
