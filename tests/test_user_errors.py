"""What the window's notice and the command line say for each of the app's own errors, read from
the error's class (`UserFacingError`), not from a list of class names."""

from __future__ import annotations

import sqlite3

import pytest

from desktop_app.api.errors import (
    AuthError,
    ConfigurationError,
    NetworkError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    ServerError,
    ValidationError,
    WootricError,
)
from desktop_app.cache.filters.parse import FilterError
from desktop_app.cache.records import CacheBusy, CacheError, EditRejected
from desktop_app.cli.errors import explain
from desktop_app.cli.session import EXIT_FAILED, EXIT_OFFLINE, EXIT_SIGN_IN, EXIT_USAGE
from desktop_app.credentials import CredentialError
from desktop_app.export.columns import ColumnError
from desktop_app.export.destination import ExportError
from desktop_app.logs import describe_exception
from desktop_app.timestamps import TimestampError
from desktop_app.user_errors import ErrorKind, UserFacingError

MESSAGE = "what happened, in plain words"

# (the error, the heading of the window's notice)
WINDOW_TITLES = [
    (AuthError(MESSAGE), "The service did not accept the sign-in"),
    (RateLimitedError(MESSAGE, retry_after=3), "The service asked us to slow down"),
    (NetworkError(MESSAGE), "The service could not be reached"),
    (ServerError(MESSAGE, status=503), "The service had a problem"),
    (ValidationError(MESSAGE, field="email"), "The service rejected a change"),
    (NotFoundError(MESSAGE, status=404), "Not found on the service"),
    (ProtocolError(MESSAGE), "The service sent an unexpected answer"),
    (ConfigurationError(MESSAGE), "The connection settings are not valid"),
    (WootricError(MESSAGE), "The service reported an error"),
    (EditRejected(MESSAGE), "That change is not allowed"),
    (CredentialError(MESSAGE), "The system keyring reported a problem"),
    (FilterError(MESSAGE, 3), "The filter could not be read"),
    # These said "Something went wrong" and named the class before they carried a title.
    (ExportError(MESSAGE), "The export could not be written"),
    (CacheError(MESSAGE), "The cache could not be read or written"),
    (TimestampError(MESSAGE), "A timestamp could not be read"),
]

# (the error, the command line's exit code, its one line)
COMMAND_LINE = [
    (FilterError(MESSAGE, 3), EXIT_USAGE, MESSAGE),
    (EditRejected(MESSAGE), EXIT_USAGE, MESSAGE),
    (TimestampError(MESSAGE), EXIT_USAGE, MESSAGE),
    (ConfigurationError(MESSAGE), EXIT_USAGE, MESSAGE),
    (ColumnError(MESSAGE), EXIT_USAGE, MESSAGE),
    (AuthError(MESSAGE), EXIT_SIGN_IN, f"The service did not accept the sign-in: {MESSAGE}"),
    (NetworkError(MESSAGE), EXIT_OFFLINE, f"The service could not be reached: {MESSAGE}"),
    (ExportError(MESSAGE), EXIT_FAILED, MESSAGE),
    (WootricError(MESSAGE), EXIT_FAILED, f"The service reported an error: {MESSAGE}"),
    (RateLimitedError(MESSAGE), EXIT_FAILED, f"The service reported an error: {MESSAGE}"),
    (ServerError(MESSAGE), EXIT_FAILED, f"The service reported an error: {MESSAGE}"),
    (ValidationError(MESSAGE), EXIT_FAILED, f"The service reported an error: {MESSAGE}"),
    (NotFoundError(MESSAGE), EXIT_FAILED, f"The service reported an error: {MESSAGE}"),
    (ProtocolError(MESSAGE), EXIT_FAILED, f"The service reported an error: {MESSAGE}"),
    (CredentialError(MESSAGE), EXIT_SIGN_IN, f"The system keyring reported a problem: {MESSAGE}"),
    (CacheError(MESSAGE), EXIT_FAILED, f"The cache could not be read or written: {MESSAGE}"),
    (CacheBusy(), EXIT_FAILED, f"The cache could not be read or written: {CacheBusy()}"),
    (sqlite3.OperationalError(MESSAGE), EXIT_FAILED, f"The cache could not be read or written: {MESSAGE}"),
]


def _name(value: object) -> str:
    return type(value).__name__ if isinstance(value, BaseException) else ""


@pytest.mark.parametrize(("error", "title"), WINDOW_TITLES, ids=[_name(e) for e, _ in WINDOW_TITLES])
def test_the_window_notice_takes_its_heading_from_the_error(error: BaseException, title: str) -> None:
    assert describe_exception(error) == (title, MESSAGE)


@pytest.mark.parametrize(("error", "code", "line"), COMMAND_LINE, ids=[_name(e) for e, _, _ in COMMAND_LINE])
def test_the_command_line_takes_its_exit_code_and_words_from_the_error(
    error: BaseException, code: int, line: str
) -> None:
    assert explain(error) == (code, line)


def test_the_apps_errors_are_user_facing() -> None:
    from desktop_app.ui.property_editors import PropertyInputError

    for cls in (WootricError, FilterError, EditRejected, CacheError, CredentialError, ExportError,
                TimestampError, PropertyInputError):
        assert issubclass(cls, UserFacingError), cls
    assert issubclass(FilterError, ValueError) and issubclass(CacheError, RuntimeError)  # still caught as before
    assert PropertyInputError.kind is ErrorKind.INPUT


def test_a_new_error_needs_no_list_of_names_in_either_sink() -> None:
    class SurveyLimitReached(UserFacingError):
        title = "The account's survey limit is reached"
        headline = "The survey limit is reached"
        kind = ErrorKind.INPUT

    error = SurveyLimitReached("Ask an admin to raise it; nothing was sent.")
    assert describe_exception(error) == ("The account's survey limit is reached",
                                         "Ask an admin to raise it; nothing was sent.")
    assert explain(error) == (EXIT_USAGE, "The survey limit is reached: Ask an admin to raise it; nothing was sent.")


def test_an_empty_message_shows_the_title_and_secrets_never_show() -> None:
    from desktop_app.logs import register_secrets

    assert describe_exception(NetworkError("")) == ("The service could not be reached",) * 2
    register_secrets(["s3cr3t-token-value"])
    title, message = describe_exception(AuthError("token s3cr3t-token-value was refused"))
    assert "s3cr3t-token-value" not in message
    assert "s3cr3t-token-value" not in explain(AuthError("token s3cr3t-token-value was refused"))[1]
