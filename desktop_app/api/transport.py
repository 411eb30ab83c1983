"""One HTTP exchange with the service, done right: auth, rate limit, retries, typed errors."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from desktop_app.api.account import Credentials, check_base_url, is_loopback_host
from desktop_app.api.auth import TOKEN_PATH, TokenKeeper
from desktop_app.api.errors import (
    AuthError,
    NetworkError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    ServerError,
    ValidationError,
    WootricError,
)
from desktop_app.api.throttle import Backoff, RateLimitGate, RateLimitListener
from desktop_app.api.wire import error_details
from desktop_app.clock import Clock

log = logging.getLogger(__name__)

Pairs = Sequence[tuple[str, str]]
FORM_TYPE = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class JsonBody:
    """A request body sent as JSON: property values keep their types (a form makes them text)."""

    document: Mapping[str, object]

    def encode(self) -> bytes:
        # ASCII escapes: the bytes are valid whatever the text holds; NaN is not JSON.
        return json.dumps(self.document, allow_nan=False, separators=(",", ":")).encode("ascii")

def _not_json(constant: str) -> object:
    """NaN and Infinity: Python's json reads them, JSON has no such numbers (and the cache's
    JSON columns refuse them, with text no person should see)."""
    raise ValueError(f"{constant} is not JSON")


# A 429 that keeps coming back after honest waits means something is wrong: stop eventually.
MAX_RATE_LIMIT_WAITS = 20
# A refused connection means offline: one quick retry, then the caller (the sync service)
# owns the longer wait, so the app shows "offline" in seconds rather than a minute.
MAX_CONNECT_ATTEMPTS = 2
USER_AGENT = "wootric-desk/0.1"


@dataclass(frozen=True, slots=True)
class Answer:
    """A successful answer: status and decoded JSON (None for an empty body)."""

    status: int
    body: Any


class _Failure(Exception):
    """One attempt failed in a way a retry may cure; `ambiguous` if the server may have acted."""

    def __init__(self, error: WootricError, *, ambiguous: bool, unreachable: bool = False) -> None:
        super().__init__(error.message)
        self.error = error
        self.ambiguous = ambiguous
        self.unreachable = unreachable  # no connection could be made at all


class Transport:
    """Sends requests over one reused `httpx.Client`.

    Thread safety: one call at a time (a lock serializes callers); meant to be driven from one
    worker thread. Every wait (rate limit, backoff) goes through `clock.sleep`.
    """

    def __init__(
        self, credentials: Credentials, *, clock: Clock, timeout: float, max_attempts: int,
        rate_limit_wait_max: float, backoff: Backoff | None = None,
    ) -> None:
        self.base_url = check_base_url(credentials.base_url)
        self._credentials = credentials
        self._clock = clock
        self._max_attempts = max(1, max_attempts)
        self._lock = threading.RLock()
        host = urlsplit(self.base_url).hostname or ""
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            verify=True,  # never switched off, not even for the emulator (it is plain http)
            follow_redirects=False,  # a redirect must not carry the bearer token elsewhere
            # loopback traffic must never take a detour through an environment proxy
            trust_env=not is_loopback_host(host),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
        )
        self.gate = RateLimitGate(clock, rate_limit_wait_max)
        self.backoff = backoff or Backoff(clock)
        self.tokens = TokenKeeper(credentials, clock, self._post_token)
        self.on_rate_limit: RateLimitListener | None = None
        self.request_count = 0

    @property
    def max_attempts(self) -> int:
        return self._max_attempts

    def close(self) -> None:
        self._http.close()

    def authenticate(self) -> None:
        """Sign in now with the configured grant."""
        with self._lock:
            self.tokens.authenticate()

    # --- public entry ---------------------------------------------------------------------

    def call(
        self, method: str, path: str, *, query: Pairs = (),
        form: Pairs | JsonBody | None = None, idempotent: bool | None = None, auth: bool = True, label: str | None = None,
        gone_ok: bool = False,
    ) -> Answer:
        """Send one logical request and return its answer, or raise a WootricError.

        Idempotent requests (GET/PUT/DELETE by default) are retried on 5xx, timeouts, resets
        and unreadable bodies; others raise at once with `ambiguous=True` set on the error when
        the service may have acted. Connection-refused is retried for every method: nothing
        was sent. With `gone_ok`, a 404 after an ambiguous failed attempt counts as success (a
        retried DELETE whose first try went through).
        """
        if idempotent is None:
            idempotent = method in ("GET", "PUT", "DELETE", "HEAD")
        what = label or f"{method} {path}"
        with self._lock:
            return self._call(method, path, query, form, idempotent, auth, what, gone_ok)

    # --- internals ------------------------------------------------------------------------

    def _post_token(self, form: list[tuple[str, str]], query: list[tuple[str, str]]) -> object:
        return self.call(
            "POST", TOKEN_PATH, query=query, form=form, idempotent=True, auth=False,
            label="sign-in",
        ).body

    def _call(
        self, method: str, path: str, query: Pairs, form: Pairs | JsonBody | None,
        idempotent: bool, auth: bool, what: str, gone_ok: bool = False,
    ) -> Answer:
        attempt = 0
        ambiguous_before = False
        rate_waits = 0
        reauthorized = False
        while True:
            pending = self.gate.pending_wait()
            if pending is not None:
                self.gate.spend(pending, self.on_rate_limit)
            headers: dict[str, str] = {}
            if auth:
                headers["Authorization"] = f"Bearer {self.tokens.bearer()}"
            attempt += 1
            try:
                response, body = self._exchange(method, path, query, form, headers, what)
            except _Failure as failure:
                error = failure.error
                error.ambiguous = failure.ambiguous
                limit = MAX_CONNECT_ATTEMPTS if failure.unreachable else self._max_attempts
                if (failure.ambiguous and not idempotent) or attempt >= min(limit, self._max_attempts):
                    raise error from None
                ambiguous_before = ambiguous_before or failure.ambiguous
                slept = self.backoff.sleep(attempt)
                log.info("%s failed (%s); retry %d after %.2f s",
                         what, error.message, attempt, slept)
                continue
            status = response.status_code
            if 200 <= status < 300:
                return Answer(status, body)
            if status == 429:
                rate_waits += 1
                attempt -= 1  # waiting for the rate limit is not a failed attempt
                wait = self.gate.refusal_wait(response.headers)
                if rate_waits > MAX_RATE_LIMIT_WAITS:
                    raise RateLimitedError(
                        f"{what}: still rate limited after {MAX_RATE_LIMIT_WAITS} waits",
                        retry_after=wait.seconds,
                    )
                self.gate.spend(wait, self.on_rate_limit)
                continue
            if status == 404 and gone_ok and ambiguous_before:
                return Answer(status, None)
            details = error_details(body)
            if status == 401 and auth and not reauthorized:
                reauthorized = True
                attempt -= 1
                log.info("%s: token refused (401); renewing it once", what)
                self.tokens.invalidate()
                continue
            error = self._status_error(status, details, what, auth)
            if status >= 500:
                error.ambiguous = True
                if idempotent and attempt < self._max_attempts:
                    ambiguous_before = True
                    slept = self.backoff.sleep(attempt)
                    log.info("%s: HTTP %d; retry %d after %.2f s", what, status, attempt, slept)
                    continue
            raise error

    def _exchange(
        self, method: str, path: str, query: Pairs, form: Pairs | JsonBody | None,
        headers: dict[str, str], what: str,
    ) -> tuple[httpx.Response, Any]:
        content: bytes | None = None
        if isinstance(form, JsonBody):
            content = form.encode()
            headers["Content-Type"] = JSON_TYPE
        elif form is not None:
            content = urlencode(list(form)).encode("ascii")
            headers["Content-Type"] = FORM_TYPE
        request = self._http.build_request(
            method, path, params=list(query) or None, content=content, headers=headers
        )
        self.request_count += 1
        started = time.perf_counter()
        try:
            response = self._http.send(request, stream=True)
        except httpx.ConnectTimeout:
            raise _Failure(NetworkError(f"{what}: timed out connecting"), ambiguous=False,
                           unreachable=True) from None
        except httpx.ConnectError:
            raise _Failure(
                NetworkError(f"{what}: cannot connect (offline or service down)"), ambiguous=False,
                unreachable=True,
            ) from None
        except httpx.PoolTimeout:
            raise _Failure(NetworkError(f"{what}: no free connection"), ambiguous=False) from None
        except httpx.TimeoutException:
            raise _Failure(NetworkError(f"{what}: timed out"), ambiguous=True) from None
        except httpx.TransportError as exc:
            raise _Failure(
                NetworkError(f"{what}: connection lost ({type(exc).__name__})"), ambiguous=True
            ) from None
        try:
            body = response.read()
        except httpx.TimeoutException:
            raise _Failure(
                NetworkError(f"{what}: timed out reading the answer"), ambiguous=True
            ) from None
        except httpx.TransportError:
            raise _Failure(
                ProtocolError(f"{what}: answer cut off (HTTP {response.status_code})"),
                ambiguous=True,
            ) from None
        finally:
            response.close()
        log.debug(
            "%s %s -> %d (%d bytes, %.1f ms)", method, path, response.status_code, len(body),
            (time.perf_counter() - started) * 1000,
        )
        self.gate.observe(response.headers)
        if not body.strip():
            return response, None
        try:
            return response, json.loads(body, parse_constant=_not_json)
        except (ValueError, UnicodeDecodeError):
            if 200 <= response.status_code < 300:  # an unreadable success: worth a retry
                raise _Failure(
                    ProtocolError(f"{what}: malformed JSON in the answer"), ambiguous=True
                ) from None
            return response, None  # an error page that is not JSON: the status says enough

    def _status_error(
        self, status: int, details: tuple[str | None, str | None, str | None], what: str,
        auth: bool,
    ) -> WootricError:
        message, field, code = (self._scrub(d) if d else d for d in details)
        said = f": {message}" if message else (f": {code}" if code else "")
        if status in (401, 403):
            reason = "sign-in refused" if not auth else "not authorized"
            return AuthError(f"{what}: {reason} (HTTP {status}){said}", status=status)
        if status == 404:
            return NotFoundError(f"{what}: not found{said}", status=status)
        if status in (400, 422, 423):
            return ValidationError(
                message or code or f"{what}: rejected (HTTP {status})",
                field=field, code=code, status=status,
            )
        if status >= 500:
            return ServerError(f"{what}: server error (HTTP {status}){said}", status=status)
        return WootricError(f"{what}: unexpected HTTP {status}{said}", status=status)

    def _scrub(self, text: str) -> str:
        """Server text with any secret or token we hold blanked out (defence in depth)."""
        for secret in (*self._credentials.secrets(), *self.tokens.secrets()):
            if secret and secret in text:
                text = text.replace(secret, "[redacted]")
        return text
