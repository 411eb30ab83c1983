"""The PySide6 refcount guard keeps a long session alive (see desktop_app/ui/pyside_refcounts)."""

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
    import desktop_app.ui  # the guard runs on import
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
