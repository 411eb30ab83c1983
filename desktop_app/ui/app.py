"""The composition root: the only place that builds the parts and wires them together."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, QTimer, QtMsgType, Slot, qInstallMessageHandler
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox

from desktop_app import APP_ID, APP_NAME, __version__, accounts
from desktop_app.accounts import AccountProfile, AuthMethod, SignedInAccount
from desktop_app.credentials import CredentialError, CredentialStore, open_credential_store
from desktop_app.logs import ErrorSink, setup_logging, shutdown_logging
from desktop_app.private_dirs import secure_data_dir
from desktop_app.ui.errors import ErrorPresenter
from desktop_app.ui.operations import Operations
from desktop_app.ui.responsiveness import favour_the_gui_thread, schedule_full_collections
from desktop_app.ui.session import DeskSession
from desktop_app.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from desktop_app.api.account import Credentials
    from desktop_app.api.client import WootricClient
    from desktop_app.emulator import Emulator
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.sign_in import SignInDialog

log = logging.getLogger(__name__)

ORGANIZATION = "Wootric Desk"  # QSettings: ~/.config/Wootric Desk/wootric-desk.conf
DEMO_USERS = 5000
DEMO_SEED = 20240611
DEMO_RATE_LIMIT = 300  # requests per minute: real throttling, a first sync of about 20 s
# Quitting ends within two seconds whatever the workers do (the session's stages and bounds are
# in ui/session.py); the task pool gets this after them:
POOL_WAIT_MS = 400
SIGNAL_POLL_MS = 150  # how soon Python sees a SIGTERM while the event loop idles
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
    from desktop_app.api.client import WootricClient

    return WootricClient(credentials, max_attempts=2, timeout=15.0)


class DeskApp(QObject):
    """Runs the app: the account, the sign-in dialog when needed, the session, clean quit."""

    def __init__(
        self,
        app: QApplication,
        root: Path,
        store: CredentialStore | None = None,
        *,
        demo: bool = False,
        demo_settings: DemoSettings = DemoSettings(),
        client_factory: Callable[[Credentials], WootricClient] = default_client_factory,
        sync_interval: float = 60.0,
    ) -> None:
        super().__init__(app)
        self.app = app
        self.root = root
        self._store = store  # opened on first use: the keyring costs 0.3 s, off the first paint's path
        self._store_lock = threading.Lock()
        self.demo_requested = demo
        self.demo_settings = demo_settings
        self.client_factory = client_factory
        self.sync_interval = sync_interval
        self.tasks = TaskRunner(self)
        self.sign_in_ops = Operations(self.tasks, None, self)  # network work only: no cache yet
        self.sink = ErrorSink()
        self._uninstall_hooks = self.sink.install()
        self.errors = ErrorPresenter(self.sink)
        self.tasks.unhandled_failure.connect(self.errors.task_failed)
        self.session: DeskSession | None = None
        self.emulator: Emulator | None = None
        self._dialog: SignInDialog | None = None
        self._shut_down = False
        self.work_left_running: list[str] = []  # tasks still running when shutdown gave up on them
        app.aboutToQuit.connect(self.shutdown)

    @property
    def store(self) -> CredentialStore:
        """The OS keyring (or memory only), opened on first use from whichever thread asks."""
        with self._store_lock:
            if self._store is None:
                self._store = open_credential_store()
                status = self._store.status()
                log.info("secrets: %s%s", status.backend, f" ({status.reason})" if status.reason else "")
            return self._store

    # --- starting -------------------------------------------------------------------------

    def start(self) -> None:
        """Open the demo, the remembered account (its secret is read after the first paint),
        or ask the person to sign in."""
        if self.demo_requested:
            self.open_demo()
            return
        try:
            from_env = accounts.account_from_env()
        except ValueError as error:  # a WOOTRIC_* variable that is not text: said where one signs in
            log.warning("the environment's account is not usable: %s", error)
            self.ask_sign_in(message=str(error))
            return
        if from_env is not None:
            self.open_session(from_env.profile, from_env)
            return
        profile = accounts.load_profile(self.root)
        if profile is not None:
            self.open_session(profile)
        else:
            self.ask_sign_in()

    def ask_sign_in(self, initial: AccountProfile | None = None, message: str = "") -> None:
        from desktop_app.ui.sign_in import SignInDialog

        parent = self.session.window if self.session is not None else None
        dialog = SignInDialog(self.store, self.sign_in_ops, self.client_factory, data_dir=self.root,
                              initial=initial, offer_demo=True, message=message, parent=parent)
        self._dialog = dialog
        dialog.finished.connect(lambda _code: self._sign_in_finished(dialog))
        dialog.open()

    def _sign_in_finished(self, dialog: SignInDialog) -> None:
        from desktop_app.ui.sign_in import SignInOutcome

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
            self.open_session(result.account.profile, result.account)

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
        self.open_session(profile, SignedInAccount(profile, DEFAULT_CLIENT_SECRET, source))

    def _reset_demo_cache(self, profile: AccountProfile) -> None:
        """The demo service starts fresh each time, so its cache does too."""
        path = profile.cache_path(self.root)
        for candidate in path.parent.glob(path.name + "*"):
            candidate.unlink(missing_ok=True)

    def open_session(self, profile: AccountProfile, account: SignedInAccount | None = None) -> None:
        """Show the account's window at once; its cache opens and its secret is read after.
        Typing not saved in the window it replaces is asked about first; Cancel keeps it."""
        if not self._settle_typing():
            return
        self.close_session()
        try:
            session = DeskSession(profile, self.tasks, self.root, account=account,
                                  demo=self.emulator if profile.is_demo else None,
                                  sync_interval=self.sync_interval)
        except Exception as exc:  # a cache that cannot be read: say so, offer to sign in again
            log.exception("could not open the account")
            self.errors.report(exc, "opening the account")
            self.ask_sign_in(initial=profile)
            return
        self.session = session
        session.ops.failure_shown.connect(self.errors.task_failed)
        window = session.window
        window.sign_in_requested.connect(self._sign_in_again)
        window.sign_out_requested.connect(self.sign_out)
        self.errors.set_window(window)
        self._add_menus(window, demo=profile.is_demo)
        window.show()
        session.open_in_background(lambda: accounts.stored_account(profile, self.store),
                                   self._session_opened, self._session_failed)

    def _session_opened(self, session: DeskSession, why_no_account: str) -> None:
        if session is not self.session:
            return
        account = session.account
        if account is None:  # a profile without its secret: browse and edit offline, ask to sign in
            reason = why_no_account or self.tr("not in the keyring")
            session.sync.hold_for_sign_in(reason)
            self.ask_sign_in(initial=session.profile, message=self.tr(
                "Sign in again to {name}: the secret is not available ({why}).").format(
                    name=session.profile.display_name, why=reason))
            return
        if account.source == "memory":
            session.window.statusBar().showMessage(self.tr(
                "No system keyring found: your secret will be kept in memory until you quit."), 15000)
        session.start_sync()

    def _session_failed(self, session: DeskSession, exc: BaseException) -> None:
        if session is not self.session:
            return
        log.error("could not open the cache: %s", exc)
        self.close_session()
        self.errors.report(exc, "opening the account")
        self.ask_sign_in(initial=session.profile)

    def _add_menus(self, window: MainWindow, demo: bool) -> None:
        bar = window.menuBar()
        if demo and self.emulator is not None:
            emulator = self.emulator
            menu = bar.addMenu(self.tr("Simulate &network"))
            offline = QAction(self.tr("Go &offline"), window)
            offline.setStatusTip(self.tr("The demo service stops answering, like a dropped connection"))

            def go_offline() -> None:
                emulator.faults.offline()
                log.info("demo: offline")

            def come_back() -> None:
                emulator.faults.online()
                log.info("demo: online")
                if window.services.sync:
                    window.services.sync.sync_now()

            offline.triggered.connect(go_offline)
            online = QAction(self.tr("&Come back"), window)
            online.triggered.connect(come_back)
            menu.addAction(offline)
            menu.addAction(online)
            self.simulate_menu = menu
        if not hasattr(window, "open_log"):
            return
        help_menu = next((found for a in bar.actions() if isinstance(found := a.menu(), QMenu)
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
        profile = self.session.profile if self.session is not None else None
        if profile is not None and profile.is_demo:
            profile = None
        self.ask_sign_in(initial=profile)

    @Slot()
    def sign_out(self) -> None:
        session = self.session
        if session is None or not self._settle_typing():
            return
        # The sync's published count: reading the cache here would wait for it on the GUI thread.
        pending = session.sync.status.pending if session.cache.ready else None
        text = self.tr("Sign out of {name}? The secret is removed from the keyring.").format(
            name=session.profile.display_name)
        if pending:
            text += "\n\n" + self.tr(
                "{n} edits have not been sent yet. They stay in this computer's cache and are "
                "sent when you sign in to this account again.").format(n=pending)
        elif pending is None:
            text += "\n\n" + self.tr(
                "Edits not sent yet stay in this computer's cache and are sent when you sign in "
                "to this account again.")
        answer = QMessageBox.question(session.window, self.tr("Sign out"), text,
                                      QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Ok:
            return
        self.sign_out_now()

    def sign_out_now(self) -> None:
        """Forget the account (secret out of the keyring, profile removed) and ask again."""
        session = self.session
        profile = session.profile if session is not None else None
        # As the question said: unsent edits stay in the cache for the next sign-in.
        self.close_session(send_held=False)
        try:
            if profile is not None and profile.is_demo:
                self.store.delete(profile.key)
            else:
                accounts.sign_out(self.store, self.root)
        except CredentialError as exc:
            self.errors.report(exc, "signing out")
        self.ask_sign_in(initial=None if profile is None or profile.is_demo else profile)

    def _settle_typing(self) -> bool:
        """Before the session's window goes: save or discard its unsaved typing, as the person
        says; False when they chose to stay (Cancel)."""
        return self.session is None or self.session.window.detail.settle_unsaved()

    def close_session(self, *, send_held: bool = True) -> None:
        if self.session is not None:
            session, self.session = self.session, None
            self.errors.set_window(None)
            session.close(send_held=send_held)

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
        if not self.tasks.shutdown(POOL_WAIT_MS):
            self.work_left_running = self.tasks.unfinished_names()
            log.warning("quitting without waiting for background work still running: %s",
                        ", ".join(self.work_left_running))
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
        # exit(), not quit(): quit() first offers every window a close it may refuse (the
        # unsaved-typing question), and nobody is there to answer a signal. From a timer, so
        # a signal that comes before the event loop runs still ends it once it does.
        QTimer.singleShot(0, app, lambda: app.exit(0))

    for name in ("SIGINT", "SIGTERM"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), request_quit)
    # Python runs signal handlers only between bytecodes: wake it up now and then.
    heartbeat = QTimer(app)
    heartbeat.timeout.connect(lambda: None)
    heartbeat.start(SIGNAL_POLL_MS)


@dataclass
class Launched:
    """A started app before its event loop runs: `run_gui` runs it; the UI benchmark drives it."""

    app: QApplication
    desk: DeskApp
    log_path: Path
    _previous_handler: Any

    def finish(self) -> None:
        self.desk.shutdown()
        qInstallMessageHandler(self._previous_handler)
        log.info("log file: %s", self.log_path)
        shutdown_logging()


def launch(argv: Sequence[str], demo: bool, data_dir: Path | None,
           *, demo_settings: DemoSettings | None = None) -> Launched:
    """Build the application and queue the start: the window opens once events are processed."""
    root = data_dir if data_dir is not None else accounts.data_dir()
    logging_setup = setup_logging(root / "logs" if data_dir is not None else None)
    secure_data_dir(root)
    log.info("%s %s starting (demo=%s)", APP_NAME, __version__, demo)
    previous_handler = qInstallMessageHandler(_qt_message)
    app = build_application([a for a in argv if a not in ("--demo",)])
    favour_the_gui_thread()  # workers will compute beside the window from here on
    schedule_full_collections(app)
    desk = DeskApp(app, root, demo=demo, demo_settings=demo_settings or _demo_from_env())
    _quit_on_signals(app)
    QTimer.singleShot(0, desk.start)
    return Launched(app, desk, logging_setup.path, previous_handler)


def run_gui(argv: Sequence[str], demo: bool, data_dir: Path | None,
            *, demo_settings: DemoSettings | None = None) -> int:
    """Open the app; returns the exit code when the last window closes."""
    launched = launch(argv, demo, data_dir, demo_settings=demo_settings)
    try:
        code = launched.app.exec()
    finally:
        launched.finish()
    if launched.desk.work_left_running:
        # Qt waits for its pool threads as the application is destroyed, for ever if one is
        # stuck (a cache open behind another process's lock). Everything of ours is stopped,
        # closed and logged; SQLite rolls back whatever that open had begun.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
