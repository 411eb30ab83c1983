"""Crash safety: an edit whose call returned is in the outbox after the process is SIGKILLed."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop_app.cache.store import Cache
from desktop_app.domain import EndUser

REPO = Path(__file__).resolve().parents[2]
TRIALS = 4
BULK = 200

# One helper process imports the app once, then forks a fresh editor per trial (cheap trials).
# The editor prints a line only after each edit call returned; the test kills it at a random
# point and then looks for every printed edit in the outbox.
EDITOR = textwrap.dedent(f"""
    import os, sys
    from desktop_app.cache.store import Cache
    path = sys.argv[1]
    for line in sys.stdin:
        trial = int(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            cache = Cache.open(path)
            print("ready", os.getpid(), flush=True)
            for i in range(1_000_000):
                user = 1 + i % 40
                value = f"t{{trial}}-{{i}}"
                if i % 3 == 0:
                    cache.set_property([user], "crash", value)
                elif i % 3 == 1:
                    cache.set_property(list(range(1, {BULK} + 1)), "bulk", value)
                else:
                    cache.set_email(user, value + "@example.com")
                print(i % 3, user, value, flush=True)
            os._exit(0)
        os.waitpid(pid, 0)
        print("reaped", flush=True)
""")


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL and fork are POSIX")
def test_every_returned_edit_survives_sigkill(cache_path: Path,
                                              make_user: Callable[..., EndUser],
                                              invariants: Callable[[Cache], None]) -> None:
    with Cache.open(cache_path) as cache:
        cache.ingest_pulled([make_user(i) for i in range(1, BULK + 1)], "c", 1)
    helper = subprocess.Popen(
        [sys.executable, "-c", EDITOR, str(cache_path)], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert helper.stdin is not None and helper.stdout is not None
    rng = random.Random(20240611)
    reported: list[tuple[int, int, str]] = []
    try:
        for trial in range(TRIALS):
            helper.stdin.write(f"{trial}\n")
            helper.stdin.flush()
            ready, pid = helper.stdout.readline().split()
            assert ready == "ready"
            for _ in range(rng.randrange(2, 40)):  # let some edits return, then pull the plug
                kind, user, value = helper.stdout.readline().split()
                reported.append((int(kind), int(user), value))
            os.kill(int(pid), signal.SIGKILL)
            for line in helper.stdout:  # edits that returned before the signal landed count too
                if line.strip() == "reaped":
                    break
                kind, user, value = line.split()
                reported.append((int(kind), int(user), value))
    finally:
        helper.stdin.close()
        helper.wait(timeout=30)
        helper.stdout.close()

    connection = sqlite3.connect(cache_path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        outbox: dict[str, set[int]] = {}
        for user, value_json in connection.execute("SELECT end_user_id, value_json FROM pending_edit"):
            outbox.setdefault(value_json, set()).add(user)
    finally:
        connection.close()
    for kind, user, value in reported:
        if kind == 0:
            assert user in outbox.get(f'"{value}"', set()), value
        elif kind == 1:
            assert outbox.get(f'"{value}"') == set(range(1, BULK + 1)), value
        else:
            assert user in outbox.get(f'"{value}@example.com"', set()), value
    assert len(reported) >= TRIALS * 2
    with Cache.open(cache_path) as cache:
        invariants(cache)
