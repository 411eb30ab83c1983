"""The sign-in dialog against the real emulator, with the real keyring or memory only."""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from desktop_app import accounts, logs
from desktop_app.accounts import AuthMethod
from desktop_app.api.client import WootricClient
from desktop_app.credentials import KeyringStore, MemoryOnly
from desktop_app.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from desktop_app.ui.sign_in import SignInDialog, SignInOutcome
from desktop_app.ui.tasks import TaskRunner
from desktop_app.ui.operations import Operations


def _fast_client(credentials: object) -> WootricClient:
    return WootricClient(credentials, max_attempts=1, timeout=5.0)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator(port=0, users=5, seed=7).start()
    yield emu
    emu.stop()




@pytest.fixture
def log_file(isolated_settings: Path) -> Iterator[Path]:
    setup = logs.setup_logging(isolated_settings / "logs", level=logging.DEBUG)
    yield setup.path
    logs.shutdown_logging()


def _dialog(qtbot: QtBot, store: object, tasks: TaskRunner, root: Path) -> SignInDialog:
    dialog = SignInDialog(store, Operations(tasks), _fast_client, data_dir=root)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _choose_custom(dialog: SignInDialog, url: str) -> None:
    dialog.region.setCurrentIndex(dialog.region.findData("custom"))
    dialog.base_url.setText(url)


def _grep(roots: list[Path], needle: str) -> list[Path]:
    hits = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and needle.encode() in path.read_bytes():
                hits.append(path)
    return hits


@pytest.mark.keyring
def test_sign_in_stores_the_secret_in_the_secret_service_only(
    qtbot: QtBot, tasks: TaskRunner, emulator: Emulator, secret_service: KeyringStore,
    isolated_settings: Path, log_file: Path, tmp_path: Path,
) -> None:
    dialog = _dialog(qtbot, secret_service, tasks, isolated_settings)
    assert "system keyring" in dialog.keyring_notice.text()
    _choose_custom(dialog, emulator.base_url)
    qtbot.keyClicks(dialog.client_id, DEFAULT_CLIENT_ID)
    qtbot.keyClicks(dialog.client_secret, DEFAULT_CLIENT_SECRET)
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        qtbot.keyClick(dialog.client_secret, Qt.Key.Key_Return)  # Enter signs in

    result = dialog.result_value
    assert result is not None and result.outcome is SignInOutcome.SIGNED_IN and result.account
    profile = result.account.profile
    assert profile.auth_method is AuthMethod.CLIENT_CREDENTIALS and profile.base_url == emulator.base_url
    assert result.account.source == "keyring"
    assert dialog.client_secret.text() == ""  # not left lying in a widget

    # In the Secret Service, as the OS tool sees it ...
    tool = shutil.which("secret-tool")
    assert tool is not None
    found = subprocess.run([tool, "lookup", "service", secret_service.service, "username", profile.key],
                           capture_output=True, text=True, timeout=20, check=False)
    assert found.stdout == DEFAULT_CLIENT_SECRET
    # ... and nowhere on disk: data dir (profile), QSettings, log file.
    QSettings().setValue("probe", "written")  # make sure the settings file exists to be searched
    QSettings().sync()
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert log_file.stat().st_size > 0 and accounts.profile_path(isolated_settings).exists()
    assert _grep([isolated_settings, tmp_path / "qsettings"], DEFAULT_CLIENT_SECRET) == []

    # The app's next start finds the account; sign-out takes the secret out of the keyring.
    again = accounts.resolve_account(secret_service, isolated_settings, env={})
    assert again is not None and again.secret == DEFAULT_CLIENT_SECRET
    accounts.sign_out(secret_service, isolated_settings)
    gone = subprocess.run([tool, "lookup", "service", secret_service.service, "username", profile.key],
                          capture_output=True, text=True, timeout=20, check=False)
    assert gone.stdout == "" and secret_service.get(profile.key) is None


def test_wrong_secret_shows_the_service_error_and_stores_nothing(
    qtbot: QtBot, tasks: TaskRunner, emulator: Emulator, isolated_settings: Path
) -> None:
    store = MemoryOnly("test")
    dialog = _dialog(qtbot, store, tasks, isolated_settings)
    _choose_custom(dialog, emulator.base_url + "/")
    dialog.client_id.setText(DEFAULT_CLIENT_ID)
    wrong = "0" * 64
    dialog.client_secret.setText(wrong)
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=10_000)
    text = dialog.error_label.text()
    assert text == ("Wootric did not accept this client ID and secret. Copy both again from "
                    "Settings → API in Wootric and try again.")
    assert wrong not in text and DEFAULT_CLIENT_SECRET not in text
    assert dialog.isVisible() and dialog.result_value is None
    assert dialog.client_id.isEnabled() and dialog.sign_in_button.isEnabled()
    assert accounts.load_profile(isolated_settings) is None
    assert store.get(accounts.account_key(emulator.base_url, DEFAULT_CLIENT_ID)) is None


