"""The filter bar: the filter language with completion, inline errors, syntax help, a live count."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QInputMethodEvent, QKeyEvent, QTextCharFormat
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCompleter,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.cache.filters.language import FIELD_NAMES, FilterError, describe_syntax, parse_filter
from desktop_app.ui.accessible import ValueLabel, name_clear_button
from desktop_app.ui.saved_filters import ManageSavedFiltersDialog, SavedFiltersModel

DEBOUNCE_MS = 150
VALUES_AFTER_MS = 400  # a key's common values are asked for once typing rests on `key:` this long

# Terms with fixed values, offered before any property key.
_FIXED_TERMS = (
    "surveys:enabled", "surveys:disabled", "disabled_by:admin", "disabled_by:end_user",
    "is:pending", "is:conflict", "is:deleted", "is:erasure-pending", "has:", "nps:detractor", "nps:passive",
    "nps:promoter", "has:response", "has:decline",
)
TAGS_KEY = "tag"  # `tag:` completes to the cache's response tags (`values_wanted` with this key)
_TOKEN_START = re.compile(r'(?:^|[\s(])(-?)([^\s()]*)$')


@dataclass(frozen=True, slots=True)
class FilterCheck:
    """The outcome of parsing filter text: ok, or a message and the character position."""

    ok: bool
    message: str = ""
    position: int = 0


def check_filter(text: str) -> FilterCheck:
    """Parse without querying (cheap, pure): the bar reports errors before anything runs."""
    try:
        parse_filter(text)
    except FilterError as exc:
        return FilterCheck(False, exc.message, exc.position)
    return FilterCheck(True)


_FIELD_NAMES = sorted(FIELD_NAMES)  # completion offers them alphabetically


def current_token(text: str, cursor: int) -> tuple[int, str]:
    """Where the word under the cursor starts (after a leading `-`) and the word so far."""
    match = _TOKEN_START.search(text[:cursor])
    if not match:
        return cursor, ""
    return match.start(2), match.group(2)


def quote_value(value: str) -> str:
    """A value as it must be typed in a term: quoted when it holds spaces or special characters."""
    if value and not re.search(r'[\s():"]', value):
        return value
    return '"' + value.replace('"', '\\"') + '"'


class FilterBar(QWidget):
    """A line edit speaking the filter language; emits `filter_changed` ~150 ms after typing."""

    filter_changed = Signal(str)  # valid filter text only; a bad filter keeps the old results
    values_wanted = Signal(str)  # the window answers with set_values(key, values)
    tags_wanted = Signal()  # the window answers with set_values(TAGS_KEY, tags)
    export_requested = Signal()  # the Export… button beside the count

    def __init__(self, saved: SavedFiltersModel | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText(self.tr("Filter end users — e.g. plan:pro surveys:enabled last_surveyed:>90d"))
        self.edit.setAccessibleName(self.tr("Filter"))
        self.edit.setAccessibleDescription(self.tr("Filter end users with the filter language; F1 shows the syntax"))
        self.edit.setClearButtonEnabled(True)
        name_clear_button(self.edit, self.tr("Clear the filter"))
        self.edit.setToolTip(describe_syntax())

        self.count_label = ValueLabel(self.tr("Matching end users"), self)
        self.count_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Wide enough for the longest count, right-aligned: the buttons beside it stay put.
        self.count_label.setMinimumWidth(
            self.count_label.fontMetrics().horizontalAdvance(self.tr("%1 of %2 end users")
                                                             .replace("%1", "8,888,888").replace("%2", "8,888,888")) + 4
        )
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.export_button = QToolButton(self)
        self.export_button.setText(self.tr("Export…"))
        self.export_button.setToolTip(self.tr("Export these end users to a CSV file (Ctrl+E)"))
        self.export_button.setAccessibleName(self.tr("Export end users"))
        self.export_button.clicked.connect(self.export_requested.emit)

        self.help_button = QToolButton(self)
        self.help_button.setText("?")
        self.help_button.setToolTip(self.tr("Filter syntax (F1)"))
        self.help_button.setAccessibleName(self.tr("Filter syntax help"))
        self.help_button.clicked.connect(self.show_help)

        self.saved_model = saved or SavedFiltersModel(self)
        self.saved_button = QToolButton(self)
        self.saved_button.setText(self.tr("Saved"))
        self.saved_button.setAccessibleName(self.tr("Saved filters"))
        self.saved_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.saved_menu = QMenu(self)
        self.saved_button.setMenu(self.saved_menu)
        self.saved_menu.aboutToShow.connect(self._fill_saved_menu)

        self.error_label = ValueLabel(self.tr("Filter error"), self)
        # One line, its space kept while hidden: an error coming and going while typing must
        # not push the table down and up. The full message is the tooltip when it is longer.
        self.error_label.setFixedHeight(self.error_label.fontMetrics().height() + 2)
        policy = self.error_label.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
        self.error_label.setSizePolicy(policy)
        self.error_label.hide()

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.help_button)
        row.addWidget(self.saved_button)
        row.addWidget(self.count_label)
        row.addWidget(self.export_button)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        outer.addLayout(row)
        outer.addWidget(self.error_label)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

        self._words = QStringListModel(self)
        self.completer = QCompleter(self._words, self)
        self.completer.setWidget(self.edit)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.setMaxVisibleItems(12)
        self.completer.activated[str].connect(self._insert_completion)  # type: ignore[index]  # stubs miss overload indexing
        popup = self.completer.popup()  # never None: QCompleter makes its list on first ask
        assert popup is not None
        self.popup: QAbstractItemView = popup
        self._property_keys: list[str] = []
        self._list_names: list[str] = []  # kept lists, for `list:<name>`
        self._values: dict[str, list[str]] = {}
        self._tags: dict[str, list[str]] = {}  # TAGS_KEY -> the response tags, once read
        # Values of a key are counted over every end user (seconds at a million without an
        # index): asked for only when typing rests on `key:`, never on the way to `key:>=1000`.
        self._values_timer = QTimer(self)
        self._values_timer.setSingleShot(True)
        self._values_timer.setInterval(VALUES_AFTER_MS)
        self._values_timer.timeout.connect(self._want_values)
        self._values_key: str | None = None

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._commit)
        self.edit.textChanged.connect(self._text_changed)
        self.edit.textEdited.connect(self._update_completion)
        self.edit.returnPressed.connect(self._commit_now)
        self._emitted: str | None = None
        self._last_key = 0.0
        self._error: FilterCheck | None = None

        # Escape and F1 as plain keys, not shortcuts: the main window binds the same keys
        # window-wide, and two shortcuts on one key would be ambiguous (neither fires).
        self.edit.installEventFilter(self)
        self.set_count(None, None)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.edit and event.type() == QEvent.Type.KeyPress:
            key = cast(QKeyEvent, event).key()  # PySide hands the QKeyEvent itself
            if key == Qt.Key.Key_Escape:
                self.clear()
                return True
            if key == Qt.Key.Key_F1:
                self.show_help()
                return True
        return super().eventFilter(watched, event)

    # --- public ---------------------------------------------------------------------------------

    def text(self) -> str:
        return self.edit.text()

    def set_text(self, text: str, *, immediate: bool = True) -> None:
        """Replace the filter (a facet click, a saved filter); runs at once unless told not to."""
        self.edit.setText(text)
        if immediate:
            self._commit_now()

    def clear(self) -> None:
        """Escape: an empty filter shows everyone, at once."""
        if self.popup.isVisible():
            self.popup.hide()
            return
        self.set_text("")

    def focus_filter(self) -> None:
        self.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.edit.selectAll()

    def set_count(self, matching: int | None, total: int | None) -> None:
        """"12,345 of 1,000,000 end users"; "Searching…" while a count is on its way."""
        if matching is None:
            self.count_label.setText(self.tr("Searching…"))
        elif total is None or total == matching and not self.text().strip():
            self.count_label.setText(self.tr("%1 end users").replace("%1", f"{matching:,}"))
        else:
            self.count_label.setText(
                self.tr("%1 of %2 end users").replace("%1", f"{matching:,}").replace("%2", f"{total:,}")
            )

    def set_property_keys(self, keys: Sequence[str]) -> None:
        self._property_keys = sorted(set(keys))

    def set_list_names(self, names: Sequence[str]) -> None:
        """The kept lists' names, offered after `list:`."""
        self._list_names = sorted(set(names), key=str.casefold)

    def set_values(self, key: str, values: Sequence[str]) -> None:
        """Common values of a property (or, for TAGS_KEY, the response tags), for completion
        after `key:`."""
        (self._tags if key == TAGS_KEY else self._values)[key] = list(values)
        start, token = current_token(self.edit.text(), self.edit.cursorPosition())
        if token.lower().startswith(key.lower() + ":"):
            self._update_completion(self.edit.text())

    @property
    def error(self) -> FilterCheck | None:
        """The current parse error, if the text does not parse."""
        return self._error

    def show_help(self) -> None:
        popup = QFrame(self, Qt.WindowType.Popup)
        popup.setFrameShape(QFrame.Shape.StyledPanel)
        label = QLabel(popup)
        label.setText(describe_syntax())
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setAccessibleName(self.tr("Filter syntax"))
        label.setAccessibleDescription(label.text())  # the name says what it is; this is what it says
        layout = QVBoxLayout(popup)
        layout.addWidget(label)
        popup.adjustSize()
        popup.move(self.edit.mapToGlobal(self.edit.rect().bottomLeft()))
        popup.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        popup.show()

    # --- internals ------------------------------------------------------------------------------

    def _text_changed(self, _text: str) -> None:
        # Leading and trailing edge: the first keystroke after a pause runs at once (results
        # follow a single key without waiting); keys typed in quick succession are coalesced
        # into one query ~150 ms after the last of them. A pause is judged by the clock alone:
        # a trailing timer still pending only means the event loop was busy.
        now = time.monotonic()
        idle = now - self._last_key > DEBOUNCE_MS / 1000
        self._last_key = now
        if idle:
            self._commit()
        self._debounce.start()

    def _commit_now(self) -> None:
        self._debounce.stop()
        self._commit()

    def _commit(self) -> None:
        text = self.edit.text()
        check = check_filter(text)
        if not check.ok:
            self._show_error(check)
            return
        self._clear_error()
        if text != self._emitted:
            self._emitted = text
            self.filter_changed.emit(text)

    def _show_error(self, check: FilterCheck) -> None:
        self._error = check
        position = max(0, min(check.position, len(self.edit.text())))
        self.error_label.setText(
            self.tr("⚠ %1 (at character %2)").replace("%1", check.message).replace("%2", str(position + 1))
        )
        self.error_label.setToolTip(self.error_label.text())
        self.error_label.show()
        self._underline(position, max(1, len(self.edit.text()) - position))

    def _clear_error(self) -> None:
        if self._error is None:
            return
        self._error = None
        self.error_label.hide()
        self.error_label.clear()
        self._underline(0, 0)

    def _underline(self, start: int, length: int) -> None:
        """Mark the bad part of the filter with a spell-check underline, in the edit itself."""
        attributes = []
        if length:
            fmt = QTextCharFormat()
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
            fmt.setUnderlineColor(Qt.GlobalColor.red)  # the platform's usual spelling-error mark
            attributes.append(
                QInputMethodEvent.Attribute(
                    QInputMethodEvent.AttributeType.TextFormat, start - self.edit.cursorPosition(), length, fmt
                )
            )
        QCoreApplication.sendEvent(self.edit, QInputMethodEvent("", attributes))

    def _vocabulary(self, token: str) -> list[str]:
        key, sep, value = token.partition(":")
        if sep:
            bare = key[5:] if key.lower().startswith("prop.") else key
            if bare.lower() == "has":
                return [f"{key}:{k}" for k in ["response", "decline", *_FIELD_NAMES, *self._property_keys]]
            if key.lower() == "list":
                return [f"{key}:{quote_value(name)}" for name in self._list_names]
            if key.lower() == TAGS_KEY:  # response tags (`prop.tag:` is the property)
                if TAGS_KEY not in self._tags:
                    self._values_key = TAGS_KEY
                    self._values_timer.start()
                    return []
                return [f"{key}:{quote_value(v)}" for v in self._tags[TAGS_KEY]]
            if bare in self._property_keys:
                if value.startswith(("<", ">", "=")) or ".." in value:
                    return []  # a comparison or a range: common values would not help
                if bare not in self._values:
                    self._values_key = bare
                    self._values_timer.start()
                    return []
                return [f"{key}:{quote_value(v)}" for v in self._values[bare]]
            return [t for t in _FIXED_TERMS if t.startswith(key.lower() + ":")]
        words = list(_FIXED_TERMS)
        words += [f"{name}:" for name in _FIELD_NAMES]
        words += [f"{k}:" for k in self._property_keys]
        words += ["list:"] if self._list_names else []
        words += ["OR", "NOT"]
        return sorted(set(words), key=str.lower)

    def _want_values(self) -> None:
        key, self._values_key = self._values_key, None
        _start, token = current_token(self.edit.text(), self.edit.cursorPosition())
        name, sep, value = token.partition(":")
        bare = name[5:] if name.lower().startswith("prop.") else name
        if key == TAGS_KEY and sep and name.lower() == TAGS_KEY and TAGS_KEY not in self._tags:
            self.tags_wanted.emit()
            return
        if key and sep and bare == key and key not in self._values and not value.startswith(("<", ">", "=")):
            self.values_wanted.emit(key)

    def _update_completion(self, text: str) -> None:
        self._values_timer.stop()  # re-armed below if the token still wants values
        start, token = current_token(text, self.edit.cursorPosition())
        if not token:
            self.popup.hide()
            return
        self._words.setStringList(self._vocabulary(token))
        self.completer.setCompletionPrefix(token)
        if self.completer.completionCount() == 0 or (
            self.completer.completionCount() == 1 and self.completer.currentCompletion() == token
        ):
            self.popup.hide()
            return
        rect = self.edit.cursorRect()
        rect.setWidth(max(240, self.popup.sizeHintForColumn(0) + 24))
        self.completer.complete(rect)

    def _insert_completion(self, completion: str) -> None:
        text = self.edit.text()
        cursor = self.edit.cursorPosition()
        start, _token = current_token(text, cursor)
        end = cursor
        while end < len(text) and not text[end].isspace() and text[end] not in "()":
            end += 1
        # A finished term gets a trailing space; `key:` stays open for its value.
        suffix = "" if completion.endswith(":") else " "
        new_text = text[:start] + completion + suffix + text[end:].lstrip(" ")
        self.edit.setText(new_text)
        self.edit.setCursorPosition(start + len(completion) + len(suffix))
        if completion.endswith(":"):
            self._update_completion(new_text)

    def _fill_saved_menu(self) -> None:
        menu = self.saved_menu
        menu.clear()
        for item in self.saved_model.filters:
            action = menu.addAction(item.name)
            action.setToolTip(item.query)
            action.triggered.connect(lambda _=False, q=item.query: self.set_text(q))
        if self.saved_model.filters:
            menu.addSeparator()
        save = menu.addAction(self.tr("Save current filter…"))
        save.setEnabled(bool(self.text().strip()))
        save.triggered.connect(self.save_current)
        manage = menu.addAction(self.tr("Manage saved filters…"))
        manage.setEnabled(bool(self.saved_model.filters))
        manage.triggered.connect(self.manage_saved)

    def save_current(self) -> None:
        name, ok = QInputDialog.getText(self, self.tr("Save filter"), self.tr("Name for this filter:"))
        if ok and name.strip():
            self.saved_model.add(name, self.text())

    def manage_saved(self) -> None:
        ManageSavedFiltersDialog(self.saved_model, self).exec()
