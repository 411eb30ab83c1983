"""The detail panel's survey history comes from the cache, offline: responses (scores, comments,
tags, excluded ones marked), declines and dates, read through `services.ops.read`; before the
account's responses were ever walked it says "not synced yet"."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from pytestqt.qtbot import QtBot

from desktop_app.api.account import Credentials
from desktop_app.api.client import WootricClient
from desktop_app.cache.store import Cache
from desktop_app.domain import SurveyDecline, SurveyResponse
from desktop_app.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from desktop_app.ui.detail_models import HistoryModel
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.services import AppServices

from .conftest import SAMPLE_SIZE, sample_end_users

T = 1_720_000_000


def _response(id: int, end_user_id: int, score: int, created_at: int, **fields: object) -> SurveyResponse:
    return SurveyResponse(id=id, end_user_id=end_user_id, score=score, created_at=created_at,
                          updated_at=created_at, **fields)


def _rows(model: HistoryModel) -> list[tuple[str, ...]]:
    return [tuple(model.data(model.index(row, column)) for column in range(model.columnCount()))
            for row in range(model.rowCount())]


def _open(qtbot: QtBot, services: AppServices) -> MainWindow:
    win = MainWindow(services)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.model.loaded and win.model.rowCount() == SAMPLE_SIZE, timeout=10_000)
    return win


def test_the_history_shows_from_the_cache_without_any_service(
    qtbot: QtBot, services: AppServices, desk_cache: Cache
) -> None:
    target = sample_end_users()[5].id
    desk_cache.ingest_responses([
        _response(1, target, 4, T, text="Too slow", tags=("billing", "speed")),
        _response(2, target, 10, T + 3600, text="test", excluded_from_calculations=True),
        _response(3, target, 9, T - 86_400, text="Love it"),
    ], {"responses.created_at": T + 3600})
    desk_cache.ingest_declines([SurveyDecline(7, target, T + 7200, T + 7200)], {})
    assert services.sync is None  # no client, no sync: the cache is all there is
    win = _open(qtbot, services)
    win.table.select_ids([target])
    panel = win.detail
    qtbot.waitUntil(lambda: panel.responses.rowCount() == 4, timeout=10_000)
    rows = _rows(panel.responses)
    assert [r[:3] for r in rows] == [
        ("Declined", "", ""),
        ("10 (excluded)", "test", ""),
        ("4", "Too slow", "billing, speed"),
        ("9", "Love it", ""),
    ]
    assert rows[2][3].startswith("2024-07-03")
    # the latest score is the latest counted one, as score: and nps: read it
    assert panel.responses_status.text() == "3 responses · 1 decline · latest score 4 (detractor)"

    # A sync's new response reaches the panel with the cache's change broadcast.
    changes = desk_cache.ingest_responses([_response(4, target, 8, T + 9000, text="better")], {})
    panel.apply_cache_changes(changes)  # what the window's relay hands it
    qtbot.waitUntil(lambda: panel.responses.rowCount() == 5, timeout=10_000)
    assert _rows(panel.responses)[0][:2] == ("8", "better")
    assert panel.responses_status.text() == "4 responses · 1 decline · latest score 8 (passive)"

    other = sample_end_users()[6].id
    win.table.select_ids([other])
    qtbot.waitUntil(lambda: panel.responses_status.text() == "No survey responses yet.", timeout=10_000)
    assert panel.responses.rowCount() == 0
    win.close()


def test_before_the_first_walk_the_history_is_not_synced_yet(qtbot: QtBot, services: AppServices) -> None:
    win = _open(qtbot, services)
    win.table.select_ids([sample_end_users()[0].id])
    qtbot.waitUntil(lambda: win.detail.cached is not None, timeout=10_000)
    qtbot.waitUntil(lambda: win.detail.responses_status.text() == "Survey history not synced yet.", timeout=10_000)
    assert win.detail.responses.rowCount() == 0
    win.close()


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    # The emulator holds the same end users as the cache; their history dates from created_at.
    emu = Emulator(end_users=[u.to_seed_dict() for u in sample_end_users()], seed=5).start()
    yield emu
    emu.stop()


def test_a_sync_brings_the_history_and_it_stays_when_offline(
    qtbot: QtBot, services: AppServices, emulator: Emulator, desk_cache: Cache
) -> None:
    from desktop_app.sync import SyncService
    from desktop_app.sync.status import SyncState

    credentials = Credentials(emulator.base_url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    client = WootricClient(credentials, timeout=5.0, max_attempts=1)
    try:
        target, expected = next((u.id, found) for u in sample_end_users()[:60]
                                if (found := client.list_responses(u.id)))
    finally:
        client.close()
    sync = SyncService(services.cache, lambda: WootricClient(credentials, timeout=5.0, max_attempts=1),
                       interval=3600)
    win = _open(qtbot, replace(services, sync=sync))
    bar = win.sync_bar
    try:
        sync.start()
        qtbot.waitUntil(lambda: bar.status.last_success_at is not None, timeout=30_000)
        qtbot.waitUntil(lambda: len(desk_cache.responses_of(target)) == len(expected), timeout=30_000)
        win.table.select_ids([target])
        panel = win.detail
        qtbot.waitUntil(lambda: panel.responses.rowCount() >= len(expected), timeout=10_000)
        newest = max(expected, key=lambda r: (r.created_at, r.id))
        scores = [panel.responses.data(panel.responses.index(row, 0)) for row in range(panel.responses.rowCount())]
        assert str(newest.score) in scores[0] or scores[0] == "Declined"
        bar.offline_button.click()
        qtbot.waitUntil(lambda: bar.status.state is SyncState.WORKING_OFFLINE, timeout=15_000)
        win.table.select_ids([sample_end_users()[0].id if target != sample_end_users()[0].id
                              else sample_end_users()[1].id])
        win.table.select_ids([target])  # read again, offline: the same history
        qtbot.waitUntil(lambda: panel.responses.rowCount() >= len(expected), timeout=10_000)
        assert "response" in panel.responses_status.text()
    finally:
        sync.stop()
        win.close()
