"""Where unhandled errors surface: one non-modal notice with a plain message and redacted details."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.logs import ErrorReport, ErrorSink, is_cancellation
from desktop_app.ui.accessible import ValueLabel


class ErrorNotice(QDialog):
    """A non-modal window: what went wrong in plain words; the technical details on request."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ErrorNotice")
        self.setWindowTitle(self.tr("Something went wrong"))
        self.setModal(False)
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.setAccessibleName(self.tr("Error message"))
        self._reports: list[ErrorReport] = []

        icon = QLabel(self)
        icon.setAccessibleName(self.tr("Warning"))
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(32, 32))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.title_label = QLabel(self)
        font = self.title_label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.title_label.setFont(font)
        self.title_label.setWordWrap(True)
        self.message_label = ValueLabel(self.tr("Error description"), self)
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.more_label = QLabel(self)

        self.details_button = QToolButton(self)
        self.details_button.setText(self.tr("Show &details"))
        self.details_button.setCheckable(True)
        self.details_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.details_button.setArrowType(Qt.ArrowType.RightArrow)
        self.details_button.setAccessibleName(self.tr("Show technical details"))
        self.details_button.toggled.connect(self._toggle_details)
        self.details = QPlainTextEdit(self)
        self.details.setReadOnly(True)
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details.setAccessibleName(self.tr("Technical details"))
        self.details.setMinimumHeight(160)
        self.details.hide()

        buttons = QDialogButtonBox(self)
        self.copy_button = QPushButton(self.tr("&Copy details"), self)
        self.copy_button.setAccessibleName(self.tr("Copy details to the clipboard"))
        self.copy_button.clicked.connect(self.copy_details)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.setDefault(True)
        buttons.rejected.connect(self.close)
        QShortcut(QKeySequence.StandardKey.Copy, self.details, self.copy_details)

        text = QVBoxLayout()
        text.addWidget(self.title_label)
        text.addWidget(self.message_label)
        text.addWidget(self.more_label)
        top = QHBoxLayout()
        top.addWidget(icon)
        top.addLayout(text, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.details, 1)
        layout.addWidget(buttons)
        self.setMinimumWidth(480)
        self.resize(560, 180)

    def add(self, report: ErrorReport) -> None:
        """Show the newest error; earlier ones stay in the details (all already redacted)."""
        self._reports.append(report)
        self.title_label.setText(report.title)
        self.message_label.setText(report.message)
        earlier = len(self._reports) - 1
        if earlier == 1:
            self.more_label.setText(self.tr("1 earlier error is in the details."))
        elif earlier > 1:
            self.more_label.setText(self.tr("%n earlier errors are in the details.", "", earlier))
        self.more_label.setVisible(earlier > 0)
        self.details.setPlainText("\n\n".join(self._render(r) for r in reversed(self._reports)))

    @property
    def reports(self) -> list[ErrorReport]:
        return list(self._reports)

    def _render(self, report: ErrorReport) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(report.when))
        where = f" [{report.context}]" if report.context else ""
        return f"{when}{where} {report.title}: {report.message}\n{report.details}".rstrip()

    @Slot()
    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.details.toPlainText())

    @Slot(bool)
    def _toggle_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.details_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.details_button.setText(self.tr("Hide &details") if shown else self.tr("Show &details"))
        if shown:
            self.resize(max(self.width(), 640), max(self.height(), 420))
        else:
            self.resize(self.width(), self.minimumSizeHint().height())

    def closeEvent(self, event: QCloseEvent) -> None:
        self._reports.clear()  # a fresh notice next time, not a growing pile
        super().closeEvent(event)


class ErrorPresenter(QObject):
    """Renders errors from the error sink and from the task runner, on the GUI thread."""

    _arrived = Signal(object)  # ErrorReport, from any thread

    def __init__(self, sink: ErrorSink, parent_window: QWidget | None = None) -> None:
        super().__init__(parent_window)
        self._sink = sink
        self._window = parent_window
        self._notice: ErrorNotice | None = None
        self._arrived.connect(self._show, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe = sink.subscribe(self._arrived.emit)

    def set_window(self, window: QWidget | None) -> None:
        """Parent future notices to this window (after sign-in swaps the main window)."""
        self._window = window
        if self._notice is not None:
            self._notice.close()
            self._notice.deleteLater()
            self._notice = None

    def report(self, exc: BaseException, context: str = "") -> None:
        """For failures a caller caught but cannot explain itself; cancellation stays silent."""
        self._sink.report(exc, context)

    @Slot(str, object)
    def task_failed(self, name: str, exc: object) -> None:
        """Connect `TaskRunner.unhandled_failure` here."""
        if isinstance(exc, BaseException) and not is_cancellation(exc):
            self._sink.report(exc, name)

    @property
    def notice(self) -> ErrorNotice | None:
        return self._notice

    def detach(self) -> None:
        self._unsubscribe()

    @Slot(object)
    def _show(self, report: ErrorReport) -> None:
        if self._notice is None:
            self._notice = ErrorNotice(self._window)
        self._notice.add(report)
        self._notice.show()
        self._notice.raise_()
