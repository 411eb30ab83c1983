"""A DELETE over HTTP marks the end user (202) and the purge comes later: by the next 07:00 UTC
of the emulator clock, after a set delay, or at once through `POST /_emulator/purge`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from desktop_app.clock import ScaledClock
from desktop_app.emulator import Emulator
from desktop_app.emulator.erasure import next_purge_run

T = 1_736_942_400  # 2025-01-15 12:00:00 UTC
NEXT_RUN = T + 19 * 3600  # 2025-01-16 07:00:00 UTC
WIRE_FIELDS = {
    "id", "created_at", "updated_at", "email", "last_surveyed", "external_created_at",
    "last_seen_at", "properties", "phone_number", "external_id", "last_response", "settings",
}


def _seed() -> list[dict[str, Any]]:
    return [
        {"id": 10, "email": "leaving@example.com", "external_id": "crm-10", "created_at": T - 100,
         "updated_at": T - 100, "phone_number": "+14155550100", "properties": {"plan": "Pro"}},
        {"id": 11, "email": "also.leaving@example.com", "created_at": T - 50, "updated_at": T - 50},
        {"id": 12, "email": "staying@example.com", "created_at": T - 10, "updated_at": T - 10},
    ]


@pytest.fixture
def clock() -> ScaledClock:
    return ScaledClock(speed=0.0, start=T)


@pytest.fixture
def emu(make_emulator: Callable[..., Emulator], clock: ScaledClock) -> Emulator:
    return make_emulator(end_users=_seed(), clock=clock)


@pytest.fixture
def http(emu: Emulator, api_client: Callable[..., httpx.Client]) -> httpx.Client:
    return api_client(emu)


@pytest.fixture
def admin(emu: Emulator, raw_client: Callable[..., httpx.Client]) -> httpx.Client:
    return raw_client(emu)


def _listed(http: httpx.Client, **params: str) -> list[int]:
    return [row["id"] for row in http.get("/v1/end_users", params=params).json()]


def _findable(http: httpx.Client) -> dict[str, int]:
    """The status of every way the API can reach end user 10."""
    return {
        "by id": http.get("/v1/end_users/10").status_code,
        "by email": http.get("/v1/end_users/leaving@example.com",
                             params={"lookup_by_email": "true"}).status_code,
        "by external id": http.get("/v1/end_users/crm-10",
                                   params={"lookup_by_external_id": "true"}).status_code,
        "by phone": http.get("/v1/end_users/phone_number/+14155550100").status_code,
        "settings": http.get("/v1/end_users/10/settings").status_code,
        "listed": 200 if 10 in _listed(http) else 404,
        "email filter": 200 if _listed(http, email="leaving@example.com") == [10] else 404,
    }


def test_delete_answers_202_with_the_end_user_and_only_marks_it(
    http: httpx.Client, admin: httpx.Client,
) -> None:
    before = http.get("/v1/end_users/10").json()
    reply = http.delete("/v1/end_users/10")
    assert reply.status_code == 202, reply.text
    assert reply.json() == before and set(reply.json()) >= WIRE_FIELDS
    # the service keeps the row until the purge: every way in still finds it, unchanged
    assert set(_findable(http).values()) == {200}
    assert http.get("/v1/end_users/10").json() == before  # marking bumps no updated_at
    assert admin.get("/_emulator/deletions").json() == {
        "marked": [{"id": 10, "purge_at": NEXT_RUN}], "purge_delay": None}
    # its email is still taken
    taken = http.post("/v1/end_users", data={"email": "leaving@example.com"})
    assert taken.status_code == 400 and taken.json()["errors"][0]["message"] == (
        "email has already been taken")


def test_a_second_delete_of_a_marked_person_is_202_again_and_keeps_the_purge_time(
    http: httpx.Client, admin: httpx.Client, clock: ScaledClock,
) -> None:
    assert http.delete("/v1/end_users/10").status_code == 202
    clock.advance(3600)
    again = http.delete("/v1/end_users/10")
    assert again.status_code == 202 and again.json()["id"] == 10
    by_email = http.delete("/v1/end_users/leaving@example.com")
    assert by_email.status_code == 202 and by_email.json()["id"] == 10
    assert admin.get("/_emulator/deletions").json()["marked"] == [{"id": 10, "purge_at": NEXT_RUN}]


def test_the_purge_comes_at_the_next_7am_utc_then_404_and_gone_from_lists(
    http: httpx.Client, emu: Emulator, clock: ScaledClock, api_client: Callable[..., httpx.Client],
) -> None:
    assert http.delete("/v1/end_users/10").status_code == 202
    clock.advance(NEXT_RUN - T - 1)  # 06:59:59 UTC the next day
    http = api_client(emu)  # a fresh token: the first one expired overnight
    assert set(_findable(http).values()) == {200}
    clock.advance(1)
    assert set(_findable(http).values()) == {404}
    assert _listed(http) == [11, 12]
    assert http.delete("/v1/end_users/10").status_code == 404
    assert http.delete("/v1/end_users/leaving@example.com").status_code == 404
    assert emu.store.get(10) is None and emu.store.marked() == {}
    # the address is free again: a new person, a new id
    created = http.post("/v1/end_users", data={"email": "leaving@example.com"})
    assert created.status_code == 201 and created.json()["id"] not in (10, 11, 12)


@pytest.mark.parametrize(("now", "run"), [
    (T, NEXT_RUN),  # noon: the next morning
    (NEXT_RUN - 1, NEXT_RUN),  # a second before the run: that run
    (NEXT_RUN, NEXT_RUN + 86_400),  # at the run itself: the one after
    (NEXT_RUN - 8 * 3600 + 0.5, NEXT_RUN),  # 23:00:00.5 UTC: eight hours later
])
def test_next_purge_run_is_the_next_seven_oclock_utc(now: float, run: int) -> None:
    assert next_purge_run(now) == run


def test_a_purge_delay_overrides_the_nightly_run(
    make_emulator: Callable[..., Emulator], api_client: Callable[..., httpx.Client],
    raw_client: Callable[..., httpx.Client], clock: ScaledClock,
) -> None:
    emu = make_emulator(end_users=_seed(), clock=clock, purge_delay=30)
    http, admin = api_client(emu), raw_client(emu)
    assert http.delete("/v1/end_users/10").status_code == 202
    assert admin.get("/_emulator/deletions").json() == {
        "marked": [{"id": 10, "purge_at": T + 30}], "purge_delay": 30.0}
    clock.advance(29)
    assert http.get("/v1/end_users/10").status_code == 200
    clock.advance(1)
    assert http.get("/v1/end_users/10").status_code == 404

    # set through the admin: applies to the deletes that follow
    assert admin.put("/_emulator/deletions", json={"purge_delay": 0}).json()["purge_delay"] == 0
    assert http.delete("/v1/end_users/11").status_code == 202
    assert http.get("/v1/end_users/11").status_code == 404  # no delay: gone at once
    back = admin.put("/_emulator/deletions", json={"purge_delay": None})
    assert back.status_code == 200 and back.json() == {"marked": [], "purge_delay": None}
    assert http.delete("/v1/end_users/12").status_code == 202
    assert emu.store.marked() == {12: next_purge_run(clock.now())}


@pytest.mark.parametrize("body", [
    {}, {"purge_delay": -1}, {"purge_delay": "soon"}, {"purge_delay": True}, [30],
])
def test_a_purge_delay_the_admin_refuses_changes_nothing(
    emu: Emulator, admin: httpx.Client, body: object,
) -> None:
    emu.purges.delay = 60
    reply = admin.put("/_emulator/deletions", json=body)
    assert reply.status_code == 400 and reply.json()["errors"][0]["message"], reply.text
    assert emu.purges.delay == 60


def test_the_purge_route_purges_every_marked_person_now(
    http: httpx.Client, admin: httpx.Client,
) -> None:
    assert http.delete("/v1/end_users/11").status_code == 202
    assert http.delete("/v1/end_users/also.leaving@example.com").status_code == 202
    assert http.delete("/v1/end_users/10").status_code == 202
    assert admin.post("/_emulator/purge").json() == {"purged": [10, 11]}
    assert http.get("/v1/end_users/10").status_code == 404
    assert http.get("/v1/end_users/11").status_code == 404
    assert _listed(http) == [12]
    assert admin.get("/_emulator/health").json()["end_users"] == 1
    assert admin.post("/_emulator/purge").json() == {"purged": []}


def test_a_create_of_a_taken_email_is_refused_and_the_lookup_finds_the_existing_id(
    http: httpx.Client, emu: Emulator,
) -> None:
    created = http.post("/v1/end_users", data={
        "email": "new.person@example.com", "external_id": "crm-77", "properties[plan]": "Team"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) >= WIRE_FIELDS and body["email"] == "new.person@example.com"
    count = emu.store.count()
    # a client that cannot tell whether its create went through creates again: refused...
    again = http.post("/v1/end_users", data={"email": "new.person@example.com"})
    assert again.status_code == 400
    assert again.json() == {"type": "error_list", "errors": [{
        "status": "invalid_parameter", "message": "email has already been taken", "field": "email"}]}
    assert emu.store.count() == count
    # ...and the lookups give it the id to adopt
    by_email = http.get("/v1/end_users/new.person@example.com", params={"lookup_by_email": "true"})
    assert by_email.status_code == 200 and by_email.json() == body
    by_external = http.get("/v1/end_users/crm-77", params={"lookup_by_external_id": "true"})
    assert by_external.json()["id"] == body["id"]
    missing = http.post("/v1/end_users", data={"external_id": "crm-78"})
    assert missing.status_code == 400 and missing.json()["errors"][0]["message"] == "email is missing"


def test_emails_match_exactly_as_stored(http: httpx.Client, emu: Emulator) -> None:
    """The documented choice (service.py): lookups and uniqueness compare emails exactly."""
    other_case = http.get("/v1/end_users/Leaving@Example.com", params={"lookup_by_email": "true"})
    assert other_case.status_code == 404
    assert http.delete("/v1/end_users/LEAVING@example.com").status_code == 404
    second = http.post("/v1/end_users", data={"email": "Leaving@Example.com"})
    assert second.status_code == 201 and second.json()["email"] == "Leaving@Example.com"
    assert emu.store.count() == 4  # a second person: the client must match case itself
