"""Process-wide settings that keep the window responsive beside worker threads."""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from desktop_app.ui import responsiveness


@pytest.fixture
def restored_interpreter() -> Iterator[None]:
    interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
    yield
    sys.setswitchinterval(interval)
    gc.set_threshold(*thresholds)


def test_the_gui_thread_gets_the_lock_back_sooner_and_full_collections_are_rare(restored_interpreter: None) -> None:
    young, middle, _ = gc.get_threshold()
    responsiveness.favour_the_gui_thread()
    assert sys.getswitchinterval() == pytest.approx(responsiveness.GUI_SWITCH_INTERVAL_S)
    assert gc.get_threshold() == (young, middle, responsiveness.FULL_COLLECTION_THRESHOLD)


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_scheduled_full_collections_free_reference_cycles(qtbot: QtBot, restored_interpreter: None) -> None:
    gc.disable()  # only the scheduled collection may free the cycle
    try:
        cycle = _Cycle()
        alive = weakref.ref(cycle)
        del cycle
        assert alive() is not None
        owner = QObject()
        timer = responsiveness.schedule_full_collections(owner, interval_ms=20)
        qtbot.waitUntil(lambda: alive() is None, timeout=5_000)
        assert timer.isActive() and timer.parent() is owner
    finally:
        gc.enable()
