"""A long session on the locked PySide6 keeps its references to None and True.

PySide6 6.12.0 drops one on every void Qt call, emit and None-returning `data()` (PYSIDE-3474);
on Python 3.11 the interpreter aborts after a few thousand calls ("deallocating None").
pyproject keeps 3.11 below 6.12; this test is what judges a newer release before the cap goes.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Far more void calls, emits and None-returning data() calls than None/True have references.
SESSION = textwrap.dedent(
    """
    import sys
    import desktop_app.ui
    from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, Signal
    from PySide6.QtWidgets import QApplication, QLabel

    class Model(QAbstractListModel):
        def rowCount(self, parent=QModelIndex()):
            return 1
        def data(self, index, role=0):
            return None

    class Emitter(QObject):
        ping = Signal()

    app = QApplication([])
    label, emitter, model = QLabel(), Emitter(), Model()
    index = model.index(0, 0)
    start = sys.getrefcount(None)
    for _ in range(80_000):
        label.setText("x")
        emitter.ping.emit()
        index.data(7)
    print("ok", start - sys.getrefcount(None))
    """
)


def test_a_long_session_does_not_run_out_of_references_to_none() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SESSION],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("ok")
