"""The follow-up list leaves the app in one step: `nps:detractor` with the latest score, the
latest comment and the response count as CSV columns, through the CLI's export and list over a
cache the real sync filled from the emulator (loopback HTTP)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app import accounts
from desktop_app.api.account import Credentials
from desktop_app.api.client import WootricClient
from desktop_app.cli import main
from desktop_app.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from desktop_app.export import BASE_COLUMNS


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(users=300, seed=5) as emulator:
        yield emulator


@pytest.fixture
def env_account(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(accounts.ENV_HOME, str(tmp_path))
    monkeypatch.setenv(accounts.ENV_API_BASE, emu.base_url)
    monkeypatch.setenv(accounts.ENV_CLIENT_ID, DEFAULT_CLIENT_ID)
    monkeypatch.setenv(accounts.ENV_CLIENT_SECRET, DEFAULT_CLIENT_SECRET)
    return tmp_path


def test_the_score_columns_are_export_columns_with_their_titles() -> None:
    titles = {c.id: (c.label, c.kind.value) for c in BASE_COLUMNS}
    assert titles["latest_score"] == ("Latest score", "integer")
    assert titles["latest_comment"] == ("Latest comment", "text")
    assert titles["response_count"] == ("Responses", "integer")


def test_detractors_with_their_latest_comment_and_score_are_one_export(
    emu: Emulator, env_account: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["export", "--filter", "nps:detractor", "--sort", "latest_score",
                 "--columns", "id,email,latest_score,latest_comment,response_count", "-"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["id", "email", "latest_score", "latest_comment", "response_count"]
    body = rows[1:]
    assert body, "the emulator's sample history holds detractors"
    assert all(0 <= int(r[2]) <= 6 for r in body)
    assert [int(r[2]) for r in body] == sorted(int(r[2]) for r in body)  # sorted by the score
    client = WootricClient(Credentials(emu.base_url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET), timeout=5.0)
    try:
        for row in body[:8]:  # what the service says of each: the latest counted response
            responses = client.list_responses(int(row[0]))
            counted = [r for r in responses if not r.excluded_from_calculations]
            latest = max(counted, key=lambda r: (r.created_at, r.id))
            assert (int(row[2]), row[3], int(row[4])) == (latest.score, latest.text or "", len(responses))
    finally:
        client.close()

    assert main(["list", "--filter", "nps:detractor", "--limit", "5",
                 "--columns", "latest_score,response_count,plan"]) == 0
    header, *lines = capsys.readouterr().out.splitlines()
    assert header.split()[-3:] == ["latest_score", "response_count", "plan"]
    assert len(lines) == min(5, len(body))
