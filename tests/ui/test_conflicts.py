"""The conflicts view over a real cache, with conflicts made by a real push to the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop_app.api.account import Credentials
from desktop_app.api.client import WootricClient
from desktop_app.cache.store import Cache
from desktop_app.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from desktop_app.sync import SyncService
from desktop_app.ui.conflicts import ConflictsView
from desktop_app.cache.opening import CacheFuture
from desktop_app.ui.operations import Operations
from desktop_app.ui.tasks import TaskRunner


@dataclass(frozen=True)
class _World:
    emulator: Emulator
    cache: Cache
    sync: SyncService
    ids: list[int]


@dataclass(frozen=True)
class _Services:
    """The slice of AppServices the view reads (the real AppServices needs a query too)."""

    cache: CacheFuture
    sync: SyncService
    ops: Operations


def _services(world: _World, tasks: TaskRunner) -> _Services:
    future = CacheFuture.of(world.cache)
    return _Services(future, world.sync, Operations(tasks, future))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[_World]:
    emu = Emulator(port=0, users=6, seed=11).start()
    cache = Cache.open(tmp_path / "cache.sqlite3")
    credentials = Credentials(emu.base_url, client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET)
    sync = SyncService(cache, lambda: WootricClient(credentials), interval=3600)
    sync.run_once()
    ids = sorted(emu.store.all_ids())
    assert cache.get(ids[0]) is not None
    yield _World(emu, cache, sync, ids)
    sync.stop()
    cache.close()
    emu.stop()


def _make_conflicts(world: _World) -> None:
    """Three property conflicts (both sides changed "plan") and one rejected edit."""
    for n, end_user_id in enumerate(world.ids[:3]):
        world.cache.set_property([end_user_id], "plan", f"Mine-{n}")
        world.emulator.store.set_property(end_user_id, "plan", f"Theirs-{n}")
    # A colleague took this address for another end user meanwhile: the service refuses ours.
    world.cache.set_email(world.ids[3], "taken@example.com")
    world.emulator.store.update(world.ids[4], email="taken@example.com")
    world.sync.run_once()


def _plan(world: _World, end_user_id: int) -> object:
    cached = world.cache.get(end_user_id)
    assert cached is not None
    return cached.end_user.properties.get("plan")


def _server_plan(world: _World, end_user_id: int) -> object:
    row = world.emulator.store.get(end_user_id)
    assert row is not None
    return row["properties"].get("plan")


def _select(qtbot: QtBot, view: ConflictsView, end_user_id: int) -> None:
    for row in range(view.conflicts.rowCount()):
        if view.conflicts.record(row).end_user_id == end_user_id:
            view.conflict_table.selectRow(row)
            qtbot.waitUntil(lambda: view.current_conflict().end_user_id == end_user_id, timeout=10_000)
            return
    raise AssertionError(f"no conflict for {end_user_id}")


def test_keep_mine_take_theirs_and_new_value_update_the_cache(
    qtbot: QtBot, qtmodeltester: object, tasks: TaskRunner, world: _World
) -> None:
    _make_conflicts(world)
    assert world.cache.conflict_count() == 3 and len(world.cache.rejected_edits()) == 1
    view = ConflictsView(_services(world, tasks))
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.conflicts.rowCount() == 3 and view.rejected.rowCount() == 1, timeout=10_000)
    qtmodeltester.check(view.conflicts)
    qtmodeltester.check(view.rejected)
    assert view.tabs.tabText(0) == "Conflicts (3)" and view.tabs.tabText(1) == "Rejected edits (1)"

    first, second, third = world.ids[:3]
    _select(qtbot, view, first)
    # both values side by side, nothing decided yet
    assert view.mine_box.toPlainText() == "Mine-0" and view.theirs_box.toPlainText() == "Theirs-0"
    assert view.conflict_title.text().startswith("Property plan of ")
    assert _plan(world, first) == "Mine-0" and world.cache.conflict_count() == 3

    view.keep_mine_button.click()
    qtbot.waitUntil(lambda: view.conflicts.rowCount() == 2, timeout=10_000)
    assert _plan(world, first) == "Mine-0" and world.cache.pending_count() == 1
    assert "Kept your value" in view.status_label.text()

    _select(qtbot, view, second)
    view.take_theirs_button.click()
    qtbot.waitUntil(lambda: view.conflicts.rowCount() == 1, timeout=10_000)
    assert _plan(world, second) == "Theirs-1"
    assert world.cache.pending_count() == 1  # theirs: nothing to send

    _select(qtbot, view, third)
    view.new_value.clear()
    qtbot.keyClicks(view.new_value, "Agreed")
    view.use_value_button.click()
    qtbot.waitUntil(lambda: view.conflicts.rowCount() == 0, timeout=10_000)
    assert _plan(world, third) == "Agreed" and world.cache.conflict_count() == 0
    assert view.conflict_title.text() == "No conflicts" and not view.keep_mine_button.isEnabled()

    # the decisions reach the service on the next sync
    world.sync.run_once()
    assert [_server_plan(world, i) for i in (first, second, third)] == ["Mine-0", "Theirs-1", "Agreed"]
    assert world.cache.pending_count() == 0


def test_rejected_edit_shows_the_service_message_and_can_be_dismissed(
    qtbot: QtBot, tasks: TaskRunner, world: _World
) -> None:
    _make_conflicts(world)
    view = ConflictsView(_services(world, tasks))
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.rejected.rowCount() == 1, timeout=10_000)
    said = view.rejected.data(view.rejected.index(0, 3))
    assert said == world.cache.rejected_edits()[0].message and "email" in said.lower()
    assert view.rejected.data(view.rejected.index(0, 1)) == "Email"
    assert view.rejected.data(view.rejected.index(0, 2)) == "taken@example.com"
    assert not view.dismiss_button.isEnabled()  # nothing selected: nothing dismissed by accident
    view.rejected_table.selectRow(0)
    assert view.dismiss_button.isEnabled()
    view.dismiss_button.click()
    qtbot.waitUntil(lambda: view.rejected.rowCount() == 0, timeout=10_000)
    assert world.cache.rejected_edits() == []


def test_view_follows_new_conflicts_by_itself(qtbot: QtBot, tasks: TaskRunner, world: _World) -> None:
    view = ConflictsView(_services(world, tasks))
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.tabs.tabText(0) == "Conflicts (0)", timeout=10_000)
    _make_conflicts(world)  # a sync elsewhere records conflicts: the broadcast reaches the view
    qtbot.waitUntil(lambda: view.conflicts.rowCount() == 3, timeout=10_000)
    assert view.current_conflict() is not None  # the first one is selected, not resolved
    assert world.cache.conflict_count() == 3
