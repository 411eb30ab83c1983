"""The undo time before sending: kept in QSettings, read safely, injected into the sync service."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop_app.credentials import MemoryOnly
from desktop_app.ui.app import DemoSettings, DeskApp
from desktop_app.ui.sync_settings import (
    DEFAULT_UNDO_GRACE_S,
    MAX_UNDO_GRACE_S,
    RESPONSE_REREAD_KEY,
    UNDO_GRACE_KEY,
    response_reread_days,
    set_response_reread_days,
    set_undo_grace,
    undo_grace,
)


def test_the_default_is_five_seconds_and_bad_values_fall_back_or_are_bounded() -> None:
    assert undo_grace() == DEFAULT_UNDO_GRACE_S == 5
    QSettings().setValue(UNDO_GRACE_KEY, "soon")
    assert undo_grace() == DEFAULT_UNDO_GRACE_S
    QSettings().setValue(UNDO_GRACE_KEY, "-3")
    assert undo_grace() == 0
    assert set_undo_grace(10_000) == MAX_UNDO_GRACE_S
    assert undo_grace() == MAX_UNDO_GRACE_S
    assert set_undo_grace(0) == 0 and undo_grace() == 0


def test_the_app_hands_the_setting_to_its_sync_service(
    qtbot: QtBot, qapp: QApplication, isolated_settings: Path
) -> None:
    set_undo_grace(7)
    set_response_reread_days(30)
    desk = DeskApp(qapp, isolated_settings, MemoryOnly("test"), demo=True,
                   demo_settings=DemoSettings(users=20, rate_limit=None))
    try:
        desk.start()
        assert desk.session is not None
        assert desk.session.sync.grace == 7
        assert desk.session.sync.reread_days == 30
    finally:
        desk.shutdown()


def test_the_response_re_read_defaults_to_120_days_and_bad_values_fall_back_or_are_bounded() -> None:
    assert response_reread_days() == 120
    QSettings().setValue(RESPONSE_REREAD_KEY, "a season")
    assert response_reread_days() == 120
    QSettings().setValue(RESPONSE_REREAD_KEY, "-3")
    assert response_reread_days() == 0
    assert set_response_reread_days(10**6) == 3_650 == response_reread_days()
