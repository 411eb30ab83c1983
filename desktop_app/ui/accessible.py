"""What screen readers hear: labels that show a value, and an audit of a window's names.

Qt reads a QLabel to assistive technology by its accessible name, and only falls back to the
label's text when no name is set. A label that shows a value ("1,234 of 5,000 end users",
"Synced 3 min ago") but was named after its caption ("Matching end users") therefore says the
caption and never the value; one named after nothing says the value but not what it is.
`ValueLabel` says both, "Matching end users: 1,234 of 5,000 end users", and keeps saying it as
the text changes: Qt does not update an explicit name itself.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtGui import Qt as GuiQt  # mightBeRichText lives in QtGui's Qt namespace
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QToolButton, QWidget

SPACES = re.compile(r"\s+")


def plain_text(label: QLabel) -> str:
    """The label's text as read aloud: rich text without its markup, spaces collapsed."""
    text = label.text()
    rich = label.textFormat() is Qt.TextFormat.RichText or (
        label.textFormat() is Qt.TextFormat.AutoText and GuiQt.mightBeRichText(text)
    )
    if rich:
        document = QTextDocument()
        document.setHtml(text)
        text = document.toPlainText()
    return SPACES.sub(" ", text).strip()


def spoken_value(caption: str, value: str) -> str:
    """"Caption: value", or the caption alone while there is no value."""
    if not value:
        return caption
    return QCoreApplication.translate("ValueLabel", "%1: %2").replace("%1", caption).replace("%2", value)


class ValueLabel(QLabel):
    """A label whose text is a value: its accessible name says what it is and what it shows.

    Callers set the text as on any QLabel; the name follows (setText, setNum and clear are
    the ways the text changes, and each is covered here).
    """

    def __init__(self, caption: str, parent: QWidget | None = None, text: str = "") -> None:
        super().__init__(parent)
        self._caption = caption
        self.setText(text)

    @property
    def caption(self) -> str:
        return self._caption

    def set_caption(self, caption: str) -> None:
        self._caption = caption
        self._name_value()

    def setText(self, text: str) -> None:
        super().setText(text)
        self._name_value()

    def setNum(self, number: float) -> None:
        super().setNum(number)
        self._name_value()

    def clear(self) -> None:
        super().clear()
        self._name_value()

    def _name_value(self) -> None:
        name = spoken_value(self._caption, plain_text(self))
        if name != self.accessibleName():  # setAccessibleName announces a change: only a real one
            self.setAccessibleName(name)


def marker_name(pending: bool, conflict: bool, deleted: bool) -> str:
    """What `theme.marker_icon(pending, conflict, deleted)` shows, in words, for its accessible name."""
    def tr(text: str) -> str:
        return QCoreApplication.translate("Markers", text)

    words = [tr("Edits waiting to sync")] if pending else []
    words += [tr("Conflict")] if conflict else []
    words += [tr("Deleted here")] if deleted else []
    return ", ".join(words)


def point_buddies_at_fields(form: QFormLayout) -> None:
    """QFormLayout makes each caption the buddy of its field; where the field is a row of widgets
    (a line edit and its Save button), the row takes no focus and the caption's shortcut would do
    nothing: point the caption at the row's first widget that takes focus instead."""
    for row in range(form.rowCount()):
        label_item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
        field_item = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
        label = label_item.widget() if label_item is not None else None
        field = field_item.widget() if field_item is not None else None
        if not isinstance(label, QLabel) or field is None or field.focusPolicy() is not Qt.FocusPolicy.NoFocus:
            continue
        target = next((w for w in field.findChildren(QWidget) if w.focusPolicy() is not Qt.FocusPolicy.NoFocus), None)
        if target is not None:
            label.setBuddy(target)


def name_clear_button(edit: QLineEdit, name: str) -> None:
    """Name the clear button `setClearButtonEnabled` gave `edit`: Qt leaves it without text or
    name, so a screen reader says only "button"."""
    for button in edit.findChildren(QToolButton):
        button.setAccessibleName(name)
