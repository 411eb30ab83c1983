"""Typing in the detail panel is never thrown away: switching rows or closing asks first."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.services import AppServices
from desktop_app.ui.unsaved_changes import QUESTION_NAME

from .conftest import SAMPLE_SIZE

Button = QMessageBox.StandardButton


@pytest.fixture
def window(qtbot: QtBot, services: AppServices) -> Iterator[MainWindow]:
    win = MainWindow(services)  # not qtbot.addWidget: its teardown close would ask about the typing
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.model.complete and win._total == SAMPLE_SIZE, timeout=10_000)
    qtbot.waitUntil(lambda: win.detail.cached is not None and win.detail.end_user_id == win.model.id_at(0),
                    timeout=10_000)
    yield win
    win.ask_before_closing = False
    win.close()
    win.deleteLater()


class Answer:
    """Clicks `button` in the unsaved-changes question when it comes up; records its text."""

    def __init__(self, button: Button) -> None:
        self.button = button
        self.asked: list[str] = []
        self._timer = QTimer()
        self._timer.timeout.connect(self._poll)
        self._timer.start(20)

    def _poll(self) -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.objectName() == QUESTION_NAME:
            self.asked.append(box.text())
            found = box.button(self.button)
            assert found is not None
            found.click()

    def stop(self) -> None:
        self._timer.stop()


def _type_email(qtbot: QtBot, win: MainWindow, text: str) -> None:
    edit = win.detail.email_edit
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(edit, text)


def _email(services: AppServices, end_user_id: int) -> str:
    row = services.cache.result().get(end_user_id)
    assert row is not None
    return str(row.end_user.email)


def _move_down(qtbot: QtBot, win: MainWindow) -> None:
    win.table.setFocus()
    qtbot.keyClick(win.table, Qt.Key.Key_Down)


def test_cancel_keeps_the_edited_end_user_current_with_the_typing(
        qtbot: QtBot, window: MainWindow, services: AppServices) -> None:
    first, second = window.model.id_at(0), window.model.id_at(1)
    before = _email(services, first)
    _type_email(qtbot, window, "kept.typing@acme.example")
    answer = Answer(Button.Cancel)
    try:
        _move_down(qtbot, window)
        qtbot.waitUntil(lambda: bool(answer.asked), timeout=5_000)
    finally:
        answer.stop()
    assert answer.asked == [f"Save changes to {before}?"]
    qtbot.waitUntil(lambda: window.table.current_id() == first, timeout=5_000)
    qtbot.wait(100)
    assert window.detail.end_user_id == first and window.table.current_id() != second
    assert window.detail.email_edit.text() == "kept.typing@acme.example"
    assert window.detail.unsaved_fields() == ["the email"]
    assert _email(services, first) == before and not services.cache.result().pending_for(first)


def test_save_writes_the_typing_and_moves_on(qtbot: QtBot, window: MainWindow, services: AppServices) -> None:
    first, second = window.model.id_at(0), window.model.id_at(1)
    _type_email(qtbot, window, "saved.on.the.way@acme.example")
    answer = Answer(Button.Save)
    try:
        _move_down(qtbot, window)
        qtbot.waitUntil(lambda: window.detail.cached is not None and window.detail.end_user_id == second,
                        timeout=5_000)
    finally:
        answer.stop()
    assert len(answer.asked) == 1
    qtbot.waitUntil(lambda: _email(services, first) == "saved.on.the.way@acme.example", timeout=5_000)
    assert window.detail.email_edit.text() == _email(services, second)  # the typing stayed with its owner
    assert window.table.current_id() == second


def test_discard_forgets_the_typing_and_moves_on(qtbot: QtBot, window: MainWindow, services: AppServices) -> None:
    first, second = window.model.id_at(0), window.model.id_at(1)
    before = _email(services, first)
    _type_email(qtbot, window, "thrown.away@acme.example")
    answer = Answer(Button.Discard)
    try:
        _move_down(qtbot, window)
        qtbot.waitUntil(lambda: window.detail.cached is not None and window.detail.end_user_id == second,
                        timeout=5_000)
    finally:
        answer.stop()
    assert len(answer.asked) == 1
    qtbot.wait(100)
    assert _email(services, first) == before and not services.cache.result().pending_for(first)
    assert window.detail.email_edit.text() == _email(services, second)


def test_save_of_a_value_the_cache_would_refuse_stays_to_fix_it(
        qtbot: QtBot, window: MainWindow, services: AppServices) -> None:
    first = window.model.id_at(0)
    before = _email(services, first)
    _type_email(qtbot, window, "not an email")
    answer = Answer(Button.Save)
    try:
        _move_down(qtbot, window)
        qtbot.waitUntil(lambda: bool(answer.asked), timeout=5_000)
    finally:
        answer.stop()
    qtbot.waitUntil(lambda: window.table.current_id() == first, timeout=5_000)
    assert window.detail.end_user_id == first
    assert window.detail.email_error.isVisibleTo(window) and "spaces" in window.detail.email_error.text()
    assert window.detail.email_edit.text() == "not an email"
    assert _email(services, first) == before and not services.cache.result().pending_for(first)


def test_no_question_without_unsaved_typing(qtbot: QtBot, window: MainWindow) -> None:
    second = window.model.id_at(1)
    _type_email(qtbot, window, window.detail.cached.end_user.email)  # typed back to what it was
    answer = Answer(Button.Cancel)
    try:
        _move_down(qtbot, window)
        qtbot.waitUntil(lambda: window.detail.cached is not None and window.detail.end_user_id == second,
                        timeout=5_000)
        qtbot.wait(100)
    finally:
        answer.stop()
    assert answer.asked == []


def test_closing_the_window_with_typing_asks_and_cancel_keeps_it_open(
        qtbot: QtBot, window: MainWindow, services: AppServices) -> None:
    first = window.model.id_at(0)
    _type_email(qtbot, window, "saved.at.close@acme.example")
    answer = Answer(Button.Cancel)
    try:
        assert window.close() is False
        window.quit_action.trigger()  # File > Quit asks the same and stays
    finally:
        answer.stop()
    assert len(answer.asked) == 2 and window.isVisible()
    assert window.detail.email_edit.text() == "saved.at.close@acme.example"

    answer = Answer(Button.Save)
    try:
        assert window.close() is True
    finally:
        answer.stop()
    assert len(answer.asked) == 1 and not window.isVisible()
    qtbot.waitUntil(lambda: _email(services, first) == "saved.at.close@acme.example", timeout=5_000)


def test_signing_out_asks_about_the_typing_first(
        qtbot: QtBot, qapp: QApplication, isolated_settings: object) -> None:
    """Signing out (or in to another account) closes the window: its typing is asked about
    before the sign-out's own question; Cancel keeps the session."""
    from pathlib import Path

    from desktop_app.cache.store import Cache
    from desktop_app.credentials import MemoryOnly
    from desktop_app.ui.app import DemoSettings, DeskApp

    assert isinstance(isolated_settings, Path)
    desk = DeskApp(qapp, isolated_settings, MemoryOnly("test"), demo=True,
                   demo_settings=DemoSettings(users=30, rate_limit=None))
    sign_out_asked: list[str] = []

    def confirm_sign_out() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.windowTitle() == "Sign out":
            sign_out_asked.append(box.text())
            found = box.button(Button.Ok)
            assert found is not None
            found.click()

    confirm = QTimer()
    confirm.timeout.connect(confirm_sign_out)
    confirm.start(20)
    try:
        desk.start()
        session = desk.session
        assert session is not None
        win = session.window
        qtbot.waitUntil(lambda: session.sync.status.last_success_at is not None
                        and win.detail.cached is not None, timeout=30_000)
        target = win.detail.end_user_id
        assert target is not None
        _type_email(qtbot, win, "kept.across@acme.example")
        answer = Answer(Button.Cancel)
        try:
            desk.sign_out()
        finally:
            answer.stop()
        assert len(answer.asked) == 1 and not sign_out_asked and desk.session is session
        assert win.detail.email_edit.text() == "kept.across@acme.example"

        path = session.cache.path
        answer = Answer(Button.Save)
        try:
            desk.sign_out()
        finally:
            answer.stop()
        assert len(answer.asked) == 1 and len(sign_out_asked) == 1 and desk.session is None
    finally:
        confirm.stop()
        desk.shutdown()
    with Cache.open(path) as cache:
        row = cache.get(target)
        assert row is not None and row.end_user.email == "kept.across@acme.example"
