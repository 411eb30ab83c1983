"""The "Work from a list" window over a real cache file: real list files written to tmp_path
(LibreOffice's `;` CSV with a BOM, Excel's UTF-16 text), the report, the preview, applying as
one undo step of the main window, keeping the list as a filter."""

from __future__ import annotations

import csv
from pathlib import Path

from pytestqt.qtbot import QtBot

from desktop_app.lists.wanted import ActionKind
from desktop_app.ui.list_window import ListWindow, MatchedList, confirmation_texts
from desktop_app.ui.main_window import MainWindow

from .conftest import sample_end_users

USERS = {u.id: u for u in sample_end_users()}
WAIT_MS = 10_000


def _email(i: int) -> str:
    return USERS[1000 + i].email or ""


def _open(qtbot: QtBot, window: MainWindow) -> ListWindow:
    window.apply_list_action.trigger()
    lists = window._child_windows["lists"]
    assert isinstance(lists, ListWindow)
    qtbot.waitExposed(lists)
    return lists


def _read(qtbot: QtBot, lists: ListWindow, path: Path) -> None:
    lists.open_file(path)
    qtbot.waitUntil(lambda: lists.table is not None and lists.match_button.isEnabled(), timeout=WAIT_MS)


def _match(qtbot: QtBot, lists: ListWindow, action: ActionKind) -> MatchedList:
    lists.matched = None
    lists.action_box.setCurrentIndex(lists.action_box.findData(action))
    lists.match()
    qtbot.waitUntil(lambda: lists.matched is not None, timeout=WAIT_MS)
    assert lists.matched is not None
    return lists.matched


def _surveys_disabled(window: MainWindow, ids: list[int]) -> list[bool]:
    rows = window.services.query.rows_by_ids(ids)
    return [bool(rows[i].surveys_disabled) for i in ids]


def _group_titles(lists: ListWindow) -> list[str]:
    return [lists.groups.item(i).text() for i in range(lists.groups.count())]


def test_a_libreoffice_list_is_matched_previewed_applied_and_undone_in_the_main_window(
    qtbot: QtBot, window: MainWindow, tmp_path: Path,
) -> None:
    listed = tmp_path / "support optouts.csv"
    rows = ["Name;E-mail"]
    rows += [f"P{i};  {_email(i).upper()} " for i in (1, 2, 4, 5)]  # case and spaces differ
    rows += [f"Admin off;{_email(10)}", f"Opted out;{_email(15)}"]  # surveys off already
    rows += ["Stranger;nobody@nowhere.example", f"Again;{_email(1)}", "Blank;"]
    listed.write_bytes(("\n".join(rows) + "\n").encode("utf-8-sig"))  # LibreOffice's "UTF-8 with BOM"
    lists = _open(qtbot, window)
    _read(qtbot, lists, listed)
    assert lists.source_label.text() == "support optouts.csv: 9 rows, semicolons, utf-8-sig"
    assert lists.column_box.currentText() == 'Column 2 "E-mail"'
    assert lists.guess_label.text() == 'Column 2 "E-mail" holds addresses in 8 of 9 rows.'
    assert lists.kind_box.currentText() == "Email addresses"

    matched = _match(qtbot, lists, ActionKind.DISABLE_SURVEYS)
    titles = _group_titles(lists)
    assert titles[:2] == ["Matched: will change (4)", "Already as wanted (2)"]
    assert "Not in the cache (1)" in titles and "Duplicates (counted once) (1)" in titles
    assert lists.group_model.rowCount() == 4
    lists.groups.setCurrentRow(titles.index("Not in the cache (1)"))
    assert [lists.group_model.text(0, c) for c in range(2)] == ["8", "nobody@nowhere.example"]  # its line
    # The preview: every person the action reaches, before → after, and which cells change nothing.
    cells = lists.preview_model.rows
    assert lists.preview_model.muted == [row[4] == "no change" for row in cells]
    assert cells[0] == [_email(1), "surveys", "surveys on", "surveys off", "changes"]
    assert [_email(10), "surveys", "surveys off", "surveys off", "no change"] in cells
    assert lists.tabs.tabText(1) == "Preview (6)"
    exported = tmp_path / "not-in-cache.csv"
    lists.export_group(exported)
    qtbot.waitUntil(lambda: exported.exists(), timeout=WAIT_MS)
    assert list(csv.reader(exported.open(encoding="utf-8"))) == [["row", "identifier"], ["7", "nobody@nowhere.example"]]

    title, question, details = confirmation_texts(matched, "You can undo.")
    assert title == "Disable surveys (4)"
    assert question == "Disable surveys for 4 end users? 2 already as wanted and unchanged."
    assert f"{_email(1)}: surveys surveys on → surveys off" in details and details.endswith("You can undo.")
    asked: list[MatchedList] = []
    lists.confirm = lambda m: asked.append(m) or True
    lists.apply()
    changed = [1001, 1002, 1004, 1005]
    qtbot.waitUntil(lambda: window.undo_action.text() == "&Undo Disable surveys (4)", timeout=WAIT_MS)
    assert asked == [matched]
    assert _surveys_disabled(window, changed) == [True] * 4
    assert window.activity.text().startswith("Done: Disable surveys (4).")
    assert not lists.apply_button.isEnabled()  # the report is of the cache before: match again

    window.undo_action.trigger()
    qtbot.waitUntil(lambda: _surveys_disabled(window, changed) == [False] * 4, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.undo_action.text() == "&Undo", timeout=WAIT_MS)


