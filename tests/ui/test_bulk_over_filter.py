"""Bulk actions over "all end users matching the filter" act on the filter shown: off while it
has an error (the table then still shows an older filter's results), and the confirmation names
that filter in words with its own count."""

from __future__ import annotations


from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop_app.ui.bulk_actions import BulkKind, BulkPreview, confirmation_text
from desktop_app.ui.main_window import MainWindow

from .conftest import sample_end_users

USERS = sample_end_users()
PRO = [u for u in USERS if u.properties["plan"] == "pro"]


def _type(qtbot: QtBot, win: MainWindow, text: str) -> None:
    win.filter_bar.edit.setFocus()
    qtbot.keyClicks(win.filter_bar.edit, text)


def test_a_filter_with_an_error_turns_bulk_actions_over_it_off(qtbot: QtBot, window: MainWindow) -> None:
    _type(qtbot, window, "i")
    shown_for_i = [u for u in USERS if "i" in u.email or "i" in (u.external_id or "")]
    qtbot.waitUntil(lambda: window.model.filter_text == "i" and window.model.complete
                    and window.model.rowCount() == len(shown_for_i), timeout=10_000)
    _type(qtbot, window, "s:pendng")  # the bar now reads `is:pendng`
    qtbot.waitUntil(lambda: window.filter_bar.error is not None, timeout=10_000)
    assert window.model.rowCount() == len(shown_for_i)  # the results of `i` stay on screen

    window._update_bulk_menu_titles()  # what opening End users does
    menu = window.bulk_matching_menu
    assert not menu.isEnabled()
    assert "error" in menu.menuAction().toolTip() and window.filter_bar.error.message in menu.menuAction().toolTip()
    assert f"{len(shown_for_i):,}" not in menu.title()  # no count of a filter no longer shown
    table_menu = window.table_menu()
    matching = next(a.menu() for a in table_menu.actions() if a.menu() and "matching" in a.text())
    assert not matching.isEnabled() and "error" in matching.menuAction().toolTip()

    asked: list[BulkPreview] = []
    window.bulk.confirm = lambda p: asked.append(p) or True
    window.start_bulk(BulkKind.DISABLE_SURVEYS, matching=True)  # a stray trigger still refuses
    qtbot.wait(300)
    assert not asked
    assert "error" in window.activity.text()
    assert not any(window.services.cache.result().get(u.id).end_user.surveys_disabled
                   for u in USERS if not u.surveys_disabled)


def test_the_confirmation_names_the_filter_in_words_with_its_count(qtbot: QtBot, window: MainWindow) -> None:
    _type(qtbot, window, "plan:pro")
    qtbot.waitUntil(lambda: window.model.filter_text == "plan:pro" and window.model.complete
                    and window.model.rowCount() == len(PRO), timeout=10_000)
    window._update_bulk_menu_titles()
    assert window.bulk_matching_menu.isEnabled()
    assert window.bulk_matching_menu.title().endswith(f"({len(PRO):,})")
    asked: list[BulkPreview] = []
    window.bulk.confirm = lambda p: asked.append(p) or False
    window.start_bulk(BulkKind.DISABLE_SURVEYS, matching=True)
    qtbot.waitUntil(lambda: bool(asked), timeout=10_000)
    preview = asked[0]
    assert preview.scope.filter_text == "plan:pro" and preview.scope_size == len(PRO)
    text = confirmation_text(preview)
    assert f"Which: the {len(PRO)} end users matching the filter “plan:pro” — plan is “pro”." in text
    enabled = sorted((u for u in PRO if not u.surveys_disabled), key=lambda u: u.email)
    assert f"{enabled[0].email}: surveys on → surveys off (admin)" in text


def test_the_confirmation_shows_typed_markup_as_text(qtbot: QtBot, window: MainWindow) -> None:
    from PySide6.QtWidgets import QLabel

    from desktop_app.ui.bulk_actions import BulkRequest, BulkScope, compute_preview

    request = BulkRequest(BulkKind.SET_PROPERTY, "plan", "<b>gold</b>")
    preview = compute_preview(window.services.query, request, BulkScope(ids=(USERS[0].id,)), window.model.sort_spec)
    box, _ok = window.bulk.confirmation_box(preview)
    qtbot.addWidget(box)
    label = box.findChild(QLabel, "qt_msgbox_label")
    assert label is not None and "<b>gold</b>" in label.text()
    assert label.textFormat() == Qt.TextFormat.PlainText  # shown as typed, not as bold "gold"
