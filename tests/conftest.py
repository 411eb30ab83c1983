"""Shared fixtures: an in-process Wootric emulator on loopback, and a real Secret Service."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from desktop_app.credentials import KeyringStore, open_credential_store
from desktop_app.emulator import Emulator

EmulatorFactory = Callable[..., Emulator]


@pytest.fixture
def make_emulator() -> Iterator[EmulatorFactory]:
    """Start emulators with any `Emulator(...)` arguments; every one is stopped afterwards.

        emu = make_emulator(users=500, seed=3, clock=ScaledClock(60), rate_limit=100)
    """
    started: list[Emulator] = []

    def factory(**kwargs: Any) -> Emulator:
        kwargs.setdefault("host", "127.0.0.1")
        kwargs.setdefault("port", 0)
        emulator = Emulator(**kwargs).start()
        started.append(emulator)
        return emulator

    yield factory
    for emulator in started:
        emulator.stop()


@pytest.fixture
def emulator(request: pytest.FixtureRequest, make_emulator: EmulatorFactory) -> Emulator:
    """A running emulator with 50 sample end users (seed 1).

    Override through indirect parametrization:
    `@pytest.mark.parametrize("emulator", [{"users": 0, "rate_limit": 5}], indirect=True)`.
    """
    kwargs: dict[str, Any] = {"users": 50, "seed": 1}
    kwargs.update(getattr(request, "param", None) or {})
    return make_emulator(**kwargs)


@pytest.fixture
def secret_service() -> Iterator[KeyringStore]:
    """The real Secret Service under a per-test service name, emptied afterwards.

    Skipped with the reason when none is reachable, unless WOOTRIC_REQUIRE_KEYRING=1 (CI),
    where that is a failure: `python3 dev.py test` starts a private, unlocked one.
    """
    store = open_credential_store(service=f"wootric-desk-test-{uuid.uuid4().hex[:8]}")
    status = store.status()
    if not (isinstance(store, KeyringStore) and "SecretService" in status.backend
            and not status.locked):
        why = f"no unlocked Secret Service reachable ({status.backend}: {status.reason or 'locked'})"
        if os.environ.get("WOOTRIC_REQUIRE_KEYRING") == "1":
            pytest.fail(f"WOOTRIC_REQUIRE_KEYRING=1 but {why}")
        pytest.skip(f"{why}; `python3 dev.py test` runs a private one")
    yield store
    for key in secret_service_keys(store.service):
        store.delete(key)


def secret_service_keys(service: str) -> list[str]:
    """Every account key stored under `service`, read straight from the Secret Service."""
    import secretstorage

    connection = secretstorage.dbus_init()
    try:
        items = secretstorage.get_default_collection(connection).search_items({"service": service})
        return [item.get_attributes()["username"] for item in items]
    finally:
        connection.close()
