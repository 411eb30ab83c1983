"""Crash safety: a `wootric-desk sync` process SIGKILLed at random points loses nothing.

Trials: WOOTRIC_CRASH_TRIALS (default 8 here; `benchmarks/soak_crash.py` runs many more).
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
from desktop_app.domain import DisabledBy
from desktop_app.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator

from .conftest import cache_view, server_view

TRIALS = int(os.environ.get("WOOTRIC_CRASH_TRIALS", "8"))


def _env(emu: Emulator, home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        accounts.ENV_CLIENT_ID: DEFAULT_CLIENT_ID,
        accounts.ENV_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
        accounts.ENV_API_BASE: emu.base_url,
        accounts.ENV_HOME: str(home),
    })
    return env


def _sync_command(quiet: bool = False) -> list[str]:
    return [sys.executable, "-m", "desktop_app", "sync", *(["--quiet"] if quiet else [])]


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
def test_sigkill_at_random_points_loses_nothing(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("WOOTRIC_CRASH_SEED", "20261126")))
    with Emulator(users=1500, seed=11) as emu:
        # Every run has a second or two of work (15 pushes, a few hundred changed rows to pull
        # at 30 ms a request), so the kills land inside pushes and pulls, not after them.
        emu.faults.latency(0.03)
        env = _env(emu, tmp_path)
        account = accounts.account_from_env(env)
        assert account is not None
        db_path = account.profile.cache_path(tmp_path)
        ids = sorted(emu.store.all_ids())
        expected_plan: dict[int, str | None] = {}
        expected_region: dict[int, str] = {}
        # The other kinds of edit, queued beside the plan edits: email, external id, survey
        # switch (end users who opted out themselves excepted: theirs cannot be switched on).
        expected_email: dict[int, str] = {}
        expected_external_id: dict[int, str] = {}
        expected_disabled: dict[int, bool] = {}
        kills = 0
        for trial in range(TRIALS):
            if db_path.exists():  # local edits, as the person makes them between syncs
                with Cache.open(db_path) as cache:
                    cached = sorted(cache.all_ids())  # a killed first sync may have pulled few
                    # Some end users edited in earlier trials are edited again, as a person
                    # would: a kill after the service took the earlier value must not make it
                    # look like a colleague's.
                    again = rng.sample(sorted(expected_plan), min(5, len(expected_plan)))
                    fresh = rng.sample(cached, min(15 - len(again), len(cached)))
                    for end_user_id in [*again, *fresh]:
                        value = f"plan-{trial}-{end_user_id}"
                        cache.set_property([end_user_id], "plan", value)
                        expected_plan[end_user_id] = value
                    _queue_other_kinds(cache, rng, trial, cached, expected_plan, expected_email,
                                       expected_external_id, expected_disabled)
            for end_user_id in rng.sample(ids, 250):  # a colleague edits other keys meanwhile
                value = f"region-{trial}-{end_user_id}"
                emu.store.set_property(end_user_id, "region", value)
                expected_region[end_user_id] = value
            process = subprocess.Popen(_sync_command(), env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, text=True)
            assert process.stderr is not None
            process.stderr.readline()  # the first progress line: the run has started
            time.sleep(rng.uniform(0.0, 1.0))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
            process.wait(30)
        assert kills >= TRIALS // 2, "the kills should mostly land mid-sync"

        emu.faults.clear()
        final = subprocess.run(_sync_command(quiet=True), env=env, capture_output=True, text=True, timeout=120)
        assert final.returncode == 0, final.stderr
        with Cache.open(db_path) as cache:
            cache_pending, cache_conflicts = cache.pending_count(), cache.conflict_count()
            cache_rejected = len(cache.rejected_edits())
            assert cache_pending == 0
            assert cache_conflicts == 0  # colleagues change other keys: any conflict is false
            assert cache_rejected == 0
            assert cache_view(cache) == server_view(emu)
            runs = cache.last_sync_runs(TRIALS + 5)
            interrupted = [r for r in runs if r.outcome == "interrupted"]
            assert len(interrupted) >= TRIALS // 3, "kills should land inside sync runs"
        server = server_view(emu)
        lost = [
            *(i for i, v in expected_plan.items() if server[i]["properties"].get("plan") != v),
            *(i for i, v in expected_region.items() if server[i]["properties"]["region"] != v),
            *(i for i, v in expected_email.items() if server[i]["email"] != v),
            *(i for i, v in expected_external_id.items() if server[i]["external_id"] != v),
            *(i for i, v in expected_disabled.items() if server[i]["surveys_disabled"] is not v),
        ]
        edits = sum(map(len, (expected_plan, expected_email, expected_external_id,
                              expected_disabled)))
        print(f"\ncrash soak: {TRIALS} trials, {kills} SIGKILLs, {len(interrupted)} interrupted "
              f"runs, {edits} end-user fields edited locally, {len(expected_region)} changed on "
              f"the service; lost {len(lost)}, false conflicts {cache_conflicts}, "
              f"rejected {cache_rejected}, left pending {cache_pending}")
        assert lost == []


def _queue_other_kinds(
    cache: Cache, rng: random.Random, trial: int, cached: list[int],
    expected_plan: dict[int, str | None], expected_email: dict[int, str],
    expected_external_id: dict[int, str], expected_disabled: dict[int, bool],
) -> None:
    """One edit of each other kind a person queues: unset, email, external id, survey switch."""
    if expected_plan:
        gone = rng.choice(sorted(expected_plan))
        cache.unset_property([gone], "plan")
        expected_plan[gone] = None
    if not cached:
        return
    who = rng.choice(cached)
    email = f"moved-{trial}-{who}@example.org"
    cache.set_email(who, email)
    expected_email[who] = email
    who = rng.choice(cached)
    external_id = f"crm-{trial}-{who}"
    cache.set_external_id(who, external_id)
    expected_external_id[who] = external_id
    for who in rng.sample(cached, min(2, len(cached))):
        row = cache.get(who)
        if row is None or row.end_user.disabled_by is DisabledBy.END_USER:
            continue
        disabled = not row.end_user.surveys_disabled
        cache.set_surveys_enabled([who], not disabled)
        expected_disabled[who] = disabled


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
def test_sigkill_inside_the_response_walk_resumes_from_its_last_committed_page(
    tmp_path: Path,
) -> None:
    with Emulator(users=300, seed=5, responses_per_user=0) as emu:
        now = int(emu.clock.now())
        users = sorted(emu.store.all_ids())
        rnd = random.Random(3)
        loaded = emu.store.responses.load_responses(
            [{"end_user_id": rnd.choice(users), "score": rnd.randint(0, 10),
              "created_at": now - rnd.randint(86_400, 900 * 86_400)} for _ in range(8_000)])
        emu.faults.latency(0.02)  # 160 pages: some 4 s of responses to kill inside
        env = _env(emu, tmp_path)
        account = accounts.account_from_env(env)
        assert account is not None
        db_path = account.profile.cache_path(tmp_path)
        process = subprocess.Popen(_sync_command(), env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
        assert process.stderr is not None
        for line in process.stderr:  # progress lines: "responses  1,250 done ..."
            if line.startswith("responses") and not line.startswith("responses  0 done"):
                break
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        with Cache.open(db_path) as cache:
            kept, _ = cache.history_counts()
            resume = cache.cursor("responses.reread_at")
        assert 0 < kept < len(loaded) and resume is not None

        emu.faults.clear()
        final = subprocess.run(_sync_command(quiet=True), env=env, capture_output=True,
                               text=True, timeout=120)
        assert final.returncode == 0, final.stderr
        with Cache.open(db_path) as cache:
            assert cache.history_counts()[0] == len(loaded)
            assert cache.cursor("responses.reread_at") is None
            run = cache.last_sync_runs(1)[0]
        print(f"\nkilled with {kept} of {len(loaded)} responses cached; the next run read "
              f"{run.counts['responses']} in {run.counts['responses_requests']} requests")
        # it went on from the killed walk's last page instead of reading everything again
        assert run.counts["responses"] <= len(loaded) - kept + 100
