"""`wootric-desk --self-test` run in-process: it passes here, fails loudly, and leaves no trace."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import keyring
import keyring.backend
import pytest

from desktop_app import self_test
from desktop_app.cli import main
from desktop_app.emulator import DEFAULT_CLIENT_SECRET

STEP_NAMES = (
    "qt modules and plugins", "keyring backends", "start emulator", "sign in", "first sync",
    "offline edits", "sync while offline", "sync back online", "cache equals server",
    "export filtered csv",
)


class RecordingKeyring(Protocol):
    calls: list[str]


@pytest.fixture
def recording_keyring() -> Iterator[RecordingKeyring]:
    """A keyring that counts every read or write, to prove the self-test makes none.

    Defined here, not at module level: every KeyringBackend subclass joins keyring's registry
    of viable backends, and a module-level one would shadow the real Secret Service in every
    other test of the session.
    """

    class Recorder(keyring.backend.KeyringBackend):
        priority = 1  # keyring allows a plain class attribute

        def __init__(self) -> None:
            super().__init__()
            self.calls: list[str] = []

        def get_password(self, service: str, username: str) -> str | None:
            self.calls.append(f"get {service}")
            return None

        def set_password(self, service: str, username: str, password: str) -> None:
            self.calls.append(f"set {service}")

        def delete_password(self, service: str, username: str) -> None:
            self.calls.append(f"delete {service}")

    previous = keyring.get_keyring()
    recorder = Recorder()
    keyring.set_keyring(recorder)
    try:
        yield recorder
    finally:
        keyring.set_keyring(previous)
        keyring.backend.KeyringBackend._classes.discard(Recorder)


@pytest.fixture
def person_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the person's data would live; the self-test must not create or write it."""
    home = tmp_path / "person-home"
    monkeypatch.setenv("WOOTRIC_DESK_HOME", str(home))
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    return home


def test_cli_self_test_passes_and_touches_nothing(
    person_home: Path, recording_keyring: RecordingKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    threads_before = set(threading.enumerate())

    assert main(["--self-test"]) == 0

    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("wootric-desk ") and "self-test" in lines[0]
    step_lines = [line for line in lines if line.startswith("  ok   ")]
    assert [line[7:7 + 24].strip() for line in step_lines] == list(STEP_NAMES)
    assert all(re.search(r" \d+\.\d\d s  \S", line) for line in step_lines)  # a timing each
    assert lines[-1].startswith("PASS: 10 steps in ")
    assert "offline" in out and "8 edits pending" in out
    assert "5 rows match the filter" in out
    assert DEFAULT_CLIENT_SECRET not in out
    # The person's keyring and data directory are untouched; the variable is restored.
    assert recording_keyring.calls == []
    assert not person_home.exists()
    assert os.environ["WOOTRIC_DESK_HOME"] == str(person_home)
    # The emulator and sync threads are gone once the run returns.
    leftover = [t for t in set(threading.enumerate()) - threads_before if t.is_alive()]
    assert all(t.daemon and not t.name.startswith("wootric-sync") for t in leftover), leftover


def test_missing_qt_platform_plugin_fails_first_with_its_name(
    person_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "nosuchplatform")

    assert self_test.run_self_test() == 1

    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("  FAIL qt modules and plugins")
    assert "platforms/nosuchplatform is not in" in lines[1]
    assert lines[-1].startswith("FAIL: 1 steps in ")  # stops at the first failure


def test_a_failed_end_to_end_check_says_what_and_cleans_up(
    person_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folders: list[Path] = []
    real_home = self_test._private_home

    def spy_home(folder: Path):
        folders.append(folder)
        return real_home(folder)

    monkeypatch.setattr(self_test, "_private_home", spy_home)
    seen: list[self_test.StepResult] = []

    # An empty service: nothing to edit, so the offline-edit step must fail and say why.
    report = self_test.perform_self_test(users=0, check_qt=False, on_step=seen.append)

    assert not report.passed
    assert [s.name for s in report.steps] == list(STEP_NAMES[1:6])
    assert list(report.steps) == seen
    failed = report.steps[-1]
    assert not failed.ok and "too few end users to edit (0 cached)" in failed.detail
    assert folders and not folders[0].exists()  # the temporary home is removed on failure too
    assert not person_home.exists()
