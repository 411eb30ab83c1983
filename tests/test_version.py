"""The version the app reports is the one the project file declares."""

from __future__ import annotations

import tomllib
from pathlib import Path

import desktop_app


def test_package_version_matches_pyproject() -> None:
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    assert desktop_app.__version__ == project["project"]["version"]
