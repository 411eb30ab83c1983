"""Shared fixtures: an in-process Wootric emulator on a free loopback port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

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
