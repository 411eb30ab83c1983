"""Our NPS equals the service's: the emulator's `GET /v1/nps_summary` for the whole account over
date ranges (whole days of the account zone, both ends included) against `EndUserQuery.nps`
over a real cache filled by a real sync of the emulator's sample responses."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import httpx

from desktop_app.cache.reading.nps import ACCOUNT_ZONE
from desktop_app.cache.reading.query import EndUserQuery
from desktop_app.cache.store import Cache
from desktop_app.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from desktop_app.emulator.response_store import HistoryQuery
from desktop_app.sync import SyncService, SyncState


def _midnight(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=ACCOUNT_ZONE).timestamp())


def _summary(http: httpx.Client, start: date, end: date) -> dict[str, Any]:
    reply = http.get("/v1/nps_summary", params={"date[start]": start.isoformat(), "date[end]": end.isoformat()})
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def _ours(query: EndUserQuery, start: date, end: date) -> dict[str, Any]:
    counts = query.nps("", _midnight(start), _midnight(end + timedelta(days=1))).counts
    return {"nps": counts.nps or 0, "responses": counts.responses, "promoters": counts.promoters,
            "passives": counts.passives, "detractors": counts.detractors}


def _ranges(today: date) -> list[tuple[date, date]]:
    first = today.replace(day=1)
    last_month_end = first - timedelta(days=1)
    last_month = last_month_end.replace(day=1)
    march = date(today.year - 1, 3, 1)  # a month holding the spring change of the clocks
    return [
        (date(2000, 1, 1), today),  # all of it
        (today - timedelta(days=365), today),
        (last_month, last_month_end),  # one whole month, its first and last day included
        (last_month_end, first),  # the last day of a month and the first of the next
        (last_month_end, last_month_end),  # one day
        (march, date(march.year, 3, 31)),
        (date(today.year - 1, 10, 31), date(today.year - 1, 11, 1)),  # the autumn change
        (today, today - timedelta(days=3)),  # start after end: nothing
    ]


def test_the_account_nps_equals_the_services_nps_summary(emu: Emulator, cache: Cache,
                                                          service: SyncService) -> None:
    # a colleague excludes a few answers and a fresh survey blast lands on a month's first second
    history = emu.store.responses
    for row in history.page(HistoryQuery(kind="response", limit=40)):
        if row.score >= 9:
            history.edit("response", row.id, excluded_from_calculations=True)
    today = datetime.fromtimestamp(int(emu.clock.now()), ACCOUNT_ZONE).date()
    first = _midnight(today.replace(day=1))
    users = sorted(emu.store.all_ids())
    history.load_responses([{"end_user_id": users[i], "score": i % 11, "created_at": first - 1 + i % 2}
                            for i in range(60)])
    status = service.run_once()
    assert status.state is SyncState.IDLE, status.message
    query = EndUserQuery(cache.engine)
    with httpx.Client(base_url=emu.base_url, timeout=10.0) as http:
        token = http.post("/oauth/token", data={"grant_type": "client_credentials",
                                                "client_id": DEFAULT_CLIENT_ID,
                                                "client_secret": DEFAULT_CLIENT_SECRET}).json()
        http.headers["Authorization"] = f"Bearer {token['access_token']}"
        checked = 0
        for start, end in _ranges(today):
            theirs = _summary(http, start, end)
            expected = {k: theirs[k] for k in ("nps", "responses", "promoters", "passives", "detractors")}
            assert _ours(query, start, end) == expected, (start, end)
            checked += theirs["responses"]
        assert checked > 1000  # the ranges held real data, not only zeros
