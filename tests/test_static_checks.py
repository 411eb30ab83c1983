"""The static checks (`python3 dev.py check`) pass on the tree and fail on a deliberate violation.

Each violation goes into a copy of the package (import contracts) or a scratch file checked with
the project's own configuration (mypy, ruff), never into the tree itself.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
import tokenize
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CONFIG = ROOT / "pyproject.toml"


def run(tool: str, *args: str, cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "NO_COLOR": "1"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([str(BIN / tool), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=240)


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of desktop_app and the config, importable ahead of the tree's own package."""
    root = tmp_path_factory.mktemp("contracts")
    shutil.copytree(ROOT / "desktop_app", root / "desktop_app",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(CONFIG, root / "pyproject.toml")
    return root


def test_the_tree_keeps_every_import_contract() -> None:
    result = run("lint-imports", "--no-cache", cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("desktop_app/cache/reading/query.py", "from PySide6.QtCore import QObject", "Qt lives in desktop_app.ui only"),
        ("desktop_app/sync/pull.py", "import httpx", "httpx only in the API client's transport"),
        ("desktop_app/export/csv_export.py", "from desktop_app.ui.theme import surveys_icon",
         "The core stays off the window"),
        ("desktop_app/api/errors.py", "from desktop_app.api.client import WootricClient",
         "The API client's errors and credentials load without httpx"),
        ("desktop_app/cache/reading/read_pool.py", "import sqlmodel",
         "The first paint's reads load without SQLModel"),
        ("desktop_app/sync/service.py", "from desktop_app.emulator import Emulator",
         "The app talks to the emulator only over HTTP"),
        ("desktop_app/ui/detail_panel.py", "from desktop_app.ui.tasks import TaskRunner",
         "Views run background work only as ops"),
        ("desktop_app/emulator/admin.py", "from desktop_app.emulator.server import Emulator",
         "The emulator's admin surface is built from the emulator's parts"),
        ("desktop_app/lists/reading.py", "from PySide6.QtWidgets import QFileDialog",
         "Qt lives in desktop_app.ui only"),
        ("desktop_app/lists/reading.py", "import httpx", "httpx only in the API client's transport"),
        ("desktop_app/lists/reading.py", "from desktop_app.emulator import Emulator",
         "The app talks to the emulator only over HTTP"),
    ],
)
def test_an_import_that_breaks_the_architecture_fails_the_check(
    package_copy: Path, module: str, line: str, contract: str
) -> None:
    target = package_copy / module
    original = target.read_text()
    # Inside a function, where such imports hide: the contracts count them too.
    target.write_text(original + f"\n\ndef _deliberate_violation() -> None:\n    {line}  # noqa: F401\n")
    try:
        result = run("lint-imports", "--no-cache", cwd=package_copy, pythonpath=package_copy)
    finally:
        target.write_text(original)
    assert result.returncode != 0, result.stdout[-3000:]
    flat = " ".join(result.stdout.split())  # contract names wrap at 80 columns
    summary = flat.split(" dependencies. ", 1)[1].split(" Contracts: ", 1)[0].strip("- ")
    verdicts = re.findall(r"(\S.*?) (KEPT|BROKEN)(?: \(\d+ ignored imports?\))? ?", summary)
    assert len(verdicts) >= 8, summary
    assert [name for name, verdict in verdicts if verdict == "BROKEN"] == [
        name for name, _ in verdicts if name.startswith(contract)], summary
    dotted = module.removesuffix(".py").replace("/", ".")
    assert f"{dotted} -> " in result.stdout


def test_mypy_refuses_an_untyped_function_and_a_bare_ignore(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(textwrap.dedent("""
        def total(values):
            return sum(values)

        count: int = "three"  # type: ignore
        label: str = 3
    """))
    result = run("mypy", "--config-file", str(CONFIG), "--no-incremental", str(bad), cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    assert "[no-untyped-def]" in result.stdout
    assert "[ignore-without-code]" in result.stdout
    assert "[assignment]" in result.stdout


def test_ruff_refuses_an_unused_import_a_blind_except_and_an_unneeded_noqa(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(textwrap.dedent("""
        import os


        def risky(job):
            try:
                job()
            except Exception:
                return None
            return 1  # noqa: E501
    """))
    result = run("ruff", "check", "--no-cache", "--config", str(CONFIG), "--output-format", "concise",
                 str(bad), cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    for code in ("F401", "BLE001", "RUF100"):
        assert code in result.stdout, result.stdout


_IGNORE = re.compile(r"type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<rest>.*)")
_NOQA = re.compile(r"noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:,\s*[A-Z]+[0-9]+)*))?(?P<rest>.*)")


def _comments(path: Path) -> Iterator[tuple[int, str]]:
    """The real comments of a Python file (not text inside strings), with their line numbers."""
    with tokenize.open(path) as source:
        for token in tokenize.generate_tokens(source.readline):
            if token.type == tokenize.COMMENT:
                yield token.start[0], token.string


def _reason(rest: str) -> str:
    return rest.strip().lstrip("#-(").strip()


def test_each_type_ignore_and_noqa_is_one_a_checker_needs_and_says_why() -> None:
    """mypy reads desktop_app only: an ignore anywhere else silences nothing. ruff reads every
    .py file and reports a noqa it does not need (RUF100); what neither can check is the reason."""
    mypy_files = tomllib.loads(CONFIG.read_text())["tool"]["mypy"]["files"]
    paths = [ROOT / "dev.py", *(p for top in ("desktop_app", "tests", "benchmarks", "docs", "packaging")
                                for p in sorted((ROOT / top).rglob("*.py")))]
    problems: list[str] = []
    for path in paths:
        where = path.relative_to(ROOT).as_posix()
        for line, comment in _comments(path):
            ignore, noqa = _IGNORE.search(comment), _NOQA.search(comment)
            if ignore:
                if not any(where.startswith(f"{top}/") for top in mypy_files):
                    problems.append(f"{where}:{line}: no type checker reads this file")
                elif not ignore["codes"] or not _reason(ignore["rest"]):
                    problems.append(f"{where}:{line}: a type: ignore needs its error code and a reason")
            if noqa and (not noqa["codes"] or not _reason(noqa["rest"])):
                problems.append(f"{where}:{line}: a noqa needs its rule codes and a reason")
    assert problems == []
