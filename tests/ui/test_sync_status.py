"""The sync status bar renders every state in words and icon; offline never reads as success."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop_app.clock import SystemClock
from desktop_app.sync.status import SyncState, SyncStatus
from desktop_app.ui.sync_status import SyncStatusBar, state_icon


@dataclass
class _ScriptedSync:
    """Stands in for SyncService where a test must dictate exact snapshots; same surface."""

    status: SyncStatus = field(default_factory=SyncStatus)
    subscribers: list[Callable[[SyncStatus], None]] = field(default_factory=list)
    sync_now_calls: int = 0
    offline_calls: list[bool] = field(default_factory=list)
    clock: SystemClock = field(default_factory=SystemClock)  # the service's clock, as SyncService has

    def subscribe(self, cb: Callable[[SyncStatus], None]) -> Callable[[], None]:
        self.subscribers.append(cb)
        return lambda: self.subscribers.remove(cb)

    def publish(self, status: SyncStatus) -> None:
        self.status = status
        for cb in list(self.subscribers):
            cb(status)

    def sync_now(self) -> None:
        self.sync_now_calls += 1

    def set_work_offline(self, offline: bool) -> None:
        self.offline_calls.append(offline)


@dataclass(frozen=True)
class _Services:
    sync: Any
    cache: Any = None


@pytest.fixture
def bar(qtbot: QtBot) -> tuple[SyncStatusBar, _ScriptedSync]:
    sync = _ScriptedSync()
    widget = SyncStatusBar(_Services(sync))
    qtbot.addWidget(widget)
    widget.resize(1200, 30)
    widget.show()
    return widget, sync


def _publish_from_worker(sync: _ScriptedSync, status: SyncStatus) -> None:
    """Snapshots arrive on the sync thread in the real app: do the same here."""
    worker = threading.Thread(target=sync.publish, args=(status,))
    worker.start()
    worker.join(5)


NOW = int(time.time())

STATES: list[tuple[SyncStatus, str]] = [
    (SyncStatus(SyncState.IDLE, last_success_at=NOW - 180), "Up to date"),
    (SyncStatus(SyncState.SYNCING, phase="pull", done=1200, total=5000, rate_per_s=400.0,
                eta_s=9.5, last_success_at=None), "Receiving end users · 1,200 of 5,000"),
    (SyncStatus(SyncState.OFFLINE, next_retry_at=time.time() + 30, last_success_at=NOW - 7200,
                message="Offline: connection refused"), "Offline: the service cannot be reached"),
    (SyncStatus(SyncState.WORKING_OFFLINE, last_success_at=NOW - 60), "Working offline"),
    (SyncStatus(SyncState.FAILED, message="Sync failed: 500", next_retry_at=time.time() + 8),
     "Sync failed"),
    (SyncStatus(SyncState.AUTH_FAILED, message="Sign-in needed"), "Sign-in needed"),
]


@pytest.mark.parametrize(("status", "expected"), STATES, ids=[s.state.value for s, _ in STATES])
def test_each_state_renders_in_words(
    qtbot: QtBot, bar: tuple[SyncStatusBar, _ScriptedSync], status: SyncStatus, expected: str
) -> None:
    widget, sync = bar
    _publish_from_worker(sync, status)
    qtbot.waitUntil(lambda: widget.status == status, timeout=10_000)
    text = widget.state_label.text()
    assert expected in text
    if status.state is not SyncState.IDLE:
        assert "Up to date" not in text and "Synced" not in text  # nothing else reads as success
    assert widget.progress.isVisible() == (status.state is SyncState.SYNCING)
    assert widget.sign_in_button.isVisible() == (status.state is SyncState.AUTH_FAILED)
    assert widget.icon_label.accessibleName() == text


def test_building_the_search_index_says_so_with_its_progress(
        qtbot: QtBot, bar: tuple[SyncStatusBar, _ScriptedSync]) -> None:
    widget, sync = bar
    status = SyncStatus(SyncState.SYNCING, phase="index", done=300_000, total=2_000_000)
    _publish_from_worker(sync, status)
    qtbot.waitUntil(lambda: widget.status == status, timeout=10_000)
    assert widget.state_label.text() == "Building the search index · 300,000 of 2,000,000…"
    assert widget.progress.isVisible()


def test_syncing_shows_counts_rate_and_eta(qtbot: QtBot, bar: tuple[SyncStatusBar, _ScriptedSync]) -> None:
    widget, sync = bar
    status = SyncStatus(SyncState.SYNCING, phase="pull", done=1200, total=5000,
                        rate_per_s=400.0, eta_s=95)
    _publish_from_worker(sync, status)
    qtbot.waitUntil(lambda: widget.status == status, timeout=10_000)
    assert widget.state_label.text() == "Receiving end users · 1,200 of 5,000 · 400/s · about 2 min left…"
    assert (widget.progress.minimum(), widget.progress.maximum(), widget.progress.value()) == (0, 5000, 1200)
    assert not widget.sync_now_button.isEnabled()  # single-flight: no second run from here


def test_a_rate_limit_wait_says_why_nothing_moves_and_until_when(
        qtbot: QtBot, bar: tuple[SyncStatusBar, _ScriptedSync]) -> None:
    widget, sync = bar
    status = SyncStatus(SyncState.SYNCING, phase="pull", done=1200, total=5000, rate_per_s=400.0,
                        eta_s=95, next_retry_at=time.time() + 42.5,
                        message="Waiting for the service's rate limit of 60 requests a minute.")
    _publish_from_worker(sync, status)
    qtbot.waitUntil(lambda: widget.status == status, timeout=10_000)
    text = widget.state_label.text()
    assert text.startswith("Receiving end users · 1,200 of 5,000 · 400/s · waiting for the service's rate limit")
    assert "about 2 min left" not in text  # no estimate while nothing moves
    assert "rate limit of 60 requests a minute" in widget.state_label.toolTip()


def test_offline_icon_differs_from_synced_in_shape_not_just_colour(qapp: object) -> None:
    images = {s: state_icon(s).pixmap(16, 16).toImage() for s in SyncState}

    def alpha_mask(state: SyncState) -> list[bool]:
        img = images[state]
        return [img.pixelColor(x, y).alpha() > 40 for y in range(img.height()) for x in range(img.width())]

    masks = {s: alpha_mask(s) for s in (SyncState.IDLE, SyncState.OFFLINE, SyncState.WORKING_OFFLINE,
                                         SyncState.FAILED)}
    assert masks[SyncState.OFFLINE] != masks[SyncState.IDLE]
    assert masks[SyncState.WORKING_OFFLINE] != masks[SyncState.IDLE]
    assert masks[SyncState.FAILED] != masks[SyncState.IDLE]


def test_counts_last_sync_and_controls(qtbot: QtBot, bar: tuple[SyncStatusBar, _ScriptedSync]) -> None:
    widget, sync = bar
    status = SyncStatus(SyncState.IDLE, last_success_at=int(time.time()) - 185, pending=3, conflicts=2, rejected=1)
    _publish_from_worker(sync, status)
    qtbot.waitUntil(lambda: widget.status == status, timeout=10_000)
    assert widget.last_sync_label.text() == "Last synced 3 min ago"
    assert widget.pending_label.text() == "3 edits waiting"
    assert widget.conflicts_button.text() == "2 conflicts · 1 rejected edit"
    with qtbot.waitSignal(widget.conflicts_requested, timeout=10_000):
        widget.conflicts_button.click()
    widget.sync_now_button.click()
    assert sync.sync_now_calls == 1
    widget.offline_button.click()
    assert sync.offline_calls == [True]
    assert not widget.sync_now_button.isEnabled()
    # the service confirms; a later IDLE (back online) unchecks the button without a new call
    _publish_from_worker(sync, SyncStatus(SyncState.WORKING_OFFLINE, last_success_at=NOW))
    qtbot.waitUntil(lambda: widget.status.state is SyncState.WORKING_OFFLINE, timeout=10_000)
    assert widget.offline_button.isChecked()
    _publish_from_worker(sync, SyncStatus(SyncState.IDLE, last_success_at=NOW))
    qtbot.waitUntil(lambda: widget.status.state is SyncState.IDLE, timeout=10_000)
    assert not widget.offline_button.isChecked() and sync.offline_calls == [True]
    assert widget.pending_label.isHidden() and widget.conflicts_button.isHidden()


def test_bursts_of_snapshots_are_coalesced(qtbot: QtBot, bar: tuple[SyncStatusBar, _ScriptedSync]) -> None:
    widget, sync = bar
    renders: list[SyncStatus] = []
    original = widget.render
    widget.render = lambda s: (renders.append(s), original(s))

    def burst() -> None:
        for n in range(500):
            sync.publish(SyncStatus(SyncState.SYNCING, phase="pull", done=n, total=500))

    worker = threading.Thread(target=burst)
    worker.start()
    worker.join(10)
    qtbot.waitUntil(lambda: widget.status.done == 499, timeout=10_000)
    assert len(renders) < 100  # the GUI thread drew the newest, not every page


def test_without_sync_service_it_says_local_only(qtbot: QtBot) -> None:
    widget = SyncStatusBar(_Services(None))
    qtbot.addWidget(widget)
    assert "Not connected" in widget.state_label.text()
    assert not widget.sync_now_button.isEnabled() and not widget.offline_button.isEnabled()


def test_real_sync_service_offline_and_back(qtbot: QtBot, tmp_path: Path) -> None:
    """The real service against the emulator: offline shows as offline, then recovers."""
    from desktop_app.api.account import Credentials
    from desktop_app.api.client import WootricClient
    from desktop_app.cache.store import Cache
    from desktop_app.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
    from desktop_app.sync import SyncService

    emu = Emulator(port=0, users=40, seed=4).start()
    cache = Cache.open(tmp_path / "cache.sqlite3")
    credentials = Credentials(emu.base_url, client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET)
    sync = SyncService(cache, lambda: WootricClient(credentials, max_attempts=1, timeout=5.0),
                       interval=3600, backoff_max=1.0)
    widget = SyncStatusBar(_Services(sync))
    qtbot.addWidget(widget)
    try:
        sync.start()
        qtbot.waitUntil(lambda: widget.state_label.text() == "Up to date", timeout=20_000)
        assert widget.last_sync_label.text() == "Last synced just now"
        emu.faults.offline()
        widget.sync_now_button.click()
        qtbot.waitUntil(lambda: widget.status.state is SyncState.OFFLINE, timeout=20_000)
        assert widget.state_label.text().startswith("Offline: the service cannot be reached")
        assert "Up to date" not in widget.state_label.text()
        emu.faults.online()
        widget.sync_now_button.click()
        qtbot.waitUntil(lambda: widget.state_label.text() == "Up to date", timeout=20_000)
    finally:
        widget.detach()
        sync.stop()
        cache.close()
        emu.stop()


def test_progress_never_repaints_the_window_at_once(qtbot: QtBot) -> None:
    """A progress step only marks the bar: what else is dirty (a scrolled table) waits for the
    regular, coalesced paint instead of being painted inside every status update."""
    from PySide6.QtGui import QPaintEvent
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    class Counted(QWidget):
        paints = 0

        def paintEvent(self, event: QPaintEvent) -> None:
            type(self).paints += 1

    sync = _ScriptedSync()
    window = QWidget()
    qtbot.addWidget(window)
    layout = QVBoxLayout(window)
    neighbour = Counted(window)
    neighbour.setMinimumHeight(200)
    widget = SyncStatusBar(_Services(sync), window)
    layout.addWidget(neighbour)
    layout.addWidget(widget)
    window.resize(1000, 300)
    window.show()
    qtbot.waitExposed(window)
    widget.render(SyncStatus(SyncState.SYNCING, phase="pull", done=10, total=1000))
    neighbour.update()
    qtbot.waitUntil(lambda: Counted.paints > 0 and widget.progress.width() > 20, timeout=10_000)
    for done in range(100, 1000, 100):
        neighbour.update()  # dirty, as a table is while someone scrolls it
        before = Counted.paints
        widget.render(SyncStatus(SyncState.SYNCING, phase="pull", done=done, total=1000))
        assert Counted.paints == before
        assert widget.progress.value() == done
    before = Counted.paints
    qtbot.waitUntil(lambda: Counted.paints > before, timeout=10_000)  # on the next turn


def test_progress_is_redrawn_a_few_times_a_second_and_the_end_at_once(
    qtbot: QtBot, bar: tuple[SyncStatusBar, _ScriptedSync]
) -> None:
    widget, sync = bar
    renders: list[SyncStatus] = []
    original = widget.render
    widget.render = lambda s: (renders.append(s), original(s))
    started = time.monotonic()
    for done in range(0, 2000, 50):  # a page every 10 ms, the GUI thread idle in between
        sync.publish(SyncStatus(SyncState.SYNCING, phase="pull", done=done, total=2000))
        qtbot.wait(10)
    qtbot.waitUntil(lambda: widget.status.done == 1950, timeout=10_000)  # the newest is drawn
    assert len(renders) <= 2 + (time.monotonic() - started) * 4 + 1
    done = SyncStatus(SyncState.IDLE, last_success_at=int(time.time()))
    _publish_from_worker(sync, done)
    qtbot.waitUntil(lambda: widget.status == done, timeout=10_000)
    assert widget.state_label.text() == "Up to date" and not widget.progress.isVisible()


@pytest.mark.parametrize(("status", "expected"), [
    (SyncStatus(SyncState.IDLE, last_success_at=NOW - 60, pending=6), "6 edits waiting to be sent"),
    (SyncStatus(SyncState.IDLE, last_success_at=NOW - 60, conflicts=1), "Synced, but some edits need you"),
], ids=["edits waiting", "conflict"])
def test_never_up_to_date_beside_waiting_edits_or_a_conflict(
    qtbot: QtBot, bar: tuple[SyncStatusBar, _ScriptedSync], status: SyncStatus, expected: str
) -> None:
    widget, sync = bar
    _publish_from_worker(sync, status)
    qtbot.waitUntil(lambda: widget.status == status, timeout=10_000)
    assert widget.state_label.text() == expected
    assert widget.icon_label.accessibleName() == expected
