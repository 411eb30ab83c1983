"""The sample responses and declines: deterministic, stored, shaped like a real account's."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from desktop_app.clock import ScaledClock
from desktop_app.emulator import Emulator
from desktop_app.emulator.response_samples import MAX_BURST
from desktop_app.emulator.response_store import HistoryQuery, StoredDecline, StoredResponse
from desktop_app.timestamps import parse_wire_time

T = 1_736_942_400
EVERYTHING = {"date[start]": "2000-01-01", "date[end]": "2030-01-01"}
TAGS = {"billing", "onboarding", "performance", "support", "pricing", "reporting", "follow-up"}


def _all(emu: Emulator, kind: str) -> list[StoredResponse] | list[StoredDecline]:
    return emu.store.responses.page(HistoryQuery(kind=kind, limit=10**7, descending=False))


def _nps(rows: list[StoredResponse]) -> int:
    counted = [r.score for r in rows if not r.excluded_from_calculations]
    return round(100 * (sum(s >= 9 for s in counted) - sum(s <= 6 for s in counted)) / len(counted))


@pytest.fixture(scope="module")
def account() -> Emulator:
    return Emulator(users=3000, seed=2, clock=ScaledClock(speed=0.0, start=T))


def test_the_samples_look_like_an_account(account: Emulator) -> None:
    responses: list[StoredResponse] = _all(account, "response")  # type: ignore[assignment]
    declines = _all(account, "decline")
    users = account.store.count()
    assert 2.7 <= len(responses) / users <= 3.3  # about three per end user
    per_user = Counter(r.end_user_id for r in responses)
    assert 0.25 <= 1 - len(per_user) / users <= 0.45  # about a third never answered
    assert max(per_user.values()) >= 10
    assert [r.id for r in responses] == sorted(r.id for r in responses)  # ids grow with time
    assert all(r.created_at <= T for r in responses) and all(r.updated_at >= r.created_at for r in responses)
    # NPS of the account and of its segments
    assert 20 <= _nps(responses) <= 40
    by_plan: dict[object, list[StoredResponse]] = {}
    for r in responses:
        by_plan.setdefault(r.properties.get("plan"), []).append(r)
    assert _nps(by_plan["Business"]) - _nps(by_plan["Free"]) >= 30
    assert _nps(by_plan["Free"]) < _nps(by_plan["Starter"]) < _nps(by_plan["Pro"])
    # comments in six languages, some empty; tags; exclusions; unfinished surveys
    texts = [r.text for r in responses if r.text]
    assert 0.4 <= len(texts) / len(responses) <= 0.7
    assert any("ü" in t for t in texts) and any("é" in t for t in texts) and any("ñ" in t or "¡" in t for t in texts)
    assert any("ã" in t or "ç" in t for t in texts) and any("ト" in t or "す" in t for t in texts)
    assert any(r.text == "" for r in responses) and any(r.text is None for r in responses)
    tags = Counter(tag for r in responses for tag in r.tags)
    assert set(tags) <= TAGS and len(tags) >= 6
    assert 0.005 <= sum(r.excluded_from_calculations for r in responses) / len(responses) <= 0.04
    assert any(not r.completed for r in responses)
    assert {r.channel for r in responses} == {"web", "email", "mobile:ios", "mobile:android"}
    # campaign bursts: dense seconds, none beyond one filter window's 1,500 rows
    seconds = Counter(r.created_at for r in responses)
    assert seconds.most_common(1)[0][1] >= 50 and max(seconds.values()) <= min(MAX_BURST, 1500)
    # declines, some people again and again
    assert 0.3 <= len(declines) / users <= 0.7
    assert max(Counter(d.end_user_id for d in declines).values()) >= 3


def test_the_account_nps_summary_counts_every_sample(account: Emulator, api_client: Callable[..., httpx.Client]) -> None:
    account.start()
    try:
        summary = api_client(account).get("/v1/nps_summary", params=EVERYTHING).json()
    finally:
        account.stop()
    responses: list[StoredResponse] = _all(account, "response")  # type: ignore[assignment]
    counted = [r for r in responses if not r.excluded_from_calculations]
    assert summary["responses"] == len(counted) and summary["nps"] == _nps(responses)
    assert summary["promoters"] == sum(r.score >= 9 for r in counted)
    assert summary["response_rate"] == round(100 * len(counted) / (len(counted) + len(_all(account, "decline"))))


def test_the_samples_are_the_same_on_every_start(
    make_emulator: Callable[..., Emulator], api_client: Callable[..., httpx.Client]
) -> None:
    shift = 5 * 86_400 + 3_723
    first = make_emulator(users=400, seed=9, clock=ScaledClock(speed=0.0, start=T))
    later = make_emulator(users=400, seed=9, clock=ScaledClock(speed=0.0, start=T + shift))
    other = make_emulator(users=400, seed=10, clock=ScaledClock(speed=0.0, start=T))
    a, b, c = api_client(first), api_client(later), api_client(other)

    def history(http: httpx.Client, kind: str) -> list[tuple[object, ...]]:
        rows = []
        for page in range(1, 31):
            got = http.get(f"/v1/{kind}", params={"per_page": 50, "page": page, "sort_order": "asc"}).json()
            rows += [(r["id"], r["end_user_id"], r.get("score"), r.get("text"), tuple(r.get("tags", ())),
                      parse_wire_time(r["created_at"])) for r in got]
            if len(got) < 50:
                return rows
        raise AssertionError("more samples than one walk of 30 pages")

    for kind in ("responses", "declines"):
        now, moved = history(a, kind), history(b, kind)
        assert len(now) > 100
        # the same people gave the same answers; only the clock moved under them
        assert [row[:5] for row in now] == [row[:5] for row in moved]
        assert {moved_row[5] - row[5] for row, moved_row in zip(now, moved)} == {shift}  # type: ignore[operator]
        assert [row[:5] for row in history(c, kind)] != [row[:5] for row in now]
    some = sorted(first.store.all_ids())[:40]
    for end_user_id in some:
        mine = a.get(f"/v1/end_users/{end_user_id}").json()["last_response"]
        newest = a.get(f"/v1/end_users/{end_user_id}/responses", params={"per_page": 1}).json()
        assert mine == (None if not newest else {"id": newest[0]["id"], "score": newest[0]["score"],
                                                 "text": newest[0]["text"], "survey": mine["survey"]})
        assert b.get(f"/v1/end_users/{end_user_id}").json()["last_response"] == mine


def test_loaded_end_users_get_a_history_too(make_emulator: Callable[..., Emulator]) -> None:
    people = [{"id": 70 + i, "email": f"u{i}@acme.example", "created_at": T - 500 * 86_400 + i,
               "properties": {"plan": "Pro"}} for i in range(200)]
    loaded = make_emulator(end_users=people, seed=3, clock=ScaledClock(speed=0.0, start=T))
    again = make_emulator(end_users=people, seed=3, clock=ScaledClock(speed=0.0, start=T))
    rows: list[StoredResponse] = _all(loaded, "response")  # type: ignore[assignment]
    assert 400 <= len(rows) <= 800 and {r.end_user_id for r in rows} <= {p["id"] for p in people}
    assert rows == _all(again, "response")


def test_no_history_when_asked_for_none(make_emulator: Callable[..., Emulator]) -> None:
    quiet = make_emulator(users=50, seed=1, responses_per_user=0)
    assert quiet.store.responses.count() == 0 and quiet.store.responses.count("decline") == 0
    fewer = make_emulator(users=500, seed=1, responses_per_user=1.0)
    assert 0.7 <= fewer.store.responses.count() / 500 <= 1.4
    with pytest.raises(ValueError, match="responses per user must be from 0 to 10"):
        Emulator(users=5, responses_per_user=50)
