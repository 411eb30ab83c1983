"""Models behind the detail panel: one end user's properties, and their survey responses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from desktop_app.domain import PropertyValue, SurveyDecline, SurveyResponse
from desktop_app.ui import theme
from desktop_app.ui.columns import format_datetime, format_property
from desktop_app.ui.property_editors import KEY_ROLE, VALUE_ROLE, PropertyInputError

_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class PropertyLine:
    """One property of the shown end user, with its markers."""

    key: str
    value: PropertyValue
    pending: bool = False
    conflict: bool = False


class PropertiesModel(QAbstractTableModel):
    """Key/value rows; editing a value asks the panel to write it (nothing is stored here)."""

    edit_requested = Signal(str, object)  # key, new value
    input_rejected = Signal(str)  # a message: the typed text did not fit the key's type

    KEY, VALUE = 0, 1

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lines: list[PropertyLine] = []
        self._read_only = False

    def set_properties(
        self,
        properties: Mapping[str, PropertyValue],
        pending_keys: frozenset[str] = frozenset(),
        conflict_keys: frozenset[str] = frozenset(),
        read_only: bool = False,
    ) -> None:
        self.beginResetModel()
        self._lines = [
            PropertyLine(k, properties[k], k in pending_keys, k in conflict_keys)
            for k in sorted(properties, key=str.lower)
        ]
        self._read_only = read_only
        self.endResetModel()

    def line(self, row: int) -> PropertyLine | None:
        return self._lines[row] if 0 <= row < len(self._lines) else None

    def row_of(self, key: str) -> int | None:
        for row, line in enumerate(self._lines):
            if line.key == key:
                return row
        return None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else 2

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return (self.tr("Property"), self.tr("Value"))[section] if section in (0, 1) else None
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        line = self.line(index.row()) if index.isValid() else None
        if line is None:
            return None
        if role == KEY_ROLE:
            return line.key
        if role == VALUE_ROLE:
            return line.value
        if index.column() == self.KEY:
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
                return line.key
            if role == Qt.ItemDataRole.DecorationRole:
                return theme.marker_icon(line.pending, line.conflict, False)
            if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
                notes = [line.key]
                if line.conflict:
                    notes.append(self.tr("conflict: needs your decision"))
                if line.pending:
                    notes.append(self.tr("edited here, waiting to sync"))
                return ", ".join(notes)
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return format_property(line.key, line.value)
        if role == Qt.ItemDataRole.EditRole:
            return line.value
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return format_property(line.key, line.value)
        if role == Qt.ItemDataRole.FontRole and line.pending:
            from PySide6.QtGui import QGuiApplication

            return theme.emphasis_font(QGuiApplication.font(), italic=True)
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        line = self.line(index.row()) if index.isValid() else None
        if line is None or role != Qt.ItemDataRole.EditRole or index.column() != self.VALUE or self._read_only:
            return False
        if isinstance(value, PropertyInputError):
            self.input_rejected.emit(str(value))
            return False
        self.edit_requested.emit(line.key, value)
        return False  # the cache write comes back as a CacheChanges and reloads this model

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
        if index.column() == self.VALUE and not self._read_only:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One line of the history: a response, or a declined survey (`response` None)."""

    created_at: int
    response: SurveyResponse | None = None
    counted: bool = True  # a response not excluded from calculations


class HistoryModel(QAbstractTableModel):
    """An end user's survey history from the cache, newest first: responses (score, comment,
    tags) and declined surveys, each with its date."""

    SCORE, COMMENT, TAGS, DATE = 0, 1, 2, 3
    _TITLES = ("Score", "Comment", "Tags", "Date")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._entries: list[HistoryEntry] = []

    def set_history(self, responses: Sequence[SurveyResponse], declines: Sequence[SurveyDecline] = ()) -> None:
        entries = [HistoryEntry(r.created_at, r, not r.excluded_from_calculations) for r in responses]
        entries += [HistoryEntry(d.created_at) for d in declines]
        self.beginResetModel()
        self._entries = sorted(entries, key=lambda e: (e.created_at, e.response is not None), reverse=True)
        self.endResetModel()

    def entry(self, row: int) -> HistoryEntry:
        return self._entries[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._TITLES)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self._TITLES):
            return self.tr(self._TITLES[section])
        return None

    def _text(self, entry: HistoryEntry, column: int) -> str:
        response = entry.response
        if column == self.DATE:
            return format_datetime(entry.created_at)
        if response is None:
            return self.tr("Declined") if column == self.SCORE else ""
        if column == self.SCORE:
            # Wootric leaves excluded responses out of NPS; so do score: and nps:
            return str(response.score) if entry.counted else self.tr("%1 (excluded)").replace("%1", str(response.score))
        if column == self.COMMENT:
            return response.text or ""
        return ", ".join(response.tags)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        entry = self._entries[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._text(entry, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.SCORE and not entry.counted:
                return self.tr("Excluded from calculations: not in NPS, score: or nps:")
            if column in (self.COMMENT, self.TAGS):
                return self._text(entry, column) or None
        if role == Qt.ItemDataRole.TextAlignmentRole and column == self.SCORE:
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
