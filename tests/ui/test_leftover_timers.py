"""tests/conftest.py fails a test that leaves a QTimer active or a QThread running."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRATCH_TESTS = textwrap.dedent(
    """
    from PySide6.QtCore import QThread, QTimer
    from PySide6.QtWidgets import QWidget

    kept = []

    def test_a_timer_left_running(qapp):
        timer = QTimer()
        timer.start(60_000)
        kept.append(timer)

    def test_a_thread_left_running(qapp):
        class Waiting(QThread):
            def run(self):
                self.exec()
        thread = Waiting()
        thread.start()
        kept.append(thread)

    def test_a_timer_stopped_in_time(qapp):
        timer = QTimer()
        timer.start(60_000)
        timer.stop()
        kept.append(timer)

    def test_a_timer_deleted_with_its_widget(qtbot):
        widget = QWidget()
        qtbot.addWidget(widget)
        timer = QTimer(widget)
        timer.start(60_000)
    """
)


def test_a_test_that_leaves_a_timer_or_thread_running_fails(tmp_path: Path) -> None:
    shutil.copy(ROOT / "tests" / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_scratch.py").write_text(SCRATCH_TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\nqt_api = pyside6\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(tmp_path / "pytest.ini"),
         str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    out = result.stdout
    assert "ERROR test_scratch.py::test_a_timer_left_running" in out, out[-3000:]
    assert "ERROR test_scratch.py::test_a_thread_left_running" in out, out[-3000:]
    assert "test_scratch.py:9 is still active" in out, out[-3000:]
    assert "test_scratch.py:17 was still running" in out, out[-3000:]
    assert "4 passed, 2 errors" in out, out[-3000:]