def test_unreachable_service_is_said_plainly(
    qtbot: QtBot, tasks: TaskRunner, emulator: Emulator, isolated_settings: Path
) -> None:
    emulator.faults.offline()
    dialog = _dialog(qtbot, MemoryOnly("test"), tasks, isolated_settings)
    _choose_custom(dialog, emulator.base_url)
    dialog.client_id.setText(DEFAULT_CLIENT_ID)
    dialog.client_secret.setText(DEFAULT_CLIENT_SECRET)
    dialog.submit()
    assert not dialog.client_id.isEnabled() and dialog.busy.isVisible()  # checking, not frozen
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=15_000)
    assert dialog.error_label.text().startswith("Wootric could not be reached. Check your internet")


def test_without_keyring_the_dialog_says_memory_only_before_saving(
    qtbot: QtBot, tasks: TaskRunner, emulator: Emulator, isolated_settings: Path
) -> None:
    store = MemoryOnly("No system keyring (test).")
    dialog = _dialog(qtbot, store, tasks, isolated_settings)
    assert dialog.keyring_notice.text() == (
        "No system keyring found: your secret will be kept in memory until you quit.")
    assert dialog.keyring_notice.isVisible()
    dialog.use_password.setChecked(True)
    assert dialog.username.isVisible() and not dialog.client_id.isVisible()
    dialog.use_client.setChecked(True)
    _choose_custom(dialog, emulator.base_url)
    dialog.client_id.setText(DEFAULT_CLIENT_ID)
    dialog.client_secret.setText(DEFAULT_CLIENT_SECRET)
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        dialog.sign_in_button.click()
    account = dialog.result_value.account
    assert account is not None and account.source == "memory"
    assert store.get(account.profile.key) == DEFAULT_CLIENT_SECRET
    assert _grep([isolated_settings], DEFAULT_CLIENT_SECRET) == []


def test_missing_fields_and_plain_http_are_refused_before_any_request(
    qtbot: QtBot, tasks: TaskRunner, isolated_settings: Path
) -> None:
    dialog = _dialog(qtbot, MemoryOnly(), tasks, isolated_settings)
    dialog.submit()
    assert dialog.error_label.text() == "Enter the client ID from Settings → API in Wootric."
    dialog.client_id.setText("abc")
    dialog.submit()
    assert dialog.error_label.text() == "Enter the client secret."
    _choose_custom(dialog, "http://api.example.com")
    dialog.client_secret.setText("s")
    dialog.submit()
    assert dialog.error_label.text() == (
        "The API address must start with https:// so your secret travels encrypted "
        "(plain http:// is only for a service on this computer).")
    assert not dialog.busy_checking and tasks.pending_count() == 0


def test_errors_are_in_the_persons_words_and_go_with_the_fields(
    qtbot: QtBot, tasks: TaskRunner, emulator: Emulator, isolated_settings: Path
) -> None:
    """No "(no scheme)://", no HTTP status, no class names; another region drops the error."""
    dialog = _dialog(qtbot, MemoryOnly(), tasks, isolated_settings)
    _choose_custom(dialog, "api.wootric.com")  # no scheme, as people type it
    dialog.client_id.setText("abc")
    dialog.client_secret.setText("s")
    dialog.submit()
    assert dialog.error_label.text() == (
        "Enter the API address as a web address, for example https://api.wootric.com.")
    dialog.region.setCurrentIndex(dialog.region.findData("US"))  # the address no longer applies
    assert dialog.error_label.isHidden() and dialog.error_label.text() == ""
    _choose_custom(dialog, emulator.base_url)
    dialog.use_password.setChecked(True)
    dialog.username.setText("ops@acme.example")
    dialog.password.setText("wrong password")
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=10_000)
    text = dialog.error_label.text()
    assert text.startswith("Wootric did not accept this email and password.")
    for internal in ("HTTP", "sign-in:", "refused", "Error", "keyring."):
        assert internal not in text
    assert "keyring." not in dialog.keyring_notice.toolTip()  # no backend class names


def test_accounts_are_named_as_people_know_them() -> None:
    email = accounts.AccountProfile("https://api.eu.wootric.com", AuthMethod.PASSWORD,
                                    username="ops@acme.example", region="EU")
    client = accounts.AccountProfile("http://127.0.0.1:33903", AuthMethod.CLIENT_CREDENTIALS,
                                     client_id="52f13af1" + "0" * 56, region="custom")
    demo = accounts.AccountProfile("http://127.0.0.1:40000", AuthMethod.CLIENT_CREDENTIALS,
                                   client_id=DEFAULT_CLIENT_ID, label="Demo", region="demo")
    assert email.display_name == "ops@acme.example (Europe)"
    assert client.display_name == "API client 52f13af1… (a service on this computer)"
    assert demo.display_name == "Demo account"


def test_demo_choice_returns_demo(qtbot: QtBot, tasks: TaskRunner, isolated_settings: Path) -> None:
    dialog = _dialog(qtbot, MemoryOnly(), tasks, isolated_settings)
    dialog.region.setCurrentIndex(dialog.region.findData("demo"))
    assert not dialog.client_id.isVisible() and dialog.sign_in_button.text() == "Open the demo"
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        dialog.sign_in_button.click()
    assert dialog.result_value is not None and dialog.result_value.outcome is SignInOutcome.DEMO
