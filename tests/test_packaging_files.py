"""The packaging inputs are right: desktop entry, AppStream metadata, icons, spec and .deb layout."""

from __future__ import annotations

import ast
import configparser
import importlib.util
import os
import struct
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

from desktop_app import self_test
from desktop_app.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = ROOT / "resources"
ICONS = RESOURCES / "icons"
PACKAGING = ROOT / "packaging"
METAINFO_ID = "io.github.wootric_desk.WootricDesk"
PNG_SIZES = (16, 32, 48, 64, 128, 256, 512)
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
COMMAND = next(iter(PROJECT["scripts"]))  # "wootric-desk"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_packaging_{name}", PACKAGING / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


# --- desktop entry and AppStream -------------------------------------------------------------

def test_desktop_entry_launches_the_command_with_the_icon() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(RESOURCES / f"{COMMAND}.desktop", encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Wootric Desk"
    assert entry["Exec"].split()[0] == COMMAND
    assert entry["TryExec"] == COMMAND
    assert entry["Icon"] == COMMAND
    assert (ICONS / f"{entry['Icon']}.svg").exists()
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";") and "Office" in entry["Categories"].split(";")


def test_metainfo_is_complete_and_matches_the_project() -> None:
    path = RESOURCES / f"{METAINFO_ID}.metainfo.xml"
    root = ET.parse(path).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == METAINFO_ID
    assert root.findtext("name") == "Wootric Desk"
    assert root.findtext("summary")
    assert root.findtext("project_license") == PROJECT["license"]["text"]
    description = root.find("description")
    assert description is not None and description.findall("p")
    launchable = root.find("launchable")
    assert launchable is not None and launchable.get("type") == "desktop-id"
    assert launchable.text == f"{COMMAND}.desktop"
    assert (RESOURCES / launchable.text).exists()
    assert root.findtext("provides/binary") == COMMAND
    releases = root.findall("releases/release")
    assert releases, "no <release>"
    assert releases[0].get("version") == PROJECT["version"], "newest release is not the project's"
    assert releases[0].get("date")


# --- icons -----------------------------------------------------------------------------------

@pytest.mark.parametrize("size", PNG_SIZES)
def test_png_icon_is_the_size_its_name_says(size: int) -> None:
    assert _png_size(ICONS / f"{COMMAND}-{size}.png") == (size, size)


def test_svg_icon_is_a_square_self_contained_drawing() -> None:
    text = (ICONS / f"{COMMAND}.svg").read_text(encoding="utf-8")
    root = ET.fromstring(text)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    _x, _y, width, height = (float(v) for v in root.get("viewBox", "").split())
    assert width == height
    assert "<image" not in text and "href" not in text  # no embedded or linked artwork


def test_windows_ico_and_macos_icns_carry_the_png_sizes() -> None:
    ico = (ICONS / f"{COMMAND}.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind) == (0, 1) and count >= 4
    sides = {ico[6 + 16 * i] or 256 for i in range(count)}
    assert {16, 32, 48, 256} <= sides
    icns = (ICONS / f"{COMMAND}.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    assert b"ic09" in icns and b"icp4" in icns  # 512 and 16 px


# --- PyInstaller spec --------------------------------------------------------------------------

def test_spec_names_every_dynamically_loaded_module_and_keeps_size_down() -> None:
    text = (PACKAGING / "wootric-desk.spec").read_text(encoding="utf-8")
    ast.parse(text)  # valid Python
    for module in self_test.KEYRING_BACKENDS + self_test.LINUX_KEYRING_DEPS:
        assert f'"{module}"' in text, f"{module} is not a hidden import"
    assert 'copy_metadata("keyring")' in text  # keyring finds backends by entry point
    assert "copy_metadata(APP_NAME)" in text  # __version__ from metadata when frozen
    assert 'pyproject.toml' in text and 'PROJECT["version"]' in text
    assert '(str(ROOT / "resources"), "resources")' in text
    for excluded in ("PySide6.QtWebEngineCore", "PySide6.QtQuick", "PySide6.QtQml",
                     "PySide6.Qt3DCore", "PySide6.QtMultimedia"):
        assert f'"{excluded}"' in text, f"{excluded} is not excluded"


def test_platform_scripts_drive_the_same_spec() -> None:
    windows = (PACKAGING / "windows" / "build.ps1").read_text(encoding="utf-8")
    inno = (PACKAGING / "windows" / "wootric-desk.iss").read_text(encoding="utf-8")
    macos = (PACKAGING / "macos" / "build.sh").read_text(encoding="utf-8")
    for script in (windows, macos):
        assert "wootric-desk.spec" in script and "--self-test" in script
    assert "hdiutil create" in macos
    assert "{#AppVersion}" in inno and "wootric-desk.exe" in inno


def test_cli_offers_the_self_test_flag() -> None:
    assert build_parser().parse_args(["--self-test"]).self_test is True


# --- .deb layout and Depends naming (no dpkg needed) -------------------------------------------

def test_deb_stage_installs_command_entry_icons_and_metainfo(tmp_path: Path) -> None:
    deb = _load("debian_package")
    bundle = tmp_path / "bundle"
    (bundle / "_internal").mkdir(parents=True)
    (bundle / COMMAND).write_bytes(b"#!/bin/sh\n")
    stage = tmp_path / "stage"

    deb.stage_tree(bundle, stage)

    command = stage / "usr" / "bin" / COMMAND
    assert command.is_symlink() and os.readlink(command) == f"/opt/{COMMAND}/{COMMAND}"
    assert (stage / "opt" / COMMAND / COMMAND).exists()
    share = stage / "usr" / "share"
    assert (share / "applications" / f"{COMMAND}.desktop").exists()
    assert (share / "metainfo" / f"{METAINFO_ID}.metainfo.xml").exists()
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / f"{COMMAND}.svg").exists()
    for size in PNG_SIZES:
        installed = share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{COMMAND}.png"
        assert _png_size(installed) == (size, size)
    assert (share / "doc" / COMMAND / "copyright").read_text(encoding="utf-8").startswith("Format:")
    assert oct((stage / "usr" / "share").stat().st_mode & 0o777) == "0o755"


@pytest.mark.parametrize(("soname", "package"), [
    ("libxcb-cursor.so.0", "libxcb-cursor0"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libgtk-3.so.0", "libgtk-3-0"),
    ("libEGL.so.1", "libegl1"),
])
def test_unknown_library_gets_debian_package_name(soname: str, package: str) -> None:
    assert _load("debian_package").package_by_convention(soname) == package
