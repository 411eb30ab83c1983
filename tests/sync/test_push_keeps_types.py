"""A push keeps every property it did not change exactly as the service had it, type included.

The service replaces the whole properties hash on PUT, so a push re-sends keys the person never
touched. Sent as a form, `revenue_amount: 9680` came back as the text "9680" and split the
account's segments; the client sends JSON now, and the emulator types by suffix as the service.
"""

from __future__ import annotations

import json

import httpx
import pytest

from desktop_app.api.client import WootricClient
from desktop_app.cache.store import Cache
from desktop_app.emulator import Emulator
from desktop_app.sync import SyncService, SyncState

from .conftest import credentials

UNTOUCHED = {
    "revenue_amount": 9680,
    "refund_amount": 12.5,
    "seats_count": 40,
    "ratio": 0.25,
    "beta": True,
    "churned": False,
    "signup_date": 1_700_000_000,
    "features_array": ["sso", "api"],
    "zip": "01234",  # text that looks like a number stays text
    "score_text": "10",
    "city": "Zürich — 東京",
    "empty": "",
}


def _server_properties(emu: Emulator, end_user_id: int) -> dict[str, object]:
    row = emu.store.get(end_user_id)
    assert row is not None
    return dict(row["properties"])


@pytest.mark.parametrize("edit", ["property", "email", "external_id", "unset"])
def test_untouched_properties_keep_type_and_value_through_a_push(
    emu: Emulator, cache: Cache, service: SyncService, edit: str
) -> None:
    target = emu.store.add(email="typed@example.org", properties={**UNTOUCHED, "plan": "Free"})
    assert service.run_once().state is SyncState.IDLE
    if edit == "property":
        cache.set_property([target], "plan", "Pro")
    elif edit == "email":
        cache.set_email(target, "typed.fixed@example.org")
    elif edit == "external_id":
        cache.set_external_id(target, "crm-7")
    else:
        cache.unset_property([target], "plan")
    assert service.run_once().state is SyncState.IDLE
    assert not cache.pending_count()
    stored = _server_properties(emu, target)
    for key, value in UNTOUCHED.items():
        assert stored[key] == value and type(stored[key]) is type(value), key
    assert stored.get("plan") == (None if edit == "unset" else "Pro" if edit == "property" else "Free")


def test_an_edited_number_goes_out_as_a_number(emu: Emulator, cache: Cache, service: SyncService) -> None:
    target = emu.store.add(email="n@example.org", properties={"seats_count": 3})
    service.run_once()
    cache.set_property([target], "seats_count", 12)
    cache.set_property([target], "features_array", ["a", "b"])
    service.run_once()
    stored = _server_properties(emu, target)
    assert stored["seats_count"] == 12 and type(stored["seats_count"]) is int
    assert stored["features_array"] == ["a", "b"]


# --- the emulator types what other clients send, as the service does ------------------------


def _put(emu: Emulator, end_user_id: int, *, form: dict[str, str] | None = None,
         document: dict[str, object] | None = None) -> httpx.Response:
    """A PUT as another public client sends it: a form, or a JSON body."""
    with WootricClient(credentials(emu)) as client:
        client.authenticate()
        token = client._t.tokens.bearer()  # the wire itself is under test here
    headers = {"Authorization": f"Bearer {token}"}
    content = None
    if document is not None:
        headers["Content-Type"] = "application/json"
        content = json.dumps(document)
    return httpx.put(f"{emu.base_url}/v1/end_users/{end_user_id}", headers=headers,
                     data=form, content=content, timeout=10)


def test_a_form_client_gets_typed_suffix_properties(emu: Emulator) -> None:
    target = emu.store.add(email="form@example.org")
    answer = _put(emu, target, form={
        "properties[revenue_amount]": "9680", "properties[refund_amount]": "12.50",
        "properties[signup_date]": "1700000000", "properties[features_array]": "sso, api",
        "properties[seats]": "3",
    })
    assert answer.status_code == 200, answer.text
    assert _server_properties(emu, target) == {
        "revenue_amount": 9680, "refund_amount": 12.5, "signup_date": 1_700_000_000,
        "features_array": ["sso", "api"], "seats": "3",  # no suffix: a form can only say text
    }
    assert answer.json()["properties"]["revenue_amount"] == 9680


@pytest.mark.parametrize(("key", "value"), [
    ("revenue_amount", "lots"), ("revenue_amount", True), ("signup_date", "2024-01-01"),
    ("signup_date", 1.5), ("features_array", {"a": 1}), ("features_array", [["nested"]]),
])
def test_a_value_that_does_not_fit_its_suffix_is_refused_naming_the_field(
    emu: Emulator, key: str, value: object
) -> None:
    target = emu.store.add(email="strict@example.org", properties={"plan": "Pro"})
    answer = _put(emu, target, document={"properties": {key: value}})
    assert answer.status_code == 400
    error = answer.json()["errors"][0]
    assert error["field"] == f"properties[{key}]" and key in error["message"]
    assert _server_properties(emu, target) == {"plan": "Pro"}  # nothing written
