"""The main window while the real sync service pulls from and pushes to the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QInputDialog
from pytestqt.qtbot import QtBot

from desktop_app.api.account import Credentials
from desktop_app.api.client import WootricClient
from desktop_app.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from desktop_app.sync import SyncService
from desktop_app.sync.bar_state import BarState
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.services import AppServices
from desktop_app.ui.sync_settings import UNDO_GRACE_KEY
from desktop_app.ui.tasks import TaskRunner
from desktop_app.ui.operations import Operations
from desktop_app.cache.opening import CacheFuture

from .conftest import SAMPLE_SIZE, sample_end_users


@pytest.fixture
def synced(tmp_path: Path, tasks: TaskRunner) -> Iterator[tuple[AppServices, Emulator]]:
    from desktop_app.cache.store import Cache
    from desktop_app.cache.reading.query import EndUserQuery

    emulator = Emulator(end_users=[u.to_seed_dict() for u in sample_end_users()], seed=2).start()
    credentials = Credentials(emulator.base_url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    cache = Cache.open(tmp_path / "sync" / "cache.db")  # empty: everything arrives by pull
    sync = SyncService(cache, lambda: WootricClient(credentials, timeout=5.0), interval=3600.0, edit_delay=0.05)
    future = CacheFuture.of(cache)
    services = AppServices(future, EndUserQuery(cache.engine), sync, Operations(tasks, future), None, "Emulator",
                           emulator)
    yield services, emulator
    sync.stop()
    emulator.stop()
    cache.close()


def test_pull_fills_the_table_and_pushed_edits_leave_undo(qtbot: QtBot, synced: tuple[AppServices, Emulator]) -> None:
    services, emulator = synced
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.model.loaded, timeout=10_000)
    assert win.model.rowCount() == 0
    services.sync.start()
    win.sync_now_action.trigger()  # F5
    qtbot.waitUntil(lambda: win.model.rowCount() == SAMPLE_SIZE, timeout=30_000)
    qtbot.waitUntil(lambda: win.filter_bar.count_label.text() == f"{SAMPLE_SIZE:,} end users", timeout=10_000)

    # An edit made here is queued, shown as pending, then pushed by the running sync.
    target = sample_end_users()[9].id
    win.table.select_ids([target])
    qtbot.waitUntil(lambda: win.detail.cached is not None and win.detail.cached.end_user.id == target, timeout=10_000)
    win.detail._set_property("plan", "platinum")
    qtbot.waitUntil(lambda: _server_plan(emulator, target) == "platinum", timeout=30_000)
    qtbot.waitUntil(lambda: not services.cache.result().get(target).pending, timeout=10_000)
    # A pushed edit cannot be undone any more: the menu says so.
    qtbot.waitUntil(lambda: not win.undo_action.isEnabled(), timeout=10_000)
    assert win.undo_action.text() == "&Undo"
    assert set(win.table.selected_ids()) == {target}
    win.close()


def _server_plan(emulator: Emulator, end_user_id: int) -> object:
    record = emulator.store.get(end_user_id) or {}
    properties = record.get("properties") or {}
    return properties.get("plan") if isinstance(properties, dict) else None


def _synced_window(qtbot: QtBot, services: AppServices) -> MainWindow:
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.show()
    services.sync.start()
    qtbot.waitUntil(lambda: win.model.rowCount() == SAMPLE_SIZE, timeout=30_000)
    qtbot.waitUntil(lambda: win.sync_bar.view.state is BarState.UP_TO_DATE, timeout=10_000)
    return win


def _edit_plan(qtbot: QtBot, win: MainWindow, target: int, value: str) -> None:
    win.table.select_ids([target])
    qtbot.waitUntil(lambda: win.detail.cached is not None and win.detail.cached.end_user.id == target, timeout=10_000)
    win.detail._set_property("plan", value)


def test_an_edit_can_be_undone_during_the_grace_and_the_bar_counts_down(
    qtbot: QtBot, synced: tuple[AppServices, Emulator]
) -> None:
    services, emulator = synced
    win = _synced_window(qtbot, services)
    win.set_undo_grace(4)  # Sync ▸ Undo time before sending…: kept in the settings, handed to sync
    assert QSettings().value(UNDO_GRACE_KEY) in (4, "4")
    assert services.sync is not None and services.sync.grace == 4
    target = sample_end_users()[11].id
    before = _server_plan(emulator, target)

    _edit_plan(qtbot, win, target, "typo")
    qtbot.waitUntil(lambda: win.undo_action.isEnabled(), timeout=5_000)
    assert win.activity.text() == "Done: Set plan. You can undo this for 4 seconds (Ctrl+Z)."
    bar = win.sync_bar
    qtbot.waitUntil(lambda: bar.state_label.text() == "Sending 1 edit in 4 s · Undo (Ctrl+Z)", timeout=5_000)
    qtbot.waitUntil(lambda: bar.state_label.text() == "Sending 1 edit in 3 s · Undo (Ctrl+Z)", timeout=3_000)
    win.undo_action.trigger()  # Ctrl+Z, within the grace
    qtbot.waitUntil(lambda: win.activity.text() == "Undone.", timeout=5_000)
    qtbot.wait(5_000)  # past the grace: nothing was left to send
    assert _server_plan(emulator, target) == before
    assert not services.cache.result().get(target).pending
    assert bar.view.state is BarState.UP_TO_DATE

    # Left alone, the next edit goes out once the grace is over, and the line says so.
    _edit_plan(qtbot, win, target, "gold")
    qtbot.waitUntil(lambda: win.activity.text() == "Done: Set plan. You can undo this for 4 seconds (Ctrl+Z).", timeout=5_000)
    qtbot.wait(1_000)
    assert _server_plan(emulator, target) == before and win.undo_action.isEnabled()
    qtbot.waitUntil(lambda: _server_plan(emulator, target) == "gold", timeout=15_000)
    qtbot.waitUntil(lambda: win.activity.text() == "Done: Set plan. Sent — can no longer be undone.", timeout=10_000)
    qtbot.waitUntil(lambda: not win.undo_action.isEnabled(), timeout=10_000)
    win.close()


def test_sync_now_sends_at_once_and_offline_confirmations_say_until_the_next_sync(
    qtbot: QtBot, synced: tuple[AppServices, Emulator]
) -> None:
    services, emulator = synced
    win = _synced_window(qtbot, services)
    win.set_undo_grace(60)
    assert win.bulk.undo_note() == ("Once done, you can undo them for 60 seconds (Ctrl+Z); "
                                    "then they are sent to the service.")
    target = sample_end_users()[12].id
    _edit_plan(qtbot, win, target, "now")
    qtbot.waitUntil(lambda: win.activity.text() == "Done: Set plan. You can undo this for 60 seconds (Ctrl+Z).", timeout=5_000)
    win.sync_now_action.trigger()  # F5: the person asks to send
    qtbot.waitUntil(lambda: _server_plan(emulator, target) == "now", timeout=10_000)
    qtbot.waitUntil(lambda: win.activity.text() == "Done: Set plan. Sent — can no longer be undone.", timeout=10_000)

    win.work_offline_action.trigger()
    qtbot.waitUntil(lambda: win.sync_bar.view.state is BarState.WORKING_OFFLINE, timeout=5_000)
    assert win.bulk.undo_note() == ("The changes stay on this computer until the next sync, "
                                    "and can be undone until then.")
    _edit_plan(qtbot, win, target, "offline")
    qtbot.waitUntil(lambda: win.activity.text() == "Done: Set plan. You can undo this until the next sync (Ctrl+Z).", timeout=5_000)
    win.set_undo_grace(0)
    assert win.bulk.undo_note() == ("The changes stay on this computer until the next sync, "
                                    "and can be undone until then.")
    win.work_offline_action.trigger()  # back online: the edit made offline goes with this sync
    qtbot.waitUntil(lambda: _server_plan(emulator, target) == "offline", timeout=10_000)
    qtbot.waitUntil(lambda: win.activity.text() == "Done: Set plan. Sent — can no longer be undone.", timeout=10_000)
    assert win.bulk.undo_note() == "The changes are sent to the service at once, and then can no longer be undone."
    win.close()


def test_the_sync_menu_sets_the_undo_time(qtbot: QtBot, synced: tuple[AppServices, Emulator]) -> None:
    services, _emulator = synced
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.show()
    assert services.sync is not None
    answered: list[int] = []

    def answer() -> None:  # the person types 9 and presses OK
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, QInputDialog)
        answered.append(dialog.intValue())
        dialog.setIntValue(9)
        dialog.accept()

    QTimer.singleShot(200, answer)
    win.undo_grace_action.trigger()
    assert answered == [0]  # it showed the service's current grace (the fixture's 0)
    assert services.sync.grace == 9
    assert QSettings().value(UNDO_GRACE_KEY) in (9, "9")
    win.close()


def test_a_first_sync_offers_the_property_keys_it_brought_without_a_restart(
    qtbot: QtBot, synced: tuple[AppServices, Emulator]
) -> None:
    """A new account starts with no keys; the pull's broadcast names them: facets, the column
    chooser and completion have them long before the next minute-apart key read."""
    from PySide6.QtWidgets import QMenu

    services, _emulator = synced
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.model.loaded, timeout=10_000)
    assert win.model.rowCount() == 0
    qtbot.waitUntil(lambda: not services.ops.tasks.busy, timeout=10_000)  # the first key read found none
    assert win.table.property_keys == []
    services.sync.start()
    win.sync_now_action.trigger()
    qtbot.waitUntil(lambda: win.model.rowCount() == SAMPLE_SIZE, timeout=30_000)

    expected = {"plan", "revenue_amount", "signup_date", "features_array"}
    qtbot.waitUntil(lambda: expected <= set(win.table.property_keys), timeout=10_000)
    facets = win.facets.facets
    qtbot.waitUntil(lambda: expected <= {g.property_key for g in facets._groups if g.property_key},
                    timeout=10_000)
    menu = QMenu()
    win.table.fill_columns_menu(menu)
    properties = next(a.menu() for a in menu.actions() if a.text() == "Properties")
    assert properties.isEnabled() and expected <= {a.text() for a in properties.actions()}
    assert {f"{key}:" for key in expected} <= set(win.filter_bar._vocabulary("p"))
    win.close()
