"""Randomized convergence: offline edits on both sides, syncs under injected faults.

A reference model predicts the outcome: after the final sync the cache equals the service, and
conflicts exist exactly where the same field or key was changed on both sides to different
values; everything else merged.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_app.api.client import WootricClient
from desktop_app.cache.store import Cache
from desktop_app.clock import ScaledClock
from desktop_app.domain import canonical_value
from desktop_app.emulator import Emulator
from desktop_app.sync import SyncService

from .conftest import cache_view, credentials, server_view

USERS = 5
TARGETS = ("plan", "region", "email", "surveys")
FAULT_KINDS = {"500", "503", "429", "reset", "reset_after_write", "truncated", "malformed"}

op = st.tuples(
    st.sampled_from(["local", "server"]),
    st.integers(0, USERS - 1),
    st.sampled_from(TARGETS),
    st.sampled_from(["a", "b", None]),  # None: unset a property / turn surveys off
)


def _seed_users() -> list[dict[str, object]]:
    return [
        {"id": 100 + i, "email": f"user{i}@example.com", "created_at": 1_600_000_000 + i,
         "updated_at": 1_600_000_000 + i, "surveys_disabled": False,
         "properties": {"plan": "base", "region": "base"}}
        for i in range(USERS)
    ]


def _value(target: str, user: int, raw: str | None) -> object:
    if target == "email":
        return f"user{user}.{raw or 'z'}@example.com"
    if target == "surveys":
        return raw is not None  # enabled for "a"/"b", disabled for None
    return raw


def _base(target: str, user: int) -> object:
    return {"email": f"user{user}@example.com", "surveys": True}.get(target, "base")


def _apply_local(cache: Cache, user_id: int, target: str, value: object) -> None:
    if target == "email":
        cache.set_email(user_id, str(value))
    elif target == "surveys":
        cache.set_surveys_enabled([user_id], bool(value))
    elif value is None:
        cache.unset_property([user_id], target)
    else:
        cache.set_property([user_id], target, str(value))


def _apply_server(emu: Emulator, user_id: int, target: str, value: object) -> None:
    if target == "email":
        emu.store.update(user_id, email=str(value))
    elif target == "surveys":
        on = bool(value)
        emu.store.set_settings(user_id, email_nps=on, mobile_nps=on, web_nps=on)
    else:
        props = dict(emu.store.get(user_id)["properties"])
        if value is None:
            props.pop(target, None)
        else:
            props[target] = value
        emu.store.update(user_id, properties=props)


def _observed(view: dict[str, object], target: str) -> object:
    if target == "email":
        return view["email"]
    if target == "surveys":
        return not view["surveys_disabled"]
    return view["properties"].get(target)


@settings(max_examples=int(os.environ.get("WOOTRIC_CONVERGENCE_EXAMPLES", "12")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op, max_size=14), fault_rate=st.sampled_from([0.0, 0.15, 0.35]),
       seed=st.integers(0, 1000))
def test_cache_and_service_converge(tmp_path_factory, ops, fault_rate, seed) -> None:
    tmp: Path = tmp_path_factory.mktemp("converge")
    with Emulator(end_users=_seed_users(), seed=seed) as emu, Cache.open(tmp / "c.sqlite3") as cache:
        # Retry backoff runs on a fast clock: the faults are real, the waiting is not needed.
        service = SyncService(
            cache, lambda: WootricClient(credentials(emu), max_attempts=3, clock=ScaledClock(200)),
            backoff_max=0.05)
        try:
            assert service.run_once().state.value == "idle"
            local: dict[tuple[int, str], object] = {}
            remote: dict[tuple[int, str], object] = {}
            for side, user, target, raw in ops:
                value = _value(target, user, raw)
                if side == "local":
                    _apply_local(cache, 100 + user, target, value)
                    local[(user, target)] = value
                else:
                    _apply_server(emu, 100 + user, target, value)
                    remote[(user, target)] = value

            emu.faults.fail(fault_rate, kinds=FAULT_KINDS)
            for _ in range(3):
                service.run_once()  # may fail part-way: that is the point
            emu.faults.clear()
            for _ in range(3):
                service.run_once()
                if cache.pending_count() == 0:
                    break

            expected_conflicts = set()
            for user in range(USERS):
                for target in TARGETS:
                    key = (user, target)
                    base = canonical_value(_base(target, user))
                    theirs = canonical_value(remote.get(key, _base(target, user)))
                    if key in local:
                        mine = canonical_value(local[key])
                        if mine != base and theirs != base and theirs != mine:
                            expected_conflicts.add(key)
            found = {(c.end_user_id - 100, "email" if c.field == "email" else
                      "surveys" if c.field in ("surveys", "surveys_enabled") else c.key)
                     for c in cache.conflicts()}
            assert found == expected_conflicts
            assert cache.pending_count() == 0 and cache.rejected_edits() == []

            server, mirrored = server_view(emu), cache_view(cache)
            for user in range(USERS):
                for target in TARGETS:
                    key = (user, target)
                    got = canonical_value(_observed(server[100 + user], target))
                    unchanged_here = key not in local or canonical_value(local[key]) == canonical_value(_base(target, user))
                    if key in expected_conflicts or unchanged_here:
                        want = remote.get(key, _base(target, user))
                    else:
                        want = local[key]
                    assert got == canonical_value(want), (key, got, want)
                    if key not in expected_conflicts:
                        assert canonical_value(_observed(mirrored[100 + user], target)) == got
            for conflict in cache.conflicts():
                cache.resolve_conflict(conflict.id, "theirs")
            service.run_once()
            assert cache_view(cache) == server_view(emu)
        finally:
            service.stop()
