"""The window's layout at the sizes people use: 1440 × 900 and a 1024 × 768 laptop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from desktop_app.ui.log_viewer import LogViewer
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.services import AppServices

from .conftest import SAMPLE_SIZE


@pytest.fixture
def window(qtbot: QtBot, services: AppServices) -> Iterator[MainWindow]:
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.resize(1024, 768)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.model.complete and win._total == SAMPLE_SIZE, timeout=10_000)
    yield win
    win.close()


def _visible_columns(win: MainWindow) -> int:
    header, viewport = win.table.horizontalHeader(), win.table.viewport().rect()
    return sum(
        1 for logical in range(header.count())
        if QRect(header.sectionViewportPosition(logical), 0, header.sectionSize(logical), 1).intersects(viewport)
    )


@pytest.mark.parametrize("width,height", [(1024, 768), (1440, 900)])
def test_the_table_keeps_the_larger_share_of_the_width(qtbot: QtBot, window: MainWindow, width: int, height: int) -> None:
    window.resize(width, height)
    qtbot.waitUntil(lambda: window.width() == width, timeout=3000)
    qtbot.wait(20)
    sizes = window.splitter.sizes()
    assert sizes[1] >= 0.45 * sum(sizes), sizes
    assert _visible_columns(window) >= 3
    assert min(sizes[0], sizes[2]) >= 150  # the side panels are narrower, not gone


def test_an_added_column_is_scrolled_into_view(qtbot: QtBot, window: MainWindow) -> None:
    window.table.set_column_visible("prop:plan", True)
    logical = [c.key for c in window.model.columns].index("prop:plan")
    header = window.table.horizontalHeader()

    def shown() -> bool:
        left = header.sectionViewportPosition(logical)
        return left >= 0 and left + header.sectionSize(logical) <= window.table.viewport().width() + 1

    qtbot.waitUntil(shown, timeout=3000)


def test_a_filter_error_does_not_move_the_table(qtbot: QtBot, window: MainWindow) -> None:
    top = window.splitter.mapTo(window, window.splitter.rect().topLeft()).y()
    qtbot.keyClicks(window.filter_bar.edit, "plan:(")
    qtbot.waitUntil(lambda: window.filter_bar.error is not None, timeout=5000)
    qtbot.wait(20)
    assert window.filter_bar.error_label.isVisible()
    assert window.splitter.mapTo(window, window.splitter.rect().topLeft()).y() == top


def test_the_help_and_saved_buttons_stay_put_as_the_count_changes(window: MainWindow) -> None:
    bar = window.filter_bar
    places = set()
    for matching, total in ((None, None), (5, 300), (12_345, 1_000_000), (1_000_000, 1_000_000)):
        bar.set_count(matching, total)
        bar.layout().activate()
        places.add((bar.help_button.x(), bar.saved_button.x()))
    assert len(places) == 1, places


def test_a_dialog_is_as_wide_as_its_title(qtbot: QtBot, window: MainWindow) -> None:
    title = "Disable surveys for 12,345 end users matching plan:enterprise surveys:enabled?"
    box = QMessageBox(QMessageBox.Icon.Question, title, "Go on?", QMessageBox.StandardButton.Ok, window)
    box.open()
    qtbot.waitExposed(box)
    box.activateWindow()  # what a window manager does with a new dialog (the offscreen platform does not)
    font = QApplication.font("QMdiSubWindowTitleBar")
    font.setBold(True)
    needed = QFontMetrics(QFont(font)).horizontalAdvance(title)
    qtbot.waitUntil(lambda: box.width() >= needed, timeout=3000)
    box.done(0)


def test_the_log_viewer_opens_at_the_start_of_its_lines(qtbot: QtBot, tmp_path: Path) -> None:
    log = tmp_path / "wootric-desk.log"
    lines = [f"2026-12-07 10:00:{n:02d},000 INFO desktop_app.sync: pulled page {n}" for n in range(40)]
    lines.append("2026-12-07 10:01:00,000 WARNING desktop_app.sync: " + "a very long line " * 40)
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    viewer = LogViewer(log)
    qtbot.addWidget(viewer)
    viewer.resize(700, 400)
    viewer.show()
    qtbot.waitExposed(viewer)
    bar = viewer.text.horizontalScrollBar()
    assert bar.maximum() > 0  # the long line does not fit
    assert bar.value() == 0
    vertical = viewer.text.verticalScrollBar()
    assert vertical.value() == vertical.maximum()  # still following the newest lines


def test_an_empty_result_says_why_and_offers_to_clear_the_filter(qtbot: QtBot, window: MainWindow) -> None:
    notice = window.empty_notice
    assert not notice.isVisible()
    window.filter_bar.set_text("plan:xyz")
    qtbot.waitUntil(lambda: window.model.filter_text == "plan:xyz" and window.model.complete, timeout=10_000)
    qtbot.waitUntil(notice.isVisible, timeout=3000)
    assert "No end users match" in notice.text() and "plan:xyz" in notice.text()
    assert "clear the filter" in notice.text()
    assert "plan:xyz" in notice.accessibleDescription()
    notice.linkActivated.emit("clear")
    qtbot.waitUntil(lambda: window.model.filter_text == "" and window.model.rowCount() == SAMPLE_SIZE, timeout=10_000)
    assert window.filter_bar.text() == ""
    assert not notice.isVisible()
