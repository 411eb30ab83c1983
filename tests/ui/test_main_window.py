"""The main window on a real cache file, driven as a person would: keys, clicks, menus."""

from __future__ import annotations


from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop_app.ui.bulk_actions import BulkKind, BulkPreview, BulkRequest, BulkScope, preview_text
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.services import AppServices

from .conftest import SAMPLE_SIZE, sample_end_users

USERS = sample_end_users()
PRO = [u for u in USERS if u.properties["plan"] == "pro"]


def _type_filter(qtbot: QtBot, win: MainWindow, text: str) -> None:
    win.filter_bar.edit.clear()
    qtbot.keyClicks(win.filter_bar.edit, text)


def _wait_rows(qtbot: QtBot, win: MainWindow, text: str, rows: int) -> None:
    qtbot.waitUntil(
        lambda: win.model.filter_text == text and win.model.complete and win.model.rowCount() == rows, timeout=10_000
    )


def _ids(win: MainWindow) -> list[int]:
    return [win.model.id_at(r) or 0 for r in range(win.model.rowCount())]


def test_typing_a_filter_updates_the_table_and_the_count(qtbot: QtBot, window: MainWindow) -> None:
    _type_filter(qtbot, window, "plan:pro")
    _wait_rows(qtbot, window, "plan:pro", len(PRO))
    assert set(_ids(window)) == {u.id for u in PRO}
    qtbot.waitUntil(lambda: window.filter_bar.count_label.text() == f"{len(PRO):,} of {SAMPLE_SIZE:,} end users")
    window.filter_bar.edit.setFocus()
    qtbot.keyClick(window.filter_bar.edit, Qt.Key.Key_Escape)  # Escape clears the filter
    _wait_rows(qtbot, window, "", SAMPLE_SIZE)


def test_a_parse_error_shows_inline_and_keeps_the_table(qtbot: QtBot, window: MainWindow) -> None:
    _type_filter(qtbot, window, "plan:pro")
    _wait_rows(qtbot, window, "plan:pro", len(PRO))
    qtbot.keyClicks(window.filter_bar.edit, " revenue_amount:=>5")
    qtbot.waitUntil(lambda: window.filter_bar.error is not None, timeout=10_000)
    assert window.filter_bar.error_label.isVisible()
    assert "=>" in window.filter_bar.error_label.text() or ">=" in window.filter_bar.error_label.text()
    assert window.filter_bar.error.position >= len("plan:pro ")
    assert window.model.rowCount() == len(PRO)  # the old results stay
    qtbot.keyClick(window.filter_bar.edit, Qt.Key.Key_Backspace)
    for _ in range(len("revenue_amount:=>")):
        qtbot.keyClick(window.filter_bar.edit, Qt.Key.Key_Backspace)
    qtbot.waitUntil(lambda: window.filter_bar.error is None, timeout=10_000)
    assert not window.filter_bar.error_label.isVisible()


def test_edit_a_property_offline_and_see_it_pending(qtbot: QtBot, window: MainWindow) -> None:
    target = USERS[4]
    window.table.select_ids([target.id])
    qtbot.waitUntil(lambda: window.detail.cached is not None and window.detail.cached.end_user.id == target.id)
    props = window.detail.properties
    row = props.row_of("plan")
    assert row is not None
    props.setData(props.index(row, 1), "enterprise")  # what the delegate does after editing
    qtbot.waitUntil(
        lambda: window.services.cache.result().get(target.id).end_user.properties["plan"] == "enterprise", timeout=10_000
    )
    cached = window.services.cache.result().get(target.id)
    assert any(e.key == "plan" for e in cached.pending)
    qtbot.waitUntil(lambda: "waiting to sync" in (window.detail.banner.text() or ""), timeout=10_000)
    markers = window.model.index(window.model.locate([target.id])[target.id], 0)
    assert "waiting to sync" in window.model.data(markers, Qt.ItemDataRole.ToolTipRole)
    qtbot.waitUntil(lambda: window.undo_action.text() == "&Undo Set plan", timeout=10_000)


