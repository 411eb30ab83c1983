"""The detail panel's survey responses come from the real emulator over loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from pytestqt.qtbot import QtBot

from desktop_app.api.account import Credentials
from desktop_app.api.client import WootricClient
from desktop_app.domain import SurveyResponse
from desktop_app.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.services import AppServices

from .conftest import SAMPLE_SIZE, sample_end_users


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    # The emulator holds the same end users as the cache; their history dates from created_at.
    emu = Emulator(end_users=[u.to_seed_dict() for u in sample_end_users()], seed=5).start()
    yield emu
    emu.stop()


@pytest.fixture
def online_services(services: AppServices, emulator: Emulator) -> Iterator[AppServices]:
    client = WootricClient(
        Credentials(emulator.base_url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET), timeout=5.0, max_attempts=1
    )
    lock = threading.Lock()  # the client is safe for one thread at a time

    def responses(end_user_id: int) -> list[SurveyResponse]:
        with lock:
            return client.list_responses(end_user_id)

    yield replace(services, responses=responses)
    client.close()


def test_responses_load_in_the_background_and_say_when_offline(
    qtbot: QtBot, online_services: AppServices, emulator: Emulator
) -> None:
    win = MainWindow(online_services)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.model.loaded and win.model.rowCount() == SAMPLE_SIZE, timeout=10_000)
    users = sample_end_users()
    expected = {}
    for user in users[:40]:  # find one with responses, straight from the service
        found = online_services.responses(user.id)
        if found:
            expected[user.id] = found
            break
    assert expected, "the emulator generated no responses for the first 40 end users"
    (target, responses), = expected.items()
    win.table.select_ids([target])
    panel = win.detail
    qtbot.waitUntil(lambda: panel.responses.rowCount() == min(len(responses), 50), timeout=10_000)
    newest = max(responses, key=lambda r: r.created_at)
    assert panel.responses.data(panel.responses.index(0, 0)) == str(newest.score)
    assert panel.responses.data(panel.responses.index(0, 1)) == (newest.text or "")
    assert "response" in panel.responses_status.text()

    emulator.faults.offline()
    try:
        other = next(u.id for u in users if u.id != target)
        win.table.select_ids([other])
        qtbot.waitUntil(lambda: panel.responses_status.text() == "Not available offline.", timeout=15_000)
        assert panel.responses.rowCount() == 0
    finally:
        emulator.faults.online()
    win.close()


def test_without_a_client_responses_are_not_available_offline(qtbot: QtBot, services: AppServices) -> None:
    win = MainWindow(services)  # services.responses is None: no client at all
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.model.loaded, timeout=10_000)
    win.table.select_ids([sample_end_users()[0].id])
    qtbot.waitUntil(lambda: win.detail.cached is not None, timeout=10_000)
    assert win.detail.responses_status.text() == "Not available offline."
    win.close()



def test_responses_come_back_when_the_service_does(
    qtbot: QtBot, online_services: AppServices, emulator: Emulator
) -> None:
    """Shown "Not available offline" while working offline, an end user's responses are read
    again as soon as the sync bar sees the service answer: no reselecting needed."""
    from desktop_app.sync import SyncService
    from desktop_app.sync.status import SyncState

    credentials = Credentials(emulator.base_url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    sync = SyncService(online_services.cache, lambda: WootricClient(credentials, timeout=5.0, max_attempts=1),
                       interval=3600)
    win = MainWindow(replace(online_services, sync=sync))
    qtbot.addWidget(win)
    bar = win.sync_bar
    try:
        qtbot.waitUntil(lambda: win.model.loaded and win.model.rowCount() == SAMPLE_SIZE, timeout=10_000)
        # The top row is made current and its responses read while online: pick another one.
        qtbot.waitUntil(lambda: win.table.current_id() is not None, timeout=10_000)
        target = next(u.id for u in sample_end_users()[:40]
                      if u.id != win.table.current_id() and online_services.responses(u.id))
        bar.offline_button.click()
        qtbot.waitUntil(lambda: bar.status.state is SyncState.WORKING_OFFLINE, timeout=15_000)
        sync.start()
        win.table.select_ids([target])
        panel = win.detail
        qtbot.waitUntil(lambda: panel.responses_status.text() == "Not available offline.", timeout=15_000)
        bar.offline_button.click()  # back online: the service syncs
        qtbot.waitUntil(lambda: bar.status.last_success_at is not None, timeout=20_000)
        qtbot.waitUntil(lambda: panel.responses.rowCount() > 0, timeout=20_000)  # read again by itself
        assert "response" in panel.responses_status.text()
    finally:
        sync.stop()
        win.close()
