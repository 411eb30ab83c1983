"""`wootric-desk --self-test`: prove an installed copy works end to end, headless, in seconds.

Runs the real parts against the embedded emulator on loopback: sign in, sync, offline edits,
sync again, compare with the server, export a filtered CSV. It never touches the person's
keyring or data directory: the secret stays in memory and every file lives in a temporary
folder (WOOTRIC_DESK_HOME points there while it runs). It also loads the Qt modules, the
app's UI modules and the Qt plugins the app needs, so a bundle that lost one fails here.
Qt-free at import time: PySide6 is imported only inside the Qt step.
"""

from __future__ import annotations

import csv
import importlib
import os
import pkgutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from desktop_app import APP_ID, __version__
from desktop_app.cache.schema.paths import ENV_HOME

if TYPE_CHECKING:
    from desktop_app.cache.records import CachedEndUser
    from desktop_app.cache.store import Cache
    from desktop_app.emulator import Emulator
    from desktop_app.sync import SyncService

# Backends keyring loads by entry point at run time; a freezer cannot see them by import.
KEYRING_BACKENDS: tuple[str, ...] = (
    "keyring.backends.SecretService",
    "keyring.backends.kwallet",
    "keyring.backends.libsecret",
    "keyring.backends.macOS",
    "keyring.backends.Windows",
    "keyring.backends.chainer",
    "keyring.backends.fail",
)
LINUX_KEYRING_DEPS: tuple[str, ...] = ("secretstorage", "jeepney")
QT_MODULES: tuple[str, ...] = ("PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets")
# UI modules that must be there whatever else the UI grows; the rest are found by walking.
REQUIRED_UI_MODULES: tuple[str, ...] = ("desktop_app.ui.app", "desktop_app.ui.main_window")

PROPERTY_KEY = "selftest_batch"
PROPERTY_VALUE = "offline-edit"
EDITED_PROPERTY = 5  # end users that get the property
DISABLED_SURVEYS = 3  # end users whose surveys are turned off


class SelfTestError(Exception):
    """A check failed; the message says what was expected and what was found."""


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step of the self-test: its name, outcome, duration and a short detail line."""

    name: str
    ok: bool
    seconds: float
    detail: str


@dataclass(frozen=True, slots=True)
class SelfTestReport:
    """Every step that ran, in order; the run stops at the first failure."""

    steps: tuple[StepResult, ...]
    seconds: float

    @property
    def passed(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)


def run_self_test(*, users: int = 300, check_qt: bool = True, out: TextIO | None = None) -> int:
    """Run every step, print one line each and a verdict; 0 when all pass, 1 otherwise."""
    stream = out if out is not None else sys.stdout
    print(f"{APP_ID} {__version__} self-test ({'frozen bundle' if is_frozen() else 'source'}, "
          f"Python {sys.version.split()[0]}, {sys.platform})", file=stream, flush=True)
    report = perform_self_test(users=users, check_qt=check_qt,
                               on_step=lambda step: print(format_step(step), file=stream, flush=True))
    verdict = "PASS" if report.passed else "FAIL"
    print(f"{verdict}: {len(report.steps)} steps in {report.seconds:.2f} s", file=stream, flush=True)
    return 0 if report.passed else 1


def format_step(step: StepResult) -> str:
    mark = "ok  " if step.ok else "FAIL"
    return f"  {mark} {step.name:<24} {step.seconds:6.2f} s  {step.detail}"


def is_frozen() -> bool:
    """True inside a PyInstaller (or similar) bundle."""
    return bool(getattr(sys, "frozen", False))


def resources_dir() -> Path:
    """`resources/` beside the package: the source tree, or the bundle's data folder."""
    return Path(__file__).resolve().parent.parent / "resources"


