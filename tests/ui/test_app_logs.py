"""The log viewer and the error notice: redacted, filterable, copyable, non-modal, quiet on cancel."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from desktop_app import logs
from desktop_app.ui.errors import ErrorPresenter
from desktop_app.ui.log_viewer import LogViewer
from desktop_app.ui.tasks import TaskRunner

TOKEN = "ab12" * 16


@pytest.fixture
def log_file(isolated_settings: Path) -> Iterator[Path]:
    setup = logs.setup_logging(isolated_settings / "logs", level=logging.DEBUG)
    yield setup.path
    logs.shutdown_logging()


def _flush() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()


def test_log_viewer_filters_by_level_copies_and_follows(qtbot: QtBot, log_file: Path) -> None:
    logger = logging.getLogger("desktop_app.sync.test")
    logger.debug("debug detail")
    logger.info("pulled 30 end users with access_token=%s", TOKEN)
    logger.warning("rate limited, waiting 12 s")
    logger.error("push failed for end user 42")
    _flush()
    viewer = LogViewer(log_file)
    qtbot.addWidget(viewer)
    viewer.show()
    text = viewer.visible_text()
    assert "pulled 30 end users" in text and TOKEN not in text and "debug detail" not in text
    viewer.level.setCurrentIndex(viewer.level.findData(logging.WARNING))
    lines = viewer.visible_text().splitlines()
    assert len(lines) == 2 and " WARNING " in lines[0] and " ERROR " in lines[1]
    assert lines[0].endswith("rate limited, waiting 12 s")
    viewer.level.setCurrentIndex(viewer.level.findData(logging.DEBUG))
    viewer.search.setText("END USER 42")
    assert viewer.visible_text().endswith("push failed for end user 42")
    viewer.copy()
    assert QGuiApplication.clipboard().text() == viewer.visible_text()

    viewer.search.clear()
    logger.info("a new line while the viewer is open")
    _flush()
    qtbot.waitUntil(lambda: "a new line while the viewer is open" in viewer.visible_text(), timeout=10_000)


def test_errors_from_threads_and_tasks_show_one_redacted_non_modal_notice(
    qtbot: QtBot, tasks: TaskRunner, log_file: Path
) -> None:
    sink = logs.ErrorSink()
    uninstall = sink.install()
    presenter = ErrorPresenter(sink)
    tasks.unhandled_failure.connect(presenter.task_failed)
    try:
        def crash() -> None:
            raise RuntimeError(f"lost the token {TOKEN}")

        worker = threading.Thread(target=crash, name="pull-worker")
        worker.start()
        worker.join(5)
        qtbot.waitUntil(lambda: presenter.notice is not None and presenter.notice.isVisible(), timeout=10_000)
        notice = presenter.notice
        assert notice is not None and not notice.isModal()
        assert notice.title_label.text() == "Something went wrong"
        assert TOKEN not in notice.message_label.text() and "[redacted]" in notice.message_label.text()
        assert notice.details.isHidden()
        notice.details_button.click()
        assert notice.details.isVisible() and "pull-worker" in notice.details.toPlainText()
        assert TOKEN not in notice.details.toPlainText()

        class CancelledError(Exception):
            pass

        def cancelled() -> None:
            raise CancelledError("stopped by the person")

        handle = tasks.run(cancelled, lambda _r: None, name="cancel me")
        qtbot.waitUntil(lambda: handle.done, timeout=10_000)
        tasks.run(lambda: 1 / 0, lambda _r: None, name="divide")
        qtbot.waitUntil(lambda: len(notice.reports) == 2, timeout=10_000)
        qtbot.wait(50)
        assert [r.context for r in notice.reports] == ["pull-worker", "divide"]  # cancel: silent
        assert "1 earlier error" in notice.more_label.text()
        _flush()
        assert TOKEN not in log_file.read_text()
    finally:
        presenter.detach()
        uninstall()


def test_text_that_is_not_text_gets_a_plain_notice_not_a_codec_message(
    qtbot: QtBot, tasks: TaskRunner, log_file: Path
) -> None:
    sink = logs.ErrorSink()
    presenter = ErrorPresenter(sink)
    tasks.unhandled_failure.connect(presenter.task_failed)
    try:
        tasks.run(lambda: "plan \udcff".encode("utf-8"), lambda _r: None, name="save a value")
        qtbot.waitUntil(lambda: presenter.notice is not None and presenter.notice.isVisible(), timeout=10_000)
        notice = presenter.notice
        assert notice is not None
        assert notice.title_label.text() == "A value is not valid text"
        assert "codec" not in notice.message_label.text() and "Nothing was changed" in notice.message_label.text()
        assert "UnicodeEncodeError" in notice.reports[0].details  # the details keep the trace
    finally:
        presenter.detach()
