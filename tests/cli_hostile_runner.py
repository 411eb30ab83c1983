"""Runs many `wootric-desk` command lines, each in its own process, cheaply.

The imports (about 2 s) happen once here; every case then runs in a forked child exactly as
`python -m desktop_app ARGS` would (runpy, then the interpreter's own exit and final flush), with
its own copy of the data directory, its own stdout and stderr, and a memory cap.

    python tests/cli_hostile_runner.py CASES.json RESULTS.jsonl TEMPLATE_HOME JOBS
"""

from __future__ import annotations

import gc
import glob
import importlib
import json
import os
import resource
import runpy
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from typing import Any

TIMEOUT_S = 60.0  # a case still running by then hangs (a case may set its own "timeout")
MEMORY_CAP = 2 * 1024**3
PRELOAD = ("desktop_app.cli", "desktop_app.cli.verbs", "desktop_app.emulator.__main__",
           "desktop_app.export", "desktop_app.logs", "desktop_app.api.transport",
           "desktop_app.cache.schema.database", "desktop_app.cache.store", "desktop_app.sync", "keyring")


def _child(case: dict[str, Any], work: str, template_home: str) -> None:
    home = os.path.join(work, "home")
    shutil.copytree(template_home, home, symlinks=True)
    stdin = os.open(os.devnull, os.O_RDONLY)
    os.dup2(stdin, 0)
    err = os.open(os.path.join(work, "stderr"), os.O_WRONLY | os.O_CREAT, 0o600)
    os.dup2(err, 2)
    if case.get("stdout") == "closed":  # the reader went away before the first byte (`| head`)
        read_end, write_end = os.pipe()
        os.close(read_end)
        os.dup2(write_end, 1)
    elif case.get("stdout") == "full":  # a full disk (`> /dev/full`)
        os.dup2(os.open("/dev/full", os.O_WRONLY), 1)
    else:
        out = os.open(os.path.join(work, "stdout"), os.O_WRONLY | os.O_CREAT, 0o600)
        os.dup2(out, 1)
    os.environ["WOOTRIC_DESK_HOME"] = home
    for name, value in case.get("env", {}).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    os.chdir(work)
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as the interpreter sets it at start
    sys.argv = ["wootric-desk", *case["argv"]]
    runpy.run_module("desktop_app", run_name="__main__", alter_sys=True)
    sys.exit(0)  # desktop_app/__main__ always exits; this is not reached


def _outbox(home: str) -> list[list[object]]:
    """The cache's outbox after the case (read with the standard library: no cache code)."""
    rows: list[list[object]] = []
    for path in sorted(glob.glob(os.path.join(home, "cache", "*.sqlite3"))):
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            rows += [list(r) for r in db.execute(
                "SELECT id, end_user_id, kind, key, value_json, state FROM pending_edit ORDER BY id")]
    return rows


def main() -> None:
    cases_path, results_path, template_home, jobs = sys.argv[1:5]
    # Everything a verb imports (httpx, SQLModel, the keyring), once, before the forks.
    for module in PRELOAD:
        importlib.import_module(module)

    with open(cases_path, encoding="utf-8") as handle:
        cases = json.load(handle)
    gc.freeze()  # the children's collections skip the preloaded modules (no copy-on-write storm)
    # beside the results (the test's tmp_path): a runner killed half-way leaves nothing in /tmp
    root = tempfile.mkdtemp(prefix="cases-", dir=os.path.dirname(os.path.abspath(results_path)))
    running: dict[int, tuple[int, str, float]] = {}
    pending = list(enumerate(cases))
    with open(results_path, "w", encoding="utf-8") as results:
        while pending or running:
            while pending and len(running) < int(jobs):
                number, case = pending.pop(0)
                work = os.path.join(root, str(number))
                os.mkdir(work)
                sys.stdout.flush()
                sys.stderr.flush()
                results.flush()
                pid = os.fork()
                if pid == 0:
                    _child(case, work, template_home)
                running[pid] = (number, work, time.monotonic())
            time.sleep(0.01)
            for pid, (number, work, started) in list(running.items()):
                done, status = os.waitpid(pid, os.WNOHANG)
                timed_out = False
                if not done:
                    if time.monotonic() - started < cases[number].get("timeout", TIMEOUT_S):
                        continue
                    os.kill(pid, signal.SIGKILL)
                    _, status = os.waitpid(pid, 0)
                    timed_out = True
                del running[pid]
                with open(os.path.join(work, "stderr"), "rb") as handle:
                    stderr = handle.read().decode("utf-8", "backslashreplace")
                left = sorted(set(os.listdir(work)) - {"home", "stdout", "stderr"})
                results.write(json.dumps({
                    "case": number, "timed_out": timed_out,
                    "exit": os.waitstatus_to_exitcode(status), "stderr": stderr[-4000:],
                    "seconds": round(time.monotonic() - started, 2),
                    "outbox": _outbox(os.path.join(work, "home")), "files": left,
                }) + "\n")
                shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
