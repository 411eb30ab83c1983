"""What a screen reader is told, read in process through QAccessible (works offscreen).

Every interactive or value widget of the main window, the detail panel, the export dialog, the
bulk-action dialogs and the sign-in dialog has an accessible name; a label that shows a value
says what it is and the value, and keeps saying it as the value changes.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLabel, QMessageBox, QToolButton, QWidget
from pytestqt.qtbot import QtBot

from desktop_app.api.client import WootricClient
from desktop_app.cache.reading.results import SortSpec
from desktop_app.credentials import MemoryOnly
from desktop_app.sync import SyncService
from desktop_app.sync.status import SyncState, SyncStatus
from desktop_app.ui.accessible import ValueLabel
from desktop_app.ui.bulk_actions import BulkKind
from desktop_app.ui.export_dialog import ExportDialog
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.property_editors import PropertyValueDialog
from desktop_app.ui.services import AppServices
from desktop_app.ui.sign_in import SignInDialog
from desktop_app.ui.sync_status import SyncStatusBar
from desktop_app.ui.tasks import TaskRunner
from desktop_app.ui.operations import Operations
from desktop_app.cache.opening import CacheFuture

from .accessibility_audit import accessibility_problems, caption_of, describe, spoken_name
from .conftest import SAMPLE_SIZE, sample_end_users

USERS = sample_end_users()
PRO = [u for u in USERS if u.properties["plan"] == "pro"]
WAIT_MS = 10_000


def _label_texts(root: QWidget) -> dict[QLabel, str]:
    return {label: label.text() for label in root.findChildren(QLabel)}


def _uncaptioned_values(before: dict[QLabel, str], root: QWidget) -> list[str]:
    """Labels whose text changed (so they show a value) but that have no name of their own:
    read by their text alone, a screen reader never says what the value is."""
    return [
        f"{describe(label)} shows the value {label.text()!r} with no name saying what it is"
        for label, text in before.items()
        if label.text() != text and label.text() and not label.accessibleName()
    ]


def _show_end_user(qtbot: QtBot, win: MainWindow, index: int) -> None:
    win.table.select_ids([USERS[index].id])
    qtbot.waitUntil(lambda: win.detail.cached is not None and win.detail.cached.end_user.id == USERS[index].id,
                    timeout=WAIT_MS)


def test_every_widget_of_the_main_window_and_detail_panel_is_named(qtbot: QtBot, window: MainWindow) -> None:
    before = _label_texts(window)
    assert spoken_name(window.filter_bar.edit.findChild(QToolButton)) == "Clear the filter"
    # Put a value into every value label a person meets: a filter and its count, an end user
    # in the detail panel, a line of activity, a filter error.
    qtbot.keyClicks(window.filter_bar.edit, "plan:pro")
    qtbot.waitUntil(lambda: window.filter_bar.count_label.text() == f"{len(PRO):,} of {SAMPLE_SIZE:,} end users",
                    timeout=WAIT_MS)
    _show_end_user(qtbot, window, 4)
    window.detail._set_property("plan", "platinum")  # offline: the edit waits, and the banner's marker shows it
    qtbot.waitUntil(lambda: window.detail.banner.text() == "1 edit is waiting to sync.", timeout=WAIT_MS)
    assert spoken_name(window.detail.banner_icon) == "Edits waiting to sync"
    window.copy_action.trigger()
    qtbot.waitUntil(lambda: window.activity.text() == "Copied 1 end users.", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.detail.responses_status.text() != "", timeout=WAIT_MS)
    qtbot.keyClicks(window.filter_bar.edit, " revenue_amount:=>5")
    qtbot.waitUntil(lambda: window.filter_bar.error is not None, timeout=WAIT_MS)

    problems = accessibility_problems([window])
    assert problems == [], "\n".join(problems)
    assert _uncaptioned_values(before, window) == []


def test_value_labels_say_what_they_are_and_their_value_as_it_changes(qtbot: QtBot, window: MainWindow) -> None:
    bar = window.filter_bar
    assert spoken_name(bar.count_label) == f"Matching end users: {SAMPLE_SIZE:,} end users"
    qtbot.keyClicks(bar.edit, "plan:pro")
    qtbot.waitUntil(lambda: spoken_name(bar.count_label)
                    == f"Matching end users: {len(PRO):,} of {SAMPLE_SIZE:,} end users", timeout=WAIT_MS)

    detail = window.detail
    first, second = USERS[4], USERS[9]  # the second is admin-disabled (every 10th end user)
    _show_end_user(qtbot, window, 4)
    assert spoken_name(detail.title) == f"End user: {first.email}"
    assert spoken_name(detail.readonly_labels["id"]) == f"ID: {first.id}"
    assert spoken_name(detail.banner) == "Sync state of this end user: In sync with the last pull."
    assert spoken_name(detail.surveys_label) == "Surveys: On — this end user can be surveyed."
    window.filter_bar.clear()
    qtbot.waitUntil(lambda: window.model.rowCount() == SAMPLE_SIZE and window.model.complete
                    and not window.table.relocating and window.detail.end_user_id == first.id, timeout=WAIT_MS)
    _show_end_user(qtbot, window, 9)
    assert spoken_name(detail.readonly_labels["id"]) == f"ID: {second.id}"  # follows the end user shown
    assert spoken_name(detail.surveys_label) == "Surveys: Off — turned off by an admin (every channel)."
    # A button whose text is the value it acts on is read by that text, its purpose as description.
    assert spoken_name(detail.surveys_button) == "Enable surveys"

    window.copy_action.trigger()
    qtbot.waitUntil(lambda: spoken_name(window.activity) == "Activity: Copied 1 end users.", timeout=WAIT_MS)


def test_a_detail_field_caption_shortcut_reaches_its_field(qtbot: QtBot, window: MainWindow) -> None:
    _show_end_user(qtbot, window, 4)
    window.activateWindow()
    window.filter_bar.edit.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier)  # "E&mail:"
    qtbot.waitUntil(lambda: window.detail.email_edit.hasFocus(), timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key.Key_X, Qt.KeyboardModifier.AltModifier)  # "E&xternal ID:"
    qtbot.waitUntil(lambda: window.detail.external_id_edit.hasFocus(), timeout=WAIT_MS)


def test_the_sync_bar_says_each_value_with_its_caption(qtbot: QtBot, desk_cache: object, tasks: TaskRunner) -> None:
    from desktop_app.api.account import Credentials

    credentials = Credentials("http://127.0.0.1:9", "id", "secret")  # never called: the service is not started
    sync = SyncService(desk_cache, lambda: WootricClient(credentials), interval=3600.0)
    future = CacheFuture.of(desk_cache)
    services = AppServices(future, None, sync, Operations(tasks, future), None, "Test account", None)
    bar = SyncStatusBar(services)
    qtbot.addWidget(bar)
    bar.show()
    before = _label_texts(bar)
    bar.render(SyncStatus(SyncState.IDLE, last_success_at=int(time.time()) - 180, pending=3, conflicts=2))
    view = bar.view
    assert spoken_name(bar.state_label) == f"Sync state: {view.headline}"
    assert spoken_name(bar.last_sync_label) == f"Last successful sync: {view.last_sync}"
    assert spoken_name(bar.pending_label) == f"Edits waiting to be sent: {view.pending}"
    assert view.issues and spoken_name(bar.conflicts_button) == view.issues  # "2 conflicts", not only its purpose
    assert accessibility_problems([bar]) == []
    assert _uncaptioned_values(before, bar) == []
    bar.detach()


def test_the_export_dialog_is_named(qtbot: QtBot, services: AppServices, tasks: TaskRunner, tmp_path: Path) -> None:
    dialog = ExportDialog(services.query, "plan:pro", SortSpec(), [USERS[0].id], ops=Operations(tasks))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: "…" not in dialog.filter_radio.text(), timeout=WAIT_MS)
    before = _label_texts(dialog)
    existing = tmp_path / "end-users.csv"
    existing.write_text("kept\n")
    dialog.path_edit.setText(str(existing))
    dialog.start_export()  # asks first: the file exists, and the status line says so
    assert dialog.status.text()
    assert spoken_name(dialog.status) == f"Export status: {dialog.status.text()}"
    assert accessibility_problems([dialog]) == []
    assert _uncaptioned_values(before, dialog) == []
    assert existing.read_text() == "kept\n"
    dialog.close()


def test_the_sign_in_dialog_is_named(qtbot: QtBot, tasks: TaskRunner, isolated_settings: Path) -> None:
    dialog = SignInDialog(MemoryOnly("No system keyring (test)."), Operations(tasks), lambda c: WootricClient(c),
                          data_dir=isolated_settings)
    qtbot.addWidget(dialog)
    dialog.show()
    before = _label_texts(dialog)
    dialog.region.setCurrentIndex(dialog.region.findData("custom"))
    dialog.base_url.setText("http://insecure.example")
    dialog.sign_in_button.click()  # refused before any request: plain http and no client ID
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=WAIT_MS)
    assert spoken_name(dialog.error_label) == f"Sign-in problem: {dialog.error_label.text()}"
    assert spoken_name(dialog.keyring_notice).startswith("Where your secret is kept: No system keyring found")
    assert accessibility_problems([dialog]) == []
    assert _uncaptioned_values(before, dialog) == []
    dialog.reject()


def test_the_bulk_action_dialogs_are_named(qtbot: QtBot, window: MainWindow) -> None:
    for ask_value in (True, False):  # Set property…, Remove property…
        dialog = PropertyValueDialog("Set property", ["plan", "revenue_amount"], window, ask_value=ask_value)
        qtbot.addWidget(dialog)
        dialog.show()
        before = _label_texts(dialog)
        dialog.key_box.setCurrentText("")
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()  # refused: no key, and says why
        assert dialog.message.text()
        assert accessibility_problems([dialog]) == []
        assert _uncaptioned_values(before, dialog) == []
        dialog.reject()

    # The confirmation the bulk runner asks, read while it is open, then cancelled.
    seen: list[list[str]] = []

    def read_and_cancel() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, read_and_cancel)
            return
        seen.append(accessibility_problems([box]))
        box.reject()

    window.table.select_ids([USERS[0].id, USERS[1].id])
    QTimer.singleShot(20, read_and_cancel)
    with qtbot.waitSignal(window.bulk.cancelled, timeout=WAIT_MS):
        window.start_bulk(BulkKind.DISABLE_SURVEYS, matching=False)
    assert seen == [[]]


def test_a_value_label_names_its_caption_and_its_plain_text(qtbot: QtBot) -> None:
    label = ValueLabel("Export status")
    qtbot.addWidget(label)
    assert spoken_name(label) == "Export status"  # no value yet: the caption alone
    label.setText("<b>Wrote</b> 1,234 rows")
    assert spoken_name(label) == "Export status: Wrote 1,234 rows"
    label.setNum(7)
    assert spoken_name(label) == "Export status: 7"
    label.clear()
    assert spoken_name(label) == "Export status"


def test_the_side_windows_are_named(qtbot: QtBot, window: MainWindow, isolated_settings: Path) -> None:
    from desktop_app.logs import ErrorReport
    from desktop_app.ui.conflicts import ConflictsView
    from desktop_app.ui.errors import ErrorNotice
    from desktop_app.ui.log_viewer import LogViewer
    from desktop_app.ui.saved_filters import ManageSavedFiltersDialog

    log_file = isolated_settings / "desk.log"
    log_file.write_text("2024-05-01 12:00:00 INFO desktop_app.sync: pulled 3 end users\n")
    viewer = LogViewer(log_file)
    notice = ErrorNotice()
    notice.add(ErrorReport("Sync failed", "The service answered 503 twice.", "details", time.time()))
    conflicts = ConflictsView(window.services)
    saved = ManageSavedFiltersDialog(window.filter_bar.saved_model)
    for widget in (viewer, notice, conflicts, saved):
        qtbot.addWidget(widget)
        widget.show()
    window.filter_bar.show_help()
    popup = next(w for w in QApplication.topLevelWidgets() if w.isVisible() and w.parent() is window.filter_bar)
    conflicts.status_label.setText("Took the service's value for plan.")

    problems = accessibility_problems([viewer, notice, conflicts, saved, popup])
    assert problems == [], "\n".join(problems)
    assert spoken_name(notice.message_label) == "Error description: The service answered 503 twice."
    assert spoken_name(conflicts.status_label) == "Result of the last action: Took the service's value for plan."
    assert caption_of(viewer.level) == "Show:"  # on Linux a combo box is named by its buddy caption
    popup.close()
    conflicts.close()


def test_the_list_window_its_report_and_its_question_are_named(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    from desktop_app.lists.wanted import ActionKind
    from desktop_app.ui.list_window import ListWindow

    window.apply_list_action.trigger()
    lists = window._child_windows["lists"]
    assert isinstance(lists, ListWindow)
    qtbot.waitExposed(lists)
    before = _label_texts(lists)
    broken = tmp_path / "legacy.csv"
    broken.write_bytes(b"email\ncaf\xe9@example.com\n")
    lists.open_file(broken)  # the problem line shows, and says what it is
    qtbot.waitUntil(lambda: lists.problem.isVisible(), timeout=WAIT_MS)
    assert spoken_name(lists.problem).startswith("Problem: ⚠ legacy.csv, line 2")
    listed = tmp_path / "list.csv"
    listed.write_text("email;plan\n" + "".join(f"{u.email};gold\n" for u in USERS[:6]) + "x@nowhere.example;gold\n",
                      encoding="utf-8")
    lists.open_file(listed)
    qtbot.waitUntil(lambda: lists.table is not None and lists.match_button.isEnabled(), timeout=WAIT_MS)
    lists.action_box.setCurrentIndex(lists.action_box.findData(ActionKind.SET_PROPERTY))
    lists.key_edit.setText("plan")
    lists.value_edit.setText("gold")
    lists.match()
    qtbot.waitUntil(lambda: lists.matched is not None, timeout=WAIT_MS)
    assert caption_of(lists.column_box) == "Identifying column:"
    assert spoken_name(lists.guess_label).startswith('The app\'s guess: Column 1 "email" holds addresses')
    box, _ok = lists.confirmation_box(lists.matched)
    problems = accessibility_problems([lists, box])
    assert problems == [], "\n".join(problems)
    assert _uncaptioned_values(before, lists) == []
    box.reject()
    lists.close()


def test_the_nps_panel_is_named_and_its_charts_say_what_they_show(qtbot: QtBot, window: MainWindow,
                                                                  desk_cache: object) -> None:
    from desktop_app.domain import SurveyResponse

    now = int(time.time())
    desk_cache.ingest_responses(
        [SurveyResponse(i + 1, u.id, i % 11, now - i * 3600, now - i * 3600) for i, u in enumerate(USERS)], {})
    before = _label_texts(window)
    window.show_nps_action.trigger()
    panel = window.nps
    qtbot.waitUntil(lambda: panel.report is not None and not panel.counting, timeout=WAIT_MS)
    assert spoken_name(panel.score) == f"NPS: {panel.score.text()}"
    assert spoken_name(panel.promoters).startswith("Promoters (9–10): ")
    assert spoken_name(panel.bars) == "Score distribution"
    assert panel.bars.accessibleDescription().startswith("Responses by score, 0 to 10 — 0: ")
    assert panel.line.accessibleDescription().startswith("NPS by month — ")
    problems = accessibility_problems([window])
    assert problems == [], "\n".join(problems)
    assert _uncaptioned_values(before, window) == []