def test_invalid_email_shows_the_validation_message(qtbot: QtBot, window: MainWindow) -> None:
    target = USERS[1]
    window.table.select_ids([target.id])
    qtbot.waitUntil(lambda: window.detail.cached is not None and window.detail.cached.end_user.id == target.id)
    edit = window.detail.email_edit
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, "not an email")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.detail.email_error.isVisible(), timeout=10_000)
    assert window.detail.email_error.text().startswith("⚠")
    assert window.services.cache.result().get(target.id).end_user.email == target.email  # nothing written
    assert edit.text() == "not an email"  # kept so it can be fixed
    window.ask_before_closing = False  # closing would ask about that typing (tests/ui/test_detail_unsaved.py)


def test_opted_out_end_user_is_read_only_with_an_explanation(qtbot: QtBot, window: MainWindow) -> None:
    opted_out = USERS[14]  # id 1015: every 15th opted out themself
    window.table.select_ids([opted_out.id])
    qtbot.waitUntil(lambda: window.detail.cached is not None and window.detail.cached.end_user.id == opted_out.id)
    assert not window.detail.surveys_button.isEnabled()
    assert "opted out" in window.detail.surveys_label.text()


def test_bulk_disable_surveys_over_a_filter_with_preview_then_undo_redo(qtbot: QtBot, window: MainWindow) -> None:
    _type_filter(qtbot, window, "plan:pro")
    _wait_rows(qtbot, window, "plan:pro", len(PRO))
    enabled = [u for u in PRO if not u.surveys_disabled]
    opted_out = [u for u in PRO if u.settings.surveys_disabled_by_end_user]
    admin_off = [u for u in PRO if u.surveys_disabled and not u.settings.surveys_disabled_by_end_user]
    previews: list[BulkPreview] = []
    window.bulk.confirm = lambda p: previews.append(p) or True
    window.start_bulk(BulkKind.DISABLE_SURVEYS, matching=True)
    qtbot.waitUntil(lambda: bool(previews), timeout=10_000)
    preview = previews[0]
    assert set(preview.target_ids) == {u.id for u in enabled}
    assert preview.opted_out == len(opted_out) and preview.already == len(admin_off)
    text = preview_text(preview)
    assert text.startswith(f"Disable surveys for {len(enabled):,} end users?")
    assert f"{len(opted_out)} opted out themselves and are unchanged." in text
    cache = window.services.cache.result()
    qtbot.waitUntil(lambda: all(cache.get(u.id).end_user.surveys_disabled for u in enabled), timeout=10_000)
    label = f"Disable surveys ({len(enabled):,})"
    qtbot.waitUntil(lambda: window.undo_action.text() == f"&Undo {label}", timeout=10_000)
    assert window.undo_action.isEnabled()
    # No account, no sync: nothing is ever sent, and the line says so (not "until the next sync").
    assert window.activity.text() == f"Done: {label}. It stays on this computer; you can undo it (Ctrl+Z)."
    assert window.bulk.undo_note() == "The changes stay on this computer, and can be undone."

    window.undo_action.trigger()
    qtbot.waitUntil(lambda: not any(cache.get(u.id).end_user.surveys_disabled for u in enabled), timeout=10_000)
    qtbot.waitUntil(lambda: window.redo_action.text() == f"&Redo {label}", timeout=10_000)
    assert window.redo_action.isEnabled()
    assert window.undo_action.text() == "&Undo" and not window.undo_action.isEnabled()
    window.redo_action.trigger()
    qtbot.waitUntil(lambda: all(cache.get(u.id).end_user.surveys_disabled for u in enabled), timeout=10_000)
    qtbot.waitUntil(lambda: window.undo_action.text() == f"&Undo {label}", timeout=10_000)
    assert window.redo_action.text() == "&Redo" and not window.redo_action.isEnabled()
    # The table shows it too: the surveys column of a changed row reads "Off (admin)".
    surveys_column = [c.key for c in window.model.columns].index("surveys")
    row = window.model.locate([enabled[0].id])[enabled[0].id]
    qtbot.waitUntil(lambda: window.model.data(window.model.index(row, surveys_column)) == "Off (admin)", timeout=10_000)


def test_header_click_sorts(qtbot: QtBot, window: MainWindow) -> None:
    header = window.table.horizontalHeader()
    email = [c.key for c in window.model.columns].index("email")
    first = sorted(u.email for u in USERS)
    qtbot.waitUntil(lambda: window.model.data(window.model.index(0, email)) == first[0], timeout=10_000)
    header.setSortIndicator(email, Qt.SortOrder.DescendingOrder)  # what a header click does
    qtbot.waitUntil(lambda: window.model.data(window.model.index(0, email)) == first[-1], timeout=10_000)
    assert window.model.sort_spec.column == "email" and window.model.sort_spec.descending


