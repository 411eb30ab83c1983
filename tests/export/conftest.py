"""Fixtures for the export tests: a real SQLite cache file in tmp_path and the query over it."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).parent))  # the shared nasty dataset lives beside us

from desktop_app.cache.reading.query import EndUserQuery
from nasty_end_users import SeedUser, make_cache


@pytest.fixture
def cache_factory(tmp_path: Path) -> Iterator[Any]:
    """Build a cache file from SeedUsers and return an EndUserQuery over it."""
    engines: list[Engine] = []

    def build(users: Sequence[SeedUser], name: str = "cache.sqlite3") -> EndUserQuery:
        engine = make_cache(tmp_path / name, users)
        engines.append(engine)
        return EndUserQuery(engine)

    yield build
    for engine in engines:
        engine.dispose()
