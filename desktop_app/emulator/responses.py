"""The emulated responses, declines, NPS summary and segments routes (wootric-api.md §4, §6, §7).

    GET    /v1/responses, /v1/declines                     the account's, newest first
    GET    /v1/end_users/{id}/responses[/promoters|/passives|/detractors], /v1/end_users/{id}/declines
    GET    /v1/end_users/{eu_id}/responses/{id}, /v1/end_users/{eu_id}/declines/{id}
    POST   /v1/end_users/{eu_id}/responses                 201 + the response
    POST   /v1/end_users/{eu_id}/declines                  201 + the decline
    PUT    /v1/responses/{id}, /v1/declines/{id}           204 (423 for historical properties)
    DELETE /v1/end_users/{eu_id}/responses/{id}, .../declines/{id}   204
    GET    /v1/nps_summary?date[start]=YYYY-MM-DD&date[end]=YYYY-MM-DD
    GET    /v1/segments

Stable choices where the notes leave it open ([I]):
- Lists take `page` (1-30), `per_page` (1-50, default 25), `created[eq|lt|lte|gt|gte]` (unix
  seconds, gt/lt exclusive) and `sort_order` (default **desc**); ties on created_at are ordered
  by id in the same direction. `sort_key` and `updated[...]` are **ignored**, as Grape ignores
  undeclared parameters: the notes say there is no updated filter here, and public clients
  (tap-wootric) send `sort_key=created_at`, so refusing either would break them. Out-of-range
  page or per_page: 400 "page does not have a valid value" (field `page`), as for end users.
- POST of a response: `score` (0-10), `ip_address` and `origin_url` required ("score is
  missing", "score does not have a valid value"); `text`, `created_at` (unix) and
  `end_user[properties][k]` optional. The response is a completed web survey; the properties it
  records are the end user's current ones with the given keys over them (typed by suffix, as an
  end-user update types them); the end user itself is not changed. A decline POST takes
  `origin_url`, `ip_address`, `created_at`, `end_user[properties]`, all optional.
- PUT of a response takes `completed` and `excluded_from_calculations`; anything with
  `end_user[properties]` answers **423** (error_list status "locked", nothing changed), the
  service's default for historical-property edits (`historical_properties_editable` turns it
  on). A PUT of a decline takes only that. Success is **204** with an empty body, and bumps
  `updated_at` even when nothing changed, like an end-user PUT. Tags and notes are the
  dashboard's (`ResponseStore.edit`, the admin surface): a `tags` parameter is ignored.
- A response or decline asked for under another end user's id is a 404.
- `nps_summary`: dates are whole days in the account zone (the emulator's zone), both ends
  inclusive; without `date[start]` the range starts the same day a month before the end, without
  `date[end]` it ends today (emulator clock); a start after the end is an empty range (zeros).
  Responses `excluded_from_calculations` are left out of every number. `nps` is
  100 x (promoters - detractors) / responses rounded half away from zero (0 without responses).
  `response_rate` is responses / (responses + declines) of the range in percent, rounded the
  same way, so it reads "how many of the surveys people saw were answered";
  `email_response_rate` is the same over email-survey responses and declines.
- `segments`: one per end-user property key, `data_type` by the key's suffix (`*_date` date,
  `*_amount` integer, anything else string, `*_array` too), `created_at` the creation time of
  the first end user that carried the key; sorted by name.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from desktop_app.clock import Clock
from desktop_app.emulator.property_typing import (
    PropertyTypeError,
    segment_data_type,
    typed_properties,
)
from desktop_app.emulator.response_store import (
    BUCKET_SCORES,
    HistoryQuery,
    ResponseStore,
    StoredDecline,
    StoredResponse,
)
from desktop_app.emulator.service import (
    DEFAULT_PER_PAGE,
    MAX_PAGE,
    MAX_PER_PAGE,
    ApiResponse,
    BadParameter,
    _as_int,
    _bool_param,
    _choice,
    _filters,
    _int_param,
    json_response,
)
from desktop_app.emulator.store import EmulatorStore
from desktop_app.emulator.wire import error_list, format_wire_time

_KINDS = {"responses": "response", "declines": "decline"}
_DAY_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
_NOT_FOUND = ("record_not_found", "The record could not be found")
_LOCKED = "Editing historical properties is not enabled for this account"


def response_document(response: StoredResponse, zone: tzinfo) -> dict[str, Any]:
    """One survey response (§7): `end_user.properties` as of survey time, its current email."""
    return {
        "id": response.id,
        "end_user_id": response.end_user_id,
        "survey_id": response.survey_id,
        "score": response.score,
        "text": response.text,
        "completed": response.completed,
        "excluded_from_calculations": response.excluded_from_calculations,
        "ip_address": response.ip_address,
        "origin_url": response.origin_url,
        "created_at": format_wire_time(response.created_at, zone),
        "updated_at": format_wire_time(response.updated_at, zone),
        "tags": list(response.tags),
        "notes": response.notes,
        "end_user": {"email": response.email, "properties": response.properties},
    }


def decline_document(decline: StoredDecline, zone: tzinfo) -> dict[str, Any]:
    """One survey decline (§7)."""
    return {
        "id": decline.id,
        "end_user_id": decline.end_user_id,
        "survey_id": decline.survey_id,
        "ip_address": decline.ip_address,
        "origin_url": decline.origin_url,
        "created_at": format_wire_time(decline.created_at, zone),
        "updated_at": format_wire_time(decline.updated_at, zone),
        "end_user": {"properties": decline.properties},
    }


def history_document(row: StoredResponse | StoredDecline, zone: tzinfo) -> dict[str, Any]:
    if isinstance(row, StoredResponse):
        return response_document(row, zone)
    return decline_document(row, zone)


def round_half_away(value: float) -> int:
    """Rounding as people do it (2.5 -> 3, -2.5 -> -3), not Python's to-even."""
    return int(value + 0.5) if value >= 0 else -int(-value + 0.5)