def test_selection_is_kept_across_a_refresh(qtbot: QtBot, window: MainWindow) -> None:
    _type_filter(qtbot, window, "surveys:enabled")
    expected = [u for u in USERS if not u.surveys_disabled]
    _wait_rows(qtbot, window, "surveys:enabled", len(expected))
    keep = [window.model.id_at(r) or 0 for r in (3, 4, 10)]
    window.table.select_ids(keep)
    assert window.table.selected_ids() == sorted(keep, key=_ids(window).index)
    # Another end user leaves the result (surveys turned off): the ids change, the model resets.
    leaving = window.model.id_at(0) or 0
    with qtbot.waitSignal(window.model.modelReset, timeout=10_000):
        window.services.cache.result().set_surveys_enabled([leaving], False)
    assert window.model.rowCount() == len(expected) - 1
    assert set(window.table.selected_ids()) == set(keep)
    assert window.table.current_id() == keep[0]


def test_keyboard_find_delete_and_confirm(qtbot: QtBot, window: MainWindow) -> None:
    window.table.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is window.filter_bar.edit
    doomed = [USERS[0].id, USERS[1].id]
    window.table.select_ids(doomed)
    window.table.setFocus()
    asked: list[BulkPreview] = []
    window.bulk.confirm = lambda p: asked.append(p) or True
    qtbot.keyClick(window.table, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: bool(asked), timeout=10_000)
    assert preview_text(asked[0]).startswith("Delete 2 end users?")
    qtbot.waitUntil(lambda: all(window.services.cache.result().get(i).pending_delete for i in doomed), timeout=10_000)


def test_columns_and_window_state_are_remembered(qtbot: QtBot, window: MainWindow, services: AppServices) -> None:
    window.table.set_column_visible("prop:plan", True)
    window.table.set_column_visible("external_id", False)
    header = window.table.horizontalHeader()
    plan = [c.key for c in window.model.columns].index("prop:plan")
    header.resizeSection(plan, 177)
    header.moveSection(header.visualIndex(plan), 1)  # drag the column next to the markers
    window.close()
    again = MainWindow(services)
    qtbot.addWidget(again)
    keys = [c.key for c in again.model.columns]
    assert keys[1] == "prop:plan" and "external_id" not in keys
    assert again.table.horizontalHeader().sectionSize(keys.index("prop:plan")) == 177
    assert QSettings().value("main_window/geometry") is not None
    again.close()


def test_facet_click_writes_the_filter(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.facets.facets.rowCount() > 0, timeout=10_000)
    window._facet_clicked("surveys:disabled")
    assert window.filter_bar.text() == "surveys:disabled"
    disabled = [u for u in USERS if u.surveys_disabled]
    _wait_rows(qtbot, window, "surveys:disabled", len(disabled))
    window._facet_clicked("surveys:enabled")  # the opposite value replaces it
    assert window.filter_bar.text() == "surveys:enabled"


def test_completion_offers_fields_properties_and_values(qtbot: QtBot, window: MainWindow) -> None:
    bar = window.filter_bar
    bar.edit.setFocus()
    qtbot.keyClicks(bar.edit, "pl")
    words = bar.completer.model().stringList()
    assert "plan:" in words and "email:" in words and "is:pending" in words
    bar.edit.clear()
    qtbot.keyClicks(bar.edit, "plan:")
    # The common values of `plan` load in the background, then the list offers them.
    qtbot.waitUntil(lambda: "plan:pro" in bar.completer.model().stringList(), timeout=10_000)
    assert set(bar.completer.model().stringList()) >= {"plan:free", "plan:pro", "plan:team", "plan:enterprise"}
    bar._insert_completion("plan:team")
    assert bar.text() == "plan:team "


