"""The end-user table model: ids first (sorted in SQL), rows fetched lazily in blocks.

At a million rows only the ids (an `array('q')`, 8 MB) live in memory; cells are built from a
small LRU of `ResultRow`s fetched by primary key a block at a time, every role of a cell at
once, and a painted cell costs one call into Python (`multiData`). A block that fails to load
becomes placeholders, never an exception. Changes from the cache are scoped: the rows we have
cached get `dataChanged`; the id list is re-queried in the background and the model resets
only when the ids actually differ, keeping the rows it has loaded.
"""

from __future__ import annotations

import array
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QGuiApplication, QPalette

from desktop_app.cache.changes import CacheChanges
from desktop_app.ui.columns import ColumnKind, ColumnSpec
from desktop_app.ui.end_user_cells import cell_roles
from desktop_app.ui.operations import Operations

if TYPE_CHECKING:
    from desktop_app.cache.reading.query import EndUserQuery, SortSpec

log = logging.getLogger(__name__)

ID_ROLE = Qt.ItemDataRole.UserRole + 1  # the end user's id (int)
ROW_ROLE = Qt.ItemDataRole.UserRole + 2  # the whole ResultRow, or None while unloaded
SORT_KEY_ROLE = Qt.ItemDataRole.UserRole + 3

BLOCK = 128  # rows fetched per primary-key query
HEAD_ROWS = 150  # a new filter or sort paints these first, before the whole id list arrives
REFRESH_MIN_MS = 300  # a data refresh waits at least this long, so bursts of changes coalesce
IDS_AFTER_MS = 350  # read every id only once typing paused this long (a million ids take a while)
CACHE_ROWS = 4096  # LRU capacity: a few screens in each direction
RETRY_AFTER_S = 2.0  # a failed block is tried again after this long

_Index = QModelIndex | QPersistentModelIndex


class _Unloaded:
    """A row that could not be read; rendered as a placeholder."""

    __slots__ = ("failed_at",)

    def __init__(self, failed_at: float) -> None:
        self.failed_at = failed_at


@dataclass(frozen=True, slots=True)
class HeadResult:
    """The first screen of a new filter or sort: its rows and the total count."""

    text: str
    sort: SortSpec
    rows: list[Any]  # ResultRows of the first HEAD_ROWS, in order
    count: int | None  # None: not counted yet (a new filter); a count query follows
    complete: bool  # the head is the whole result
    seconds: float


@dataclass(frozen=True, slots=True)
class IdsResult:
    """What a background refresh found: the ordered ids and where the wanted ids ended up."""

    text: str
    sort: SortSpec
    ids: Sequence[int]
    positions: dict[int, int]
    seconds: float


def _make_sort(column: str, descending: bool) -> SortSpec:
    from desktop_app.cache.reading.query import SortSpec

    return SortSpec(column=column, descending=descending)


def _locate(ids: Sequence[int], wanted: Collection[int]) -> dict[int, int]:
    """Rows of `wanted` ids in `ids`: per-id C-speed search when few, one pass when many."""
    if not wanted:
        return {}
    if len(wanted) <= 16 and isinstance(ids, array.array):
        found: dict[int, int] = {}
        for end_user_id in wanted:
            try:
                found[end_user_id] = ids.index(end_user_id)
            except ValueError:
                pass
        return found
    want = set(wanted)
    return {eid: row for row, eid in enumerate(ids) if eid in want}


def _as_id_array(ids: Sequence[int]) -> Sequence[int]:
    if isinstance(ids, array.array):
        return ids
    return array.array("q", ids)


