"""Secrets: the keyring store, the memory fallback, the account profile, and redacted logs."""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import chainer, fail

from desktop_app import accounts, logs
from desktop_app.accounts import AccountProfile, AuthMethod
from tests.conftest import secret_service_keys
from desktop_app.credentials import (
    CredentialError,
    KeyringStore,
    MemoryOnly,
    open_credential_store,
    secure_backend,
)

SECRET = "9f2c" * 16  # 64 hex characters, the shape of a real client secret
PASSWORD = "correct horse battery staple"


# --- a real Secret Service, or a clear skip -----------------------------------------------------

def _secret_tool_lookup(service: str, key: str) -> str | None:
    """What the OS tool (not our code) finds in the Secret Service."""
    tool = shutil.which("secret-tool")
    if tool is None:
        pytest.skip("secret-tool (libsecret-tools) is not installed")
    done = subprocess.run(
        [tool, "lookup", "service", service, "username", key],
        capture_output=True, text=True, timeout=20, check=False,
    )
    return done.stdout if done.returncode == 0 and done.stdout else None


def _files_containing(root: Path, needle: str) -> list[Path]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and needle.encode() in path.read_bytes():
            hits.append(path)
    return hits


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "home"
    monkeypatch.setenv("WOOTRIC_DESK_HOME", str(root))
    for name in (accounts.ENV_CLIENT_ID, accounts.ENV_CLIENT_SECRET, accounts.ENV_API_BASE):
        monkeypatch.delenv(name, raising=False)
    return root


@pytest.fixture
def log_file(home: Path) -> Iterator[Path]:
    setup = logs.setup_logging(home / "logs", level=logging.DEBUG)
    yield setup.path
    logs.shutdown_logging()


def _profile(**overrides: object) -> AccountProfile:
    values: dict[str, object] = dict(
        base_url="https://api.wootric.com", auth_method=AuthMethod.CLIENT_CREDENTIALS,
        client_id="a1" * 32, account_token="NPS-abc123", label="Acme",
    )
    values.update(overrides)
    return AccountProfile(**values)


# --- the real keyring ---------------------------------------------------------------------------

@pytest.mark.keyring
def test_sign_in_keeps_the_secret_in_the_secret_service_only(
    secret_service: KeyringStore, home: Path, log_file: Path
) -> None:
    profile = _profile()
    account = accounts.sign_in(profile, SECRET, secret_service, home)
    logging.getLogger("desktop_app.test").info("signed in %r with %s", account, SECRET)

    assert account.source == "keyring"
    assert secret_service.get(profile.key) == SECRET
    assert _secret_tool_lookup(secret_service.service, profile.key) == SECRET
    assert accounts.load_profile(home) == profile
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert log_file.stat().st_size > 0
    assert _files_containing(home, SECRET) == []  # profile, logs: nowhere on disk
    assert SECRET not in repr(account)

    resolved = accounts.resolve_account(secret_service, home, env={})
    assert resolved is not None and resolved.secret == SECRET and resolved.source == "keyring"

    assert accounts.sign_out(secret_service, home) == profile
    assert secret_service.get(profile.key) is None
    assert _secret_tool_lookup(secret_service.service, profile.key) is None
    assert accounts.load_profile(home) is None
    assert accounts.resolve_account(secret_service, home, env={}) is None


@pytest.mark.keyring
def test_keyring_store_round_trip_and_idempotent_delete(secret_service: KeyringStore) -> None:
    status = secret_service.status()
    assert status.available and "SecretService" in status.backend
    secret_service.set("acct-1", PASSWORD)
    secret_service.set("acct-2", SECRET)
    assert secret_service.get("acct-1") == PASSWORD
    assert secret_service.get("acct-2") == SECRET
    secret_service.delete("acct-1")
    secret_service.delete("acct-1")  # already gone: no error
    assert secret_service.get("acct-1") is None
    assert sorted(secret_service_keys(secret_service.service)) == ["acct-2"]


