"""OAuth grants, bearer and access_token auth, and the 401s, over real HTTP."""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from desktop_app.clock import ScaledClock
from desktop_app.emulator import (
    DEFAULT_ACCOUNT_TOKEN,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    Emulator,
)

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _password_grant(http: httpx.Client, **extra: str) -> httpx.Response:
    return http.post("/oauth/token", data={
        "grant_type": "password", "username": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD,
        **extra,
    })


def test_constants_are_64_hex_chars() -> None:
    assert HEX64.match(DEFAULT_CLIENT_ID) and HEX64.match(DEFAULT_CLIENT_SECRET)
    assert DEFAULT_CLIENT_ID != DEFAULT_CLIENT_SECRET


def test_client_credentials_grant_has_no_refresh_token(
    emulator: Emulator, raw_client: Callable[..., httpx.Client],
) -> None:
    http = raw_client(emulator)
    reply = http.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
    })
    assert reply.status_code == 200
    body = reply.json()
    assert HEX64.match(body["access_token"])
    assert body["token_type"] == "bearer" and body["expires_in"] == 7200
    assert "refresh_token" not in body
    assert reply.headers["cache-control"] == "no-store"


def test_client_credentials_by_http_basic(
    emulator: Emulator, raw_client: Callable[..., httpx.Client],
) -> None:
    http = raw_client(emulator)
    reply = http.post("/oauth/token", data={"grant_type": "client_credentials"},
                      auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))
    assert reply.status_code == 200 and HEX64.match(reply.json()["access_token"])


def test_password_grant_and_account_token(
    emulator: Emulator, raw_client: Callable[..., httpx.Client],
) -> None:
    http = raw_client(emulator)
    plain = _password_grant(http)
    assert plain.status_code == 200
    assert HEX64.match(plain.json()["access_token"]) and HEX64.match(plain.json()["refresh_token"])
    chosen = http.post(f"/oauth/token?account_token={DEFAULT_ACCOUNT_TOKEN}", data={
        "grant_type": "password", "username": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD,
    })
    assert chosen.status_code == 200
    elsewhere = http.post("/oauth/token?account_token=NPS-00000000", data={
        "grant_type": "password", "username": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD,
    })
    assert elsewhere.status_code == 401 and elsewhere.json()["error"] == "invalid_grant"


def test_refresh_grant_rotates_both_tokens(
    emulator: Emulator, raw_client: Callable[..., httpx.Client],
) -> None:
    http = raw_client(emulator)
    first = _password_grant(http).json()
    second = http.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"],
    })
    assert second.status_code == 200
    renewed = second.json()
    assert renewed["access_token"] != first["access_token"]
    assert renewed["refresh_token"] != first["refresh_token"]
    reused = http.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"],
    })
    assert reused.status_code == 401 and reused.json()["error"] == "invalid_grant"
    listing = http.get("/v1/end_users",
                       headers={"Authorization": f"Bearer {renewed['access_token']}"})
    assert listing.status_code == 200


@pytest.mark.parametrize("form", [
    {"grant_type": "client_credentials", "client_id": DEFAULT_CLIENT_ID,
     "client_secret": "0" * 64},
    {"grant_type": "client_credentials", "client_id": "0" * 64,
     "client_secret": DEFAULT_CLIENT_SECRET},
    {"grant_type": "client_credentials"},
    {"grant_type": "password", "username": DEFAULT_USERNAME, "password": "nope"},
    {"grant_type": "password", "username": "someone@else.example", "password": DEFAULT_PASSWORD},
    {"grant_type": "refresh_token", "refresh_token": "f" * 64},
])
def test_bad_credentials_are_401_invalid_grant(
    emulator: Emulator, raw_client: Callable[..., httpx.Client], form: dict[str, str],
) -> None:
    reply = raw_client(emulator).post("/oauth/token", data=form)
    assert reply.status_code == 401
    body = reply.json()
    assert body["error"] == "invalid_grant" and body["error_description"]
    assert DEFAULT_CLIENT_SECRET not in reply.text and DEFAULT_PASSWORD not in reply.text


def test_unsupported_and_missing_grant_type_are_400(
    emulator: Emulator, raw_client: Callable[..., httpx.Client],
) -> None:
    http = raw_client(emulator)
    odd = http.post("/oauth/token", data={"grant_type": "authorization_code", "code": "x"})
    assert odd.status_code == 400 and odd.json()["error"] == "unsupported_grant_type"
    none = http.post("/oauth/token", data={})
    assert none.status_code == 400 and none.json()["error"] == "invalid_request"