def perform_self_test(
    *, users: int = 300, check_qt: bool = True, on_step: Callable[[StepResult], None] | None = None
) -> SelfTestReport:
    """Run the steps in order, stopping at the first failure; never raises for a failed check."""
    started = time.perf_counter()
    results: list[StepResult] = []
    with ExitStack() as cleanup:
        run = _Run(users, cleanup)
        steps: list[tuple[str, Callable[[], str]]] = []
        if check_qt:
            steps.append(("qt modules and plugins", check_qt_runtime))
        steps += [
            ("keyring backends", check_keyring_backends),
            ("start emulator", run.start_emulator),
            ("sign in", run.sign_in),
            ("first sync", run.first_sync),
            ("offline edits", run.edit_offline),
            ("sync while offline", run.sync_offline),
            ("sync back online", run.sync_online),
            ("cache equals server", run.compare_with_server),
            ("export filtered csv", run.export_filtered),
        ]
        for name, step in steps:
            t0 = time.perf_counter()
            try:
                detail, ok = step(), True
            except Exception as error:  # noqa: BLE001 - any failure is a FAIL line, not a traceback
                detail, ok = f"{type(error).__name__}: {error}", False
            result = StepResult(name, ok, time.perf_counter() - t0, detail)
            results.append(result)
            if on_step is not None:
                on_step(result)
            if not ok:
                break
    return SelfTestReport(tuple(results), time.perf_counter() - started)


# --- environment checks ------------------------------------------------------------------------

def _platform_name() -> str:
    """The Qt platform plugin the app would load here (what QGuiApplication would pick)."""
    chosen = os.environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen:
        return chosen
    if sys.platform == "darwin":
        return "cocoa"
    if sys.platform == "win32":
        return "windows"
    if os.environ.get("WAYLAND_DISPLAY") and os.environ.get("XDG_SESSION_TYPE") == "wayland":
        return "wayland"
    return "xcb"


def _load_plugin(plugins: Path, folder: str, name: str) -> Path:
    """Load one Qt plugin by file, so a missing system library shows up as its real error."""
    from PySide6.QtCore import QPluginLoader

    # libqxcb.so (Linux), libqcocoa.dylib (macOS), qwindows.dll (Windows)
    found = sorted(p for p in (plugins / folder).glob(f"*q{name}.*")
                   if p.stem in (f"libq{name}", f"q{name}"))
    if not found:
        raise SelfTestError(f"Qt plugin {folder}/{name} is not in {plugins}")
    loader = QPluginLoader(str(found[0]))
    if not loader.load():
        raise SelfTestError(f"Qt plugin {folder}/{found[0].name} does not load: {loader.errorString()}")
    return found[0]


def check_qt_runtime() -> str:
    """Qt modules, every UI module, the platform and SVG plugins, and the app icon."""
    for name in QT_MODULES:
        importlib.import_module(name)
    import desktop_app.ui
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import QLibraryInfo, QSize
    from PySide6.QtGui import QImageReader

    ui_names = {f"desktop_app.ui.{m.name}" for m in pkgutil.iter_modules(desktop_app.ui.__path__)}
    for name in sorted(ui_names | set(REQUIRED_UI_MODULES)):
        importlib.import_module(name)
    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    platform = _platform_name()
    _load_plugin(plugins, "platforms", platform)
    _load_plugin(plugins, "imageformats", "svg")
    icon = resources_dir() / "icons" / "wootric-desk.svg"
    if icon.exists():
        reader = QImageReader(str(icon))
        reader.setScaledSize(QSize(64, 64))
        image = reader.read()
        if image.isNull():
            raise SelfTestError(f"the app icon does not render: {reader.errorString()}")
        icon_note = "icon renders"
    elif is_frozen():
        raise SelfTestError(f"the bundle has no app icon at {icon}")
    else:
        icon_note = "no resources/ beside the package (an installed wheel): icon not checked"
    return (f"PySide6 {pyside_version}, {len(ui_names)} ui modules, platform plugin "
            f"'{platform}' loads, svg loads, {icon_note}")


def check_keyring_backends() -> str:
    """The backends import and keyring can discover them; reads nothing from any keyring."""
    from importlib.metadata import entry_points

    names = list(KEYRING_BACKENDS) + (list(LINUX_KEYRING_DEPS) if sys.platform == "linux" else [])
    for name in names:
        importlib.import_module(name)
    # Built-in backends are discovered through keyring's own entry points: a bundle that
    # dropped its metadata would silently fall back to "no keyring" everywhere.
    if not list(entry_points(group="keyring.backends")):
        raise SelfTestError("keyring's entry points are missing: its package metadata was not bundled")
    from desktop_app.credentials import secure_backend

    backend, reason = secure_backend()
    found = (f"OS keyring: {type(backend).__module__}" if backend is not None
             else f"no OS keyring here: {reason.rstrip('.')}")
    return f"{len(names)} modules import; {found}"


