"""`python -m desktop_app.emulator`: the listening line first, real serving, a clean stop."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from desktop_app.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

ROOT = Path(__file__).resolve().parents[2]


def _start(*args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "desktop_app.emulator", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def _first_line(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "the emulator printed nothing in time"
    return proc.stdout.readline().decode().rstrip("\n")


@pytest.fixture
def running() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:  # never leave one behind, even when a test failed
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_prints_the_listening_line_first_serves_and_stops_on_sigterm(
    running: list[subprocess.Popen[bytes]],
) -> None:
    proc = _start("--users", "25", "--seed", "3", "--port", "0", "--rate-limit", "50")
    running.append(proc)
    line = _first_line(proc)
    assert line.startswith("listening on http://127.0.0.1:"), line
    base_url = line.removeprefix("listening on ")
    with httpx.Client(base_url=base_url, timeout=10) as http:
        assert http.get("/_emulator/health").json()["end_users"] == 25
        token = http.post("/oauth/token", data={
            "grant_type": "client_credentials", "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET}).json()["access_token"]
        listing = http.get("/v1/end_users", headers={"Authorization": f"Bearer {token}"})
        assert listing.status_code == 200 and len(listing.json()) == 25
        assert listing.headers["x-rate-limit-limit"] == "50"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err.decode()
    assert out.decode().rstrip().endswith("stopped")
    assert token not in out.decode() + err.decode()


def test_data_file_and_clock_speed(tmp_path: Path, running: list[subprocess.Popen[bytes]]) -> None:
    data = tmp_path / "users.jsonl"
    rows = [
        {"id": 7, "email": "kept@example.com", "created_at": 1_600_000_000,
         "updated_at": 1_600_000_100, "surveys_disabled": True, "properties": {"plan": "Pro"}},
        {"id": 8, "email": "other@example.com", "created_at": 1_600_000_000,
         "updated_at": 1_600_000_000},
    ]
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    proc = _start("--data", str(data), "--clock-speed", "60")
    running.append(proc)
    base_url = _first_line(proc).removeprefix("listening on ")
    with httpx.Client(base_url=base_url, timeout=10) as http:
        stored = {row["id"]: row for row in http.get("/_emulator/end_users").json()}
    assert set(stored) == {7, 8}
    assert stored[7]["updated_at"] == 1_600_000_100 and stored[7]["surveys_disabled"] is True
    assert stored[7]["settings"]["email_nps"] is False  # the seed flag: an admin turned all off
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=15)
    assert proc.returncode == 0


def test_purge_delay_flag_sets_when_a_deleted_end_user_is_purged(
    running: list[subprocess.Popen[bytes]],
) -> None:
    proc = _start("--users", "3", "--purge-delay", "3600")
    running.append(proc)
    base_url = _first_line(proc).removeprefix("listening on ")
    with httpx.Client(base_url=base_url, timeout=10) as http:
        assert http.get("/_emulator/deletions").json() == {"marked": [], "purge_delay": 3600}
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=15)
    assert proc.returncode == 0

    refused = _start("--purge-delay", "soon")
    running.append(refused)
    out, err = refused.communicate(timeout=30)
    assert refused.returncode == 2 and b"--purge-delay" in err and not out


def test_responses_per_user_flag(running: list[subprocess.Popen[bytes]]) -> None:
    for flag, expected in (("0", range(0, 1)), ("5", range(60, 140)), (None, range(30, 90))):
        proc = _start("--users", "20", "--seed", "2", *(("--responses-per-user", flag) if flag else ()))
        running.append(proc)
        base_url = _first_line(proc).removeprefix("listening on ")
        with httpx.Client(base_url=base_url, timeout=10) as http:
            assert http.get("/_emulator/responses").json()["count"] in expected, flag
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)
    for bad in ("lots", "-1", "11", "nan"):
        refused = _start("--responses-per-user", bad)
        running.append(refused)
        out, err = refused.communicate(timeout=30)
        assert refused.returncode == 2 and b"--responses-per-user" in err and not out, bad