def test_ctrl_z_on_the_table_undoes_the_last_edit(qtbot: QtBot, window: MainWindow) -> None:
    target = USERS[7]
    window.table.select_ids([target.id])
    qtbot.waitUntil(lambda: window.detail.cached is not None and window.detail.cached.end_user.id == target.id)
    window.detail._toggle_surveys()
    cache = window.services.cache.result()
    qtbot.waitUntil(lambda: cache.get(target.id).end_user.surveys_disabled, timeout=10_000)
    qtbot.waitUntil(lambda: window.undo_action.isEnabled(), timeout=10_000)
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not cache.get(target.id).end_user.surveys_disabled, timeout=10_000)
    qtbot.waitUntil(lambda: window.redo_action.text() == "&Redo Disable surveys", timeout=10_000)
    assert window.undo_action.text() == "&Undo" and not window.undo_action.isEnabled()
    qtbot.keyClick(window.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: cache.get(target.id).end_user.surveys_disabled, timeout=10_000)
    qtbot.waitUntil(lambda: window.undo_action.text() == "&Undo Disable surveys", timeout=10_000)
    assert window.redo_action.text() == "&Redo" and not window.redo_action.isEnabled()


def test_undo_and_redo_name_each_step_of_a_history(qtbot: QtBot, window: MainWindow) -> None:
    """Names come from the cache's history: a detail edit, then a bulk action over one end
    user (named as a bulk action), undone and redone step by step."""
    first, second = USERS[2], USERS[3]
    window.table.select_ids([first.id])
    qtbot.waitUntil(lambda: window.detail.cached is not None and window.detail.cached.end_user.id == first.id)
    window.detail._set_property("plan", "platinum")
    qtbot.waitUntil(lambda: window.undo_action.text() == "&Undo Set plan", timeout=10_000)
    window.bulk.confirm = lambda _preview: True
    window.bulk.run(BulkRequest(BulkKind.REMOVE_PROPERTY, "plan"), BulkScope(ids=(second.id,)))
    qtbot.waitUntil(lambda: window.undo_action.text() == "&Undo Remove plan (1)", timeout=10_000)
    assert window.redo_action.text() == "&Redo"

    window.undo_action.trigger()
    qtbot.waitUntil(lambda: window.redo_action.text() == "&Redo Remove plan (1)", timeout=10_000)
    assert window.undo_action.text() == "&Undo Set plan"
    window.undo_action.trigger()
    qtbot.waitUntil(lambda: window.redo_action.text() == "&Redo Set plan", timeout=10_000)
    assert window.undo_action.text() == "&Undo" and not window.undo_action.isEnabled()
    window.redo_action.trigger()
    qtbot.waitUntil(lambda: window.redo_action.text() == "&Redo Remove plan (1)", timeout=10_000)
    assert window.undo_action.text() == "&Undo Set plan"
    window.redo_action.trigger()
    qtbot.waitUntil(lambda: window.undo_action.text() == "&Undo Remove plan (1)", timeout=10_000)
    assert window.redo_action.text() == "&Redo" and not window.redo_action.isEnabled()


def test_conflicts_and_log_open_from_the_menus(qtbot: QtBot, window: MainWindow) -> None:
    window.conflicts_action.trigger()
    conflicts = window._child_windows.get("conflicts")
    assert conflicts is not None and conflicts.isVisible()
    window.log_action.trigger()
    log_window = window._child_windows.get("log")
    assert log_window is not None and log_window.isVisible()


def test_saved_filter_applies_from_the_menu(qtbot: QtBot, window: MainWindow) -> None:
    window.filter_bar.saved_model.add("Pro plan", "plan:pro")
    window.filter_bar._fill_saved_menu()
    action = next(a for a in window.filter_bar.saved_menu.actions() if a.text() == "Pro plan")
    action.trigger()
    _wait_rows(qtbot, window, "plan:pro", len(PRO))


def test_the_title_names_the_account_once(qtbot: QtBot, services: AppServices) -> None:
    """The window system adds the application's name: the title itself is the account's."""
    from dataclasses import replace

    win = MainWindow(replace(services, account_label="Demo account"))
    qtbot.addWidget(win)
    assert win.windowTitle() == "Demo account"


def test_a_50000_character_filter_pasted_says_it_is_too_long(qtbot: QtBot, window: MainWindow) -> None:
    """Issue 11: SQLite refuses a LIKE pattern of 50,000 bytes; a pasted wall of text gets the
    filter's own message inline, and the table keeps its rows."""
    QApplication.clipboard().setText("acme" * 12_500)
    window.filter_bar.edit.clear()
    window.filter_bar.edit.setFocus()
    window.filter_bar.edit.paste()
    qtbot.waitUntil(lambda: window.filter_bar.error is not None, timeout=10_000)
    assert "too long" in window.filter_bar.error_label.text()
    assert window.model.rowCount() == SAMPLE_SIZE
