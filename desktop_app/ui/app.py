"""The composition root: the only place that builds the parts and wires them together."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QTimer, QtMsgType, Slot, qInstallMessageHandler
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop_app import APP_ID, APP_NAME, __version__, accounts
from desktop_app.accounts import AccountProfile, AuthMethod, SignedInAccount
from desktop_app.credentials import CredentialError, CredentialStore, open_credential_store
from desktop_app.logs import ErrorSink, register_secrets, setup_logging, shutdown_logging
from desktop_app.ui.errors import ErrorPresenter
from desktop_app.ui.sign_in import SignInDialog, SignInOutcome
from desktop_app.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from desktop_app.api import Credentials, WootricClient
    from desktop_app.cache import Cache
    from desktop_app.domain import SurveyResponse
    from desktop_app.emulator import Emulator
    from desktop_app.sync import SyncService
    from desktop_app.ui.main_window import MainWindow

log = logging.getLogger(__name__)

ORGANIZATION = "Wootric Desk"  # QSettings: ~/.config/Wootric Desk/wootric-desk.conf
DEMO_USERS = 5000
DEMO_SEED = 20240611
DEMO_RATE_LIMIT = 300  # requests per minute: real throttling, a first sync of about 20 s
_RESOURCES = Path(__file__).resolve().parents[2] / "resources"


@dataclass(frozen=True, slots=True)
class DemoSettings:
    """How the embedded demo service is started (tests shrink it)."""

    users: int = DEMO_USERS
    seed: int = DEMO_SEED
    rate_limit: int | None = DEMO_RATE_LIMIT


def _qt_message(mode: QtMsgType, _context: object, message: str) -> None:
    """Qt's own warnings go to our (redacted) log, not to a console nobody reads."""
    if "propagateSizeHints" in message:  # the offscreen platform's harmless chatter
        return
    level = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
             QtMsgType.QtWarningMsg: logging.WARNING}.get(mode, logging.ERROR)
    logging.getLogger("qt").log(level, "%s", message)


def _app_icon() -> QIcon | None:
    for name in ("icons/wootric-desk.svg", "icons/wootric-desk-256.png"):
        path = _RESOURCES / name
        if path.exists():
            return QIcon(str(path))
    return None


def default_client_factory(credentials: Credentials) -> WootricClient:
    """Sign-in checks: fail fast (two attempts), unlike the patient sync client."""
    from desktop_app.api import WootricClient

    return WootricClient(credentials, max_attempts=2, timeout=15.0)


class _ResponsesReader:
    """An end user's survey responses, read on demand through one shared client."""

    def __init__(self, factory: Callable[[], WootricClient]) -> None:
        self._factory = factory
        self._client: WootricClient | None = None
        self._lock = threading.Lock()

    def __call__(self, end_user_id: int) -> list[SurveyResponse]:
        with self._lock:
            if self._client is None:
                self._client = self._factory()
            client = self._client
        return client.list_responses(end_user_id)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


