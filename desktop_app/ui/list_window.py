"""Work from a list (File ▸ Apply a list…): open a file or paste a list, say which column
identifies people, match it against the cache, read the report and the preview, keep the list
as a filter, and apply one action as one undo step.

Reading the file, matching and applying each run as one op (`ops.work`, `ops.read`,
`ops.write`): a 100,000-row list never holds the GUI thread. The report's tables are built on
the worker too, cut at `SHOWN_ROWS` (a group's CSV export has every row).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QAbstractTableModel, QCoreApplication, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.lists.actions import RowPreview, apply_action, keep_list, preview
from desktop_app.lists.identifiers import IdentifierKind
from desktop_app.lists.job import (
    GROUP_TITLES,
    ListJob,
    action_name,
    default_list_name,
    field_words,
    line_of,
    value_words,
)
from desktop_app.lists.matching import MatchReport
from desktop_app.lists.reading import ColumnGuess, ListTable, guess_identifier_column, read_list_file, read_pasted
from desktop_app.lists.report_csv import ReportGroup, group_table, write_group_csv
from desktop_app.lists.wanted import ActionKind, ListAction
from desktop_app.property_types import parse_property_text
from desktop_app.sync.bar_state import bar_state
from desktop_app.sync.undo_words import undo_question_note
from desktop_app.ui.accessible import ValueLabel
from desktop_app.ui.bulk_actions import SAMPLE_COUNT
from desktop_app.ui.theme import muted_color

if TYPE_CHECKING:
    from desktop_app.cache.store import Cache
    from desktop_app.ui.services import AppServices

SHOWN_ROWS = 1000  # rows of a group (and of the preview) on screen; the CSV export has them all
_ACTIONS: tuple[tuple[ActionKind, str], ...] = (
    (ActionKind.DISABLE_SURVEYS, "Disable surveys"),
    (ActionKind.ENABLE_SURVEYS, "Enable surveys"),
    (ActionKind.SET_PROPERTY, "Set a property"),
    (ActionKind.UNSET_PROPERTY, "Remove a property"),
    (ActionKind.SET_EXTERNAL_ID, "Set external ids from a column"),
    (ActionKind.SET_COLUMNS, "Set each person's values from the other columns"),
    (ActionKind.ERASE, "Delete (erase) the end users"),
)
_KINDS = ((IdentifierKind.EMAIL, "Email addresses"), (IdentifierKind.EXTERNAL_ID, "External ids"),
          (IdentifierKind.WOOTRIC_ID, "Wootric ids"))


def _t(text: str) -> str:
    return QCoreApplication.translate("ListWindow", text)


@dataclass(frozen=True, slots=True)
class GroupRows:
    """One group of the report as the window shows it: its header, first rows and count."""

    header: list[str]
    rows: list[list[object]]
    total: int


@dataclass(frozen=True, slots=True)
class MatchedList:
    """A match's outcome, built on the worker: the report and what the window shows of it."""

    job: ListJob
    report: MatchReport
    groups: dict[str, GroupRows]
    preview: list[RowPreview]


def _with_guess(table: ListTable) -> tuple[ListTable, ColumnGuess]:
    """A read list and the app's guess of its column (a pass over every row: on the worker)."""
    return table, guess_identifier_column(table)


def match_for_window(cache: Cache, job: ListJob) -> MatchedList:
    """Match, then cut each group and the preview to what fits on screen (on the worker)."""
    report = job.match(cache)
    groups: dict[str, GroupRows] = {}
    counts = report.counts()
    # Only the rows shown are made into cells: tens of thousands of rows of cells would be
    # garbage at once, and the collector's pass over them holds every thread, the GUI's too.
    cut = replace(report, **{group: getattr(report, group)[:SHOWN_ROWS] for group, _title in GROUP_TITLES})
    for group, _title in GROUP_TITLES:
        header, shown = group_table(cut, ReportGroup(group))
        for row in shown:  # the list's own line, as a spreadsheet shows it, not the row's position
            if isinstance(row[0], int):
                row[0] = line_of(job.table, row[0] - 1)
        header = ["line", *header[1:]]
        # What the action does to each person (now → wanted, why refused) next to who they are:
        # the columns a person reads first, before the long addresses push them out of sight.
        first = [c for c, name in enumerate(header) if name.endswith((" now", " wanted")) or name == "reason"]
        order = [*range(min(3, len(header))), *first, *(c for c in range(3, len(header)) if c not in first)]
        groups[group] = GroupRows([header[c] for c in order], [[row[c] for c in order] for row in shown],
                                  counts[group])
    return MatchedList(job, report, groups, preview(report, SHOWN_ROWS))


