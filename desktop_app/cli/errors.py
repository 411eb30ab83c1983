"""The command line's one error sink: every failure becomes one line on stderr and a documented
exit code; the details (redacted) go to the log file."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping

from desktop_app.broken_text import has_broken_text, is_broken_char
from desktop_app.cli.session import (
    EXIT_FAILED,
    EXIT_OFFLINE,
    EXIT_SIGN_IN,
    EXIT_USAGE,
    CommandError,
)
from desktop_app.user_errors import ErrorKind, UserFacingError

log = logging.getLogger(__name__)

EXIT_INTERRUPTED = 130  # Ctrl+C, the shell's convention (documented in the README)

# Arguments that are file names: any bytes the OS accepts are fine there.
PATH_ARGUMENTS = frozenset({"output", "data_dir", "file"})
# Environment variables that must be text (the data directory is a path, so it is not here).
TEXT_VARIABLES = ("WOOTRIC_CLIENT_ID", "WOOTRIC_CLIENT_SECRET", "WOOTRIC_API_BASE")

# The exit code each kind of the app's own errors (`UserFacingError`) ends the command with.
_EXIT_CODES: Mapping[ErrorKind, int] = {
    ErrorKind.INPUT: EXIT_USAGE,
    ErrorKind.SIGN_IN: EXIT_SIGN_IN,
    ErrorKind.OFFLINE: EXIT_OFFLINE,
    ErrorKind.FAILED: EXIT_FAILED,
}
# Errors that carry no `UserFacingError` kind yet, matched by class name along the MRO:
# ColumnError (export/columns.py, a refused --columns list) and the database drivers'
# (sqlite3's, and SQLAlchemy's wrappers, which this module does not import).
_USAGE_ERRORS = frozenset({"ColumnError"})
_CACHE_ERRORS = frozenset({"DatabaseError", "OperationalError", "IntegrityError"})
_CACHE_HEADLINE = "The cache could not be read or written"  # as the cache's own CacheError says it


def printable(text: str) -> str:
    """Text safe for any stream: an undecodable byte shown as \\xNN, half a surrogate pair as
    \\uNNNN, never a UnicodeEncodeError."""
    if not has_broken_text(text):
        return text
    return "".join(_escape(ch) if is_broken_char(ch) else ch for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def _first_broken(text: str) -> int:
    return next(i for i, ch in enumerate(text) if is_broken_char(ch))


def check_text_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse a text argument with bytes that are not UTF-8 before anything reads or writes.

    Names the argument and where, never the value (it may be a token).
    """
    for dest, value in vars(args).items():
        if dest in PATH_ARGUMENTS:
            continue
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, str) and has_broken_text(item):
                raise CommandError(
                    f"{_argument_name(parser, args, dest)} is not valid text: it holds a byte that "
                    f"is not UTF-8 (character {_first_broken(item) + 1}). Nothing was changed.",
                    EXIT_USAGE)


def check_text_environment(env: Mapping[str, str] = os.environ, names: Iterable[str] = TEXT_VARIABLES) -> None:
    for name in names:
        if has_broken_text(env.get(name, "")):
            raise CommandError(f"{name} is not valid text: it holds a byte that is not UTF-8. "
                               "Nothing was changed.", EXIT_USAGE)


def _argument_name(parser: argparse.ArgumentParser, args: argparse.Namespace, dest: str) -> str:
    parsers = [parser]
    verb = getattr(args, "verb", None)
    for action in parser._actions:  # the verb's own parser holds its options
        if isinstance(action, argparse._SubParsersAction) and verb in action.choices:
            parsers.insert(0, action.choices[verb])
    for candidate in parsers:
        for action in candidate._actions:
            if action.dest == dest:
                return action.option_strings[0] if action.option_strings else dest.upper()
    return dest


