"""A list's batch leaves through the ordinary push: each person's own values reach the service,
a colleague's change to another key merges, one to the same key is a conflict, never a clobber."""

from __future__ import annotations

from desktop_app.api.client import WootricClient
from desktop_app.cache.store import Cache
from desktop_app.emulator import Emulator
from desktop_app.lists.actions import apply_action
from desktop_app.lists.identifiers import IdentifierKind
from desktop_app.lists.matching import match_list
from desktop_app.lists.wanted import ActionKind, ListAction
from desktop_app.sync import SyncService
from desktop_app.sync.push import push_all

from .conftest import cache_view, credentials, server_view


def test_per_row_values_push_through_the_merge_at_one_request_per_person(
        emu: Emulator, cache: Cache, service: SyncService) -> None:
    service.run_once()
    ids = sorted(emu.store.all_ids())[:6]
    emails = [cache.get(i).end_user.email for i in ids]
    values = [{"plan": f"plan-{n}", "seats_amount": str(10 * n)} for n in range(len(ids))]
    report = match_list(cache, IdentifierKind.EMAIL, [e.upper() for e in emails],
                        ListAction(ActionKind.SET_COLUMNS), values=values)
    assert sorted(m.id for m in report.matched) == ids
    apply_action(cache, report)
    emu.store.set_property(ids[0], "region", "Theirs")  # a colleague, another key: merges
    emu.store.set_property(ids[1], "plan", "Theirs")  # the same key: a conflict
    with WootricClient(credentials(emu)) as client:
        before = client.request_count
        pushed = push_all(client, cache)
        requests = client.request_count - before
    assert pushed.conflicts == 1 and pushed.end_users == len(ids)
    # As any bulk edit's push today: the sign-in, then per person a GET (theirs, for the merge)
    # and one PUT carrying both of their keys, not one request per cell.
    assert requests == 1 + 2 * len(ids)
    server = server_view(emu)
    assert server[ids[0]]["properties"]["plan"] == "plan-0" and server[ids[0]]["properties"]["region"] == "Theirs"
    assert server[ids[1]]["properties"]["plan"] == "Theirs"  # nothing overwritten
    for n, i in enumerate(ids[2:], start=2):
        assert server[i]["properties"]["plan"] == f"plan-{n}"
        assert server[i]["properties"]["seats_amount"] == str(10 * n)
    [conflict] = cache.conflicts()
    assert (conflict.end_user_id, conflict.key, conflict.mine, conflict.theirs) == (ids[1], "plan", "plan-1", "Theirs")
    service.run_once()
    view = cache_view(cache)
    assert {i: view[i] for i in ids if i != ids[1]} == {i: server_view(emu)[i] for i in ids if i != ids[1]}
