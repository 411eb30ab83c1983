"""The per-minute rate limit: headers on every limited answer, 429 when spent, then back."""

from __future__ import annotations

import email.utils
from collections.abc import Callable

import httpx

from desktop_app.clock import ScaledClock
from desktop_app.emulator import Emulator

T = 1_736_942_400  # a whole minute: the window runs T .. T+60


def _headers(reply: httpx.Response) -> tuple[int, int, int]:
    return (int(reply.headers["x-rate-limit-limit"]), int(reply.headers["x-rate-limit-remaining"]),
            int(reply.headers["x-rate-limit-reset"]))


def test_budget_headers_429_and_recovery(
    make_emulator: Callable[..., Emulator], api_client: Callable[..., httpx.Client],
) -> None:
    clock = ScaledClock(speed=0.0, start=T + 10)
    emu = make_emulator(users=5, clock=clock, rate_limit=5)
    http = api_client(emu)  # the token request is not counted
    seen = []
    for _ in range(5):
        reply = http.get("/v1/end_users")
        assert reply.status_code == 200
        seen.append(_headers(reply))
    assert seen == [(5, left, T + 60) for left in (4, 3, 2, 1, 0)]
    spent = http.get("/v1/end_users")
    assert spent.status_code == 429
    assert _headers(spent) == (5, 0, T + 60)
    assert spent.json()["type"] == "error_list"
    assert spent.json()["errors"][0]["status"] == "too_many_requests"
    assert "retry-after" not in spent.headers
    assert email.utils.parsedate_to_datetime(spent.headers["date"]).timestamp() == T + 10
    # every /v1/ endpoint shares the budget; the token endpoint is not limited
    assert http.get(f"/v1/end_users/{min(emu.store.all_ids())}").status_code == 429
    token = http.post("/oauth/token", data={"grant_type": "nope"})
    assert token.status_code == 400 and "x-rate-limit-limit" not in token.headers
    clock.advance(49)  # T+59: still the same window
    assert http.get("/v1/end_users").status_code == 429
    clock.advance(1)  # T+60: a new minute
    fresh = http.get("/v1/end_users")
    assert fresh.status_code == 200 and _headers(fresh) == (5, 4, T + 120)


def test_recovery_on_a_running_scaled_clock(
    make_emulator: Callable[..., Emulator], api_client: Callable[..., httpx.Client],
) -> None:
    clock = ScaledClock(speed=60.0)  # a minute passes in a second
    emu = make_emulator(users=2, clock=clock, rate_limit=3)
    http = api_client(emu)
    limited = None
    for _ in range(100):  # spend the budget (a window may turn mid-burst on a slow machine)
        reply = http.get("/v1/end_users")
        if reply.status_code == 429:
            limited = reply
            break
    assert limited is not None
    reset = int(limited.headers["x-rate-limit-reset"])
    for _ in range(300):  # poll the emulator clock, bounded (~3 s real at most)
        if clock.now() >= reset:
            break
        clock.sleep(0.6)
    assert clock.now() >= reset
    recovered = http.get("/v1/end_users")
    assert recovered.status_code == 200
    assert int(recovered.headers["x-rate-limit-reset"]) >= reset + 60  # a later window


def test_unlimited_emulator_sends_no_rate_headers(
    emulator: Emulator, api_client: Callable[..., httpx.Client],
) -> None:
    reply = api_client(emulator).get("/v1/end_users")
    assert reply.status_code == 200 and "x-rate-limit-limit" not in reply.headers
    assert "date" in reply.headers