# --- no keyring: memory only, said plainly ------------------------------------------------------

def test_fail_backend_means_memory_only() -> None:
    store = open_credential_store(backend=fail.Keyring())
    assert isinstance(store, MemoryOnly)
    status = store.status()
    assert not status.available and status.backend == "memory only"
    assert "No system keyring" in status.reason
    store.set("acct-x", SECRET)
    assert store.get("acct-x") == SECRET
    store.delete("acct-x")
    assert store.get("acct-x") is None


# Duck-typed backends: subclassing KeyringBackend would register them with keyring for the
# whole process, and keyring.get_keyring() could then pick one up in another test.
class _PlaintextKeyring:
    """Stands in for keyrings.alt's file store: real-looking, but plaintext."""

    priority = 1

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise AssertionError("a plaintext store must never receive a secret")

    def delete_password(self, service: str, username: str) -> None:
        pass


_PlaintextKeyring.__module__ = "keyrings.alt.file"


def test_plaintext_and_empty_chainer_are_not_a_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    backend, reason = secure_backend(_PlaintextKeyring())
    assert backend is None and "plaintext" in reason
    plaintext = _PlaintextKeyring()
    assert isinstance(open_credential_store(backend=plaintext), MemoryOnly)

    monkeypatch.setattr(chainer.ChainerBackend, "backends", [_PlaintextKeyring(), fail.Keyring()])
    backend, reason = secure_backend(chainer.ChainerBackend())
    assert backend is None and reason


