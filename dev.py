#!/usr/bin/env python3
"""Set up and run Wootric Desk from a fresh clone with nothing but Python 3.11+.

    python3 dev.py demo          # the app on its embedded emulator with sample end users
    python3 dev.py test [ARGS]   # the whole test suite, headless (ARGS go to pytest)
    python3 dev.py check         # the static checks: import contracts, mypy, ruff
    python3 dev.py run ARGS      # any `wootric-desk` command, e.g. `run sync`

The first call creates `.venv/` and installs the locked dependencies (`uv.lock`) into it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"  # the app's environment, exactly what uv.lock says
TOOLS = ROOT / ".venv-tools"  # holds uv only; `uv sync` would remove it from VENV
_SCRIPTS = "Scripts" if os.name == "nt" else "bin"
BIN = VENV / _SCRIPTS


def _exe(folder: Path, name: str) -> Path:
    return folder / _SCRIPTS / (f"{name}.exe" if os.name == "nt" else name)


def _venv_python() -> Path:
    return _exe(VENV, "python")


def ensure_environment() -> None:
    """Create the environment and sync it with the lock file (a second or two when up to date)."""
    if sys.version_info < (3, 11):  # noqa: UP036 - any python3 runs this file; it says why it stops
        sys.exit(f"Wootric Desk needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    uv = _exe(TOOLS, "uv")
    if not uv.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TOOLS)], check=True)
        subprocess.run([str(_exe(TOOLS, "python")), "-m", "pip", "install", "-q", "uv"], check=True)
    env = dict(os.environ, UV_PROJECT_ENVIRONMENT=str(VENV))
    subprocess.run(
        [str(uv), "sync", "--frozen", "--quiet", "--python", sys.executable],
        cwd=ROOT, env=env, check=True,
    )


def _keyring_wrapped(command: list[str]) -> tuple[list[str], dict[str, str]]:
    """Run `command` on a private D-Bus session with an unlocked gnome-keyring, when present.

    That gives the tests a real Secret Service; without one the keyring tests say why they skip.
    """
    env = dict(os.environ)
    if not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")):
        return command, env
    runtime = tempfile.mkdtemp(prefix="wootric-desk-xdg-")
    os.chmod(runtime, 0o700)
    env["XDG_RUNTIME_DIR"] = runtime
    env["XDG_DATA_HOME"] = os.path.join(runtime, "data")  # the test keyring file lives here
    env["WOOTRIC_DESK_SECRET_SERVICE"] = "1"
    quoted = " ".join("'" + part.replace("'", "'\\''") + "'" for part in command)
    script = (
        "printf 'ci-keyring' | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; "
        f"exec {quoted}"
    )
    return ["dbus-run-session", "--", "sh", "-c", script], env


# The static checks, each configured in pyproject.toml; `check` runs them all and fails if any does.
CHECKS = (
    ("import contracts", ["lint-imports", "--no-cache"]),
    ("types", ["mypy"]),
    ("lint", ["ruff", "check", "--no-cache", "--output-format", "concise", "."]),
)


def run_checks() -> int:
    failed = []
    for name, command in CHECKS:
        print(f"== {name}: {' '.join(command)}", flush=True)
        if subprocess.call([str(BIN / command[0]), *command[1:]], cwd=ROOT) != 0:
            failed.append(name)
    print(f"static checks failed: {', '.join(failed)}" if failed else "static checks passed")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test", "run", "check"}:
        print(__doc__.strip())
        return 2
    ensure_environment()
    verb, rest = argv[0], argv[1:]
    if verb == "demo":
        return subprocess.call([str(BIN / "wootric-desk"), "--demo", *rest])
    if verb == "run":
        return subprocess.call([str(BIN / "wootric-desk"), *rest])
    if verb == "check":
        return run_checks()
    command = [str(_venv_python()), "-m", "pytest", *rest]
    command, env = _keyring_wrapped(command)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    # Tests must never read or write the person's own data directory.
    env["WOOTRIC_DESK_HOME"] = tempfile.mkdtemp(prefix="wootric-desk-test-home-")
    return subprocess.call(command, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
