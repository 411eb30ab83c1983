"""What an empty end-user table says instead of being blank: why, and how to widen the result."""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QLabel


class EmptyResultNotice(QLabel):
    """A centred notice over the table's viewport while the result is empty."""

    clear_filter_requested = Signal()

    def __init__(self, view: QAbstractItemView) -> None:
        super().__init__(view.viewport())
        self.setObjectName("EmptyResultNotice")
        self._view = view
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                     | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.setAccessibleName(self.tr("No end users"))
        self.linkActivated.connect(lambda _link: self.clear_filter_requested.emit())
        self.setMargin(24)
        view.viewport().installEventFilter(self)
        self.hide()

    def show_for(self, count: int, filter_text: str) -> None:
        """Shown when a finished result has no rows; hidden otherwise."""
        if count:
            self.hide()
            return
        if filter_text.strip():
            message = self.tr("No end users match %1.").replace(
                "%1", f"<code>{html.escape(filter_text.strip())}</code>")
            hint = self.tr("Remove a term to widen the result, or <a href=\"clear\">clear the filter</a>.")
            plain = self.tr("No end users match %1. Remove a term to widen it, or clear the filter.").replace(
                "%1", filter_text.strip())
        else:
            message = self.tr("No end users here yet.")
            hint = self.tr("Sync (F5) fetches them from Wootric.")
            plain = message + " " + hint
        self.setText(f"<p style='font-size:large'>{message}</p><p>{hint}</p>")
        self.setAccessibleDescription(plain)
        self._fit()
        self.show()
        self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._fit()
        return False

    def _fit(self) -> None:
        self.setGeometry(self._view.viewport().rect())