class DeskSession:
    """One signed-in account's parts: cache, queries, sync, and the main window over them."""

    def __init__(self, account: SignedInAccount, tasks: TaskRunner, root: Path,
                 demo: Emulator | None = None, sync_interval: float = 60.0) -> None:
        from desktop_app.api import WootricClient
        from desktop_app.cache import Cache
        from desktop_app.cache.query import EndUserQuery
        from desktop_app.sync import SyncService
        from desktop_app.sync.pacing import SHARE_BESIDE_A_WINDOW
        from desktop_app.ui.main_window import MainWindow
        from desktop_app.ui.services import AppServices

        self.account = account
        register_secrets([account.secret])
        credentials = account.credentials()
        self.cache: Cache = Cache.open(account.profile.cache_path(root))
        self.query = EndUserQuery(self.cache.engine)

        def client_factory() -> WootricClient:
            return WootricClient(credentials)

        self.sync: SyncService = SyncService(self.cache, client_factory, interval=sync_interval,
                                             cpu_share=SHARE_BESIDE_A_WINDOW)
        self.responses = _ResponsesReader(client_factory)
        self.services = AppServices(
            cache=self.cache, query=self.query, sync=self.sync, tasks=tasks,
            responses=self.responses, account_label=account.profile.display_name, demo=demo,
        )
        self.window: MainWindow = MainWindow(self.services)
        self._closed = False

    def start(self) -> None:
        from desktop_app.ui.services import settle_heap

        settle_heap()  # before the sync's churn begins
        self.sync.start()

    def close(self) -> None:
        """Stop sync, let the window go, close the cache. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self.sync.stop()
        detach = getattr(self.window.statusBar(), "detach", None)
        if callable(detach):
            detach()
        self.window.close()
        # Let queries already running finish and reach the (still alive) window before the
        # cache closes under them; bounded, so a stuck query cannot hold up quitting.
        deadline = time.monotonic() + 5.0
        while self.services.tasks.busy and time.monotonic() < deadline:
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        self.window.deleteLater()
        self.responses.close()
        self.cache.close()


class DeskApp(QObject):
    """Runs the app: the account, the sign-in dialog when needed, the session, clean quit."""

    def __init__(
        self,
        app: QApplication,
        root: Path,
        store: CredentialStore,
        *,
        demo: bool = False,
        demo_settings: DemoSettings = DemoSettings(),  # noqa: B008 - frozen, shared safely
        client_factory: Callable[[Credentials], Any] = default_client_factory,
        sync_interval: float = 60.0,
    ) -> None:
        super().__init__(app)
        self.app = app
        self.root = root
        self.store = store
        self.demo_requested = demo
        self.demo_settings = demo_settings
        self.client_factory = client_factory
        self.sync_interval = sync_interval
        self.tasks = TaskRunner(self)
        self.sink = ErrorSink()
        self._uninstall_hooks = self.sink.install()
        self.errors = ErrorPresenter(self.sink)
        self.tasks.unhandled_failure.connect(self.errors.task_failed)
        self.session: DeskSession | None = None
        self.emulator: Emulator | None = None
        self._dialog: SignInDialog | None = None
        self._shut_down = False
        app.aboutToQuit.connect(self.shutdown)

    # --- starting -------------------------------------------------------------------------

    def start(self) -> None:
        """Open the demo, the remembered account, or ask the person to sign in."""
        if self.demo_requested:
            self.open_demo()
            return
        account = accounts.resolve_account(self.store, self.root)
        if account is not None:
            self.open_session(account)
        else:
            profile = accounts.load_profile(self.root)
            note = ""
            if profile is not None:  # a profile without its secret: say why, do not guess
                note = self.tr("Sign in again to {name}: the secret is not available ({why}).").format(
                    name=profile.display_name, why=self.store.status().reason or self.tr("not in the keyring"))
            self.ask_sign_in(initial=profile, message=note)

    def ask_sign_in(self, initial: AccountProfile | None = None, message: str = "") -> None:
        parent = self.session.window if self.session is not None else None
        dialog = SignInDialog(self.store, self.tasks, self.client_factory, data_dir=self.root,
                              initial=initial, offer_demo=True, message=message, parent=parent)
        self._dialog = dialog
        dialog.finished.connect(lambda _code: self._sign_in_finished(dialog))
        dialog.open()

    def _sign_in_finished(self, dialog: SignInDialog) -> None:
        self._dialog = None
        dialog.deleteLater()
        result = dialog.result_value
        if result is None:
            if self.session is None:  # nothing to fall back to: the app has nothing to show
                QTimer.singleShot(0, self.app.quit)
            return
        if result.outcome is SignInOutcome.DEMO:
            self.open_demo()
        elif result.account is not None:
            self.open_session(result.account)

    def open_demo(self) -> None:
        """Start the embedded emulator on loopback and sign in to it like to any service."""
        from desktop_app.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator

        if self.emulator is None:
            s = self.demo_settings
            self.emulator = Emulator(port=0, users=s.users, seed=s.seed, rate_limit=s.rate_limit).start()
            log.info("demo service on %s (%d end users)", self.emulator.base_url, s.users)
        profile = AccountProfile(self.emulator.base_url, AuthMethod.CLIENT_CREDENTIALS,
                                 client_id=DEFAULT_CLIENT_ID, label=self.tr("Demo"), region="demo")
        self._reset_demo_cache(profile)
        try:
            self.store.set(profile.key, DEFAULT_CLIENT_SECRET)
            source = "keyring" if self.store.status().available else "memory"
        except CredentialError as exc:  # a locked keyring must not block the demo
            log.warning("demo secret kept in memory: %s", exc)
            source = "memory"
        self.open_session(SignedInAccount(profile, DEFAULT_CLIENT_SECRET, source))

    def _reset_demo_cache(self, profile: AccountProfile) -> None:
        """The demo service starts fresh each time, so its cache does too."""
        path = profile.cache_path(self.root)
        for candidate in path.parent.glob(path.name + "*"):
            candidate.unlink(missing_ok=True)

    def open_session(self, account: SignedInAccount) -> None:
        self.close_session()
        try:
            session = DeskSession(account, self.tasks, self.root, demo=self.emulator
                                  if account.profile.is_demo else None,
                                  sync_interval=self.sync_interval)
        except Exception as exc:  # a cache that cannot open: say so, offer to sign in again
            log.exception("could not open the account")
            self.errors.report(exc, "opening the account")
            self.ask_sign_in(initial=account.profile)
            return
        self.session = session
        window = session.window
        window.sign_in_requested.connect(self._sign_in_again)
        window.sign_out_requested.connect(self.sign_out)
        self.errors.set_window(window)
        self._add_menus(window, demo=account.profile.is_demo)
        if account.source == "memory":
            window.statusBar().showMessage(self.tr(
                "No system keyring found: your secret will be kept in memory until you quit."), 15000)
        window.show()
        session.start()

    def _add_menus(self, window: MainWindow, demo: bool) -> None:
        bar = window.menuBar()
        if demo and self.emulator is not None:
            emulator = self.emulator
            menu = bar.addMenu(self.tr("Simulate &network"))
            offline = QAction(self.tr("Go &offline"), window)
            offline.setStatusTip(self.tr("The demo service stops answering, like a dropped connection"))
            offline.triggered.connect(lambda: (emulator.faults.offline(), log.info("demo: offline")))
            online = QAction(self.tr("&Come back"), window)
            online.triggered.connect(lambda: (emulator.faults.online(), log.info("demo: online"),
                                              window.services.sync.sync_now() if window.services.sync else None))
            menu.addAction(offline)
            menu.addAction(online)
            self.simulate_menu = menu
        if not hasattr(window, "open_log"):
            return
        help_menu = next((a.menu() for a in bar.actions() if a.menu() is not None
                          and a.text().replace("&", "") == self.tr("Help")), None)
        if help_menu is None:
            help_menu = bar.addMenu(self.tr("&Help"))
        about = QAction(self.tr("&About {app}").format(app=APP_NAME), window)
        about.triggered.connect(lambda: QMessageBox.about(
            window, APP_NAME, self.tr("{app} {version}\nOffline-first management of Wootric end users.")
            .format(app=APP_NAME, version=__version__)))
        help_menu.addAction(about)

    # --- signing in again, out, quitting ---------------------------------------------------

    @Slot()
    def _sign_in_again(self) -> None:
        profile = self.session.account.profile if self.session is not None else None
        if profile is not None and profile.is_demo:
            profile = None
        self.ask_sign_in(initial=profile)

    @Slot()
    def sign_out(self) -> None:
        session = self.session
        if session is None:
            return
        pending = session.cache.pending_count()
        text = self.tr("Sign out of {name}? The secret is removed from the keyring.").format(
            name=session.account.profile.display_name)
        if pending:
            text += "\n\n" + self.tr(
                "{n} edits have not been sent yet. They stay in this computer's cache and are "
                "sent when you sign in to this account again.").format(n=pending)
        answer = QMessageBox.question(session.window, self.tr("Sign out"), text,
                                      QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Ok:
            return
        self.sign_out_now()

    def sign_out_now(self) -> None:
        """Forget the account (secret out of the keyring, profile removed) and ask again."""
        session = self.session
        profile = session.account.profile if session is not None else None
        self.close_session()
        try:
            if profile is not None and profile.is_demo:
                self.store.delete(profile.key)
            else:
                accounts.sign_out(self.store, self.root)
        except CredentialError as exc:
            self.errors.report(exc, "signing out")
        self.ask_sign_in(initial=None if profile is None or profile.is_demo else profile)

    def close_session(self) -> None:
        if self.session is not None:
            session, self.session = self.session, None
            self.errors.set_window(None)
            session.close()

    @Slot()
    def shutdown(self) -> None:
        """Stop sync, background work, the demo service and logging; once."""
        if self._shut_down:
            return
        self._shut_down = True
        try:
            self.app.aboutToQuit.disconnect(self.shutdown)
        except (RuntimeError, TypeError):  # already disconnected
            pass
        if self._dialog is not None:
            self._dialog.reject()
        self.close_session()
        self.tasks.shutdown(10_000)
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None
        self.errors.detach()
        self._uninstall_hooks()
        log.info("%s quit cleanly", APP_NAME)


def build_application(argv: Sequence[str]) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APP_ID)
    QApplication.setApplicationDisplayName(APP_NAME)
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication([sys.argv[0] if sys.argv else APP_ID, *argv])
    app.setDesktopFileName(APP_ID)
    icon = _app_icon()
    if icon is not None:
        app.setWindowIcon(icon)
    return app


def _demo_from_env() -> DemoSettings:
    """WOOTRIC_DESK_DEMO_USERS shrinks the demo (tests, screenshots); the default is 5,000."""
    users = os.environ.get("WOOTRIC_DESK_DEMO_USERS", "")
    return DemoSettings(users=int(users)) if users.isdigit() else DemoSettings()


def _quit_on_signals(app: QApplication) -> None:
    """Ctrl+C or SIGTERM quits through the normal path (sync stopped, caches closed)."""
    def request_quit(_signum: int, _frame: object) -> None:
        log.info("quit requested by signal")
        app.quit()

    for name in ("SIGINT", "SIGTERM"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), request_quit)
    # Python runs signal handlers only between bytecodes: wake it up now and then.
    heartbeat = QTimer(app)
    heartbeat.timeout.connect(lambda: None)
    heartbeat.start(300)


def run_gui(argv: Sequence[str], demo: bool, data_dir: Path | None,
            *, demo_settings: DemoSettings | None = None) -> int:
    """Open the app; returns the exit code when the last window closes."""
    root = data_dir if data_dir is not None else accounts.data_dir()
    logging_setup = setup_logging(root / "logs" if data_dir is not None else None)
    log.info("%s %s starting (demo=%s)", APP_NAME, __version__, demo)
    previous_handler = qInstallMessageHandler(_qt_message)
    app = build_application([a for a in argv if a not in ("--demo",)])
    store = open_credential_store()
    status = store.status()
    log.info("secrets: %s%s", status.backend, f" ({status.reason})" if status.reason else "")
    desk = DeskApp(app, root, store, demo=demo, demo_settings=demo_settings or _demo_from_env())
    _quit_on_signals(app)
    QTimer.singleShot(0, desk.start)
    try:
        code = app.exec()
    finally:
        desk.shutdown()
        qInstallMessageHandler(previous_handler)
        log.info("log file: %s", logging_setup.path)
        shutdown_logging()
    return code

