"""Layout rules of the main window: the table keeps most of the width, dialogs show their title."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFontMetrics, QWindow
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QGridLayout,
    QMessageBox,
    QSizePolicy,
    QSpacerItem,
    QSplitter,
    QWidget,
)

TABLE_SHARE = 0.5  # the end-user table never gets less than this share while the sides can give
SIDE_MINIMUM = {0: 200, 2: 280}  # splitter position -> narrowest a side panel is squeezed to
TITLE_ALLOWANCE = 140  # px beside a title: the window manager's icon and buttons


class TableFirstSplitter(QObject):
    """On every resize, squeeze the side panels (down to a minimum) before the table.

    QSplitter alone gives all of a shrink to the stretch widget: at 1024 px the table was left
    with one column while facets and details kept their width.
    """

    def __init__(self, splitter: QSplitter, table_at: int = 1) -> None:
        super().__init__(splitter)
        self._splitter, self._table_at = splitter, table_at
        splitter.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            self.fit()
        return False

    def fit(self) -> None:
        splitter = self._splitter
        sizes = splitter.sizes()
        total = sum(sizes)
        if total <= 0 or len(sizes) <= self._table_at:
            return
        wanted = int(total * TABLE_SHARE)
        short = wanted - sizes[self._table_at]
        if short <= 0:
            return
        sides = [i for i in range(len(sizes)) if i != self._table_at and sizes[i] > SIDE_MINIMUM.get(i, 150)]
        spare = {i: sizes[i] - SIDE_MINIMUM.get(i, 150) for i in sides}
        available = sum(spare.values())
        if available <= 0:
            return
        take = min(short, available)
        for i in sides:  # each side gives in proportion to what it can spare
            give = take * spare[i] // available
            sizes[i] -= give
            sizes[self._table_at] += give
        splitter.setSizes(sizes)


def fit_title(dialog: QWidget) -> None:
    """Widen a dialog narrower than its title (plus the window manager's buttons)."""
    title = dialog.windowTitle()
    if not title:
        return
    font = QApplication.font("QMdiSubWindowTitleBar")  # type: ignore[call-overload]  # stubs say bytes; only str works
    font.setBold(True)  # most window managers draw titles bold: measure the wider form
    needed = QFontMetrics(font).horizontalAdvance(title) + TITLE_ALLOWANCE
    screen = dialog.screen()
    if screen is not None:
        needed = min(needed, screen.availableGeometry().width() - 40)
    if dialog.width() >= needed:
        return
    if isinstance(dialog, QMessageBox):
        # A message box fixes its own size from its layout: widen the layout, then let it refit.
        layout = dialog.layout()
        if isinstance(layout, QGridLayout):
            spacer = QSpacerItem(needed, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
            layout.addItem(spacer, layout.rowCount(), 0, 1, layout.columnCount())
            dialog.setText(dialog.text())
        return
    dialog.setMinimumWidth(needed)
    dialog.resize(needed, dialog.height())


def _window_focused(window: QWindow | None) -> None:
    if window is None:
        return
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QDialog) and widget.windowHandle() is window:
            fit_title(widget)
            return


def install_dialog_title_fitter() -> None:
    """Once per application: every dialog that comes up is at least as wide as its title.

    Done when a window takes the focus (a signal seen a few times a minute), not in an
    application-wide event filter, which would run Python for every event of the app.
    """
    app = QApplication.instance()
    if not isinstance(app, QApplication) or app.property("wootric_title_fitter"):
        return
    app.focusWindowChanged.connect(_window_focused)
    app.setProperty("wootric_title_fitter", True)