def test_a_utf16_enable_list_shows_the_self_opted_out_as_refused_and_is_kept_as_a_filter(
    qtbot: QtBot, window: MainWindow, tmp_path: Path,
) -> None:
    listed = tmp_path / "enable.txt"
    text = "email\tplan\n" + "".join(f"{_email(i)}\tx\n" for i in (10, 15, 20, 30))  # 15 and 30 opted out
    listed.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))  # Excel's "Unicode Text"
    lists = _open(qtbot, window)
    _read(qtbot, lists, listed)
    assert lists.source_label.text() == "enable.txt: 4 rows, tabs, utf-16-le"
    _match(qtbot, lists, ActionKind.ENABLE_SURVEYS)
    titles = _group_titles(lists)
    assert titles[:3] == ["Matched: will change (2)", "Already as wanted (0)", "Refused (2)"]
    lists.groups.setCurrentRow(2)
    header = lists.group_model.header
    reason = [lists.group_model.text(r, header.index("reason")) for r in range(2)]
    assert reason == ["opted out of surveys themselves: only they can opt back in"] * 2

    # Another action makes the report stale: nothing can be applied from it
    lists.action_box.setCurrentIndex(lists.action_box.findData(ActionKind.ERASE))
    assert lists.matched is None and not lists.apply_button.isEnabled() and lists.groups.count() == 0
    assert lists.status.text() == "The column or the action changed: Match again before applying."
    _match(qtbot, lists, ActionKind.ENABLE_SURVEYS)
    lists.ask_list_name = lambda default: default.replace("enable.txt", "enable list")
    lists.show_in_table()
    qtbot.waitUntil(lambda: window.filter_bar.text().startswith('list:"enable list '), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.model.complete and window.model.rowCount() == 4, timeout=WAIT_MS)
    # The filter bar completes kept lists' names after `list:`
    qtbot.waitUntil(lambda: bool(window.filter_bar._list_names), timeout=WAIT_MS)
    assert window.filter_bar._vocabulary("list:") == [window.filter_bar.text().strip()]


