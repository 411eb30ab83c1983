"""The question a form asks before typing that was not saved would be lost: save, discard or stay."""

from __future__ import annotations

import enum
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QMessageBox, QWidget

QUESTION_NAME = "unsaved-changes"  # the dialog's objectName: tests and accessibility find it by it


class UnsavedChoice(enum.Enum):
    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"  # stay where you were, typing kept


def _tr(text: str) -> str:
    return QCoreApplication.translate("UnsavedChanges", text)


def ask_about_unsaved(parent: QWidget, end_user: str, fields: Sequence[str]) -> UnsavedChoice:
    """"Save changes to <end user>?" with Save (the default), Don't Save and Cancel (Esc)."""
    box = QMessageBox(parent)
    box.setObjectName(QUESTION_NAME)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(_tr("Unsaved changes"))
    box.setText(_tr("Save changes to %1?").replace("%1", end_user))
    box.setInformativeText(_tr("You changed %1 and did not save it. If you don't save, your typing is lost.")
                           .replace("%1", _tr(" and ").join(fields)))
    buttons = QMessageBox.StandardButton
    box.setStandardButtons(buttons.Save | buttons.Discard | buttons.Cancel)
    box.setDefaultButton(buttons.Save)
    box.setEscapeButton(buttons.Cancel)
    answer = box.exec()
    box.deleteLater()
    if answer == buttons.Save:
        return UnsavedChoice.SAVE
    if answer == buttons.Discard:
        return UnsavedChoice.DISCARD
    return UnsavedChoice.CANCEL  # Cancel, Esc, or the dialog ended by a quit
