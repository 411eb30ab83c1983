"""`GET /v1/end_users`: defaults, bounds, filters, sorting, and the wire format of rows."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from desktop_app.emulator import Emulator
from desktop_app.timestamps import parse_wire_time

T = 1_736_942_400  # 2025-01-15 12:00:00 UTC (Pacific -0800)
SUMMER = 1_752_580_800  # 2025-07-15 12:00:00 UTC (Pacific -0700)
WIRE_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}$")


def _rows() -> list[dict[str, Any]]:
    """60 end users: ties on every sort key, three seconds around T, emails out of id order."""
    rows = []
    for n in range(60):
        rows.append({
            "id": 100 + n,
            "email": f"user{(n * 37) % 60:02d}@example.com" if n % 10
            else f"tie{n % 3}@example.com",
            "created_at": T + (n % 3) - 1,  # T-1, T, T+1
            "updated_at": T + 3600 * (n % 5),
            "properties": {"n": n},
        })
    # duplicate emails are possible in loaded data; the sort must still be stable by id
    return rows


@pytest.fixture
def listing(
    make_emulator: Callable[..., Emulator], api_client: Callable[..., httpx.Client],
) -> tuple[Emulator, httpx.Client]:
    emu = make_emulator(end_users=_rows())
    return emu, api_client(emu)


def _ids(http: httpx.Client, **params: Any) -> list[int]:
    reply = http.get("/v1/end_users", params=params)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert isinstance(body, list)
    return [row["id"] for row in body]


def _all_ids(http: httpx.Client, **params: Any) -> list[int]:
    out: list[int] = []
    for page in range(1, 31):
        chunk = _ids(http, page=page, per_page=50, **params)
        out += chunk
        if len(chunk) < 50:
            break
    return out


def _expected(key: str, desc: bool, rows: list[dict[str, Any]] | None = None) -> list[int]:
    rows = _rows() if rows is None else rows
    return [r["id"] for r in sorted(rows, key=lambda r: (r[key], r["id"]), reverse=desc)]


def test_defaults_are_25_rows_by_email_ascending(listing: tuple[Emulator, httpx.Client]) -> None:
    _, http = listing
    assert _ids(http) == _expected("email", False)[:25]
    assert _ids(http, page=3) == _expected("email", False)[50:60]
    assert _ids(http, page=4) == []


@pytest.mark.parametrize("key", ["email", "updated_at", "created_at"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_sort_keys_and_orders_with_id_as_tie_break(
    listing: tuple[Emulator, httpx.Client], key: str, order: str,
) -> None:
    _, http = listing
    assert _all_ids(http, sort_key=key, sort_order=order) == _expected(key, order == "desc")


@pytest.mark.parametrize(("name", "value", "field", "message"), [
    ("page", "31", "page", "page does not have a valid value"),
    ("page", "0", "page", "page does not have a valid value"),
    ("per_page", "51", "per_page", "per_page does not have a valid value"),
    ("per_page", "0", "per_page", "per_page does not have a valid value"),
    ("per_page", "ten", "per_page", "per_page is invalid"),
    ("sort_key", "id", "sort_key", "sort_key does not have a valid value"),
    ("sort_order", "up", "sort_order", "sort_order does not have a valid value"),
    ("created[gt]", "yesterday", "created[gt]", "created[gt] is invalid"),
])
def test_bad_list_parameters_are_400_error_lists(
    listing: tuple[Emulator, httpx.Client], name: str, value: str, field: str, message: str,
) -> None:
    _, http = listing
    reply = http.get("/v1/end_users", params={name: value})
    assert reply.status_code == 400
    assert reply.json() == {"type": "error_list", "errors": [
        {"status": "invalid_parameter", "message": message, "field": field}]}


def test_page_and_per_page_bounds_are_inclusive(listing: tuple[Emulator, httpx.Client]) -> None:
    _, http = listing
    assert http.get("/v1/end_users", params={"page": 30, "per_page": 50}).status_code == 200
    assert len(_ids(http, per_page=1)) == 1
    assert len(_ids(http, per_page=50)) == 50


def test_gt_and_lt_are_exclusive_gte_and_lte_inclusive(
    listing: tuple[Emulator, httpx.Client],
) -> None:
    _, http = listing
    rows = _rows()

    def expect(test: Callable[[int], bool]) -> set[int]:
        return {r["id"] for r in rows if test(r["created_at"])}

    assert set(_all_ids(http, **{"created[gt]": T})) == expect(lambda c: c > T)
    assert set(_all_ids(http, **{"created[gte]": T})) == expect(lambda c: c >= T)
    assert set(_all_ids(http, **{"created[lt]": T})) == expect(lambda c: c < T)
    assert set(_all_ids(http, **{"created[lte]": T})) == expect(lambda c: c <= T)
    assert set(_all_ids(http, **{"created[eq]": T})) == expect(lambda c: c == T)
    # exclusive on both sides: nothing strictly between T-1 and T
    assert _all_ids(http, **{"created[gt]": T - 1, "created[lt]": T}) == []
    both = _all_ids(http, **{"created[gte]": T - 1, "created[lte]": T, "updated[gt]": T})
    assert set(both) == {
        r["id"] for r in rows if T - 1 <= r["created_at"] <= T and r["updated_at"] > T}


def test_updated_filter_with_updated_sort_walks_a_window(
    listing: tuple[Emulator, httpx.Client],
) -> None:
    _, http = listing
    bounds = {"updated[gte]": T + 3600, "updated[lt]": T + 3 * 3600}
    window = _all_ids(http, sort_key="updated_at", **bounds)
    rows = [r for r in _rows() if T + 3600 <= r["updated_at"] < T + 3 * 3600]
    assert window == _expected("updated_at", False, rows)


def test_email_filter_is_exact(listing: tuple[Emulator, httpx.Client]) -> None:
    _, http = listing
    def having(email: str) -> list[int]:
        return [r["id"] for r in _rows() if r["email"] == email]

    assert _ids(http, email="user07@example.com") == having("user07@example.com") != []
    assert _ids(http, email="USER07@example.com") == []
    assert _ids(http, email="user07@example") == []
    assert _ids(http, email="tie0@example.com") == having("tie0@example.com")  # by id


def test_rows_follow_the_wire_format(make_emulator: Callable[..., Emulator],
                                     api_client: Callable[..., httpx.Client]) -> None:
    emu = make_emulator(end_users=[
        {"id": 1, "email": "winter@example.com", "created_at": T, "updated_at": T,
         "last_surveyed": T, "external_created_at": T - 5, "external_id": "w-1",
         "properties": {"plan": "Pro"}},
        {"id": 2, "email": "summer@example.com", "created_at": SUMMER, "updated_at": SUMMER,
         "surveys_disabled": True},
    ])
    rows = {r["id"]: r for r in api_client(emu).get("/v1/end_users").json()}
    winter, summer = rows[1], rows[2]
    for row in (winter, summer):
        for name in ("created_at", "updated_at"):
            assert WIRE_TIME.match(row[name]), row[name]
    assert winter["created_at"] == "2025-01-15 04:00:00 -0800"
    assert summer["updated_at"] == "2025-07-15 05:00:00 -0700"
    assert parse_wire_time(winter["last_surveyed"]) == T and summer["last_surveyed"] is None
    assert winter["external_created_at"] == T - 5  # an integer, unlike the other times
    assert set(winter) >= {"id", "email", "created_at", "updated_at", "last_surveyed",
                           "external_created_at", "last_seen_at", "properties", "phone_number",
                           "external_id", "last_response", "settings", "surveys_disabled"}
    assert winter["settings"] == {"email_nps": True, "mobile_nps": True, "web_nps": True,
                                  "force_mobile_survey": None, "force_web_survey": None,
                                  "surveys_disabled_by_end_user": False}
    assert winter["surveys_disabled"] is False
    # the seed's surveys_disabled: an admin switched every channel off
    assert summer["surveys_disabled"] is True
    assert summer["settings"]["email_nps"] is summer["settings"]["web_nps"] is False


def test_unknown_route_and_method(listing: tuple[Emulator, httpx.Client]) -> None:
    _, http = listing
    missing = http.get("/v1/surveys")
    assert missing.status_code == 404 and missing.json()["type"] == "error_list"
    assert http.delete("/v1/end_users").status_code == 405
