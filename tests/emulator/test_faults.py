"""Every injected fault as a raw HTTP client sees it; offline/online; the admin surface."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import pytest

from desktop_app.emulator import Emulator


@pytest.fixture
def emu(make_emulator: Callable[..., Emulator]) -> Emulator:
    return make_emulator(users=10, seed=2)


@pytest.fixture
def http(emu: Emulator, api_client: Callable[..., httpx.Client]) -> httpx.Client:
    return api_client(emu)


def _first(emu: Emulator) -> int:
    return min(emu.store.all_ids())


def test_status_faults(emu: Emulator, http: httpx.Client) -> None:
    emu.faults.fail_next("500")
    failed = http.get("/v1/end_users")
    assert failed.status_code == 500 and failed.json()["type"] == "error_list"
    emu.faults.fail_next("503")
    unavailable = http.get("/v1/end_users")
    assert unavailable.status_code == 503
    assert unavailable.headers["content-type"].startswith("text/html")  # a proxy page, not JSON
    emu.faults.fail_next("429")
    burst = http.get("/v1/end_users")
    assert burst.status_code == 429 and burst.headers["x-rate-limit-remaining"] == "0"
    assert int(burst.headers["x-rate-limit-reset"]) > time.time() - 5
    assert http.get("/v1/end_users").status_code == 200  # the queue is spent
    assert emu.faults.counts() == {"500": 1, "503": 1, "429": 1} and emu.faults.total == 3


def test_malformed_is_200_with_invalid_json(emu: Emulator, http: httpx.Client) -> None:
    emu.faults.fail_next("malformed")
    reply = http.get("/v1/end_users")
    assert reply.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        reply.json()


def test_truncated_body_is_a_protocol_error(emu: Emulator, http: httpx.Client) -> None:
    emu.faults.fail_next("truncated")
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/v1/end_users")
    assert http.get("/v1/end_users").status_code == 200  # a new connection works


def test_reset_is_a_connection_reset(emu: Emulator, http: httpx.Client) -> None:
    emu.faults.fail_next("reset")
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)) as caught:
        http.get("/v1/end_users")
    text = str(caught.value).lower()
    assert "reset" in text or isinstance(caught.value, httpx.RemoteProtocolError), text
    assert http.get("/v1/end_users").status_code == 200


def test_timeout_holds_until_the_client_gives_up(emu: Emulator, http: httpx.Client) -> None:
    emu.faults.fail_next("timeout")
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        http.get("/v1/end_users", timeout=0.3)
    assert time.monotonic() - started >= 0.3
    emu.faults.clear()  # lets the held request go
    assert http.get("/v1/end_users").status_code == 200


def test_faults_before_handling_change_nothing(emu: Emulator, http: httpx.Client) -> None:
    end_user_id = _first(emu)
    before = emu.store.get(end_user_id)
    for kind in ("500", "503", "429", "reset", "truncated", "malformed"):
        emu.faults.fail_next(kind)
        try:
            http.put(f"/v1/end_users/{end_user_id}", data={"external_id": f"x-{kind}"})
        except httpx.HTTPError:
            pass
    assert emu.store.get(end_user_id) == before


@pytest.mark.parametrize(("kind", "error"), [
    ("reset_after_write", (httpx.ReadError, httpx.RemoteProtocolError)),
    ("truncated_after_write", httpx.RemoteProtocolError),
])
def test_after_write_faults_apply_the_write_and_lose_the_answer(
    emu: Emulator, http: httpx.Client, kind: str,
    error: type[Exception] | tuple[type[Exception], ...],
) -> None:
    end_user_id = _first(emu)
    emu.faults.fail_next(kind)
    assert http.get(f"/v1/end_users/{end_user_id}").status_code == 200  # reads are not hit
    with pytest.raises(error):
        http.put(f"/v1/end_users/{end_user_id}", data={"external_id": "applied"})
    stored = emu.store.get(end_user_id)
    assert stored is not None and stored["external_id"] == "applied"
    assert emu.faults.counts() == {kind: 1}


def test_rate_and_path_prefix(emu: Emulator, http: httpx.Client) -> None:
    emu.faults.fail(0.5, {"500"}, path_prefix="/v1/end_users/")
    listed = [http.get("/v1/end_users").status_code for _ in range(20)]
    assert listed == [200] * 20  # the prefix does not match the list path
    single = [http.get(f"/v1/end_users/{_first(emu)}").status_code for _ in range(60)]
    assert 10 < single.count(500) < 50 and set(single) == {200, 500}
    assert emu.faults.counts()["500"] == single.count(500)
    emu.faults.clear()
    assert all(http.get("/v1/end_users").status_code == 200 for _ in range(10))


def test_latency_delays_each_request(emu: Emulator, http: httpx.Client) -> None:
    emu.faults.latency(0.2)
    started = time.monotonic()
    assert http.get("/v1/end_users").status_code == 200
    assert time.monotonic() - started >= 0.2
    emu.faults.latency(0)


def test_offline_refuses_connections_and_online_returns_on_the_same_port(
    emu: Emulator, http: httpx.Client, raw_client: Callable[..., httpx.Client],
) -> None:
    url = emu.base_url
    assert http.get("/v1/end_users").status_code == 200  # a pooled keep-alive connection exists
    emu.faults.offline()
    assert emu.faults.is_offline
    with pytest.raises(httpx.ConnectError):
        raw_client(emu).get("/v1/end_users")
    with pytest.raises((httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError)):
        http.get("/v1/end_users")  # the old connection was cut too
    emu.faults.online()
    assert emu.base_url == url
    assert http.get("/v1/end_users").status_code == 200


def test_admin_surface_controls_faults_and_data(
    emu: Emulator, http: httpx.Client, raw_client: Callable[..., httpx.Client],
) -> None:
    admin = raw_client(emu)
    assert admin.get("/_emulator/health").json() == {"end_users": 10, "offline": False}
    created = admin.post("/_emulator/end_users", json={"email": "admin@example.com",
                                                       "properties": {"plan": "Pro"}})
    assert created.status_code == 201
    new_id = created.json()["ids"][0]
    changed = admin.put(f"/_emulator/end_users/{new_id}",
                        json={"properties": {"plan": "Free"}, "opted_out": True})
    assert changed.json()["properties"] == {"plan": "Free"} and changed.json()["surveys_disabled"]
    assert http.get(f"/v1/end_users/{new_id}").json()["settings"]["surveys_disabled_by_end_user"]
    everyone = admin.get("/_emulator/end_users").json()
    assert len(everyone) == 11 and all("settings" in row for row in everyone)
    assert admin.delete(f"/_emulator/end_users/{new_id}").status_code == 204
    assert admin.get(f"/_emulator/end_users/{new_id}").status_code == 404

    switched = admin.post("/_emulator/faults", json={"fail_rate": 1.0, "kinds": ["503"]})
    assert switched.status_code == 200
    assert http.get("/v1/end_users").status_code == 503
    assert admin.get("/_emulator/health").status_code == 200  # the admin surface is never faulted
    assert admin.get("/_emulator/faults").json()["counts"] == {"503": 1}
    admin.post("/_emulator/faults", json={"clear": True})
    assert http.get("/v1/end_users").status_code == 200

    token = http.headers["Authorization"]
    assert admin.post("/_emulator/tokens/expire").status_code == 204
    assert http.get("/v1/end_users", headers={"Authorization": token}).status_code == 401


def test_admin_offline_for_comes_back_by_itself(
    emu: Emulator, raw_client: Callable[..., httpx.Client],
) -> None:
    admin = raw_client(emu)
    reply = admin.post("/_emulator/faults", json={"offline_for": 1.0})
    assert reply.status_code == 200 and reply.json() == {"offline_for": 1.0}
    refused = back = False
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not back:  # poll, bounded
        try:
            ok = raw_client(emu).get("/_emulator/health").status_code == 200
        except httpx.ConnectError:
            refused = True
        except (httpx.RemoteProtocolError, httpx.ReadError):
            pass  # caught mid-switch: accepted, then cut by the outage
        else:
            back = refused and ok  # answering again after having refused
        time.sleep(0.05)
    assert refused and back


def test_an_injected_429_carries_the_retry_after_it_is_given(
    emu: Emulator, http: httpx.Client, raw_client: Callable[..., httpx.Client],
) -> None:
    emu.faults.fail_next("429")
    assert "retry-after" not in http.get("/v1/end_users").headers  # the service sends none
    emu.faults.retry_after = "7"
    emu.faults.fail_next("429")
    assert http.get("/v1/end_users").headers["retry-after"] == "7"
    admin = raw_client(emu)
    admin.post("/_emulator/faults", json={"retry_after": "soon", "fail_next": {"kind": "429"}})
    assert http.get("/v1/end_users").headers["retry-after"] == "soon"
    admin.post("/_emulator/faults", json={"clear": True})
    assert emu.faults.retry_after is None


def test_tamper_next_rewrites_one_field_of_the_first_end_user(
    emu: Emulator, http: httpx.Client, raw_client: Callable[..., httpx.Client],
) -> None:
    first = _first(emu)
    emu.faults.tamper_next("id", True, path_prefix="/v1/end_users")
    listed = http.get("/v1/end_users", params={"sort_key": "created_at", "sort_order": "asc"})
    assert listed.json()[0]["id"] is True and listed.json()[1]["id"] != first
    assert http.get("/v1/end_users").json()[0]["id"] != True  # noqa: E712 - spent after one
    raw_client(emu).post("/_emulator/faults", json={
        "tamper_next": {"field": "updated_at", "value": 1e300}})
    assert '"updated_at":1e+300' in http.get(f"/v1/end_users/{first}").text
    assert http.get("/v1/end_users/999999999").status_code == 404  # errors are never tampered
    assert emu.store.get(first) is not None  # the stored row is untouched
