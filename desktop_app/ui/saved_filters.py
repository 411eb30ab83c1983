"""Saved filters: a name and a query, kept in QSettings; a model and a small manage dialog."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

SETTINGS_KEY = "filters/saved"
_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class SavedFilter:
    """A filter the person named, e.g. "Enterprise detractors" = `plan:enterprise ...`."""

    name: str
    query: str


def load_saved_filters(settings: QSettings) -> list[SavedFilter]:
    raw = settings.value(SETTINGS_KEY, "")
    if not isinstance(raw, str) or not raw:
        return []
    try:
        items = json.loads(raw)
        return [SavedFilter(str(i["name"]), str(i["query"])) for i in items if str(i.get("name", "")).strip()]
    except (ValueError, TypeError, KeyError, AttributeError):
        return []  # a damaged setting only loses the list, never the window


def store_saved_filters(settings: QSettings, filters: Sequence[SavedFilter]) -> None:
    settings.setValue(SETTINGS_KEY, json.dumps([{"name": f.name, "query": f.query} for f in filters]))


class SavedFiltersModel(QAbstractListModel):
    """The saved filters as an editable list (editing a row renames it); writes through to QSettings."""

    QUERY_ROLE = Qt.ItemDataRole.UserRole + 1
    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._filters = load_saved_filters(QSettings())

    @property
    def filters(self) -> list[SavedFilter]:
        return list(self._filters)

    def add(self, name: str, query: str) -> None:
        """Save a filter; a filter with the same name is replaced."""
        name = name.strip()
        if not name:
            return
        for row, existing in enumerate(self._filters):
            if existing.name == name:
                self._filters[row] = SavedFilter(name, query)
                self.dataChanged.emit(self.index(row), self.index(row))
                self._persist()
                return
        row = len(self._filters)
        self.beginInsertRows(QModelIndex(), row, row)
        self._filters.append(SavedFilter(name, query))
        self.endInsertRows()
        self._persist()

    def rename(self, row: int, name: str) -> bool:
        name = name.strip()
        if not 0 <= row < len(self._filters) or not name:
            return False
        if any(f.name == name for i, f in enumerate(self._filters) if i != row):
            return False
        self._filters[row] = SavedFilter(name, self._filters[row].query)
        self.dataChanged.emit(self.index(row), self.index(row))
        self._persist()
        return True

    def remove(self, row: int) -> None:
        if not 0 <= row < len(self._filters):
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._filters[row]
        self.endRemoveRows()
        self._persist()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._filters)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._filters):
            return None
        item = self._filters[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return item.name
        if role == Qt.ItemDataRole.ToolTipRole:
            return item.query or self.tr("(everything)")
        if role == self.QUERY_ROLE:
            return item.query
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        return self.rename(index.row(), str(value))

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsEditable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def _persist(self) -> None:
        store_saved_filters(QSettings(), self._filters)
        self.changed.emit()


class ManageSavedFiltersDialog(QDialog):
    """Rename (F2 or double-click) and delete saved filters."""

    def __init__(self, model: SavedFiltersModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Saved filters"))
        self._model = model
        self.list_view = QListView(self)
        self.list_view.setModel(model)
        self.list_view.setAccessibleName(self.tr("Saved filters"))
        self.list_view.setEditTriggers(
            QListView.EditTrigger.DoubleClicked | QListView.EditTrigger.EditKeyPressed
        )
        rename = QPushButton(self.tr("&Rename"), self)
        rename.clicked.connect(self._rename)
        delete = QPushButton(self.tr("&Delete"), self)
        delete.clicked.connect(self._delete)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        side = QHBoxLayout()
        side.addWidget(rename)
        side.addWidget(delete)
        side.addStretch(1)
        side.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list_view)
        layout.addLayout(side)
        if model.rowCount():
            self.list_view.setCurrentIndex(model.index(0))

    def _rename(self) -> None:
        index = self.list_view.currentIndex()
        if index.isValid():
            self.list_view.edit(index)

    def _delete(self) -> None:
        index = self.list_view.currentIndex()
        if index.isValid():
            self._model.remove(index.row())
