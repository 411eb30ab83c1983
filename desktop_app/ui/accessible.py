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
from collections.abc import Iterable

from PySide6.QtCore import QCoreApplication, QObject, Qt
from PySide6.QtGui import QAccessible, QTextDocument
from PySide6.QtGui import Qt as GuiQt  # mightBeRichText lives in QtGui's Qt namespace
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLCDNumber,
    QLineEdit,
    QMenuBar,
    QProgressBar,
    QScrollBar,
    QTabBar,
    QToolButton,
    QWidget,
)

_SPACES = re.compile(r"\s+")


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
    return _SPACES.sub(" ", text).strip()


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


# --- the audit ------------------------------------------------------------------------------------

# Widgets a person works or reads a value from; each needs a name a screen reader can say.
_NAMED_KINDS: tuple[type[QWidget], ...] = (
    QAbstractButton,
    QLineEdit,
    QComboBox,
    QAbstractSpinBox,
    QAbstractSlider,
    QAbstractItemView,
    QAbstractScrollArea,  # text editors and browsers; plain scroll areas are skipped below
    QTabBar,
    QProgressBar,
    QLCDNumber,
)


def _is_part_of_another(widget: QWidget) -> bool:
    """Qt's own sub-widgets (a combo box's list, a spin box's editor, a view's corner button and
    cell editors, a menu bar's overflow button): their owner speaks for them. A line edit's clear
    button is not among them: it is a button of its own, reached and read as one."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QComboBox | QAbstractSpinBox | QAbstractItemView | QMenuBar):
            return True
        parent = parent.parentWidget()
    return False


def _needs_name(widget: QWidget) -> bool:
    if not isinstance(widget, _NAMED_KINDS) or _is_part_of_another(widget):
        return False
    # Scroll bars and header sections are announced by their role and the view they belong to.
    if isinstance(widget, QScrollBar | QHeaderView):
        return False
    if isinstance(widget, QAbstractButton) and not widget.text() and widget.isHidden():
        return False  # a counter button hidden while it has nothing to count: named by its text once shown
    if isinstance(widget, QAbstractScrollArea) and not isinstance(widget, QAbstractItemView):
        role = QAccessible.queryAccessibleInterface(widget)
        return role is not None and role.role() in (QAccessible.Role.EditableText, QAccessible.Role.StaticText)
    return True


def describe(widget: QWidget) -> str:
    """Where a widget is, for a failure message: "DetailPanel.banner (QLabel)"."""
    parent: QObject | None = widget.parent()
    while parent is not None:
        for attribute, value in vars(parent).items():
            if value is widget:
                return f"{type(parent).__name__}.{attribute} ({type(widget).__name__})"
        parent = parent.parent()
    name = widget.objectName()
    return f"{type(widget).__name__}{f' {name!r}' if name else ''} in {type(widget.parentWidget()).__name__}"


def spoken_name(widget: QWidget) -> str:
    """The name Qt gives assistive technology: the explicit one, a buddy label's, a button's text."""
    interface = QAccessible.queryAccessibleInterface(widget)
    return interface.text(QAccessible.Text.Name).strip() if interface is not None else ""


def caption_of(widget: QWidget) -> str:
    """The label that names `widget` through a labelled-by relation (its buddy caption)."""
    interface = QAccessible.queryAccessibleInterface(widget)
    if interface is None:
        return ""
    return " ".join(label.text(QAccessible.Text.Name) for label, _flag in interface.relations(QAccessible.RelationFlag.Label))


def label_problem(label: QLabel) -> str | None:
    """A label named after its caption whose name leaves out the value it shows."""
    value = plain_text(label)
    name = label.accessibleName()
    if not value or not name:
        return None  # Qt reads an unnamed label by its text; an empty one has nothing to hide
    if value in _SPACES.sub(" ", name) or label.accessibleDescription().strip():
        return None
    return f"{describe(label)} shows {value!r} but is read only as {name!r}"


def buddy_problem(label: QLabel) -> str | None:
    """A caption with a mnemonic ("E&mail:") whose buddy takes no focus: QLabel then drops the
    shortcut (it checks the buddy's own focus policy, not a focus proxy's)."""
    buddy = label.buddy()
    if buddy is None or "&" not in label.text().replace("&&", ""):
        return None
    if buddy.focusPolicy() is Qt.FocusPolicy.NoFocus:
        return f"{describe(label)} {label.text()!r} sends its shortcut to {describe(buddy)}, which takes no focus"
    return None


def accessibility_problems(roots: Iterable[QWidget]) -> list[str]:
    """Every interactive or value widget under `roots` that a screen reader cannot name, and
    every named label whose name hides its text. Hidden widgets count: they show later."""
    problems: list[str] = []
    for root in roots:
        for widget in [root, *root.findChildren(QWidget)]:
            if _needs_name(widget) and not spoken_name(widget):
                problems.append(f"{describe(widget)} has no accessible name")
            # On Linux Qt gives a combo box its current text as name, whatever was set: what it
            # chooses reaches a screen reader only as the labelled-by relation of a buddy caption.
            if isinstance(widget, QComboBox) and not _is_part_of_another(widget) and not caption_of(widget):
                problems.append(f"{describe(widget)} has no buddy label: on Linux its caption is never read")
            if isinstance(widget, QLabel):
                # Qt's own images (a message box's icon) are said by the box's role.
                if not widget.pixmap().isNull() and not spoken_name(widget) and not widget.objectName().startswith("qt_"):
                    problems.append(f"{describe(widget)} shows an image with no accessible name")
                for problem in (label_problem(widget), buddy_problem(widget)):
                    if problem is not None:
                        problems.append(problem)
    return problems