def test_a_file_that_cannot_be_read_is_said_in_the_window_and_nothing_is_written(
    qtbot: QtBot, window: MainWindow, tmp_path: Path,
) -> None:
    legacy = tmp_path / "legacy.csv"
    legacy.write_bytes(b"email\nJos\xe9@example.com\n")  # Latin-1
    lists = _open(qtbot, window)
    lists.open_file(legacy)
    qtbot.waitUntil(lambda: lists.problem.isVisible(), timeout=WAIT_MS)
    assert lists.problem.text().startswith("⚠ legacy.csv, line 2: not UTF-8 text (byte 0xE9)")
    assert lists.table is None and not lists.apply_button.isEnabled()
    assert window.services.query.count("is:pending") == 0

    # pasted text: blank lines and stray spaces, set a property the list refuses to type
    lists.paste_edit.setPlainText(f"\n  {_email(3)} \n\n{_email(6)};{_email(9)}\n")
    lists.read_paste()
    qtbot.waitUntil(lambda: lists.table is not None, timeout=WAIT_MS)
    assert lists.source_label.text() == "the pasted text: 3 rows, one column, text"
    lists.action_box.setCurrentIndex(lists.action_box.findData(ActionKind.SET_PROPERTY))
    lists.key_edit.setText("seats_amount")
    lists.value_edit.setText("ten")
    lists.match()
    assert lists.problem.isVisible() and "seats_amount" in lists.problem.text()
    assert lists.matched is None


def test_external_ids_from_a_column_are_one_undo_step_named_for_the_list(
    qtbot: QtBot, window: MainWindow, tmp_path: Path,
) -> None:
    listed = tmp_path / "crm.csv"
    listed.write_text(f"email,crm_id\n{_email(2)},CRM-2\n{_email(4)},CRM-4\n{_email(6)},\n", encoding="utf-8")
    lists = _open(qtbot, window)
    _read(qtbot, lists, listed)
    lists.key_edit.setText("crm_id")
    matched = _match(qtbot, lists, ActionKind.SET_EXTERNAL_ID)
    assert [m.id for m in matched.report.matched] == [1002, 1004]  # a blank cell leaves its person be
    assert lists.group_model.header[:5] == ["line", "identifier", "id", "external_id now", "external_id wanted"]
    lists.confirm = lambda m: True
    lists.apply()
    qtbot.waitUntil(lambda: window.undo_action.text() == "&Undo Set external ids (2)", timeout=WAIT_MS)
    rows = window.services.query.rows_by_ids([1002, 1004])
    assert [rows[i].external_id for i in (1002, 1004)] == ["CRM-2", "CRM-4"]


def test_each_persons_own_values_are_previewed_cell_by_cell_and_applied_as_one_step(
    qtbot: QtBot, window: MainWindow, tmp_path: Path,
) -> None:
    listed = tmp_path / "plans.csv"
    plan_of_1 = USERS[1001].properties["plan"]  # unchanged: the preview says so
    listed.write_text(f"email,plan,revenue_amount\n{_email(1)},{plan_of_1},7\n{_email(2)},gold,\n", encoding="utf-8")
    lists = _open(qtbot, window)
    _read(qtbot, lists, listed)
    _match(qtbot, lists, ActionKind.SET_COLUMNS)
    assert lists.preview_model.rows == [
        [_email(1), "plan", str(plan_of_1), str(plan_of_1), "no change"],
        [_email(1), "revenue_amount", str(USERS[1001].properties["revenue_amount"]), "7", "changes"],
        [_email(2), "plan", str(USERS[1002].properties["plan"]), "gold", "changes"],
    ]
    assert lists.preview_model.muted == [True, False, False]
    lists.confirm = lambda m: True
    lists.apply()
    qtbot.waitUntil(lambda: window.undo_action.text() == "&Undo Set plan, revenue_amount (2)", timeout=WAIT_MS)
    rows = window.services.query.rows_by_ids([1001, 1002])
    assert rows[1001].properties["revenue_amount"] == 7 and rows[1002].properties["plan"] == "gold"
    window.undo_action.trigger()
    qtbot.waitUntil(lambda: window.services.query.rows_by_ids([1002])[1002].properties["plan"]
                    == USERS[1002].properties["plan"], timeout=WAIT_MS)
