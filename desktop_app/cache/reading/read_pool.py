"""Plain sqlite3 read connections on a cache file, without SQLAlchemy (fast to import).

The window paints its first rows through these before the SQLModel side of the cache has
even been imported (importing SQLModel and SQLAlchemy takes longer than the whole first
paint); the writer side (`Cache`) opens afterwards on its own engine. WAL readers never block
the writer and each borrowed connection serves one thread at a time.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BUSY_TIMEOUT_S = 10.0
_IDLE_KEPT = 4  # connections kept open between reads; more are opened when threads overlap


class ReadPool:
    """Borrow a read-only connection (`with pool.borrow() as raw: ...`) from a small pool."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def readable(self) -> bool:
        """True when the file exists and holds the end-user table (a cache opened before)."""
        if not self.path.exists():
            return False
        try:
            with self.borrow() as raw:
                return raw.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'end_user'"
                ).fetchone() is not None
        except sqlite3.Error:
            return False

    @contextmanager
    def borrow(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise sqlite3.ProgrammingError("the read pool is closed")
            raw = self._idle.pop() if self._idle else None
        if raw is None:
            raw = self._connect()
        try:
            yield raw
        finally:
            if raw.in_transaction:  # a failed read must not hand on an open snapshot
                raw.execute("ROLLBACK")
            with self._lock:
                keep = not self._closed and len(self._idle) < _IDLE_KEPT
                if keep:
                    self._idle.append(raw)
            if not keep:
                raw.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for raw in idle:
            raw.close()

    def _connect(self) -> sqlite3.Connection:
        # mode=rw never creates a file (the Cache makes it, user-only); not mode=ro, which
        # cannot recover the WAL index after a crash.
        raw = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=rw", uri=True,
                              timeout=BUSY_TIMEOUT_S, check_same_thread=False, isolation_level=None)
        for pragma in ("query_only = ON", "temp_store = MEMORY"):  # page cache: EndUserQuery._read
            raw.execute(f"PRAGMA {pragma}")
        return raw
