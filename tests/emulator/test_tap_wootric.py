"""A public client, unchanged: the walk singer-io/tap-wootric makes over responses and declines
(wootric-api.md §10 S2) gets every row of the emulator exactly once (and its end users too).

The tap's loop, as its code does it: client_credentials token, `per_page=50`, `sort_order=asc`,
`sort_key=created_at`, `created[gt]`/`created[lt]` 30-day windows from `start_date`, pages from
1; an empty page (or page 30 not full) moves the window to `gt = lt - 1` (both bounds exclusive),
a full page 30 narrows it to `gt` = the last row's created_at; it stops at the first empty page
once `lt` has passed the sync start. It keeps a row when its `updated_at` is after the bookmark,
parsing both with `%Y-%m-%d %H:%M:%S %z`. Data without more than 1,500 rows in one window: the
tap itself loses rows beyond that (its README says so).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import httpx

from desktop_app.clock import ScaledClock
from desktop_app.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from desktop_app.emulator.response_store import HistoryQuery

T = 1_736_942_400
DATETIME_FMT = "%Y-%m-%d %H:%M:%S %z"
WINDOW = 30 * 86_400
PER_PAGE = 50


def _unix(text: str) -> int:
    return int(datetime.strptime(text, DATETIME_FMT).astimezone(timezone.utc).timestamp())


def tap_walk(base_url: str, endpoint: str, start_date: int) -> tuple[list[dict[str, Any]], int]:
    """The rows the tap emits for one stream, and how many list requests it made (end users:
    `updated[...]` one-day windows by `updated_at`; responses, declines: `created[...]`)."""
    by_update = endpoint == "end_users"
    gt_key, lt_key = ("updated[gt]", "updated[lt]") if by_update else ("created[gt]", "created[lt]")
    sort_key = "updated_at" if by_update else "created_at"
    window = 86_400 if by_update else WINDOW
    with httpx.Client(base_url=base_url, timeout=30.0) as http:
        token = http.post("/oauth/token", data={
            "grant_type": "client_credentials", "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
        })
        token.raise_for_status()
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        params: dict[str, int | str] = {
            "per_page": PER_PAGE, "sort_order": "asc", gt_key: start_date,
            lt_key: start_date + window, "page": 1, "sort_key": sort_key,
        }
        last_date = start_date
        last_round = False
        sync_start = time.time()
        bookmark = start_date
        emitted: list[dict[str, Any]] = []
        requests = 0
        while True:
            reply = http.get(f"/v1/{endpoint}", params=params, headers=headers)
            requests += 1
            reply.raise_for_status()
            data = reply.json()
            for row in data:
                last_date = _unix(row[sort_key])
                if _unix(row["updated_at"]) > bookmark:
                    emitted.append(row)
            lt = int(params[lt_key])
            if int(params["page"]) >= 30:
                params["page"] = 1
                if len(data) == PER_PAGE:
                    params[gt_key] = last_date
                else:
                    params[gt_key] = lt - 1  # [lt] and [gt] are not inclusive
                    params[lt_key] = lt - 1 + window
            elif len(data) == 0:
                params["page"] = 1
                params[gt_key] = lt - 1
                params[lt_key] = lt - 1 + window
            else:
                params["page"] = int(params["page"]) + 1
            if last_round and len(data) == 0:
                break
            if int(params[lt_key]) > sync_start:
                last_round = True
        return emitted, requests


def _stored_ids(emu: Emulator, kind: str) -> Counter[int]:
    rows = emu.store.responses.page(HistoryQuery(kind=kind, limit=10**7))
    return Counter(row.id for row in rows)


def _window_counts(emu: Emulator, kind: str, start: int) -> int:
    rows = emu.store.responses.page(HistoryQuery(kind=kind, limit=10**7))
    return max(Counter((row.created_at - start - 1) // (WINDOW - 1) for row in rows).values())


def test_the_tap_gets_every_sample_response_and_decline_once(make_emulator: Callable[..., Emulator]) -> None:
    emu = make_emulator(users=1500, seed=4, clock=ScaledClock(speed=0.0, start=T))
    start_date = T - 4 * 365 * 86_400
    for kind, endpoint in (("response", "responses"), ("decline", "declines")):
        assert _window_counts(emu, kind, start_date) <= 1500  # the data the tap can walk at all
        emitted, requests = tap_walk(emu.base_url, endpoint, start_date)
        ids = Counter(row["id"] for row in emitted)
        assert max(ids.values()) == 1, f"{endpoint}: a row came twice"
        assert ids == _stored_ids(emu, kind), f"{endpoint}: rows missing"
        assert len(ids) > 400
        # each window: its pages plus the empty one that ends it
        assert requests <= len(ids) / PER_PAGE + 2 * (time.time() - start_date) / (WINDOW - 1) + 3


def test_the_tap_gets_a_dense_second_within_one_window(
    make_emulator: Callable[..., Emulator], raw_client: Callable[..., httpx.Client]
) -> None:
    emu = make_emulator(clock=ScaledClock(speed=0.0, start=T), responses_per_user=0, end_users=[
        {"id": 10 + i, "email": f"p{i}@campaign.example", "created_at": T - 400 * 86_400} for i in range(300)])
    campaign = T - 100 * 86_400
    rows = [{"end_user_id": 10 + i % 300, "score": i % 11, "created_at": campaign} for i in range(1_420)]
    rows += [{"end_user_id": 10 + i, "score": 9, "created_at": campaign + (i - 20) * 3_600} for i in range(40)]
    admin = raw_client(emu)
    assert admin.post("/_emulator/responses", json=rows).status_code == 201
    start_date = T - 365 * 86_400
    emitted, requests = tap_walk(emu.base_url, "responses", start_date)
    ids = Counter(row["id"] for row in emitted)
    assert max(ids.values()) == 1 and ids == _stored_ids(emu, "response") and len(ids) == 1_460
    assert requests <= 1_460 / PER_PAGE + 2 * (time.time() - start_date) / (WINDOW - 1) + 3


def test_the_tap_gets_every_end_user_once_too(make_emulator: Callable[..., Emulator]) -> None:
    """The tap's third stream, in its own manner: one-day `updated[...]` windows."""
    emu = make_emulator(users=1500, seed=4, clock=ScaledClock(speed=0.0, start=T), responses_per_user=0)
    start_date = T - 4 * 365 * 86_400
    emitted, _requests = tap_walk(emu.base_url, "end_users", start_date)
    ids = Counter(row["id"] for row in emitted)
    assert max(ids.values()) == 1 and set(ids) == emu.store.all_ids()
