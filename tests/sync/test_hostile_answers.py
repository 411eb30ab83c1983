"""A service answer the cache must not believe (issue 11 item 3), over real HTTP from the emulator.

The policy: the run fails with a protocol error that names the field, and nothing of the page
is stored. Skipping the row instead would move the checkpoint past it and lose that end user
for good; failing leaves the checkpoint before it, so the next run reads it again.
"""

from __future__ import annotations

import pytest

from desktop_app.cache.store import Cache
from desktop_app.emulator import Emulator
from desktop_app.sync import SyncService, SyncState
from desktop_app.sync.pull import CURSOR_KEY

from .conftest import cache_view, server_view


@pytest.mark.parametrize(("field", "value", "said"), [
    ("id", True, "unusable id in the service's answer (an end user): true is a boolean"),
    ("updated_at", 1e300, "unusable updated_at in the service's answer (end user "),
    ("created_at", 2**63, "is beyond the dates a timestamp can hold"),
])
def test_an_unbelievable_row_fails_the_run_and_stores_nothing_of_its_page(
    emu: Emulator, cache: Cache, service: SyncService, field: str, value: object, said: str,
) -> None:
    assert service.run_once().state is SyncState.IDLE
    before, cursor = cache_view(cache), cache.cursor(CURSOR_KEY)
    changed = sorted(emu.store.all_ids())[:2]
    for end_user_id in changed:
        emu.store.set_property(end_user_id, "plan", "Changed on the service")
    emu.faults.tamper_next(field, value, path_prefix="/v1/end_users")

    status = service.run_once()

    assert status.state is SyncState.FAILED
    assert said in status.message, status.message
    assert "SQLite" not in status.message and "too large" not in status.message
    assert cache.get(1) is None  # no phantom end user 1
    assert cache_view(cache) == before  # neither change of that page, nor half of it
    assert cache.cursor(CURSOR_KEY) == cursor
    assert cache.last_sync_runs(1)[0].outcome == "failed"
    # once the service answers sanely again, the next run brings both changes
    assert service.run_once().state is SyncState.IDLE
    assert cache_view(cache) == server_view(emu)
    assert all(cache.get(i).end_user.properties["plan"] == "Changed on the service"
               for i in changed)


@pytest.mark.parametrize(("path", "field", "value", "said"), [
    ("/v1/responses", "score", 11, "unusable score in the service's answer (survey response "),
    ("/v1/responses", "excluded_from_calculations", "false",
     "unusable excluded_from_calculations"),
    ("/v1/responses", "created_at", "yesterday", "unusable created_at"),
    ("/v1/declines", "end_user_id", [7], "unusable end_user_id in the service's answer (survey decline"),
])
def test_an_unbelievable_response_or_decline_fails_the_run_and_stores_nothing_of_its_page(
    emu: Emulator, cache: Cache, service: SyncService, path: str, field: str, value: object,
    said: str,
) -> None:
    emu.faults.tamper_next(field, value, path_prefix=path)
    status = service.run_once()
    assert status.state is SyncState.FAILED
    assert said in status.message, status.message
    table = "response" if path == "/v1/responses" else "decline"
    assert cache.history_counts()[0 if table == "response" else 1] == 0  # its first page
    assert cache.cursor(f"{table}s.created_at") is None
    assert cache.count_all() == len(emu.store.all_ids())  # the end users came before it
    assert service.run_once().state is SyncState.IDLE
    responses, declines = cache.history_counts()
    assert responses == emu.store.responses.count("response")
    assert declines == emu.store.responses.count("decline")
