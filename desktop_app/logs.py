"""Logging for the whole app: a redacted rotating file, and the one error sink the UI renders."""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
import threading
import time
import traceback
from io import TextIOWrapper
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from desktop_app import APP_ID, APP_NAME
from desktop_app.cancellation import Cancelled
from desktop_app.private_dirs import make_private_dirs, tighten_private_dir
from desktop_app.user_errors import UserFacingError

log = logging.getLogger(__name__)

LOG_FILE = "wootric-desk.log"
LOG_FORMAT = "%(asctime)s %(levelname)-8s %(name)s [%(threadName)s] %(message)s"
REDACTED = "[redacted]"
_MAX_BYTES = 2_000_000
_BACKUPS = 4

# What a secret looks like in text we did not write ourselves (library messages, tracebacks).
_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # key=value / key: value / "key": "value" for the names secrets travel under
    (
        re.compile(
            r"(?i)((?:access_token|refresh_token|client_secret|password|passwd|secret|api_key"
            r"|authorization)[\"']?\s*[=:]\s*[\"']?)(?:bearer\s+)?[^\s&\"',;}]+"
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"), r"\1 " + REDACTED),
    # tokens, client ids and secrets are 64 hex characters at this service
    (re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{64}(?![0-9A-Fa-f])"), REDACTED),
)


class SecretRedactor:
    """Removes anything shaped like a secret, plus exact secrets registered at run time."""

    def __init__(self) -> None:
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def add_secret(self, secret: str) -> None:
        """Redact this exact value wherever it appears (e.g. a password of any shape)."""
        if secret and len(secret) >= 4:  # a 1-3 character "secret" would shred every message
            with self._lock:
                self._known.add(secret)

    def redact(self, text: str) -> str:
        with self._lock:
            known = sorted(self._known, key=len, reverse=True)
        for secret in known:
            text = text.replace(secret, REDACTED)
        for pattern, replacement in _SECRET_PATTERNS:
            text = pattern.sub(replacement, text)
        return text


REDACTOR = SecretRedactor()  # process-wide: every handler and the error sink share what it knows


def redact(text: str) -> str:
    return REDACTOR.redact(text)


class RedactingFilter(logging.Filter):
    """Renders each record's message and traceback once, redacted, before any handler sees it."""

    def __init__(self, redactor: SecretRedactor = REDACTOR) -> None:
        super().__init__()
        self._redactor = redactor
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the record
            message = str(record.msg)
        record.msg = self._redactor.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redactor.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redactor.redact(record.stack_info)
        return True


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating file that is created user-only (0600), rollovers included."""

    def _open(self) -> TextIOWrapper:
        stream = super()._open()
        try:
            os.chmod(self.baseFilename, 0o600)
        except OSError:
            pass
        return stream


def log_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the log file goes: under WOOTRIC_DESK_HOME, else the platform's log directory."""
    env = os.environ if env is None else env
    home = env.get("WOOTRIC_DESK_HOME")
    if home:
        return Path(home) / "logs"
    if sys.platform == "win32":
        return Path(env.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / APP_NAME / "Logs"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Logs" / APP_NAME
    state = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / APP_ID / "log"


@dataclass(frozen=True, slots=True)
class LogSetup:
    """The installed logging: the file being written and the handler writing it."""

    path: Path
    handler: logging.Handler

    def close(self) -> None:
        logging.getLogger().removeHandler(self.handler)
        self.handler.close()


_setup_lock = threading.Lock()
_current: LogSetup | None = None


def setup_logging(
    directory: Path | None = None, level: int = logging.INFO, console: bool = False
) -> LogSetup:
    """Send every `desktop_app` logger (and warnings from libraries) to a redacted rotating file.

    Idempotent per directory: a second call with the same directory returns the first setup.
    """
    global _current
    folder = log_dir() if directory is None else directory
    with _setup_lock:
        if _current is not None:
            if _current.path.parent == folder:
                return _current
            _current.close()
        make_private_dirs(folder)  # mkdir(parents=True) made the parents 0755
        tighten_private_dir(folder)
        path = folder / LOG_FILE
        handler = _PrivateRotatingFileHandler(
            # A file name with bytes that are not UTF-8 (a list, an export) lands in messages
            # as lone surrogates: written as \udcNN, never an encoding error in the handler.
            path, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8", errors="backslashreplace"
        )
        handler.addFilter(RedactingFilter())
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.setLevel(logging.DEBUG)
        root = logging.getLogger()
        root.addHandler(handler)
        if root.level == logging.NOTSET or root.level > logging.WARNING:
            root.setLevel(logging.WARNING)  # libraries: warnings and worse
        logging.getLogger("desktop_app").setLevel(level)
        # httpx logs every request URL at INFO; URLs may carry ?access_token= on old endpoints.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        if console:
            stream = logging.StreamHandler()
            stream.addFilter(RedactingFilter())
            stream.setFormatter(logging.Formatter(LOG_FORMAT))
            root.addHandler(stream)
        _current = LogSetup(path, handler)
        return _current


def current_log_file() -> Path | None:
    return None if _current is None else _current.path


def shutdown_logging() -> None:
    """Detach and close the log file handler (at quit, and between tests)."""
    global _current
    with _setup_lock:
        if _current is not None:
            _current.close()
            _current = None


# --- reading the log back (the log viewer and `wootric-desk logs`) ------------------------------

_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_LINE_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL)\s")


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One record of the log file; continuation lines (tracebacks) belong to their record."""

    level: int
    text: str


def read_log_tail(path: Path, max_bytes: int = 512_000) -> list[LogEntry]:
    """The last records of a log file, redacted again (the file may predate a newer pattern)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - max_bytes))
            raw = fh.read()
    except FileNotFoundError:
        return []
    text = raw.decode("utf-8", errors="replace")
    if size > max_bytes:  # drop the partial first line
        text = text.split("\n", 1)[-1]
    entries: list[LogEntry] = []
    for line in text.splitlines():
        match = _LINE_RE.match(line)
        if match or not entries:
            level = logging.getLevelName(match.group(1)) if match else logging.INFO
            entries.append(LogEntry(int(level), redact(line)))
        else:
            last = entries[-1]
            entries[-1] = LogEntry(last.level, last.text + "\n" + redact(line))
    return entries


