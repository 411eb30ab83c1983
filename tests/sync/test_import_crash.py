"""Crash safety of creates: `import --create` and the `sync` that pushes it, SIGKILLed at random
points, in child processes; afterwards every imported person is on the service exactly once.

The service has no idempotency key; the push looks each email up before its POST, and marks
the create sent in a durable commit first, so a POST whose answer the kill lost is adopted by
the lookup of the next run instead of being sent again. Trials: WOOTRIC_CRASH_TRIALS (6).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop_app import accounts
from desktop_app.cache.store import Cache
from desktop_app.emulator import Emulator

from .conftest import cache_view, server_view
from .test_crash import _env, _sync_command

TRIALS = int(os.environ.get("WOOTRIC_CRASH_TRIALS", "6"))
NEW_PER_TRIAL = 12


def _import_command(path: Path) -> list[str]:
    return [sys.executable, "-m", "desktop_app", "import", str(path), "--create", "--yes"]


def _on_service(emu: Emulator) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for end_user_id in emu.store.all_ids():
        row = emu.store.fetch(end_user_id)
        if row is not None:
            found.setdefault(row.email.casefold(), []).append(end_user_id)
    return found


def _kill_after(process: subprocess.Popen[str], delay: float) -> bool:
    time.sleep(delay)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        return True
    process.wait(30)
    return False


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
def test_sigkill_during_import_and_its_push_creates_each_person_exactly_once(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("WOOTRIC_CRASH_SEED", "20261208")))
    with Emulator(users=200, seed=13) as emu:
        env = _env(emu, tmp_path)
        account = accounts.account_from_env(env)
        assert account is not None
        db_path = account.profile.cache_path(tmp_path)
        first = subprocess.run(_sync_command(quiet=True), env=env, capture_output=True, text=True, timeout=120)
        assert first.returncode == 0, first.stderr
        emu.faults.latency(0.03)  # a push of a trial's creates takes a second or two to kill inside
        known = sorted(emu.store.all_ids())
        started = time.monotonic()  # how long an import takes here, start-up included
        warm = tmp_path / "warm-up.csv"
        warm.write_text("email,plan\nwarm.up@example.org,warm\n", encoding="utf-8")
        done = subprocess.run(_import_command(warm), env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        took = time.monotonic() - started
        imported: dict[str, None] = {"warm.up@example.org": None}  # casefolded emails whose import committed
        never: set[str] = set()  # those whose import the kill stopped before its commit
        import_kills = push_kills = 0
        for trial in range(TRIALS):
            emails = [f"New.{trial}.{k}@Example.org" if k % 3 == 0 else f"new.{trial}.{k}@example.org"
                      for k in range(NEW_PER_TRIAL)]
            existing = [emu.store.fetch(i) for i in rng.sample(known, 3)]
            lines = ["email,plan,seats_amount"]
            lines += [f"{u.email},crash-{trial},{trial}" for u in existing if u is not None]
            lines += [f"{email},crash-{trial},{k}" for k, email in enumerate(emails)]
            upload = tmp_path / f"import-{trial}.csv"
            upload.write_text("\n".join(lines) + "\n", encoding="utf-8")
            process = subprocess.Popen(_import_command(upload), env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, text=True)
            import_kills += _kill_after(process, rng.uniform(0.5, 1.3) * took)
            with Cache.open(db_path) as cache:
                cached = {row.end_user.email.casefold() for row in map(cache.get, cache.all_ids()) if row}
            there = [e.casefold() in cached for e in emails]
            assert all(there) or not any(there), "an import is one transaction: all or nothing"
            (imported.update(dict.fromkeys(e.casefold() for e in emails)) if all(there)
             else never.update(e.casefold() for e in emails))
            process = subprocess.Popen(_sync_command(), env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, text=True)
            assert process.stderr is not None
            process.stderr.readline()  # the first progress line: the run has started
            push_kills += _kill_after(process, rng.uniform(0.0, 1.5))
        assert imported, "some imports should commit before their kill"
        assert push_kills >= TRIALS // 2, "the kills should mostly land mid-push"

        emu.faults.clear()
        final = subprocess.run(_sync_command(quiet=True), env=env, capture_output=True, text=True, timeout=120)
        assert final.returncode == 0, final.stderr
        service = _on_service(emu)
        twice = {e: ids for e, ids in service.items() if len(ids) > 1}
        missing = [e for e in imported if e not in service]
        stray = [e for e in never if e in service]
        with Cache.open(db_path) as cache:
            assert cache.pending_count() == 0 and not cache.rejected_edits()
            assert not [i for i in cache.all_ids() if i < 0]  # every local id mapped
            assert cache_view(cache) == server_view(emu)
        print(f"\nimport crash: {TRIALS} trials, {import_kills} imports and {push_kills} pushes "
              f"killed; {len(imported)} people imported, {len(never)} not (killed before the "
              f"commit); twice on the service {len(twice)}, missing {len(missing)}, stray {len(stray)}")
        assert twice == {} and missing == [] and stray == []
