"""The emulator's OAuth2 token endpoint and bearer-token checks (Doorkeeper-like).

Grants: `client_credentials` (no refresh token), `password` (+ optional `?account_token=`) and
`refresh_token` (a new access token and a new refresh token; the used one is revoked). Access
tokens live 7200 s by the emulator clock. Failures use Doorkeeper's shape:
401 `{"error": "invalid_grant", "error_description": ...}` for bad credentials,
400 `{"error": "unsupported_grant_type", ...}` and 400 `{"error": "invalid_request", ...}`.
"""

from __future__ import annotations

import enum
import hmac
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from desktop_app.clock import Clock

TOKEN_LIFETIME = 7200
# Local-emulator credentials: printed at start on purpose, never valid anywhere else.
DEFAULT_CLIENT_ID = "52f13af1d2f025af613b07717d85b781c6aab211f60b1e3ff8bd06c9a8360567"
DEFAULT_CLIENT_SECRET = "e511b2aab13b117eed5f1037e4a04e271fa61395d1a41403a9013881b393d541"
DEFAULT_USERNAME = "demo@wootric-desk.example"
DEFAULT_PASSWORD = "demo-password"
DEFAULT_ACCOUNT_TOKEN = "NPS-d3m0a1b2"
_PRUNE_AT = 10_000


class GrantType(enum.StrEnum):
    """The OAuth grants the token endpoint understands."""

    CLIENT_CREDENTIALS = "client_credentials"
    PASSWORD = "password"
    REFRESH_TOKEN = "refresh_token"


class TokenState(enum.Enum):
    """What a presented access token turned out to be."""

    VALID = "valid"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class TokenReply:
    """The token endpoint's answer: an HTTP status and a JSON document."""

    status: int
    document: dict[str, Any]


@dataclass(slots=True)
class _AccessToken:
    expires_at: float


def _denied(description: str) -> TokenReply:
    return TokenReply(401, {"error": "invalid_grant", "error_description": description})


def _same(given: object, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


class TokenIssuer:
    """Issues and checks tokens for the emulator's single account."""

    def __init__(
        self,
        clock: Clock,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        account_token: str = DEFAULT_ACCOUNT_TOKEN,
    ) -> None:
        self._clock = clock
        self._client_id = client_id
        self._client_secret = client_secret
        self._username = username
        self._password = password
        self._account_token = account_token
        self._access: dict[str, _AccessToken] = {}
        self._refresh: set[str] = set()
        self._lock = threading.Lock()
        self.issued = 0  # how many access tokens were handed out (tests count re-auths)

    def grant(self, params: Mapping[str, Any], basic: tuple[str, str] | None = None) -> TokenReply:
        """Answer a `POST /oauth/token` with already merged parameters."""
        grant_type = params.get("grant_type")
        if not grant_type:
            return TokenReply(400, {"error": "invalid_request",
                                    "error_description": "The request is missing grant_type."})
        if grant_type == GrantType.CLIENT_CREDENTIALS:
            client_id, secret = basic or (params.get("client_id"), params.get("client_secret"))
            if not (_same(client_id, self._client_id) and _same(secret, self._client_secret)):
                return _denied("Client authentication failed: unknown client or wrong secret.")
            return self._issue(with_refresh=False)
        if grant_type == GrantType.PASSWORD:
            if not (_same(params.get("username"), self._username)
                    and _same(params.get("password"), self._password)):
                return _denied("The provided username or password is not valid.")
            account = params.get("account_token")
            if account not in (None, "") and not _same(account, self._account_token):
                return _denied("The user has no account with that account_token.")
            return self._issue(with_refresh=True)
        if grant_type == GrantType.REFRESH_TOKEN:
            presented = params.get("refresh_token")
            with self._lock:
                known = isinstance(presented, str) and presented in self._refresh
                if known:
                    self._refresh.discard(presented)  # rotation: a refresh token works once
            if not known:
                return _denied("The refresh token is invalid, revoked or already used.")
            return self._issue(with_refresh=True)
        return TokenReply(400, {
            "error": "unsupported_grant_type",
            "error_description": "The authorization grant type is not supported.",
        })

    def _issue(self, *, with_refresh: bool) -> TokenReply:
        now = self._clock.now()
        access = secrets.token_hex(32)
        document: dict[str, Any] = {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": TOKEN_LIFETIME,
            "scope": "public",
            "created_at": int(now),
        }
        with self._lock:
            if len(self._access) >= _PRUNE_AT:  # a long soak: forget long-expired tokens
                stale = now - TOKEN_LIFETIME
                self._access = {t: e for t, e in self._access.items() if e.expires_at > stale}
            self._access[access] = _AccessToken(expires_at=now + TOKEN_LIFETIME)
            self.issued += 1
            if with_refresh:
                refresh = secrets.token_hex(32)
                self._refresh.add(refresh)
                document["refresh_token"] = refresh
        return TokenReply(200, document)

    def check(self, token: str | None) -> TokenState:
        """Whether a bearer token may be used right now."""
        if not token:
            return TokenState.UNKNOWN
        with self._lock:
            entry = self._access.get(token)
        if entry is None:
            return TokenState.UNKNOWN
        if self._clock.now() >= entry.expires_at:
            return TokenState.EXPIRED
        return TokenState.VALID

    def expire_all(self) -> None:
        """Expire every access token now; refresh tokens stay usable."""
        now = self._clock.now()
        with self._lock:
            for entry in self._access.values():
                entry.expires_at = min(entry.expires_at, now)
