"""Shared fixtures: an in-process Wootric emulator on loopback, a real Secret Service, and a
check that no test leaves a QTimer or QThread running."""

from __future__ import annotations

import os
import sys
import uuid
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop_app.credentials import KeyringStore, open_credential_store
from desktop_app.emulator import Emulator

EmulatorFactory = Callable[..., Emulator]
ROOT = Path(__file__).resolve().parents[1]


def _started_at() -> str | None:
    """Where the project's code (not pytest-qt's waits) started the timer or thread."""
    frame = sys._getframe(2)  # the caller of the patched start()
    while frame is not None:
        filename = frame.f_code.co_filename
        if "pytestqt" in filename:
            return None
        path = Path(filename)
        if path.is_relative_to(ROOT) and not path.is_relative_to(ROOT / ".venv") and path.name != "conftest.py":
            return f"{path.relative_to(ROOT)}:{frame.f_lineno}"
        frame = frame.f_back
    return None


@pytest.fixture(autouse=True)
def no_qt_timer_or_thread_left_running(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test that leaves a QTimer active or a QThread running once its widgets are gone:
    its callbacks would fire in a later test, on objects that test never made.

    Autouse, so it is set up before (and torn down after) qtbot, whose teardown closes the
    widgets the test registered; deleted objects count as stopped.
    """
    if "PySide6.QtCore" not in sys.modules:  # a Qt-free test: nothing to watch
        yield
        return
    from PySide6.QtCore import QCoreApplication, QEvent, QThread, QTimer

    watched: list[tuple[weakref.ref[Any], str]] = []

    def watching(original: Callable[..., Any]) -> Callable[..., Any]:
        def start(self: Any, *args: Any, **kwargs: Any) -> Any:
            where = _started_at()
            if where is not None:
                watched.append((weakref.ref(self), where))
            return original(self, *args, **kwargs)
        return start

    monkeypatch.setattr(QTimer, "start", watching(QTimer.start))
    monkeypatch.setattr(QThread, "start", watching(QThread.start))
    yield
    if QCoreApplication.instance() is not None:
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    left: list[str] = []
    for ref, where in watched:
        obj = ref()
        try:
            if isinstance(obj, QTimer) and obj.isActive():
                obj.stop()  # so the next test starts clean
                left.append(f"a QTimer started at {where} is still active")
            elif isinstance(obj, QThread) and obj.isRunning():
                obj.quit()
                obj.wait(5000)
                left.append(f"a QThread started at {where} was still running")
        except RuntimeError:  # its C++ object is gone: stopped with it
            continue
    if left:
        pytest.fail("; ".join(dict.fromkeys(left)), pytrace=False)


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
