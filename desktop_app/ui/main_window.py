"""The main window: filter bar, facets, the end-user table and the detail panel, with menus."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QByteArray, QItemSelectionModel, QModelIndex, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QInputDialog,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop_app.cache.changes import CacheChanges, Initiator
from desktop_app.cache.records import BatchSummary, EditKind, UndoState
from desktop_app.sync.status import SyncStatus
from desktop_app.sync.undo_words import UndoNotice
from desktop_app.ui import copy_rows
from desktop_app.ui.accessible import ValueLabel
from desktop_app.ui.bulk_actions import BulkActionRunner, BulkKind, BulkRequest, BulkScope, action_label
from desktop_app.ui.bulk_menus import matching_filter, matching_refusal, update_matching_menu
from desktop_app.ui.detail_panel import DetailPanel, edit_label, edit_message
from desktop_app.ui.end_user_model import EndUserTableModel
from desktop_app.ui.end_user_table import EndUserTable
from desktop_app.ui.facet_counts import FacetCounts
from desktop_app.ui.facet_selection import toggle_value
from desktop_app.ui.facets import FacetPanel
from desktop_app.ui.filter_bar import TAGS_KEY, FilterBar, quote_value
from desktop_app.ui.nps_panel import NpsPanel
from desktop_app.ui.log_viewer import LogViewer
from desktop_app.ui.conflicts import ConflictsView
from desktop_app.ui.current_row import CurrentRowDelegate
from desktop_app.ui.empty_result import EmptyResultNotice
from desktop_app.ui.export_launch import EXPORT_SHORTCUT, ExportLauncher
from desktop_app.ui.services import AppServices, CacheChangesRelay
from desktop_app.ui.shortcuts import FilterToResults, focus_first_row, install_close_keys
from desktop_app.ui.sync_settings import MAX_UNDO_GRACE_S, set_undo_grace
from desktop_app.ui.sync_status import SyncStatusBar
from desktop_app.ui.operations import log_failure
from desktop_app.ui.window_layout import TableFirstSplitter, install_dialog_title_fitter

log = logging.getLogger(__name__)

PROPERTY_KEYS_EVERY_S = 60.0
_EXCLUSIVE_FACET_KEYS = ("surveys", "disabled_by")


def _bulk_request(step: BatchSummary) -> BulkRequest | None:
    """The bulk action an edit batch is, or None for kinds only one end user's edit makes."""
    if step.kind is EditKind.SET_SURVEYS:
        return BulkRequest(BulkKind.ENABLE_SURVEYS if step.value else BulkKind.DISABLE_SURVEYS)
    if step.kind is EditKind.SET_PROPERTY:
        return BulkRequest(BulkKind.SET_PROPERTY, step.key)
    if step.kind is EditKind.UNSET_PROPERTY:
        return BulkRequest(BulkKind.REMOVE_PROPERTY, step.key)
    if step.kind is EditKind.DELETE:
        return BulkRequest(BulkKind.DELETE)
    return None


def step_label(step: BatchSummary) -> str:
    """An undo step's name, as the action that made it was named: a bulk action (or any edit
    of several end users) counts them, "Disable surveys (1,234)"; one end user's edit from the
    detail panel does not, "Disable surveys"."""
    if step.kind is EditKind.SET_EXTERNAL_ID and (step.per_row or step.end_users != 1):
        return f"Set external ids ({step.end_users:,})"  # a list's column, each person their own
    request = _bulk_request(step)
    if request is not None and (step.bulk or step.end_users != 1 or step.kind is EditKind.DELETE):
        return action_label(request, step.end_users)
    return edit_label(step.kind, step.key, step.value)


