"""The command line over the real core: emulator on loopback, a real cache file, real keyring."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app import accounts
from desktop_app.cli import main
from desktop_app.cli.verbs import rate_limit_notice
from desktop_app.cli.session import EXIT_ATTENTION, EXIT_OFFLINE, EXIT_SIGN_IN, EXIT_USAGE
from desktop_app.credentials import KeyringStore
from desktop_app.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from tests.conftest import secret_service_keys

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(users=400, seed=5) as emulator:
        yield emulator


@pytest.fixture
def env_account(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Automation's way in: the account comes from environment variables."""
    monkeypatch.setenv(accounts.ENV_HOME, str(tmp_path))
    monkeypatch.setenv(accounts.ENV_API_BASE, emu.base_url)
    monkeypatch.setenv(accounts.ENV_CLIENT_ID, DEFAULT_CLIENT_ID)
    monkeypatch.setenv(accounts.ENV_CLIENT_SECRET, DEFAULT_CLIENT_SECRET)
    return tmp_path


def test_sync_list_edit_sync(emu: Emulator, env_account: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["list", "--count", "--filter", "surveys:enabled"]) == 0
    enabled = int(capsys.readouterr().out)
    live = [emu.store.get(i) for i in emu.store.all_ids()]
    assert enabled == sum(1 for u in live if not u["surveys_disabled"])

    target = min(emu.store.all_ids())
    assert main(["set-property", "--id", str(target), "seats_count", "12"]) == 0
    assert main(["disable-surveys", "--id", str(target)]) == 0
    assert main(["list", "--format", "ids", "--filter", "is:pending"]) == 0
    assert capsys.readouterr().out.split()[-1] == str(target)
    assert main(["sync", "--quiet"]) == 0
    server = emu.store.get(target)
    assert server is not None
    assert str(server["properties"]["seats_count"]) == "12"
    assert server["surveys_disabled"] is True