def test_token_endpoint_takes_multipart_and_json_and_the_json_suffix(
    emulator: Emulator, raw_client: Callable[..., httpx.Client],
) -> None:
    http = raw_client(emulator)
    fields = {"grant_type": "client_credentials", "client_id": DEFAULT_CLIENT_ID,
              "client_secret": DEFAULT_CLIENT_SECRET}
    multipart = http.post("/oauth/token", files={k: (None, v) for k, v in fields.items()})
    assert multipart.status_code == 200, multipart.text
    assert http.post("/oauth/token", json=fields).status_code == 200
    assert http.post("/oauth/token.json", data=fields).status_code == 200


def _unauthorized(reply: httpx.Response, message: str) -> None:
    assert reply.status_code == 401
    assert reply.json() == {"type": "error_list", "errors": [
        {"status": "unauthorized", "message": message, "field": None}]}
    assert 'error="invalid_token"' in reply.headers["www-authenticate"]


def test_missing_and_unknown_tokens_are_401(
    emulator: Emulator, raw_client: Callable[..., httpx.Client],
) -> None:
    http = raw_client(emulator)
    _unauthorized(http.get("/v1/end_users"), "The access token is missing")
    _unauthorized(http.get("/v1/end_users", headers={"Authorization": "Bearer " + "a" * 64}),
                  "The access token is invalid")
    _unauthorized(http.get("/v1/end_users", params={"access_token": "b" * 64}),
                  "The access token is invalid")


def test_bearer_header_and_access_token_param_both_work(
    emulator: Emulator, raw_client: Callable[..., httpx.Client],
    api_client: Callable[..., httpx.Client],
) -> None:
    token = api_client(emulator).headers["Authorization"].split()[1]
    http = raw_client(emulator)
    by_header = http.get("/v1/end_users", headers={"Authorization": f"Bearer {token}"})
    by_query = http.get("/v1/end_users", params={"access_token": token})
    by_body = http.put(f"/v1/end_users/{sorted(emulator.store.all_ids())[0]}",
                       data={"access_token": token, "external_id": "via-body"})
    assert by_header.status_code == by_query.status_code == by_body.status_code == 200
    assert by_header.json() == by_query.json()
    assert by_body.json()["external_id"] == "via-body"


@pytest.mark.parametrize("emulator", [{"clock": ScaledClock(speed=0.0, start=1_736_942_400)}],
                         indirect=True)
def test_tokens_expire_after_7200_seconds_of_emulator_time(
    emulator: Emulator, api_client: Callable[..., httpx.Client],
) -> None:
    http = api_client(emulator)
    clock: Any = emulator.clock
    clock.advance(7_199)
    assert http.get("/v1/end_users").status_code == 200
    clock.advance(1)
    _unauthorized(http.get("/v1/end_users"), "The access token expired")


def test_expire_tokens_forces_401_and_refresh_still_works(
    emulator: Emulator, raw_client: Callable[..., httpx.Client],
) -> None:
    http = raw_client(emulator)
    grant = _password_grant(http).json()
    bearer = {"Authorization": f"Bearer {grant['access_token']}"}
    assert http.get("/v1/end_users", headers=bearer).status_code == 200
    emulator.expire_tokens()
    _unauthorized(http.get("/v1/end_users", headers=bearer), "The access token expired")
    renewed = http.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": grant["refresh_token"]})
    assert http.get("/v1/end_users", headers={
        "Authorization": f"Bearer {renewed.json()['access_token']}"}).status_code == 200


def test_basic_auth_header_with_bad_base64_is_refused(
    emulator: Emulator, raw_client: Callable[..., httpx.Client],
) -> None:
    garbage = "Basic " + base64.b64encode(b"\xff\xfe").decode()
    reply = raw_client(emulator).post("/oauth/token", data={"grant_type": "client_credentials"},
                                      headers={"Authorization": garbage})
    assert reply.status_code == 401


def test_tokens_and_secrets_never_reach_the_emulator_log(
    emulator: Emulator, raw_client: Callable[..., httpx.Client],
    api_client: Callable[..., httpx.Client], caplog: pytest.LogCaptureFixture,
) -> None:
    import socket

    caplog.set_level(logging.DEBUG, logger="desktop_app.emulator")
    token = api_client(emulator).headers["Authorization"].split()[1]
    http = raw_client(emulator)
    assert http.get("/v1/end_users", params={"access_token": token}).status_code == 200
    http.post("/oauth/token",
              params={"client_secret": DEFAULT_CLIENT_SECRET, "password": DEFAULT_PASSWORD})
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=5) as raw:
        # an unknown method: the stdlib answers 501 and logs the request line
        raw.sendall(f"BREW /v1/end_users?access_token={token} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert raw.recv(4096).startswith(b"HTTP/1.1 501")
    emulator.faults.fail_next("500")
    http.get("/v1/end_users", params={"access_token": token})
    # httpx logs its own request URLs; only the emulator's records are ours to judge
    ours = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith("desktop_app.emulator"))
    assert "501" in ours and "/v1/end_users" in ours  # the emulator did log those requests
    for secret in (token, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD):
        assert secret not in ours
