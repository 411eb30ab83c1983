"""Opening the export dialog from the window: File ▸ Export…, Ctrl+E, the button beside the
count, and "Export these N end users…" on the table's selection."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal

from desktop_app.ui.export_dialog import ExportDialog

if TYPE_CHECKING:
    from desktop_app.ui.end_user_model import EndUserTableModel
    from desktop_app.ui.end_user_table import EndUserTable
    from desktop_app.ui.services import AppServices

EXPORT_SHORTCUT = "Ctrl+E"  # free in the window: no other action or text-field key uses it


class ExportLauncher(QObject):
    """Opens one export dialog at a time over what the table shows (or its selection)."""

    opened = Signal(object)  # the ExportDialog, once it is on screen

    def __init__(self, services: AppServices, model: EndUserTableModel, table: EndUserTable) -> None:
        super().__init__(table)
        self._services, self._model, self._table = services, model, table
        self.dialog: ExportDialog | None = None

    def open(self, *, selection_only: bool = False) -> None:
        """Everything the table's filter matches (the dialog also offers the selection), or,
        with `selection_only`, just the selected rows."""
        if self.dialog is not None:
            self.dialog.raise_()
            self.dialog.activateWindow()
            return
        # The selection may reach rows whose ids are still loading: wait for all of them.
        self._model.when_complete(lambda: self._open(selection_only))

    def _open(self, selection_only: bool) -> None:
        if self.dialog is not None:
            return
        # The table's filter, not the bar's text: the selection belongs to the rows on screen,
        # and the dialog shows which filter that is.
        dialog = ExportDialog(self._services.query, self._model.filter_text, self._model.sort_spec,
                              self._table.selected_ids(None), self._table.window(),
                              ops=self._services.ops, selection_only=selection_only)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(self._closed)
        self.dialog = dialog
        dialog.open()  # window-modal, never a nested event loop
        self.opened.emit(dialog)

    def _closed(self) -> None:
        self.dialog = None
