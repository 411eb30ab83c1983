"""OAuth2 tokens for the client: fetched once, cached, refreshed before they expire."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from desktop_app.api.account import Credentials, Grant
from desktop_app.api.errors import AuthError, ProtocolError, ValidationError
from desktop_app.clock import Clock

log = logging.getLogger(__name__)

TOKEN_PATH = "/oauth/token"
REFRESH_MARGIN = 60.0  # renew this long before expiry, so a long sync never sends a dead token
DEFAULT_LIFETIME = 7_200.0  # the documented expires_in

# (form pairs, query pairs) -> decoded JSON body; raises WootricError subclasses.
TokenPoster = Callable[[list[tuple[str, str]], list[tuple[str, str]]], object]


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A bearer token and, for the password grant, the refresh token that came with it."""

    access: str = field(repr=False)
    expires_at: float
    refresh: str | None = field(default=None, repr=False)


def _lifetime(value: object) -> float:
    """Seconds a token lives, from `expires_in`: optional (RFC 6749), so anything but a
    positive finite number of seconds means the documented two hours. Not a sign-in failure;
    but neither a `true` taken as 1 s (a sign-in before every request) nor NaN (never renewed)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return DEFAULT_LIFETIME
    try:
        seconds = float(value)
    except (ValueError, OverflowError):
        return DEFAULT_LIFETIME
    if not math.isfinite(seconds) or seconds <= 0:
        return DEFAULT_LIFETIME
    return seconds


class TokenKeeper:
    """Hands out a valid bearer token, asking the token endpoint only when it must."""

    def __init__(self, credentials: Credentials, clock: Clock, post: TokenPoster) -> None:
        self._credentials = credentials
        self._clock = clock
        self._post = post
        self._token: AccessToken | None = None
        self.grants_requested = 0

    def secrets(self) -> tuple[str, ...]:
        """The live token strings, so error messages can be scrubbed of them."""
        token = self._token
        if token is None:
            return ()
        return tuple(s for s in (token.access, token.refresh) if s)

    @property
    def token(self) -> AccessToken | None:
        return self._token

    def bearer(self) -> str:
        """A token good for at least REFRESH_MARGIN more seconds."""
        token = self._token
        if token is None or self._clock.now() >= token.expires_at - REFRESH_MARGIN:
            token = self._renew(token)
        return token.access

    def invalidate(self) -> None:
        """Forget the access token (the service said 401) but keep the refresh token."""
        if self._token is not None:
            self._token = AccessToken(access="", expires_at=0.0, refresh=self._token.refresh)

    def authenticate(self) -> None:
        """Get a fresh token with the configured grant now."""
        self._token = self._grant()

    def _renew(self, old: AccessToken | None) -> AccessToken:
        if old is not None and old.refresh:
            try:
                self._token = self._request(
                    [("grant_type", "refresh_token"), ("refresh_token", old.refresh)], []
                )
                log.debug("access token refreshed with the refresh token")
                return self._token
            except AuthError:
                # refresh tokens rotate: one lost answer leaves ours dead; the password still works
                log.info("refresh token refused; signing in again")
        self._token = self._grant()
        return self._token

    def _grant(self) -> AccessToken:
        creds = self._credentials
        grant = creds.grant
        query: list[tuple[str, str]] = []
        if grant is Grant.CLIENT_CREDENTIALS:
            form = [
                ("grant_type", grant.value),
                ("client_id", creds.client_id),
                ("client_secret", creds.client_secret),
            ]
        else:
            form = [
                ("grant_type", grant.value),
                ("username", creds.username),
                ("password", creds.password),
            ]
            if creds.account_token:
                query.append(("account_token", creds.account_token))
        token = self._request(form, query)
        log.debug("signed in with the %s grant", grant.value)
        return token

    def _request(self, form: list[tuple[str, str]], query: list[tuple[str, str]]) -> AccessToken:
        self.grants_requested += 1
        try:
            body = self._post(form, query)
        except ValidationError as exc:  # Doorkeeper answers a bad grant with 400 invalid_grant
            reason = exc.code or exc.message
            raise AuthError(f"sign-in refused: {reason}", status=exc.status) from None
        if not isinstance(body, Mapping) or not isinstance(body.get("access_token"), str):
            raise ProtocolError("the token endpoint's answer has no access token")
        lifetime = _lifetime(body.get("expires_in"))
        refresh = body.get("refresh_token")
        return AccessToken(
            access=body["access_token"],
            expires_at=self._clock.now() + lifetime,
            refresh=refresh if isinstance(refresh, str) and refresh else None,
        )
