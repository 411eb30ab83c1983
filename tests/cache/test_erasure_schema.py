"""Schema 8: a schema-7 file gains the erasure tables exactly as a fresh file has them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from desktop_app.cache.schema import database
from desktop_app.cache.store import Cache

TABLES = ("erasure", "suppression_salt")


def _schema(path: Path) -> list[tuple[str, str]]:
    connection = sqlite3.connect(path)
    try:
        return sorted(connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE tbl_name IN (?, ?)", TABLES).fetchall())
    finally:
        connection.close()


def test_a_v8_cache_gains_the_erasure_tables_as_a_fresh_file_has_them(tmp_path: Path) -> None:
    fresh, old = tmp_path / "fresh.sqlite3", tmp_path / "old.sqlite3"
    Cache.open(fresh).close()
    Cache.open(old).close()
    connection = sqlite3.connect(old)  # what schema 8 was
    for table in TABLES:
        connection.execute(f"DROP TABLE {table}")
    for table in ("response_text", "response_tag"):  # schema 10's search tables came after
        connection.execute(f"DROP TABLE {table}")
    for trigger in ("ai", "ad", "text_au", "tag_au"):
        connection.execute(f"DROP TRIGGER response_history_{trigger}")
    connection.execute("PRAGMA user_version = 8")
    connection.close()
    with Cache.open(old) as cache:
        assert cache.erasures() == [] and cache.suppressed("email", ["a@example.com"]) == set()
    assert database.SCHEMA_VERSION == 10
    assert _schema(old) == _schema(fresh) and len(_schema(fresh)) >= 4  # indexes included
    [backup] = tmp_path.glob("old.sqlite3.v8-*.bak")
    assert backup.exists()