class EndUserTableModel(QAbstractTableModel):
    """A lazy table over `EndUserQuery`: ids for the current filter and sort, rows on demand."""

    ids_applied = Signal(int)  # the result's row count is known (and may have changed)
    first_rows_shown = Signal()  # a new filter or sort: its first screen is in the model
    rows_relocated = Signal(object)  # dict[id, row] of the wanted ids after a reset
    query_failed = Signal(str)  # a message for the window (bad filter caught late, I/O error)
    sort_changed = Signal(str, bool)

    def __init__(
        self,
        query: EndUserQuery,
        ops: Operations,
        columns: Sequence[ColumnSpec],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._query = query
        self._ops = ops
        self._columns: list[ColumnSpec] = list(columns)
        self._ids: Sequence[int] = array.array("q")  # known ids, in order (maybe only the head)
        self._row_count = 0  # rows of the result; more than len(_ids) while the rest loads
        self._text = ""
        self._sort = _make_sort("email", False)
        self._rows: OrderedDict[int, Any] = OrderedDict()
        self._row_of: dict[int, int] = {}  # row index of every cached id, for scoped dataChanged
        # Each loaded row's cells, every role at once, by column: a repaint asks 7 roles of every
        # visible cell, several times per new filter, and building them each time cost half the paint.
        self._cells: dict[int, dict[int, dict[int, Any]]] = {}
        self._waiting: tuple[int, int] | None = None  # first, last row painted as "Loading…"
        self._loaded_once = False
        self._started = False  # refresh() was called: header clicks now query
        self._count_known = False  # the row count of the current query is final
        self._counted_text: str | None = None
        self._last_query_s = 0.0
        self.wanted_ids: Callable[[], Collection[int]] = lambda: ()
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.timeout.connect(lambda: self.refresh(progressive=False))
        self._ids_timer = QTimer(self)  # the whole id list waits for typing to pause
        self._ids_timer.setSingleShot(True)
        self._ids_timer.setInterval(IDS_AFTER_MS)
        self._ids_timer.timeout.connect(self._refresh_ids)
        self._on_complete: list[Callable[[], None]] = []
        self._task_key = f"end-user-query-{id(self)}"
        self._release_reads: Callable[[], None] | None = None

    # --- what the window drives ---------------------------------------------------------------

    @property
    def filter_text(self) -> str:
        return self._text

    @property
    def sort_spec(self) -> SortSpec:
        return self._sort

    @property
    def loaded(self) -> bool:
        """True once the first rows of the current query have arrived."""
        return self._loaded_once

    @property
    def complete(self) -> bool:
        """True when every id of the result is known (not only the first screen)."""
        return self._loaded_once and self._count_known and len(self._ids) == self._row_count

    def set_filter(self, text: str) -> None:
        self._text = text
        self.refresh(progressive=True)

    def restore_sort(self, column: str, descending: bool) -> None:
        """Set the sort remembered from last time, before the first refresh (no query)."""
        self._sort = _make_sort(column, descending)

    def set_sort(self, column: str, descending: bool) -> None:
        self._sort = _make_sort(column, descending)
        self.sort_changed.emit(column, descending)
        self.refresh(progressive=True)

    def refresh(self, progressive: bool = False) -> None:
        """Re-query in the background; the newest request wins.

        `progressive` (a new filter or sort): the first screen comes first and is painted at
        once; the count follows, then — once typing pauses — the whole id list. Otherwise (a
        data refresh) the id list is re-read, and the model resets only if it differs.
        """
        self._started = True
        self._refresh_timer.stop()
        self._ids_timer.stop()
        if progressive or not self.complete:
            self._refresh_head(reuse_count=progressive)
        else:
            self._refresh_ids()

    def when_complete(self, callback: Callable[[], None]) -> None:
        """Call `callback` once every id is known (at once if it is): selections need them."""
        if self.complete:
            callback()
            return
        self._on_complete.append(callback)
        if self._count_known:  # else the count arrives first and asks for the ids at once
            self._refresh_ids()

    def _refresh_head(self, reuse_count: bool) -> None:
        text, sort, query = self._text, self._sort, self._query
        # A new sort of the same filter keeps its count: one query fewer (not after a change).
        same = reuse_count and self._loaded_once and self._count_known and text == self._counted_text
        known = self._row_count if same else None

        def work() -> HeadResult:
            started = time.perf_counter()
            with query.urgent():
                rows = list(query.page(text, sort, 0, HEAD_ROWS))
            complete = len(rows) < HEAD_ROWS or known == len(rows)
            count = len(rows) if complete else known
            return HeadResult(text, sort, rows, count, complete, time.perf_counter() - started)

        # The first screen has the cores to itself: other reads of the query (the last filter's
        # ids, facet tallies, completion values) pause until it is painted.
        self._hold_reads()
        self._ops.query(work, self._apply_head, failed=self._head_failed, latest=self._task_key, urgent=True,
                        name="end user head")

    def _hold_reads(self) -> None:
        self._end_hold()
        self._release_reads = self._query.hold_reads()

    def _end_hold(self) -> None:
        release, self._release_reads = self._release_reads, None
        if release is not None:
            release()

    def _head_failed(self, exc: BaseException) -> None:
        self._end_hold()
        self._query_failed(exc)

    def _refresh_count(self) -> None:
        text, sort, query = self._text, self._sort, self._query
        self._ops.query(
            lambda: int(query.count(text)),
            lambda count: self._apply_count(text, sort, count),
            failed=self._query_failed,
            latest=self._task_key,
            name="end user count",
        )

    def _refresh_ids(self) -> None:
        self._ids_timer.stop()
        text, sort, query = self._text, self._sort, self._query
        wanted = tuple(self.wanted_ids())

        def work() -> IdsResult:
            started = time.perf_counter()
            ids = _as_id_array(query.ids(text, sort))
            positions = _locate(ids, wanted)
            return IdsResult(text, sort, ids, positions, time.perf_counter() - started)

        # One id list at a time (serial): a stale one that has not started is skipped, so fast
        # typing never piles up million-row reads on two cores.
        self._ops.query(work, self._apply_ids, failed=self._query_failed, latest=self._task_key,
                        serial=self._task_key, name="end user ids")

    def schedule_refresh(self) -> None:
        """Refresh soon, but spend at most a quarter of the time re-reading ids (sync bursts)."""
        delay = max(REFRESH_MIN_MS, int(self._last_query_s * 3000))
        if not self._refresh_timer.isActive():
            self._refresh_timer.start(delay)

    def apply_cache_changes(self, changes: CacheChanges) -> None:
        """Repaint only what changed; re-query ids when membership or order may have moved."""
        if changes.end_user_ids is None:
            self._drop_cached_rows()
            if self.rowCount() and self.columnCount():
                self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))
            self.schedule_refresh()
            return
        rows = sorted(self._row_of[i] for i in changes.end_user_ids if i in self._row_of)
        for end_user_id in changes.end_user_ids:
            self._rows.pop(end_user_id, None)
            self._row_of.pop(end_user_id, None)
            self._cells.pop(end_user_id, None)
        last_column = self.columnCount() - 1
        for first, last in _runs(rows):
            self.dataChanged.emit(self.index(first, 0), self.index(last, last_column))
        if changes.rows_added_or_removed or changes.end_user_ids:
            # An edit can move a row out of the filter or to another place in the sort order;
            # the re-query finds out, and resets nothing if the ids are unchanged.
            self.schedule_refresh()

    def set_columns(self, columns: Sequence[ColumnSpec]) -> None:
        self.beginResetModel()
        self._columns = list(columns)
        self._cells.clear()
        self.endResetModel()

    @property
    def columns(self) -> list[ColumnSpec]:
        return list(self._columns)

    def id_at(self, row: int) -> int | None:
        if 0 <= row < len(self._ids):
            return int(self._ids[row])
        return None

    def ids_in_order(self) -> Sequence[int]:
        return self._ids

    def locate(self, ids: Collection[int]) -> dict[int, int]:
        """Rows of the given ids in the current order (cheap for a handful of ids)."""
        found = {i: self._row_of[i] for i in ids if i in self._row_of}
        rest = [i for i in ids if i not in found]
        found.update(_locate(self._ids, rest))
        return found

    def end_user_row(self, row: int) -> Any | None:
        """The ResultRow shown at `row`, loading its block if needed; None when unreadable."""
        value = self._row(row)
        return None if isinstance(value, _Unloaded) else value

    # --- Qt model interface -------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._row_count

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        spec = self._columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return spec.title()
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            if spec.kind is ColumnKind.MARKERS:
                return self.tr("Pending edits, conflicts and local deletions")
            if spec.property_key is not None:
                return self.tr("Property “%1”").replace("%1", spec.property_key)
            return spec.title()
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        return _CELL_FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ROLES_WITH_ROW and role != ID_ROLE:  # background, check state, size hint
            return None
        row, column = index.row(), index.column()
        if row < 0 or row >= self._row_count or column >= len(self._columns) or not index.isValid():
            return None
        if row >= len(self._ids):  # below the first screen while the id list loads
            waiting = self._waiting
            self._waiting = (min(row, waiting[0]), max(row, waiting[1])) if waiting else (row, row)
            if self._ids_timer.isActive():  # someone scrolled there: read the ids now
                self._refresh_ids()
            return self._placeholder_data(self._columns[column], role, loading=True)
        end_user_id = self._ids[row]
        if role == ID_ROLE:
            return int(end_user_id)
        if role == ROW_ROLE:
            value = self._row(row)
            return None if isinstance(value, _Unloaded) else value
        roles = self._cell_roles(row, column)
        if roles is None:
            return self._placeholder_data(self._columns[column], role)
        return roles.get(role)

    def _cell_roles(self, row: int, column: int) -> dict[int, Any] | None:
        """All roles of a cell of a row with a known id, loading its block; None if unreadable."""
        end_user_id = self._ids[row]
        cells = self._cells.get(end_user_id)
        if cells is not None:
            roles = cells.get(column)
            if roles is not None:
                self._row_of[end_user_id] = row  # a painted row's place, for scoped dataChanged
                return roles
        value = self._row(row)
        if isinstance(value, _Unloaded):
            return None
        roles = cell_roles(value, self._columns[column])
        if end_user_id in self._rows:  # cached only while its row is (evicted together)
            self._cells.setdefault(end_user_id, {})[column] = roles
        return roles

    def multiData(self, index: _Index, roleDataSpan: QModelRoleDataSpan | QModelRoleData) -> None:
        """Every role a painted cell needs in one call (Qt's delegates ask seven at once).

        Each call from C++ into Python takes the interpreter lock, and while a sync works in
        another thread each take may wait for it: one take per cell instead of one per role
        keeps a repaint short. The values are `data()`'s, from the same per-row cell cache.
        """
        # A span is a sequence at run time; PySide's stubs do not say so.
        asked: Iterable[QModelRoleData] = (
            (roleDataSpan,) if isinstance(roleDataSpan, QModelRoleData) else roleDataSpan  # type: ignore[assignment]  # see above
        )
        row, column = index.row(), index.column()
        known = 0 <= row < len(self._ids) and column < len(self._columns) and index.isValid()
        roles = self._cell_roles(row, column) if known else None
        for role_data in asked:
            role = role_data.role()
            if roles is not None and role != ID_ROLE and role != ROW_ROLE:
                value = roles.get(role)  # background, check state, size hint: never set
            else:
                value = self.data(index, role)  # the id, the row, a placeholder
            # A delegate hands the same span for every cell: a role without a value is cleared,
            # or the previous cell's would show.
            if value is None:
                role_data.clearData()
            else:
                role_data.setData(value)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Header click: sort in SQL by that column (the markers column does not sort)."""
        if not 0 <= column < len(self._columns):
            return
        sort_column = self._columns[column].sort_column
        if sort_column is None:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if not self._started:  # the view setting up its header: remember, the first refresh reads it
            self.restore_sort(sort_column, descending)
            return
        if sort_column == self._sort.column and descending == self._sort.descending:
            return
        self.set_sort(sort_column, descending)

    # --- internals ------------------------------------------------------------------------------

    def _apply_head(self, result: HeadResult) -> None:
        if result.text != self._text or result.sort != self._sort:
            return  # the filter moved on while this ran; a newer refresh is coming
        # Paused reads resume once the first screen is painted (paint events come first).
        release, self._release_reads = self._release_reads, None
        if release is not None:
            QTimer.singleShot(0, self, release)
        self._loaded_once = True
        head = array.array("q", (int(row.id) for row in result.rows))
        self.beginResetModel()
        self._ids = head
        self._row_count = result.count if result.count is not None else len(head)
        self._count_known = result.count is not None
        self._counted_text = result.text if result.count is not None else None
        self._drop_cached_rows()
        for index, row in enumerate(result.rows):  # the head is painted without another query
            self._rows[int(row.id)] = row
            self._row_of[int(row.id)] = index
        self.endResetModel()
        self.first_rows_shown.emit()
        if result.complete:
            self.ids_applied.emit(self._row_count)
            self.rows_relocated.emit({})  # the window finds its kept ids in the new order
            self._finish_complete()
        elif result.count is None:
            self._refresh_count()
        else:
            self.ids_applied.emit(self._row_count)
            self._ids_timer.start()

    def _apply_count(self, text: str, sort: SortSpec, count: int) -> None:
        if text != self._text or sort != self._sort or not self._loaded_once:
            return
        self._counted_text = text
        self._count_known = True
        if count > self._row_count and self.columnCount():
            # Rows below the first screen appear as placeholders until their ids arrive.
            self.beginInsertRows(QModelIndex(), self._row_count, count - 1)
            self._row_count = count
            self.endInsertRows()
        self.ids_applied.emit(self._row_count)
        if self.complete:
            self._finish_complete()
        elif self._on_complete:
            self._refresh_ids()
        else:
            self._ids_timer.start()  # wait for typing to pause before reading every id

    def _finish_complete(self) -> None:
        callbacks, self._on_complete = self._on_complete, []
        for callback in callbacks:
            callback()

    def _apply_ids(self, result: IdsResult) -> None:
        self._last_query_s = result.seconds
        if result.text != self._text or result.sort != self._sort:
            return  # the filter moved on while this ran; a newer refresh is coming
        first = not self._loaded_once
        self._loaded_once = True
        self._count_known = True
        self._counted_text = result.text
        known = len(self._ids)
        if not first and len(result.ids) == len(self._ids) == self._row_count and result.ids == self._ids:
            self.ids_applied.emit(self._row_count)
            return  # same ids in the same order: nothing moved, nothing to reset
        if not first and len(result.ids) == self._row_count and result.ids[:known] == self._ids:
            # The rest of a progressive load: the head stays, placeholders below fill in. Only
            # rows painted as placeholders change: a view repaints all it shows for any range.
            self._ids = result.ids
            waiting, self._waiting = self._waiting, None
            if waiting and self.columnCount():
                first_row, last_row = max(known, waiting[0]), min(self._row_count - 1, waiting[1])
                if first_row <= last_row:
                    self.dataChanged.emit(self.index(first_row, 0), self.index(last_row, self.columnCount() - 1))
            self.rows_relocated.emit(result.positions)
            self.ids_applied.emit(self._row_count)
            self._finish_complete()
            return
        self.beginResetModel()
        self._ids = result.ids
        self._row_count = len(result.ids)
        # Loaded rows stay: a row's content changes only with a broadcast, which drops it. Only
        # where each sits is forgotten (painting finds it again), so a sync's frequent re-reads
        # do not reload and rebuild every visible row.
        self._row_of.clear()
        self._waiting = None
        self.endResetModel()
        self.rows_relocated.emit(result.positions)
        self.ids_applied.emit(self._row_count)
        self._finish_complete()

    def _query_failed(self, exc: BaseException) -> None:
        log.warning("end user query failed: %s", exc)
        self.query_failed.emit(str(exc) or type(exc).__name__)

    def _drop_cached_rows(self) -> None:
        self._rows.clear()
        self._row_of.clear()
        self._cells.clear()
        self._waiting = None

    def _row(self, row: int) -> Any:
        end_user_id = int(self._ids[row])
        value = self._rows.get(end_user_id)
        if value is not None and not (isinstance(value, _Unloaded) and time.monotonic() - value.failed_at > RETRY_AFTER_S):
            self._rows.move_to_end(end_user_id)
            self._row_of[end_user_id] = row
            return value
        self._load_block(row)
        return self._rows.get(end_user_id) or _Unloaded(time.monotonic())

    def _load_block(self, row: int) -> None:
        start = (row // BLOCK) * BLOCK
        stop = min(start + BLOCK, len(self._ids))
        block = [int(i) for i in self._ids[start:stop]]
        wanted = [i for i in block if not _is_loaded(self._rows.get(i))]
        try:
            # A primary-key lookup of one block takes a millisecond or two: fine on the GUI
            # thread, and it keeps scrolling free of half-painted rows.
            found = self._query.rows_by_ids(wanted)
        except Exception:  # a locked or damaged database: placeholders, retried later
            log.exception("could not load end user rows %s..%s", start, stop)
            found = {}
        failed_at = time.monotonic()
        for offset, end_user_id in enumerate(block):
            if end_user_id in wanted:
                self._rows[end_user_id] = found.get(end_user_id) or _Unloaded(failed_at)
            self._row_of[end_user_id] = start + offset
            self._rows.move_to_end(end_user_id)
        while len(self._rows) > CACHE_ROWS:
            old_id, _ = self._rows.popitem(last=False)
            self._row_of.pop(old_id, None)
            self._cells.pop(old_id, None)

    def _placeholder_data(self, spec: ColumnSpec, role: int, loading: bool = False) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return "…" if spec.kind is not ColumnKind.MARKERS else ""
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            if loading:
                return self.tr("Loading…")
            return self.tr("This end user could not be loaded right now")
        if role == Qt.ItemDataRole.ForegroundRole:
            return QGuiApplication.palette().brush(QPalette.ColorGroup.Normal, QPalette.ColorRole.PlaceholderText)
        return None


_CELL_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
_ROLES_WITH_ROW = frozenset(
    {
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.DecorationRole,
        Qt.ItemDataRole.AccessibleTextRole,
        Qt.ItemDataRole.FontRole,
        Qt.ItemDataRole.ForegroundRole,
        Qt.ItemDataRole.TextAlignmentRole,
        ROW_ROLE,
    }
)


def _is_loaded(value: Any) -> bool:
    return value is not None and not isinstance(value, _Unloaded)


def _runs(rows: Sequence[int]) -> list[tuple[int, int]]:
    """Contiguous (first, last) runs of sorted row numbers, one dataChanged per run."""
    out: list[tuple[int, int]] = []
    for row in rows:
        if out and row == out[-1][1] + 1:
            out[-1] = (out[-1][0], row)
        else:
            out.append((row, row))
    return out
