"""Fixtures for the API client tests: clients for the emulator, and a model of the list API.

The in-memory model lets property tests run the walk over thousands of shapes in seconds with
a tiny page size; everything about HTTP is tested against the real emulator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest

from desktop_app.api.account import Credentials
from desktop_app.api.client import WootricClient
from desktop_app.api.errors import NotFoundError, ValidationError
from desktop_app.api.walk import Listing, WalkDimension
from desktop_app.domain import EndUser

_OPS: dict[str, Callable[[int, int], bool]] = {
    "eq": lambda a, b: a == b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
}


@dataclass(frozen=True)
class ModelRow:
    """The fields the list endpoint filters and sorts on."""

    id: int
    email: str
    created_at: int
    updated_at: int

    def end_user(self) -> EndUser:
        return EndUser(id=self.id, email=self.email, created_at=self.created_at,
                       updated_at=self.updated_at)


class ListingModel:
    """`GET /v1/end_users` and `GET /v1/end_users/{id}` over rows in memory.

    Filters `updated[op]`/`created[op]`/`email`, `sort_key` with a stable tie order by id,
    `page` <= max_page and `per_page` <= max_per_page like the service. `desc_reverses_ties`
    chooses whether a descending sort also reverses the id tie order.

    `created_only` makes it `GET /v1/responses` (or `/v1/declines`): only `created[op]` filters
    (an `updated[...]`, `email` or `sort_key` is ignored, as Grape ignores undeclared
    parameters), always ordered by created_at, newest first unless `sort_order=asc`.
    """

    def __init__(
        self, rows: Sequence[ModelRow], *, max_per_page: int = 50, max_page: int = 30,
        desc_reverses_ties: bool = True, created_only: bool = False,
    ) -> None:
        self.rows = {r.id: r for r in rows}
        self.max_per_page = max_per_page
        self.max_page = max_page
        self.desc_reverses_ties = desc_reverses_ties
        self.created_only = created_only
        self.request_count = 0
        self.on_request: Callable[[ListingModel], None] | None = None

    def _tick(self) -> None:
        self.request_count += 1
        if self.on_request is not None:
            self.on_request(self)

    def list_end_users(self, query: Sequence[tuple[str, str]]) -> list[EndUser]:
        self._tick()
        params = dict(query)
        page = int(params.get("page", "1"))
        per_page = int(params.get("per_page", "25"))
        if not 1 <= page <= self.max_page:
            raise ValidationError("page does not have a valid value", field="page")
        if not 1 <= per_page <= self.max_per_page:
            raise ValidationError("per_page does not have a valid value", field="per_page")
        rows = list(self.rows.values())
        for name, value in query:
            if "[" in name:
                field, op = name[:-1].split("[")
                if self.created_only and field != "created":
                    continue
                attr = f"{field}_at"
                test = _OPS[op]
                rows = [r for r in rows if test(getattr(r, attr), int(value))]
            elif name == "email" and not self.created_only:
                rows = [r for r in rows if r.email == value]
        if self.created_only:
            key = "created_at"
            desc = params.get("sort_order", "desc") == "desc"
        else:
            key = params.get("sort_key", "email")
            desc = params.get("sort_order", "asc") == "desc"
        rows.sort(key=lambda r: r.id, reverse=desc and self.desc_reverses_ties)
        rows.sort(key=lambda r: getattr(r, key), reverse=desc)  # stable: keeps the tie order
        start = (page - 1) * per_page
        return [r.end_user() for r in rows[start:start + per_page]]

    def listing(self) -> Listing[EndUser]:
        """This model as a created-only listing (responses, declines): no GET by id, no other
        timestamp, no other sort key."""
        assert self.created_only
        return Listing("responses", self.list_end_users, lambda: self.request_count,
                       dimensions=(WalkDimension.CREATED,))

    def get_end_user(self, end_user_id: int) -> EndUser:
        self._tick()
        row = self.rows.get(end_user_id)
        if row is None:
            raise NotFoundError("not found", status=404)
        return row.end_user()

    def touch(self, end_user_id: int, now: int) -> None:
        """An edit elsewhere: bump updated_at."""
        self.rows[end_user_id] = replace(self.rows[end_user_id], updated_at=now)

    def delete(self, end_user_id: int) -> None:
        self.rows.pop(end_user_id, None)


@pytest.fixture(scope="session")
def listing_model() -> type[ListingModel]:
    return ListingModel


@pytest.fixture(scope="session")
def model_row() -> type[ModelRow]:
    return ModelRow


# --- clients against the real emulator ----------------------------------------------------


@pytest.fixture
def client_for() -> Iterator[Callable[..., WootricClient]]:
    """A factory of clients for an emulator, closed at teardown.

    `client_for(emu, grant="client"|"password", **client_kwargs)`; `secret=`/`password=` override
    the emulator's defaults (to test refusals).
    """
    from desktop_app.emulator import (
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
        DEFAULT_PASSWORD,
        DEFAULT_USERNAME,
    )

    made: list[WootricClient] = []

    def make(emu: Any, grant: str = "client", *, secret: str = DEFAULT_CLIENT_SECRET,
             password: str = DEFAULT_PASSWORD, account_token: str = "",
             **kwargs: Any) -> WootricClient:
        if grant == "client":
            creds = Credentials(emu.base_url, client_id=DEFAULT_CLIENT_ID, client_secret=secret)
        else:
            creds = Credentials(emu.base_url, username=DEFAULT_USERNAME, password=password,
                                account_token=account_token)
        client = WootricClient(creds, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
