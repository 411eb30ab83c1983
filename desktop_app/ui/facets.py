"""The facet sidebar: surveys on/off, pending, conflicts and property values with counts.

A click chooses a value (or un-chooses it) in the filter text; several values of one key are
alternatives (`plan:pro|enterprise`, see `facet_selection`). Chosen values are checked and
bold, read back from the filter text, so typing and clicking agree. Property values load
only when their key is expanded, in the background; once listed they keep their places while
counts change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QCoreApplication, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeView, QWidget

from desktop_app.ui.facet_selection import VALUES_SHOWN, chosen_values, merge_values, normal_value, split_facet_term
from desktop_app.ui.filter_bar import quote_value

_Index = QModelIndex | QPersistentModelIndex
TERM_ROLE = Qt.ItemDataRole.UserRole + 1
_GROUP_ID = 0  # internal id of a group index; a value's is its group's row + 1
_TERM_RE = re.compile(r'[()]|-?(?:"[^"]*"|[^\s":()]+(?::(?:"[^"]*"|[^\s()]*))?)')


def _t(text: str) -> str:
    return QCoreApplication.translate("Facets", text)


def term_key(term: str) -> str:
    return term.lstrip("-").partition(":")[0].lower()


def split_terms(text: str) -> list[str]:
    return _TERM_RE.findall(text)


def toggle_term(text: str, term: str, exclusive_keys: Sequence[str] = ()) -> str:
    """The filter with `term` added, or removed if it is already there.

    Terms whose key is in `exclusive_keys` replace each other (`surveys:enabled` takes the place
    of `surveys:disabled`), so a click never builds a filter that matches nobody by accident.
    """
    terms = split_terms(text)
    if term in terms:
        return " ".join(t for t in terms if t != term)
    key = term_key(term)
    if key in exclusive_keys:
        terms = [t for t in terms if term_key(t) != key]
    return " ".join([*terms, term])


@dataclass(frozen=True, slots=True)
class FacetValue:
    label: str
    count: int
    term: str | None  # what a click adds to the filter; None: not clickable


@dataclass(slots=True)
class FacetGroup:
    """A heading (Surveys, Status, or a property key) and its values."""

    title: str
    property_key: str | None = None
    values: list[FacetValue] = field(default_factory=list)
    loaded: bool = True
    loading: bool = False


# facet_counts keys we know how to turn into a clickable term; others are shown as they are.
_KNOWN_COUNTS: tuple[tuple[str, str, str], ...] = (
    ("surveys_enabled", "Surveys on", "surveys:enabled"),
    ("surveys_disabled", "Surveys off", "surveys:disabled"),
    ("disabled_by_admin", "Off by an admin", "disabled_by:admin"),
    ("disabled_by_end_user", "Opted out themselves", "disabled_by:end_user"),
    ("pending", "Waiting to sync", "is:pending"),
    ("conflicts", "Conflicts", "is:conflict"),
    ("conflict", "Conflicts", "is:conflict"),
    ("deleted", "Deleted here", "is:deleted"),
)


def groups_from_counts(counts: Mapping[str, int], property_keys: Sequence[str]) -> list[FacetGroup]:
    known = {k: (label, term) for k, label, term in _KNOWN_COUNTS}
    surveys = FacetGroup(_t("Surveys"))
    status = FacetGroup(_t("Status"))
    other = FacetGroup(_t("Other"))
    for key, count in counts.items():
        if key == "total":
            continue  # the count line of the filter bar already says it
        label, term = known.get(key, (key.replace("_", " ").capitalize(), None))
        target = surveys if key.startswith(("surveys", "disabled")) else status if term else other
        target.values.append(FacetValue(_t(label), int(count), term))
    groups = [g for g in (surveys, status, other) if g.values]
    groups += [FacetGroup(key, property_key=key, loaded=False) for key in property_keys]
    return groups


class FacetModel(QAbstractItemModel):
    """Two levels: groups, then values with counts; property groups fetch their values lazily."""

    values_wanted = Signal(str)  # a property group was expanded: load its values

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._groups: list[FacetGroup] = []
        self._chosen: dict[str, set[str]] = {}

    def set_filter_text(self, text: str) -> None:
        """Mark the values the filter chooses (check mark and bold), repainting only values."""
        chosen = chosen_values(text)
        if chosen == self._chosen:
            return
        self._chosen = chosen
        for row, group in enumerate(self._groups):
            if group.values:
                parent = self.index(row, 0)
                self.dataChanged.emit(self.index(0, 0, parent), self.index(len(group.values) - 1, 0, parent))

    def is_chosen(self, value: FacetValue) -> bool:
        if not value.term:
            return False
        key, text = split_facet_term(value.term)
        return normal_value(key, text) in self._chosen.get(key, set())

    def set_groups(self, groups: list[FacetGroup]) -> None:
        self.beginResetModel()
        self._groups = groups
        self.endResetModel()

    def update_counts(self, counts: Mapping[str, int], property_keys: Sequence[str]) -> None:
        """New counts for the fixed groups; loaded property groups stay (values refresh on demand).

        When only numbers changed (the usual case while typing) the values are updated in
        place: no reset, so the tree keeps what is expanded and repaints only those rows.
        """
        new = groups_from_counts(counts, property_keys)
        old_props = {g.property_key: g for g in self._groups if g.property_key}
        for i, group in enumerate(new):
            if group.property_key in old_props and old_props[group.property_key].loaded:
                new[i] = old_props[group.property_key]
        if not self._same_shape(new):
            self.set_groups(new)
            return
        for row, (old, fresh) in enumerate(zip(self._groups, new)):
            if old is fresh:
                continue
            parent = self.index(row, 0)
            for value_row, (before, after) in enumerate(zip(old.values, fresh.values)):
                if before != after:
                    old.values[value_row] = after
                    changed = self.index(value_row, 0, parent)
                    self.dataChanged.emit(changed, changed)

    def _same_shape(self, new: list[FacetGroup]) -> bool:
        """Same groups in the same order, and the same clickable values in the fixed ones."""
        if len(new) != len(self._groups):
            return False
        for old, fresh in zip(self._groups, new):
            if old is fresh:
                continue
            if (old.title, old.property_key, old.loaded) != (fresh.title, fresh.property_key, fresh.loaded):
                return False
            if [(v.label, v.term) for v in old.values] != [(v.label, v.term) for v in fresh.values]:
                return False
        return True

    def set_values(self, property_key: str, values: Sequence[tuple[str, int]]) -> None:
        for row, group in enumerate(self._groups):
            if group.property_key != property_key:
                continue
            parent = self.index(row, 0)
            items = [FacetValue(v or _t("(empty)"), n, f"{property_key}:{quote_value(v)}") for v, n in values]
            if group.values:  # a refresh: the listed values keep their places, counts change
                self._merge_values(parent, group, values)
                return
            items = [item for n, item in enumerate(items) if n < VALUES_SHOWN or self.is_chosen(item)]
            group.loaded, group.loading = True, False
            if items:
                self.beginInsertRows(parent, 0, len(items) - 1)
                group.values = items
                self.endInsertRows()
            self.dataChanged.emit(parent, parent)
            return

    def _merge_values(self, parent: QModelIndex, group: FacetGroup, values: Sequence[tuple[str, int]]) -> None:
        key = group.property_key or ""
        shown = [self._raw_value(v) for v in group.values]
        merged = merge_values(shown, dict(values), self._chosen.get(key.lower(), set()))
        fresh = [FacetValue(v or _t("(empty)"), n, f"{key}:{quote_value(v)}") for v, n in merged]
        for row, (before, after) in enumerate(zip(group.values, fresh)):
            if before != after:
                group.values[row] = after
                self.dataChanged.emit(self.index(row, 0, parent), self.index(row, 0, parent))
        if len(fresh) > len(group.values):
            first = len(group.values)
            self.beginInsertRows(parent, first, len(fresh) - 1)
            group.values.extend(fresh[first:])
            self.endInsertRows()
        group.loaded, group.loading = True, False

    @staticmethod
    def _raw_value(value: FacetValue) -> str:
        return split_facet_term(value.term)[1] if value.term else value.label

    def loaded_property_keys(self) -> list[str]:
        return [g.property_key for g in self._groups if g.property_key and g.loaded]

    def term_at(self, index: _Index) -> str | None:
        value = self._value(index)
        return value.term if value else None

    # --- Qt -------------------------------------------------------------------------------------

    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:
        if column != 0 or row < 0:
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, 0, _GROUP_ID) if row < len(self._groups) else QModelIndex()
        if parent.internalId() != _GROUP_ID or parent.row() >= len(self._groups):
            return QModelIndex()
        group = self._groups[parent.row()]
        return self.createIndex(row, 0, parent.row() + 1) if row < len(group.values) else QModelIndex()

    def parent(self, child: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # also QObject.parent()
        if not child.isValid() or child.internalId() == _GROUP_ID:
            return QModelIndex()
        return self.createIndex(int(child.internalId()) - 1, 0, _GROUP_ID)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        if not parent.isValid():
            return len(self._groups)
        if parent.internalId() == _GROUP_ID and parent.row() < len(self._groups):
            return len(self._groups[parent.row()].values)
        return 0

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 1

    def hasChildren(self, parent: _Index = QModelIndex()) -> bool:
        if not parent.isValid():
            return bool(self._groups)
        if parent.internalId() == _GROUP_ID and parent.row() < len(self._groups):
            group = self._groups[parent.row()]
            return bool(group.values) or not group.loaded
        return False

    def canFetchMore(self, parent: _Index) -> bool:
        group = self._group(parent)
        return group is not None and not group.loaded and not group.loading

    def fetchMore(self, parent: _Index) -> None:
        group = self._group(parent)
        if group is not None and group.property_key and not group.loaded and not group.loading:
            group.loading = True
            self.values_wanted.emit(group.property_key)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        group = self._group(index)
        if group is not None:
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
                return group.title
            if role == Qt.ItemDataRole.ToolTipRole and group.property_key:
                return _t("Property “%1” — expand to see its common values").replace("%1", group.property_key)
            return None
        value = self._value(index)
        if value is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{value.label}  ({value.count:,})"
        if role == Qt.ItemDataRole.CheckStateRole and value.term:
            return Qt.CheckState.Checked if self.is_chosen(value) else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.FontRole and self.is_chosen(value):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.AccessibleTextRole:
            text = _t("%1, %2 end users").replace("%1", value.label).replace("%2", f"{value.count:,}")
            return text + (_t(", chosen") if self.is_chosen(value) else "")
        if role == Qt.ItemDataRole.ToolTipRole:
            if not value.term:
                return None
            if self.is_chosen(value):
                return _t("Chosen: click to take %1 out of the filter").replace("%1", value.term)
            return _t("Click to add %1 to the filter").replace("%1", value.term)
        if role == TERM_ROLE:
            return value.term
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if self._group(index) is not None:
            return Qt.ItemFlag.ItemIsEnabled
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def _group(self, index: _Index) -> FacetGroup | None:
        if index.isValid() and index.internalId() == _GROUP_ID and index.row() < len(self._groups):
            return self._groups[index.row()]
        return None

    def _value(self, index: _Index) -> FacetValue | None:
        if not index.isValid() or index.internalId() == _GROUP_ID:
            return None
        group_row = int(index.internalId()) - 1
        if group_row >= len(self._groups):
            return None
        values = self._groups[group_row].values
        return values[index.row()] if index.row() < len(values) else None




class FacetPanel(QTreeView):
    """The sidebar view; emits the term to toggle when a value is clicked or activated."""

    term_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.facets = FacetModel(self)
        self.setModel(self.facets)
        self.setHeaderHidden(True)
        self.setAccessibleName(self.tr("Facets"))
        self.setUniformRowHeights(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # Mouse clicks toggle a term; Enter/Space do the same from the keyboard. `activated` is
        # not used: on some styles it fires on the same single click and would undo it.
        self.clicked.connect(self._activated)
        self.facets.modelReset.connect(self.expand_fixed_groups)

    def _activated(self, index: QModelIndex) -> None:
        term = self.facets.term_at(index)
        if term:
            self.term_activated.emit(term)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space) and self.currentIndex().isValid():
            term = self.facets.term_at(self.currentIndex())
            if term:
                self.term_activated.emit(term)
                return
        super().keyPressEvent(event)

    def expand_fixed_groups(self) -> None:
        for row in range(self.facets.rowCount()):
            index = self.facets.index(row, 0)
            group = self.facets._group(index)
            if group is not None and (group.property_key is None or group.loaded):
                self.expand(index)

