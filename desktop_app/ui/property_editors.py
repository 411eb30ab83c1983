"""Editors that fit a property's type, chosen by Wootric's key suffix convention.

`_amount` (and other numbers) → a spin box, `_count` → whole numbers, `_date` → a date edit
stored as unix seconds (UTC midnight), `_array` → a comma-separated list, else → text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QCoreApplication, QDate, QModelIndex, QPersistentModelIndex, QRegularExpression, Qt
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.domain import PropertyValue
from desktop_app.property_types import PropertyType, parse_property_text, property_type
from desktop_app.ui.accessible import ValueLabel
from desktop_app.user_errors import ErrorKind, UserFacingError

_Index = QModelIndex | QPersistentModelIndex
VALUE_ROLE = Qt.ItemDataRole.UserRole + 10  # the raw property value (not its display text)
KEY_ROLE = Qt.ItemDataRole.UserRole + 11

AMOUNT_LIMIT = 1e13


class PropertyInputError(UserFacingError, ValueError):
    """Text that does not fit the property's type; the message says what would."""

    title = "That value does not fit the property"
    kind = ErrorKind.INPUT


def _t(text: str) -> str:
    return QCoreApplication.translate("PropertyEditors", text)


def unix_to_qdate(unix: Any) -> QDate:
    try:
        seconds = float(unix)
    except (TypeError, ValueError):
        return QDate.currentDate()
    if not math.isfinite(seconds):
        return QDate.currentDate()
    moment = datetime.fromtimestamp(int(seconds), tz=timezone.utc)
    return QDate(moment.year, moment.month, moment.day)


def qdate_to_unix(date: QDate) -> int:
    return int(datetime(date.year(), date.month(), date.day(), tzinfo=timezone.utc).timestamp())


def parse_property_input(key: str, text: str) -> PropertyValue:
    """Turn what was typed into a value of the key's type, or raise PropertyInputError."""
    if key.lower().endswith("_count"):
        raw = text.strip().replace(",", "")
        if not raw.lstrip("-").isdigit():
            raise PropertyInputError(_t("“%1” needs a whole number").replace("%1", key))
        return int(raw)
    try:
        return parse_property_text(key, text)
    except ValueError as exc:
        raise PropertyInputError(str(exc)) from None


def value_as_text(key: str, value: Any) -> str:
    """The editable text form of a value (dates as YYYY-MM-DD, lists comma-separated)."""
    if value is None:
        return ""
    kind = property_type(key)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if kind is PropertyType.LIST and isinstance(value, str) and value.startswith("["):
        try:
            items = json.loads(value)
            if isinstance(items, list):
                return ", ".join(str(v) for v in items)
        except ValueError:
            pass
    if kind is PropertyType.DATE:
        return unix_to_qdate(value).toString("yyyy-MM-dd")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _editor_kind(key: str) -> str:
    """Which editor `create_value_editor` makes for `key` (keys of one kind share an editor)."""
    return "count" if key.lower().endswith("_count") else property_type(key).value


def create_value_editor(key: str, parent: QWidget | None) -> QWidget:
    """A fresh editor widget for `key`'s value type, with an accessible name."""
    kind = property_type(key)
    editor: QWidget
    if key.lower().endswith("_count"):
        line = QLineEdit(parent)
        line.setValidator(QRegularExpressionValidator(QRegularExpression(r"-?[0-9,]{0,19}"), line))
        line.setPlaceholderText(_t("a whole number"))
        editor = line
    elif kind is PropertyType.NUMBER:
        spin = QDoubleSpinBox(parent)
        spin.setRange(-AMOUNT_LIMIT, AMOUNT_LIMIT)
        spin.setDecimals(2)
        spin.setGroupSeparatorShown(True)
        editor = spin
    elif kind is PropertyType.DATE:
        date = QDateEdit(parent)
        date.setCalendarPopup(True)
        date.setDisplayFormat("yyyy-MM-dd")
        editor = date
    else:
        line = QLineEdit(parent)
        if kind is PropertyType.LIST:
            line.setPlaceholderText(_t("values separated by commas"))
        elif kind is PropertyType.FLAG:
            line.setPlaceholderText(_t("true or false"))
        editor = line
    editor.setAccessibleName(_t("Value of %1").replace("%1", key))
    return editor


def set_editor_value(editor: QWidget, key: str, value: Any) -> None:
    if isinstance(editor, QDoubleSpinBox):
        try:
            editor.setValue(float(value))
        except (TypeError, ValueError):
            editor.setValue(0.0)
    elif isinstance(editor, QDateEdit):
        editor.setDate(unix_to_qdate(value))
    elif isinstance(editor, QLineEdit):
        editor.setText(value_as_text(key, value))


