"""A Wootric REST API emulator on loopback: the app's demo backend and every test's server.

    from desktop_app.emulator import Emulator
    with Emulator(users=500, seed=1) as emu:
        emu.base_url        # "http://127.0.0.1:PORT"
        emu.store.update(...)   # server-side changes, as a colleague in the dashboard makes them
        emu.faults.fail(0.2)    # injected failures; emu.faults.offline() / .online()

Behaviour follows the team's Wootric API notes (wootric-api.md). The choices made where the
real service is undocumented are listed in `service.py` (errors, auth), `oauth.py` (grants),
`rate_limit.py`, `faults.py`, `erasure.py` (a DELETE marks, the purge comes later),
`responses.py` (responses, declines, nps_summary, segments) and
`admin.py` (the `/_emulator/` control surface).
"""

from __future__ import annotations

from desktop_app.emulator.faults import DEFAULT_KINDS, FaultKind, FaultPlan
from desktop_app.emulator.oauth import (
    DEFAULT_ACCOUNT_TOKEN,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    TOKEN_LIFETIME,
)
from desktop_app.emulator.sample_data import Profile, generate_end_users, iter_end_users
from desktop_app.emulator.server import Emulator
from desktop_app.emulator.store import EmulatorStore

__all__ = [
    "DEFAULT_ACCOUNT_TOKEN",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_KINDS",
    "DEFAULT_PASSWORD",
    "DEFAULT_USERNAME",
    "TOKEN_LIFETIME",
    "Emulator",
    "EmulatorStore",
    "FaultKind",
    "FaultPlan",
    "Profile",
    "generate_end_users",
    "iter_end_users",
]
