"""The end-user table view: uniform rows, SQL sorting, remembered columns, kept selection.

The view keeps the selection by id: before the model resets it remembers the selected ids and
the current one, and selects them again where the new order put them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QSettings, QSize, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableView, QWidget

from desktop_app.ui.columns import BUILTIN_COLUMNS, DEFAULT_VISIBLE, MARKERS, ColumnLayout, column_for, property_column
from desktop_app.ui.end_user_model import EndUserTableModel

if TYPE_CHECKING:
    from desktop_app.cache.reading.query import SortSpec

KEEP_SELECTION_LIMIT = 5000  # larger selections are not carried across a refresh (only current)


class EndUserTable(QTableView):
    """The table over an EndUserTableModel: uniform rows, header-click sorting, movable columns."""

    current_lost = Signal()  # the current end user left the result in a refresh

    def __init__(self, model: EndUserTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("End users"))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setShowGrid(False)
        self.setTabKeyNavigation(False)
        self.setIconSize(QSize(3 * 16, 16))  # up to three markers side by side, unscaled
        vertical = self.verticalHeader()
        vertical.hide()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # uniform: no per-row sizing
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

        self._end_users = model
        self._layout = ColumnLayout.load(QSettings())
        model.set_columns(self._layout.specs())
        self.setModel(model)
        self.setSortingEnabled(True)
        self.property_keys: list[str] = []  # offered in the column chooser
        self._kept: tuple[list[int], int | None] = ([], None)
        self._relocating = False  # a reset happened; the kept selection waits for the ids
        model.wanted_ids = self._wanted_ids
        model.modelAboutToBeReset.connect(self._remember_selection)
        model.rows_relocated.connect(self._restore_selection)
        header.customContextMenuRequested.connect(self._header_menu)
        header.sectionMoved.connect(lambda *_: self.save_columns())
        header.sectionResized.connect(lambda *_: self._columns_resized())
        self._apply_column_widths()
        self.sync_sort_indicator()

    @property
    def relocating(self) -> bool:
        """True between a reset and the moment the kept selection was selected again."""
        return self._relocating

    # --- selection, kept across refreshes --------------------------------------------------------------------------------

    def selected_ids(self, limit: int | None = KEEP_SELECTION_LIMIT) -> list[int]:
        """Ids of the selected rows in table order; [] if there are more than `limit`."""
        spans = self._selected_spans()
        if limit is not None and sum(b - a + 1 for a, b in spans) > limit:
            return []
        ids = self._end_users.ids_in_order()
        out: list[int] = []
        for top, bottom in spans:  # array slices: fast even for most of a million rows
            out.extend(ids[top:bottom + 1])
        return out

    def _selected_spans(self) -> list[tuple[int, int]]:
        """Selected rows as sorted, merged (top, bottom) spans."""
        spans = sorted((r.top(), r.bottom()) for r in self.selectionModel().selection())  # type: ignore[attr-defined]  # a QItemSelection iterates; its stubs say not
        merged: list[tuple[int, int]] = []
        for top, bottom in spans:
            if merged and top <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(bottom, merged[-1][1]))
            else:
                merged.append((top, bottom))
        return merged

    def selected_count(self) -> int:
        return sum(bottom - top + 1 for top, bottom in self._selected_spans())

    def current_id(self) -> int | None:
        index = self.currentIndex()
        return self._end_users.id_at(index.row()) if index.isValid() else None

    def select_ids(self, ids: list[int]) -> None:
        """Select these end users (those in the current result), making the first current."""
        self._select_positions(self._end_users.locate(ids), ids, ids[0] if ids else None)

    def _wanted_ids(self) -> list[int]:
        if self._relocating:  # between a reset and the full id list: what was kept then
            ids, current = self._kept
        else:
            ids, current = self.selected_ids(), self.current_id()
        return [*ids, *([current] if current is not None else [])]

    def _remember_selection(self) -> None:
        if self._relocating:
            return  # a second reset before the first one was relocated: keep the first
        self._kept = (self.selected_ids(), self.current_id())
        self._relocating = bool(self._kept[0]) or self._kept[1] is not None

    def _restore_selection(self, positions: dict[int, int]) -> None:
        self._relocating = False
        ids, current = self._kept
        wanted = [*ids, *([current] if current is not None else [])]
        missing = [i for i in wanted if i not in positions]
        if missing:  # selected while the refresh ran: find them now (few, so cheap)
            positions = {**positions, **self._end_users.locate(missing)}
        self._select_positions(positions, ids, current)

    def _select_positions(self, positions: dict[int, int], ids: list[int], current: int | None) -> None:
        selection_model = self.selectionModel()
        selection = QItemSelection()
        last_column = max(0, self._end_users.columnCount() - 1)
        rows = sorted(positions[i] for i in ids if i in positions)
        start: int | None = None
        prev = 0  # read only once `start` is set
        for row in rows:
            if start is None:
                start = prev = row
            elif row == prev + 1:
                prev = row
            else:
                selection.select(self._end_users.index(start, 0), self._end_users.index(prev, last_column))
                start = prev = row
        if start is not None:
            selection.select(self._end_users.index(start, 0), self._end_users.index(prev, last_column))
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        selection_model.select(selection, flags)
        if current is not None and current in positions:
            selection_model.setCurrentIndex(
                self._end_users.index(positions[current], 0), QItemSelectionModel.SelectionFlag.NoUpdate
            )
        elif current is not None:
            self.current_lost.emit()

    # --- columns ----------------------------------------------------------------------------------

    def _header_menu(self, pos: Any) -> None:
        menu = QMenu(self)
        self.fill_columns_menu(menu)
        menu.exec(self.horizontalHeader().mapToGlobal(pos))

    def fill_columns_menu(self, menu: QMenu) -> None:
        menu.clear()
        visible = [c.key for c in self._end_users.columns]
        for spec in BUILTIN_COLUMNS:
            if spec.key == MARKERS:
                title = self.tr("Markers (pending, conflict)")
            else:
                title = spec.title()
            action = menu.addAction(title)
            action.setCheckable(True)
            action.setChecked(spec.key in visible)
            action.toggled.connect(lambda on, k=spec.key: self.set_column_visible(k, on))
        props = menu.addMenu(self.tr("Properties"))
        keys = self.property_keys
        if not keys:
            props.setEnabled(False)
        for key in keys:
            column_key = property_column(key).key
            action = props.addAction(key)
            action.setCheckable(True)
            action.setChecked(column_key in visible)
            action.toggled.connect(lambda on, k=column_key: self.set_column_visible(k, on))
        menu.addSeparator()
        menu.addAction(self.tr("Reset columns"), self.reset_columns)

    def set_column_visible(self, key: str, visible: bool) -> None:
        keys = [c.key for c in self._visual_columns()]
        if visible and key not in keys and column_for(key) is not None:
            keys.append(key)
        elif not visible and key in keys and len(keys) > 1:
            keys.remove(key)
        else:
            return
        self._set_column_keys(keys)
        if visible:
            self.scroll_to_column(key)

    def scroll_to_column(self, key: str) -> None:
        """Bring a column into view (an added column lands at the right, maybe off-screen)."""
        for logical, spec in enumerate(self._end_users.columns):
            if spec.key == key:
                row = max(0, self.rowAt(0))
                self.scrollTo(self._end_users.index(row, logical), QAbstractItemView.ScrollHint.EnsureVisible)
                return

    def reset_columns(self) -> None:
        self._layout = ColumnLayout()
        self._set_column_keys(list(DEFAULT_VISIBLE))

    def _set_column_keys(self, keys: list[str]) -> None:
        self._layout = ColumnLayout(tuple(keys), self._current_widths())
        header = self.horizontalHeader()
        header.blockSignals(True)
        for visual in range(header.count()):  # the model now carries the order: undo visual moves
            logical = header.logicalIndex(visual)
            if logical != visual:
                header.moveSection(header.visualIndex(visual), visual)
        header.blockSignals(False)
        self._end_users.set_columns(self._layout.specs())
        self._apply_column_widths()
        self.sync_sort_indicator()
        self.save_columns()

    def _visual_columns(self) -> list[Any]:
        header = self.horizontalHeader()
        columns = self._end_users.columns
        return [columns[header.logicalIndex(v)] for v in range(header.count()) if header.logicalIndex(v) < len(columns)]

    def _current_widths(self) -> dict[str, int]:
        widths = dict(self._layout.widths or {})
        header = self.horizontalHeader()
        for logical, spec in enumerate(self._end_users.columns):
            if logical < header.count() and header.sectionSize(logical) > 0:
                widths[spec.key] = header.sectionSize(logical)
        return widths

    def _apply_column_widths(self) -> None:
        header = self.horizontalHeader()
        header.blockSignals(True)
        for logical, spec in enumerate(self._end_users.columns):
            header.resizeSection(logical, self._layout.width_of(spec))
        header.blockSignals(False)

    def _columns_resized(self) -> None:
        self._layout = ColumnLayout(self._layout.keys, self._current_widths())

    def save_columns(self) -> None:
        self._layout = ColumnLayout(tuple(c.key for c in self._visual_columns()), self._current_widths())
        self._layout.save(QSettings())

    def sync_sort_indicator(self) -> None:
        sort: SortSpec = self._end_users.sort_spec
        order = Qt.SortOrder.DescendingOrder if sort.descending else Qt.SortOrder.AscendingOrder
        header = self.horizontalHeader()
        for logical, spec in enumerate(self._end_users.columns):
            if spec.sort_column == sort.column:
                header.setSortIndicator(logical, order)
                header.setSortIndicatorShown(True)
                return
        header.setSortIndicatorShown(False)
