"""Secrets (client secret or password) behind a tiny protocol: the OS keyring or memory, never a file."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from desktop_app import APP_ID
from desktop_app.user_errors import ErrorKind, UserFacingError

if TYPE_CHECKING:  # keyring is imported on first use: it costs 0.3 s, off the first paint's path
    import keyring.backend

log = logging.getLogger(__name__)

SERVICE_NAME = APP_ID  # the "service" attribute every secret of this app carries in the keyring

# Backends that are not a real OS keyring: they either refuse everything or keep plaintext files.
_NOT_SECURE_MODULES = ("keyrings.alt", "keyring.backends.null", "keyring.backends.fail")

NO_KEYRING_NOTICE = "No system keyring found: your secret will be kept in memory until you quit."


@dataclass(frozen=True, slots=True)
class KeyringStatus:
    """Whether secrets can be kept in a real OS keyring, which one, and why not if not."""

    available: bool
    backend: str
    reason: str
    locked: bool = False  # available, but the OS will ask the person to unlock it first


class CredentialError(UserFacingError):
    """The secret store refused an operation. The message never contains the secret."""

    title = headline = "The system keyring reported a problem"
    kind = ErrorKind.SIGN_IN


class CredentialStore(Protocol):
    """Where an account's secret lives, keyed by a non-secret account key."""

    def get(self, account_key: str) -> str | None: ...

    def set(self, account_key: str, secret: str) -> None: ...

    def delete(self, account_key: str) -> None: ...

    def status(self) -> KeyringStatus: ...


def _backend_name(backend: keyring.backend.KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__name__}"


def _is_secure(backend: keyring.backend.KeyringBackend) -> bool:
    from keyring.backends import chainer, fail

    module = type(backend).__module__
    if any(module == m or module.startswith(m + ".") for m in _NOT_SECURE_MODULES):
        return False
    if isinstance(backend, (fail.Keyring, chainer.ChainerBackend)):
        return False
    try:
        return float(backend.priority) > 0
    except Exception:  # noqa: BLE001 - a backend whose priority probe fails is not usable
        return False


def secure_backend(
    backend: keyring.backend.KeyringBackend | None = None,
) -> tuple[keyring.backend.KeyringBackend | None, str]:
    """The real keyring backend to use (unwrapping a chainer), or None and the reason why not."""
    import keyring
    from keyring.backends import chainer

    if backend is None:
        try:
            backend = keyring.get_keyring()
        except Exception as exc:  # noqa: BLE001 - a broken keyring install is "no keyring"
            log.info("the keyring library could not start: %s", type(exc).__name__)
            return None, "The keyring library could not start."
    if isinstance(backend, chainer.ChainerBackend):
        candidates = list(backend.backends)
    else:
        candidates = [backend]
    for candidate in candidates:
        if _is_secure(candidate):
            return candidate, ""
    names = ", ".join(_backend_name(b) for b in candidates) or "none"
    log.info("no usable keyring among: %s", names)  # class names are for the log, not people
    if any(type(b).__module__.startswith("keyrings.alt") for b in candidates):
        return None, "Only a plaintext keyring is installed; it is not used for secrets."
    return None, ("No system keyring (GNOME Keyring or KWallet, macOS Keychain, Windows "
                  "Credential Manager) is reachable.")


def _secret_service_locked(backend: keyring.backend.KeyringBackend) -> bool | None:
    """Whether the default Secret Service collection is locked, without asking to unlock it."""
    if not type(backend).__module__.endswith("SecretService"):
        return None
    try:
        import secretstorage  # only present where the Secret Service backend is

        connection = secretstorage.dbus_init()
        try:
            return bool(secretstorage.get_default_collection(connection).is_locked())
        finally:
            connection.close()
    except Exception:  # noqa: BLE001 - can't tell: let the first real operation say
        return None


def _plain(message: str, exc: BaseException) -> str:
    """A keyring failure for people; the backend's exception class goes to the log only."""
    log.info("%s (%s)", message, type(exc).__name__)
    return message + " Try again; if it keeps failing, check that your desktop's keyring runs."


class KeyringStore:
    """Secrets in the OS keyring (Secret Service, Keychain, Credential Locker)."""

    def __init__(
        self, backend: keyring.backend.KeyringBackend, service: str = SERVICE_NAME
    ) -> None:
        self._backend = backend
        self._service = service

    @property
    def service(self) -> str:
        return self._service

    def get(self, account_key: str) -> str | None:
        import keyring.errors

        try:
            return self._backend.get_password(self._service, account_key)
        except keyring.errors.KeyringLocked:
            raise CredentialError("The system keyring is locked; unlock it and try again.") from None
        except Exception as exc:  # noqa: BLE001 - any backend failure becomes one plain error
            raise CredentialError(_plain("The system keyring could not be read.", exc)) from None

    def set(self, account_key: str, secret: str) -> None:
        import keyring.errors

        try:
            self._backend.set_password(self._service, account_key, secret)
        except keyring.errors.KeyringLocked:
            raise CredentialError("The system keyring is locked; unlock it and try again.") from None
        except Exception as exc:  # noqa: BLE001 - the message of some backends echoes the call
            raise CredentialError(
                _plain("The system keyring refused to store the secret.", exc)
            ) from None
        log.info("secret stored in the system keyring for account %s", account_key)

    def delete(self, account_key: str) -> None:
        import keyring.errors

        try:
            self._backend.delete_password(self._service, account_key)
        except keyring.errors.PasswordDeleteError:
            return  # nothing stored: deleting is idempotent
        except Exception as exc:  # noqa: BLE001 - any backend failure becomes one plain error
            raise CredentialError(
                _plain("The system keyring could not remove the secret.", exc)
            ) from None
        log.info("secret removed from the system keyring for account %s", account_key)

    def status(self) -> KeyringStatus:
        name = _backend_name(self._backend)
        locked = _secret_service_locked(self._backend)
        if locked:
            return KeyringStatus(
                True, name, "The system keyring is locked; it will ask you to unlock it.", locked=True
            )
        return KeyringStatus(True, name, "")


class MemoryOnly:
    """Secrets held in this process only, lost at exit: what we do when no keyring exists."""

    def __init__(self, reason: str = "No system keyring is available.") -> None:
        self._reason = reason
        self._secrets: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, account_key: str) -> str | None:
        with self._lock:
            return self._secrets.get(account_key)

    def set(self, account_key: str, secret: str) -> None:
        with self._lock:
            self._secrets[account_key] = secret
        log.warning("no system keyring: secret for account %s kept in memory only", account_key)

    def delete(self, account_key: str) -> None:
        with self._lock:
            self._secrets.pop(account_key, None)

    def status(self) -> KeyringStatus:
        return KeyringStatus(False, "memory only", self._reason)


def open_credential_store(
    service: str = SERVICE_NAME, backend: keyring.backend.KeyringBackend | None = None
) -> KeyringStore | MemoryOnly:
    """The OS keyring when a real one is reachable, else a MemoryOnly store saying why."""
    chosen, reason = secure_backend(backend)
    if chosen is None:
        log.warning("no usable system keyring: %s", reason)
        return MemoryOnly(reason)
    log.info("using keyring backend %s", _backend_name(chosen))
    return KeyringStore(chosen, service)