def test_bad_input_is_refused_and_writes_nothing(
    env_account: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", "--quiet"]) == 0
    assert main(["list", "--filter", "revenue_amount:=>5"]) == EXIT_USAGE
    assert main(["disable-surveys", "--filter", "surveys:enabled"]) == EXIT_USAGE  # needs --yes
    assert main(["set-property", "--id", "1000001", "revenue_amount", "lots"]) == EXIT_USAGE
    assert main(["set-email", "--id", "1000001", "no-at-sign"]) == EXIT_USAGE
    assert main(["set-property", "--id", "999", "plan", "Pro"]) == EXIT_USAGE  # no such end user
    capsys.readouterr()
    assert main(["list", "--count", "--filter", "is:pending"]) == 0
    assert capsys.readouterr().out.strip() == "0"


def test_offline_sync_says_so(emu: Emulator, env_account: Path) -> None:
    assert main(["sync", "--quiet"]) == 0
    emu.faults.offline()
    assert main(["sync", "--quiet"]) == EXIT_OFFLINE
    emu.faults.online()
    assert main(["sync", "--quiet"]) == 0


def test_conflict_needs_attention_then_resolves(
    emu: Emulator, env_account: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", "--quiet"]) == 0
    target = min(emu.store.all_ids())
    assert main(["set-property", "--id", str(target), "plan", "Mine"]) == 0
    emu.store.set_property(target, "plan", "Theirs")
    assert main(["sync", "--quiet"]) == EXIT_ATTENTION
    capsys.readouterr()
    assert main(["conflicts"]) == 0
    listing = capsys.readouterr().out
    assert "'Mine'" in listing and "'Theirs'" in listing
    conflict_id = int(listing.split()[0].lstrip("#"))
    assert main(["conflicts", "--resolve", str(conflict_id), "--choice", "mine"]) == 0
    assert main(["sync", "--quiet"]) == 0
    assert emu.store.get(target)["properties"]["plan"] == "Mine"


def test_export_to_stdout_and_file(
    emu: Emulator, env_account: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["export", "--filter", "surveys:disabled", "--columns", "id,email", "-"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    disabled = {i for i in emu.store.all_ids() if emu.store.get(i)["surveys_disabled"]}
    assert rows[0] == ["id", "email"]
    assert {int(r[0]) for r in rows[1:]} == disabled
    out = tmp_path / "disabled.csv"
    assert main(["export", "--filter", "surveys:disabled", str(out)]) == 0
    with out.open(newline="", encoding="utf-8") as handle:
        assert len(list(csv.reader(handle))) == len(disabled) + 1


def test_no_account_says_how_to_sign_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(accounts.ENV_HOME, str(tmp_path))
    for name in (accounts.ENV_CLIENT_ID, accounts.ENV_CLIENT_SECRET, accounts.ENV_API_BASE):
        monkeypatch.delenv(name, raising=False)
    assert main(["sync"]) == EXIT_SIGN_IN
    assert "wootric-desk login" in capsys.readouterr().err


@pytest.mark.keyring
def test_login_keeps_the_secret_in_the_keyring_only(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secret_service: KeyringStore,
) -> None:
    monkeypatch.setenv(accounts.ENV_HOME, str(tmp_path))
    monkeypatch.setattr("desktop_app.cli.verbs.open_credential_store",
                        lambda: secret_service)
    monkeypatch.setattr("desktop_app.cli.session.open_credential_store", lambda: secret_service)
    monkeypatch.delenv(accounts.ENV_CLIENT_ID, raising=False)
    monkeypatch.setenv(accounts.ENV_CLIENT_SECRET, "wrong" * 10)
    assert main(["login", "--base-url", emu.base_url, "--client-id", DEFAULT_CLIENT_ID]) == EXIT_SIGN_IN
    monkeypatch.setenv(accounts.ENV_CLIENT_SECRET, DEFAULT_CLIENT_SECRET)
    assert main(["login", "--base-url", emu.base_url, "--client-id", DEFAULT_CLIENT_ID]) == 0
    monkeypatch.delenv(accounts.ENV_CLIENT_SECRET)  # from now on only the keyring has it
    assert main(["sync", "--quiet"]) == 0
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert DEFAULT_CLIENT_SECRET.encode() not in path.read_bytes(), path
    assert main(["logout"]) == 0
    assert secret_service_keys(secret_service.service) == []  # the secret left the keyring
    assert main(["sync", "--quiet"]) == EXIT_SIGN_IN


def test_a_rate_limited_sync_says_so_on_stderr_and_when_it_tries_again(
    emu: Emulator, env_account: Path,
) -> None:
    """A real process against the real emulator: two 429s that carry `Retry-After: 2`. Each
    wait is one stderr line (even with --quiet), and the run takes the 2 s it was told to."""
    emu.faults.retry_after = "2"
    emu.faults.fail_next("429", count=2, path_prefix="/v1/end_users")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "desktop_app", "sync", "--quiet"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    notices = [line for line in done.stderr.splitlines() if "rate-limiting" in line]
    assert len(notices) == 2, done.stderr
    for notice in notices:
        assert re.fullmatch(r"The service is rate-limiting requests; next try at "
                            r"\d\d:\d\d:\d\d \(in 2 s\)\.", notice), notice
    assert "Traceback" not in done.stderr
    assert emu.faults.counts() == {"429": 2}
    assert 4.0 <= elapsed < 40, elapsed  # both waits honoured; not the minute's reset


def test_the_rate_limit_notice_says_the_local_time_and_the_seconds_left() -> None:
    at = time.mktime((2026, 3, 1, 14, 5, 9, 0, 0, -1))
    assert rate_limit_notice(at, at - 59.2) == (
        "The service is rate-limiting requests; next try at 14:05:09 (in 60 s).")
    assert rate_limit_notice(at, at + 3) == (
        "The service is rate-limiting requests; next try at 14:05:09 (in 0 s).")


def test_rejected_edits_are_listed_and_dismissed_so_sync_ends_well_again(
    emu: Emulator, env_account: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", "--quiet"]) == 0
    a, b, c = sorted(emu.store.all_ids())[:3]
    taken = str(emu.store.get(c)["email"])
    assert main(["set-email", "--id", str(a), taken]) == 0  # the service refuses a duplicate
    assert main(["set-email", "--id", str(b), taken]) == 0
    assert main(["sync", "--quiet"]) == EXIT_ATTENTION
    assert main(["sync", "--quiet"]) == EXIT_ATTENTION  # and so for ever, until dismissed
    capsys.readouterr()
    assert main(["rejected"]) == 0
    listing = capsys.readouterr()
    ids = [int(line.split()[0].lstrip("#")) for line in listing.out.splitlines()]
    assert len(ids) == 2 and "2 rejected edits" in listing.err, listing
    assert f"end user {a}" in listing.out and taken in listing.out
    assert main(["rejected", "--dismiss", str(max(ids) + 1000)]) == EXIT_USAGE
    assert "Nothing was dismissed" in capsys.readouterr().err
    assert main(["rejected", "--dismiss", str(ids[0])]) == 0
    assert main(["sync", "--quiet"]) == EXIT_ATTENTION  # one is left
    assert main(["rejected", "--all"]) == 0
    assert main(["sync", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["rejected"]) == 0
    assert capsys.readouterr().out == ""


def test_login_says_there_is_no_keyring_before_asking_for_the_secret(emu: Emulator, tmp_path: Path) -> None:
    """A real terminal (a pty) and no keyring: the command ends at once with exit 3 instead of
    asking for a secret it then cannot keep."""
    import pty

    controller, terminal = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WOOTRIC_")}
    env.update({"PYTHONPATH": str(ROOT), accounts.ENV_HOME: str(tmp_path),
                "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    process = subprocess.Popen(
        [sys.executable, "-m", "desktop_app", "login", "--base-url", emu.base_url,
         "--client-id", DEFAULT_CLIENT_ID],
        cwd=ROOT, env=env, stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True)
    os.close(terminal)
    try:
        out, err = process.communicate(timeout=60)  # a prompt would wait here for ever
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("login asked for the secret although there is no keyring to keep it")
    finally:
        os.close(controller)
    assert process.returncode == EXIT_SIGN_IN, (out, err)
    assert "No system keyring" in err and "Traceback" not in err
    assert accounts.load_profile(tmp_path) is None


def test_a_bad_sort_or_export_column_names_the_valid_choices(
    env_account: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["list", "--sort", "plan_name"]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'plan_name'" in err
    assert "email" in err and "last_surveyed" in err and "prop:KEY" in err
    assert main(["export", "--sort", "bogus", "-"]) == EXIT_USAGE
    assert main(["export", "--columns", "id,bogus", "-"]) == EXIT_USAGE
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "Unknown column 'bogus'" in err and "email" in err and "prop:<key>" in err


def test_an_unexpected_error_is_one_redacted_line_and_a_redacted_traceback_in_the_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop_app.cli.errors import run_guarded
    from desktop_app.logs import setup_logging, shutdown_logging

    log_file = setup_logging(tmp_path / "logs").path

    def failing() -> int:
        raise KeyError(f"client_secret={DEFAULT_CLIENT_SECRET} and the token {'ab' * 32}")

    try:
        assert run_guarded(failing) == 1
    finally:
        shutdown_logging()
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("wootric-desk: Unexpected error (KeyError")
    assert str(log_file) in err and "Traceback" not in err
    logged = log_file.read_text(encoding="utf-8")
    assert "Traceback" in logged and "in failing" in logged
    for text in (err, logged):
        assert DEFAULT_CLIENT_SECRET not in text and "ab" * 32 not in text


def test_printable_shows_undecodable_bytes_and_half_surrogates_as_escapes() -> None:
    from desktop_app.cli.errors import printable

    assert printable(os.fsdecode(b"caf\xe9.csv")) == "caf\\xe9.csv"
    assert printable("half \ud83d pair") == "half \\ud83d pair"
    assert printable("plain café") == "plain café"


def test_login_checks_the_base_url_before_the_keyring_and_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(accounts.ENV_HOME, str(tmp_path))
    monkeypatch.delenv(accounts.ENV_CLIENT_SECRET, raising=False)
    assert main(["login", "--base-url", "http://example.com", "--client-id", "x"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("wootric-desk: --base-url:") and "https://" in err
    assert main(["login", "--base-url", "ftp://" + "x" * 50_000, "--client-id", "x"]) == EXIT_USAGE
    assert len(capsys.readouterr().err) < 700


@pytest.mark.keyring
def test_login_without_a_secret_says_how_to_give_one_unredacted(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    secret_service: KeyringStore,
) -> None:
    monkeypatch.setenv(accounts.ENV_HOME, str(tmp_path))
    monkeypatch.setattr("desktop_app.cli.verbs.open_credential_store", lambda: secret_service)
    monkeypatch.delenv(accounts.ENV_CLIENT_SECRET, raising=False)
    assert main(["login", "--base-url", emu.base_url, "--client-id", DEFAULT_CLIENT_ID]) == EXIT_USAGE
    assert "set WOOTRIC_CLIENT_SECRET or run in a terminal" in capsys.readouterr().err


def test_ctrl_c_is_one_line_and_130(capsys: pytest.CaptureFixture[str]) -> None:
    from desktop_app.cli.errors import run_guarded

    def interrupted() -> int:
        raise KeyboardInterrupt

    assert run_guarded(interrupted) == 130
    assert capsys.readouterr().err == "wootric-desk: interrupted\n"


# --- apply-list ------------------------------------------------------------------------------

def _people(emu: Emulator) -> list[dict[str, object]]:
    return [u for u in (emu.store.get(i) for i in sorted(emu.store.all_ids())) if u is not None]


def _opted_out(user: dict[str, object]) -> bool:
    settings = user["settings"]
    return isinstance(settings, dict) and bool(settings["surveys_disabled_by_end_user"])


def _pending(capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["list", "--count", "--filter", "is:pending"]) == 0
    return capsys.readouterr().out.strip()


def test_apply_list_dry_run_reports_and_writes_nothing_then_yes_applies_one_batch(
    emu: Emulator, env_account: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sync", "--quiet"]) == 0
    people = [u for u in _people(emu) if not u["surveys_disabled"]][:4]
    listed = tmp_path / "optouts.csv"
    # LibreOffice's way: `;` between cells, a header, an address in other case, a stranger
    lines = ["Name;E-mail"] + [f"P{n};{str(u['email']).upper()}" for n, u in enumerate(people)]
    lines += ["Stranger;nobody@nowhere.example", "Again;" + str(people[0]["email"])]
    listed.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    capsys.readouterr()
    assert main(["apply-list", str(listed), "--disable-surveys", "--dry-run", "--keep", "dry"]) == 0
    out = capsys.readouterr().out
    assert 'column 2 "E-mail" holds addresses in 6 of 6 rows (guessed' in out
    assert "Matched: will change: 4" in out and "Not in the cache: 1" in out
    assert "line 6: nobody@nowhere.example" in out and "Duplicates (counted once): 1" in out
    assert "surveys: surveys on → surveys off" in out
    assert "Dry run: nothing was written and the list was not kept." in out
    assert _pending(capsys) == "0"

    assert main(["apply-list", str(listed), "--column", "E-mail", "--disable-surveys", "--yes",
                 "--keep", "support optouts"]) == 0
    out = capsys.readouterr().out
    assert "Disable surveys: 4 end user(s) changed locally as one batch" in out
    assert "Kept 4 end users as list:support optouts" in out
    assert _pending(capsys) == "4"
    assert main(["list", "--count", "--filter", 'list:"support optouts" surveys:disabled']) == 0
    assert capsys.readouterr().out.strip() == "4"
    assert main(["sync", "--quiet"]) == 0
    assert all(emu.store.get(int(str(u["id"])))["surveys_disabled"] for u in people)


def test_apply_list_refuses_a_file_it_cannot_read_and_asks_only_in_a_terminal(
    emu: Emulator, env_account: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sync", "--quiet"]) == 0
    broken = tmp_path / "legacy.csv"
    broken.write_bytes(b"email\ncaf\xe9@example.com\n")  # Latin-1, not UTF-8
    capsys.readouterr()
    assert main(["apply-list", str(broken), "--disable-surveys", "--yes"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("wootric-desk: cannot read the list: legacy.csv, line 2: not UTF-8 text")
    assert main(["apply-list", str(tmp_path / "missing.csv"), "--erase", "--yes"]) == EXIT_USAGE
    workbook = tmp_path / "list.xlsx"
    workbook.write_bytes(b"PK\x03\x04rest")
    assert main(["apply-list", str(workbook), "--erase", "--yes"]) == EXIT_USAGE
    assert "save it as CSV" in capsys.readouterr().err

    first = _people(emu)[0]
    listed = tmp_path / "one.txt"
    listed.write_text(f"{first['email']}\n", encoding="utf-8")
    assert main(["apply-list", str(listed), "--column", "7", "--erase", "--yes"]) == EXIT_USAGE
    assert "has no column 7" in capsys.readouterr().err
    # stdin is not a terminal under pytest: asking is refused, and nothing is written
    assert main(["apply-list", str(listed), "--set", "plan", "Gold"]) == EXIT_USAGE
    assert "Add --yes" in capsys.readouterr().err
    assert main(["apply-list", str(listed), "--set", "plan", "Gold", "--keep", " "]) == EXIT_USAGE
    assert _pending(capsys) == "0"


def test_apply_list_shows_a_self_opted_out_person_in_an_enable_list_as_refused(
    emu: Emulator, env_account: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sync", "--quiet"]) == 0
    people = _people(emu)
    opted_out = next(u for u in people if _opted_out(u))
    admin_off = next(u for u in people if u["surveys_disabled"] and not _opted_out(u))
    listed = tmp_path / "enable.tsv"
    text = f"id\temail\n{opted_out['id']}\t{opted_out['email']}\n{admin_off['id']}\t{admin_off['email']}\n"
    listed.write_bytes(codecs_utf16(text))  # Excel's "Unicode Text": UTF-16 with a BOM, tabs
    capsys.readouterr()
    assert main(["apply-list", str(listed), "--column", "id", "--enable-surveys", "--yes"]) == 0
    out = capsys.readouterr().out
    assert 'column 1 "id", as asked; read as Wootric ids.' in out
    assert "Refused: 1" in out and "opted out of surveys themselves" in out
    assert f"(id {opted_out['id']})" in out.split("Refused: 1", 1)[1]
    assert "Enable surveys: 1 end user(s) changed locally" in out
    assert _pending(capsys) == "1"


def codecs_utf16(text: str) -> bytes:
    return b"\xff\xfe" + text.encode("utf-16-le")
def _outbox_size(home: Path) -> int:
    import sqlite3

    [db] = list(home.rglob("*.sqlite3"))
    with sqlite3.connect(db) as connection:
        return int(connection.execute("SELECT count(*) FROM pending_edit").fetchone()[0])


def test_import_prints_the_report_refuses_a_bad_file_and_creates_on_sync(
    emu: Emulator, env_account: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", "--quiet"]) == 0
    known = emu.store.fetch(min(emu.store.all_ids()))
    assert known is not None
    upload = tmp_path / "people.csv"
    upload.write_text(f"email,plan,seats_amount\n{known.email.upper()},ImportTier,40\n"
                      "first.new@example.org,ImportTier,2\nsecond.new@example.org,team,\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["import", str(upload), "--create", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "matched, to update:        1" in out and "new, would be created:     2" in out
    assert "Dry run: nothing was written." in out and _outbox_size(env_account) == 0

    assert main(["import", str(upload)]) == EXIT_USAGE  # new rows and no choice: nothing written
    assert "choose --create" in capsys.readouterr().err and _outbox_size(env_account) == 0
    assert main(["import", str(upload), "--create"]) == EXIT_USAGE  # 3 end users need --yes
    assert _outbox_size(env_account) == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("plan,email\npro,a@example.org\n", encoding="utf-8")
    assert main(["import", str(bad), "--create", "--yes"]) == EXIT_USAGE
    assert "first column must be email" in capsys.readouterr().err and _outbox_size(env_account) == 0

    assert main(["import", str(upload), "--create", "--yes"]) == 0
    assert "1 end user(s) updated, 2 created locally" in capsys.readouterr().out
    assert main(["list", "--count", "--filter", "plan:importtier"]) == 0
    assert capsys.readouterr().out.strip() == "2"
    assert main(["list", "--format", "ids", "--filter", "email:second.new@example.org"]) == 0
    local = capsys.readouterr().out.split()[-1]
    assert int(local) < 0  # created here: a local id until the sync
    assert main(["set-property", "--id", local, "seats_amount", "9"]) == 0  # editable before the push
    assert main(["sync", "--quiet"]) == 0
    on_service = [emu.store.fetch(i) for i in emu.store.all_ids()]
    created = [u for u in on_service if u is not None and u.email.endswith("new@example.org")]
    assert sorted(u.email for u in created) == ["first.new@example.org", "second.new@example.org"]
    assert next(u for u in created if u.email.startswith("second")).properties["seats_amount"] == 9
    updated = emu.store.fetch(known.id)
    assert updated is not None and updated.properties["plan"] == "ImportTier"
    capsys.readouterr()
    assert main(["list", "--format", "ids", "--filter", "plan:importtier"]) == 0
    assert all(int(i) > 0 for i in capsys.readouterr().out.split())
