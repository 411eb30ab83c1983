"""The always-visible sync status bar: state, progress, last sync, pending edits, conflicts."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QStatusBar,
    QToolButton,
    QWidget,
)

from desktop_app.sync.bar_state import BarState, SyncBarView, describe_bar
from desktop_app.sync.status import SyncState, SyncStatus
from desktop_app.ui.relay import Relay, keep_newest
from desktop_app.ui.accessible import ValueLabel
from desktop_app.ui.theme import marker_icon

if TYPE_CHECKING:
    from desktop_app.ui.services import AppServices

_ICON = 16
_AGE_REFRESH_MS = 15_000  # "3 min ago" stays true without a repaint per second
# A running sync's counts and rate are redrawn this often at most, not once per page pulled:
# each redraw relays out the bar's labels on the GUI thread. Any other change shows at once.
_PROGRESS_EVERY_MS = 250
# States in which the service cannot be read: leaving them says "reachable again".
_UNREACHABLE = frozenset({BarState.OFFLINE, BarState.WORKING_OFFLINE, BarState.SIGN_IN_NEEDED,
                          BarState.NO_ACCOUNT})


# --- state icons: shapes from the palette, so the state never rests on colour alone -----------

def _palette_key() -> tuple[str, str]:
    pal = QGuiApplication.palette()
    return pal.color(QPalette.ColorRole.WindowText).name(), pal.color(QPalette.ColorRole.Highlight).name()


@lru_cache(maxsize=32)
def _state_icon(state: SyncState, palette: tuple[str, str]) -> QIcon:
    fg, accent = QColor(palette[0]), QColor(palette[1])
    screen = QGuiApplication.primaryScreen()
    ratio = max(1.0, screen.devicePixelRatio()) if screen else 1.0
    pixmap = QPixmap(int(_ICON * ratio), int(_ICON * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(QPen(fg, 1.5))
    ring = QRectF(1.5, 1.5, 13, 13)
    if state is SyncState.IDLE:  # a tick in a ring: in step with the service
        p.drawEllipse(ring)
        p.setPen(QPen(accent, 1.8))
        p.drawPolyline([QPointF(4.5, 8.2), QPointF(7, 10.8), QPointF(11.5, 5.2)])
    elif state is SyncState.SYNCING:  # two arcs chasing each other
        p.setPen(QPen(accent, 1.8))
        p.drawArc(ring, 30 * 16, 140 * 16)
        p.drawArc(ring, 210 * 16, 140 * 16)
        p.drawLine(QPointF(14.5, 4.5), QPointF(14.4, 8.2))
        p.drawLine(QPointF(1.5, 11.5), QPointF(1.6, 7.8))
    elif state is SyncState.OFFLINE:  # a broken link: two half rings apart, a slash between
        p.drawArc(QRectF(0.5, 4.5, 7, 7), 90 * 16, 180 * 16)
        p.drawArc(QRectF(8.5, 4.5, 7, 7), -90 * 16, 180 * 16)
        p.drawLine(QPointF(5.5, 13.5), QPointF(10.5, 2.5))
    elif state is SyncState.WORKING_OFFLINE:  # pause bars in a ring: chosen, not broken
        p.drawEllipse(ring)
        p.drawLine(QPointF(6.3, 5), QPointF(6.3, 11))
        p.drawLine(QPointF(9.7, 5), QPointF(9.7, 11))
    else:  # FAILED, AUTH_FAILED: a warning triangle
        p.drawPolygon([QPointF(8, 1.5), QPointF(15, 14.5), QPointF(1, 14.5)])
        p.setPen(QPen(fg, 1.8))
        p.drawLine(QPointF(8, 5.5), QPointF(8, 10))
        p.drawPoint(QPointF(8, 12.4))
    p.end()
    return QIcon(pixmap)


def state_icon(state: SyncState) -> QIcon:
    return _state_icon(state, _palette_key())


class SyncStatusBar(QStatusBar):
    """Sync at a glance, always visible; "Sync now" and "Work offline" on the right.

    Offline and failure states read as such in words and in the icon's shape, never only in
    colour, and never as "Synced".
    """

    conflicts_requested = Signal()  # the conflicts / rejected-edits counter was clicked
    sign_in_requested = Signal()  # the "Sign in again" button of AUTH_FAILED was clicked
    work_offline_toggled = Signal(bool)  # the person flipped "Work offline" here (menus mirror it)
    reachable_again = Signal()  # the service answers again after offline / sign-in / offline work
    status_shown = Signal(object)  # each SyncStatus as it is drawn (not the ticks between)

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SyncStatusBar")
        self.setAccessibleName(self.tr("Sync status"))
        self._services = services
        self._sync = services.sync
        self._status = self._sync.status if self._sync is not None else SyncStatus()

        row = QWidget(self)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(10)
        self.icon_label = QLabel(row)
        self.icon_label.setFixedSize(_ICON, _ICON)
        self.state_label = ValueLabel(self.tr("Sync state"), row)
        self.state_label.setObjectName("syncState")
        self.state_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar(row)
        self.progress.setAccessibleName(self.tr("Sync progress"))
        self.progress.setMaximumWidth(180)
        self.progress.setMaximumHeight(14)
        self.progress.setTextVisible(False)
        # Showing and hiding must not resize the window: that repainted the whole table on
        # every progress step of a sync and stalled the GUI thread for hundreds of ms.
        policy = self.progress.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.progress.setSizePolicy(policy)
        self.last_sync_label = ValueLabel(self.tr("Last successful sync"), row)
        self.pending_label = ValueLabel(self.tr("Edits waiting to be sent"), row)
        self.conflicts_button = QToolButton(row)
        self.conflicts_button.setAutoRaise(True)
        self.conflicts_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.conflicts_button.setCursor(Qt.CursorShape.PointingHandCursor)
        # Read by its text, the count ("2 conflicts"); what a click does is the description.
        self.conflicts_button.setAccessibleDescription(self.tr("Open conflicts and rejected edits"))
        self.conflicts_button.clicked.connect(self.conflicts_requested)
        self.sign_in_button = QToolButton(row)
        self.sign_in_button.setText(self.tr("Sign in again…"))
        self.sign_in_button.setAccessibleName(self.tr("Sign in again"))
        self.sign_in_button.clicked.connect(self.sign_in_requested)
        self.sync_now_button = QToolButton(row)
        self.sync_now_button.setText(self.tr("Sync now"))
        self.sync_now_button.setAccessibleName(self.tr("Sync now"))
        self.sync_now_button.setToolTip(self.tr("Send local edits and fetch changes now (F5)"))
        self.sync_now_button.clicked.connect(self.sync_now)
        self.offline_button = QToolButton(row)
        self.offline_button.setText(self.tr("Work offline"))
        self.offline_button.setAccessibleName(self.tr("Work offline"))
        self.offline_button.setToolTip(self.tr("Stop all network traffic; edits wait locally"))
        self.offline_button.setCheckable(True)
        self.offline_button.toggled.connect(self.set_work_offline)

        layout.addWidget(self.icon_label)
        layout.addWidget(self.state_label, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.last_sync_label)
        layout.addWidget(self.pending_label)
        layout.addWidget(self.conflicts_button)
        layout.addWidget(self.sign_in_button)
        layout.addWidget(self.sync_now_button)
        layout.addWidget(self.offline_button)
        # Permanent: a transient showMessage() from the window never hides the sync state.
        self.addPermanentWidget(row, 1)

        self._relay = Relay(keep_newest, self)  # the newest SyncStatus from the sync thread
        self._relay.delivered.connect(self._apply_latest)
        self._unsubscribe = self._sync.subscribe(self._relay.push) if self._sync is not None else None
        if self._unsubscribe is not None:  # never leave the sync thread calling a dead widget
            unsubscribe = self._unsubscribe
            self.destroyed.connect(lambda *_: unsubscribe())
        # Ticks "3 min ago" slowly, and a retry countdown every second while one is scheduled.
        self._age_timer = QTimer(self)
        self._age_timer.setInterval(_AGE_REFRESH_MS)
        self._age_timer.timeout.connect(self._tick)
        self._age_timer.start()
        self._held: SyncStatus | None = None  # newer progress, waiting for _progress_timer
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.timeout.connect(self._render_held)
        self._rendered_at = 0.0
        self._icon_key: tuple[SyncState, tuple[str, str]] | None = None
        self._view: SyncBarView | None = None
        self.render(self._status)

    # --- the person's controls ------------------------------------------------------------

    @Slot()
    def sync_now(self) -> None:
        if self._sync is not None and not self.offline_button.isChecked():
            self._sync.sync_now()

    @Slot(bool)
    def set_work_offline(self, offline: bool) -> None:
        if self._sync is not None:
            self._sync.set_work_offline(offline)
        self.sync_now_button.setEnabled(not offline and self._sync is not None)
        self.work_offline_toggled.emit(offline)

    def detach(self) -> None:
        """Stop listening to the sync service (the window calls this before it goes away)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._age_timer.stop()
        self._progress_timer.stop()

    @property
    def status(self) -> SyncStatus:
        return self._status

    # --- rendering --------------------------------------------------------------------------

    @Slot(object)
    def _apply_latest(self, status: SyncStatus) -> None:
        shown = self._status
        since_ms = (time.monotonic() - self._rendered_at) * 1000
        if (status.state is SyncState.SYNCING and shown.state is SyncState.SYNCING
                and status.phase == shown.phase and since_ms < _PROGRESS_EVERY_MS):
            self._held = status  # only the progress moved: drawn with the next slot
            if not self._progress_timer.isActive():
                self._progress_timer.start(max(1, int(_PROGRESS_EVERY_MS - since_ms)))
            return
        self.render(status)

    @Slot()
    def _render_held(self) -> None:
        if self._held is not None:
            self.render(self._held)

    def render(self, status: SyncStatus) -> None:  # type: ignore[override]  # shadows QWidget.render (not virtual)
        """Show one snapshot (GUI thread only); what it says comes from `describe_bar`."""
        was_reachable = self._view is not None and self._view.state not in _UNREACHABLE
        self._status = status
        self._held = None
        self._progress_timer.stop()
        self._rendered_at = time.monotonic()
        view = self._describe()
        icon_key = (view.icon_state, _palette_key())
        if icon_key != self._icon_key:  # a new pixmap relays the label out: only when it changes
            self._icon_key = icon_key
            self.icon_label.setPixmap(state_icon(view.icon_state).pixmap(_ICON, _ICON))
        self._age_timer.setInterval(1000 if view.ticking else _AGE_REFRESH_MS)
        self._render_progress(view)
        self.pending_label.setText(view.pending)
        self.pending_label.setVisible(bool(view.pending))
        self.conflicts_button.setText(view.issues)
        self.conflicts_button.setIcon(marker_icon(pending=False, conflict=True, deleted=False) or QIcon())
        self.conflicts_button.setVisible(bool(view.issues))
        self.sign_in_button.setVisible(view.state is BarState.SIGN_IN_NEEDED)
        working_offline = view.state is BarState.WORKING_OFFLINE
        if self.offline_button.isChecked() != working_offline and self._sync is not None:
            self.offline_button.blockSignals(True)
            self.offline_button.setChecked(working_offline)
            self.offline_button.blockSignals(False)
        self.sync_now_button.setEnabled(self._sync is not None and view.can_sync_now)
        self.offline_button.setEnabled(self._sync is not None)
        self._show_words(view)
        if not was_reachable and view.state not in _UNREACHABLE and self._sync is not None:
            self.reachable_again.emit()
        self.status_shown.emit(status)

    @property
    def view(self) -> SyncBarView:
        """What the bar shows now (tests and the window read it)."""
        return self._describe()

    def _describe(self) -> SyncBarView:
        return describe_bar(self._status if self._sync is not None else None, self._now())

    @Slot()
    def _tick(self) -> None:
        self._show_words(self._describe())

    def _show_words(self, view: SyncBarView) -> None:
        self._view = view
        self.state_label.setText(view.headline)
        self.state_label.setToolTip(view.detail)
        self.icon_label.setToolTip(view.detail)
        self.icon_label.setAccessibleName(view.headline)
        self.last_sync_label.setText(view.last_sync)
        last = self._status.last_success_at
        self.last_sync_label.setToolTip(
            "" if last is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(last)))

    def _render_progress(self, view: SyncBarView) -> None:
        progress = view.progress
        if progress is None:
            self.progress.hide()
            return
        # QProgressBar.setValue repaints at once, and a synchronous repaint paints everything
        # dirty in the window with it: during a sync, the table someone scrolls, once per page
        # pulled, on top of the regular paint. With updates off the bar is only marked, and
        # re-enabling them schedules one ordinary, coalesced paint.
        self.progress.setUpdatesEnabled(False)
        try:
            self.progress.show()
            if progress.total:
                self.progress.setRange(0, max(progress.total, 1))
                self.progress.setValue(min(progress.done, self.progress.maximum()))
            else:
                self.progress.setRange(0, 0)  # busy: no count to promise
        finally:
            self.progress.setUpdatesEnabled(True)

    def _now(self) -> float:
        return self._sync.clock.now() if self._sync is not None else time.time()
