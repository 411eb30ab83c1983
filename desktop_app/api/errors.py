"""The API client's error tree: one base class, one subclass per way a call can fail."""

from __future__ import annotations

from desktop_app.cancellation import Cancelled


class WootricError(Exception):
    """Any failure talking to the Wootric API. Messages never contain secrets or tokens."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        # True when the service may have acted on a request that then failed (a reset after
        # the write, a lost answer): a create must not simply be sent again.
        self.ambiguous = False


class ConfigurationError(WootricError, ValueError):
    """The client was set up wrongly (no credentials, plain http:// to a remote host)."""


class AuthError(WootricError):
    """Credentials rejected, or a token that stayed invalid after one refresh."""


class NotFoundError(WootricError):
    """The end user (or other record) does not exist, or no longer does."""


class ValidationError(WootricError):
    """The service refused the request's parameters; carries its message and field."""

    def __init__(
        self, message: str, *, field: str | None = None, code: str | None = None,
        status: int | None = 400,
    ) -> None:
        super().__init__(message, status=status)
        self.field = field
        self.code = code


class RateLimitedError(WootricError):
    """The rate limit kept refusing requests after the client waited as told."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message, status=429)
        self.retry_after = retry_after


class ServerError(WootricError):
    """The service answered 5xx on every attempt."""


class NetworkError(WootricError):
    """No usable answer: connection refused (offline), reset, or timed out."""


class ProtocolError(WootricError):
    """An answer that could not be read: truncated or malformed body, unexpected shape."""


class WaitInterrupted(Cancelled):
    """A rate-limit or backoff wait was cut short because the caller asked the client to stop.

    Not a WootricError: nothing went wrong with the service; a sync being cancelled or the app
    quitting must not wait out a rate limit of up to two minutes.
    """
