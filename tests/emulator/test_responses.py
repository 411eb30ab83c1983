"""Contract tests of the stored responses and declines against wootric-api.md §4, §6, §7, §8, §9."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from desktop_app.clock import ScaledClock
from desktop_app.emulator import Emulator
from desktop_app.timestamps import format_wire_time, parse_wire_time

T = 1_736_942_400  # 2025-01-15 04:00:00 -0800
WIRE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [-+]\d{4}$")
ALICE, BOB = 501, 502


@pytest.fixture
def clock() -> ScaledClock:
    return ScaledClock(speed=0.0, start=T)


@pytest.fixture
def emu(make_emulator: Callable[..., Emulator], clock: ScaledClock) -> Emulator:
    emulator = make_emulator(clock=clock, responses_per_user=0, end_users=[
        {"id": ALICE, "email": "alice@acme.example", "created_at": T - 400 * 86_400,
         "properties": {"plan": "Pro", "revenue_amount": 1200}},
        {"id": BOB, "email": "bob@globex.example", "created_at": T - 300 * 86_400,
         "properties": {"plan": "Free"}},
    ])
    return emulator


@pytest.fixture
def http(emu: Emulator, api_client: Callable[..., httpx.Client]) -> httpx.Client:
    return api_client(emu)


@pytest.fixture
def admin(emu: Emulator, raw_client: Callable[..., httpx.Client]) -> httpx.Client:
    return raw_client(emu)


def _load(admin: httpx.Client, kind: str, rows: list[dict[str, Any]]) -> list[int]:
    reply = admin.post(f"/_emulator/{kind}", json=rows)
    assert reply.status_code == 201, reply.text
    return list(reply.json()["ids"])


def _error(reply: httpx.Response, status: int, message: str, field: str | None = None) -> None:
    assert reply.status_code == status, reply.text
    error = reply.json()["errors"][0]
    assert reply.json()["type"] == "error_list" and error["message"] == message
    if field is not None:
        assert error["field"] == field


def _ids(reply: httpx.Response) -> list[int]:
    assert reply.status_code == 200, reply.text
    return [row["id"] for row in reply.json()]


def test_a_response_document_has_every_field_in_the_wire_form(
    http: httpx.Client, admin: httpx.Client
) -> None:
    [rid] = _load(admin, "responses", [{
        "end_user_id": ALICE, "score": 4, "text": "Zu langsam", "created_at": T - 3600,
        "updated_at": T - 60, "ip_address": "203.0.113.9", "origin_url": "https://app.example.com/x",
        "tags": ["performance", "support"], "notes": [{"text": "called back"}], "survey_id": 7,
    }])
    [document] = http.get("/v1/responses").json()
    assert document == {
        "id": rid, "end_user_id": ALICE, "survey_id": 7, "score": 4, "text": "Zu langsam",
        "completed": True, "excluded_from_calculations": False, "ip_address": "203.0.113.9",
        "origin_url": "https://app.example.com/x",
        "created_at": "2025-01-15 03:00:00 -0800", "updated_at": "2025-01-15 03:59:00 -0800",
        "tags": ["performance", "support"], "notes": [{"text": "called back"}],
        "end_user": {"email": "alice@acme.example",
                     "properties": {"plan": "Pro", "revenue_amount": 1200}},
    }
    assert http.get(f"/v1/end_users/{ALICE}/responses/{rid}").json() == document
    summer = _load(admin, "declines", [{"end_user_id": BOB, "created_at": T - 180 * 86_400,
                                        "origin_url": "https://app.example.com/y"}])
    [decline] = http.get("/v1/declines").json()
    assert decline == {
        "id": summer[0], "end_user_id": BOB, "survey_id": 1001, "ip_address": None,
        "origin_url": "https://app.example.com/y",
        "created_at": format_wire_time(T - 180 * 86_400), "updated_at": format_wire_time(T - 180 * 86_400),
        "end_user": {"properties": {"plan": "Free"}},
    }
    assert decline["created_at"].endswith("-0700")  # July: Pacific daylight time
    assert WIRE_TIME.match(decline["created_at"]) and WIRE_TIME.match(document["updated_at"])


def test_lists_are_newest_first_ties_by_id_and_asc_on_request(
    http: httpx.Client, admin: httpx.Client
) -> None:
    ids = _load(admin, "responses", [
        {"end_user_id": ALICE, "score": 9, "created_at": T - 100},
        {"end_user_id": BOB, "score": 3, "created_at": T - 50},
        {"end_user_id": ALICE, "score": 7, "created_at": T - 100},  # the same second as the first
        {"end_user_id": BOB, "score": 10, "created_at": T - 900},
    ])
    assert _ids(http.get("/v1/responses")) == [ids[1], ids[2], ids[0], ids[3]]
    assert _ids(http.get("/v1/responses", params={"sort_order": "asc"})) == [ids[3], ids[0], ids[2], ids[1]]
    assert _ids(http.get("/v1/responses", params={"sort_order": "desc", "per_page": 2, "page": 2})) == [
        ids[0], ids[3]]
    _error(http.get("/v1/responses", params={"sort_order": "newest"}), 400,
           "sort_order does not have a valid value", "sort_order")
    # `sort_key` and `updated[...]` are not parameters of this list: ignored, as Grape does
    for extra in ({"sort_key": "created_at"}, {"sort_key": "email"}, {"updated[gt]": T + 10**6}):
        assert _ids(http.get("/v1/responses", params=extra)) == [ids[1], ids[2], ids[0], ids[3]]


def test_created_filters_take_every_operator_and_gt_lt_are_exclusive(
    http: httpx.Client, admin: httpx.Client
) -> None:
    times = [T - 30, T - 20, T - 20, T - 10]
    ids = _load(admin, "responses", [{"end_user_id": ALICE, "score": 8, "created_at": t} for t in times])
    _load(admin, "declines", [{"end_user_id": ALICE, "created_at": t} for t in times])

    def created(kind: str, **ops: int) -> list[str]:
        query = {f"created[{op}]": value for op, value in ops.items()}
        return [row["created_at"] for row in http.get(f"/v1/{kind}", params=query).json()]

    for kind in ("responses", "declines"):
        assert created(kind, eq=T - 20) == [format_wire_time(T - 20)] * 2
        assert created(kind, gt=T - 30, lt=T - 10) == [format_wire_time(T - 20)] * 2
        assert created(kind, gte=T - 30, lte=T - 10) == [format_wire_time(t) for t in reversed(times)]
        assert created(kind, gt=T - 10) == [] and created(kind, lt=T - 30) == []
        assert created(kind, gte=T - 10) == [format_wire_time(T - 10)]
    assert _ids(http.get(f"/v1/end_users/{ALICE}/responses", params={"created[gt]": T - 30})) == [
        ids[3], ids[2], ids[1]]
    _error(http.get("/v1/responses", params={"created[gt]": "yesterday"}), 400,
           "created[gt] is invalid", "created[gt]")


@pytest.mark.parametrize("path", ["/v1/responses", "/v1/declines", f"/v1/end_users/{ALICE}/responses",
                                  f"/v1/end_users/{ALICE}/responses/detractors",
                                  f"/v1/end_users/{ALICE}/declines"])
def test_pages_stop_at_30_and_50_rows(http: httpx.Client, admin: httpx.Client, path: str) -> None:
    _load(admin, "responses", [{"end_user_id": ALICE, "score": i % 7, "created_at": T - i} for i in range(60)])
    _load(admin, "declines", [{"end_user_id": ALICE, "created_at": T - i} for i in range(60)])
    assert len(http.get(path).json()) == 25  # the default per_page
    assert len(http.get(path, params={"per_page": 50}).json()) == 50
    assert len(http.get(path, params={"per_page": 50, "page": 2}).json()) == 10
    assert http.get(path, params={"page": 30}).json() == []
    _error(http.get(path, params={"page": 31}), 400, "page does not have a valid value", "page")
    _error(http.get(path, params={"page": 0}), 400, "page does not have a valid value", "page")
    _error(http.get(path, params={"per_page": 51}), 400, "per_page does not have a valid value", "per_page")


def test_per_user_lists_and_nps_buckets(http: httpx.Client, admin: httpx.Client) -> None:
    scores = [0, 6, 7, 8, 9, 10]
    ids = _load(admin, "responses", [{"end_user_id": ALICE, "score": s, "created_at": T - 100 + s}
                                     for s in scores])
    other = _load(admin, "responses", [{"end_user_id": BOB, "score": 9, "created_at": T}])[0]
    by_score = dict(zip(scores, ids))
    assert _ids(http.get(f"/v1/end_users/{ALICE}/responses")) == ids[::-1]
    for bucket, wanted in (("promoters", [10, 9]), ("passives", [8, 7]), ("detractors", [6, 0])):
        assert _ids(http.get(f"/v1/end_users/{ALICE}/responses/{bucket}")) == [by_score[s] for s in wanted]
    assert _ids(http.get(f"/v1/end_users/{BOB}/responses/promoters")) == [other]
    # one response, only under its own end user
    assert http.get(f"/v1/end_users/{ALICE}/responses/{ids[0]}").json()["score"] == 0
    _error(http.get(f"/v1/end_users/{BOB}/responses/{ids[0]}"), 404, "The record could not be found")
    _error(http.get(f"/v1/end_users/{ALICE}/responses/999999"), 404, "The record could not be found")
    _error(http.get("/v1/end_users/4242/responses"), 404, "The record could not be found")
    _error(http.get("/v1/end_users/4242/declines"), 404, "The record could not be found")
    assert http.get(f"/v1/end_users/{BOB}/declines").json() == []


def test_create_a_response_validates_and_answers_201(
    http: httpx.Client, emu: Emulator, clock: ScaledClock
) -> None:
    path = f"/v1/end_users/{ALICE}/responses"
    good = {"score": "9", "ip_address": "192.0.2.1", "origin_url": "https://app.example.com"}
    _error(http.post(path, data={**good, "score": ""}), 400, "score is missing", "score")
    _error(http.post(path, data={**good, "score": "11"}), 400, "score does not have a valid value", "score")
    _error(http.post(path, data={**good, "score": "-1"}), 400, "score does not have a valid value", "score")
    _error(http.post(path, data={**good, "score": "nine"}), 400, "score is invalid", "score")
    _error(http.post(path, data={"score": "9", "origin_url": "x"}), 400, "ip_address is missing", "ip_address")
    _error(http.post(path, data={"score": "9", "ip_address": "x"}), 400, "origin_url is missing", "origin_url")
    _error(http.post(path, data={**good, "created_at": "last week"}), 400, "created_at is invalid", "created_at")
    _error(http.post(path, data={**good, "end_user[properties][revenue_amount]": "lots"}), 400,
           "properties[revenue_amount] must be a number", "end_user[properties][revenue_amount]")
    _error(http.post("/v1/end_users/4242/responses", data=good), 404, "The record could not be found")
    assert emu.store.responses.count() == 0  # nothing refused was written
    clock.advance(5)
    reply = http.post(path, data={**good, "text": "Très bien", "created_at": str(T - 86_400),
                                  "end_user[properties][region]": "EMEA",
                                  "end_user[properties][revenue_amount]": "1500"})
    assert reply.status_code == 201, reply.text
    made = reply.json()
    assert made["score"] == 9 and made["text"] == "Très bien" and made["completed"] is True
    assert made["created_at"] == format_wire_time(T - 86_400) and made["updated_at"] == format_wire_time(T + 5)
    assert made["end_user"]["properties"] == {"plan": "Pro", "revenue_amount": 1500, "region": "EMEA"}
    assert http.get(f"/v1/end_users/{ALICE}").json()["properties"] == {"plan": "Pro", "revenue_amount": 1200}
    plain = http.post(path, json={"score": 3, "ip_address": "192.0.2.2", "origin_url": "https://a.example"})
    assert plain.status_code == 201 and plain.json()["created_at"] == format_wire_time(T + 5)
    assert plain.json()["text"] is None and plain.json()["tags"] == [] and plain.json()["notes"] == []
    # the end user's last_response is the stored newest one
    last = http.get(f"/v1/end_users/{ALICE}").json()["last_response"]
    assert last == {"id": plain.json()["id"], "score": 3, "text": None, "survey": {"channel": "web"}}
    assert http.get(f"/v1/end_users/{BOB}").json()["last_response"] is None


def test_put_a_response_answers_204_bumps_updated_at_and_refuses_history_with_423(
    http: httpx.Client, admin: httpx.Client, clock: ScaledClock
) -> None:
    [rid] = _load(admin, "responses", [{"end_user_id": ALICE, "score": 2, "created_at": T - 500}])
    clock.advance(60)
    reply = http.put(f"/v1/responses/{rid}", data={"excluded_from_calculations": "true", "completed": "false",
                                                    "tags[]": "ignored"})
    assert reply.status_code == 204 and reply.content == b""
    row = http.get(f"/v1/end_users/{ALICE}/responses/{rid}").json()
    assert row["excluded_from_calculations"] is True and row["completed"] is False
    assert row["updated_at"] == format_wire_time(T + 60) and row["created_at"] == format_wire_time(T - 500)
    assert row["tags"] == []  # tags are the dashboard's
    clock.advance(60)
    locked = http.put(f"/v1/responses/{rid}", data={"end_user[properties][plan]": "Free", "completed": "true"})
    _error(locked, 423, "Editing historical properties is not enabled for this account", "end_user[properties]")
    again = http.get(f"/v1/end_users/{ALICE}/responses/{rid}").json()
    assert again == row  # a refused PUT changes nothing, not even updated_at
    _error(http.put(f"/v1/responses/{rid}", data={"completed": "maybe"}), 400, "completed is invalid", "completed")
    _error(http.put("/v1/responses/999999", data={"completed": "true"}), 404, "The record could not be found")
    assert http.put(f"/v1/responses/{rid}").status_code == 204  # nothing to change: still bumped
    assert http.get(f"/v1/end_users/{ALICE}/responses/{rid}").json()["updated_at"] == format_wire_time(T + 120)


def test_delete_a_response_or_decline_answers_204(http: httpx.Client, admin: httpx.Client) -> None:
    [rid] = _load(admin, "responses", [{"end_user_id": ALICE, "score": 10}])
    [did] = _load(admin, "declines", [{"end_user_id": ALICE}])
    _error(http.delete(f"/v1/end_users/{BOB}/responses/{rid}"), 404, "The record could not be found")
    for kind, item in (("responses", rid), ("declines", did)):
        reply = http.delete(f"/v1/end_users/{ALICE}/{kind}/{item}")
        assert reply.status_code == 204 and reply.content == b""
        _error(http.get(f"/v1/end_users/{ALICE}/{kind}/{item}"), 404, "The record could not be found")
        _error(http.delete(f"/v1/end_users/{ALICE}/{kind}/{item}"), 404, "The record could not be found")
    assert http.get("/v1/responses").json() == [] and http.get("/v1/declines").json() == []
    assert http.get(f"/v1/end_users/{ALICE}").json()["last_response"] is None


def test_declines_create_update_and_refuse_history(
    http: httpx.Client, clock: ScaledClock
) -> None:
    path = f"/v1/end_users/{BOB}/declines"
    _error(http.post(path, data={"created_at": "soon"}), 400, "created_at is invalid", "created_at")
    empty = http.post(path)
    assert empty.status_code == 201 and empty.json()["created_at"] == format_wire_time(T)
    made = http.post(path, data={"origin_url": "https://app.example.com/p", "created_at": str(T - 7200),
                                 "ip_address": "198.51.100.4", "end_user[properties][plan]": "Pro"})
    assert made.status_code == 201, made.text
    decline = made.json()
    assert decline["origin_url"] == "https://app.example.com/p" and decline["ip_address"] == "198.51.100.4"
    assert decline["end_user"] == {"properties": {"plan": "Pro"}}
    assert decline["created_at"] == format_wire_time(T - 7200)
    assert _ids(http.get(path)) == [empty.json()["id"], decline["id"]]  # newest first
    clock.advance(30)
    assert http.put(f"/v1/declines/{decline['id']}").status_code == 204
    bumped = http.get(f"{path}/{decline['id']}").json()
    assert bumped["updated_at"] == format_wire_time(T + 30)
    _error(http.put(f"/v1/declines/{decline['id']}", data={"end_user[properties][plan]": "Free"}), 423,
           "Editing historical properties is not enabled for this account")
    _error(http.put("/v1/declines/999999"), 404, "The record could not be found")
    assert http.get(f"{path}/{decline['id']}").json() == bumped


def test_properties_are_those_of_survey_time(
    http: httpx.Client, admin: httpx.Client, emu: Emulator, clock: ScaledClock
) -> None:
    [before] = _load(admin, "responses", [{"end_user_id": ALICE, "score": 8, "created_at": T - 10}])
    [declined] = _load(admin, "declines", [{"end_user_id": ALICE, "created_at": T - 10}])
    clock.advance(1)
    emu.store.set_property(ALICE, "plan", "Enterprise")
    emu.store.update(ALICE, email="alice@new.example")
    [after] = _load(admin, "responses", [{"end_user_id": ALICE, "score": 9}])
    old = http.get(f"/v1/end_users/{ALICE}/responses/{before}").json()["end_user"]
    assert old == {"email": "alice@new.example",  # the email is the end user's current one
                   "properties": {"plan": "Pro", "revenue_amount": 1200}}
    assert http.get(f"/v1/end_users/{ALICE}/declines/{declined}").json()["end_user"]["properties"]["plan"] == "Pro"
    assert http.get(f"/v1/end_users/{ALICE}/responses/{after}").json()["end_user"]["properties"]["plan"] == "Enterprise"
    clock.advance(1)
    emu.store.set_property(ALICE, "plan", "Business")  # a second change keeps the first snapshot
    assert http.get(f"/v1/end_users/{ALICE}/responses/{before}").json()["end_user"]["properties"]["plan"] == "Pro"
    assert http.get(f"/v1/end_users/{ALICE}/responses/{after}").json()["end_user"]["properties"]["plan"] == "Enterprise"


def test_a_deleted_end_user_takes_its_responses_and_declines(
    http: httpx.Client, admin: httpx.Client, emu: Emulator
) -> None:
    _load(admin, "responses", [{"end_user_id": ALICE, "score": 1}, {"end_user_id": BOB, "score": 10}])
    _load(admin, "declines", [{"end_user_id": ALICE}, {"end_user_id": BOB}])
    # loading over a known id replaces the end user's row but keeps its history
    emu.store.load([{"id": BOB, "email": "bob@globex.example", "created_at": T - 300 * 86_400}])
    assert len(http.get(f"/v1/end_users/{BOB}/responses").json()) == 1
    assert emu.store.delete(ALICE)  # the row goes (a purge): its history goes with it
    assert {r["end_user_id"] for r in http.get("/v1/responses").json()} == {BOB}
    assert {r["end_user_id"] for r in http.get("/v1/declines").json()} == {BOB}
    assert admin.get("/_emulator/responses").json() == {"count": 1}
    assert admin.get("/_emulator/declines").json() == {"count": 1}
    # a new end user that happens to get the same id starts with no history
    emu.store.load([{"id": ALICE, "email": "someone@else.example", "created_at": T}])
    assert http.get(f"/v1/end_users/{ALICE}/responses").json() == []


def test_admin_bulk_load_checks_every_row_first_and_edits_like_the_dashboard(
    http: httpx.Client, admin: httpx.Client, clock: ScaledClock
) -> None:
    bad = admin.post("/_emulator/responses", json=[{"end_user_id": ALICE, "score": 5},
                                                   {"end_user_id": ALICE, "score": 12}])
    assert bad.status_code == 400 and "response 2: score must be a whole number from 0 to 10" in bad.text
    unknown = admin.post("/_emulator/declines", json=[{"end_user_id": 4242}])
    assert unknown.status_code == 400 and "no end user 4242" in unknown.text
    survey = admin.post("/_emulator/responses", json=[{"end_user_id": ALICE, "score": 5, "survey_id": "x"}])
    assert survey.status_code == 400 and "response 1: survey_id must be a positive whole number" in survey.text
    missing = admin.post("/_emulator/responses", json={"score": 5})
    assert missing.status_code == 400 and "end_user_id is missing" in missing.text
    assert admin.get("/_emulator/responses").json() == {"count": 0}
    assert admin.get("/_emulator/declines").json() == {"count": 0}
    [rid] = _load(admin, "responses", [{"end_user_id": ALICE, "score": 5, "created_at": T - 99}])
    clock.advance(7)
    assert admin.put(f"/_emulator/responses/{rid}", json={"tags": ["billing"], "notes": ["refund sent"]}).status_code == 204
    row = http.get("/v1/responses").json()[0]
    assert row["tags"] == ["billing"] and row["notes"] == ["refund sent"]
    assert row["updated_at"] == format_wire_time(T + 7)
    assert admin.put(f"/_emulator/responses/{rid}", json={"score": 10}).status_code == 400
    assert admin.put("/_emulator/responses/999999", json={"tags": []}).status_code == 404


def _days(*, start: str | None = None, end: str | None = None) -> dict[str, str]:
    params = {}
    if start is not None:
        params["date[start]"] = start
    if end is not None:
        params["date[end]"] = end
    return params


def test_nps_summary_equals_a_count_of_the_loaded_rows(http: httpx.Client, admin: httpx.Client) -> None:
    # T is 2025-01-15 04:00 Pacific; the rows straddle local midnights on purpose
    def local(day: str, clock_time: str) -> int:
        value = parse_wire_time(f"{day} {clock_time} -0800")
        assert value is not None
        return value
    rows = [
        # (score, local day, time, excluded, channel)
        (10, "2025-01-10", "00:00:00", False, "web"),
        (9, "2025-01-10", "23:59:59", False, "email"),
        (8, "2025-01-11", "12:00:00", False, "web"),
        (3, "2025-01-12", "08:00:00", False, "email"),
        (0, "2025-01-12", "09:00:00", True, "web"),  # excluded: left out of every number
        (6, "2025-01-13", "00:00:00", False, "web"),  # the day after the range below
        (10, "2025-01-09", "23:59:59", False, "web"),  # the day before it
        (2, "2024-12-20", "10:00:00", False, "web"),
    ]
    _load(admin, "responses", [
        {"end_user_id": ALICE, "score": s, "created_at": local(d, t), "excluded_from_calculations": x,
         "channel": c} for s, d, t, x, c in rows])
    _load(admin, "declines", [
        {"end_user_id": BOB, "created_at": local("2025-01-11", "01:00:00"), "channel": "email"},
        {"end_user_id": BOB, "created_at": local("2025-01-12", "02:00:00")},
        {"end_user_id": BOB, "created_at": local("2025-01-14", "02:00:00")},
    ])

    def expected(first: str, last: str) -> dict[str, int]:
        kept = [(s, c) for s, d, _t, x, c in rows if first <= d <= last and not x]
        promoters = sum(1 for s, _c in kept if s >= 9)
        detractors = sum(1 for s, _c in kept if s <= 6)
        declines = {"2025-01-11": 1, "2025-01-12": 1, "2025-01-14": 1}
        declined = sum(n for d, n in declines.items() if first <= d <= last)
        email_declined = 1 if first <= "2025-01-11" <= last else 0
        email = sum(1 for _s, c in kept if c == "email")
        n = len(kept)
        return {
            "nps": int(100 * (promoters - detractors) / n + (0.5 if promoters >= detractors else -0.5)) if n else 0,
            "responses": n, "detractors": detractors, "passives": n - promoters - detractors,
            "promoters": promoters,
            "response_rate": int(100 * n / (n + declined) + 0.5) if n + declined else 0,
            "email_response_rate": int(100 * email / (email + email_declined) + 0.5) if email + email_declined else 0,
        }

    for first, last in (("2025-01-10", "2025-01-12"), ("2025-01-12", "2025-01-12"), ("2024-12-01", "2025-01-31"),
                        ("2025-01-13", "2025-01-14")):
        summary = http.get("/v1/nps_summary", params=_days(start=first, end=last)).json()
        assert summary == expected(first, last), (first, last)
    # 10 (P), 9 (P), 8, 3 (D): nps = 100 * (2 - 1) / 4 = 25; 4 answered of 4 + 2 declined = 67 %
    assert http.get("/v1/nps_summary", params=_days(start="2025-01-10", end="2025-01-12")).json() == {
        "nps": 25, "responses": 4, "detractors": 1, "passives": 1, "promoters": 2,
        "response_rate": 67, "email_response_rate": 67}
    # the default range is the last month up to today (2024-12-15 .. 2025-01-15)
    assert http.get("/v1/nps_summary").json() == expected("2024-12-15", "2025-01-15")
    assert http.get("/v1/nps_summary", params=_days(end="2025-01-12")).json() == expected("2024-12-12", "2025-01-12")
    assert http.get("/v1/nps_summary", params=_days(start="'2025-01-11'")).json() == expected("2025-01-11", "2025-01-15")
    assert http.get("/v1/nps_summary", params=_days(start="2025-01-12", end="2025-01-10")).json()["responses"] == 0
    _error(http.get("/v1/nps_summary", params=_days(start="2025-13-01")), 400, "date[start] is invalid", "date[start]")
    _error(http.get("/v1/nps_summary", params=_days(end="15/01/2025")), 400, "date[end] is invalid", "date[end]")
    _error(http.get("/v1/nps_summary", params=_days(end="9999-12-31")), 400,
           "date[end] does not have a valid value", "date[end]")
    _error(http.get("/v1/nps_summary", params={"date": "2025"}), 400, "date is invalid", "date")


def test_nps_rounds_half_away_from_zero(http: httpx.Client, admin: httpx.Client) -> None:
    day = {"date[start]": "2025-01-14", "date[end]": "2025-01-14"}
    _load(admin, "responses", [{"end_user_id": ALICE, "score": s, "created_at": T - 86_400}
                               for s in (10, 0, 0, 0, 0, 0, 0, 8)])
    assert http.get("/v1/nps_summary", params=day).json()["nps"] == -63  # 100 * (1 - 6) / 8 = -62.5
    _load(admin, "responses", [{"end_user_id": ALICE, "score": 10, "created_at": T - 86_400}] * 6)
    # 7 promoters, 1 passive, 6 detractors of 14: 100 * 1 / 14 = 7.14 -> 7
    assert http.get("/v1/nps_summary", params=day).json()["nps"] == 7


def test_segments_are_typed_by_suffix_and_dated_by_the_first_carrier(
    http: httpx.Client, emu: Emulator
) -> None:
    emu.store.load([
        {"id": 600, "email": "c@x.example", "created_at": T - 900 * 86_400,
         "properties": {"purchase_date": 1_600_000_000, "features_array": ["sso"], "plan": "Pro"}},
        {"id": 601, "email": "d@x.example", "created_at": T - 10,
         "properties": {"seats_count": 5, "purchase_date": 1_700_000_000}},
    ])
    segments = http.get("/v1/segments").json()
    assert segments == [
        {"name": "features_array", "data_type": "string", "created_at": format_wire_time(T - 900 * 86_400)},
        {"name": "plan", "data_type": "string", "created_at": format_wire_time(T - 900 * 86_400)},
        {"name": "purchase_date", "data_type": "date", "created_at": format_wire_time(T - 900 * 86_400)},
        {"name": "revenue_amount", "data_type": "integer", "created_at": format_wire_time(T - 400 * 86_400)},
        {"name": "seats_count", "data_type": "string", "created_at": format_wire_time(T - 10)},
    ]
    emu.store.set_property(BOB, "churn_date", 1_650_000_000)  # a new key shows at once
    names = [s["name"] for s in http.get("/v1/segments").json()]
    assert "churn_date" in names and len(names) == 6


def test_unknown_methods_and_routes(http: httpx.Client) -> None:
    assert http.post("/v1/responses").status_code == 405
    assert http.delete("/v1/nps_summary").status_code == 405
    assert http.get("/v1/responses/1").status_code == 404  # not a route of the service
    assert http.put(f"/v1/end_users/{ALICE}/responses").status_code == 405
    assert http.get(f"/v1/end_users/{ALICE}/declines/promoters").status_code == 404
    assert http.get("/v1/responses.json").status_code == 200  # the old `.json` suffix


def test_an_api_delete_keeps_the_history_until_the_purge_then_takes_it(
    http: httpx.Client, admin: httpx.Client, clock: ScaledClock, emu: Emulator,
    api_client: Callable[..., httpx.Client],
) -> None:
    _load(admin, "responses", [{"end_user_id": ALICE, "score": 1, "created_at": T - 50},
                               {"end_user_id": BOB, "score": 10, "created_at": T - 40}])
    _load(admin, "declines", [{"end_user_id": ALICE, "created_at": T - 30}])
    assert http.delete(f"/v1/end_users/{ALICE}").status_code == 202  # marked (erasure.py)
    assert {r["end_user_id"] for r in http.get("/v1/responses").json()} == {ALICE, BOB}
    assert len(http.get(f"/v1/end_users/{ALICE}/responses").json()) == 1
    clock.advance(2 * 86_400)  # past the next 07:00 UTC: the purge is due
    http = api_client(emu)  # the old token expired meanwhile
    # the history's own reads purge what is due first, before any end-user read does
    assert [r["end_user_id"] for r in http.get("/v1/responses").json()] == [BOB]
    assert http.get("/v1/declines").json() == []
    assert admin.get("/_emulator/responses").json() == {"count": 1}
    summary = http.get("/v1/nps_summary", params={"date[start]": "2025-01-01", "date[end]": "2025-01-31"}).json()
    assert summary["responses"] == 1 and summary["promoters"] == 1
    _error(http.get(f"/v1/end_users/{ALICE}/responses"), 404, "The record could not be found")
