"""The account-wide survey history over real HTTP: the emulator's /v1/responses and /v1/declines."""

from __future__ import annotations

from typing import Any

from desktop_app.emulator.response_store import HistoryQuery


def test_walks_of_responses_and_declines_keep_their_bounds(make_emulator: Any, client_for: Any) -> None:
    emu = make_emulator(users=120, seed=4)
    client = client_for(emu)
    for kind, walk in (("response", client.walk_responses), ("decline", client.walk_declines)):
        rows = emu.store.responses.page(HistoryQuery(kind=kind, descending=False, limit=10**9))
        assert len(rows) > 50, kind
        middle = sorted(r.created_at for r in rows)[len(rows) // 2]
        since, until = middle - 30 * 86_400, middle + 30 * 86_400
        expected = sorted(r.id for r in rows if since <= r.created_at < until)
        walked = walk(since, until)
        got = [r.id for page in walked for r in page.rows]
        assert sorted(got) == expected and len(got) == len(set(got)), kind
        assert walked.stats.rows == len(expected)


def test_the_account_list_and_the_per_user_list_read_alike(make_emulator: Any, client_for: Any) -> None:
    emu = make_emulator(users=60, seed=2)
    client = client_for(emu)
    everyone = {r.id: r for page in client.walk_responses(None) for r in page.rows}
    some = next(r.end_user_id for r in everyone.values())
    mine = client.list_responses(some)
    assert mine and all(everyone[r.id] == r for r in mine)  # one parser, the same records
    newest_first = client.list_responses_page([("per_page", "50")])
    assert [r.created_at for r in newest_first] == sorted(
        (r.created_at for r in newest_first), reverse=True)  # why every walk request says asc