def explain(error: BaseException) -> tuple[int, str]:
    """The exit code and the one line a person reads for an error nobody handled before."""
    names = {cls.__name__ for cls in type(error).__mro__}
    from desktop_app.logs import redact

    if isinstance(error, CommandError):  # our own words (redacting them read "No secret: [redacted]")
        return error.exit_code, str(error)
    text = redact(str(error).strip())
    if isinstance(error, UserFacingError):
        return _EXIT_CODES[error.kind], f"{error.headline}: {text}" if error.headline else text
    if names & _USAGE_ERRORS:
        return EXIT_USAGE, text
    if isinstance(error, UnicodeError):
        return EXIT_USAGE, ("A value is not valid text (a byte that is not UTF-8, or half of a "
                            "surrogate pair). Nothing was changed.")
    if names & _CACHE_ERRORS:
        return EXIT_FAILED, f"{_CACHE_HEADLINE}: {text}"
    if isinstance(error, MemoryError):
        return EXIT_FAILED, "Out of memory."
    if isinstance(error, OSError):
        where = f" ({printable(os.fsdecode(error.filename))})" if error.filename else ""
        reason = (error.strerror or text or type(error).__name__).rstrip(".")
        return EXIT_FAILED, f"A file or network operation failed{where}: {reason}."
    detail = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return EXIT_FAILED, f"Unexpected error ({detail}).{_see_log()}"


def _see_log() -> str:
    from desktop_app.logs import current_log_file

    path = current_log_file()
    return f" The details are in {printable(str(path))}." if path else ""


def _output_closed(error: BaseException) -> bool:
    """The reader of our stdout went away (`| head`): not a failure the person needs told."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, BrokenPipeError) or (isinstance(seen, OSError) and seen.errno == errno.EPIPE):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


MAX_LINE = 600  # a 50,000-character argument quoted back would bury the message


def say(line: str) -> None:
    """One line on stderr; a closed stderr loses it rather than raising again."""
    line = " ".join(printable(line).split("\n"))
    if len(line) > MAX_LINE:
        line = f"{line[:MAX_LINE // 2]} … {line[-MAX_LINE // 2:]}"
    try:
        print(f"wootric-desk: {line}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def run_guarded(command: Callable[[], int]) -> int:
    """Run a verb; whatever escapes it becomes one line and an exit code the README lists."""
    # Records logged before the log file is set up must not reach stderr as tracebacks
    # (logging's last-resort handler); the one line below is what the person reads.
    package = logging.getLogger("desktop_app")
    if not any(isinstance(h, logging.NullHandler) for h in package.handlers):
        package.addHandler(logging.NullHandler())
    try:
        code = command()
        sys.stdout.flush()  # a buffered table meets a closed pipe here, not at interpreter exit
        return code
    except SystemExit:
        raise
    except KeyboardInterrupt:
        say("interrupted")
        return EXIT_INTERRUPTED
    except BaseException as error:
        if _output_closed(error) and _stdout_is_broken():
            _silence_stdout()
            log.info("the output was closed before the command finished (%s)", type(error).__name__)
            return EXIT_FAILED
        code, message = explain(error)
        _ensure_log_file()
        level = logging.ERROR if code == EXIT_FAILED else logging.INFO
        log.log(level, "command failed (exit %d): %s", code, message,
                exc_info=(type(error), error, error.__traceback__))
        say(message)
        return code


def _ensure_log_file() -> None:
    """The details go to the log file, also for an error before a verb set it up."""
    from desktop_app.logs import current_log_file, setup_logging

    if current_log_file() is None:
        try:
            setup_logging()
        except Exception:  # noqa: BLE001 - an unusable data directory: the one line must do
            pass


def _stdout_is_broken() -> bool:
    """Whether stdout is a pipe or socket that no longer takes data (an EPIPE from elsewhere,
    a socket to the service say, is an ordinary failure)."""
    import stat

    try:
        sys.stdout.flush()
        mode = os.fstat(sys.stdout.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        return True
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)
