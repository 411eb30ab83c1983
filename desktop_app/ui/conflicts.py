"""Conflicts and rejected edits: both sides side by side; the person decides, nothing silently."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QByteArray,
    QCoreApplication,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSettings,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.cache.records import ConflictChoice, ConflictRecord, PendingEdit
from desktop_app.fields import FIELDS_BY_KEY
from desktop_app.logs import describe_exception
from desktop_app.ui.relay import Relay, keep_newest
from desktop_app.ui.accessible import ValueLabel
from desktop_app.ui.theme import emphasis_font, muted_color

if TYPE_CHECKING:
    from desktop_app.cache.changes import CacheChanges
    from desktop_app.cache.store import Cache
    from desktop_app.ui.services import AppServices

log = logging.getLogger(__name__)

_Index = QModelIndex | QPersistentModelIndex
_FIELD_NAMES = {
    **{key: FIELDS_BY_KEY[key].title for key in ("email", "external_id")},
    "surveys": "Surveys",
    "delete": "Deletion",
}
_TYPED_FIELDS = frozenset({"properties", "email", "external_id"})  # a new value can be typed


def field_label(field: str, key: str | None) -> str:
    """How people name what changed: "Property plan", "Email", "Surveys"."""
    if key:
        return f"Property {key}"
    return _FIELD_NAMES.get(field, field.replace("_", " ").capitalize())


def value_text(value: object, field: str = "") -> str:
    """A value as a person reads it; surveys and deletion say what they mean."""
    if field == "surveys" and isinstance(value, bool):
        return "Surveys on" if value else "Surveys off"
    if field == "delete":
        return "Deleted" if value else "Kept"
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _when(unix: float | None) -> str:
    if not unix:
        return ""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(unix))


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A rejected edit with the email of its end user (read together in the background)."""

    edit: PendingEdit
    email: str

    @property
    def id(self) -> int:
        return self.edit.id


class _RecordTable(QAbstractTableModel):
    """A read-only table over a list of frozen records, replaced as a whole on reload."""

    COLUMNS: tuple[tuple[str, Callable[[Any], str]], ...] = ()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ConflictRecord | PendingEdit] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        record = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.COLUMNS[index.column()][1](record)
        if role == Qt.ItemDataRole.UserRole:
            return record
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(self.COLUMNS)):
            return QCoreApplication.translate(type(self).__name__, self.COLUMNS[section][0])
        return None

    def set_records(self, records: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(records)
        self.endResetModel()

    def record(self, row: int) -> ConflictRecord | PendingEdit | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, record_id: object) -> int:
        for row, record in enumerate(self._rows):
            if record.id == record_id:
                return row
        return -1


class ConflictsModel(_RecordTable):
    """One row per conflict: whose end user, which field, both values."""

    COLUMNS = (
        ("End user", lambda c: c.email or f"#{c.end_user_id}"),
        ("Field", lambda c: field_label(c.field, c.key)),
        ("Yours", lambda c: value_text(c.mine, c.field)),
        ("On the service", lambda c: value_text(c.theirs, c.field)),
        ("Found", lambda c: _when(c.created_at)),
    )


class RejectedEditsModel(_RecordTable):
    """Edits the service refused, with its own words."""

    COLUMNS = (
        ("End user", lambda r: r.email or f"#{r.edit.end_user_id}"),
        ("Change", lambda r: field_label(r.edit.kind.field, r.edit.key)),
        ("Value", lambda r: value_text(r.edit.value, r.edit.kind.field)),
        ("The service said", lambda r: r.edit.message or ""),
        ("When", lambda r: _when(r.edit.created_at)),
    )


