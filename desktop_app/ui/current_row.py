"""The current row of the end-user table, marked across its width (a cell's focus frame is not)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex
from PySide6.QtGui import QPainter, QPalette, QPen
from PySide6.QtWidgets import QAbstractItemView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

CURRENT_ROW_LINE = 2  # px: the frame's lines above and below the row


class CurrentRowDelegate(QStyledItemDelegate):
    """Paints a highlight-coloured frame around the whole current row of its view."""

    def __init__(self, view: QAbstractItemView) -> None:
        super().__init__(view)
        self._view = view
        # Qt repaints only the old and new current cell: the frame spans the row, so repaint it all.
        view.selectionModel().currentRowChanged.connect(lambda *_: view.viewport().update())

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        current = self._view.currentIndex()
        is_current = current.isValid() and index.row() == current.row()
        if is_current:
            option.state &= ~QStyle.StateFlag.State_HasFocus  # the row frame replaces the cell's
        super().paint(painter, option, index)
        if not is_current:
            return
        painter.save()
        group = QPalette.ColorGroup.Active if self._view.hasFocus() else QPalette.ColorGroup.Inactive
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Highlight
        pen = QPen(option.palette.color(group, role))
        pen.setWidth(CURRENT_ROW_LINE)
        painter.setPen(pen)
        rect = option.rect.adjusted(0, 1, 0, -1)
        painter.drawLine(rect.topLeft(), rect.topRight())
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        header = self._view.horizontalHeader() if hasattr(self._view, "horizontalHeader") else None
        if header is not None:
            if header.visualIndex(index.column()) == 0:
                painter.drawLine(rect.topLeft(), rect.bottomLeft())
            if header.visualIndex(index.column()) == header.count() - 1 - header.hiddenSectionCount():
                painter.drawLine(rect.topRight(), rect.bottomRight())
        painter.restore()
