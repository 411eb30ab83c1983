"""The admin surface stands on the emulator's parts alone: no server, no import of the server."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from desktop_app.clock import ScaledClock
from desktop_app.emulator.admin import EmulatorAdmin
from desktop_app.emulator.erasure import PurgeSchedule
from desktop_app.emulator.faults import FaultPlan
from desktop_app.emulator.oauth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, TokenIssuer, TokenState
from desktop_app.emulator.store import EmulatorStore

ADMIN = Path(__file__).resolve().parents[2] / "desktop_app" / "emulator" / "admin.py"


def test_admin_answers_from_the_store_faults_and_tokens_without_a_server() -> None:
    clock = ScaledClock(speed=0.0, start=1_736_942_400)
    store, faults, tokens = EmulatorStore(clock), FaultPlan(seed=1), TokenIssuer(clock)
    admin = EmulatorAdmin(store, faults, tokens, PurgeSchedule(clock))

    reply, then = admin.handle("POST", "/_emulator/end_users", b'{"email": "ops@example.com"}')
    assert reply.status == 201 and then is None
    [new_id] = json.loads(reply.body)["ids"]
    assert (store.get(new_id) or {}).get("email") == "ops@example.com"

    health, _ = admin.handle("GET", "/_emulator/health", b"")
    assert json.loads(health.body) == {"end_users": 1, "offline": False}

    switched, _ = admin.handle("POST", "/_emulator/faults", b'{"fail_next": {"kind": "500"}}')
    assert switched.status == 200
    assert faults.pick("GET", "/v1/end_users") is not None  # the plan it was given took it

    token = tokens.grant({"grant_type": "client_credentials", "client_id": DEFAULT_CLIENT_ID,
                          "client_secret": DEFAULT_CLIENT_SECRET}).document["access_token"]
    assert tokens.check(token) is TokenState.VALID
    expired, _ = admin.handle("POST", "/_emulator/tokens/expire", b"")
    assert expired.status == 204 and tokens.check(token) is TokenState.EXPIRED


def test_admin_module_never_imports_the_server_not_even_for_type_checking() -> None:
    # The import contract skips `if TYPE_CHECKING:` imports; the cycle began as one of those.
    tree = ast.parse(ADMIN.read_text(encoding="utf-8"))
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.append(node.module)
            imported.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            imported.extend(alias.name for alias in node.names)
    assert imported and not [name for name in imported if name.startswith("desktop_app.emulator.server")]
    assert "desktop_app.emulator" not in imported  # the package's __init__ imports the server
