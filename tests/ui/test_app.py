"""The composition root: the demo starts, syncs from the embedded emulator, and quits cleanly."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop_app import accounts
from desktop_app.credentials import MemoryOnly
from desktop_app.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from desktop_app.sync.status import SyncState
from desktop_app.ui.app import DemoSettings, DeskApp
from desktop_app.ui.sign_in import SignInDialog

ROOT = Path(__file__).resolve().parents[2]
DEMO_USERS = 300


@pytest.fixture()
def no_env_account(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app must find its account in the profile, not in the environment."""
    for name in (accounts.ENV_CLIENT_ID, accounts.ENV_CLIENT_SECRET):
        monkeypatch.delenv(name, raising=False)


def _remember_account(emu: Emulator, root: Path) -> tuple[MemoryOnly, accounts.AccountProfile]:
    """An account signed in before: its profile on disk, its secret in the store."""
    store = MemoryOnly("test")
    profile = accounts.AccountProfile(emu.base_url, accounts.AuthMethod.CLIENT_CREDENTIALS,
                                      client_id=DEFAULT_CLIENT_ID, label="Acme")
    accounts.sign_in(profile, DEFAULT_CLIENT_SECRET, store, root)
    return store, profile


def _count(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        return int(connection.execute("SELECT count(*) FROM end_user").fetchone()[0])


def test_demo_syncs_from_the_emulator_and_shuts_down_cleanly(
    qtbot: QtBot, qapp: QApplication, isolated_settings: Path
) -> None:
    desk = DeskApp(qapp, isolated_settings, MemoryOnly("test"), demo=True,
                   demo_settings=DemoSettings(users=DEMO_USERS, rate_limit=None))
    try:
        desk.start()
        session = desk.session
        assert session is not None and desk.emulator is not None
        window = session.window
        assert window.isVisible()
        assert session.account.profile.is_demo and session.account.source == "memory"
        qtbot.waitUntil(lambda: session.sync.status.last_success_at is not None, timeout=60_000)
        assert session.sync.status.state is SyncState.IDLE
        assert session.cache.path == accounts.AccountProfile(
            desk.emulator.base_url, accounts.AuthMethod.CLIENT_CREDENTIALS, region="demo"
        ).cache_path(isolated_settings)
        assert _count(session.cache.path) == DEMO_USERS
        bar = window.statusBar()
        qtbot.waitUntil(lambda: bar.state_label.text() == "Up to date", timeout=10_000)
        menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
        assert "Simulate network" in menus

        # Go offline from the demo menu: the bar says so, never "Up to date".
        desk.simulate_menu.actions()[0].trigger()
        session.sync.sync_now()
        qtbot.waitUntil(lambda: session.sync.status.state is SyncState.OFFLINE, timeout=30_000)
        qtbot.waitUntil(lambda: bar.state_label.text().startswith("Offline"), timeout=10_000)
        desk.simulate_menu.actions()[1].trigger()  # come back: a sync runs by itself
        qtbot.waitUntil(lambda: session.sync.status.state is SyncState.IDLE, timeout=30_000)

        base_url = desk.emulator.base_url
        sync_threads = [t for t in threading.enumerate() if t.name == "wootric-sync"]
        assert sync_threads
    finally:
        desk.shutdown()
    assert desk.session is None and desk.emulator is None
    assert not any(t.is_alive() for t in sync_threads)
    with pytest.raises(httpx.TransportError):
        httpx.get(base_url + "/v1/end_users", timeout=2)
    assert not desk.tasks.busy


def test_without_an_account_the_sign_in_dialog_opens(
    qtbot: QtBot, qapp: QApplication, isolated_settings: Path, no_env_account: None
) -> None:
    desk = DeskApp(qapp, isolated_settings, MemoryOnly("test"))
    try:
        desk.start()
        dialog = desk._dialog
        assert isinstance(dialog, SignInDialog)
        qtbot.waitUntil(dialog.isVisible, timeout=10_000)
        assert desk.session is None
        # choosing the demo in the dialog opens it like --demo does
        desk.demo_settings = DemoSettings(users=20, rate_limit=None)
        dialog.region.setCurrentIndex(dialog.region.findData("demo"))
        dialog.sign_in_button.click()
        qtbot.waitUntil(lambda: desk.session is not None, timeout=10_000)
        assert desk.session is not None and desk.session.account.profile.is_demo
    finally:
        desk.shutdown()


def test_sign_out_forgets_the_account_and_asks_again(
    qtbot: QtBot, qapp: QApplication, isolated_settings: Path, no_env_account: None
) -> None:
    emu = Emulator(port=0, users=10, seed=5).start()
    store, profile = _remember_account(emu, isolated_settings)
    desk = DeskApp(qapp, isolated_settings, store)
    try:
        desk.start()  # the remembered account opens without asking; its secret is read after
        session = desk.session
        assert session is not None and session.profile == profile
        qtbot.waitUntil(lambda: session.account is not None, timeout=10_000)
        assert session.account is not None and session.account.profile == profile
        qtbot.waitUntil(lambda: session.sync.status.last_success_at is not None, timeout=30_000)
        desk.sign_out_now()
        assert desk.session is None and store.get(profile.key) is None
        assert accounts.load_profile(isolated_settings) is None
        assert isinstance(desk._dialog, SignInDialog)
        assert desk._dialog.client_id.text() == DEFAULT_CLIENT_ID  # where, who: yes; secret: no
        assert desk._dialog.client_secret.text() == ""
    finally:
        desk.shutdown()
        emu.stop()


@pytest.mark.timeout(120)
def test_run_gui_demo_as_a_process_quits_cleanly_on_sigterm(tmp_path: Path) -> None:
    """The real entry point, the way a person starts it: `wootric-desk --demo`. (Its data
    directory, left 0755 by an older version, is made user-only on the way.)"""
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o755)
    env = dict(os.environ, WOOTRIC_DESK_HOME=str(home), QT_QPA_PLATFORM="offscreen",
               WOOTRIC_DESK_DEMO_USERS="120", XDG_CONFIG_HOME=str(tmp_path / "config"))
    env.pop(accounts.ENV_CLIENT_ID, None)
    env.pop(accounts.ENV_CLIENT_SECRET, None)
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from desktop_app.cli import main; sys.exit(main(['--demo']))"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        db = home / "cache" / "demo.sqlite3"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if db.exists() and _count(db) == 120:
                    break
            except sqlite3.Error:
                pass  # the schema is still being created
            time.sleep(0.2)
        assert process.poll() is None, process.communicate()[1][-2000:]
        assert _count(db) == 120
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err[-2000:]
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    log_text = (home / "logs" / "wootric-desk.log").read_text()
    assert "quit cleanly" in log_text
    assert "Traceback" not in log_text and "Traceback" not in err


