"""The non-secret account profile (region, client id or username, account token) and where it lives."""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.broken_text import has_broken_text
from desktop_app.credentials import CredentialError, CredentialStore
from desktop_app.private_dirs import make_private_dirs

if TYPE_CHECKING:
    from desktop_app.api.account import Credentials

log = logging.getLogger(__name__)

PROFILE_FILE = "account.json"
PROFILE_VERSION = 1

ENV_CLIENT_ID = "WOOTRIC_CLIENT_ID"
ENV_CLIENT_SECRET = "WOOTRIC_CLIENT_SECRET"
ENV_API_BASE = "WOOTRIC_API_BASE"
ENV_HOME = "WOOTRIC_DESK_HOME"


def regions() -> dict[str, str]:
    """Region code ("US", "EU", "AU") -> API base URL, as the API client knows them."""
    from desktop_app.api.account import REGIONS  # the client owns the authoritative table

    return dict(REGIONS)


class AuthMethod(enum.StrEnum):
    """Which OAuth grant the account signs in with."""

    CLIENT_CREDENTIALS = "client_credentials"  # client id + client secret (Settings -> API)
    PASSWORD = "password"  # account email + password (+ account token to pick an account)


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """The app's data directory: WOOTRIC_DESK_HOME, else the platform's per-user directory."""
    from desktop_app.cache.schema.paths import default_data_dir  # the cache owns the layout

    return default_data_dir(env)


def normalize_base_url(url: str) -> str:
    """`https://API.wootric.com/` -> `https://api.wootric.com`.

    Raises ValueError for anything but https (plain http only to loopback, as the client).
    """
    from desktop_app.api.account import check_base_url

    return check_base_url(url)


def account_key(base_url: str, identity: str) -> str:
    """A stable, non-secret key for an account: a hash of base URL and client id / username."""
    digest = hashlib.sha256(f"{normalize_base_url(base_url)}\n{identity.strip().lower()}".encode())
    # 24 hex digits: unique enough, and never mistaken for a 64-hex token by the log redactor.
    return "acct-" + digest.hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class AccountProfile:
    """Everything about an account except its secret; safe to persist and to log."""

    base_url: str
    auth_method: AuthMethod
    client_id: str = ""
    username: str = ""
    account_token: str = ""
    label: str = ""
    region: str = "custom"  # a key of regions() ("US", "EU", "AU"), "custom" or "demo"

    @property
    def identity(self) -> str:
        return self.client_id if self.auth_method is AuthMethod.CLIENT_CREDENTIALS else self.username

    @property
    def key(self) -> str:
        # The demo service listens on a new port each run: one stable key for its secret.
        return "acct-demo" if self.is_demo else account_key(self.base_url, self.identity)

    @property
    def is_demo(self) -> bool:
        return self.region == "demo"

    @property
    def display_name(self) -> str:
        """As people know it: "ops@acme.example (Europe)", "Demo account" (see account_words)."""
        from desktop_app.account_words import account_name

        return account_name(self)

    def cache_path(self, root: Path | None = None) -> Path:
        """This account's own cache database; the demo never shares one with a real account."""
        from desktop_app.cache.schema.paths import account_db_path

        return account_db_path(data_dir() if root is None else root, "demo" if self.is_demo else self.key)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = asdict(self)
        out["auth_method"] = self.auth_method.value
        out["version"] = PROFILE_VERSION
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> AccountProfile:
        return cls(
            base_url=normalize_base_url(str(data["base_url"])),
            auth_method=AuthMethod(str(data.get("auth_method", AuthMethod.CLIENT_CREDENTIALS))),
            client_id=str(data.get("client_id", "")),
            username=str(data.get("username", "")),
            account_token=str(data.get("account_token", "")),
            label=str(data.get("label", "")),
            region=str(data.get("region", "custom")),
        )


