"""The data directory is user-only (issue 11 item 6): made 0700 from its root down, and an
existing one of ours that an older version left 0755 is tightened when the app starts."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app import accounts
from desktop_app.cli import main
from desktop_app.private_dirs import secure_data_dir, tighten_private_dir

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # the usual one: what made the root 0755
    yield
    os.umask(previous)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory for the command line, with an account from the environment (the
    verb used below reads only the cache, so the service is never asked)."""
    root = tmp_path / "new" / "wootric-desk"
    monkeypatch.setenv(accounts.ENV_HOME, str(root))
    monkeypatch.setenv(accounts.ENV_API_BASE, "http://127.0.0.1:9")
    monkeypatch.setenv(accounts.ENV_CLIENT_ID, "id")
    monkeypatch.setenv(accounts.ENV_CLIENT_SECRET, "secret")
    return root


def test_a_new_data_directory_is_user_only_from_its_root(
    home: Path, open_umask: None, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["list", "--count"]) == 0
    assert capsys.readouterr().out.strip() == "0"
    for folder in (home.parent, home, home / "cache", home / "logs"):
        assert mode(folder) == 0o700, folder
    assert {mode(f) for f in home.rglob("*") if f.is_file()} == {0o600}


def test_an_open_data_directory_of_ours_is_tightened_on_start(
    home: Path, open_umask: None,
) -> None:
    (home / "cache").mkdir(parents=True)
    (home / "logs").mkdir()
    unrelated = home / "notes"
    unrelated.mkdir()
    for folder in (home, home / "cache", home / "logs", unrelated):
        folder.chmod(0o755)
    assert main(["list", "--count"]) == 0
    assert (mode(home), mode(home / "cache"), mode(home / "logs")) == (0o700, 0o700, 0o700)
    assert mode(unrelated) == 0o755  # inside a private root already; not the app's folder
    log_text = (home / "logs" / "wootric-desk.log").read_text()
    assert f"made {home} user-only (it was 755)" in log_text


def test_a_folder_of_another_user_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    theirs.chmod(0o755)
    monkeypatch.setattr(os, "getuid", lambda: theirs.stat().st_uid + 1)
    assert tighten_private_dir(theirs) is False
    assert mode(theirs) == 0o755
    assert "belongs to another user: left as it is" in caplog.text


def test_tightening_changes_only_what_is_open_and_keeps_a_missing_folder_missing(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    assert tighten_private_dir(private) is False
    assert tighten_private_dir(tmp_path / "missing") is False
    group_only = tmp_path / "group"
    group_only.mkdir()
    group_only.chmod(0o750)
    assert tighten_private_dir(group_only) is True and mode(group_only) == 0o700
    assert secure_data_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert mode(tmp_path / "a") == mode(tmp_path / "a" / "b") == 0o700