class ConflictsView(QWidget):
    """Every conflict with base, yours and theirs side by side; keep, take, or type a new value."""

    counts_changed = Signal(int, int)  # conflicts, rejected edits

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("ConflictsView")
        self.setWindowTitle(self.tr("Conflicts and rejected edits"))
        self.setAccessibleName(self.tr("Conflicts and rejected edits"))
        self._services = services
        self._cache = services.cache
        self._ops = services.ops
        self._busy = False
        self._selected_id: object = None

        self.conflicts = ConflictsModel(self)
        self.rejected = RejectedEditsModel(self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._build_conflicts_tab(), "")
        self.tabs.addTab(self._build_rejected_tab(), "")
        self.status_label = ValueLabel(self.tr("Result of the last action"), self)
        self.status_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status_label)
        QShortcut(QKeySequence.StandardKey.Refresh, self, self.reload)

        # Writers' broadcasts that touch conflicts or the outbox: one reload per GUI-thread turn.
        self._relay = Relay(keep_newest, self)
        self._relay.delivered.connect(self._on_cache_changed)
        self._unsubscribe: Callable[[], None] | None = self._cache.subscribe(self._changed_elsewhere)
        # Whatever way the window goes, writer threads must stop calling into it: the closure
        # holds the subscription list, not the (then dead) widget.
        subscriptions = self._subscriptions = [self._unsubscribe]
        self.destroyed.connect(lambda *_: [unsubscribe() for unsubscribe in subscriptions])
        self.resize(980, 560)
        self._restore_geometry()
        self._update_tab_titles()
        self._show_selected()
        self.reload()

    # --- layout -----------------------------------------------------------------------------

    def _build_conflicts_tab(self) -> QWidget:
        page = QWidget(self)
        self.conflict_table = QTableView(page)
        self.conflict_table.setModel(self.conflicts)
        self.conflict_table.setAccessibleName(self.tr("Conflicts"))
        self._setup_table(self.conflict_table, single=True)
        self.conflict_table.selectionModel().currentRowChanged.connect(self._on_current_changed)

        detail = QWidget(page)
        self.conflict_title = QLabel(detail)
        self.conflict_title.setFont(emphasis_font(self.conflict_title.font(), bold=True))
        self.conflict_title.setWordWrap(True)
        self.conflict_hint = QLabel(detail)
        self.conflict_hint.setWordWrap(True)
        self.base_box = self._value_box(self.tr("Before (last seen)"), detail)
        self.mine_box = self._value_box(self.tr("Yours"), detail)
        self.theirs_box = self._value_box(self.tr("On the service now"), detail)
        sides = QGridLayout()
        for column, (caption, box) in enumerate((
            (self.tr("Before (last seen)"), self.base_box),
            (self.tr("Yours"), self.mine_box),
            (self.tr("On the service now"), self.theirs_box),
        )):
            label = QLabel(caption, detail)
            label.setFont(emphasis_font(label.font(), bold=True))
            label.setBuddy(box)
            sides.addWidget(label, 0, column)
            sides.addWidget(box, 1, column)
        self.keep_mine_button = QPushButton(self.tr("Keep &mine"), detail)
        self.keep_mine_button.setAccessibleName(self.tr("Keep my value and send it"))
        self.keep_mine_button.setToolTip(self.tr("Send your value to the service, replacing theirs"))
        self.keep_mine_button.clicked.connect(lambda: self._resolve(ConflictChoice.MINE))
        self.take_theirs_button = QPushButton(self.tr("Take &theirs"), detail)
        self.take_theirs_button.setAccessibleName(self.tr("Take the service's value"))
        self.take_theirs_button.setToolTip(self.tr("Drop your edit and keep what the service has"))
        self.take_theirs_button.clicked.connect(lambda: self._resolve(ConflictChoice.THEIRS))
        self.new_value = QLineEdit(detail)
        self.new_value.setAccessibleName(self.tr("A new value"))
        self.new_value.setPlaceholderText(self.tr("Or type a value that replaces both…"))
        self.new_value.returnPressed.connect(lambda: self._resolve(ConflictChoice.VALUE))
        self.use_value_button = QPushButton(self.tr("Use &new value"), detail)
        self.use_value_button.setAccessibleName(self.tr("Use the new value"))
        self.use_value_button.clicked.connect(lambda: self._resolve(ConflictChoice.VALUE))
        self.new_value.textChanged.connect(self._update_buttons)
        choose = QHBoxLayout()
        choose.addWidget(self.keep_mine_button)
        choose.addWidget(self.take_theirs_button)
        choose.addSpacing(16)
        choose.addWidget(self.new_value, 1)
        choose.addWidget(self.use_value_button)
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 6, 0, 0)
        detail_layout.addWidget(self.conflict_title)
        detail_layout.addWidget(self.conflict_hint)
        detail_layout.addLayout(sides, 1)
        detail_layout.addLayout(choose)

        splitter = self.splitter = QSplitter(Qt.Orientation.Vertical, page)
        splitter.addWidget(self.conflict_table)
        splitter.addWidget(detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(page)
        layout.addWidget(splitter)
        return page

    def _build_rejected_tab(self) -> QWidget:
        page = QWidget(self)
        intro = QLabel(self.tr(
            "The service refused these edits. They were not applied there; your copy shows the "
            "service's value again. Dismiss them once you have read them."), page)
        intro.setWordWrap(True)
        self.rejected_table = QTableView(page)
        self.rejected_table.setModel(self.rejected)
        self.rejected_table.setAccessibleName(self.tr("Rejected edits"))
        self._setup_table(self.rejected_table, single=False)
        self.rejected_table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.dismiss_button = QPushButton(self.tr("&Dismiss"), page)
        self.dismiss_button.setAccessibleName(self.tr("Dismiss the selected rejected edits"))
        self.dismiss_button.clicked.connect(self._dismiss_selected)
        QShortcut(QKeySequence.StandardKey.Delete, self.rejected_table, self._dismiss_selected)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.dismiss_button)
        layout = QVBoxLayout(page)
        layout.addWidget(intro)
        layout.addWidget(self.rejected_table, 1)
        layout.addLayout(row)
        return page

    def _setup_table(self, table: QTableView, single: bool) -> None:
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection if single
                               else QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setAlternatingRowColors(True)
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
        table.horizontalHeader().setStretchLastSection(True)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        table.setWordWrap(False)

    def _value_box(self, name: str, parent: QWidget) -> QPlainTextEdit:
        box = QPlainTextEdit(parent)
        box.setReadOnly(True)
        box.setAccessibleName(name)
        box.setMinimumHeight(48)
        box.setTabChangesFocus(True)
        return box

    # --- loading ------------------------------------------------------------------------------

    @Slot()
    def reload(self) -> None:
        """Read conflicts and rejected edits in the background; the newest read wins."""
        def read(cache: Cache) -> tuple[list[ConflictRecord], list[RejectedRow]]:
            rejected = []
            for edit in cache.rejected_edits():
                cached = cache.get(edit.end_user_id)
                rejected.append(RejectedRow(edit, cached.end_user.email if cached else ""))
            return list(cache.conflicts()), rejected

        self._ops.read(read, self._loaded, failed=self._failed, latest="conflicts-view", name="load conflicts")

    def _loaded(self, result: tuple[list[Any], list[Any]]) -> None:
        conflicts, rejected = result
        previous = self._selected_id
        self.conflicts.set_records(conflicts)
        self.rejected.set_records(rejected)
        for table in (self.conflict_table, self.rejected_table):
            table.resizeColumnsToContents()
            for column in range(table.model().columnCount()):
                table.setColumnWidth(column, max(120, min(table.columnWidth(column) + 16, 320)))
        row = self.conflicts.row_of(previous) if previous is not None else -1
        if row < 0 and self.conflicts.rowCount():
            row = 0
        if row >= 0:
            self.conflict_table.selectionModel().setCurrentIndex(
                self.conflicts.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self._show_selected()
        self._update_tab_titles()
        self.counts_changed.emit(len(conflicts), len(rejected))

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        title, message = describe_exception(exc)
        self.status_label.setText(f"{title}: {message}")
        self._update_buttons()

    def _changed_elsewhere(self, changes: CacheChanges) -> None:
        """On the writing thread: only what this view shows is worth a reload."""
        if changes.conflicts_changed or changes.outbox_changed:
            self._relay.push(changes)

    @Slot(object)
    def _on_cache_changed(self, _changes: CacheChanges) -> None:
        self.reload()

    def _update_tab_titles(self) -> None:
        self.tabs.setTabText(0, self.tr("Conflicts ({n})").format(n=self.conflicts.rowCount()))
        self.tabs.setTabText(1, self.tr("Rejected edits ({n})").format(n=self.rejected.rowCount()))

    # --- the selected conflict --------------------------------------------------------------

    def current_conflict(self) -> Any:
        index = self.conflict_table.selectionModel().currentIndex()
        return self.conflicts.record(index.row()) if index.isValid() else None

    @Slot(QModelIndex, QModelIndex)
    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._show_selected()

    def _show_selected(self) -> None:
        conflict = self.current_conflict()
        self._selected_id = None if conflict is None else conflict.id
        if conflict is None:
            self.conflict_title.setText(self.tr("No conflicts") if not self.conflicts.rowCount()
                                        else self.tr("Select a conflict"))
            self.conflict_hint.setText(self.tr(
                "A conflict appears when you and someone on the service changed the same field "
                "of the same end user. Nothing is overwritten until you choose."))
            for box in (self.base_box, self.mine_box, self.theirs_box):
                box.setPlainText("")
            self.new_value.clear()
        else:
            who = conflict.email or f"#{conflict.end_user_id}"
            self.conflict_title.setText(self.tr("{field} of {who}").format(
                field=field_label(conflict.field, conflict.key), who=who))
            self.conflict_hint.setText(self.tr(
                "You changed this while someone changed it on the service. Choose which value "
                "to keep, or type a new one."))
            for box, value in ((self.base_box, conflict.base), (self.mine_box, conflict.mine),
                               (self.theirs_box, conflict.theirs)):
                box.setPlainText(value_text(value, conflict.field))
                box.setFont(emphasis_font(self.font(), italic=value is None))
            typed = conflict.field in _TYPED_FIELDS and not isinstance(conflict.mine, (bool, list))
            self.new_value.setText(value_text(conflict.mine) if typed and conflict.mine is not None else "")
        palette = self.conflict_hint.palette()
        palette.setColor(self.conflict_hint.foregroundRole(), muted_color())
        self.conflict_hint.setPalette(palette)
        self._update_buttons()

    @Slot()
    def _update_buttons(self) -> None:
        conflict = self.current_conflict()
        has = conflict is not None and not self._busy
        typed = has and conflict.field in _TYPED_FIELDS and not isinstance(conflict.mine, (bool, list))
        self.keep_mine_button.setEnabled(has)
        self.take_theirs_button.setEnabled(has)
        self.new_value.setEnabled(typed)
        self.use_value_button.setEnabled(typed and bool(self.new_value.text().strip()))
        self.dismiss_button.setEnabled(
            not self._busy and bool(self.rejected_table.selectionModel().selectedRows()))

    # --- decisions ----------------------------------------------------------------------------

    def _resolve(self, choice: ConflictChoice) -> None:
        conflict = self.current_conflict()
        if conflict is None or self._busy:
            return
        value = self.new_value.text().strip() if choice is ConflictChoice.VALUE else None
        if choice is ConflictChoice.VALUE and not value:
            return
        self._busy = True
        self._update_buttons()
        # The next conflict in the list gets the focus once this one is gone.
        row = self.conflict_table.currentIndex().row()
        following = self.conflicts.record(row + 1) or self.conflicts.record(row - 1)
        self._selected_id = None if following is None else following.id
        conflict_id = conflict.id
        label = field_label(conflict.field, conflict.key)
        done = {ConflictChoice.MINE: self.tr("Kept your value for {f}."),
                ConflictChoice.THEIRS: self.tr("Took the service's value for {f}."),
                ConflictChoice.VALUE: self.tr("Set a new value for {f}.")}[choice].format(f=label)
        self._ops.write(lambda cache: cache.resolve_conflict(conflict_id, choice, value=value),
                        lambda _changes: self._resolved(done), failed=self._failed, name="resolve conflict")

    def _resolved(self, message: str) -> None:
        self._busy = False
        self.status_label.setText(message)
        self.reload()  # the change broadcast also triggers this; latest= keeps one read

    @Slot()
    def _dismiss_selected(self) -> None:
        rows = sorted(i.row() for i in self.rejected_table.selectionModel().selectedRows())
        ids = [record.id for record in map(self.rejected.record, rows) if record is not None]
        if not ids or self._busy:
            return
        self._busy = True
        self._update_buttons()
        def dismiss(cache: Cache) -> None:
            for edit_id in ids:
                cache.dismiss_rejected(edit_id)

        message = self.tr("Dismissed 1 rejected edit.") if len(ids) == 1 else \
            self.tr("Dismissed %n rejected edits.", "", len(ids))
        self._ops.write(dismiss, lambda _none: self._resolved(message), failed=self._failed,
                        name="dismiss rejected edits")

    def detach(self) -> None:
        """Stop listening to the cache (before the cache closes)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def closeEvent(self, event: Any) -> None:
        settings = QSettings()
        settings.setValue("conflicts_view/geometry", self.saveGeometry())
        settings.setValue("conflicts_view/splitter", self.splitter.saveState())
        self.detach()
        super().closeEvent(event)

    def _restore_geometry(self) -> None:
        settings = QSettings()
        geometry = settings.value("conflicts_view/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        splitter = settings.value("conflicts_view/splitter")
        if isinstance(splitter, QByteArray) and not splitter.isEmpty():
            self.splitter.restoreState(splitter)

    def showEvent(self, event: Any) -> None:
        if self._unsubscribe is None:  # reopened after a close: listen and read afresh
            self._unsubscribe = self._cache.subscribe(self._changed_elsewhere)
            self._subscriptions.append(self._unsubscribe)
            self.reload()
        super().showEvent(event)
