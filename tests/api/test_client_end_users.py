"""End-user operations against the emulator: what goes over the wire comes back as the domain."""

from __future__ import annotations

from typing import Any

import pytest

from desktop_app.api.errors import NotFoundError
from desktop_app.api.wire import UNSET
from desktop_app.domain import DisabledBy


def test_create_read_find_update_delete(make_emulator: Any, client_for: Any) -> None:
    emu = make_emulator(users=0)
    client = client_for(emu)
    created = client.create_end_user(
        "ana.núñez+nps@acme.example", external_id="CRM-0000042",
        properties={"plan": "Pro", "seats_count": 12, "features_array": ["sso", "api"]},
        external_created_at=1_600_000_000,
    )
    assert created.email == "ana.núñez+nps@acme.example"
    assert created.external_id == "CRM-0000042" and created.external_created_at == 1_600_000_000
    assert created.properties["plan"] == "Pro"
    assert list(created.properties["features_array"]) == ["sso", "api"]
    assert created.updated_at >= created.created_at > 1_600_000_000

    assert client.get_end_user(created.id) == created
    assert client.find_by_email("ana.núñez+nps@acme.example") == created
    assert client.find_by_external_id("CRM-0000042") == created

    # properties: the whole merged hash replaces the old one
    updated = client.update_end_user(created.id, properties={"plan": "Business", "region": "EMEA"})
    assert dict(updated.properties) == {"plan": "Business", "region": "EMEA"}
    assert updated.email == created.email  # untouched fields stay (UNSET is not sent)
    renamed = client.update_end_user(created.id, email="ana@acme.example", external_id=UNSET)
    assert renamed.email == "ana@acme.example" and renamed.external_id == "CRM-0000042"
    assert dict(renamed.properties) == {"plan": "Business", "region": "EMEA"}
    cleared = client.update_end_user(created.id, properties={})
    assert dict(cleared.properties) == {}

    # a delete answers 202 and only marks the person: findable, and deletable again, until
    # the service's purge
    client.delete_end_user(created.id)
    assert client.get_end_user(created.id).id == created.id
    client.delete_end_user(created.id)
    assert list(emu.store.marked()) == [created.id]
    emu.store.purge_marked()
    with pytest.raises(NotFoundError):
        client.get_end_user(created.id)
    with pytest.raises(NotFoundError):
        client.delete_end_user(created.id)
    assert client.find_by_email("ana@acme.example") is None


def test_surveys_switch_all_three_channels(make_emulator: Any, client_for: Any) -> None:
    emu = make_emulator(users=0)
    client = client_for(emu)
    user = client.create_end_user("switch@acme.example")
    assert user.disabled_by is DisabledBy.NOBODY
    settings = client.set_surveys_enabled(user.id, False)
    assert (settings.email_nps, settings.mobile_nps, settings.web_nps) == (False, False, False)
    assert client.get_end_user(user.id).disabled_by is DisabledBy.ADMIN
    assert client.set_surveys_enabled(user.id, True).disabled_by is DisabledBy.NOBODY
    emu.store.opt_out(user.id)  # the end user opted out through the SDK link
    assert client.get_end_user(user.id).disabled_by is DisabledBy.END_USER
    assert client.get_survey_settings(user.id).surveys_disabled_by_end_user


def test_a_server_side_change_bumps_updated_at(make_emulator: Any, client_for: Any) -> None:
    emu = make_emulator(users=0)
    client = client_for(emu)
    user = client.create_end_user("bump@acme.example", properties={"plan": "Free"})
    emu.store.set_property(user.id, "plan", "Pro")
    again = client.get_end_user(user.id)
    assert again.properties["plan"] == "Pro" and again.updated_at >= user.updated_at


def test_list_responses_of_an_end_user(make_emulator: Any, client_for: Any) -> None:
    emu = make_emulator(users=50, seed=3)
    client = client_for(emu)
    ids = [u.id for u in client.list_end_users([("per_page", "50"), ("sort_key", "created_at")])]
    responses = {i: client.list_responses(i) for i in ids[:10]}
    for end_user_id, answers in responses.items():
        assert all(r.end_user_id == end_user_id and 0 <= r.score <= 10 for r in answers)
        assert [r.created_at for r in answers] == sorted(r.created_at for r in answers)