def _error(status: int, code: str, message: str, field: str | None = None) -> ApiResponse:
    return json_response(status, error_list(code, message, field))


def _not_allowed() -> ApiResponse:
    return _error(405, "method_not_allowed", "405 Not Allowed")


class SurveyRoutes:
    """Answers the routes above against the store's `ResponseStore`; None for any other route."""

    def __init__(self, store: EmulatorStore, zone: tzinfo, clock: Clock) -> None:
        self.store = store
        self.history: ResponseStore = store.responses
        self.zone = zone
        self.clock = clock
        self.historical_properties_editable = False
        self._segments: tuple[int, list[dict[str, Any]]] | None = None

    def __call__(self, method: str, route: list[str], params: dict[str, Any]) -> ApiResponse | None:
        if not route:
            return None
        head, rest = route[0], route[1:]
        if head in _KINDS:
            if not rest:
                return self._list(_KINDS[head], None, None, params) if method == "GET" else _not_allowed()
            if len(rest) == 1 and method in ("PUT", "PATCH"):
                return self._update(_KINDS[head], rest[0], params)
            return None
        if head == "nps_summary" and not rest:
            return self._nps_summary(params) if method == "GET" else _not_allowed()
        if head == "segments" and not rest:
            return self._segment_list() if method == "GET" else _not_allowed()
        if head == "end_users" and len(rest) >= 2 and rest[1] in _KINDS and len(rest) <= 3:
            return self._of_end_user(method, rest[0], _KINDS[rest[1]], rest[2:], params)
        return None

    # -- lists ---------------------------------------------------------------------------

    def _list(
        self, kind: str, end_user_id: int | None, bucket: str | None, params: dict[str, Any]
    ) -> ApiResponse:
        page = _int_param(params, "page", 1, 1, MAX_PAGE)
        per_page = _int_param(params, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
        query = HistoryQuery(
            kind=kind,
            created=_filters(params, "created"),  # `updated[...]` is not declared: ignored
            end_user_id=end_user_id,
            scores=None if bucket is None else BUCKET_SCORES[bucket],
            descending=_choice(params, "sort_order", ("desc", "asc")) == "desc",
            limit=per_page,
            offset=(page - 1) * per_page,
        )
        return json_response(200, [history_document(row, self.zone) for row in self.history.page(query)])

    def _of_end_user(
        self, method: str, key: str, kind: str, rest: list[str], params: dict[str, Any]
    ) -> ApiResponse:
        if not key.isdigit() or self.store.fetch(int(key)) is None:
            return _error(404, *_NOT_FOUND)
        end_user_id = int(key)
        if not rest:
            if method == "GET":
                return self._list(kind, end_user_id, None, params)
            if method == "POST":
                return self._create(kind, end_user_id, params)
            return _not_allowed()
        item = rest[0]
        if kind == "response" and item in BUCKET_SCORES:
            return self._list(kind, end_user_id, item, params) if method == "GET" else _not_allowed()
        if method not in ("GET", "DELETE"):
            return _not_allowed()
        if not item.isdigit():
            return _error(404, *_NOT_FOUND)
        if method == "DELETE":
            if not self.history.delete(kind, end_user_id, int(item)):
                return _error(404, *_NOT_FOUND)
            return ApiResponse(204, b"")
        found = self.history.response(int(item)) if kind == "response" else self.history.decline(int(item))
        if found is None or found.end_user_id != end_user_id:
            return _error(404, *_NOT_FOUND)
        return json_response(200, history_document(found, self.zone))

    # -- changes -------------------------------------------------------------------------

    def _create(self, kind: str, end_user_id: int, params: dict[str, Any]) -> ApiResponse:
        try:
            return self._insert(kind, end_user_id, params)
        except ValueError as exc:
            if isinstance(exc, BadParameter):
                raise
            return _error(404, *_NOT_FOUND)  # the end user was deleted meanwhile

    def _insert(self, kind: str, end_user_id: int, params: dict[str, Any]) -> ApiResponse:
        created_at = _optional_time(params, "created_at")
        properties = self._survey_properties(end_user_id, params)
        if kind == "decline":
            decline = self.history.create_decline(
                end_user_id, ip_address=_optional_text(params, "ip_address"),
                origin_url=_optional_text(params, "origin_url"), created_at=created_at,
                properties=properties,
            )
            return json_response(201, decline_document(decline, self.zone))
        score = _score(params)
        ip_address = _required_text(params, "ip_address")
        origin_url = _required_text(params, "origin_url")
        response = self.history.create_response(
            end_user_id, score=score, ip_address=ip_address, origin_url=origin_url,
            text=_optional_text(params, "text"), created_at=created_at, properties=properties,
        )
        return json_response(201, response_document(response, self.zone))

    def _survey_properties(self, end_user_id: int, params: dict[str, Any]) -> dict[str, Any] | None:
        """The properties a new response records: the current ones, the given keys over them."""
        given = _given_properties(params)
        if given is None:
            return None
        user = self.store.fetch(end_user_id)
        return {**(user.properties if user is not None else {}), **given}

    def _update(self, kind: str, key: str, params: dict[str, Any]) -> ApiResponse:
        if not key.isdigit():
            return _error(404, *_NOT_FOUND)
        item_id = int(key)
        exists = self.history.response(item_id) if kind == "response" else self.history.decline(item_id)
        if exists is None:
            return _error(404, *_NOT_FOUND)
        changes: dict[str, Any] = {}
        given = _given_properties(params)
        if given is not None:
            if not self.historical_properties_editable:
                return _error(423, "locked", _LOCKED, "end_user[properties]")
            changes["properties"] = {**exists.properties, **given}
        if kind == "response":
            for name in ("completed", "excluded_from_calculations"):
                if name in params:
                    changes[name] = _bool_param(params[name], name, nullable=False)
        try:
            self.history.edit(kind, item_id, **changes)
        except KeyError:  # deleted meanwhile
            return _error(404, *_NOT_FOUND)
        return ApiResponse(204, b"")

    # -- metrics -------------------------------------------------------------------------

    def _nps_summary(self, params: dict[str, Any]) -> ApiResponse:
        raw = params.get("date")
        if raw not in (None, "") and not isinstance(raw, dict):
            raise BadParameter("date is invalid", "date")
        wanted = raw if isinstance(raw, dict) else {}
        today = datetime.fromtimestamp(int(self.clock.now()), self.zone).date()
        end_day = _day(wanted.get("end"), "date[end]") or today
        start_day = _day(wanted.get("start"), "date[start]") or _month_before(end_day)
        try:
            start, end = self._midnight(start_day), self._midnight(end_day + timedelta(days=1))
        except (OverflowError, ValueError):  # 9999-12-31 has no next midnight
            raise BadParameter("date[end] does not have a valid value", "date[end]") from None
        counts = self.history.nps_counts(start, max(start, end))
        responses = counts.responses
        return json_response(200, {
            "nps": round_half_away(100 * (counts.promoters - counts.detractors) / responses)
            if responses else 0,
            "responses": responses,
            "detractors": counts.detractors,
            "passives": counts.passives,
            "promoters": counts.promoters,
            "response_rate": _rate(responses, counts.declines),
            "email_response_rate": _rate(counts.email_responses, counts.email_declines),
        })

    def _midnight(self, day: date) -> int:
        return int(datetime(day.year, day.month, day.day, tzinfo=self.zone).timestamp())

    def _segment_list(self) -> ApiResponse:
        # recomputed only when the end users changed: a million property hashes take a second
        stamp = self.history.changes()
        if self._segments is None or self._segments[0] != stamp:
            self._segments = stamp, [
                {"name": key, "data_type": segment_data_type(key),
                 "created_at": format_wire_time(first, self.zone)}
                for key, first in self.history.property_keys()
            ]
        return json_response(200, self._segments[1])


def _rate(answered: int, declined: int) -> int:
    shown = answered + declined
    return round_half_away(100 * answered / shown) if shown else 0


def _month_before(day: date) -> date:
    year, month = (day.year - 1, 12) if day.month == 1 else (day.year, day.month - 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _day(raw: Any, name: str) -> date | None:
    if raw is None or raw == "":
        return None
    text = str(raw).strip().strip("'\"")  # the docs' own example quotes the dates
    if not _DAY_PATTERN.fullmatch(text):
        raise BadParameter(f"{name} is invalid", name)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadParameter(f"{name} is invalid", name) from None


def _score(params: dict[str, Any]) -> int:
    raw = params.get("score")
    if raw is None or raw == "":
        raise BadParameter("score is missing", "score")
    try:
        score = _as_int(raw)
    except ValueError:
        raise BadParameter("score is invalid", "score") from None
    if not 0 <= score <= 10:
        raise BadParameter("score does not have a valid value", "score")
    return score


def _required_text(params: dict[str, Any], name: str) -> str:
    value = _optional_text(params, name)
    if value is None or not value.strip():
        raise BadParameter(f"{name} is missing", name)
    return value


def _optional_text(params: dict[str, Any], name: str) -> str | None:
    raw = params.get(name)
    if raw is None:
        return None
    if isinstance(raw, (dict, list)):
        raise BadParameter(f"{name} is invalid", name)
    return str(raw)


def _optional_time(params: dict[str, Any], name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return _as_int(raw)
    except ValueError:
        raise BadParameter(f"{name} is invalid", name) from None


def _given_properties(params: dict[str, Any]) -> dict[str, Any] | None:
    """`end_user[properties][k]=v`, typed by suffix; None when the request has none."""
    wrapped = params.get("end_user")
    if wrapped is None or wrapped == "":
        return None
    if not isinstance(wrapped, dict):
        raise BadParameter("end_user is invalid", "end_user")
    raw = wrapped.get("properties")
    if raw is None or raw == "":
        return None
    if not isinstance(raw, dict):
        raise BadParameter("end_user[properties] is invalid", "end_user[properties]")
    try:
        return typed_properties(raw)
    except PropertyTypeError as exc:
        # exc.field is "properties[key]": the parameter is end_user[properties][key]
        raise BadParameter(str(exc), "end_user[properties]" + exc.field.removeprefix("properties")) from None
