"""The API client's error tree: one base class, one subclass per way a call can fail."""

from __future__ import annotations

from typing import ClassVar

from desktop_app.cancellation import Cancelled
from desktop_app.user_errors import ErrorKind, UserFacingError


class WootricError(UserFacingError):
    """Any failure talking to the Wootric API. Messages never contain secrets or tokens."""

    title = "The service reported an error"
    headline: ClassVar[str | None] = "The service reported an error"  # the command line's, for each subclass

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        # True when the service may have acted on a request that then failed (a reset after
        # the write, a lost answer): a create must not simply be sent again.
        self.ambiguous = False


class ConfigurationError(WootricError, ValueError):
    """The client was set up wrongly (no credentials, plain http:// to a remote host)."""

    title = "The connection settings are not valid"
    headline = None
    kind = ErrorKind.INPUT


class AuthError(WootricError):
    """Credentials rejected, or a token that stayed invalid after one refresh."""

    title = headline = "The service did not accept the sign-in"
    kind = ErrorKind.SIGN_IN


class NotFoundError(WootricError):
    """The end user (or other record) does not exist, or no longer does."""

    title = "Not found on the service"


class ValidationError(WootricError):
    """The service refused the request's parameters; carries its message and field."""

    title = "The service rejected a change"

    def __init__(
        self, message: str, *, field: str | None = None, code: str | None = None,
        status: int | None = 400,
    ) -> None:
        super().__init__(message, status=status)
        self.field = field
        self.code = code


class RateLimitedError(WootricError):
    """The rate limit kept refusing requests after the client waited as told."""

    title = "The service asked us to slow down"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message, status=429)
        self.retry_after = retry_after


class ServerError(WootricError):
    """The service answered 5xx on every attempt."""

    title = "The service had a problem"


class NetworkError(WootricError):
    """No usable answer: connection refused (offline), reset, or timed out."""

    title = headline = "The service could not be reached"
    kind = ErrorKind.OFFLINE


class ProtocolError(WootricError):
    """An answer that could not be read: truncated or malformed body, unexpected shape."""

    title = "The service sent an unexpected answer"


class WaitInterrupted(Cancelled):
    """A rate-limit or backoff wait was cut short because the caller asked the client to stop.

    Not a WootricError: nothing went wrong with the service; a sync being cancelled or the app
    quitting must not wait out a rate limit of up to two minutes.
    """