MAX_COLUMN_PX = 280  # a long address never pushes the other columns out of sight


def _fit_columns(table: QTableView) -> None:
    table.resizeColumnsToContents()  # measured on the first rows only (setResizeContentsPrecision)
    model = table.model()
    for column in range(model.columnCount() if model is not None else 0):
        table.setColumnWidth(column, min(table.columnWidth(column), MAX_COLUMN_PX))


class RowsModel(QAbstractTableModel):
    """Rows of text cells under a header; a row marked muted is greyed (a cell that changes
    nothing). A model, not a table of items: a thousand rows show in a few milliseconds."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.header: list[str] = []
        self.rows: list[list[str]] = []
        self.muted: list[bool] = []
        self._muted_brush = QBrush(muted_color())

    def set_rows(self, header: list[str], rows: list[list[str]], muted: list[bool] | None = None) -> None:
        self.beginResetModel()
        self.header, self.rows = header, rows
        self.muted = muted if muted is not None else [False] * len(rows)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.header)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and self.muted[index.row()]:
            return self._muted_brush
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal and section < len(self.header):
            return self.header[section]
        return None

    def text(self, row: int, column: int) -> str:
        return self.rows[row][column]


def confirmation_texts(matched: MatchedList, undo_note: str) -> tuple[str, str, str]:
    """(title, question, details) of the question before applying, as the bulk actions ask it:
    the count, who is left alone, five examples before → after, what undo can do."""
    report = matched.report
    action = report.action
    assert action is not None
    count = len(report.matched)
    users = _t("1 end user") if count == 1 else _t("%1 end users").replace("%1", f"{count:,}")
    title = f"{action_name(action)} ({count:,})"
    question = _t("%1 for %2?").replace("%1", action_name(action)).replace("%2", users)
    notes = []
    if report.already:
        notes.append(_t("%1 already as wanted and unchanged.").replace("%1", f"{len(report.already):,}"))
    if report.refused:
        notes.append(_t("%1 refused and unchanged.").replace("%1", f"{len(report.refused):,}"))
    source = matched.job.table.source
    which = _t("Which: the %1 that %2 matched.").replace("%1", users).replace("%2", source)
    changing = [row for row in matched.preview if row.changes]
    lines = [f"{row.email}: " + "; ".join(f"{field_words(c.field)} {value_words(c.field, c.before)} → "
                                          f"{value_words(c.field, c.after)}" for c in row.cells if c.changes)
             for row in changing[:SAMPLE_COUNT]]
    if count > len(lines) and lines:
        lines.append(_t("and %1 more").replace("%1", f"{count - len(lines):,}"))
    details = "\n\n".join(part for part in (which, "\n".join(lines), undo_note) if part)
    return title, " ".join([question, *notes]), details


class ListWindow(QWidget):
    """The job of one list at a time; the main window opens it and follows its signals."""

    show_list_requested = Signal(str)  # a kept list's name: the main window filters `list:"name"`
    applied = Signal(str)  # the action's label once written ("Disable surveys (4)")

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setObjectName("ListWindow")
        self.setWindowTitle(_t("Work from a list"))
        self.table: ListTable | None = None
        self._guess: ColumnGuess | None = None
        self.matched: MatchedList | None = None
        # Replaced by tests: the question before applying, and the name a kept list gets.
        self.confirm: Callable[[MatchedList], bool] = self._ask
        self.ask_list_name: Callable[[str], str | None] = self._ask_name

        # --- the list ---
        self.open_button = QPushButton(_t("&Open a file…"), self)
        self.open_button.setToolTip(_t("A CSV or TSV file: any delimiter, UTF-8 or UTF-16 (Ctrl+O)"))
        self.open_button.setShortcut("Ctrl+O")
        self.source_label = ValueLabel(_t("List"), self)
        self.paste_edit = QPlainTextEdit(self)
        self.paste_edit.setAccessibleName(_t("Pasted list"))
        self.paste_edit.setPlaceholderText(_t("…or paste emails or ids here: one a line, or separated by commas"))
        self.paste_edit.setMaximumHeight(56)
        self.paste_button = QPushButton(_t("&Read the pasted text"), self)

        self.column_box = QComboBox(self)
        self.kind_box = QComboBox(self)
        for kind, words in _KINDS:
            self.kind_box.addItem(_t(words), kind)
        self.guess_label = ValueLabel(_t("The app's guess"), self)
        self.guess_label.setWordWrap(True)
        self.action_box = QComboBox(self)
        for action_kind, words in _ACTIONS:
            self.action_box.addItem(_t(words), action_kind)
        self.key_edit = QLineEdit(self)
        self.key_edit.setAccessibleName(_t("Property key, or the column of external ids"))
        self.value_edit = QLineEdit(self)
        self.value_edit.setAccessibleName(_t("Value"))
        self.match_button = QPushButton(_t("&Match"), self)
        self.match_button.setEnabled(False)

        form = QFormLayout()
        source_row = QHBoxLayout()
        source_row.addWidget(self.open_button)
        source_row.addWidget(self.source_label, 1)
        form.addRow(_t("File:"), source_row)
        paste_row = QHBoxLayout()
        paste_row.addWidget(self.paste_edit, 1)
        paste_row.addWidget(self.paste_button, 0, Qt.AlignmentFlag.AlignTop)
        form.addRow(_t("Or paste:"), paste_row)
        column_row = QHBoxLayout()
        column_row.addWidget(self.column_box, 2)
        kind_caption = QLabel(_t("&read as:"), self)
        kind_caption.setBuddy(self.kind_box)
        column_row.addWidget(kind_caption)
        column_row.addWidget(self.kind_box, 1)
        column_caption = QLabel(_t("Identifying &column:"), self)
        column_caption.setBuddy(self.column_box)
        form.addRow(column_caption, column_row)
        form.addRow("", self.guess_label)
        action_caption = QLabel(_t("&Action:"), self)
        action_caption.setBuddy(self.action_box)
        form.addRow(action_caption, self.action_box)
        self.key_caption = QLabel(_t("&Key:"), self)
        self.key_caption.setBuddy(self.key_edit)
        form.addRow(self.key_caption, self.key_edit)
        self.value_caption = QLabel(_t("&Value:"), self)
        self.value_caption.setBuddy(self.value_edit)
        form.addRow(self.value_caption, self.value_edit)

        # --- the report and the preview ---
        self.status = ValueLabel(_t("List status"), self)
        self.status.setWordWrap(True)
        self.problem = ValueLabel(_t("Problem"), self)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b00020;")
        self.problem.hide()
        self.groups = QListWidget(self)
        self.groups.setAccessibleName(_t("Groups of the match report"))
        self.group_rows = self._table_widget(_t("Rows of the group"))
        self.export_button = QPushButton(_t("E&xport this group to CSV…"), self)
        self.export_button.setEnabled(False)
        report_page = QWidget(self)
        report_layout = QVBoxLayout(report_page)
        split = QSplitter(Qt.Orientation.Horizontal, report_page)
        split.addWidget(self.groups)
        split.addWidget(self.group_rows)
        split.setStretchFactor(1, 1)
        split.setSizes([330, 770])
        report_layout.addWidget(split, 1)
        report_layout.addWidget(self.export_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.preview_table = self._table_widget(_t("Preview: each cell before and after"))
        self.group_model = self._model(self.group_rows)
        self.preview_model = self._model(self.preview_table)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(report_page, _t("Match report"))
        self.tabs.addTab(self.preview_table, _t("Preview"))
        tab_bar = self.tabs.tabBar()
        assert tab_bar is not None
        tab_bar.setAccessibleName(_t("Report pages"))

        self.show_button = QPushButton(_t("&Show in the main table"), self)
        self.show_button.setToolTip(_t("Keep who the list named under a name, and filter the main table by it"))
        self.apply_button = QPushButton(_t("A&pply…"), self)
        self.show_button.setEnabled(False)
        self.apply_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.match_button)
        buttons.addWidget(self.show_button)
        buttons.addWidget(self.apply_button)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)
        self.resize(1100, 760)

        self.open_button.clicked.connect(lambda: self.choose_file())
        self.paste_button.clicked.connect(self.read_paste)
        self.match_button.clicked.connect(self.match)
        self.action_box.currentIndexChanged.connect(self._action_changed)
        self.column_box.currentIndexChanged.connect(self._column_changed)
        self.groups.currentRowChanged.connect(self._show_group)
        self.export_button.clicked.connect(lambda: self.export_group())
        self.show_button.clicked.connect(self.show_in_table)
        self.apply_button.clicked.connect(self.apply)
        # A report is of one column, kind and action: another choice makes it stale.
        for combo in (self.column_box, self.kind_box, self.action_box):
            combo.currentIndexChanged.connect(self._choice_changed)
        for edit in (self.key_edit, self.value_edit):
            edit.textChanged.connect(self._choice_changed)
        self._action_changed()
        self.status.setText(_t("Open a file or paste a list, then Match. Nothing is written before Apply."))

    @staticmethod
    def _model(table: QTableView) -> RowsModel:
        model = table.model()
        assert isinstance(model, RowsModel)
        return model

    def _table_widget(self, name: str) -> QTableView:
        table = QTableView(self)
        table.setModel(RowsModel(table))
        table.setAccessibleName(name)
        table.horizontalHeader().setResizeContentsPrecision(60)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)  # dense, as the main table
        table.setWordWrap(False)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        table.horizontalHeader().setStretchLastSection(True)
        return table

    # --- reading the list -----------------------------------------------------------------------

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, _t("Open a list"), "",
                                              _t("Lists (*.csv *.tsv *.txt);;All files (*)"))
        if path:
            self.open_file(path)

    def open_file(self, path: str | Path) -> None:
        """Read the file on a worker; a file that cannot be read is said here, nothing kept."""
        self._busy(_t("Reading %1…").replace("%1", Path(path).name))
        self.services.ops.work(lambda: _with_guess(read_list_file(path)), self._read, failed=self._failed,
                               name="read a list")

    def read_paste(self) -> None:
        text = self.paste_edit.toPlainText()
        self._busy(_t("Reading the pasted text…"))
        self.services.ops.work(lambda: _with_guess(read_pasted(text)), self._read, failed=self._failed,
                               name="read a list")

    def _read(self, read: tuple[ListTable, ColumnGuess]) -> None:
        table, guess = read
        self.table, self._guess = table, guess
        self.matched = None
        self._clear_report()
        self.column_box.blockSignals(True)
        self.column_box.clear()
        for column in range(table.width):
            name = table.column_name(column)
            self.column_box.addItem(name[:1].upper() + name[1:], column)
        self.column_box.setCurrentIndex(guess.column)
        self.column_box.blockSignals(False)
        self.kind_box.setCurrentIndex(self.kind_box.findData(guess.kind))
        self.guess_label.setText(guess.reason[0].upper() + guess.reason[1:] + ".")
        delimiter = {None: _t("one column"), ",": _t("commas"), ";": _t("semicolons"), "\t": _t("tabs"),
                     "|": _t("bars")}.get(table.delimiter, table.delimiter or "")
        self.source_label.setText(_t("%1: %2 rows, %3, %4").replace("%1", table.source)
                                  .replace("%2", f"{len(table.rows):,}").replace("%3", delimiter)
                                  .replace("%4", table.encoding))
        self.problem.hide()
        self._idle(_t("Read %1 rows. Check the column and the action, then Match.").replace("%1", f"{len(table.rows):,}"))
        self.match_button.setEnabled(True)

    def _column_changed(self, _index: int) -> None:
        if self._guess is not None:
            self.guess_label.setText(_t("Picked by you; the app guessed: %1.").replace("%1", self._guess.reason))

    def _choice_changed(self, *_args: object) -> None:
        if self.matched is None:
            return
        self.matched = None
        self._clear_report()
        self._idle(_t("The column or the action changed: Match again before applying."))

    def _action_changed(self, _index: int = 0) -> None:
        kind = self.action_box.currentData()
        needs_key = kind in (ActionKind.SET_PROPERTY, ActionKind.UNSET_PROPERTY, ActionKind.SET_EXTERNAL_ID)
        self.key_caption.setText(_t("&Column:") if kind is ActionKind.SET_EXTERNAL_ID else _t("&Key:"))
        self.key_edit.setPlaceholderText(_t("external_id") if kind is ActionKind.SET_EXTERNAL_ID else _t("plan"))
        for widget in (self.key_caption, self.key_edit):
            widget.setVisible(needs_key)
        for widget in (self.value_caption, self.value_edit):
            widget.setVisible(kind is ActionKind.SET_PROPERTY)

    def _action(self) -> ListAction:
        kind = ActionKind(self.action_box.currentData())
        key = self.key_edit.text().strip()
        if kind is ActionKind.SET_PROPERTY:
            return ListAction(kind, key, parse_property_text(key, self.value_edit.text()))
        if kind is ActionKind.UNSET_PROPERTY:
            return ListAction(kind, key)
        if kind is ActionKind.SET_EXTERNAL_ID:
            return ListAction(kind, key or None)
        return ListAction(kind)

    # --- matching -----------------------------------------------------------------------------

    def match(self) -> None:
        if self.table is None:
            self._show_problem(_t("Open a file or paste a list first."))
            return
        try:
            action = self._action()
        except ValueError as error:  # the key or value the edit layer refuses
            self._show_problem(getattr(error, "message", None) or str(error))
            return
        job = ListJob(self.table, int(self.column_box.currentData()), IdentifierKind(self.kind_box.currentData()),
                      action)
        self._busy(_t("Matching %1 rows…").replace("%1", f"{len(self.table.rows):,}"))
        self.services.ops.read(lambda cache: match_for_window(cache, job), self._matched, failed=self._failed,
                               name="match a list")

    def _matched(self, matched: MatchedList) -> None:
        self.matched = matched
        report = matched.report
        self.problem.hide()
        self.groups.clear()
        for group, title in GROUP_TITLES:
            self.groups.addItem(f"{_t(title)} ({matched.groups[group].total:,})")
        first = next((i for i, (g, _) in enumerate(GROUP_TITLES) if matched.groups[g].total), 0)
        self.groups.setCurrentRow(first)  # shows its rows (currentRowChanged)
        self._fill_preview(matched.preview, len(report.matched) + len(report.already))
        counts = report.counts()
        self._idle(_t("%1 rows: %2 will change, %3 already as wanted, %4 refused, %5 not in the cache. "
                      "Nothing is written before Apply.")
                   .replace("%1", f"{report.rows:,}").replace("%2", f"{counts['matched']:,}")
                   .replace("%3", f"{counts['already']:,}").replace("%4", f"{counts['refused']:,}")
                   .replace("%5", f"{counts['not_in_cache']:,}"))
        self.apply_button.setEnabled(bool(report.matched))
        self.show_button.setEnabled(bool(report.member_ids))

    def _clear_report(self) -> None:
        self.groups.clear()
        self.group_model.set_rows([], [])
        self.preview_model.set_rows([], [])
        self.apply_button.setEnabled(False)
        self.show_button.setEnabled(False)
        self.export_button.setEnabled(False)

    def current_group(self) -> str | None:
        row = self.groups.currentRow()
        return GROUP_TITLES[row][0] if self.matched is not None and 0 <= row < len(GROUP_TITLES) else None

    def _show_group(self, row: int) -> None:
        if self.matched is None or not 0 <= row < len(GROUP_TITLES):
            return
        shown = self.matched.groups[GROUP_TITLES[row][0]]
        table = self.group_rows
        self.group_model.set_rows(shown.header, [["" if v is None else str(v) for v in cells] for cells in shown.rows])
        _fit_columns(table)
        self.export_button.setEnabled(shown.total > 0)
        more = shown.total - len(shown.rows)
        table.setToolTip(_t("The first %1 of %2 rows; the CSV export has them all.")
                         .replace("%1", f"{len(shown.rows):,}").replace("%2", f"{shown.total:,}") if more > 0 else "")

    def _fill_preview(self, rows: list[RowPreview], total: int) -> None:
        header = [_t("End user"), _t("Field"), _t("Before"), _t("After"), _t("Change")]
        cells = [(row, cell) for row in rows for cell in row.cells]
        self.preview_model.set_rows(header, [
            [row.email, field_words(cell.field), value_words(cell.field, cell.before),
             value_words(cell.field, cell.after), _t("changes") if cell.changes else _t("no change")]
            for row, cell in cells], [not cell.changes for _row, cell in cells])
        _fit_columns(self.preview_table)
        self.tabs.setTabText(1, _t("Preview (%1)").replace("%1", f"{total:,}"))

    # --- export, keep, apply --------------------------------------------------------------------

    def export_group(self, path: str | Path | None = None) -> None:
        group = self.current_group()
        if self.matched is None or group is None:
            return
        if path is None:
            name = f"{Path(self.matched.job.table.source).stem or 'list'}-{group}.csv"
            chosen, _ = QFileDialog.getSaveFileName(self, _t("Export this group"), name, _t("CSV files (*.csv)"))
            if not chosen:
                return
            path = chosen
        report, target = self.matched.report, path
        self._busy(_t("Exporting…"))
        self.services.ops.work(
            lambda: write_group_csv(report, ReportGroup(group), target),
            lambda count: self._idle(_t("Exported %1 rows to %2.").replace("%1", f"{count:,}").replace("%2", str(target))),
            failed=self._failed, name="export a group")

    def show_in_table(self) -> None:
        """Keep who the list named under a name, then have the main window filter by it."""
        if self.matched is None:
            return
        name = self.ask_list_name(default_list_name(self.matched.job.table.source))
        if not name or not name.strip():
            return
        report, source = self.matched.report, self.matched.job.table.source
        self._busy(_t("Keeping the list…"))

        def kept(_list_id: int) -> None:
            self._idle(_t("Kept %1 end users as the list “%2”; the main table shows them.")
                       .replace("%1", f"{len(report.member_ids):,}").replace("%2", name.strip()))
            self.show_list_requested.emit(name.strip())

        self.services.ops.write(lambda cache: keep_list(cache, report, name, source=source), kept,
                                failed=self._failed, name="keep a list")

    def undo_note(self) -> str:
        sync = self.services.sync
        return undo_question_note(bar_state(sync.status if sync is not None else None),
                                  sync.grace if sync is not None else 0.0)

    def apply(self) -> None:
        matched = self.matched
        if matched is None or matched.report.action is None or not matched.report.matched:
            return
        if not self.confirm(matched):
            return
        label = f"{action_name(matched.report.action)} ({len(matched.report.matched):,})"
        self._busy(_t("%1…").replace("%1", label))

        def done(_changes: object) -> None:
            self._idle(_t("Done: %1. Match again to see the list as it is now.").replace("%1", label))
            self.applied.emit(label)

        self.apply_button.setEnabled(False)  # the report is of the cache before: match again
        self.services.ops.write(lambda cache: apply_action(cache, matched.report), done, failed=self._failed,
                                name=label)

    def confirmation_box(self, matched: MatchedList) -> tuple[QMessageBox, QAbstractButton]:
        title, question, details = confirmation_texts(matched, self.undo_note())
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setTextFormat(Qt.TextFormat.PlainText)  # addresses and values are typed text, never markup
        box.setWindowTitle(title)
        box.setText(question)
        box.setInformativeText(details)
        ok = box.addButton(title, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(ok)
        return box, ok

    def _ask(self, matched: MatchedList) -> bool:
        box, ok = self.confirmation_box(matched)
        box.exec()
        return box.clickedButton() is ok

    def _ask_name(self, default: str) -> str | None:
        name, ok = QInputDialog.getText(self, _t("Show in the main table"),
                                        _t("Keep the people of this list as:"), text=default)
        return name if ok else None

    # --- state ------------------------------------------------------------------------------------

    def _busy(self, text: str) -> None:
        self.status.setText(text)
        self.match_button.setEnabled(False)

    def _idle(self, text: str) -> None:
        self.status.setText(text)
        self.match_button.setEnabled(self.table is not None)

    def _failed(self, error: BaseException) -> None:
        self._show_problem(getattr(error, "message", None) or str(error) or type(error).__name__)
        self._idle(_t("Nothing was written."))

    def _show_problem(self, text: str) -> None:
        self.problem.setText("⚠ " + text)
        self.problem.show()
