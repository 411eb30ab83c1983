"""Fixtures for sync tests: a real emulator on loopback, a real cache file, a real client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.api.account import Credentials
from desktop_app.api.client import WootricClient
from desktop_app.cache.store import Cache
from desktop_app.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from desktop_app.sync import SyncService


def credentials(emu: Emulator) -> Credentials:
    return Credentials(emu.base_url, client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(users=300, seed=7) as emulator:
        yield emulator


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    with Cache.open(tmp_path / "account.sqlite3") as opened:
        yield opened


@pytest.fixture
def service(emu: Emulator, cache: Cache) -> Iterator[SyncService]:
    svc = SyncService(cache, lambda: WootricClient(credentials(emu)), backoff_max=0.4,
                      interval=30.0, edit_delay=0.05)
    yield svc
    svc.stop()


def server_view(emu: Emulator) -> dict[int, dict[str, object]]:
    """What the service holds, in the fields the cache mirrors."""
    out = {}
    for end_user_id in emu.store.all_ids():
        row = emu.store.get(end_user_id)
        assert row is not None
        out[end_user_id] = {
            "email": row["email"], "external_id": row.get("external_id"),
            "surveys_disabled": row["surveys_disabled"], "updated_at": row["updated_at"],
            "properties": _canonical(row.get("properties") or {}),
        }
    return out


def cache_view(cache: Cache) -> dict[int, dict[str, object]]:
    out = {}
    for end_user_id in cache.all_ids():
        cached = cache.get(end_user_id)
        assert cached is not None
        user = cached.end_user
        out[end_user_id] = {
            "email": user.email, "external_id": user.external_id,
            "surveys_disabled": user.surveys_disabled, "updated_at": user.updated_at,
            "properties": _canonical(user.properties),
        }
    return out


def _canonical(properties: object) -> dict[str, str | None]:
    from desktop_app.domain import canonical_value

    return {k: canonical_value(v) for k, v in dict(properties).items()}
