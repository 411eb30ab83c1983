"""Signing in against the emulator: grants, token caching, refresh before expiry and on 401."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from desktop_app.api.account import Credentials
from desktop_app.api.client import WootricClient
from desktop_app.api.errors import AuthError
from desktop_app.clock import ScaledClock


def _settle(client: WootricClient, end_user_id: int) -> int:
    """One authenticated call; the request count after it."""
    client.get_end_user(end_user_id)
    return client.request_count


def client_ids(client: WootricClient) -> list[int]:
    return [u.id for u in client.list_end_users([("per_page", "5"), ("sort_key", "created_at")])]


def test_client_credentials_token_is_fetched_once_and_reused(
    make_emulator: Any, client_for: Any,
) -> None:
    emu = make_emulator(users=20)
    client = client_for(emu)
    client.authenticate()
    assert client.request_count == 1
    ids = client_ids(client)
    for end_user_id in ids:
        assert client.get_end_user(end_user_id).id == end_user_id
    assert client.request_count == 1 + 1 + len(ids)  # one sign-in for everything


def test_password_grant_with_account_token(make_emulator: Any, client_for: Any) -> None:
    from desktop_app.emulator import DEFAULT_ACCOUNT_TOKEN

    emu = make_emulator(users=3)
    client = client_for(emu, "password", account_token=DEFAULT_ACCOUNT_TOKEN)
    assert len(client_ids(client)) == 3
    assert client.request_count == 2
    with pytest.raises(AuthError):
        client_for(emu, "password", account_token="NPS-elsewhere").authenticate()


@pytest.mark.parametrize("grant", ["client", "password"])
def test_bad_credentials_raise_auth_error_without_the_secret(
    make_emulator: Any, client_for: Any, grant: str,
) -> None:
    emu = make_emulator()
    client = client_for(emu, grant, secret="wrong-secret-0123", password="wrong-password-0123")
    with pytest.raises(AuthError) as caught:
        client.authenticate()
    text = f"{caught.value} {caught.value!r} {caught.value.args}"
    assert "wrong-secret-0123" not in text and "wrong-password-0123" not in text
    assert caught.value.status == 401
    with pytest.raises(AuthError):
        client.get_end_user(1)  # a call signs in on its own and fails the same way


@pytest.mark.parametrize("grant", ["client", "password"])
def test_token_is_renewed_a_minute_before_it_expires(
    make_emulator: Any, client_for: Any, grant: str, caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ScaledClock(speed=1.0)  # advanced by hand: the emulator shares it
    emu = make_emulator(users=5, clock=clock)
    client = client_for(emu, grant, clock=clock)
    end_user_id = client_ids(client)[0]
    first = _settle(client, end_user_id)
    clock.advance(7_200 - 30)  # 30 s of life left: inside the 60 s margin
    caplog.set_level(logging.DEBUG, logger="desktop_app.api")
    second = _settle(client, end_user_id)
    assert second - first == 2  # one sign-in + the call; no 401 round trip
    if grant == "password":
        assert "refreshed with the refresh token" in caplog.text
    clock.advance(7_200 + 5)  # long past expiry (a laptop asleep): still no 401
    assert _settle(client, end_user_id) - second == 2


def test_a_401_renews_the_token_once(make_emulator: Any, client_for: Any) -> None:
    emu = make_emulator(users=5)
    client = client_for(emu, "password")
    end_user_id = client_ids(client)[0]
    before = _settle(client, end_user_id)
    emu.expire_tokens()
    after = _settle(client, end_user_id)
    assert after - before == 3  # the call (401), the refresh grant, the call again


def _mock_client(handler: Any, monkeypatch: pytest.MonkeyPatch, **creds: str) -> WootricClient:
    """A client whose HTTP goes to an in-process handler (for protocol edge cases only)."""
    client = WootricClient(Credentials("http://127.0.0.1:9", **creds))
    mocked = httpx.Client(base_url="http://127.0.0.1:9", transport=httpx.MockTransport(handler))
    monkeypatch.setattr(client._t, "_http", mocked)
    return client


def _token(refresh: bool = False) -> dict[str, object]:
    body: dict[str, object] = {"access_token": "a" * 64, "token_type": "bearer", "expires_in": 7200}
    if refresh:
        body["refresh_token"] = "r" * 64
    return body


def test_a_token_refused_twice_is_an_auth_error(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json=_token())
        assert request.headers["authorization"] == "Bearer " + "a" * 64
        return httpx.Response(401, json={"error": "invalid_token"})

    client = _mock_client(handler, monkeypatch, client_id="i", client_secret="s")
    with pytest.raises(AuthError) as caught:
        client.get_end_user(1)
    assert seen == ["/oauth/token", "/v1/end_users/1", "/oauth/token", "/v1/end_users/1"]
    assert "a" * 64 not in str(caught.value)


def test_a_dead_refresh_token_falls_back_to_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    grants: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            form = dict(httpx.QueryParams(request.content.decode()))
            grants.append(form["grant_type"])
            if form["grant_type"] == "refresh_token":
                return httpx.Response(401, json={"error": "invalid_grant"})
            return httpx.Response(200, json=_token(refresh=True))
        if len(grants) == 1:
            return httpx.Response(401, json={"error": "invalid_token"})
        return httpx.Response(200, content=json.dumps({
            "id": 1, "email": "a@x", "created_at": 1, "updated_at": 1}).encode())

    client = _mock_client(handler, monkeypatch, username="u@x", password="pw-123456")
    assert client.get_end_user(1).id == 1
    assert grants == ["password", "refresh_token", "password"]
