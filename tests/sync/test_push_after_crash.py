"""A crash after the service took a push but before the cache stored its answer.

The process dies between the PUT and the cache's `complete_push`; the person then edits the
same field again. The service holds our first value, which is neither the base nor the newest
value: only the outbox's durable "sent" mark tells it apart from a colleague's change. Real
emulator, real cache file reopened as after a restart; the one test double is the cache's
complete step raising, where a real kill would land.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from desktop_app.api.client import WootricClient
from desktop_app.cache.store import Cache
from desktop_app.emulator import Emulator
from desktop_app.sync import SyncService, SyncState
from desktop_app.sync.push import push_end_user

from .conftest import cache_view, credentials, server_view


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs, no cleanup code of ours sees it."""


@dataclass(frozen=True)
class Target:
    name: str
    edit: Callable[[Cache, int, object], object]
    observe: Callable[[dict[str, object]], object]
    first: object
    second: object


TARGETS = [
    Target("property", lambda c, i, v: c.set_property([i], "plan", v),
           lambda view: view["properties"].get("plan"), "First", "Second"),
    Target("unset property", lambda c, i, v: (c.set_property([i], "plan", v) if v is not None
                                              else c.unset_property([i], "plan")),
           lambda view: view["properties"].get("plan"), "First", None),
    Target("email", lambda c, i, v: c.set_email(i, str(v)), lambda view: view["email"],
           "first@example.org", "second@example.org"),
    Target("external id", lambda c, i, v: c.set_external_id(i, v),
           lambda view: view["external_id"], "crm-1", "crm-2"),
    Target("surveys", lambda c, i, v: c.set_surveys_enabled([i], bool(v)),
           lambda view: not view["surveys_disabled"], False, True),
]


def _sync(emu: Emulator, path: Path) -> SyncState:
    with Cache.open(path) as cache:
        service = SyncService(cache, lambda: WootricClient(credentials(emu)))
        try:
            status = service.run_once()
        finally:
            service.stop()
    return status.state


def _push_and_die(emu: Emulator, path: Path, end_user_id: int) -> None:
    """Push one end user; the process 'dies' once the service has answered every request."""
    with Cache.open(path) as cache:
        def killed(*_args: object, **_kwargs: object) -> None:
            raise Killed
        cache.complete_push = killed
        with pytest.raises(Killed), WootricClient(credentials(emu)) as client:
            push_end_user(client, cache, end_user_id)


def _target_user(emu: Emulator) -> int:
    # One with surveys on and an external id free to change, so every target can flip.
    for end_user_id in sorted(emu.store.all_ids()):
        row = emu.store.get(end_user_id)
        if row is not None and not row["surveys_disabled"]:
            return end_user_id
    raise AssertionError("no end user with surveys on")


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_a_second_edit_after_a_crash_mid_push_is_no_conflict(
        emu: Emulator, tmp_path: Path, target: Target) -> None:
    path = tmp_path / "account.sqlite3"
    assert _sync(emu, path) is SyncState.IDLE
    end_user_id = _target_user(emu)
    with Cache.open(path) as cache:
        target.edit(cache, end_user_id, target.first)
    _push_and_die(emu, path, end_user_id)
    assert target.observe(server_view(emu)[end_user_id]) == target.first  # the service took it

    with Cache.open(path) as cache:  # after the restart, the person changes it again
        assert cache.pending_count() == 1
        target.edit(cache, end_user_id, target.second)
    assert _sync(emu, path) is SyncState.IDLE

    with Cache.open(path) as cache:
        assert cache.conflicts() == []
        assert cache.pending_count() == 0 and cache.rejected_edits() == []
        assert target.observe(server_view(emu)[end_user_id]) == target.second
        assert cache_view(cache) == server_view(emu)


def test_changing_back_after_a_crash_mid_push_reaches_the_service(
        emu: Emulator, tmp_path: Path) -> None:
    """Edit, crash after the service took it, edit back to the old value: the old value must
    go out again (mine equals the base, but the service holds our first value)."""
    path = tmp_path / "account.sqlite3"
    assert _sync(emu, path) is SyncState.IDLE
    end_user_id = _target_user(emu)
    before = server_view(emu)[end_user_id]["email"]
    with Cache.open(path) as cache:
        cache.set_email(end_user_id, "interim@example.org")
    _push_and_die(emu, path, end_user_id)
    with Cache.open(path) as cache:
        cache.set_email(end_user_id, str(before))
    assert _sync(emu, path) is SyncState.IDLE
    with Cache.open(path) as cache:
        assert cache.conflicts() == [] and cache.pending_count() == 0
        assert server_view(emu)[end_user_id]["email"] == before
        assert cache_view(cache) == server_view(emu)


