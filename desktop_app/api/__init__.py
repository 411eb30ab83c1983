"""The Wootric REST API v1 client: typed errors, token handling, rate limits, the updated walk.

Names are imported on first use: the errors and credentials do not need httpx (0.15 s).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from desktop_app.lazy import lazy_exports

if TYPE_CHECKING:
    from desktop_app.api.account import REGIONS, UNCONFIRMED_REGIONS, Credentials, Grant, check_base_url
    from desktop_app.api.client import WootricClient
    from desktop_app.api.errors import (
        AuthError,
        ConfigurationError,
        NetworkError,
        NotFoundError,
        ProtocolError,
        RateLimitedError,
        ServerError,
        ValidationError,
        WaitInterrupted,
        WootricError,
    )
    from desktop_app.api.throttle import RateLimitWait, WaitReason
    from desktop_app.api.walk import UnreachableCell, UpdatedWalk, WalkDimension, WalkPage, WalkStats
    from desktop_app.api.wire import UNSET, Unset

_HOMES = {
    "REGIONS": "account",
    "UNCONFIRMED_REGIONS": "account",
    "Credentials": "account",
    "Grant": "account",
    "check_base_url": "account",
    "WootricClient": "client",
    "AuthError": "errors",
    "ConfigurationError": "errors",
    "NetworkError": "errors",
    "NotFoundError": "errors",
    "ProtocolError": "errors",
    "RateLimitedError": "errors",
    "ServerError": "errors",
    "ValidationError": "errors",
    "WaitInterrupted": "errors",
    "WootricError": "errors",
    "RateLimitWait": "throttle",
    "WaitReason": "throttle",
    "UnreachableCell": "walk",
    "UpdatedWalk": "walk",
    "WalkDimension": "walk",
    "WalkPage": "walk",
    "WalkStats": "walk",
    "UNSET": "wire",
    "Unset": "wire",
}

__all__ = sorted(_HOMES)
__getattr__ = lazy_exports(__name__, _HOMES)