# --- the error sink ---------------------------------------------------------------------------

# Other libraries' cancellations (asyncio's and concurrent.futures' CancelledError, a keyring
# backend's dialog), matched by class name: ours all derive from `Cancelled`.
_CANCELLATION_NAMES = frozenset({"CancelledError", "Cancelled", "TaskCancelled", "OperationCancelled"})

def is_cancellation(exc: BaseException) -> bool:
    """Whether the error means "someone cancelled": never shown, never alarming."""
    if isinstance(exc, Cancelled):
        return True
    return any(cls.__name__ in _CANCELLATION_NAMES for cls in type(exc).__mro__)


def describe_exception(exc: BaseException) -> tuple[str, str]:
    """A plain title and message for an exception, secrets redacted.

    The app's own errors carry their title (`UserFacingError`); a few of Python's get one here.
    """
    message = redact(str(exc).strip())
    if isinstance(exc, UserFacingError):
        return exc.title, message or exc.title
    if isinstance(exc, UnicodeError):  # its own text quotes the broken character back
        return "A value is not valid text", (
            "A value holds a character that is not text (half of a surrogate pair, or a byte "
            "that is not UTF-8), so it cannot be stored or sent. Nothing was changed.")
    if isinstance(exc, MemoryError):
        return "Out of memory", "The app ran out of memory."
    if isinstance(exc, OSError):
        return "A file or network operation failed", message or type(exc).__name__
    detail = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return "Something went wrong", f"An unexpected error occurred ({detail})."


@dataclass(frozen=True, slots=True)
class ErrorReport:
    """One error as the person sees it: a title, a plain message, and redacted details."""

    title: str
    message: str
    details: str
    when: float
    context: str = ""  # where it happened: a thread name, a task name

    @classmethod
    def from_exception(
        cls,
        exc: BaseException,
        context: str = "",
        tb: TracebackType | None = None,
    ) -> ErrorReport:
        title, message = describe_exception(exc)
        trace = "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))
        return cls(title, message, redact(trace), time.time(), context)


class ErrorSink:
    """Collects errors nobody handled (from any thread) and tells its subscribers.

    Subscribers run on the reporting thread: the UI marshals to the GUI thread itself.
    """

    def __init__(self, keep: int = 50) -> None:
        self._reports: deque[ErrorReport] = deque(maxlen=keep)
        self._subscribers: list[Callable[[ErrorReport], None]] = []
        self._lock = threading.Lock()
        self._previous_hooks: tuple[object, object] | None = None

    def subscribe(self, callback: Callable[[ErrorReport], None]) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def reports(self) -> list[ErrorReport]:
        with self._lock:
            return list(self._reports)

    def report(
        self, exc: BaseException, context: str = "", tb: TracebackType | None = None
    ) -> ErrorReport | None:
        """Record and broadcast an error; cancellations are dropped silently (returns None)."""
        if is_cancellation(exc):
            log.debug("cancelled: %s", context or type(exc).__name__)
            return None
        report = ErrorReport.from_exception(exc, context, tb)
        log.error("%s%s: %s\n%s", report.title, f" ({context})" if context else "",
                  report.message, report.details)
        with self._lock:
            self._reports.append(report)
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(report)
            except Exception:  # a broken subscriber must not loop the sink
                log.exception("error sink subscriber failed")
        return report

    def install(self) -> Callable[[], None]:
        """Route `sys.excepthook` and `threading.excepthook` here; returns the undo."""
        previous_sys, previous_threading = sys.excepthook, threading.excepthook

        def sys_hook(
            exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
        ) -> None:
            if issubclass(exc_type, KeyboardInterrupt):
                previous_sys(exc_type, exc, tb)
                return
            self.report(exc, "main thread", tb)

        def thread_hook(args: threading.ExceptHookArgs) -> None:
            if args.exc_value is None or isinstance(args.exc_value, SystemExit):
                return
            name = args.thread.name if args.thread is not None else "a background thread"
            self.report(args.exc_value, name, args.exc_traceback)

        sys.excepthook = sys_hook
        threading.excepthook = thread_hook

        def uninstall() -> None:
            if sys.excepthook is sys_hook:
                sys.excepthook = previous_sys
            if threading.excepthook is thread_hook:
                threading.excepthook = previous_threading

        return uninstall


def register_secrets(secrets: Iterable[str]) -> None:
    """Make these exact values disappear from every log line and error report from now on."""
    for secret in secrets:
        REDACTOR.add_secret(secret)