# --- the end-to-end run --------------------------------------------------------------------------

@contextmanager
def _private_home(folder: Path) -> Iterator[None]:
    """Point WOOTRIC_DESK_HOME at `folder` for the run, then put the old value back."""
    old = os.environ.get(ENV_HOME)
    os.environ[ENV_HOME] = str(folder)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(ENV_HOME, None)
        else:
            os.environ[ENV_HOME] = old


class _Run:
    """State shared by the end-to-end steps: one emulator, one cache file, one sync service."""

    def __init__(self, users: int, cleanup: ExitStack) -> None:
        self.users = users
        self.cleanup = cleanup
        self.home = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="wootric-selftest-")))
        cleanup.enter_context(_private_home(self.home))
        self.emulator: Emulator | None = None
        self.cache: Cache | None = None
        self.service: SyncService | None = None
        self.property_ids: list[int] = []
        self.disabled_ids: list[int] = []

    def _need(self) -> tuple[Emulator, Cache, SyncService]:
        if self.emulator is None or self.cache is None or self.service is None:
            raise SelfTestError("an earlier step did not set up the emulator, cache and sync")
        return self.emulator, self.cache, self.service

    def start_emulator(self) -> str:
        from desktop_app.emulator import Emulator

        self.emulator = self.cleanup.enter_context(Emulator(users=self.users, seed=20240611))
        return f"{self.emulator.store.count()} end users at {self.emulator.base_url}"

    def sign_in(self) -> str:
        from desktop_app.api.account import Credentials
        from desktop_app.api.client import WootricClient
        from desktop_app.cache.store import Cache
        from desktop_app.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
        from desktop_app.sync import SyncService

        if self.emulator is None:
            raise SelfTestError("the emulator did not start")
        # In memory only: the emulator's own demo credentials, never the keyring.
        credentials = Credentials(self.emulator.base_url, client_id=DEFAULT_CLIENT_ID,
                                  client_secret=DEFAULT_CLIENT_SECRET)
        with WootricClient(credentials, max_attempts=2, timeout=10.0) as client:
            client.authenticate()
        self.cache = Cache.open(self.home / "self-test.sqlite3")
        self.cleanup.callback(self.cache.close)
        # Two attempts and a short backoff: the offline step should fail fast, not patiently.
        self.service = SyncService(
            self.cache, lambda: WootricClient(credentials, max_attempts=2, timeout=10.0),
            backoff_max=1.0, edit_delay=0.05)
        self.cleanup.callback(self.service.stop)
        return "client credentials accepted (secret kept in memory)"

    def first_sync(self) -> str:
        from desktop_app.sync import SyncState

        emulator, cache, service = self._need()
        status = service.run_once()
        if status.state is not SyncState.IDLE:
            raise SelfTestError(f"the first sync ended {status.state.value}: {status.message}")
        cached, served = cache.count_all(), emulator.store.count()
        if cached != served:
            raise SelfTestError(f"the cache holds {cached} end users, the service {served}")
        return f"{cached} end users pulled"

    def edit_offline(self) -> str:
        emulator, cache, _service = self._need()
        emulator.faults.offline()
        ids = sorted(cache.all_ids())
        enabled = [i for i in ids if not _cached(cache, i).end_user.surveys_disabled]
        self.property_ids = ids[:EDITED_PROPERTY]
        self.disabled_ids = [i for i in enabled if i not in self.property_ids][:DISABLED_SURVEYS]
        if len(self.property_ids) < EDITED_PROPERTY or len(self.disabled_ids) < DISABLED_SURVEYS:
            raise SelfTestError(f"too few end users to edit ({len(ids)} cached)")
        cache.set_property(self.property_ids, PROPERTY_KEY, PROPERTY_VALUE)
        cache.set_surveys_enabled(self.disabled_ids, False)
        pending = cache.pending_count()
        if pending < EDITED_PROPERTY + DISABLED_SURVEYS:
            raise SelfTestError(f"expected {EDITED_PROPERTY + DISABLED_SURVEYS} pending edits, "
                                f"found {pending}")
        return (f"emulator offline; {PROPERTY_KEY} set on {len(self.property_ids)}, surveys off "
                f"for {len(self.disabled_ids)}; {pending} edits pending")

    def sync_offline(self) -> str:
        from desktop_app.sync import SyncState

        _emulator, cache, service = self._need()
        before = cache.pending_count()
        status = service.run_once()
        if status.state is not SyncState.OFFLINE:
            raise SelfTestError(f"expected the sync to report offline, got {status.state.value}: "
                                f"{status.message}")
        if cache.pending_count() != before:
            raise SelfTestError(f"pending edits went from {before} to {cache.pending_count()} "
                                "while offline")
        return f"reported offline; {before} edits still pending"

    def sync_online(self) -> str:
        from desktop_app.sync import SyncState

        emulator, cache, service = self._need()
        emulator.faults.online()
        status = service.run_once()
        if status.state is not SyncState.IDLE:
            raise SelfTestError(f"the sync after coming back ended {status.state.value}: "
                                f"{status.message}")
        if cache.pending_count() or status.conflicts or status.rejected:
            raise SelfTestError(f"after the sync: {cache.pending_count()} pending, "
                                f"{status.conflicts} conflicts, {status.rejected} rejected")
        return "every edit pushed; nothing pending, no conflicts"

    def compare_with_server(self) -> str:
        from desktop_app.domain import canonical_value

        emulator, cache, _service = self._need()
        for end_user_id in self.property_ids + self.disabled_ids:
            server = emulator.store.fetch(end_user_id)
            if server is None:
                raise SelfTestError(f"end user {end_user_id} is gone from the service")
            if end_user_id in self.property_ids and server.properties.get(PROPERTY_KEY) != PROPERTY_VALUE:
                raise SelfTestError(f"the service does not have {PROPERTY_KEY} on end user {end_user_id}")
            if end_user_id in self.disabled_ids and not server.surveys_disabled:
                raise SelfTestError(f"surveys are still on at the service for end user {end_user_id}")
            local = _cached(cache, end_user_id).end_user
            mine = (local.email, local.external_id, local.surveys_disabled, local.updated_at,
                    {k: canonical_value(v) for k, v in local.properties.items()})
            theirs = (server.email, server.external_id, server.surveys_disabled, server.updated_at,
                      {k: canonical_value(v) for k, v in server.properties.items()})
            if mine != theirs:
                raise SelfTestError(f"end user {end_user_id} differs: cache {mine!r}, "
                                    f"service {theirs!r}")
        return f"{len(self.property_ids) + len(self.disabled_ids)} edited end users match the service"

    def export_filtered(self) -> str:
        from desktop_app.cache.reading.query import EndUserQuery, SortSpec
        from desktop_app.export import ExportOptions, export_csv

        _emulator, cache, _service = self._need()
        target = self.home / "export.csv"
        options = ExportOptions(columns=["id", "email", "surveys_disabled", f"prop:{PROPERTY_KEY}"],
                                sort=SortSpec("id"))
        result = export_csv(EndUserQuery(cache.engine), f"{PROPERTY_KEY}:{PROPERTY_VALUE}", target,
                            options)
        with target.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        ids = [int(row["id"]) for row in rows]
        if ids != self.property_ids or result.rows != len(self.property_ids):
            raise SelfTestError(f"the export has ids {ids} ({result.rows} rows), "
                                f"expected {self.property_ids}")
        for row in rows:
            expected_email = _cached(cache, int(row["id"])).end_user.email
            if row[f"prop:{PROPERTY_KEY}"] != PROPERTY_VALUE or row["email"] != expected_email:
                raise SelfTestError(f"export row for end user {row['id']} is wrong: {row!r}")
        return f"{len(rows)} rows match the filter {PROPERTY_KEY}:{PROPERTY_VALUE}"


def _cached(cache: Cache, end_user_id: int) -> CachedEndUser:
    found = cache.get(end_user_id)
    if found is None:
        raise SelfTestError(f"end user {end_user_id} is not in the cache")
    return found
