"""The main window as a screen reader meets it: its accessibility tree read over AT-SPI by
another process, as Orca would.

That needs an X server (Xvfb), a D-Bus session, at-spi2-core and python3-pyatspi for the system
python; .ci/run installs them and sets WOOTRIC_REQUIRE_ATSPI=1, so in CI a missing piece fails.
Elsewhere the tests skip and say which piece is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import SAMPLE_SIZE, sample_end_users

HERE = Path(__file__).resolve().parent / "atspi"
SYSTEM_PYTHON = Path("/usr/bin/python3")  # python3-pyatspi is built for it, not for the venv
BUS_LAUNCHERS = (Path("/usr/libexec/at-spi-bus-launcher"), Path("/usr/lib/at-spi2-core/at-spi-bus-launcher"))
TYPED_SECRET = "atspi-client-secret-5f2c"  # what atspi/app.py types into the sign-in dialog's secret field
SHOWN = next(u for u in sample_end_users() if u.id == 1005)  # the end user atspi/app.py shows
PRO = sum(1 for u in sample_end_users() if u.properties["plan"] == "pro")

# Roles a person operates or reads a value from: each must have a name when it is on screen.
NAMED_ROLES = {
    "push button", "toggle button", "check box", "radio button", "text", "entry", "password text",
    "combo box", "table", "tree", "tree table", "list", "progress bar", "spin button", "slider",
    "page tab", "menu item", "check menu item", "radio menu item", "image",
}


def _missing_piece() -> str | None:
    for tool, package in (("xvfb-run", "xvfb"), ("xauth", "xauth"), ("dbus-run-session", "dbus")):
        if shutil.which(tool) is None:
            return f"{tool} not found (apt-get install {package})"
    if not any(path.exists() for path in BUS_LAUNCHERS):
        return "at-spi-bus-launcher not found (apt-get install at-spi2-core)"
    if not SYSTEM_PYTHON.exists() or subprocess.run(
        [str(SYSTEM_PYTHON), "-c", "import pyatspi"], capture_output=True, timeout=60
    ).returncode != 0:
        return f"{SYSTEM_PYTHON} cannot import pyatspi (apt-get install python3-pyatspi)"
    return None


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Every node of the running main window's accessibility tree, read once for the module."""
    missing = _missing_piece()
    if missing is not None:
        if os.environ.get("WOOTRIC_REQUIRE_ATSPI") == "1":
            pytest.fail(f"AT-SPI is required here but {missing}")
        pytest.skip(f"no AT-SPI accessibility bus to read: {missing}")
    from desktop_app.cache.store import Cache

    root = tmp_path_factory.mktemp("atspi")
    cache = Cache.open(root / "desk" / "cache.db")
    cache.ingest_pulled(sample_end_users(), "end_users", 1_700_000_000 + SAMPLE_SIZE)
    cache.close()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DBUS_", "AT_SPI_")) and key not in ("DISPLAY", "QT_QPA_PLATFORM")}
    env.update(
        QT_QPA_PLATFORM="xcb",
        QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1",  # expose the tree even though no screen reader asked
        WOOTRIC_DESK_HOME=str(root / "home"),
        XDG_CONFIG_HOME=str(root / "config"),  # the window saves its layout on close: not into ~
        XDG_DATA_HOME=str(root / "data"),
        XDG_CACHE_HOME=str(root / "cache"),
    )
    output = root / "tree.json"
    command = [
        "xvfb-run", "-a", "-s", "-screen 0 1440x900x24",
        "dbus-run-session", "--",
        sys.executable, str(HERE / "app.py"), str(root / "desk" / "cache.db"), str(HERE / "reader.py"), str(output),
    ]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0 and output.exists(), f"the AT-SPI run failed ({run.returncode}):\n{run.stderr[-3000:]}"
    nodes: list[dict[str, Any]] = json.loads(output.read_text())
    assert nodes and nodes[0]["name"] == "wootric-desk-atspi"
    return nodes


def _showing(tree: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [node for node in tree if node["showing"]]


def test_value_labels_are_read_with_what_they_are_and_their_value(tree: list[dict[str, Any]]) -> None:
    labels = {node["name"] for node in _showing(tree) if node["role"] == "label"}
    expected = {
        f"Matching end users: {PRO:,} of {SAMPLE_SIZE:,} end users",  # the match count
        "Activity: Copied 1 end users.",  # the activity line
        "Sync state: Not connected: local data only",  # the sync state
        f"End user: {SHOWN.email}",  # the detail fields
        f"ID: {SHOWN.id}",
        "Surveys: On — this end user can be surveyed.",
        "Sync state of this end user: In sync with the last pull.",
    }
    assert expected - labels == set(), sorted(labels)


def test_every_control_on_screen_has_a_name(tree: list[dict[str, Any]]) -> None:
    unnamed = [f"{node['path']} ({node['role']})" for node in _showing(tree)
               if node["role"] in NAMED_ROLES and not node["name"].strip()]
    assert unnamed == []


def test_fields_say_their_name_and_their_value(tree: list[dict[str, Any]]) -> None:
    fields = {node["name"]: node for node in _showing(tree) if node["role"] == "text"}
    assert fields["Filter"]["text"] == "plan:pro"
    assert fields["Filter"]["description"].startswith("Filter end users with the filter language")
    assert fields["Email"]["text"] == SHOWN.email
    buttons = {node["name"]: node for node in _showing(tree) if node["role"] in ("push button", "check box")}
    assert {"Clear the filter", "Sync now", "Work offline", "Disable surveys"} <= set(buttons)
    assert buttons["Disable surveys"]["description"] == "Turn surveys on or off"


def test_the_dialogs_are_named_and_their_choices_captioned(tree: list[dict[str, Any]]) -> None:
    dialogs = {node["name"] for node in _showing(tree) if node["role"] == "dialog"}
    assert {"Export end users to CSV", "Sign in"} <= dialogs
    labels = {node["name"] for node in _showing(tree) if node["role"] == "label"}
    assert "Export status" in labels  # nothing exported yet: the caption alone
    assert any(name.startswith("Where your secret is kept: No system keyring found") for name in labels)
    # A combo box is named by its current text on Linux: its caption arrives as "labelled by".
    combos = [node for node in _showing(tree) if node["role"] == "combo box"]
    assert combos and all(node.get("labelled_by") for node in combos), combos
    fields = {node["name"]: node for node in _showing(tree) if node["role"] in ("text", "password text")}
    assert fields["File to write"]["labelled_by"] == ["File:"]
    assert fields["Client secret"]["role"] == "password text"


def test_a_typed_secret_never_reaches_the_accessibility_bus(tree: list[dict[str, Any]]) -> None:
    assert TYPED_SECRET not in json.dumps(tree)
    secret = next(node for node in _showing(tree) if node["name"] == "Client secret")
    assert secret["text"] == "●" * len(TYPED_SECRET)  # read, and masked
