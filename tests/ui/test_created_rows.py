"""A person created here (a local id) in the detail panel's response read: never asked of the service."""

from __future__ import annotations

from desktop_app.api.client import WootricClient
from desktop_app.ui.session import _ResponsesReader


def test_a_local_id_has_no_responses_and_costs_no_request() -> None:
    def no_client() -> WootricClient:
        raise AssertionError("a local id must not reach the service")

    assert _ResponsesReader(no_client)(-3) == []
