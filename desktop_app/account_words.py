"""What a person reads about an account: its name, its region, and why signing in failed."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from desktop_app.accounts import AccountProfile

REGION_NAMES = {"US": "United States", "EU": "Europe", "AU": "Australia"}
DEMO_NAME = "Demo account"


def account_name(profile: AccountProfile) -> str:
    """"ops@acme.example (Europe)", "API client 52f13af1… (United States)", "Demo account":
    the name the person gave it, else the email or client id, and where it lives."""
    if profile.is_demo:
        return DEMO_NAME
    if profile.label:
        return profile.label
    if profile.username:
        who = profile.username
    else:
        short = profile.client_id[:8] + "…" if len(profile.client_id) > 8 else profile.client_id
        who = f"API client {short}"
    return f"{who} ({where(profile)})"


def where(profile: AccountProfile) -> str:
    """The region by its name, or the custom service's host (a local one said as such)."""
    if profile.region in REGION_NAMES:
        return REGION_NAMES[profile.region]
    parts = urlsplit(profile.base_url)
    host = parts.hostname or profile.base_url
    if host in ("127.0.0.1", "localhost", "::1"):
        return "a service on this computer"
    return host


def sign_in_problem(exc: BaseException, *, password: bool) -> str:
    """Why signing in failed, in the person's words, with what to do next (no HTTP codes,
    no class names: the log keeps those)."""
    from desktop_app.api.errors import (
        AuthError,
        ConfigurationError,
        NetworkError,
        ProtocolError,
        RateLimitedError,
        ServerError,
    )
    from desktop_app.credentials import CredentialError

    if isinstance(exc, AuthError):
        if password:
            return ("Wootric did not accept this email and password. Check them (and the "
                    "account token, if you use one) and try again.")
        return ("Wootric did not accept this client ID and secret. Copy both again from "
                "Settings → API in Wootric and try again.")
    if isinstance(exc, ConfigurationError):
        return address_problem(exc)
    if isinstance(exc, NetworkError):
        return ("Wootric could not be reached. Check your internet connection and the region "
                "(or API address), then try again.")
    if isinstance(exc, RateLimitedError):
        return "Wootric is busy with this account's requests. Try again in a minute."
    if isinstance(exc, ServerError):
        return "Wootric's service had a problem. Try again in a few minutes."
    if isinstance(exc, ProtocolError):
        return ("That address answered, but not as Wootric's API does. Check the API address, "
                "for example https://api.wootric.com.")
    if isinstance(exc, CredentialError):
        return str(exc)  # written for people already
    return "Signing in did not work; the app's log has the details. Try again in a moment."


def address_problem(exc: BaseException) -> str:
    """An API address the client refuses, said plainly."""
    text = str(exc)
    if "plain http" in text:
        return ("The API address must start with https:// so your secret travels encrypted "
                "(plain http:// is only for a service on this computer).")
    return "Enter the API address as a web address, for example https://api.wootric.com."
