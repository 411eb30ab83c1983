"""The log viewer: the tail of the app's (already redacted) log file, filtered by level, copyable."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QFileSystemWatcher, QSettings, Qt, QTimer, Slot
from PySide6.QtGui import QCloseEvent, QFontDatabase, QGuiApplication, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.logs import LOG_FILE, LogEntry, current_log_file, log_dir, read_log_tail
from desktop_app.ui.accessible import ValueLabel, name_clear_button

_LEVELS: tuple[tuple[str, int], ...] = (
    ("Everything", logging.DEBUG),
    ("Information and worse", logging.INFO),
    ("Warnings and errors", logging.WARNING),
    ("Errors only", logging.ERROR),
)
_MAX_BYTES = 512_000  # the tail we read: a few thousand records, a few milliseconds


class LogViewer(QWidget):
    """A window on the log file. Every line passes the redactor again before it is shown."""

    def __init__(self, path: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("LogViewer")
        self.setWindowTitle(self.tr("Log"))  # the window system adds the app's name
        self.setAccessibleName(self.tr("Log viewer"))
        self._path = path or current_log_file() or (log_dir() / LOG_FILE)
        self._entries: list[LogEntry] = []

        self.level = QComboBox(self)
        self.level.setAccessibleName(self.tr("Minimum level"))
        for label, level in _LEVELS:
            self.level.addItem(self.tr(label), level)
        self.level.setCurrentIndex(1)
        self.level.currentIndexChanged.connect(self._render)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(self.tr("Find in log…"))
        self.search.setAccessibleName(self.tr("Only lines containing"))
        self.search.setClearButtonEnabled(True)
        name_clear_button(self.search, self.tr("Clear the search"))
        self.search.textChanged.connect(self._render)
        self.follow = QCheckBox(self.tr("&Follow"), self)
        self.follow.setChecked(True)
        self.follow.setToolTip(self.tr("Keep showing new lines as they are written"))
        self.copy_button = QPushButton(self.tr("&Copy"), self)
        self.copy_button.setAccessibleName(self.tr("Copy the shown lines"))
        self.copy_button.clicked.connect(self.copy)
        self.refresh_button = QPushButton(self.tr("&Reload"), self)
        self.refresh_button.clicked.connect(self.reload)

        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setAccessibleName(self.tr("Log lines"))
        self.location = ValueLabel(self.tr("Log file"), self)
        self.location.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        bar = QHBoxLayout()
        show = QLabel(self.tr("&Show:"), self)
        show.setBuddy(self.level)
        bar.addWidget(show)
        bar.addWidget(self.level)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.follow)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.location)
        QShortcut(QKeySequence.StandardKey.Refresh, self, self.reload)
        QShortcut(QKeySequence.StandardKey.Find, self, self.search.setFocus)

        # The watcher notices writes; the timer coalesces bursts (a sync logs many lines).
        self._reload_soon = QTimer(self)
        self._reload_soon.setSingleShot(True)
        self._reload_soon.setInterval(300)
        self._reload_soon.timeout.connect(self._reload_if_following)
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(lambda _p: self._reload_soon.start())
        if self._path.exists():
            self._watcher.addPath(str(self._path))
        self.resize(900, 560)
        geometry = QSettings().value("log_viewer/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        self.reload()

    def closeEvent(self, event: QCloseEvent) -> None:
        QSettings().setValue("log_viewer/geometry", self.saveGeometry())
        super().closeEvent(event)

    @property
    def path(self) -> Path:
        return self._path

    @Slot()
    def reload(self) -> None:
        self._entries = read_log_tail(self._path, _MAX_BYTES)
        if self._path.exists() and str(self._path) not in self._watcher.files():
            self._watcher.addPath(str(self._path))  # rotation replaces the file
        self.location.setText(self.tr("{path} (last {n} records)").format(
            path=self._path, n=len(self._entries)))
        self._render()

    @Slot()
    def _reload_if_following(self) -> None:
        if self.follow.isChecked():
            self.reload()

    def visible_text(self) -> str:
        return self.text.toPlainText()

    @Slot()
    def _render(self) -> None:
        minimum = int(self.level.currentData())
        needle = self.search.text().strip().lower()
        lines = [e.text for e in self._entries
                 if e.level >= minimum and (not needle or needle in e.text.lower())]
        bar = self.text.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        self.text.setPlainText("\n".join(lines) if lines else "")
        self.text.setPlaceholderText(self.tr("No log lines match.") if self._entries
                                     else self.tr("The log is empty."))
        if at_end or self.follow.isChecked():
            self.text.moveCursor(QTextCursor.MoveOperation.End)
            # The cursor ends at the end of the last (long) line: show lines from their start.
            self.text.moveCursor(QTextCursor.MoveOperation.StartOfLine)
        self.text.horizontalScrollBar().setValue(0)

    @Slot()
    def copy(self) -> None:
        """Copy the selection, or every shown line when nothing is selected."""
        selected = self.text.textCursor().selectedText().replace("\u2029", "\n")
        QGuiApplication.clipboard().setText(selected or self.visible_text())
