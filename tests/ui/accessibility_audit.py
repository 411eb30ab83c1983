"""The accessibility audit the Qt tests run over every window (in process, offscreen): each
interactive or value widget has a name a screen reader can say, no named label hides the value
it shows, images are named, combo boxes captioned, mnemonics land. What the app itself uses to
be read well lives in `desktop_app.ui.accessible`."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QHeaderView,
    QLabel,
    QLCDNumber,
    QLineEdit,
    QMenuBar,
    QProgressBar,
    QScrollBar,
    QTabBar,
    QWidget,
)

from desktop_app.ui.accessible import SPACES, plain_text

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
    if value in SPACES.sub(" ", name) or label.accessibleDescription().strip():
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
