"""One end user over HTTP: lookups, create, update, delete, settings, responses and declines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from desktop_app.clock import ScaledClock
from desktop_app.emulator import Emulator
from desktop_app.timestamps import parse_wire_time

T = 1_736_942_400
NOT_FOUND = {"type": "error_list", "errors": [
    {"status": "record_not_found", "message": "The record could not be found", "field": None}]}


def _seed() -> list[dict[str, Any]]:
    return [
        {"id": 10, "email": "ana+nps@Example.COM", "external_id": "crm-10", "created_at": T - 100,
         "updated_at": T - 100, "properties": {"plan": "Pro", "seats_count": 5}},
        {"id": 11, "email": "zoë@xn--mnchen-3ya.de", "created_at": T - 50, "updated_at": T - 50},
        {"id": 12, "email": "opted@example.com", "created_at": T - 10, "updated_at": T - 10,
         "settings": {"surveys_disabled_by_end_user": True}},
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


def _error(reply: httpx.Response, status: int, message: str, field: str | None) -> None:
    assert reply.status_code == status, reply.text
    assert reply.json() == {"type": "error_list", "errors": [
        {"status": "invalid_parameter", "message": message, "field": field}]}


def test_get_by_id_and_404(http: httpx.Client) -> None:
    assert http.get("/v1/end_users/10").json()["email"] == "ana+nps@Example.COM"
    missing = http.get("/v1/end_users/999")
    assert missing.status_code == 404 and missing.json() == NOT_FOUND
    assert http.get("/v1/end_users/not-a-number").status_code == 404


def test_lookups_by_email_and_external_id(http: httpx.Client) -> None:
    by_email = http.get("/v1/end_users/ana+nps@Example.COM", params={"lookup_by_email": "true"})
    assert by_email.status_code == 200 and by_email.json()["id"] == 10
    encoded = http.get("/v1/end_users/zo%C3%AB%40xn--mnchen-3ya.de?lookup_by_email=true")
    assert encoded.json()["id"] == 11
    by_external = http.get("/v1/end_users/crm-10", params={"lookup_by_external_id": "true"})
    assert by_external.json()["id"] == 10
    nobody = http.get("/v1/end_users/nobody@x.io", params={"lookup_by_email": "true"})
    assert nobody.status_code == 404 and nobody.json() == NOT_FOUND
    unknown = http.get("/v1/end_users/crm-99", params={"lookup_by_external_id": "true"})
    assert unknown.status_code == 404


def test_create_returns_201_and_stamps_now(http: httpx.Client, emu: Emulator) -> None:
    reply = http.post("/v1/end_users", data={
        "email": "new@example.com", "external_id": "n-1", "last_surveyed": str(T - 7),
        "external_created_at": str(T - 9), "properties[plan]": "Free",
        "phone_number": "+14155554131",
    })
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert parse_wire_time(body["created_at"]) == parse_wire_time(body["updated_at"]) == T
    assert parse_wire_time(body["last_surveyed"]) == T - 7 and body["external_created_at"] == T - 9
    assert body["properties"] == {"plan": "Free"} and body["phone_number"] == "+14155554131"
    assert emu.store.get(body["id"])["email"] == "new@example.com"
    assert http.get("/v1/end_users/phone_number/+14155554131").json()["id"] == body["id"]


@pytest.mark.parametrize(("fields", "message"), [
    ({}, "email is missing"),
    ({"email": ""}, "email is missing"),
    ({"email": "not-an-email"}, "email is invalid"),
    ({"email": "two@@example.com"}, "email is invalid"),
    ({"email": "ana+nps@Example.COM"}, "email has already been taken"),
])
def test_create_validates_email(
    http: httpx.Client, emu: Emulator, fields: dict[str, str], message: str,
) -> None:
    before = emu.store.count()
    _error(http.post("/v1/end_users", data=fields), 400, message, "email")
    assert emu.store.count() == before


def test_update_replaces_properties_and_bumps_updated_at(
    http: httpx.Client, emu: Emulator, clock: ScaledClock,
) -> None:
    clock.advance(30)
    reply = http.put("/v1/end_users/10",
                     data={"properties[region]": "EMEA", "external_id": "crm-X"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["properties"] == {"region": "EMEA"}  # the whole hash was replaced
    assert parse_wire_time(body["updated_at"]) == T + 30
    stored = emu.store.get(10)
    assert stored is not None
    assert stored["properties"] == {"region": "EMEA"} and stored["updated_at"] == T + 30
    assert stored["external_id"] == "crm-X" and stored["created_at"] == T - 100


def test_update_without_properties_keeps_them_and_empty_clears(
    http: httpx.Client, emu: Emulator,
) -> None:
    http.put("/v1/end_users/10", data={"external_id": "only-this"})
    kept = emu.store.get(10)
    assert kept is not None and kept["properties"] == {"plan": "Pro", "seats_count": 5}
    cleared = http.put("/v1/end_users/10", content=b"properties=",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert cleared.status_code == 200 and cleared.json()["properties"] == {}
    assert emu.store.get(10)["properties"] == {}


def test_form_values_come_back_as_strings(http: httpx.Client) -> None:
    body = http.put("/v1/end_users/10", data={"properties[seats_count]": "7"}).json()
    assert body["properties"] == {"seats_count": "7"}


@pytest.mark.parametrize(("fields", "message", "field"), [
    ({"email": "nope"}, "email is invalid", "email"),
    ({"email": ""}, "email is invalid", "email"),
    ({"email": "zoë@xn--mnchen-3ya.de"}, "email has already been taken", "email"),
    ({"last_surveyed": "soon"}, "last_surveyed is invalid", "last_surveyed"),
    ({"phone_number": "555-1234"}, "phone_number is invalid", "phone_number"),
    ({"properties": "plan=Pro"}, "properties is invalid", "properties"),
])
def test_update_validation_changes_nothing(
    http: httpx.Client, emu: Emulator, fields: dict[str, str], message: str, field: str,
) -> None:
    before = emu.store.get(10)
    _error(http.put("/v1/end_users/10", data=fields), 400, message, field)
    assert emu.store.get(10) == before


def test_update_of_unknown_end_user_is_404(http: httpx.Client) -> None:
    reply = http.put("/v1/end_users/999", data={"external_id": "x"})
    assert reply.status_code == 404 and reply.json() == NOT_FOUND


def test_settings_get_and_put(http: httpx.Client, emu: Emulator, clock: ScaledClock) -> None:
    settings = http.get("/v1/end_users/10/settings").json()
    assert settings["end_user_id"] == 10
    assert settings["email_nps"] is settings["mobile_nps"] is settings["web_nps"] is True
    clock.advance(45)
    partial = http.put("/v1/end_users/10/settings",
                       data={"email_nps": "false", "force_web_survey": "true"})
    assert partial.status_code == 200
    assert partial.json()["email_nps"] is False and partial.json()["force_web_survey"] is True
    user = http.get("/v1/end_users/10").json()
    assert user["surveys_disabled"] is False  # one channel off is not "disabled"
    assert parse_wire_time(user["updated_at"]) == T + 45  # a settings PUT bumps the end user
    clock.advance(5)
    http.put("/v1/end_users/10/settings", data={"mobile_nps": "false", "web_nps": "false"})
    user = http.get("/v1/end_users/10").json()
    assert user["surveys_disabled"] is True and parse_wire_time(user["updated_at"]) == T + 50
    stored = emu.store.get(10)
    assert stored is not None and stored["surveys_disabled"] is True
    assert stored["settings"]["email_nps"] is False
    again = http.put("/v1/end_users/10/settings", json={"email_nps": True, "mobile_nps": True,
                                                        "web_nps": True, "force_web_survey": None})
    assert again.json()["force_web_survey"] is None
    assert http.get("/v1/end_users/10").json()["surveys_disabled"] is False


def test_settings_validation_and_read_only_opt_out(http: httpx.Client) -> None:
    _error(http.put("/v1/end_users/10/settings", data={"email_nps": "maybe"}), 400,
           "email_nps is invalid", "email_nps")
    opted = http.put("/v1/end_users/12/settings", data={"surveys_disabled_by_end_user": "false"})
    assert opted.json()["surveys_disabled_by_end_user"] is True  # the end user's choice stays
    user = http.get("/v1/end_users/12").json()
    assert user["surveys_disabled"] is True and user["settings"]["email_nps"] is True


def test_responses_and_declines_are_deterministic_and_paged(
    make_emulator: Callable[..., Emulator], api_client: Callable[..., httpx.Client],
) -> None:
    clock = ScaledClock(speed=0.0, start=T)
    first = make_emulator(users=40, seed=5, clock=clock)
    second = make_emulator(users=40, seed=5, clock=clock)
    a, b = api_client(first), api_client(second)
    total = 0
    for end_user_id in sorted(first.store.all_ids()):
        responses = a.get(f"/v1/end_users/{end_user_id}/responses").json()
        assert responses == b.get(f"/v1/end_users/{end_user_id}/responses").json()
        assert [parse_wire_time(r["created_at"]) for r in responses] == sorted(
            (parse_wire_time(r["created_at"]) for r in responses), reverse=True)  # newest first
        for response in responses:
            assert 0 <= response["score"] <= 10 and response["end_user_id"] == end_user_id
            assert parse_wire_time(response["created_at"]) <= T  # nothing from the future
        user = a.get(f"/v1/end_users/{end_user_id}").json()
        if responses:
            assert user["last_response"]["id"] == responses[0]["id"]
            one = a.get(f"/v1/end_users/{end_user_id}/responses/{responses[0]['id']}").json()
            assert one == responses[0]
            promoters = a.get(f"/v1/end_users/{end_user_id}/responses/promoters").json()
            assert [r["id"] for r in promoters] == [r["id"] for r in responses if r["score"] >= 9]
        else:
            assert user["last_response"] is None
        declines = a.get(f"/v1/end_users/{end_user_id}/declines",
                         params={"sort_order": "asc"}).json()
        assert all(d["end_user_id"] == end_user_id for d in declines)
        total += len(responses)
    assert total > 10
    busy = next(i for i in sorted(first.store.all_ids())
                if len(a.get(f"/v1/end_users/{i}/responses").json()) >= 2)
    paged = a.get(f"/v1/end_users/{busy}/responses", params={"per_page": 1, "page": 2}).json()
    assert paged == a.get(f"/v1/end_users/{busy}/responses").json()[1:2]
