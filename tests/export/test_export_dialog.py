"""The export dialog on real widgets, offscreen: options, background run, progress, cancel, errors."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QSettings, QStandardPaths, Qt
from pytestqt.qtbot import QtBot

from desktop_app.cache.reading.query import EndUserQuery, SortSpec
from desktop_app.export import ALL_PROPERTIES, ExportResult
from desktop_app.export.csv_export import BATCH_SIZE
from desktop_app.ui.export_dialog import ExportDialog
from desktop_app.ui.tasks import TaskRunner
from desktop_app.ui.operations import Operations
from nasty_end_users import NASTY_USERS, SeedUser

WAIT_MS = 10_000


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qapp: object) -> Iterator[None]:
    monkeypatch.setenv("WOOTRIC_DESK_HOME", str(tmp_path / "home"))
    QStandardPaths.setTestModeEnabled(True)
    QCoreApplication.setOrganizationName("wootric-desk-tests")
    QCoreApplication.setApplicationName(f"export-test-{tmp_path.name}")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qs"))
    yield


@pytest.fixture
def tasks(qapp: object) -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    assert runner.shutdown(WAIT_MS), "background tasks still running after the test"
    runner.deleteLater()


@pytest.fixture
def nasty(cache_factory: Callable[..., EndUserQuery]) -> EndUserQuery:
    return cache_factory(NASTY_USERS)


def open_dialog(qtbot: QtBot, query: Any, tasks: TaskRunner, selected: Sequence[int] = (),
                filter_text: str = "") -> ExportDialog:
    dialog = ExportDialog(query, filter_text, SortSpec(), selected, ops=Operations(tasks))
    qtbot.addWidget(dialog)
    dialog.show()
    # Both background loads (count and property keys) have landed.
    qtbot.waitUntil(lambda: "…" not in dialog.filter_radio.text()
                    and "loading" not in dialog.properties_item.text(0), timeout=WAIT_MS)
    return dialog


def rows_of(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))


def run_export(qtbot: QtBot, dialog: ExportDialog) -> ExportResult:
    with qtbot.waitSignal(dialog.exported, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def test_defaults_export_everything_the_filter_shows(
    qtbot: QtBot, nasty: EndUserQuery, tasks: TaskRunner, tmp_path: Path
) -> None:
    dialog = open_dialog(qtbot, nasty, tasks, selected=[4])
    assert dialog.filter_radio.text().replace("&", "") == f"All {len(NASTY_USERS)} end users"
    assert dialog.filter_radio.isChecked()  # one selected row is just the current row
    assert dialog.selection_radio.text().replace("&", "") == "Selection only (1)"
    keys = {u for user in NASTY_USERS for u in user.properties}
    assert dialog.properties_item.childCount() == len(keys)
    assert dialog.chosen_columns()[-1] == ALL_PROPERTIES
    target = tmp_path / "all.csv"
    dialog.path_edit.setText(str(target))
    result = run_export(qtbot, dialog)
    rows = rows_of(target)
    assert result.rows == len(NASTY_USERS) == len(rows) - 1
    assert rows[0][:3] == ["id", "email", "external_id"]
    assert "prop:plan" in rows[0]
    assert "Exported 9 end users" in dialog.status.text()
    assert dialog.progress.value() == dialog.progress.maximum()
    assert not dialog.running and dialog.export_button.isEnabled()


def test_selection_columns_and_format_are_honoured(
    qtbot: QtBot, nasty: EndUserQuery, tasks: TaskRunner, tmp_path: Path
) -> None:
    dialog = open_dialog(qtbot, nasty, tasks, selected=[5, 1])
    assert dialog.selection_radio.isChecked()
    # Only id and email among the fields, only "plan" among the properties.
    for i in range(dialog.fields_item.childCount()):
        item = dialog.fields_item.child(i)
        keep = item.data(0, Qt.ItemDataRole.UserRole) in {"id", "email", "created_at"}
        item.setCheckState(0, Qt.CheckState.Checked if keep else Qt.CheckState.Unchecked)
    for i in range(dialog.properties_item.childCount()):
        item = dialog.properties_item.child(i)
        keep = item.data(0, Qt.ItemDataRole.UserRole) in {"prop:plan", "prop:formula"}
        item.setCheckState(0, Qt.CheckState.Checked if keep else Qt.CheckState.Unchecked)
    dialog.unix_radio.setChecked(True)
    dialog.bom_check.setChecked(True)
    dialog.neutralize_check.setChecked(False)
    target = tmp_path / "sel.csv"
    dialog.path_edit.setText(str(target))
    run_export(qtbot, dialog)
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))
    assert rows[0] == ["id", "email", "created_at", "prop:formula", "prop:plan"]
    by_id = {r[0]: r for r in rows[1:]}
    assert set(by_id) == {"1", "5"}
    assert by_id["5"][3] == "=SUM(A1:A2)"  # neutralization off, as asked
    assert by_id["1"][2] == "1714564800"
    # The choices are remembered for next time.
    again = open_dialog(qtbot, nasty, tasks)
    assert again.unix_radio.isChecked() and again.bom_check.isChecked()
    assert not again.neutralize_check.isChecked()
    assert Path(again.path_edit.text()).parent == tmp_path


def test_unchecking_everything_disables_export(qtbot: QtBot, nasty: EndUserQuery, tasks: TaskRunner) -> None:
    dialog = open_dialog(qtbot, nasty, tasks)
    assert dialog.export_button.isEnabled()
    dialog.fields_item.setCheckState(0, Qt.CheckState.Unchecked)
    dialog.properties_item.setCheckState(0, Qt.CheckState.Unchecked)
    assert dialog.chosen_columns() == []
    assert not dialog.export_button.isEnabled()
    dialog.properties_item.child(0).setCheckState(0, Qt.CheckState.Checked)
    assert dialog.export_button.isEnabled()
    dialog.path_edit.setText("  ")
    assert not dialog.export_button.isEnabled()


def test_an_existing_file_needs_a_second_click(
    qtbot: QtBot, nasty: EndUserQuery, tasks: TaskRunner, tmp_path: Path
) -> None:
    target = tmp_path / "exists.csv"
    target.write_bytes(b"keep me")
    dialog = open_dialog(qtbot, nasty, tasks)
    dialog.path_edit.setText(str(target))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert "already exists" in dialog.status.text()
    assert dialog.export_button.text().replace("&", "") == "Replace"
    assert target.read_bytes() == b"keep me" and not dialog.running
    run_export(qtbot, dialog)
    assert rows_of(target)[0][0] == "id"


def test_a_failure_is_reported_in_words(
    qtbot: QtBot, nasty: EndUserQuery, tasks: TaskRunner, tmp_path: Path
) -> None:
    dialog = open_dialog(qtbot, nasty, tasks)
    dialog.path_edit.setText(str(tmp_path / "missing-folder" / "x.csv"))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running and "does not exist" in dialog.status.text(),
                    timeout=WAIT_MS)
    assert dialog.status.font().bold()
    assert dialog.isVisible()


class GatedQuery:
    """The real query, but the row stream waits at the second batch until the test opens it."""

    def __init__(self, query: EndUserQuery) -> None:
        self._query = query
        self.gate = threading.Event()
        self.waiting = threading.Event()

    def count(self, text: str) -> int:
        return self._query.count(text)

    def property_keys(self, exhaustive: bool = False) -> list[str]:
        return self._query.property_keys(exhaustive)

    def ids(self, text: str, sort: SortSpec) -> Sequence[int]:
        return self._query.ids(text, sort)

    def iter_tuples(self, *args: Any, **kwargs: Any) -> Iterator[list[Any]]:
        for n, batch in enumerate(self._query.iter_tuples(*args, **kwargs)):
            if n == 1:
                self.waiting.set()
                assert self.gate.wait(WAIT_MS), "the test never opened the gate"
            yield batch


@pytest.fixture
def gated(cache_factory: Callable[..., EndUserQuery]) -> Iterator[GatedQuery]:
    users = [SeedUser(i, f"u{i:05d}@example.com", properties={"plan": "pro"}) for i in range(1, 3 * BATCH_SIZE + 1)]
    query = GatedQuery(cache_factory(users))
    yield query
    query.gate.set()  # never leave a worker parked, even when the test failed


@pytest.mark.parametrize("how", ["cancel button", "closing the window"])
def test_cancel_mid_way_leaves_the_old_file(
    qtbot: QtBot, gated: GatedQuery, tasks: TaskRunner, tmp_path: Path, how: str
) -> None:
    target = tmp_path / "people.csv"
    target.write_bytes(b"old export")
    dialog = open_dialog(qtbot, gated, tasks)
    dialog.path_edit.setText(str(target))
    # Fixed columns: no property scan first, so the second batch is the one that waits.
    dialog.properties_item.setCheckState(0, Qt.CheckState.Unchecked)
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)  # "already exists"
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)  # replace
    assert dialog.running
    qtbot.waitUntil(lambda: dialog.progress.value() == BATCH_SIZE, timeout=WAIT_MS)
    assert gated.waiting.wait(WAIT_MS)
    assert dialog.close_button.text() == "Cancel"
    assert not dialog.path_edit.isEnabled() and not dialog.export_button.isEnabled()
    if how == "cancel button":
        qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    else:
        dialog.close()
    assert dialog.isVisible(), "the dialog waits for the worker before it closes"
    gated.gate.set()
    qtbot.waitUntil(lambda: not dialog.running, timeout=WAIT_MS)
    assert "cancelled" in dialog.status.text()
    assert not dialog.isVisible()  # the close asked for while running happens now
    assert target.read_bytes() == b"old export"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_screenshot(qtbot: QtBot, nasty: EndUserQuery, tasks: TaskRunner, tmp_path: Path) -> None:
    dialog = open_dialog(qtbot, nasty, tasks, selected=[1, 2, 3])
    dialog.path_edit.setText(str(tmp_path / "shot.csv"))
    run_export(qtbot, dialog)
    image = dialog.grab().toImage()
    shot = tmp_path / "export-dialog.png"
    assert image.save(str(shot))
    assert image.width() >= 400 and image.height() >= 400
    # Not a blank render: many distinct colours across the picture.
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 5