@dataclass(frozen=True, slots=True)
class SignedInAccount:
    """A profile with its secret, ready to build API credentials. `source` says where it came from."""

    profile: AccountProfile
    secret: str
    source: str  # "env", "keyring", "memory"

    def __repr__(self) -> str:  # never show the secret, even in a traceback's locals
        return f"SignedInAccount(profile={self.profile!r}, source={self.source!r}, secret=<hidden>)"

    def credentials(self) -> Credentials:
        """The API client's `Credentials` for this account."""
        from desktop_app.api.account import Credentials

        p = self.profile
        password_grant = p.auth_method is AuthMethod.PASSWORD
        return Credentials(
            base_url=p.base_url,
            client_id="" if password_grant else p.client_id,
            client_secret="" if password_grant else self.secret,
            username=p.username if password_grant else "",
            password=self.secret if password_grant else "",
            account_token=p.account_token,
        )


def profile_path(root: Path | None = None) -> Path:
    return (data_dir() if root is None else root) / PROFILE_FILE


def load_profile(root: Path | None = None) -> AccountProfile | None:
    """The stored profile, or None when there is none or it cannot be read (logged)."""
    path = profile_path(root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return AccountProfile.from_json(data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring unreadable account profile %s: %s", path, type(exc).__name__)
        return None


def save_profile(profile: AccountProfile, root: Path | None = None) -> Path:
    """Write the profile atomically, user-only (0600). Holds no secret by construction."""
    path = profile_path(root)
    make_private_dirs(path.parent)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(profile.to_json(), fh, indent=2, sort_keys=True)
    os.chmod(tmp, 0o600)  # O_CREAT's mode is masked by umask, and an old tmp may exist
    os.replace(tmp, path)
    return path


def delete_profile(root: Path | None = None) -> None:
    profile_path(root).unlink(missing_ok=True)


def account_from_env(env: Mapping[str, str] | None = None) -> SignedInAccount | None:
    """WOOTRIC_CLIENT_ID + WOOTRIC_CLIENT_SECRET (+ WOOTRIC_API_BASE): automation's account."""
    env = os.environ if env is None else env
    for name in (ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_API_BASE):
        if has_broken_text(env.get(name, "")):
            from desktop_app.api.errors import ConfigurationError

            # the value is never quoted: it may be the secret
            raise ConfigurationError(f"{name} is not valid text: it holds a byte that is not UTF-8.")
    client_id = env.get(ENV_CLIENT_ID, "").strip()
    secret = env.get(ENV_CLIENT_SECRET, "")
    if not client_id or not secret:
        return None
    base = env.get(ENV_API_BASE, "").strip() or regions()["US"]
    profile = AccountProfile(
        base_url=normalize_base_url(base),
        auth_method=AuthMethod.CLIENT_CREDENTIALS,
        client_id=client_id,
        label="From environment",
        region="custom",
    )
    return SignedInAccount(profile, secret, "env")


def resolve_account(
    store: CredentialStore, root: Path | None = None, env: Mapping[str, str] | None = None
) -> SignedInAccount | None:
    """The account to use: the environment first, then the stored profile with its secret."""
    from_env = account_from_env(env)
    if from_env is not None:
        return from_env
    profile = load_profile(root)
    if profile is None:
        return None
    return stored_account(profile, store)[0]


def stored_account(profile: AccountProfile, store: CredentialStore) -> tuple[SignedInAccount | None, str]:
    """The profile with its secret from the store, or None and why not (never the secret)."""
    try:
        secret = store.get(profile.key)
    except CredentialError as exc:
        log.warning("could not read the secret for %s: %s", profile.key, exc)
        return None, str(exc)
    status = store.status()
    if not secret:
        return None, status.reason or "the secret is not in the keyring"
    return SignedInAccount(profile, secret, "keyring" if status.available else "memory"), ""


def sign_in(
    profile: AccountProfile, secret: str, store: CredentialStore, root: Path | None = None
) -> SignedInAccount:
    """Remember a verified account: the secret to the store, the rest to the profile file."""
    store.set(profile.key, secret)
    save_profile(profile, root)
    source = "keyring" if store.status().available else "memory"
    return SignedInAccount(profile, secret, source)


def sign_out(store: CredentialStore, root: Path | None = None) -> AccountProfile | None:
    """Forget the stored account: its secret leaves the keyring, its profile file is removed."""
    profile = load_profile(root)
    if profile is not None:
        store.delete(profile.key)
    delete_profile(root)
    return profile
