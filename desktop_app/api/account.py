"""Where and as whom the client talks: credentials, regional hosts, base-URL safety checks."""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from desktop_app.api.errors import ConfigurationError

# The US host is documented. The EU and AU hosts of the REST API are NOT confirmed by any primary
# source (only a machine-generated OpenAPI file names them); keep the base URL editable.
REGIONS: dict[str, str] = {
    "US": "https://api.wootric.com",
    "EU": "https://api.eu.wootric.com",
    "AU": "https://api.au.wootric.com",
}
UNCONFIRMED_REGIONS: frozenset[str] = frozenset({"EU", "AU"})


class Grant(enum.StrEnum):
    """The OAuth2 grant a set of credentials uses."""

    CLIENT_CREDENTIALS = "client_credentials"
    PASSWORD = "password"


@dataclass(frozen=True, slots=True)
class Credentials:
    """What the client needs to get a token. `repr` never shows the secret or the password."""

    base_url: str
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    username: str = ""
    password: str = field(default="", repr=False)
    account_token: str = ""  # picks one account for users with several (password grant)

    @property
    def grant(self) -> Grant:
        """Client credentials when both halves are set, else the password grant."""
        if self.client_id and self.client_secret:
            return Grant.CLIENT_CREDENTIALS
        if self.username and self.password:
            return Grant.PASSWORD
        raise ConfigurationError(
            "no usable credentials: give a client id and secret, or a username and password"
        )

    def secrets(self) -> tuple[str, ...]:
        """The values that must never appear in a message or a log line."""
        return tuple(s for s in (self.client_secret, self.password) if s)


def is_loopback_host(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1: the only places plain http:// may go."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """The base URL without a trailing slash; refuses anything but https, or http on loopback."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if scheme not in ("https", "http") or not host:
        raise ConfigurationError(f"not an http(s) URL: {parts.scheme or '(no scheme)'}://{host}")
    if scheme == "http" and not is_loopback_host(host):
        raise ConfigurationError(
            f"refusing plain http:// to {host}: credentials would travel unencrypted; "
            "use https:// (plain http is allowed only for localhost/127.0.0.1/::1)"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigurationError("the base URL must not carry a query, fragment or user info")
    return f"{scheme}://{parts.netloc.lower()}{parts.path.rstrip('/')}"