class MainWindow(QMainWindow):
    """What a survey-ops person works in: browse, filter, edit and bulk-edit end users."""

    sign_in_requested = Signal()
    sign_out_requested = Signal()
    sync_now_requested = Signal()

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setObjectName("MainWindow")
        # The account alone: the window system adds the application's name after it.
        self.setWindowTitle(services.account_label or self.tr("Local data"))
        settings = QSettings()
        self._total: int | None = None
        self._property_keys: list[str] = []
        self._keys_read_at = -PROPERTY_KEYS_EVERY_S
        self._child_windows: dict[str, QWidget] = {}
        self._undo_notice: UndoNotice | None = None  # the activity line's word on the newest edit
        self.ask_before_closing = True  # the session turns it off when it closes the window itself

        # --- parts ---
        self.relay = CacheChangesRelay(services.cache, self)
        self.model = EndUserTableModel(services.query, services.ops, [], self)
        sort_column = str(settings.value("main_window/sort_column", "email"))
        sort_desc = str(settings.value("main_window/sort_descending", "false")).lower() == "true"
        self.model.restore_sort(sort_column, sort_desc)
        self.table = EndUserTable(self.model, self)
        self.filter_bar = FilterBar(parent=self)
        self.activity = ValueLabel(self.tr("Activity"), self)
        self.facets = FacetPanel(self)
        self.detail = DetailPanel(services, self)
        self.bulk = BulkActionRunner(services, self, lambda: self.model.sort_spec)
        self.export = ExportLauncher(services, self.model, self.table)

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addWidget(self.filter_bar)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, central)
        self.splitter.addWidget(self.facets)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes([220, 760, 420])
        self.splitter.setChildrenCollapsible(True)
        TableFirstSplitter(self.splitter, table_at=1)
        install_dialog_title_fitter()
        self.empty_notice = EmptyResultNotice(self.table)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.activity)
        self.setCentralWidget(central)
        self._install_status_bar()
        self._install_nps_panel()
        self._build_menus()

        # --- wiring ---
        self.relay.delivered.connect(self._on_cache_changes)
        self.filter_bar.filter_changed.connect(self._filter_changed)
        self.filter_bar.values_wanted.connect(self._load_completion_values)
        self.filter_bar.tags_wanted.connect(self._load_completion_tags)
        self.filter_bar.export_requested.connect(self.export.open)
        self.facets.term_activated.connect(self._facet_clicked)
        self.model.ids_applied.connect(self._ids_applied)
        self.model.query_failed.connect(self._show_activity)
        self.table.selectionModel().currentRowChanged.connect(self._current_row_changed)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.activated.connect(lambda _index: self.detail.focus_editor())
        self.table.current_lost.connect(lambda: self.detail.show_end_user(None))
        self.table.customContextMenuRequested.connect(self._table_menu)
        self.table.setItemDelegate(CurrentRowDelegate(self.table))
        self.empty_notice.clear_filter_requested.connect(self.filter_bar.clear)
        popup = self.filter_bar.completer.popup()
        assert popup is not None  # QCompleter makes its popup on first ask
        FilterToResults(self.filter_bar.edit, self.table, popup)
        self.filter_bar.edit.returnPressed.connect(lambda: focus_first_row(self.table))
        self.detail.edit_done.connect(self._edit_done)
        self.detail.conflicts_requested.connect(self.open_conflicts)
        self.detail.keep_current_requested.connect(lambda end_user_id: self.table.select_ids([end_user_id]))
        self.bulk.started.connect(self._show_activity)
        self.bulk.finished.connect(self._edit_done)
        self.bulk.failed.connect(self._bulk_failed)
        self.bulk.cancelled.connect(lambda: self._show_activity(""))
        services.ops.failure_shown.connect(self._task_failed)
        services.ops.undo_state_changed.connect(self._undo_state_loaded)

        self.table.sync_sort_indicator()
        self._restore_window_state(settings)
        # The id query goes first and alone: counts, completion keys and facets follow once
        # the table has rows, so they never compete with the first paint for the two cores.
        if services.rows_readable:
            self.model.refresh()
        else:
            self._show_activity(self.tr("Opening the local cache…"))
        self._first_ids = True
        self.facet_counts = FacetCounts(self.facets, services.ops, services.query, lambda: self.model.filter_text,
                                        lambda: self._property_keys, lambda: self.model.loaded, self)

    # --- building ---------------------------------------------------------------------------------

    def _install_nps_panel(self) -> None:
        """The NPS of whatever the filter shows, in a dock below the table (View ▸ NPS)."""
        self.nps = NpsPanel(self.services.ops, self.services.query, self)
        dock = QDockWidget(self.tr("NPS"), self)
        dock.setObjectName("nps_dock")
        dock.setWidget(self.nps)
        dock.setAllowedAreas(Qt.DockWidgetArea.BottomDockWidgetArea | Qt.DockWidgetArea.TopDockWidgetArea)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        dock.hide()
        self.nps_dock = dock

    def _install_status_bar(self) -> None:
        bar = SyncStatusBar(self.services, self)
        self.sync_bar = bar
        self.setStatusBar(bar)
        bar.conflicts_requested.connect(self.open_conflicts)
        bar.sign_in_requested.connect(self.sign_in_requested.emit)
        bar.work_offline_toggled.connect(self._work_offline)
        bar.status_shown.connect(self._sync_status_shown)

    def _action(self, menu: QMenu, text: str, slot: Any, shortcut: Any = None, *, context: Qt.ShortcutContext | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        if context is not None:
            action.setShortcutContext(context)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu(self.tr("&File"))
        self.sign_in_action = self._action(file_menu, self.tr("Sign &in…"), self.sign_in_requested.emit)
        self.sign_out_action = self._action(file_menu, self.tr("Sign &out"), self.sign_out_requested.emit)
        file_menu.addSeparator()
        self.export_action = self._action(file_menu, self.tr("&Export…"), self.export.open, QKeySequence(EXPORT_SHORTCUT))
        # Work from lists: the window for a list's action; imports and erasure get theirs beside it.
        self.apply_list_action = self._action(file_menu, self.tr("Apply a &list…"), self.open_list_window,
                                              QKeySequence("Ctrl+L"))
        file_menu.addSeparator()
        self._action(file_menu, self.tr("&Close window"), self.close, QKeySequence.StandardKey.Close)
        self.quit_action = self._action(file_menu, self.tr("&Quit"), self.quit, QKeySequence("Ctrl+Q"))

        edit = bar.addMenu(self.tr("&Edit"))
        self.undo_action = self._action(edit, self.tr("&Undo"), self.undo, [QKeySequence.StandardKey.Undo])
        self.redo_action = self._action(
            edit, self.tr("&Redo"), self.redo, [QKeySequence("Ctrl+Shift+Z"), QKeySequence.StandardKey.Redo]
        )
        edit.addSeparator()
        self.copy_action = self._action(edit, self.tr("&Copy"), self.copy_selected, QKeySequence.StandardKey.Copy,
                                        context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.table.addAction(self.copy_action)  # Ctrl+C in a text field copies its text, not rows
        self.copy_csv_action = self._action(edit, self.tr("Copy as C&SV"), lambda: self.copy_selected(as_csv=True))
        edit.addSeparator()
        self.find_action = self._action(edit, self.tr("&Find…"), self.filter_bar.focus_filter, QKeySequence.StandardKey.Find)
        self.clear_filter_action = self._action(edit, self.tr("C&lear filter"), self._escape, QKeySequence(Qt.Key.Key_Escape))
        self._action(edit, self.tr("Select &all"), self.table.selectAll, QKeySequence.StandardKey.SelectAll,
                     context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.addAction(edit.actions()[-1])
        self.table.addAction(edit.actions()[-1])
        edit.addSeparator()
        self.edit_action = self._action(edit, self.tr("&Edit end user"), self.detail.focus_editor)
        self.delete_action = self._action(edit, self.tr("&Delete end users…"), self.delete_selected,
                                          QKeySequence.StandardKey.Delete,
                                          context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.table.addAction(self.delete_action)  # Delete acts on the table only, never in a text field

        view = bar.addMenu(self.tr("&View"))
        self.columns_menu = view.addMenu(self.tr("&Columns"))
        self.columns_menu.aboutToShow.connect(lambda: self.table.fill_columns_menu(self.columns_menu))
        self.show_facets_action = QAction(self.tr("&Facets"), self, checkable=True, checked=True)
        self.show_facets_action.toggled.connect(self.facets.setVisible)
        view.addAction(self.show_facets_action)
        self.show_detail_action = QAction(self.tr("&Details"), self, checkable=True, checked=True)
        self.show_detail_action.toggled.connect(self.detail.setVisible)
        view.addAction(self.show_detail_action)
        self.show_nps_action = self.nps_dock.toggleViewAction()
        self.show_nps_action.setText(self.tr("&NPS"))
        self.show_nps_action.setShortcut(QKeySequence("Ctrl+Shift+N"))
        view.addAction(self.show_nps_action)

        users = bar.addMenu(self.tr("End &users"))
        users.setToolTipsVisible(True)  # a disabled "matching the filter" says why
        self.bulk_selected_menu = users.addMenu(self.tr("&Selected end users"))
        self.bulk_matching_menu = users.addMenu(self.tr("All end users &matching the filter"))
        for menu, matching in ((self.bulk_selected_menu, False), (self.bulk_matching_menu, True)):
            self._fill_bulk_menu(menu, matching)
        users.aboutToShow.connect(self._update_bulk_menu_titles)
        users.addSeparator()
        users.addAction(self.apply_list_action)  # a list of people is acted on as end users are

        sync = bar.addMenu(self.tr("&Sync"))
        self.sync_now_action = self._action(sync, self.tr("Sync &now"), self.sync_now, QKeySequence(Qt.Key.Key_F5))
        self.work_offline_action = QAction(self.tr("Work &offline"), self, checkable=True)
        self.work_offline_action.toggled.connect(self._work_offline)
        sync.addAction(self.work_offline_action)
        self.undo_grace_action = self._action(sync, self.tr("&Undo time before sending…"), self.ask_undo_grace)
        sync.addSeparator()
        self.conflicts_action = self._action(sync, self.tr("&Conflicts…"), self.open_conflicts)
        has_sync = self.services.sync is not None
        self.sync_now_action.setEnabled(has_sync)
        self.work_offline_action.setEnabled(has_sync)
        self.undo_grace_action.setEnabled(has_sync)

        help_menu = bar.addMenu(self.tr("&Help"))
        self._action(help_menu, self.tr("&Filter syntax"), self.filter_bar.show_help,
                     QKeySequence(QKeySequence.StandardKey.HelpContents))
        self.log_action = self._action(help_menu, self.tr("&Log"), self.open_log)

    def _fill_bulk_menu(self, menu: QMenu, matching: bool) -> None:
        for kind, text in (
            (BulkKind.DISABLE_SURVEYS, self.tr("&Disable surveys…")),
            (BulkKind.ENABLE_SURVEYS, self.tr("&Enable surveys…")),
            (BulkKind.SET_PROPERTY, self.tr("&Set property…")),
            (BulkKind.REMOVE_PROPERTY, self.tr("&Remove property…")),
        ):
            self._action(menu, text, lambda k=kind, m=matching: self.start_bulk(k, matching=m))

    def _update_bulk_menu_titles(self) -> None:
        selected = self.table.selected_count()
        self.bulk_selected_menu.setTitle(self.tr("&Selected end users (%1)").replace("%1", f"{selected:,}"))
        self.bulk_selected_menu.setEnabled(selected > 0)
        update_matching_menu(self.bulk_matching_menu, self.filter_bar, self.model.filter_text,
                             self.model.rowCount(), self.tr("All end users &matching the filter (%1)"))

    # --- selection (the table keeps it across refreshes) -----------------------------------------

    def _current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid() and self.table.relocating:
            return  # a refresh is under way; the same end user comes back with the full ids
        self.detail.show_end_user(self.model.id_at(current.row()) if current.isValid() else None)

    def _selection_changed(self, *_args: Any) -> None:
        selected = self.table.selected_count() > 0
        self.delete_action.setEnabled(selected)
        self.copy_action.setEnabled(selected)
        self.copy_csv_action.setEnabled(selected)

    def copy_selected(self, *, as_csv: bool = False) -> None:
        """The selected end users to the clipboard: tab-separated with a header, or CSV."""
        ids = self.table.selected_ids(limit=None)
        if not ids:
            return
        query, text, sort = self.services.query, self.model.filter_text, self.model.sort_spec
        columns = [self.model.columns[self.table.horizontalHeader().logicalIndex(v)]
                   for v in range(self.table.horizontalHeader().count())
                   if not self.table.isColumnHidden(self.table.horizontalHeader().logicalIndex(v))]

        def done(csv_text: str) -> None:
            QGuiApplication.clipboard().setText(csv_text if as_csv else copy_rows.csv_as_tsv(csv_text))
            message = self.tr("Copied %1 end users as CSV.") if as_csv else self.tr("Copied %1 end users.")
            self._show_activity(message.replace("%1", f"{len(ids):,}"))

        self.services.ops.query(lambda: copy_rows.rows_as_csv(query, text, sort, ids, columns), done,
                                failed=self._edit_failed, name="copy end users")

    # --- filter, counts, facets -------------------------------------------------------------------

    def _filter_changed(self, text: str) -> None:
        self.filter_bar.set_count(None, self._total)
        self.facets.facets.set_filter_text(text)
        self.model.set_filter(text)
        self.nps.set_filter(text)

    def _escape(self) -> None:
        if self.filter_bar.text():
            self.filter_bar.clear()

    def _facet_clicked(self, term: str) -> None:
        self.filter_bar.set_text(toggle_value(self.filter_bar.text(), term, _EXCLUSIVE_FACET_KEYS))

    def _ids_applied(self, count: int) -> None:
        if not self.model.filter_text.strip():
            self._total = count  # the unfiltered result is everyone: no count query needed
        self.filter_bar.set_count(count, self._total)
        self.empty_notice.show_for(count, self.model.filter_text)
        if self._first_ids:
            self._first_ids = False
            self._refresh_counts()
            self._refresh_list_names()
            self.services.ops.refresh_undo_state()
        self.facet_counts.result_shown()
        if not self.table.currentIndex().isValid() and count and not self.table.relocating:
            # First rows on screen: make the top one current so the detail panel has something.
            self.table.selectionModel().setCurrentIndex(
                self.model.index(0, 0), QItemSelectionModel.SelectionFlag.NoUpdate
            )

    def _refresh_counts(self) -> None:
        """The "of N" total (only needed while a filter is on) and, now and then, property keys.

        Property keys come from sampling rows in Python: during a sync, reading them after
        every batch would hog the interpreter lock and stall the window, so at most once a
        minute.
        """
        query = self.services.query
        need_total = bool(self.model.filter_text.strip()) or not self.model.loaded
        now = time.monotonic()
        need_keys = now - self._keys_read_at >= PROPERTY_KEYS_EVERY_S
        if not (need_total or need_keys):
            return
        if need_keys:
            self._keys_read_at = now

        def work() -> tuple[int | None, list[str] | None]:
            total = query.count("") if need_total else None
            return total, (list(query.property_keys()) if need_keys else None)

        self.services.ops.query(work, self._counts_loaded, failed=log_failure, latest=f"total-{id(self)}",
                                name="count end users")

    def _counts_loaded(self, result: tuple[int | None, list[str] | None]) -> None:
        total, keys = result
        if keys is not None:
            self._set_property_keys(keys)
        if total is not None:
            self._total = total
        if self.model.loaded:
            self.filter_bar.set_count(self.model.rowCount(), self._total)

    def _set_property_keys(self, keys: list[str]) -> None:
        self._property_keys = keys
        self.table.property_keys = keys
        self.detail.known_property_keys = keys
        self.filter_bar.set_property_keys(keys)

    def _learn_property_keys(self, arrived: frozenset[str]) -> None:
        """Keys the cache says it has just met (a first sync brings them all) are offered at
        once: facets, the column chooser and completion need not wait for the next key read."""
        new = arrived.difference(self._property_keys)
        if not new:
            return
        self._set_property_keys(sorted(new.union(self._property_keys)))
        self.facet_counts.data_changed()

    def _load_completion_tags(self) -> None:
        query = self.services.query
        self.services.ops.query(
            lambda: [tag for tag, _count in query.response_tags(20)],
            lambda tags: self.filter_bar.set_values(TAGS_KEY, tags),
            failed=log_failure,
            name="completion tags",
        )

    def _load_completion_values(self, key: str) -> None:
        query = self.services.query
        self.services.ops.query(
            lambda: [value for value, _count in query.property_values(key, 20, "")],
            lambda values: self.filter_bar.set_values(key, values),
            failed=log_failure,
            name="completion values",
        )

    # --- cache changes, undo ------------------------------------------------------------------------

    def _on_cache_changes(self, changes: CacheChanges) -> None:
        self.model.apply_cache_changes(changes)
        self.nps.data_changed()
        self.detail.apply_cache_changes(changes)
        self._learn_property_keys(changes.new_property_keys)
        if changes.rows_added_or_removed or changes.end_user_ids is None:
            self._refresh_counts()
            if changes.initiator is not Initiator.PULL:
                self._refresh_list_names()  # a list kept or forgotten here
        if changes.outbox_changed or changes.initiator is not Initiator.PULL:
            self.services.ops.refresh_undo_state()  # pulled rows never change what undo can do

    def _edit_done(self, label: str) -> None:
        """An edit or a bulk action is written: say so, and how long it can be undone."""
        sync = self.services.sync
        self._undo_notice = UndoNotice(self.tr("Done: %1.").replace("%1", label),
                                       sync.status if sync is not None else None,
                                       sync.grace if sync is not None else 0.0)
        self.activity.setText(self._undo_notice.text)

    def _sync_status_shown(self, status: object) -> None:
        """Keep the word on the newest edit true as the sync sends it (or cannot)."""
        notice = self._undo_notice
        shown = status if isinstance(status, SyncStatus) and self.services.sync is not None else None
        if notice is not None and notice.follow(shown):
            self.activity.setText(notice.text)

    def _undo_state_loaded(self, state: UndoState) -> None:
        # Pushed edits cannot be undone: the cache then reports no undo step, and the menu says so.
        self.undo_action.setEnabled(state.undo is not None)
        self.redo_action.setEnabled(state.redo is not None)
        self.undo_action.setText(
            self.tr("&Undo %1").replace("%1", step_label(state.undo)) if state.undo else self.tr("&Undo")
        )
        self.redo_action.setText(
            self.tr("&Redo %1").replace("%1", step_label(state.redo)) if state.redo else self.tr("&Redo")
        )

    def undo(self) -> None:
        self.services.ops.write(lambda cache: cache.undo(), lambda result: self._undone(result, True),
                                failed=self._edit_failed, name="undo")

    def redo(self) -> None:
        self.services.ops.write(lambda cache: cache.redo(), lambda result: self._undone(result, False),
                                failed=self._edit_failed, name="redo")

    def _undone(self, result: CacheChanges | None, was_undo: bool) -> None:
        if result is not None:
            self._show_activity(self.tr("Undone.") if was_undo else self.tr("Redone."))

    # --- bulk actions -----------------------------------------------------------------------------

    def start_bulk(self, kind: BulkKind, *, matching: bool) -> None:
        """A bulk action over the selection, or over everything the filter shown matches."""
        shown = matching_filter(self.filter_bar) if matching else None
        if matching and shown is None:
            self._show_activity("⚠ " + matching_refusal(self.filter_bar))
            return
        # A selection may reach below the first screen: wait for every id of the result.
        self.model.when_complete(lambda: self._start_bulk(kind, shown))

    def _start_bulk(self, kind: BulkKind, matching_text: str | None) -> None:
        if matching_text is not None:
            scope = BulkScope(filter_text=matching_text)
        else:
            count = self.table.selected_count()
            if count == 0:
                self._show_activity(self.tr("Select end users first."))
                return
            if count >= self.model.rowCount():  # everything selected
                scope = BulkScope(filter_text=self.model.filter_text, selected=True)
            else:
                scope = BulkScope(ids=tuple(self.table.selected_ids(limit=None)), selected=True)
        request = self.bulk.ask_request(kind, self._property_keys)
        if request is not None:
            self.bulk.run(request, scope)

    def delete_selected(self) -> None:
        if self.table.selected_count() == 0:
            return
        self.model.when_complete(
            lambda: self.bulk.run(BulkRequest(BulkKind.DELETE), BulkScope(ids=tuple(self.table.selected_ids(limit=None))))
        )

    def _bulk_failed(self, message: str) -> None:
        self._show_activity("⚠ " + message)

    # --- sync and the other helper's windows -------------------------------------------------------

    def sync_now(self) -> None:
        self.sync_now_requested.emit()
        self.sync_bar.sync_now()

    def ask_undo_grace(self) -> None:
        """Sync ▸ Undo time before sending…: how long edits wait, undoable, before they go out."""
        sync = self.services.sync
        if sync is None:
            return
        seconds, ok = QInputDialog.getInt(
            self, self.tr("Undo time before sending"),
            self.tr("Seconds an edit waits before it is sent, so it can still be undone\n"
                    "(0: send at once):"), int(sync.grace), 0, MAX_UNDO_GRACE_S)
        if ok:
            self.set_undo_grace(seconds)

    def set_undo_grace(self, seconds: int) -> None:
        """Keep the new undo time in the settings and hand it to the sync service."""
        kept = set_undo_grace(seconds)
        if self.services.sync is not None:
            self.services.sync.set_grace(kept)

    def _work_offline(self, offline: bool) -> None:
        if self.services.sync is not None:
            self.services.sync.set_work_offline(offline)
        if self.work_offline_action.isChecked() != offline:
            self.work_offline_action.blockSignals(True)
            self.work_offline_action.setChecked(offline)
            self.work_offline_action.blockSignals(False)

    def open_conflicts(self) -> None:
        self._open_child("conflicts", lambda: ConflictsView(self.services))

    def open_list_window(self) -> None:
        """File ▸ Apply a list…: a list of people matched, kept as a filter, acted on."""
        def make() -> QWidget:
            from desktop_app.ui.list_window import ListWindow  # the lists core loads on first use

            window = ListWindow(self.services)
            window.show_list_requested.connect(self.show_kept_list)
            window.applied.connect(self._edit_done)
            return window

        self._open_child("lists", make)

    def show_kept_list(self, name: str) -> None:
        """Filter the table by a kept list (`list:"name"`), and bring the table forward."""
        self.filter_bar.set_text(f"list:{quote_value(name)}")
        self._refresh_list_names()
        self.raise_()
        self.activateWindow()

    def _refresh_list_names(self) -> None:
        query = self.services.query
        self.services.ops.query(query.list_names, self.filter_bar.set_list_names, failed=log_failure,
                                latest=f"list-names-{id(self)}", name="kept list names")

    def open_log(self) -> None:
        self._open_child("log", LogViewer)

    def _open_child(self, key: str, make: Callable[[], QWidget]) -> None:
        window = self._child_windows.get(key)
        if window is None:
            try:
                window = make()
            except Exception as exc:
                log.exception("The %s window could not be opened", key)
                QMessageBox.warning(self, self.windowTitle(), edit_message(exc))
                return
            window.setParent(self, Qt.WindowType.Window)
            install_close_keys(window)
            self._child_windows[key] = window
        window.show()
        window.raise_()
        window.activateWindow()

    def _table_menu(self, pos: Any) -> None:
        menu = self.table_menu()
        menu.exec(self.table.viewport().mapToGlobal(pos))
        menu.deleteLater()

    def table_menu(self) -> QMenu:
        """The table's context menu, as it is now (built afresh each time it opens)."""
        menu = QMenu(self)
        count = self.table.selected_count()
        if count:
            section = menu.addMenu(self.tr("Selected end users (%1)").replace("%1", f"{count:,}"))
            self._fill_bulk_menu(section, False)
        menu.setToolTipsVisible(True)
        section = menu.addMenu("")
        self._fill_bulk_menu(section, True)
        update_matching_menu(section, self.filter_bar, self.model.filter_text, self.model.rowCount(),
                             self.tr("All matching the filter (%1)"))
        if count:
            menu.addSeparator()
            text = self.tr("E&xport this end user…") if count == 1 else self.tr("E&xport these %1 end users…")
            export = menu.addAction(text.replace("%1", f"{count:,}"))
            export.triggered.connect(lambda: self.export.open(selection_only=True))
            menu.addAction(self.delete_action)
        return menu

    # --- window state, messages ---------------------------------------------------------------------

    def _restore_window_state(self, settings: QSettings) -> None:
        geometry = settings.value("main_window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1360, 820)
        splitter = settings.value("main_window/splitter")
        if isinstance(splitter, QByteArray) and not splitter.isEmpty():
            self.splitter.restoreState(splitter)
        facets = str(settings.value("main_window/show_facets", "true")).lower() != "false"
        detail = str(settings.value("main_window/show_detail", "true")).lower() != "false"
        self.show_facets_action.setChecked(facets)
        self.show_detail_action.setChecked(detail)
        self.nps_dock.setVisible(str(settings.value("main_window/show_nps", "false")).lower() == "true")

    def save_window_state(self) -> None:
        settings = QSettings()
        settings.setValue("main_window/geometry", self.saveGeometry())
        settings.setValue("main_window/splitter", self.splitter.saveState())
        settings.setValue("main_window/show_facets", "true" if self.show_facets_action.isChecked() else "false")
        settings.setValue("main_window/show_detail", "true" if self.show_detail_action.isChecked() else "false")
        settings.setValue("main_window/show_nps", "true" if self.show_nps_action.isChecked() else "false")
        settings.setValue("main_window/sort_column", self.model.sort_spec.column)
        settings.setValue("main_window/sort_descending", "true" if self.model.sort_spec.descending else "false")
        self.table.save_columns()
        settings.sync()

    def cache_opened(self) -> None:
        """The session has opened the cache: a table that waited for the file loads now."""
        if not self.services.rows_readable and not self.model.loaded:
            self._show_activity("")
            self.model.refresh()

    def quit(self) -> None:
        """File ▸ Quit: every window closes (saving its state), then the application ends;
        unless the person chose to stay with typing not saved."""
        if not self.close():
            return
        QApplication.closeAllWindows()
        QApplication.quit()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.ask_before_closing and not self.detail.settle_unsaved():
            event.ignore()  # Cancel, or a typed value that cannot be saved: the window stays
            return
        self.save_window_state()
        self.relay.detach()
        for window in self._child_windows.values():
            window.close()
        super().closeEvent(event)

    def _show_activity(self, message: str) -> None:
        self._undo_notice = None  # another message took the line
        self.activity.setText(message)

    def _edit_failed(self, exc: BaseException) -> None:
        self._show_activity("⚠ " + edit_message(exc))

    def _task_failed(self, name: str, exc: object) -> None:
        self._show_activity("⚠ " + self.tr("%1 failed: %2").replace("%1", name or self.tr("A background task"))
                            .replace("%2", edit_message(exc) if isinstance(exc, BaseException) else str(exc)))


