"""The "Export to CSV" dialog: pick rows, columns, format and file; export in the background."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, QStandardPaths, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.cache.filters.parse import FilterError
from desktop_app.cache.filters.words import describe_filter
from desktop_app.export import (
    ALL_PROPERTIES,
    BASE_COLUMNS,
    DEFAULT_COLUMNS,
    PROPERTY_PREFIX,
    ExportCancelled,
    ExportError,
    ExportOptions,
    ExportResult,
    TimestampFormat,
    export_csv,
)
from desktop_app.export.columns import ColumnError, sorted_keys
from desktop_app.ui.accessible import ValueLabel
from desktop_app.ui.operations import Operations
from desktop_app.ui.relay import Relay, keep_newest

if TYPE_CHECKING:
    from desktop_app.cache.reading.query import EndUserQuery, SortSpec

log = logging.getLogger(__name__)

SETTINGS_GROUP = "export"
_COLUMN_ROLE = Qt.ItemDataRole.UserRole


def _key_label(key: str) -> str:
    """A property key as the checklist shows it: quoted when blank, padded or multi-line."""
    if key and key == key.strip() and key.isprintable():
        return key
    return json.dumps(key, ensure_ascii=False)


def _filter_words(text: str) -> str:
    """Which filter "All … matching the filter" is, as typed and in words."""
    if not text.strip():
        return ""
    try:
        words = describe_filter(text)
    except FilterError:
        return f"“{text}”"
    return f"“{text}” — {words}"


def _children(item: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    return [child for i in range(item.childCount()) if (child := item.child(i)) is not None]


class ExportDialog(QDialog):
    """Exports what the current filter shows, or the selection, to a CSV file."""

    exported = Signal(object)  # ExportResult, after a successful export

    def __init__(
        self,
        query: EndUserQuery,
        filter_text: str,
        sort: SortSpec,
        selected_ids: Sequence[int],
        parent: QWidget | None = None,
        *,
        ops: Operations,
        selection_only: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("ExportDialog")
        self.setWindowTitle(self.tr("Export to CSV"))
        self.setAccessibleName(self.tr("Export end users to CSV"))
        self._query = query
        self._filter_text = filter_text
        self._sort = sort
        self._selected = tuple(dict.fromkeys(selected_ids))
        self._selection_only = selection_only and bool(self._selected)
        self._ops = ops
        self._cancel = threading.Event()
        self._running = False
        self._close_when_done = False
        self._confirmed_replace: Path | None = None
        self._progress_relay = Relay(keep_newest, self)  # (done, total) from the export thread
        self._progress_relay.delivered.connect(lambda figures: self._on_progress(*figures))
        self.last_result: ExportResult | None = None

        layout = QVBoxLayout(self)
        layout.addWidget(self._build_rows_box())
        layout.addWidget(self._build_columns_box(), 1)
        layout.addWidget(self._build_format_box())
        layout.addLayout(self._build_file_row())
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName(self.tr("Export progress"))
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        self.status = ValueLabel(self.tr("Export status"), self)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status)
        self.buttons = QDialogButtonBox(self)
        self.export_button = self.buttons.addButton(
            self.tr("&Export"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.export_button.setDefault(True)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.export_button.clicked.connect(self.start_export)
        self.close_button.clicked.connect(self.reject)
        layout.addWidget(self.buttons)

        self._restore_settings()
        self._update_export_enabled()
        self.resize(520, 640)
        self._load_in_background()

    # --- building ---------------------------------------------------------------------------

    def _build_rows_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Rows"), self)
        self.selection_radio = QRadioButton(box)
        self.selection_radio.setText(self.tr("&Selection only (%1)").replace("%1", f"{len(self._selected):,}"))
        self.selection_radio.setAccessibleName(self.tr("Export the selected end users only"))
        self.filter_radio = QRadioButton(box)
        self.filter_radio.setAccessibleName(self.tr("Export every end user the filter matches"))
        self._set_filter_count(None)
        group = QButtonGroup(box)
        group.addButton(self.selection_radio)
        group.addButton(self.filter_radio)
        self.selection_radio.setEnabled(bool(self._selected))
        # One selected row is usually just the current row; two or more is a deliberate choice,
        # as is "Export these end users" on the selection.
        chosen = self._selection_only or len(self._selected) > 1
        (self.selection_radio if chosen else self.filter_radio).setChecked(True)
        box_layout = QVBoxLayout(box)
        box_layout.addWidget(self.selection_radio)
        box_layout.addWidget(self.filter_radio)
        self.filter_words = ValueLabel(self.tr("The filter"), box)
        self.filter_words.setWordWrap(True)
        self.filter_words.setTextFormat(Qt.TextFormat.PlainText)
        self.filter_words.setText(_filter_words(self._filter_text))
        self.filter_words.setVisible(bool(self._filter_text.strip()))
        self.filter_words.setContentsMargins(24, 0, 0, 0)  # under its radio button's text
        box_layout.addWidget(self.filter_words)
        return box

    def _build_columns_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Columns"), self)
        self.columns_tree = QTreeWidget(box)
        self.columns_tree.setHeaderHidden(True)
        self.columns_tree.setAccessibleName(self.tr("Columns to export"))
        self.columns_tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable
        self.fields_item = QTreeWidgetItem(self.columns_tree, [self.tr("Fields")])
        self.fields_item.setFlags(flags | Qt.ItemFlag.ItemIsAutoTristate)
        for column in BASE_COLUMNS:
            item = QTreeWidgetItem(self.fields_item, [self.tr(column.label)])
            item.setFlags(flags | Qt.ItemFlag.ItemIsSelectable)
            item.setData(0, _COLUMN_ROLE, column.id)
            item.setToolTip(0, column.id)
            checked = column.id in DEFAULT_COLUMNS
            item.setCheckState(0, Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.properties_item = QTreeWidgetItem(self.columns_tree, [self.tr("Properties (loading…)")])
        self.properties_item.setFlags(flags | Qt.ItemFlag.ItemIsAutoTristate)
        self.properties_item.setCheckState(0, Qt.CheckState.Checked)
        self.properties_item.setToolTip(
            0, self.tr("One column per property key; lists are joined with \"; \".")
        )
        self.columns_tree.expandAll()
        self.columns_tree.itemChanged.connect(lambda *_: self._update_export_enabled())
        box_layout = QVBoxLayout(box)
        box_layout.addWidget(self.columns_tree)
        return box

    def _build_format_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Format"), self)
        self.iso_radio = QRadioButton(self.tr("&ISO 8601, UTC (2024-05-01T12:00:00Z)"), box)
        self.unix_radio = QRadioButton(self.tr("&Unix seconds (1714564800)"), box)
        self.iso_radio.setChecked(True)
        stamps = QButtonGroup(box)
        stamps.addButton(self.iso_radio)
        stamps.addButton(self.unix_radio)
        stamp_row = QVBoxLayout()
        stamp_row.addWidget(self.iso_radio)
        stamp_row.addWidget(self.unix_radio)
        self.bom_check = QCheckBox(self.tr("Start with a &byte-order mark (helps Excel read UTF-8)"), box)
        self.neutralize_check = QCheckBox(
            self.tr("&Protect against formulas (prefix ' to text starting with = + - @)"), box
        )
        self.neutralize_check.setChecked(True)
        self.neutralize_check.setToolTip(
            self.tr("Spreadsheets run such cells as formulas; also after leading spaces or line "
                    "breaks, and with the full-width ＝ ＋ － ＠. Numbers are never changed.")
        )
        form = QFormLayout(box)
        form.addRow(self.tr("Timestamps:"), stamp_row)
        form.addRow(self.bom_check)
        form.addRow(self.neutralize_check)
        return box

    def _build_file_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        label = QLabel(self.tr("&File:"), self)
        self.path_edit = QLineEdit(self)
        self.path_edit.setAccessibleName(self.tr("File to write"))
        self.path_edit.setPlaceholderText(self.tr("Where to save the CSV file"))
        self.path_edit.textChanged.connect(lambda *_: self._update_export_enabled())
        label.setBuddy(self.path_edit)
        self.browse_button = QPushButton(self.tr("&Browse…"), self)
        self.browse_button.setAccessibleName(self.tr("Choose the file"))
        self.browse_button.clicked.connect(self._browse)
        row.addWidget(label)
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.browse_button)
        return row

    # --- background loading ------------------------------------------------------------------

    def _load_in_background(self) -> None:
        query, text = self._query, self._filter_text
        self._ops.query(lambda: query.count(text), self._set_filter_count,
                        failed=lambda exc: self._set_filter_count(None), name="export-count")
        # Every key, not the query's fast sample: a rare key must still be pickable.
        self._ops.query(lambda: query.property_keys(exhaustive=True), self.set_property_keys,
                        failed=lambda exc: self.set_property_keys([]), name="export-property-keys")

    def _set_filter_count(self, count: int | None) -> None:
        shown = "…" if count is None else f"{count:,}"
        if self._filter_text.strip():
            text = self.tr("&All %1 matching the filter").replace("%1", shown)
        else:
            text = self.tr("&All %1 end users").replace("%1", shown)
        self.filter_radio.setText(text)

    def set_property_keys(self, keys: Sequence[str]) -> None:
        """Fill the property part of the checklist (all checked, as the default export has)."""
        self.columns_tree.blockSignals(True)
        try:
            checked = self.properties_item.checkState(0) != Qt.CheckState.Unchecked
            self.properties_item.takeChildren()
            for key in sorted_keys(keys):
                item = QTreeWidgetItem(self.properties_item, [_key_label(key)])
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable
                              | Qt.ItemFlag.ItemIsSelectable)
                item.setData(0, _COLUMN_ROLE, PROPERTY_PREFIX + key)
                item.setCheckState(0, Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            title = self.tr("Properties (%1)").replace("%1", f"{len(keys):,}")
            self.properties_item.setText(0, title)
            if not keys:
                self.properties_item.setCheckState(0, Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        finally:
            self.columns_tree.blockSignals(False)
        self.properties_item.setExpanded(True)
        self._update_export_enabled()

    # --- what the person picked ------------------------------------------------------------

    def chosen_columns(self) -> list[str]:
        """Column ids in export order; every property checked means "every key in the rows"."""
        columns = [
            str(item.data(0, _COLUMN_ROLE)) for item in _children(self.fields_item)
            if item.checkState(0) == Qt.CheckState.Checked
        ]
        state = self.properties_item.checkState(0)
        if state == Qt.CheckState.Checked:
            columns.append(ALL_PROPERTIES)  # also keys that arrive with a sync meanwhile
        elif state == Qt.CheckState.PartiallyChecked:
            columns.extend(
                str(item.data(0, _COLUMN_ROLE)) for item in _children(self.properties_item)
                if item.checkState(0) == Qt.CheckState.Checked
            )
        return columns

    def chosen_options(self) -> ExportOptions:
        return ExportOptions(
            columns=self.chosen_columns(),
            timestamps=TimestampFormat.UNIX if self.unix_radio.isChecked() else TimestampFormat.ISO,
            bom=self.bom_check.isChecked(),
            neutralize_formulas=self.neutralize_check.isChecked(),
            sort=self._sort,
        )

    def _chosen_ids(self) -> tuple[int, ...] | None:
        return self._selected if self.selection_radio.isChecked() else None

    def _update_export_enabled(self) -> None:
        ready = bool(self.path_edit.text().strip()) and bool(self.chosen_columns())
        self.export_button.setEnabled(ready and not self._running)

    @Slot()
    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, self.tr("Export to CSV"), self.path_edit.text(), self.tr("CSV files (*.csv)")
        )
        if path:
            if not path.lower().endswith(".csv") and "." not in Path(path).name:
                path += ".csv"
            self.path_edit.setText(path)
            self._confirmed_replace = Path(path)  # the file dialog asked about replacing

    # --- running -------------------------------------------------------------------------------

    @Slot()
    def start_export(self) -> None:
        if self._running:
            return
        path = Path(self.path_edit.text().strip()).expanduser()
        try:
            options = self.chosen_options()
        except ColumnError as exc:
            self._show_status(str(exc), error=True)
            return
        if path.exists() and not path.is_dir() and self._confirmed_replace != path:
            self._confirmed_replace = path
            self.export_button.setText(self.tr("&Replace"))
            self._show_status(
                self.tr("%1 already exists. Click Replace to overwrite it.").replace("%1", path.name)
            )
            return
        self._set_running(True)
        self._cancel.clear()
        query, text, ids, relay = self._query, self._filter_text, self._chosen_ids(), self._progress_relay
        cancel = self._cancel

        def job() -> ExportResult:
            return export_csv(query, text, path, options, ids=ids,
                              progress=lambda done, total: relay.push((done, total)), cancelled=cancel.is_set)

        self._show_status(self.tr("Exporting…"))
        self._ops.work(job, self._on_done, failed=self._on_failed, name="export-csv")

    def cancel_export(self) -> None:
        """Stop a running export; the file is left as it was before."""
        if self._running:
            self._cancel.set()
            self._show_status(self.tr("Cancelling…"))

    @property
    def running(self) -> bool:
        return self._running

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        if not self._running:
            return
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(self.tr("%1 of %2").replace("%1", f"{done:,}").replace("%2", f"{total:,}"))

    def _on_done(self, result: ExportResult) -> None:
        self._set_running(False)
        self.last_result = result
        self.progress.setMaximum(max(result.rows, 1))
        self.progress.setValue(max(result.rows, 1))
        self.progress.setFormat(self.tr("Done"))
        self._show_status(
            self.tr("Exported %1 end users (%2 columns) to %3.")
            .replace("%1", f"{result.rows:,}")
            .replace("%2", f"{len(result.columns):,}")
            .replace("%3", str(result.path))
        )
        self._save_settings()
        self.exported.emit(result)
        self._finish_close()

    def _on_failed(self, exc: BaseException) -> None:
        self._set_running(False)
        self.progress.setVisible(False)
        if isinstance(exc, ExportCancelled):
            self._show_status(self.tr("Export cancelled. Nothing was written."))
        elif isinstance(exc, (ExportError, ColumnError)):
            self._show_status(str(exc), error=True)
        else:
            log.error("export failed", exc_info=exc)
            self._show_status(self.tr("The export failed: %1").replace("%1", str(exc) or type(exc).__name__),
                              error=True)
        self._finish_close()

    def _set_running(self, running: bool) -> None:
        self._running = running
        for widget in (self.selection_radio, self.filter_radio, self.columns_tree, self.iso_radio,
                       self.unix_radio, self.bom_check, self.neutralize_check, self.path_edit,
                       self.browse_button):
            widget.setEnabled(not running)
        self.selection_radio.setEnabled(not running and bool(self._selected))
        self.close_button.setText(self.tr("Cancel") if running else self.tr("Close"))
        self.export_button.setText(self.tr("&Export"))
        if running:
            self.progress.setVisible(True)
            self.progress.setMaximum(0)  # busy until the first batch reports a total
            self.progress.setValue(0)
        self._update_export_enabled()

    def _show_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        font = self.status.font()
        font.setBold(error)  # emphasis without a hard-coded colour (dark mode stays readable)
        self.status.setFont(font)

    def reject(self) -> None:
        """Close; while exporting, cancel first and close when the worker has stopped."""
        if self._running:
            self._close_when_done = True
            self.cancel_export()
            return
        super().reject()

    def _finish_close(self) -> None:
        if self._close_when_done:
            self._close_when_done = False
            super().reject()

    # --- remembered choices ------------------------------------------------------------------

    def _restore_settings(self) -> None:
        settings = QSettings()
        settings.beginGroup(SETTINGS_GROUP)
        folder = str(settings.value("folder", "") or "")
        if not folder or not Path(folder).is_dir():
            folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        self.path_edit.setText(str(Path(folder or Path.home()) / f"end-users-{date.today():%Y-%m-%d}.csv"))
        if settings.value("timestamps", "iso") == TimestampFormat.UNIX.value:
            self.unix_radio.setChecked(True)
        self.bom_check.setChecked(bool(settings.value("bom", False, type=bool)))
        self.neutralize_check.setChecked(bool(settings.value("neutralize_formulas", True, type=bool)))
        settings.endGroup()

    def _save_settings(self) -> None:
        settings = QSettings()
        settings.beginGroup(SETTINGS_GROUP)
        path = Path(self.path_edit.text().strip()).expanduser()
        settings.setValue("folder", str(path.parent))
        settings.setValue("timestamps", (TimestampFormat.UNIX if self.unix_radio.isChecked()
                                         else TimestampFormat.ISO).value)
        settings.setValue("bom", self.bom_check.isChecked())
        settings.setValue("neutralize_formulas", self.neutralize_check.isChecked())
        settings.endGroup()
