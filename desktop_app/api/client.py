"""WootricClient: end users, survey responses and declines of the Wootric REST API v1, typed and retried."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from urllib.parse import quote

from desktop_app.api.account import Credentials
from desktop_app.api.errors import NotFoundError, WootricError
from desktop_app.api.throttle import RateLimitListener
from desktop_app.api.transport import JsonBody, Transport
from desktop_app.api.waits import InterruptibleWaits
from desktop_app.api.walk import (
    Listing,
    Query,
    R,
    TimestampWalk,
    UpdatedWalk,
    WalkDimension,
)
from desktop_app.api.wire import (
    UNSET,
    FormValue,
    Unset,
    declines_from_wire,
    end_user_from_wire,
    end_users_from_wire,
    responses_from_wire,
    settings_from_wire,
)
from desktop_app.clock import Clock, SystemClock
from desktop_app.domain import EndUser, PropertyValue, SurveyDecline, SurveyResponse, SurveySettings

log = logging.getLogger(__name__)

END_USERS = "/v1/end_users"
RESPONSES = "/v1/responses"
DECLINES = "/v1/declines"
# Responses and declines filter on `created` alone (no `updated[...]`, no other sort key).
CREATED_ONLY = (WalkDimension.CREATED,)


class WootricClient:
    """Talks to one Wootric account over one reused HTTP connection pool.

    Call it from one worker thread at a time (calls are serialized by a lock). All waits go
    through `clock`, so a ScaledClock shared with the emulator makes minutes pass in seconds.
    """

    def __init__(
        self, credentials: Credentials, *, clock: Clock | None = None, timeout: float = 30.0,
        max_attempts: int = 6, rate_limit_wait_max: float = 120.0,
    ) -> None:
        self._clock = clock if clock is not None else SystemClock()
        self._waits = InterruptibleWaits(self._clock)
        self._t = Transport(
            credentials, clock=self._waits, timeout=timeout, max_attempts=max_attempts,
            rate_limit_wait_max=rate_limit_wait_max,
        )

    # --- lifecycle --------------------------------------------------------------------------

    def interrupt_waits(self) -> None:
        """Cut short a rate-limit or backoff wait, now and until `allow_waits()`: the waiting
        call raises WaitInterrupted. Safe from any thread (a sync being cancelled, the app
        quitting)."""
        self._waits.interrupt()

    def allow_waits(self) -> None:
        """Waits last their whole time again (the start of the next run)."""
        self._waits.allow()

    @property
    def base_url(self) -> str:
        return self._t.base_url

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far, retries and sign-ins included."""
        return self._t.request_count

    @property
    def rate_limit(self) -> int | None:
        """Requests a minute, as the service's last X-Rate-Limit-Limit said (None: not said)."""
        return self._t.gate.limit

    @property
    def on_rate_limit(self) -> RateLimitListener | None:
        """Called with a RateLimitWait before the client sleeps for the rate limit."""
        return self._t.on_rate_limit

    @on_rate_limit.setter
    def on_rate_limit(self, listener: RateLimitListener | None) -> None:
        self._t.on_rate_limit = listener

    def close(self) -> None:
        self._t.close()

    def __enter__(self) -> WootricClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"WootricClient({self.base_url!r})"

    def authenticate(self) -> None:
        """Get a token now (AuthError on bad credentials); later calls reuse it."""
        self._t.authenticate()

    # --- reads ------------------------------------------------------------------------------

    def get_end_user(self, end_user_id: int) -> EndUser:
        """One end user by id; NotFoundError when there is none."""
        answer = self._t.call("GET", f"{END_USERS}/{int(end_user_id)}")
        return end_user_from_wire(answer.body)

    def find_by_email(self, email: str) -> EndUser | None:
        """The end user with exactly this email, or None."""
        answer = self._t.call("GET", END_USERS, query=[("email", email)], label="find by email")
        users = end_users_from_wire(answer.body)
        return next((u for u in users if u.email == email), users[0] if users else None)

    def lookup_by_email(self, email: str) -> EndUser | None:
        """`GET /v1/end_users/{email}?lookup_by_email=true`: the end user with exactly this
        email (the service compares it as stored, case included), or None."""
        path = f"{END_USERS}/{quote(email, safe='')}"
        try:
            answer = self._t.call("GET", path, query=[("lookup_by_email", "true")],
                                  label="look up by email")
        except NotFoundError:
            return None
        return end_user_from_wire(answer.body)

    def find_by_external_id(self, external_id: str) -> EndUser | None:
        """The end user with this external id, or None."""
        path = f"{END_USERS}/{quote(str(external_id), safe='')}"
        try:
            answer = self._t.call(
                "GET", path, query=[("lookup_by_external_id", "true")],
                label="find by external id",
            )
        except NotFoundError:
            return None
        return end_user_from_wire(answer.body)

    def get_survey_settings(self, end_user_id: int) -> SurveySettings:
        """The survey-channel switches of one end user."""
        answer = self._t.call("GET", f"{END_USERS}/{int(end_user_id)}/settings")
        return settings_from_wire(answer.body)

    def list_end_users(self, query: Sequence[tuple[str, str]]) -> list[EndUser]:
        """One page of GET /v1/end_users with the given filters (the walk's building block)."""
        answer = self._t.call("GET", END_USERS, query=query, label="list end users")
        return end_users_from_wire(answer.body)

    def list_responses_page(self, query: Sequence[tuple[str, str]]) -> list[SurveyResponse]:
        """One page of GET /v1/responses, the account's responses (newest first unless
        `sort_order=asc`); filters `created[op]`, `page` <= 30, `per_page` <= 50."""
        answer = self._t.call("GET", RESPONSES, query=query, label="list responses")
        return responses_from_wire(answer.body)

    def list_declines_page(self, query: Sequence[tuple[str, str]]) -> list[SurveyDecline]:
        """One page of GET /v1/declines, the account's declines; the same filters."""
        answer = self._t.call("GET", DECLINES, query=query, label="list declines")
        return declines_from_wire(answer.body)

    def list_responses(self, end_user_id: int) -> list[SurveyResponse]:
        """Every survey response of one end user, oldest first (the account-wide walk, scoped
        to `/v1/end_users/{id}/responses`)."""
        path = f"{END_USERS}/{int(end_user_id)}/responses"

        def page(query: Query) -> list[SurveyResponse]:
            answer = self._t.call("GET", path, query=query, label="list responses")
            return responses_from_wire(answer.body)

        walk = TimestampWalk(self._created_listing("responses", page), None)
        rows = [r for p in walk for r in p.rows]
        return sorted(rows, key=lambda r: (r.created_at, r.id))

    # --- writes -----------------------------------------------------------------------------

    def create_end_user(
        self, email: str, *, external_id: str | None = None,
        properties: Mapping[str, PropertyValue] | None = None, last_surveyed: int | None = None,
        external_created_at: int | None = None, phone_number: str | None = None,
    ) -> EndUser:
        """Create an end user.

        A POST is never repeated blindly: after a failure that leaves it unknown whether the
        service created the user (reset after the write, lost or unreadable answer, 5xx), the
        client looks the email up first and returns the user if it is there.
        """
        params: dict[str, FormValue] = {"email": email}
        optional: dict[str, FormValue] = {
            "external_id": external_id, "last_surveyed": last_surveyed,
            "external_created_at": external_created_at, "phone_number": phone_number,
        }
        params.update({k: v for k, v in optional.items() if v is not None})
        if properties:
            params["properties"] = dict(properties)
        form = JsonBody(params)
        attempts = self._t.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                answer = self._t.call("POST", END_USERS, form=form, label="create end user")
                return end_user_from_wire(answer.body)
            except WootricError as exc:
                if not exc.ambiguous or attempt >= attempts:
                    raise
                log.info("create end user: outcome unknown (%s); checking by email", exc.message)
            self._t.backoff.sleep(attempt)
            existing = self.find_by_email(email)
            if existing is not None:
                return existing
        raise AssertionError("unreachable")  # the loop returns or raises

    def update_end_user(
        self, end_user_id: int, *, email: str | Unset = UNSET,
        external_id: str | Unset | None = UNSET,
        properties: Mapping[str, PropertyValue] | Unset = UNSET,
        last_surveyed: int | Unset | None = UNSET,
        external_created_at: int | Unset | None = UNSET,
        phone_number: str | Unset | None = UNSET,
    ) -> EndUser:
        """Change the given fields; None clears one.

        `properties` is the WHOLE merged hash: the service replaces it, and `{}` clears it.
        """
        fields: dict[str, FormValue | Unset] = {
            "email": email, "external_id": external_id, "last_surveyed": last_surveyed,
            "external_created_at": external_created_at, "phone_number": phone_number,
        }
        params: dict[str, FormValue] = {
            k: v for k, v in fields.items() if not isinstance(v, Unset)
        }
        if not isinstance(properties, Unset):
            params["properties"] = dict(properties)
        answer = self._t.call(
            "PUT", f"{END_USERS}/{int(end_user_id)}", form=JsonBody(params),
            label="update end user",
        )
        return end_user_from_wire(answer.body)

    def set_surveys_enabled(self, end_user_id: int, enabled: bool) -> SurveySettings:
        """Switch all three survey channels (email, mobile, web) on or off."""
        value = "true" if enabled else "false"
        form = [("email_nps", value), ("mobile_nps", value), ("web_nps", value)]
        answer = self._t.call(
            "PUT", f"{END_USERS}/{int(end_user_id)}/settings", form=form,
            label="update survey settings",
        )
        return settings_from_wire(answer.body)

    def delete_end_user(self, end_user_id: int) -> None:
        """Delete an end user; NotFoundError when there was none to delete.

        The service answers 202 (any 2xx is success here, 200 too): it marks the person and
        purges them later, so a GET still finds them meanwhile and a second delete succeeds."""
        self._t.call("DELETE", f"{END_USERS}/{int(end_user_id)}", label="delete end user",
                     gone_ok=True)

    # --- bulk reads -------------------------------------------------------------------------

    def walk_updated(self, since: int, until: int | None = None) -> UpdatedWalk:
        """Every end user with since <= updated_at (< until), each once; see UpdatedWalk."""
        return UpdatedWalk(self, since, until)

    def walk_responses(self, since: int | None, until: int | None = None
                       ) -> TimestampWalk[SurveyResponse]:
        """Every response of the account with since <= created_at (< until), each once."""
        return TimestampWalk(self._created_listing("responses", self.list_responses_page),
                             since, until)

    def walk_declines(self, since: int | None, until: int | None = None
                      ) -> TimestampWalk[SurveyDecline]:
        """Every decline of the account with since <= created_at (< until), each once."""
        return TimestampWalk(self._created_listing("declines", self.list_declines_page),
                             since, until)

    def _created_listing(self, noun: str, page: Callable[[Query], list[R]]) -> Listing[R]:
        return Listing(noun, page, lambda: self.request_count, dimensions=CREATED_ONLY)

    def iter_all_ids(self) -> Iterator[list[int]]:
        """Every live end-user id exactly once, a page at a time (for the deletion reconcile).

        Walks by created_at, which edits do not move, so concurrent edits cannot reorder it.
        """
        walk = UpdatedWalk(self, None, None, dimension=WalkDimension.CREATED)
        for page in walk:
            if page.end_users:
                yield [u.id for u in page.end_users]
