"""Survey responses and declines off the wire: one parser for the account-wide and per-user
lists, the list timestamp form, and hostile answers refused with a ProtocolError naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from desktop_app.api.errors import ProtocolError
from desktop_app.api.wire import (
    decline_from_wire,
    declines_from_wire,
    response_from_wire,
    responses_from_wire,
)

RESPONSE: dict[str, Any] = {
    "id": 91, "end_user_id": 7, "survey_id": 1001, "score": 3, "text": "Too slow",
    "completed": True, "excluded_from_calculations": False, "ip_address": "203.0.113.9",
    "origin_url": "https://app.example.com/", "created_at": "2024-01-31 23:59:59 -0800",
    "updated_at": "2024-02-02 10:00:00 -0800", "tags": ["performance", "billing"],
    "notes": [{"text": "called back", "author": "ops"}, "plain note"],
    "end_user": {"email": "a@acme.example", "properties": {"plan": "pro", "seats": 12}},
}
DECLINE: dict[str, Any] = {
    "id": 44, "end_user_id": 7, "survey_id": 1001, "ip_address": "203.0.113.9",
    "origin_url": "https://app.example.com/", "created_at": "2024-01-31 23:59:59 -0800",
    "updated_at": "2024-01-31 23:59:59 -0800", "end_user": {"properties": {}},
}


def test_a_response_of_the_account_list_reads_whole() -> None:
    r = response_from_wire(RESPONSE)
    assert (r.id, r.end_user_id, r.survey_id, r.score, r.text) == (91, 7, 1001, 3, "Too slow")
    assert r.created_at == 1_706_774_399  # -0800 honoured: 2024-02-01 07:59:59 UTC
    assert r.updated_at == 1_706_896_800
    assert r.completed and not r.excluded_from_calculations
    assert (r.ip_address, r.origin_url) == ("203.0.113.9", "https://app.example.com/")
    assert r.tags == ("performance", "billing")
    assert r.notes == ('{"author": "ops", "text": "called back"}', "plain note")
    assert r.end_user_email == "a@acme.example"
    assert r.end_user_properties == {"plan": "pro", "seats": 12}


def test_optional_parts_may_be_missing() -> None:
    bare = {k: RESPONSE[k] for k in ("id", "end_user_id", "score", "created_at")}
    r = response_from_wire(bare)
    assert r.updated_at == r.created_at and r.tags == () and r.notes == ()
    assert r.ip_address is None and r.end_user_email is None and r.end_user_properties == {}


def test_a_decline_reads_whole() -> None:
    d = decline_from_wire(DECLINE)
    assert (d.id, d.end_user_id, d.survey_id, d.created_at, d.updated_at) == (
        44, 7, 1001, 1_706_774_399, 1_706_774_399)
    assert d.origin_url == "https://app.example.com/"


@pytest.mark.parametrize(("change", "said"), [
    ({"score": 11}, "unusable score .* not a score from 0 to 10"),
    ({"score": -1}, "unusable score"),
    ({"score": "9.5"}, "unusable score"),
    ({"score": True}, "unusable score .* a boolean"),
    ({"created_at": "yesterday"}, "unusable created_at .* not a valid timestamp"),
    ({"created_at": None}, "without created_at"),
    ({"updated_at": [1]}, "unusable updated_at"),
    ({"excluded_from_calculations": "false"}, "unusable excluded_from_calculations"),
    ({"completed": 1}, "unusable completed"),
    ({"tags": "billing"}, "unusable tags .* not a list"),
    ({"tags": ["ok", 7]}, "unusable tags .* not text"),
    ({"notes": [["nested"]]}, "unusable notes"),
    ({"text": {"html": "<b>"}}, "unusable text .* not text"),
    ({"end_user": "a@b"}, "unusable end_user .* not an object"),
    ({"end_user": {"properties": [1, 2]}}, "unusable end_user.properties"),
    ({"end_user_id": 0}, "unusable end_user_id"),
    ({"id": 2**63}, "unusable id .* out of range"),
])
def test_hostile_responses_are_refused_naming_the_field(change: dict[str, Any], said: str) -> None:
    with pytest.raises(ProtocolError, match=said):
        response_from_wire({**RESPONSE, **change})


@pytest.mark.parametrize(("change", "said"), [
    ({"created_at": 1.5}, "unusable created_at"),
    ({"end_user_id": "seven"}, "unusable end_user_id"),
    ({"survey_id": False}, "unusable survey_id"),
    ({"origin_url": 5}, "unusable origin_url"),
])
def test_hostile_declines_are_refused_naming_the_field(change: dict[str, Any], said: str) -> None:
    with pytest.raises(ProtocolError, match=said):
        decline_from_wire({**DECLINE, **change})


@pytest.mark.parametrize("body", [{"responses": []}, "[]", None, 5])
def test_a_list_that_is_no_array_is_refused(body: object) -> None:
    with pytest.raises(ProtocolError, match="expected a JSON array of survey responses"):
        responses_from_wire(body)
    with pytest.raises(ProtocolError, match="expected a JSON array of survey declines"):
        declines_from_wire(body)


def test_one_bad_row_refuses_the_whole_page() -> None:
    with pytest.raises(ProtocolError, match="survey response 92"):
        responses_from_wire([RESPONSE, {**RESPONSE, "id": 92, "score": "high"}])
