"""Fixtures for the Qt tests: isolated settings and home, a task runner that is always drained."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import QCoreApplication, QSettings, QStandardPaths

from desktop_app.domain import EndUser, PropertyValue, SurveySettings
from desktop_app.cache.opening import CacheFuture
from desktop_app.ui.operations import Operations
from desktop_app.ui.services import AppServices
from desktop_app.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from desktop_app.cache.store import Cache
    from desktop_app.ui.main_window import MainWindow


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qapp: object) -> Iterator[Path]:
    """QSettings, standard paths and WOOTRIC_DESK_HOME all point into this test's tmp_path."""
    home = tmp_path / "desk-home"
    home.mkdir()
    monkeypatch.setenv("WOOTRIC_DESK_HOME", str(home))
    QStandardPaths.setTestModeEnabled(True)
    QCoreApplication.setOrganizationName("wootric-desk-tests")
    QCoreApplication.setApplicationName(f"ui-test-{tmp_path.name}")
    settings_dir = tmp_path / "qsettings"
    settings_dir.mkdir()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(settings_dir))
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(settings_dir))
    yield home


@pytest.fixture
def tasks(qapp: object) -> Iterator[TaskRunner]:
    """A TaskRunner that is shut down (and its pool drained) after the test."""
    runner = TaskRunner()
    yield runner
    assert runner.shutdown(10_000), "background tasks still running after the test"
    runner.deleteLater()


@pytest.fixture
def ops(tasks: TaskRunner) -> Operations:
    """Operations without a cache, for dialogs that only query or work (export, sign-in)."""
    return Operations(tasks)


# --- a real cache file with sample end users ----------------------------------------------------

PLANS = ("free", "pro", "team", "enterprise")
SAMPLE_SIZE = 300


def sample_end_users(n: int = SAMPLE_SIZE) -> list[EndUser]:
    """Deterministic end users: every 10th admin-disabled, every 15th opted out themself."""
    users: list[EndUser] = []
    for i in range(1, n + 1):
        properties: dict[str, PropertyValue] = {
            "plan": PLANS[i % len(PLANS)],
            "revenue_amount": (i * 37) % 5000,
            "signup_date": 1_600_000_000 + i * 86_400,
        }
        if i % 3 == 0:
            properties["features_array"] = ["sso", "api"] if i % 2 else ["sso"]
        if i % 15 == 0:
            settings = SurveySettings(surveys_disabled_by_end_user=True)
        elif i % 10 == 0:
            settings = SurveySettings.all_channels(False)
        else:
            settings = SurveySettings()
        users.append(
            EndUser(
                id=1000 + i,
                email=f"user{i:04d}@{('acme', 'globex', 'initech')[i % 3]}.example",
                created_at=1_600_000_000 + i * 3600,
                updated_at=1_700_000_000 + i,
                external_id=f"ext-{i}" if i % 2 else None,
                last_surveyed=1_700_000_000 + (i % 50) * 86_400,
                properties=properties,
                settings=settings,
            )
        )
    return users


@pytest.fixture
def desk_cache(tmp_path: Path) -> Iterator[Cache]:
    """A real Cache file in tmp_path holding `sample_end_users()`, ingested as a pull."""
    from desktop_app.cache.store import Cache  # imported here: other test modules need no cache

    cache = Cache.open(tmp_path / "desk" / "cache.db")
    cache.ingest_pulled(sample_end_users(), "end_users", 1_700_000_000 + SAMPLE_SIZE)
    yield cache
    cache.close()


@pytest.fixture
def services(desk_cache: Cache, tasks: TaskRunner) -> AppServices:
    """The app's parts over the real cache, with no sync service (working offline)."""
    from desktop_app.cache.reading.query import EndUserQuery

    future = CacheFuture.of(desk_cache)
    return AppServices(
        cache=future,
        query=EndUserQuery(desk_cache.engine),
        sync=None,
        ops=Operations(tasks, future),
        account_label="Test account",
        demo=None,
    )


@pytest.fixture
def window(qtbot: QtBot, services: AppServices) -> Iterator[MainWindow]:
    """The main window over `services`, shown, with every id of the sample known."""
    from desktop_app.ui.main_window import MainWindow

    win = MainWindow(services)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.model.complete and win._total == SAMPLE_SIZE, timeout=10_000)
    yield win
    if win.export.dialog is not None:
        win.export.dialog.reject()
    win.close()
