"""The Wootric REST API v1 client: typed errors, token handling, rate limits, the updated walk."""

from __future__ import annotations

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
    WootricError,
)
from desktop_app.api.throttle import RateLimitWait, WaitReason
from desktop_app.api.walk import UnreachableCell, UpdatedWalk, WalkDimension, WalkPage, WalkStats
from desktop_app.api.wire import UNSET, Unset, encode_form

__all__ = [
    "REGIONS",
    "UNCONFIRMED_REGIONS",
    "UNSET",
    "AuthError",
    "ConfigurationError",
    "Credentials",
    "Grant",
    "NetworkError",
    "NotFoundError",
    "ProtocolError",
    "RateLimitWait",
    "RateLimitedError",
    "ServerError",
    "UnreachableCell",
    "Unset",
    "UpdatedWalk",
    "ValidationError",
    "WaitReason",
    "WalkDimension",
    "WalkPage",
    "WalkStats",
    "WootricClient",
    "WootricError",
    "check_base_url",
    "encode_form",
]
