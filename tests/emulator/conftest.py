"""Fixtures for the emulator's contract tests: raw httpx clients and tokens."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from desktop_app.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator


def fetch_token(http: httpx.Client) -> str:
    reply = http.post("/oauth/token", data={
        "grant_type": "client_credentials",
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
    })
    assert reply.status_code == 200, reply.text
    return str(reply.json()["access_token"])


@pytest.fixture
def raw_client() -> Iterator[Callable[..., httpx.Client]]:
    """httpx clients for an emulator (no auth), closed at teardown."""
    made: list[httpx.Client] = []

    def make(emu: Emulator, **kwargs: Any) -> httpx.Client:
        kwargs.setdefault("timeout", 10.0)
        client = httpx.Client(base_url=emu.base_url, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def api_client(raw_client: Callable[..., httpx.Client]) -> Callable[..., httpx.Client]:
    """httpx clients carrying a fresh client_credentials Bearer token."""

    def make(emu: Emulator, **kwargs: Any) -> httpx.Client:
        client = raw_client(emu, **kwargs)
        client.headers["Authorization"] = f"Bearer {fetch_token(client)}"
        return client

    return make


@pytest.fixture
def token_for(raw_client: Callable[..., httpx.Client]) -> Callable[[Emulator], str]:
    """A fresh client_credentials access token for an emulator."""
    return lambda emu: fetch_token(raw_client(emu))
