"""The main window while the real sync service pulls from and pushes to the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop_app.api import Credentials, WootricClient
from desktop_app.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from desktop_app.sync import SyncService
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.services import AppServices
from desktop_app.ui.tasks import TaskRunner

from .conftest import SAMPLE_SIZE, sample_end_users


@pytest.fixture
def synced(tmp_path: Path, tasks: TaskRunner) -> Iterator[tuple[AppServices, Emulator]]:
    from desktop_app.cache import Cache
    from desktop_app.cache.query import EndUserQuery

    emulator = Emulator(end_users=[u.to_seed_dict() for u in sample_end_users()], seed=2).start()
    credentials = Credentials(emulator.base_url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    cache = Cache.open(tmp_path / "sync" / "cache.db")  # empty: everything arrives by pull
    sync = SyncService(cache, lambda: WootricClient(credentials, timeout=5.0), interval=3600.0, edit_delay=0.05)
    services = AppServices(cache, EndUserQuery(cache.engine), sync, tasks, None, "Emulator", emulator)
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
    services.sync.start()  # type: ignore[union-attr]
    win.sync_now_action.trigger()  # F5
    qtbot.waitUntil(lambda: win.model.rowCount() == SAMPLE_SIZE, timeout=30_000)
    qtbot.waitUntil(lambda: win.filter_bar.count_label.text() == f"{SAMPLE_SIZE:,} end users", timeout=10_000)

    # An edit made here is queued, shown as pending, then pushed by the running sync.
    target = sample_end_users()[9].id
    win.select_ids([target])
    qtbot.waitUntil(lambda: win.detail.cached is not None and win.detail.cached.end_user.id == target, timeout=10_000)
    win.detail._set_property("plan", "platinum")
    qtbot.waitUntil(lambda: _server_plan(emulator, target) == "platinum", timeout=30_000)
    qtbot.waitUntil(lambda: not services.cache.get(target).pending, timeout=10_000)
    # A pushed edit cannot be undone any more: the menu says so.
    qtbot.waitUntil(lambda: not win.undo_action.isEnabled(), timeout=10_000)
    assert win.undo_action.text() == "&Undo"
    assert set(win.selected_ids()) == {target}
    win.close()


def _server_plan(emulator: Emulator, end_user_id: int) -> object:
    record = emulator.store.get(end_user_id) or {}
    properties = record.get("properties") or {}
    return properties.get("plan") if isinstance(properties, dict) else None


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
    qtbot.waitUntil(lambda: not services.tasks.busy, timeout=10_000)  # the first key read found none
    assert win.table.property_keys == []
    services.sync.start()  # type: ignore[union-attr]
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
