"""The detail panel: every field of the selected end user, editable where the service allows."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_app.cache.changes import CacheChanges
from desktop_app.cache.records import CachedEndUser, EditKind, EditRejected, EditState
from desktop_app.cache.writes.validation import check_email, check_external_id
from desktop_app.domain import DisabledBy
from desktop_app.fields import FIELDS, FieldKind
from desktop_app.ui import theme
from desktop_app.ui.accessible import ValueLabel, marker_name, point_buddies_at_fields
from desktop_app.ui.columns import format_datetime
from desktop_app.ui.detail_models import HistoryModel, PropertiesModel
from desktop_app.ui.property_editors import PropertyValueDelegate, PropertyValueDialog
from desktop_app.ui.unsaved_changes import UnsavedChoice, ask_about_unsaved

if TYPE_CHECKING:
    from desktop_app.cache.reading.history import SurveyHistory
    from desktop_app.cache.store import Cache
    from desktop_app.ui.services import AppServices

log = logging.getLogger(__name__)

_NO_SWITCH = object()  # no row switch waits for the unsaved-changes question


def edit_message(exc: BaseException) -> str:
    """What a person reads when an edit is refused: the validation message, never a trace."""
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return str(message)


def edit_label(kind: EditKind, key: str | None = None, value: object = None) -> str:
    """The name of one end user's edit, for the task and for "Undo <name>": "Disable surveys",
    "Set plan". SET_SURVEYS values are "enabled" booleans."""
    def tr(text: str) -> str:
        return QCoreApplication.translate("DetailPanel", text)

    if kind is EditKind.SET_SURVEYS:
        return tr("Enable surveys") if value else tr("Disable surveys")
    if kind is EditKind.SET_EMAIL:
        return tr("Edit email")
    if kind is EditKind.SET_EXTERNAL_ID:
        return tr("Edit external ID")
    if kind is EditKind.SET_PROPERTY:
        return tr("Set %1").replace("%1", key or "")
    if kind is EditKind.UNSET_PROPERTY:
        return tr("Remove %1").replace("%1", key or "")
    if kind is EditKind.CREATE:
        return tr("Import end users")
    return tr("Delete")


# The fields shown as plain text, in the catalogue's order: the ones with a table column of
# their own, less email and external id, which the panel edits.
# (The survey history has its own section.)
_READ_ONLY = tuple(f for f in FIELDS if f.table == f.key and f.key not in ("email", "external_id")
                   and not f.history_sql)


def history_summary(history: SurveyHistory) -> str:
    """One line over the history table: counts, and the score `score:`/`nps:` read."""
    tr = functools.partial(QCoreApplication.translate, "DetailPanel")
    responses, declines = len(history.responses), len(history.declines)
    if not responses and not declines:
        return tr("No survey responses yet.")
    parts = [tr("1 response") if responses == 1 else tr("%1 responses").replace("%1", f"{responses:,}")]
    if declines:
        parts.append(tr("1 decline") if declines == 1 else tr("%1 declines").replace("%1", f"{declines:,}"))
    latest = history.latest_counted
    if latest is not None:
        group = tr("detractor") if latest.score <= 6 else tr("passive") if latest.score <= 8 else tr("promoter")
        parts.append(tr("latest score %1 (%2)").replace("%1", str(latest.score)).replace("%2", group))
    return " · ".join(parts)


class DetailPanel(QWidget):
    """Shows one end user; edits go through the cache on the serial write queue."""

    edit_done = Signal(str)  # the name of the edit, for "Undo <name>"
    conflicts_requested = Signal()
    # Cancel in "Save changes to …?": the table makes this end user current again.
    keep_current_requested = Signal(int)

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("End user details"))
        self._services = services
        self._id: int | None = None
        self._cached: Any = None
        self._responses_for: int | None = None
        # The property keys the window knows (it reads them off the GUI thread), for completion.
        self.known_property_keys: list[str] = []
        self._switch_to: object = _NO_SWITCH  # the end user the table moved to while typing was unsaved

        self.stack = QStackedWidget(self)
        self.empty_label = QLabel(self.tr("Select an end user to see the details."), self)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.stack.addWidget(self.empty_label)

        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        body = QWidget(scroll)
        scroll.setWidget(body)
        self.stack.addWidget(scroll)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)

        layout = QVBoxLayout(body)
        self.title = ValueLabel(self.tr("End user"), body)
        title_font = self.title.font()
        title_font.setPointSizeF(title_font.pointSizeF() * 1.25)
        title_font.setBold(True)
        self.title.setFont(title_font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.title)

        banner_row = QHBoxLayout()
        self.banner_icon = QLabel(body)
        self.banner = ValueLabel(self.tr("Sync state of this end user"), body)
        self.banner.setWordWrap(True)
        self.resolve_button = QPushButton(self.tr("Resolve conflict…"), body)
        self.resolve_button.setAccessibleName(self.tr("Resolve conflict"))
        self.resolve_button.clicked.connect(self.conflicts_requested)
        banner_row.addWidget(self.banner_icon)
        banner_row.addWidget(self.banner, 1)
        banner_row.addWidget(self.resolve_button)
        layout.addLayout(banner_row)
        self.message = ValueLabel(self.tr("Last problem"), body)
        self.message.setWordWrap(True)
        self.message.hide()
        layout.addWidget(self.message)

        # --- fields ---
        fields = QGroupBox(self.tr("Details"), body)
        form = QFormLayout(fields)
        self.email_edit, self.email_save, self.email_error = self._editable_field(
            fields, self.tr("Email"), self._save_email
        )
        form.addRow(self.tr("E&mail:"), self._field_row(self.email_edit, self.email_save))
        form.addRow("", self.email_error)
        self.external_id_edit, self.external_id_save, self.external_id_error = self._editable_field(
            fields, self.tr("External ID"), self._save_external_id
        )
        form.addRow(self.tr("E&xternal ID:"), self._field_row(self.external_id_edit, self.external_id_save))
        form.addRow("", self.external_id_error)
        self.readonly_labels: dict[str, QLabel] = {}
        for seed in _READ_ONLY:
            key, title = seed.key, self.tr(seed.title + ":")
            label = ValueLabel(title.rstrip(":"), fields)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.readonly_labels[key] = label
            form.addRow(title, label)
        point_buddies_at_fields(form)
        layout.addWidget(fields)

        # --- surveys ---
        surveys = QGroupBox(self.tr("Surveys"), body)
        surveys_layout = QHBoxLayout(surveys)
        self.surveys_icon = QLabel(surveys)
        self.surveys_label = ValueLabel(self.tr("Surveys"), surveys)
        self.surveys_label.setWordWrap(True)
        self.surveys_button = QPushButton(surveys)
        self.surveys_button.setAccessibleDescription(self.tr("Turn surveys on or off"))  # its text says which
        self.surveys_button.clicked.connect(self._toggle_surveys)
        surveys_layout.addWidget(self.surveys_icon)
        surveys_layout.addWidget(self.surveys_label, 1)
        surveys_layout.addWidget(self.surveys_button)
        layout.addWidget(surveys)

        # --- properties ---
        props = QGroupBox(self.tr("Properties"), body)
        props_layout = QVBoxLayout(props)
        self.properties = PropertiesModel(self)
        self.properties.edit_requested.connect(self._set_property)
        self.properties.input_rejected.connect(self._show_message)
        self.properties_view = QTableView(props)
        self.properties_view.setModel(self.properties)
        self.properties_view.setItemDelegateForColumn(PropertiesModel.VALUE, PropertyValueDelegate(self.properties_view))
        self.properties_view.setAccessibleName(self.tr("Properties"))
        self.properties_view.verticalHeader().hide()
        self.properties_view.horizontalHeader().setStretchLastSection(True)
        self.properties_view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.properties_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.properties_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.properties_view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.properties_view.setMinimumHeight(140)
        props_layout.addWidget(self.properties_view)
        buttons = QHBoxLayout()
        self.add_property_button = QPushButton(self.tr("&Add property…"), props)
        self.add_property_button.clicked.connect(self.add_property)
        self.remove_property_button = QPushButton(self.tr("&Remove property"), props)
        self.remove_property_button.clicked.connect(self.remove_selected_property)
        buttons.addWidget(self.add_property_button)
        buttons.addWidget(self.remove_property_button)
        buttons.addStretch(1)
        props_layout.addLayout(buttons)
        layout.addWidget(props)

        # --- survey history (from the cache: works offline) ---
        responses = QGroupBox(self.tr("Survey history"), body)
        responses_layout = QVBoxLayout(responses)
        self.responses_status = ValueLabel(self.tr("Survey history status"), responses)
        self.responses = HistoryModel(self)
        self.responses_view = QTableView(responses)
        self.responses_view.setModel(self.responses)
        self.responses_view.setAccessibleName(self.tr("Survey history"))
        self.responses_view.verticalHeader().hide()
        self.responses_view.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.responses_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.responses_view.setWordWrap(False)
        self.responses_view.setMinimumHeight(110)
        responses_layout.addWidget(self.responses_status)
        responses_layout.addWidget(self.responses_view)
        layout.addWidget(responses)
        layout.addStretch(1)
        self.stack.setCurrentIndex(0)

    # --- public ---------------------------------------------------------------------------------

    @property
    def end_user_id(self) -> int | None:
        return self._id

    @property
    def cached(self) -> Any:
        """The CachedEndUser on show (None while nothing is selected or still loading)."""
        return self._cached

    def show_end_user(self, end_user_id: int | None) -> None:
        """Show another end user; with unsaved typing, first ask whether to save it (the
        question comes once the table's click or key press is handled)."""
        if self._switch_to is not _NO_SWITCH or (end_user_id != self._id and self.unsaved_fields()):
            if self._switch_to is _NO_SWITCH:
                QTimer.singleShot(0, self, self._settle_switch)
            self._switch_to = end_user_id
            return
        if end_user_id == self._id and self._cached is not None:
            return
        self._show(end_user_id)

    def unsaved_fields(self) -> list[str]:
        """The fields typed in and not saved, by name ("the email"); [] when nothing would be lost."""
        if self._cached is None:
            return []
        user = self._cached.end_user
        fields = []
        if self.email_save.isEnabled() and self.email_edit.text().strip() != user.email:
            fields.append(self.tr("the email"))
        if self.external_id_save.isEnabled() and (self.external_id_edit.text().strip() or None) != user.external_id:
            fields.append(self.tr("the external ID"))
        return fields

    def settle_unsaved(self) -> bool:
        """Before the window closes: ask about unsaved typing. True when it may close (saved,
        discarded, or nothing to ask about); False on Cancel or a value that cannot be saved."""
        fields = self.unsaved_fields()
        if not fields:
            return True
        choice = ask_about_unsaved(self, self._cached.end_user.email, fields)
        if choice is UnsavedChoice.SAVE:
            return self._save_unsaved()
        if choice is UnsavedChoice.DISCARD:
            self._discard_unsaved()
            return True
        return False

    def _settle_switch(self) -> None:
        fields = self.unsaved_fields()
        if not fields or self._switch_to == self._id:
            target, self._switch_to = self._switch_to, _NO_SWITCH
            if target != self._id or self._cached is None:
                self._show(target)  # type: ignore[arg-type]  # an int or None once set
            return
        choice = ask_about_unsaved(self, self._cached.end_user.email, fields)
        target, self._switch_to = self._switch_to, _NO_SWITCH  # where the table is now
        if choice is UnsavedChoice.DISCARD:
            self._discard_unsaved()
        elif choice is not UnsavedChoice.SAVE or not self._save_unsaved():
            if target is not None and self._id is not None and target != self._id:
                self.keep_current_requested.emit(self._id)  # back to the end user being edited
            return
        if target != self._id:
            self._show(target)  # type: ignore[arg-type]  # an int or None once set

    def _save_unsaved(self) -> bool:
        """Queue the typed values; False (nothing queued, the problem shown under its field)
        when one would be refused, so the person stays to fix it."""
        checks = ((self.email_edit, self.email_save, self.email_error, check_email),
                  (self.external_id_edit, self.external_id_save, self.external_id_error, check_external_id))
        for edit, button, error, check in checks:
            if button.isEnabled():
                try:
                    check(edit.text())
                except EditRejected as exc:
                    self._field_error(error, edit_message(exc), button)
                    edit.setFocus(Qt.FocusReason.OtherFocusReason)
                    return False
        if self.email_save.isEnabled():
            self._save_email()
        if self.external_id_save.isEnabled():
            self._save_external_id()
        return True

    def _discard_unsaved(self) -> None:
        for edit, button, error, value in (
            (self.email_edit, self.email_save, self.email_error, self._cached.end_user.email),
            (self.external_id_edit, self.external_id_save, self.external_id_error,
             self._cached.end_user.external_id or ""),
        ):
            button.setEnabled(False)
            error.hide()
            edit.setText(value)
            edit.setCursorPosition(0)

    def _show(self, end_user_id: int | None) -> None:
        self._id = end_user_id
        self._cached = None
        self.message.hide()
        for button, error in ((self.email_save, self.email_error), (self.external_id_save, self.external_id_error)):
            button.setEnabled(False)  # unsaved typing belongs to the previous end user
            error.hide()
        if end_user_id is None:
            self.stack.setCurrentIndex(0)
            return
        self._load()

    def apply_cache_changes(self, changes: CacheChanges) -> None:
        if self._id is None:
            return
        if changes.end_user_ids is None or self._id in changes.end_user_ids:
            self._load()

    def focus_editor(self) -> None:
        """Enter on the table: start editing the email of the shown end user."""
        if self._cached is not None:
            self.email_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
            self.email_edit.selectAll()

    # --- loading --------------------------------------------------------------------------------

    def _load(self) -> None:
        end_user_id = self._id
        if end_user_id is None:
            return
        self._services.ops.read(
            lambda cache: cache.get(end_user_id),
            lambda cached: self._loaded(end_user_id, cached),
            failed=self._load_failed,
            latest=f"detail-{id(self)}",
            name="load end user",
        )

    def _loaded(self, end_user_id: int | None, cached: CachedEndUser | None) -> None:
        if end_user_id != self._id:
            return
        if cached is None:
            self._cached = None
            self.empty_label.setText(self.tr("This end user is no longer in the cache."))
            self.stack.setCurrentIndex(0)
            return
        self._cached = cached
        self._render(cached)
        self.stack.setCurrentIndex(1)
        self._load_history(cached.end_user.id)  # a cache read: again with every change to this end user

    def _load_failed(self, exc: BaseException) -> None:
        log.warning("could not load end user %s: %s", self._id, exc)
        self._show_message(self.tr("Could not read this end user from the cache: %1").replace("%1", edit_message(exc)))

    def _render(self, cached: CachedEndUser) -> None:
        user = cached.end_user
        queued = [e for e in cached.pending if e.state is not EditState.REJECTED]
        conflicted = [e for e in cached.pending if e.state is EditState.CONFLICTED]
        has_conflict = cached.has_conflict or bool(conflicted)
        deleted = cached.pending_delete or cached.erasure_pending  # read-only either way
        self.title.setText(user.email)

        notes: list[str] = []
        if has_conflict:
            notes.append(self.tr("This end user has a conflict: the service changed a value you edited."))
        if queued:
            notes.append(
                self.tr("1 edit is waiting to sync.") if len(queued) == 1
                else self.tr("%1 edits are waiting to sync.").replace("%1", str(len(queued)))
            )
        if cached.pending_delete:
            notes.append(self.tr("Deleted here; the service has not confirmed it yet."))
        if cached.erasure_pending:
            notes.append(self.tr("Erasure pending: the service took the delete and purges this end user "
                                 "later (by its next nightly run); then they leave this list as erased."))
        icon = theme.marker_icon(bool(queued), has_conflict, deleted)
        self.banner_icon.setPixmap(icon.pixmap(48, 16) if icon else QPixmap())
        spoken = marker_name(bool(queued), has_conflict, cached.pending_delete)
        if cached.erasure_pending:
            spoken = ", ".join(w for w in (spoken, self.tr("Erasure pending")) if w)
        self.banner_icon.setAccessibleName(spoken)
        self.banner.setText(" ".join(notes) or self.tr("In sync with the last pull."))
        self.resolve_button.setVisible(has_conflict)

        self._set_field(self.email_edit, self.email_save, self.email_error, user.email)
        self._set_field(self.external_id_edit, self.external_id_save, self.external_id_error, user.external_id or "")
        for seed in _READ_ONLY:
            value = getattr(user, seed.key)
            text = format_datetime(value) if seed.kind is FieldKind.DATE else "" if value is None else str(value)
            self.readonly_labels[seed.key].setText(text or self.tr("—"))

        disabled_by = user.disabled_by
        self.surveys_icon.setPixmap(theme.surveys_icon(disabled_by is DisabledBy.NOBODY).pixmap(16, 16))
        if disabled_by is DisabledBy.END_USER:
            self.surveys_label.setText(
                self.tr("Off — the end user opted out themself. Only they can turn surveys back on.")
            )
            self.surveys_button.setText(self.tr("Enable surveys"))
            self.surveys_button.setEnabled(False)
            self.surveys_button.setToolTip(self.tr("Read-only: this end user opted out of surveys themself."))
        elif disabled_by is DisabledBy.ADMIN:
            self.surveys_label.setText(self.tr("Off — turned off by an admin (every channel)."))
            self.surveys_button.setText(self.tr("Enable surveys"))
            self.surveys_button.setEnabled(not deleted)
            self.surveys_button.setToolTip("")
        else:
            self.surveys_label.setText(self.tr("On — this end user can be surveyed."))
            self.surveys_button.setText(self.tr("Disable surveys"))
            self.surveys_button.setEnabled(not deleted)
            self.surveys_button.setToolTip("")

        property_keys = {e.key for e in queued if e.kind in (EditKind.SET_PROPERTY, EditKind.UNSET_PROPERTY) and e.key}
        conflict_keys = {e.key for e in conflicted if e.key}
        self.properties.set_properties(
            dict(user.properties), frozenset(property_keys), frozenset(conflict_keys), read_only=deleted
        )
        for widget in (self.email_edit, self.external_id_edit, self.add_property_button, self.remove_property_button):
            widget.setEnabled(not deleted)

    def _load_history(self, end_user_id: int) -> None:
        if self._responses_for != end_user_id:
            self._responses_for = end_user_id
            self.responses.set_history([])
            self.responses_status.setText(self.tr("Loading the survey history…"))
        self._services.ops.read(
            lambda cache: cache.survey_history(end_user_id),
            lambda found: self._history_loaded(end_user_id, found),
            failed=lambda exc: self._history_failed(end_user_id, exc),
            latest=f"history-{id(self)}",
            name="load survey history",
        )

    def _history_loaded(self, end_user_id: int, found: SurveyHistory | None) -> None:
        if end_user_id != self._id:
            return
        if found is None:  # the account's responses have never been walked
            self.responses.set_history([])
            self.responses_status.setText(self.tr("Survey history not synced yet."))
            return
        self.responses.set_history(found.responses, found.declines)
        self.responses_status.setText(history_summary(found))

    def _history_failed(self, end_user_id: int, exc: BaseException) -> None:
        if end_user_id != self._id:
            return
        self._responses_for = None
        self.responses_status.setText(
            self.tr("Could not read the survey history: %1").replace("%1", edit_message(exc)))

    # --- editing --------------------------------------------------------------------------------

    def _write(self, label: str, fn: Callable[[Cache], CacheChanges],
               on_error: Callable[[str], None] | None = None) -> None:
        """Run one cache write (writes run one after another); refusals show where they belong."""
        report = on_error or self._show_message

        def failed(exc: BaseException) -> None:
            report(edit_message(exc))

        def done(_changes: CacheChanges) -> None:
            self.message.hide()
            self.edit_done.emit(label)

        self._services.ops.write(fn, done, failed=failed, name=label)

    def _save_email(self) -> None:
        if self._cached is None:
            return
        email = self.email_edit.text().strip()
        if email == self._cached.end_user.email:
            return
        end_user_id = self._cached.end_user.id
        who = self._cached.end_user.email  # named in a refusal that comes after a switch
        self.email_error.hide()
        self.email_save.setEnabled(False)
        self._write(edit_label(EditKind.SET_EMAIL), lambda cache: cache.set_email(end_user_id, email),
                    lambda m: self._save_failed(end_user_id, self.tr("The email of %1").replace("%1", who), m,
                                                self.email_error, self.email_save))

    def _save_external_id(self) -> None:
        if self._cached is None:
            return
        value = self.external_id_edit.text().strip() or None
        if value == self._cached.end_user.external_id:
            return
        end_user_id = self._cached.end_user.id
        who = self._cached.end_user.email  # named in a refusal that comes after a switch
        self.external_id_error.hide()
        self.external_id_save.setEnabled(False)
        self._write(edit_label(EditKind.SET_EXTERNAL_ID), lambda cache: cache.set_external_id(end_user_id, value),
                    lambda m: self._save_failed(end_user_id, self.tr("The external ID of %1").replace("%1", who), m,
                                                self.external_id_error, self.external_id_save))

    def _toggle_surveys(self) -> None:
        if self._cached is None:
            return
        user = self._cached.end_user
        enable = user.surveys_disabled
        self._write(edit_label(EditKind.SET_SURVEYS, None, enable),
                    lambda cache: cache.set_surveys_enabled([user.id], enable))

    def _set_property(self, key: str, value: Any) -> None:
        if self._cached is None:
            return
        end_user_id = self._cached.end_user.id
        self._write(edit_label(EditKind.SET_PROPERTY, key), lambda cache: cache.set_property([end_user_id], key, value))

    def add_property(self) -> None:
        if self._cached is None:
            return
        known = self._known_property_keys()
        dialog = PropertyValueDialog(self.tr("Add property"), known, self)
        if dialog.exec() != PropertyValueDialog.DialogCode.Accepted:
            return
        self._set_property(dialog.result_key, dialog.result_value)

    def remove_selected_property(self) -> None:
        if self._cached is None:
            return
        index = self.properties_view.currentIndex()
        line = self.properties.line(index.row()) if index.isValid() else None
        if line is None:
            self._show_message(self.tr("Select a property to remove."))
            return
        end_user_id, key = self._cached.end_user.id, line.key
        self._write(edit_label(EditKind.UNSET_PROPERTY, key), lambda cache: cache.unset_property([end_user_id], key))

    # --- small pieces ---------------------------------------------------------------------------

    def _known_property_keys(self) -> list[str]:
        keys = set(self._cached.end_user.properties) if self._cached is not None else set()
        return sorted(keys.union(self.known_property_keys))

    def _editable_field(self, parent: QWidget, name: str, save: Callable[[], None]) -> tuple[QLineEdit, QPushButton, QLabel]:
        edit = QLineEdit(parent)
        edit.setAccessibleName(name)
        edit.returnPressed.connect(save)
        button = QPushButton(self.tr("Save"), parent)
        button.setAccessibleName(self.tr("Save %1").replace("%1", name))
        button.setEnabled(False)
        button.clicked.connect(save)
        error = ValueLabel(self.tr("%1 problem").replace("%1", name), parent)
        error.setWordWrap(True)
        error.hide()

        def edited(_text: str) -> None:
            button.setEnabled(True)
            error.hide()

        edit.textEdited.connect(edited)
        return edit, button, error

    @staticmethod
    def _field_row(edit: QLineEdit, button: QPushButton) -> QWidget:
        row = QWidget(edit.parentWidget())
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(edit, 1)
        layout.addWidget(button)
        return row

    @staticmethod
    def _set_field(edit: QLineEdit, button: QPushButton, error: QLabel, value: str) -> None:
        if button.isEnabled() and error.isVisible():
            return  # a refused value is still being fixed: keep what was typed
        if not button.isEnabled():
            edit.setText(value)
            edit.setCursorPosition(0)  # show the start of a long address, not its end
            error.hide()

    def _save_failed(self, end_user_id: int, what: str, message: str, label: QLabel, button: QPushButton) -> None:
        if end_user_id == self._id:
            self._field_error(label, message, button)
        else:  # saved on the way to another end user: say whose value it was
            self._show_message(self.tr("%1 was not saved: %2").replace("%1", what).replace("%2", message))

    def _field_error(self, label: QLabel, message: str, button: QPushButton) -> None:
        label.setText("⚠ " + message)
        label.show()
        button.setEnabled(True)  # the typed text stays, so it can be fixed and saved again

    def _show_message(self, message: str) -> None:
        self.message.setText("⚠ " + message)
        self.message.show()