def test_an_environment_account_that_is_not_text_is_named_on_the_sign_in_dialog(
    qtbot: QtBot, qapp: QApplication, isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(accounts.ENV_CLIENT_ID, os.fsdecode(b"client-\xff"))
    monkeypatch.setenv(accounts.ENV_CLIENT_SECRET, "a-secret-value")
    desk = DeskApp(qapp, isolated_settings, MemoryOnly("test"))
    try:
        desk.start()
        dialog = desk._dialog
        assert isinstance(dialog, SignInDialog)
        qtbot.waitUntil(dialog.isVisible, timeout=10_000)
        assert "WOOTRIC_CLIENT_ID is not valid text" in dialog.intro.text()
        assert desk.session is None
    finally:
        desk.shutdown()


def test_a_remembered_account_without_its_secret_still_opens_its_cache_and_asks_to_sign_in(
    qtbot: QtBot, qapp: QApplication, isolated_settings: Path, no_env_account: None
) -> None:
    """Offline-first: the cached end users show and can be edited; sync waits for a sign-in."""
    emu = Emulator(port=0, users=25, seed=8).start()
    store, profile = _remember_account(emu, isolated_settings)
    desk = DeskApp(qapp, isolated_settings, store)
    try:
        desk.start()
        first = desk.session
        assert first is not None
        qtbot.waitUntil(lambda: first.sync.status.last_success_at is not None, timeout=30_000)
        desk.close_session()
        store.delete(profile.key)  # e.g. the keyring was reset since the last run

        desk.start()
        session = desk.session
        assert session is not None and session.profile == profile
        model = session.window.model
        qtbot.waitUntil(lambda: model.loaded and model.rowCount() == 25, timeout=10_000)
        qtbot.waitUntil(lambda: isinstance(desk._dialog, SignInDialog), timeout=10_000)
        assert desk._dialog is not None and "secret is not available" in desk._dialog.intro.text()
        assert session.account is None and session.cache.ready
        bar = session.window.statusBar()
        qtbot.waitUntil(lambda: bar.state_label.text() == "Sign-in needed", timeout=10_000)
        assert bar.sign_in_button.isVisibleTo(bar)
        assert not any(t.name == "wootric-sync" for t in threading.enumerate())
        session.cache.result().set_email(model.id_at(0), "offline.edit@acme.example")  # edits still queue
        assert session.cache.result().pending_count() == 1
    finally:
        desk.shutdown()
        emu.stop()


def test_closing_a_session_remembers_the_property_keys_it_filtered_on(
    qtbot: QtBot, qapp: QApplication, isolated_settings: Path, no_env_account: None
) -> None:
    """So the next open gives those keys the query indexes (typing plan:pro stays fast)."""
    desk = DeskApp(qapp, isolated_settings, MemoryOnly("test"), demo=True,
                   demo_settings=DemoSettings(users=40, rate_limit=None))
    try:
        desk.start()
        session = desk.session
        assert session is not None
        qtbot.waitUntil(lambda: session.cache.ready, timeout=10_000)
        session.window.filter_bar.set_text("plan:pro")
        qtbot.waitUntil(lambda: session.window.model.filter_text == "plan:pro", timeout=10_000)
        path = session.cache.path
        desk.close_session()
    finally:
        desk.shutdown()
    from desktop_app.cache.store import Cache

    cache = Cache.open(path)
    try:
        assert "plan" in cache.remembered_filter_keys()
    finally:
        cache.close()
