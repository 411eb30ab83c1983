"""`EmulatorStore`: server-side changes as a colleague makes them, and loading as given."""

from __future__ import annotations

import pytest

from desktop_app.clock import ScaledClock
from desktop_app.emulator import EmulatorStore

T = 1_736_942_400
ALL_ON = {"email_nps": True, "mobile_nps": True, "web_nps": True, "force_web_survey": None,
          "force_mobile_survey": None, "surveys_disabled_by_end_user": False}


@pytest.fixture
def clock() -> ScaledClock:
    return ScaledClock(speed=0.0, start=T + 0.75)  # a fraction: stamps are whole seconds


@pytest.fixture
def store(clock: ScaledClock) -> EmulatorStore:
    return EmulatorStore(clock)


def test_load_keeps_timestamps_and_reads_the_seed_flag(store: EmulatorStore) -> None:
    loaded = store.load([
        {"id": 5, "email": "a@example.com", "created_at": 100, "updated_at": 200,
         "external_id": "e5", "external_created_at": 90, "last_surveyed": 150,
         "properties": {"plan": "Pro"}, "surveys_disabled": False},
        {"id": 6, "email": "b@example.com", "created_at": 300, "updated_at": 300,
         "surveys_disabled": True},
        {"id": 7, "email": "c@example.com", "created_at": "2025-01-15 04:00:00 -0800"},
    ])
    assert loaded == 3 and store.count() == 3 and store.all_ids() == {5, 6, 7}
    assert store.get(5) == {
        "id": 5, "email": "a@example.com", "created_at": 100, "updated_at": 200,
        "surveys_disabled": False, "properties": {"plan": "Pro"}, "external_id": "e5",
        "external_created_at": 90, "last_surveyed": 150, "settings": ALL_ON,
    }
    disabled = store.get(6)
    assert disabled is not None and disabled["surveys_disabled"] is True
    assert disabled["settings"] == {
        **ALL_ON, "email_nps": False, "mobile_nps": False, "web_nps": False}
    assert store.get(7)["created_at"] == store.get(7)["updated_at"] == T


def test_every_change_bumps_updated_at_to_the_current_second(
    store: EmulatorStore, clock: ScaledClock,
) -> None:
    end_user_id = store.add(email="x@example.com", created_at=T - 500, properties={"a": 1, "b": 2})
    assert store.get(end_user_id)["created_at"] == T - 500
    assert store.get(end_user_id)["updated_at"] == T
    steps = [
        lambda: store.update(end_user_id, properties={"c": 3}),
        lambda: store.set_property(end_user_id, "d", ["x", "y"]),
        lambda: store.set_property(end_user_id, "c", None),
        lambda: store.set_settings(end_user_id, email_nps=False),
        lambda: store.opt_out(end_user_id),
        lambda: store.update(end_user_id, email="y@example.com", external_id="ext"),
    ]
    for n, step in enumerate(steps, 1):
        clock.advance(10)
        result = step()
        assert result["updated_at"] == T + 10 * n
    final = store.get(end_user_id)
    assert final is not None
    assert final["properties"] == {"d": ["x", "y"]}  # update replaced, set_property merged/removed
    assert final["email"] == "y@example.com" and final["external_id"] == "ext"
    assert final["settings"] == {**ALL_ON, "email_nps": False, "surveys_disabled_by_end_user": True}
    assert final["surveys_disabled"] is True


def test_settings_and_seed_flag_round_trip(store: EmulatorStore) -> None:
    end_user_id = store.add({"email": "s@example.com"})
    store.set_settings(end_user_id, email_nps=False, mobile_nps=False, web_nps=False)
    assert store.get(end_user_id)["surveys_disabled"] is True
    store.update(end_user_id, surveys_disabled=False)
    assert store.get(end_user_id)["settings"] == ALL_ON
    store.set_settings(end_user_id, force_web_survey=True, force_mobile_survey=False)
    settings = store.get(end_user_id)["settings"]
    assert settings["force_web_survey"] is True and settings["force_mobile_survey"] is False
    store.set_settings(end_user_id, force_web_survey=None)
    assert store.get(end_user_id)["settings"]["force_web_survey"] is None
    store.update(end_user_id, settings={"surveys_disabled_by_end_user": True})
    assert store.get(end_user_id)["surveys_disabled"] is True
    store.opt_out(end_user_id, False)
    assert store.get(end_user_id)["surveys_disabled"] is False


def test_unknown_ids_and_fields(store: EmulatorStore) -> None:
    end_user_id = store.add(email="k@example.com")
    with pytest.raises(KeyError):
        store.update(999, email="z@example.com")
    with pytest.raises(KeyError):
        store.set_property(999, "a", 1)
    with pytest.raises(TypeError):
        store.update(end_user_id, colour="red")
    with pytest.raises(TypeError):
        store.set_settings(end_user_id, sms_nps=True)
    with pytest.raises(ValueError):
        store.add(properties={"no": "email"})
    assert store.delete(end_user_id) is True and store.delete(end_user_id) is False
    assert store.get(end_user_id) is None and store.count() == 0


def test_add_assigns_growing_ids_and_replaces_on_known_id(store: EmulatorStore) -> None:
    store.load([{"id": 40, "email": "a@example.com", "created_at": 1, "updated_at": 1}])
    assert store.add(email="b@example.com") == 41
    store.load([{"id": 40, "email": "again@example.com", "created_at": 1, "updated_at": 2}])
    replaced = store.get(40)
    assert replaced is not None and replaced["email"] == "again@example.com"
    assert store.count() == 2


def test_seed_dicts_lists_everyone_by_id(store: EmulatorStore) -> None:
    store.load([{"id": i, "email": f"u{i}@example.com", "created_at": i, "updated_at": i}
                for i in (3, 1, 2)])
    assert [row["id"] for row in store.seed_dicts()] == [1, 2, 3]
