"""Export reached from the window: File ▸ Export… (Ctrl+E), the button beside the count, and
"Export these N end users…" on the table's selection, which exports just those rows."""

from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from pytestqt.qtbot import QtBot

from desktop_app.export import ExportResult
from desktop_app.ui.export_dialog import ExportDialog
from desktop_app.ui.main_window import MainWindow

from .conftest import SAMPLE_SIZE, sample_end_users

USERS = sample_end_users()
PRO = [u for u in USERS if u.properties["plan"] == "pro"]


def _dialog(qtbot: QtBot, win: MainWindow) -> ExportDialog:
    qtbot.waitUntil(lambda: win.export.dialog is not None and win.export.dialog.isVisible(), timeout=10_000)
    dialog = win.export.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: "…" not in dialog.filter_radio.text(), timeout=10_000)
    return dialog


def _export(qtbot: QtBot, dialog: ExportDialog, path: Path) -> list[int]:
    dialog.path_edit.setText(str(path))
    with qtbot.waitSignal(dialog.exported, timeout=10_000) as blocker:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    result: ExportResult = blocker.args[0]
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert result.rows == len(rows)
    return [int(row["id"]) for row in rows]


def test_file_menu_has_export_on_ctrl_e_and_no_other_action_takes_it(qtbot: QtBot, window: MainWindow) -> None:
    file_menu = window.menuBar().actions()[0].menu()
    assert window.export_action in file_menu.actions()
    assert window.export_action.text() == "&Export…"
    ctrl_e = QKeySequence("Ctrl+E")
    assert window.export_action.shortcut() == ctrl_e
    others = [a.text() for a in window.findChildren(QAction) if a is not window.export_action and ctrl_e in a.shortcuts()]
    assert others == []
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    dialog = _dialog(qtbot, window)
    assert dialog.filter_radio.isChecked() and dialog.filter_radio.text().replace("&", "") == f"All {SAMPLE_SIZE} end users"
    dialog.reject()
    qtbot.waitUntil(lambda: window.export.dialog is None, timeout=10_000)
    window.activateWindow()  # what the window system does when a dialog closes
    qtbot.waitUntil(window.isActiveWindow, timeout=10_000)
    # From the filter field too: the line edit has no Ctrl+E of its own.
    window.filter_bar.edit.setFocus()
    qtbot.keyClick(window.filter_bar.edit, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    _dialog(qtbot, window)


def test_export_these_n_end_users_exports_just_the_selection(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    chosen = [USERS[10].id, USERS[3].id, USERS[42].id]
    window.table.select_ids(chosen)
    menu = window.table_menu()
    action = next(a for a in menu.actions() if a.text().replace("&", "") == "Export these 3 end users…")
    action.trigger()
    dialog = _dialog(qtbot, window)
    assert dialog.selection_radio.isChecked()
    assert dialog.selection_radio.text().replace("&", "") == "Selection only (3)"
    assert sorted(_export(qtbot, dialog, tmp_path / "three.csv")) == sorted(chosen)


def test_one_selected_row_from_the_menu_exports_that_row(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    window.table.select_ids([USERS[5].id])
    action = next(a for a in window.table_menu().actions() if a.text().replace("&", "") == "Export this end user…")
    action.trigger()
    dialog = _dialog(qtbot, window)
    assert dialog.selection_radio.isChecked()  # asked for on the selection, not "just the current row"
    assert _export(qtbot, dialog, tmp_path / "one.csv") == [USERS[5].id]


def test_the_button_beside_the_count_exports_the_filter_it_names(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    bar = window.filter_bar
    bar.edit.setFocus()
    qtbot.keyClicks(bar.edit, "plan:pro")
    qtbot.waitUntil(lambda: window.model.filter_text == "plan:pro" and window.model.complete
                    and window.model.rowCount() == len(PRO), timeout=10_000)
    assert bar.export_button.isVisible()
    assert bar.export_button.parentWidget() is bar.count_label.parentWidget()
    qtbot.mouseClick(bar.export_button, Qt.MouseButton.LeftButton)
    dialog = _dialog(qtbot, window)
    assert dialog.filter_radio.isChecked()
    assert dialog.filter_radio.text().replace("&", "") == f"All {len(PRO)} matching the filter"
    assert dialog.filter_words.text() == "“plan:pro” — plan is “pro”"
    assert sorted(_export(qtbot, dialog, tmp_path / "pro.csv")) == sorted(u.id for u in PRO)
