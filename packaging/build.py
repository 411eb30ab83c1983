"""Build the one-dir bundle and (on Debian-like Linux) the .deb, then prove both work.

    .venv/bin/python packaging/build.py [--skip-deb] [--deb-compression zstd] [--use-current-python]

Stdlib only. Output goes to packaging/dist/ (git-ignored): the bundle `wootric-desk/` and
`wootric-desk_<version>_<arch>.deb`. Steps, each timed:
  1. a build environment from uv.lock (runtime + the `packaging` group, no test tools) in
     packaging/build/venv, so a `uv sync` of the dev venv by someone else cannot pull
     PyInstaller away mid-build;
  2. PyInstaller with packaging/wootric-desk.spec; the bundle's size;
  3. the bundle's own `--self-test`, headless (QT_QPA_PLATFORM=offscreen): PASS or FAIL;
  4. the .deb (dpkg-deb --build --root-owner-group) and its size, Depends derived from ldd;
  5. desktop-file-validate and `appstreamcli validate --no-net` on resources/.
Exit status 0 only when every step that ran passed.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DIST = HERE / "dist"
WORK = HERE / "build"
BUILD_VENV = WORK / "venv"
SPEC = HERE / "wootric-desk.spec"
RESOURCES = ROOT / "resources"
APP_ID = "wootric-desk"
METAINFO = RESOURCES / "io.github.wootric_desk.WootricDesk.metainfo.xml"
DESKTOP = RESOURCES / f"{APP_ID}.desktop"
VALIDATOR_PACKAGES = "desktop-file-utils appstream"


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """One build step: PASS, FAIL or SKIP, how long it took and what it found."""

    name: str
    verdict: str
    seconds: float
    detail: str


class BuildFailed(Exception):
    """A step could not produce what the next one needs."""


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def tree_size(folder: Path) -> int:
    """Bytes of every file under `folder`, symlinks counted as links (as installed)."""
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def project() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {"name": data["name"], "version": data["version"], "description": data["description"]}


def find_uv() -> str | None:
    local = ROOT / ".venv-tools" / ("Scripts/uv.exe" if os.name == "nt" else "bin/uv")
    return str(local) if local.exists() else shutil.which("uv")


def build_environment(use_current: bool) -> tuple[Path, str]:
    """The Python that runs PyInstaller: a locked build venv, or this interpreter if asked."""
    if use_current:
        if importlib.util.find_spec("PyInstaller") is None:
            raise BuildFailed(
                "PyInstaller is not installed here: run `UV_PROJECT_ENVIRONMENT=.venv uv sync "
                "--frozen --all-groups`, or drop --use-current-python")
        return Path(sys.executable), "this interpreter"
    uv = find_uv()
    if uv is None:
        raise BuildFailed("uv is missing: `python3 -m pip install uv` (or run with "
                          "--use-current-python in a venv that has the packaging group)")
    env = dict(os.environ, UV_PROJECT_ENVIRONMENT=str(BUILD_VENV))
    subprocess.run([uv, "sync", "--frozen", "--quiet", "--no-dev", "--group", "packaging",
                    "--python", sys.executable], cwd=ROOT, env=env, check=True, timeout=900)
    python = BUILD_VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    return python, f"{BUILD_VENV.relative_to(ROOT)} from uv.lock"


def run_pyinstaller(python: Path) -> Path:
    bundle = DIST / APP_ID
    log = WORK / "pyinstaller.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as handle:
        done = subprocess.run(
            [str(python), "-m", "PyInstaller", "--noconfirm", "--distpath", str(DIST),
             "--workpath", str(WORK / "pyinstaller"), str(SPEC)],
            cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, timeout=1800)
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        raise BuildFailed("PyInstaller failed:\n" + "\n".join(tail))
    executable = bundle / (f"{APP_ID}.exe" if os.name == "nt" else APP_ID)
    if not executable.exists():
        raise BuildFailed(f"PyInstaller finished but {executable} is missing")
    return executable


def run_bundle_self_test(executable: Path) -> tuple[bool, str]:
    """The bundle's own --self-test, headless, in a throwaway home; never the person's data."""
    with tempfile.TemporaryDirectory(prefix="wootric-build-home-") as home:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", WOOTRIC_DESK_HOME=home)
        try:
            done = subprocess.run([str(executable), "--self-test"], capture_output=True, text=True,
                                  env=env, timeout=300)
        except subprocess.TimeoutExpired:
            return False, "the self-test did not finish in 300 s"
    output = (done.stdout + done.stderr).rstrip()
    return done.returncode == 0, output


def validate_metadata() -> list[StepOutcome]:
    """desktop-file-validate and appstreamcli; SKIP with the apt command when missing."""
    outcomes = []
    checks = [("desktop-file-validate", ["desktop-file-validate", str(DESKTOP)]),
              ("appstreamcli validate", ["appstreamcli", "validate", "--no-net", str(METAINFO)])]
    for name, command in checks:
        t0 = time.perf_counter()
        if shutil.which(command[0]) is None:
            outcomes.append(StepOutcome(name, "SKIP", 0.0,
                                        f"{command[0]} missing: apt-get install -y {VALIDATOR_PACKAGES}"))
            continue
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        text = " ".join((done.stdout + done.stderr).split()) or "no findings"
        outcomes.append(StepOutcome(name, "PASS" if done.returncode == 0 else "FAIL",
                                    time.perf_counter() - t0, text))
    return outcomes


def _timed(name: str, action: Callable[[], str], outcomes: list[StepOutcome]) -> bool:
    t0 = time.perf_counter()
    try:
        detail, verdict = action(), "PASS"
    except (BuildFailed, subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
        detail, verdict = str(error), "FAIL"
    outcomes.append(StepOutcome(name, verdict, time.perf_counter() - t0, detail))
    print(f"[{verdict}] {name} ({outcomes[-1].seconds:.1f} s): {detail}", flush=True)
    return verdict == "PASS"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-deb", action="store_true", help="bundle and self-test only")
    parser.add_argument("--use-current-python", action="store_true",
                        help="run PyInstaller from this interpreter instead of a locked build venv")
    parser.add_argument("--deb-compression", choices=["xz", "zstd"], default="xz",
                        help="xz: smallest, any dpkg (default); zstd: much faster, dpkg 1.21.18+")
    parser.add_argument("--maintainer", default=os.environ.get("WOOTRIC_DESK_MAINTAINER"),
                        help="the .deb Maintainer field (or WOOTRIC_DESK_MAINTAINER)")
    args = parser.parse_args(argv)
    meta = project()
    started = time.perf_counter()
    print(f"Building {meta['name']} {meta['version']} on {sys.platform} into {DIST}", flush=True)
    outcomes: list[StepOutcome] = []
    state: dict[str, Path] = {}

    def environment() -> str:
        state["python"], where = build_environment(args.use_current_python)
        return where

    def bundle() -> str:
        state["executable"] = run_pyinstaller(state["python"])
        size = tree_size(state["executable"].parent)
        return f"{state['executable'].parent.relative_to(ROOT)}: {_mb(size)} ({size:,} bytes)"

    def self_test() -> str:
        passed, output = run_bundle_self_test(state["executable"])
        print("\n".join("    " + line for line in output.splitlines()), flush=True)
        if not passed:
            raise BuildFailed("the bundle's --self-test FAILED (output above)")
        return "the bundle's --self-test PASSED"

    def deb() -> str:
        sys.path.insert(0, str(HERE))
        from debian_package import DEFAULT_MAINTAINER, build_deb

        package = build_deb(state["executable"].parent, DIST, WORK, version=meta["version"],
                            description=meta["description"],
                            maintainer=args.maintainer or DEFAULT_MAINTAINER,
                            compression=args.deb_compression)
        guessed = "".join(f"\n    {soname} not on this host; Depends guesses {name}"
                          for soname, name in package.guessed)
        return (f"{package.path.relative_to(ROOT)}: {_mb(package.path.stat().st_size)} "
                f"({package.path.stat().st_size:,} bytes), installed {package.installed_kib:,} KiB\n"
                f"    Depends: {', '.join(package.depends)}\n"
                f"    Recommends: {', '.join(package.recommends)}{guessed}")

    ok = (_timed("build environment", environment, outcomes)
          and _timed("pyinstaller bundle", bundle, outcomes))
    if ok:
        _timed("bundle self-test", self_test, outcomes)
        if args.skip_deb:
            outcomes.append(StepOutcome(".deb", "SKIP", 0.0, "--skip-deb"))
        elif not sys.platform.startswith("linux") or shutil.which("dpkg-deb") is None:
            outcomes.append(StepOutcome(".deb", "SKIP", 0.0, "needs Linux with dpkg-deb"))
        else:
            _timed(".deb", deb, outcomes)
    for outcome in validate_metadata():
        outcomes.append(outcome)
        print(f"[{outcome.verdict}] {outcome.name} ({outcome.seconds:.1f} s): {outcome.detail}",
              flush=True)
    total = time.perf_counter() - started
    failed = [o.name for o in outcomes if o.verdict == "FAIL"]
    print("\nSummary")
    for outcome in outcomes:
        print(f"  {outcome.verdict:<4}  {outcome.name:<22} {outcome.seconds:7.1f} s")
    print(f"  total build time {total:.1f} s: {'FAIL (' + ', '.join(failed) + ')' if failed else 'PASS'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