def test_two_crashes_in_a_row_then_a_third_edit(emu: Emulator, tmp_path: Path) -> None:
    """Each push that may have reached the service counts: after two crashed pushes the
    service may hold either value, and neither is a colleague's."""
    path = tmp_path / "account.sqlite3"
    assert _sync(emu, path) is SyncState.IDLE
    end_user_id = _target_user(emu)
    for value in ("one", "two"):
        with Cache.open(path) as cache:
            cache.set_property([end_user_id], "plan", value)
        _push_and_die(emu, path, end_user_id)
    emu.store.set_property(end_user_id, "plan", "one")  # as if the second PUT never arrived
    emu.store.set_property(end_user_id, "region", "a colleague's")  # another key: merges
    with Cache.open(path) as cache:
        cache.set_property([end_user_id], "plan", "three")
    assert _sync(emu, path) is SyncState.IDLE
    with Cache.open(path) as cache:
        assert cache.conflicts() == [] and cache.pending_count() == 0
        props = server_view(emu)[end_user_id]["properties"]
        assert props["plan"] == "three" and props["region"] == "a colleague's"
        assert cache_view(cache) == server_view(emu)


def test_a_colleague_setting_an_older_unsent_value_is_still_a_conflict(
        emu: Emulator, tmp_path: Path) -> None:
    """Only values that went out count as ours: an older queued value never sent is not."""
    path = tmp_path / "account.sqlite3"
    assert _sync(emu, path) is SyncState.IDLE
    end_user_id = _target_user(emu)
    with Cache.open(path) as cache:
        cache.set_property([end_user_id], "plan", "older")
        cache.set_property([end_user_id], "plan", "newer")
    emu.store.set_property(end_user_id, "plan", "older")
    assert _sync(emu, path) is SyncState.IDLE
    with Cache.open(path) as cache:
        [conflict] = cache.conflicts()
        assert (conflict.mine, conflict.theirs) == ("newer", "older")
    assert server_view(emu)[end_user_id]["properties"]["plan"] == "older"


def test_a_colleague_changing_it_after_our_crashed_push_is_a_conflict(
        emu: Emulator, tmp_path: Path) -> None:
    path = tmp_path / "account.sqlite3"
    assert _sync(emu, path) is SyncState.IDLE
    end_user_id = _target_user(emu)
    with Cache.open(path) as cache:
        cache.set_property([end_user_id], "plan", "First")
    _push_and_die(emu, path, end_user_id)
    emu.store.set_property(end_user_id, "plan", "Theirs")
    with Cache.open(path) as cache:
        cache.set_property([end_user_id], "plan", "Second")
    assert _sync(emu, path) is SyncState.IDLE
    with Cache.open(path) as cache:
        [conflict] = cache.conflicts()
        assert (conflict.mine, conflict.theirs) == ("Second", "Theirs")
    assert server_view(emu)[end_user_id]["properties"]["plan"] == "Theirs"


def test_the_mark_is_committed_before_the_service_sees_the_request(
        emu: Emulator, tmp_path: Path) -> None:
    path = tmp_path / "account.sqlite3"
    assert _sync(emu, path) is SyncState.IDLE
    end_user_id = _target_user(emu)
    seen: list[list[tuple[str, int | None]]] = []
    with Cache.open(path) as cache, WootricClient(credentials(emu)) as client:
        cache.set_property([end_user_id], "plan", "Marked")
        cache.set_surveys_enabled([end_user_id], False)
        real_update, real_settings = client.update_end_user, client.set_surveys_enabled

        def read_marks() -> None:  # another connection: only what is committed
            connection = sqlite3.connect(path)
            try:
                seen.append(connection.execute(
                    "SELECT kind, sent_at FROM pending_edit WHERE end_user_id = ? ORDER BY id",
                    (end_user_id,)).fetchall())
            finally:
                connection.close()

        def update(*args: object, **kwargs: object) -> object:
            read_marks()
            return real_update(*args, **kwargs)

        def settings(*args: object, **kwargs: object) -> object:
            read_marks()
            return real_settings(*args, **kwargs)

        client.update_end_user = update
        client.set_surveys_enabled = settings
        push_end_user(client, cache, end_user_id)
        assert cache.pending_for(end_user_id) == []  # the marks left with the entries
    assert len(seen) == 2
    for marks in seen:
        assert [kind for kind, _ in marks] == ["set_property", "set_surveys"]
        assert all(sent_at is not None for _, sent_at in marks)


def test_a_refused_field_loses_its_mark_and_the_rest_goes_out(
        emu: Emulator, tmp_path: Path) -> None:
    path = tmp_path / "account.sqlite3"
    assert _sync(emu, path) is SyncState.IDLE
    a, b = sorted(emu.store.all_ids())[:2]
    taken = str(server_view(emu)[b]["email"])
    with Cache.open(path) as cache:
        cache.set_email(a, taken)  # the service refuses a duplicate email
        cache.set_property([a], "plan", "Still goes out")
    assert _sync(emu, path) is SyncState.IDLE
    with Cache.open(path) as cache:
        [refused] = cache.rejected_edits()
        assert refused.value == taken and refused.sent_at is None and refused.message
        assert cache.pending_count() == 0 and cache.conflicts() == []
    assert server_view(emu)[a]["properties"]["plan"] == "Still goes out"
    assert server_view(emu)[a]["email"] != taken