def editor_value(editor: QWidget, key: str) -> PropertyValue:
    """The typed value in `editor`; raises PropertyInputError when it does not fit."""
    if isinstance(editor, QDoubleSpinBox):
        number = editor.value()
        return int(number) if float(number).is_integer() else float(number)
    if isinstance(editor, QDateEdit):
        return qdate_to_unix(editor.date())
    if isinstance(editor, QLineEdit):
        return parse_property_input(key, editor.text())
    raise PropertyInputError(_t("Unsupported editor"))


class PropertyValueDelegate(QStyledItemDelegate):
    """Edits the value column of a key/value model with the editor that fits the key."""

    def _key(self, index: _Index) -> str:
        return str(index.data(KEY_ROLE) or "")

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: _Index) -> QWidget:
        return create_value_editor(self._key(index), parent)

    def setEditorData(self, editor: QWidget, index: _Index) -> None:
        set_editor_value(editor, self._key(index), index.data(VALUE_ROLE))

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: _Index) -> None:
        key = self._key(index)
        try:
            value = editor_value(editor, key)
        except PropertyInputError as exc:
            # The model reports the message to the panel; nothing is written.
            model.setData(index, exc, Qt.ItemDataRole.EditRole)
            return
        model.setData(index, value, Qt.ItemDataRole.EditRole)


class PropertyValueDialog(QDialog):
    """Ask for a property key and a value whose editor follows the key's type.

    Used to add a property to one end user and by the bulk "Set property" action. With
    `ask_value=False` it only asks for a key (bulk "Remove property").
    """

    def __init__(
        self,
        title: str,
        known_keys: Sequence[str],
        parent: QWidget | None = None,
        *,
        key: str = "",
        ask_value: bool = True,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self._ask_value = ask_value
        self.key_box = QComboBox(self)
        self.key_box.setEditable(True)
        self.key_box.addItems(sorted(known_keys, key=str.lower))
        self.key_box.setCurrentText(key)
        self.key_box.setAccessibleName(_t("Property name"))
        self.key_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.message = ValueLabel(_t("Problem"), self)
        self.message.setWordWrap(True)
        self.message.hide()
        self.form = QFormLayout()
        self.form.addRow(_t("&Property:"), self.key_box)
        self.value_editor: QWidget | None = None
        self._editor_kind: str | None = None
        if ask_value:
            self._rebuild_editor(self.key_box.currentText())
            self.key_box.currentTextChanged.connect(self._rebuild_editor)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self._check_and_accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        if self.value_editor is not None:
            QWidget.setTabOrder(self.value_editor, self.buttons)
        self.result_key = ""
        self.result_value: PropertyValue | None = None

    def _rebuild_editor(self, key: str) -> None:
        kind = _editor_kind(key.strip())
        if self.value_editor is not None and kind == self._editor_kind:
            # Same type of value: keep the editor (and what was typed in it) while the key is typed.
            self.value_editor.setAccessibleName(_t("Value of %1").replace("%1", key.strip()))
            return
        self._editor_kind = kind
        old_text = ""
        if isinstance(self.value_editor, QLineEdit):
            old_text = self.value_editor.text()
        if self.value_editor is not None:
            self.form.removeRow(self.value_editor)
        self.value_editor = create_value_editor(key.strip(), self)
        if isinstance(self.value_editor, QLineEdit):
            self.value_editor.setText(old_text)
        self.form.addRow(_t("&Value:"), self.value_editor)
        self.value_editor.show()  # a layout shows a new child only later: Tab must find it now
        # A widget made now joins the end of the focus chain, after the buttons: put it back
        # between the key and the buttons, or Tab from the key skips it.
        QWidget.setTabOrder(self.key_box, self.value_editor)
        if hasattr(self, "buttons"):
            QWidget.setTabOrder(self.value_editor, self.buttons)

    def _check_and_accept(self) -> None:
        key = self.key_box.currentText().strip()
        if not key:
            self._fail(_t("Give the property a name."))
            return
        if self._ask_value and self.value_editor is not None:
            try:
                value = editor_value(self.value_editor, key)
            except PropertyInputError as exc:
                self._fail(str(exc))
                return
            if value == "" or value == []:
                # Setting "" is not removing: removing a property is its own action.
                self._fail(_t("Type a value for “%1”. To clear it, use Remove property.").replace("%1", key))
                self.value_editor.setFocus(Qt.FocusReason.OtherFocusReason)
                return
            self.result_value = value
        self.result_key = key
        self.accept()

    def _fail(self, message: str) -> None:
        self.message.setText("⚠ " + message)
        self.message.show()
