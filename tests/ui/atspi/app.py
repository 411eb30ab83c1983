"""The main window on a real cache file, read over AT-SPI by reader.py (test_atspi.py runs this
under Xvfb and a private D-Bus session).

    app.py CACHE_PATH READER_PATH OUTPUT_PATH

It filters, shows an end user and copies it (so the count, the detail fields and the activity
line hold values), opens the export and sign-in dialogs beside it, runs the reader under the system python while its own event loop answers the
reader's questions, writes the reader's JSON to OUTPUT_PATH and quits. Exit 0 only if the
reader succeeded.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QProcess, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from desktop_app.api.client import WootricClient
from desktop_app.cache.store import Cache
from desktop_app.cache.reading.query import EndUserQuery
from desktop_app.cache.reading.results import SortSpec
from desktop_app.credentials import MemoryOnly
from desktop_app.ui.export_dialog import ExportDialog
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.services import AppServices
from desktop_app.ui.sign_in import SignInDialog
from desktop_app.ui.tasks import TaskRunner
from desktop_app.ui.operations import Operations
from desktop_app.cache.opening import CacheFuture

APP_NAME = "wootric-desk-atspi"
SHOWN_ID = 1005  # a "pro" end user of the test's sample
READER_TIMEOUT_S = 30
TYPED_SECRET = "atspi-client-secret-5f2c"  # the test checks it never reaches the accessibility bus


def main() -> int:
    cache_path, reader_path, output_path = (Path(a) for a in sys.argv[1:4])
    app = QApplication([sys.argv[0]])
    app.setApplicationName(APP_NAME)
    cache = Cache.open(cache_path)
    tasks = TaskRunner()
    future = CacheFuture.of(cache)
    services = AppServices(future, EndUserQuery(cache.engine), None, Operations(tasks, future), None,
                           "AT-SPI test", None)
    window = MainWindow(services)
    window.show()
    reader = QProcess()
    outcome = {"code": 1}

    checks = {
        "the filtered result": lambda: window.model.filter_text == "plan:pro" and window.model.complete
        and window.filter_bar.count_label.text().startswith("75 of"),
        "the end user in the detail panel": lambda: window.detail.cached is not None
        and window.detail.cached.end_user.id == SHOWN_ID,
        "the activity line": lambda: window.activity.text().startswith("Copied"),
        "the export dialog's count": lambda: "…" not in dialogs[0].filter_radio.text(),
    }
    deadline = time.monotonic() + 20

    def wait(name: str, then: Callable[[], None]) -> None:
        if checks[name]():
            then()
        elif time.monotonic() > deadline:
            print(f"gave up waiting for {name}", file=sys.stderr)
            window.close()
            app.exit(1)
        else:
            QTimer.singleShot(50, lambda: wait(name, then))

    def read() -> None:
        reader.finished.connect(finished)
        reader.start("/usr/bin/python3", [str(reader_path), APP_NAME, str(READER_TIMEOUT_S)])

    def finished(code: int, _status: object) -> None:
        output_path.write_bytes(bytes(reader.readAllStandardOutput().data()))
        sys.stderr.write(bytes(reader.readAllStandardError().data()).decode(errors="replace"))
        outcome["code"] = code
        for dialog in dialogs:
            dialog.close()
        window.close()
        app.quit()

    dialogs: list[QWidget] = []

    def open_dialogs() -> None:
        export = ExportDialog(services.query, "plan:pro", SortSpec(), [SHOWN_ID], window, ops=Operations(tasks))
        sign_in = SignInDialog(MemoryOnly("No system keyring (AT-SPI test)."), Operations(tasks), WootricClient,
                               data_dir=cache_path.parent, parent=window)
        sign_in.client_secret.setText(TYPED_SECRET)  # typed, not submitted: nothing is stored or sent
        for dialog in (export, sign_in):
            dialog.setModal(False)
            dialog.show()
            dialogs.append(dialog)
        wait("the export dialog's count", read)

    def copy() -> None:
        window.copy_selected()
        wait("the activity line", open_dialogs)

    def show() -> None:
        window.table.select_ids([SHOWN_ID])
        wait("the end user in the detail panel", copy)

    window.filter_bar.set_text("plan:pro")
    wait("the filtered result", show)
    app.exec()
    tasks.shutdown(10_000)
    cache.close()
    return outcome["code"]


if __name__ == "__main__":
    sys.exit(main())
