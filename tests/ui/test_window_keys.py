"""Working at speed from the keyboard: mnemonics, closing side windows, filter → results, copy."""

from __future__ import annotations

import csv
import io
import re

import pytest
from PySide6.QtCore import QItemSelectionModel, QPoint, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from desktop_app.domain import EndUser
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.services import AppServices

from .conftest import sample_end_users

USERS = sample_end_users()
PRO = [u for u in USERS if u.properties["plan"] == "pro"]


def _mnemonic(text: str) -> str | None:
    match = re.search(r"&([^&])", text.replace("&&", ""))
    return match.group(1).lower() if match else None


def test_no_two_alt_keys_clash_in_the_main_window(window: MainWindow) -> None:
    """Alt+<letter> must reach one thing: the menu bar's titles and the window's labels and buttons."""
    owners: dict[str, list[str]] = {}
    for action in window.menuBar().actions():
        key = _mnemonic(action.text())
        if key:
            owners.setdefault(key, []).append(f"menu {action.text()}")
    for widget in window.findChildren(QWidget):
        if not widget.isVisibleTo(window) or widget.window() is not window:
            continue
        text = widget.text() if isinstance(widget, (QLabel, QAbstractButton)) else ""
        key = _mnemonic(text) if text else None
        if key and (not isinstance(widget, QLabel) or widget.buddy() is not None):
            owners.setdefault(key, []).append(f"{type(widget).__name__} {text}")
    clashes = {key: names for key, names in owners.items() if len(names) > 1}
    assert not clashes, clashes


@pytest.mark.parametrize("key", ["escape", "ctrl+w"])
def test_conflicts_and_log_windows_close_on_esc_and_ctrl_w(qtbot: QtBot, window: MainWindow, key: str) -> None:
    window.open_conflicts()
    window.open_log()
    for name in ("conflicts", "log"):
        child = window._child_windows[name]
        qtbot.waitExposed(child)
        child.activateWindow()
        qtbot.waitUntil(lambda c=child: QApplication.activeWindow() is c, timeout=3000)
        if key == "escape":
            qtbot.keyClick(child.focusWidget() or child, Qt.Key.Key_Escape)
        else:
            qtbot.keyClick(child.focusWidget() or child, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda c=child: not c.isVisible(), timeout=3000)
    assert window.isVisible()


def test_down_and_enter_move_from_the_filter_into_the_results(qtbot: QtBot, window: MainWindow) -> None:
    edit = window.filter_bar.edit
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_Down)
    assert window.table.hasFocus()
    assert window.table.selected_ids() == [window.model.id_at(0)]

    window.filter_bar.focus_filter()
    qtbot.keyClicks(edit, "plan:pro")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.model.filter_text == "plan:pro" and window.model.complete, timeout=10_000)
    qtbot.waitUntil(lambda: window.table.hasFocus(), timeout=3000)
    qtbot.waitUntil(lambda: len(window.table.selected_ids()) == 1, timeout=3000)
    assert window.table.selected_ids()[0] in {u.id for u in PRO}


def _pixel(image: object, point: QPoint) -> QColor:
    return image.pixelColor(point)


def test_the_current_row_is_marked_across_its_width(qtbot: QtBot, window: MainWindow) -> None:
    table = window.table
    table.setFocus()
    table.selectionModel().clearSelection()
    table.selectionModel().setCurrentIndex(window.model.index(2, 0), QItemSelectionModel.SelectionFlag.NoUpdate)
    qtbot.wait(50)
    image = table.viewport().grab().toImage()
    highlight = table.palette().color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight)
    last = window.model.columnCount() - 1
    for row in (2,):
        rect = table.visualRect(window.model.index(row, min(3, last)))
        assert _pixel(image, QPoint(rect.center().x(), rect.top() + 1)) == highlight
        assert _pixel(image, QPoint(rect.center().x(), rect.bottom() - 1)) == highlight
    other = table.visualRect(window.model.index(5, min(3, last)))
    assert _pixel(image, QPoint(other.center().x(), other.top() + 1)) != highlight


def test_file_quit_closes_every_window_then_quits(qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    quits: list[bool] = []
    monkeypatch.setattr(QApplication, "quit", lambda: quits.append(True))  # the test's app must live on
    assert window.quit_action.shortcut().toString() == "Ctrl+Q"
    assert window.quit_action in window.menuBar().actions()[0].menu().actions()
    window.open_log()
    window.quit_action.trigger()
    assert quits == [True]
    assert not window.isVisible() and not window._child_windows["log"].isVisible()


def _select_rows(window: MainWindow, rows: list[int]) -> list[EndUser]:
    window.table.select_ids([window.model.id_at(r) or 0 for r in rows])
    by_id = {u.id: u for u in USERS}
    return [by_id[window.model.id_at(r) or 0] for r in rows]


def test_ctrl_c_copies_the_selected_rows_as_tab_separated_text_with_a_header(qtbot: QtBot, window: MainWindow) -> None:
    chosen = _select_rows(window, [0, 1, 4])
    QGuiApplication.clipboard().clear()
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() != "", timeout=5000)
    lines = QGuiApplication.clipboard().text().splitlines()
    header = lines[0].split("\t")
    assert header[:2] == ["email", "surveys_disabled"]
    assert "last_surveyed" in header
    assert len(lines) == 1 + len(chosen)
    rows = [dict(zip(header, line.split("\t"))) for line in lines[1:]]
    assert [r["email"] for r in rows] == [u.email for u in chosen]
    assert rows[0]["last_surveyed"].endswith("Z")  # the export's ISO dates, not unix seconds


def test_copy_as_csv_neutralizes_formulas_like_the_export(qtbot: QtBot, window: MainWindow, services: AppServices) -> None:
    first = window.model.id_at(0) or 0
    services.cache.result().set_external_id(first, "=HYPERLINK(\"http://x\")")
    window.table.select_ids([first])
    QGuiApplication.clipboard().clear()
    window.copy_csv_action.trigger()
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() != "", timeout=5000)
    rows = list(csv.DictReader(io.StringIO(QGuiApplication.clipboard().text())))
    assert len(rows) == 1
    assert rows[0]["external_id"] == "'=HYPERLINK(\"http://x\")"
