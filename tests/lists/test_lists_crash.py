"""Crash safety of a list's writes: SIGKILL during a per-row batch or a kept list's save leaves
all of it or nothing (one transaction each), and the cache's invariants hold afterwards."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from desktop_app.cache.store import Cache

from .conftest import check_invariants, end_user

REPO = Path(__file__).resolve().parents[2]
USERS = 6000
TRIALS = 6

# One helper imports the app once, then forks a writer per trial: it says "ready", writes each
# person's own plan and seats (one per-row batch), keeps the list, then says "done".
WRITER = textwrap.dedent(f"""
    import os, sys
    from desktop_app.cache.records import EditKind
    from desktop_app.cache.store import Cache
    path = sys.argv[1]
    for line in sys.stdin:
        trial = int(line)
        pid = os.fork()
        if pid == 0:
            cache = Cache.open(path)
            cells = [(i, k, f"t{{trial}}-{{k}}-{{i}}") for i in range(1, {USERS} + 1) for k in ("plan", "seats_note")]
            print("ready", os.getpid(), flush=True)
            cache.set_values_per_row(EditKind.SET_PROPERTY, cells)
            print("edited", flush=True)
            cache.save_list(f"t{{trial}}", list(range(1, {USERS} + 1)), identifier_kind="email")
            print("done", flush=True)
            os._exit(0)
        os.waitpid(pid, 0)
        print("reaped", flush=True)
""")


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL and fork are POSIX")
def test_a_killed_list_write_leaves_all_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    with Cache.open(path) as cache:
        cache.ingest_pulled([end_user(i) for i in range(1, USERS + 1)], "end_users", 1)
    helper = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=REPO,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    assert helper.stdin is not None and helper.stdout is not None
    rng = random.Random(20261208)
    said: dict[int, list[str]] = {}
    try:
        for trial in range(TRIALS):
            helper.stdin.write(f"{trial}\n")
            helper.stdin.flush()
            ready, pid = helper.stdout.readline().split()
            assert ready == "ready"
            started = time.monotonic()
            if trial == 0:  # the first runs through: how long the batch and the save take here
                assert helper.stdout.readline().strip() == "edited"
                assert helper.stdout.readline().strip() == "done"
                took = time.monotonic() - started
            else:  # the others die somewhere inside that span
                time.sleep(rng.uniform(0.2, 1.05) * took)
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass  # it finished first: the whole batch and the list must be there
            said[trial] = ["edited", "done"] if trial == 0 else []
            for line in helper.stdout:
                if line.strip() == "reaped":
                    break
                said[trial].append(line.strip())
    finally:
        helper.stdin.close()
        helper.wait(timeout=60)
        helper.stdout.close()

    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for trial, lines in said.items():
            entries = raw.execute("SELECT count(*) FROM pending_edit WHERE value_json LIKE ?",
                                  (f'"t{trial}-%',)).fetchone()[0]
            batches = raw.execute("SELECT count(DISTINCT batch_id) FROM pending_edit WHERE value_json LIKE ?",
                                  (f'"t{trial}-%',)).fetchone()[0]
            assert entries in (0, 2 * USERS) and batches == (1 if entries else 0), (trial, entries)
            kept = raw.execute("SELECT member_count, (SELECT count(*) FROM saved_list_member m WHERE m.list_id"
                               " = l.id) FROM saved_list l WHERE name = ?", (f"t{trial}",)).fetchall()
            assert kept in ([], [(USERS, USERS)]), (trial, kept)
            if "edited" in lines:
                assert entries == 2 * USERS
            if "done" in lines:
                assert kept == [(USERS, USERS)]
            if kept:
                assert entries == 2 * USERS  # the list is kept only after the batch committed
        survived = [t for t in said if raw.execute(
            "SELECT 1 FROM pending_edit WHERE value_json LIKE ? LIMIT 1", (f'"t{t}-%',)).fetchone()]
    finally:
        raw.close()
    assert len(said) == TRIALS
    assert any("edited" not in lines for lines in said.values()), said  # some kill landed in a batch
    with Cache.open(path) as cache:
        check_invariants(cache)
        for _ in survived:  # each batch that committed undoes whole, newest first
            assert cache.undo() is not None
        assert cache.pending_count() == 0
        assert {cache.get(i).end_user.properties["plan"] for i in (1, USERS // 2, USERS)} == {"free"}
        check_invariants(cache)
