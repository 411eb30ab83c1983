"""Set property in bulk, from the keyboard: Tab reaches Value, an empty value is refused, and
the confirmation names whom it changes with a before → after of the first few."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot

from desktop_app.ui.bulk_actions import BulkKind, BulkPreview, BulkRequest, BulkScope, confirmation_text
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.property_editors import PropertyValueDialog

from .conftest import sample_end_users

USERS = sample_end_users()
PRO = [u for u in USERS if u.properties["plan"] == "pro"]


def _type_plan_tab_value(qtbot: QtBot, dialog: PropertyValueDialog, value: str) -> None:
    """What a person types: the key, Tab, the value, Return, each key to the focused widget."""
    dialog.key_box.setFocus()
    qtbot.keyClicks(dialog.key_box.lineEdit(), "plan")
    qtbot.keyClick(dialog.key_box.lineEdit(), Qt.Key.Key_Tab)
    focused = dialog.focusWidget()
    assert focused is not None
    if value:
        qtbot.keyClicks(focused, value)
    qtbot.keyClick(focused, Qt.Key.Key_Return)


def _when_modal(qtbot: QtBot, act: Callable[[PropertyValueDialog], None]) -> list[bool]:
    """Drive the property dialog the window opens modally, once it is up."""
    done: list[bool] = []

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, PropertyValueDialog) and dialog.isVisible():
            act(dialog)
            done.append(dialog.result() == PropertyValueDialog.DialogCode.Accepted)
            if dialog.isVisible():
                dialog.reject()  # the typing did not accept it: the test fails, it does not hang
        else:
            QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)
    return done


def test_tab_from_property_goes_to_value_and_return_sets_it(qtbot: QtBot) -> None:
    dialog = PropertyValueDialog("Set property", ["plan", "revenue_amount"])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    _type_plan_tab_value(qtbot, dialog, "Enterprise")
    assert isinstance(dialog.value_editor, QLineEdit) and dialog.value_editor.text() == "Enterprise"
    assert dialog.result() == PropertyValueDialog.DialogCode.Accepted
    assert (dialog.result_key, dialog.result_value) == ("plan", "Enterprise")


def test_an_empty_value_is_refused_and_points_to_remove(qtbot: QtBot) -> None:
    dialog = PropertyValueDialog("Set property", ["plan"])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    _type_plan_tab_value(qtbot, dialog, "")
    assert dialog.isVisible() and dialog.result() != PropertyValueDialog.DialogCode.Accepted
    assert dialog.message.isVisible() and "Remove property" in dialog.message.text()
    assert dialog.result_value is None


def test_set_property_on_three_selected_names_them_and_previews_before_after(
    qtbot: QtBot, window: MainWindow
) -> None:
    chosen = [USERS[0], USERS[1], USERS[2]]  # plans team, enterprise, free
    window.table.select_ids([u.id for u in chosen])
    previews: list[BulkPreview] = []
    window.bulk.confirm = lambda p: previews.append(p) or True
    typed = _when_modal(qtbot, lambda d: _type_plan_tab_value(qtbot, d, "Enterprise"))
    window.start_bulk(BulkKind.SET_PROPERTY, matching=False)
    qtbot.waitUntil(lambda: bool(typed), timeout=10_000)
    assert typed == [True]
    qtbot.waitUntil(lambda: bool(previews), timeout=10_000)
    text = confirmation_text(previews[0])
    assert text.startswith("Set plan to “Enterprise” for 3 end users?")
    assert "Which: the 3 end users you selected." in text
    for user in chosen:
        assert f"{user.email}: “{user.properties['plan']}” → “Enterprise”" in text
    assert "more" not in text  # all three are shown
    cache = window.services.cache.result()
    qtbot.waitUntil(lambda: all(cache.get(u.id).end_user.properties["plan"] == "Enterprise" for u in chosen),
                    timeout=10_000)


def test_a_filter_wide_set_shows_five_and_how_many_more(qtbot: QtBot, window: MainWindow) -> None:
    previews: list[BulkPreview] = []
    window.bulk.confirm = lambda p: previews.append(p) or False
    window.bulk.run(BulkRequest(BulkKind.SET_PROPERTY, "plan", "Enterprise"), BulkScope(filter_text="plan:pro"))
    qtbot.waitUntil(lambda: bool(previews), timeout=10_000)
    preview = previews[0]
    assert len(preview.samples) == 5
    first = sorted(PRO, key=lambda u: u.email)[:5]  # the table's order: by email
    assert [s.end_user for s in preview.samples] == [u.email for u in first]
    text = confirmation_text(preview)
    assert f"Which: the {len(PRO)} end users matching the filter “plan:pro” — plan is “pro”." in text
    assert text.endswith(f"and {len(PRO) - 5} more")


def test_set_property_without_a_value_writes_nothing(qtbot: QtBot, window: MainWindow) -> None:
    asked: list[BulkPreview] = []
    failures: list[str] = []
    window.bulk.confirm = lambda p: asked.append(p) or True
    window.bulk.failed.connect(failures.append)
    window.bulk.run(BulkRequest(BulkKind.SET_PROPERTY, "plan", ""), BulkScope(ids=(USERS[0].id,)))
    assert failures and "Remove property" in failures[0] and not asked
    assert window.services.cache.result().get(USERS[0].id).end_user.properties["plan"] == USERS[0].properties["plan"]
