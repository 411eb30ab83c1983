"""Keys that move a person around the window: filter → results, Esc/Ctrl+W closing side windows."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractItemView, QWidget


def install_close_keys(window: QWidget) -> None:
    """Esc and Ctrl+W (the platform's Close) close a side window, as in every desktop tool."""
    sequences = [QKeySequence(Qt.Key.Key_Escape), QKeySequence("Ctrl+W")]
    sequences += [s for s in QKeySequence.keyBindings(QKeySequence.StandardKey.Close) if s not in sequences]
    for sequence in sequences:
        shortcut = QShortcut(sequence, window, window.close)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)


def focus_first_row(view: QAbstractItemView) -> bool:
    """Put the keyboard in the results: the current row (or the first) selected and focused."""
    model = view.model()
    if model is None or model.rowCount() == 0:
        return False
    index = view.currentIndex()
    if not index.isValid():
        index = model.index(0, 0)
    flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
    if not view.selectionModel().isSelected(index):
        view.selectionModel().setCurrentIndex(index, flags)
    view.scrollTo(index)
    view.setFocus(Qt.FocusReason.TabFocusReason)
    return True


class FilterToResults(QObject):
    """Down in the filter field moves into the results (Enter does too, after running the filter).

    Not while the completion popup is open: there Down and Enter choose a completion.
    """

    def __init__(self, edit: QWidget, view: QAbstractItemView, popup: QWidget) -> None:
        super().__init__(edit)
        self._view, self._popup = view, popup
        edit.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress and not self._popup.isVisible():
            key = event.key()
            modifiers = event.modifiers()
            if key == Qt.Key.Key_Down and modifiers == Qt.KeyboardModifier.NoModifier:
                return focus_first_row(self._view)
        return False