class _LeakyKeyring:
    """A backend whose errors echo the call, secret included (some do)."""

    priority = 5

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError(f"cannot read {service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError(f"Prompt dismissed while storing {password}")

    def delete_password(self, service: str, username: str) -> None:
        raise RuntimeError("nope")


def test_keyring_errors_never_carry_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_credential_store(backend=_LeakyKeyring())
    assert isinstance(store, KeyringStore)
    with pytest.raises(CredentialError) as caught:
        store.set("acct-y", SECRET)
    assert SECRET not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    with pytest.raises(CredentialError):
        store.get("acct-y")


# --- the account profile ------------------------------------------------------------------------

def test_profile_file_is_private_and_holds_no_secret(home: Path) -> None:
    profile = _profile(auth_method=AuthMethod.PASSWORD, client_id="", username="ops@example.com")
    store = MemoryOnly("test")
    account = accounts.sign_in(profile, PASSWORD, store, home)
    path = accounts.profile_path(home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert PASSWORD not in path.read_text()
    assert accounts.load_profile(home) == profile
    assert account.source == "memory"
    creds = account.credentials()
    assert creds.password == PASSWORD and creds.username == "ops@example.com"


def test_account_key_is_stable_and_derived_from_non_secrets() -> None:
    a = accounts.account_key("https://API.wootric.com/", "Client-1")
    assert a == accounts.account_key("https://api.wootric.com", "client-1")
    assert a != accounts.account_key("https://api.wootric.eu", "client-1")
    assert a.startswith("acct-") and len(a) == 29 and "client" not in a
    assert _profile().key == accounts.account_key("https://api.wootric.com", "a1" * 32)
    assert _profile(region="demo").cache_path(Path("/d")) == Path("/d/cache/demo.sqlite3")
    assert _profile().cache_path(Path("/d")).name == f"{_profile().key}.sqlite3"


def test_environment_overrides_the_stored_profile(home: Path) -> None:
    accounts.save_profile(_profile(), home)
    env = {accounts.ENV_CLIENT_ID: "env-client", accounts.ENV_CLIENT_SECRET: SECRET,
           accounts.ENV_API_BASE: "http://127.0.0.1:9/"}
    account = accounts.resolve_account(MemoryOnly(), home, env)
    assert account is not None and account.source == "env" and account.secret == SECRET
    assert account.profile.client_id == "env-client"
    assert account.profile.base_url == "http://127.0.0.1:9"
    # stored profile without a secret in the store: not usable
    assert accounts.resolve_account(MemoryOnly(), home, env={}) is None


def test_unreadable_profile_is_ignored(home: Path) -> None:
    home.mkdir(parents=True)
    accounts.profile_path(home).write_text("{not json")
    assert accounts.load_profile(home) is None
    with pytest.raises(ValueError):
        accounts.normalize_base_url("api.wootric.com")


# --- redacted logs and the error sink -----------------------------------------------------------

@pytest.mark.parametrize(
    "text",
    [
        f"token {SECRET} expired",
        "POST /oauth/token?access_token=abc.def-123 failed",
        "body grant_type=client_credentials&client_id=x&client_secret=s3cr3tValue",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
        '{"refresh_token": "r-12345678", "scope": "public"}',
        "password=hunter2hunter2",
    ],
)
def test_redaction_removes_secret_shapes(text: str) -> None:
    out = logs.redact(text)
    for secret in (SECRET, "abc.def-123", "s3cr3tValue", "eyJhbGciOiJIUzI1NiJ9", "r-12345678", "hunter2"):
        assert secret not in out
    assert logs.REDACTED in out


def test_log_file_is_redacted_including_tracebacks(log_file: Path) -> None:
    logs.register_secrets([PASSWORD])
    logger = logging.getLogger("desktop_app.sync.fake")
    logger.info("pulled with %s", f"access_token={SECRET}")
    try:
        raise ValueError(f"auth failed for {PASSWORD}")
    except ValueError:
        logger.exception("push failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_file.read_text()
    assert "pulled with access_token=[redacted]" in text
    assert "ValueError: auth failed for [redacted]" in text
    assert SECRET not in text and PASSWORD not in text
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    entries = logs.read_log_tail(log_file)
    assert [e.level for e in entries][-2:] == [logging.INFO, logging.ERROR]
    assert "Traceback" in entries[-1].text  # continuation lines stay with their record


def test_error_sink_catches_thread_exceptions_and_stays_quiet_on_cancel(log_file: Path) -> None:
    sink = logs.ErrorSink()
    seen: list[logs.ErrorReport] = []
    sink.subscribe(seen.append)
    uninstall = sink.install()
    try:
        def boom() -> None:
            raise ConnectionError(f"reset while sending client_secret={SECRET}")

        def cancelled() -> None:
            class CancelledError(Exception):
                pass

            raise CancelledError("user pressed cancel")

        for target in (boom, cancelled):
            worker = threading.Thread(target=target, name=f"worker-{target.__name__}")
            worker.start()
            worker.join(10)
    finally:
        uninstall()
    assert len(seen) == 1
    report = seen[0]
    assert report.context == "worker-boom"
    assert report.title == "A file or network operation failed"
    assert SECRET not in report.message and SECRET not in report.details
    assert "ConnectionError" in report.details
    assert threading.excepthook is not None and sink.reports() == [report]


@pytest.mark.parametrize("name", [accounts.ENV_CLIENT_ID, accounts.ENV_CLIENT_SECRET, accounts.ENV_API_BASE])
def test_an_environment_account_with_bytes_that_are_not_utf8_is_named_not_a_codec_error(name: str) -> None:
    from desktop_app.logs import describe_exception

    env = {accounts.ENV_CLIENT_ID: "id", accounts.ENV_CLIENT_SECRET: "s3cret-value",
           accounts.ENV_API_BASE: "http://127.0.0.1:9"}
    env[name] = os.fsdecode(b"s3cret-\xff")
    with pytest.raises(ValueError) as raised:
        accounts.account_from_env(env)
    title, message = describe_exception(raised.value)  # what the window's notice shows
    assert title == "The connection settings are not valid"
    assert message == f"{name} is not valid text: it holds a byte that is not UTF-8."
