"""Quitting ends within two seconds while the cache opens or a sync waits for another writer."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop_app import accounts
from desktop_app.credentials import MemoryOnly
from desktop_app.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from desktop_app.ui.app import DeskApp

from .conftest import sample_end_users

ROOT = Path(__file__).resolve().parents[2]
QUIT_WITHIN_S = 2.0


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator(port=0, users=20, seed=5).start()
    yield emu
    emu.stop()


def _cache_held_by_another_writer(path: Path) -> sqlite3.Connection:
    """A cache file with end users in it, and another connection holding its write lock (a
    `wootric-desk` command stuck mid-write): the app's open waits for it, 10 s a statement."""
    from desktop_app.cache.store import Cache

    with Cache.open(path) as cache:
        cache.ingest_pulled(sample_end_users(40), "end_users", 1)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_closing_the_window_while_the_cache_opens_quits_at_once(
        qtbot: QtBot, qapp: QApplication, isolated_settings: Path, emulator: Emulator,
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (accounts.ENV_CLIENT_ID, accounts.ENV_CLIENT_SECRET):
        monkeypatch.delenv(name, raising=False)
    store = MemoryOnly("test")
    profile = accounts.AccountProfile(emulator.base_url, accounts.AuthMethod.CLIENT_CREDENTIALS,
                                      client_id=DEFAULT_CLIENT_ID, label="Acme")
    accounts.sign_in(profile, DEFAULT_CLIENT_SECRET, store, isolated_settings)
    holder = _cache_held_by_another_writer(profile.cache_path(isolated_settings))
    desk = DeskApp(qapp, isolated_settings, store)
    try:
        desk.start()
        session = desk.session
        assert session is not None
        window = session.window
        qtbot.waitUntil(lambda: session._opening_started, timeout=10_000)  # the open has begun
        # ... and the window's undo-state read waits for it, in the ops layer, not on a worker.
        qtbot.waitUntil(lambda: desk.tasks.pending_count() >= 1 and session.ops.waiting_for_cache >= 1,
                        timeout=10_000)
        qtbot.wait(300)
        assert not session.cache.ready  # held up by the lock
        began = time.monotonic()
        window.close()  # the person closes the window; the application then quits
        desk.shutdown()
        took = time.monotonic() - began
        assert took < QUIT_WITHIN_S, f"quitting took {took:.1f} s"
        assert not window.isVisible()
        # Only the open is left behind (the undo-state read that waited for it never took a
        # thread), and the process would end without it (run_gui).
        assert desk.work_left_running == ["open the cache"]
    finally:
        holder.rollback()
        holder.close()
        desk.shutdown()
    # Once the lock goes, the abandoned open finishes and closes the file it opened.
    assert desk.tasks._pool.waitForDone(30_000)


@pytest.mark.timeout(120)
def test_sigterm_while_the_cache_opens_ends_the_process_within_two_seconds(
        tmp_path: Path, emulator: Emulator) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, WOOTRIC_DESK_HOME=str(home), QT_QPA_PLATFORM="offscreen",
               XDG_CONFIG_HOME=str(tmp_path / "config"), WOOTRIC_CLIENT_ID=DEFAULT_CLIENT_ID,
               WOOTRIC_CLIENT_SECRET=DEFAULT_CLIENT_SECRET, WOOTRIC_API_BASE=emulator.base_url)
    account = accounts.account_from_env(env)
    assert account is not None
    holder = _cache_held_by_another_writer(account.profile.cache_path(home))
    log_file = home / "logs" / "wootric-desk.log"
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from desktop_app.cli import main; sys.exit(main([]))"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if log_file.exists() and "opening the cache" in log_file.read_text():
                break
            time.sleep(0.1)
        assert process.poll() is None, process.communicate()[1][-2000:]
        time.sleep(1.0)  # well into the open, which waits for the lock
        assert "cache open in" not in log_file.read_text()
        began = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            _out, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("the process did not end within 30 s of SIGTERM")
        took = time.monotonic() - began
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        holder.rollback()
        holder.close()
    assert process.returncode == 0, err[-2000:]
    assert took < QUIT_WITHIN_S, f"the process took {took:.1f} s to end after SIGTERM"
    log_text = log_file.read_text()
    assert "quitting without waiting for background work still running: open the cache" in log_text
    assert "quit cleanly" in log_text
    assert "Traceback" not in log_text and "Traceback" not in err


def _count(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
            return int(connection.execute("SELECT count(*) FROM end_user").fetchone()[0])
    except sqlite3.Error:
        return 0


@pytest.mark.timeout(120)
def test_sigterm_while_a_sync_waits_for_another_writer_ends_the_process_within_two_seconds(
        tmp_path: Path) -> None:
    """The cache is open and a first sync is pulling when a `wootric-desk` command takes the
    write lock: the sync's next page and the cache's close wait for it, the quit does not."""
    emu = Emulator(port=0, users=2000, seed=6, rate_limit=240).start()  # a pull of about 10 s
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, WOOTRIC_DESK_HOME=str(home), QT_QPA_PLATFORM="offscreen",
               XDG_CONFIG_HOME=str(tmp_path / "config"), WOOTRIC_CLIENT_ID=DEFAULT_CLIENT_ID,
               WOOTRIC_CLIENT_SECRET=DEFAULT_CLIENT_SECRET, WOOTRIC_API_BASE=emu.base_url)
    account = accounts.account_from_env(env)
    assert account is not None
    db = account.profile.cache_path(home)
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from desktop_app.cli import main; sys.exit(main([]))"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    holder: sqlite3.Connection | None = None
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None and _count(db) < 200:
            time.sleep(0.1)
        assert process.poll() is None, process.communicate()[1][-2000:]
        assert 200 <= _count(db) < 2000  # pulling
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        time.sleep(1.0)  # the sync's next page now waits for the lock
        began = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            _out, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("the process did not end within 30 s of SIGTERM")
        took = time.monotonic() - began
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        if holder is not None:
            holder.rollback()
            holder.close()
        emu.stop()
    assert process.returncode == 0, err[-2000:]
    assert took < QUIT_WITHIN_S, f"the process took {took:.1f} s to end after SIGTERM"
    log_text = (home / "logs" / "wootric-desk.log").read_text()
    assert "quit cleanly" in log_text
    assert "Traceback" not in log_text and "Traceback" not in err
