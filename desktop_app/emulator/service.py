"""The emulated Wootric API itself: routing, auth, rate limit, validation, documents (no sockets).

Stable choices where the real service is undocumented ([I] in wootric-api.md):
- 401 body: `{"type":"error_list","errors":[{"status":"unauthorized","message":...,"field":null}]}`
  with messages "The access token is missing" / "... is invalid" / "... expired", plus a
  Doorkeeper-style `WWW-Authenticate: Bearer ... error="invalid_token"` header.
- Parameter and validation errors: 400 error_list with status "invalid_parameter", the Grape
  message ("page does not have a valid value", "email is missing", "email is invalid",
  "email has already been taken", "per_page is invalid") and the parameter in `field`.
- Unknown route: 404 error_list status "not_found"; unknown record: 404 "record_not_found".
- Emails are unique per account and compared exactly (case-sensitive) by the create's and the
  update's uniqueness check, `?lookup_by_email=true`, a DELETE by email and the `email` filter
  alike; they are stored as given. A Rails service may well store them lowercased, but the
  seed and the sample data keep mixed case, and exact matching is the harder case for a client:
  a lookup in another case misses and a create in another case makes a second person, so the
  client must match case-insensitively against what it already has. A create of an email that
  exists is refused (400, "email has already been taken", field `email`), so a client that
  retried a create finds the existing id with the lookup.
- `POST /v1/end_users` answers 201 with the whole §5.1 object; `email` is required.
- Every successful PUT (end user or settings) bumps the end user's `updated_at`, even when
  nothing changed. DELETE answers 202 with the end user and only marks it: it stays findable
  until its purge (the next 07:00 UTC by default; see `erasure.py`).
- The rate limit counts every `/v1/` request, before authentication; `/oauth/token` is free.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any
from urllib.parse import unquote

from desktop_app.clock import Clock
from desktop_app.domain import EndUser
from desktop_app.emulator.erasure import PurgeSchedule
from desktop_app.emulator.oauth import TokenIssuer, TokenState
from desktop_app.emulator.params import ParamsError, parse_params
from desktop_app.emulator.property_typing import PropertyTypeError, typed_properties
from desktop_app.emulator.rate_limit import MinuteBudget, RateDecision
from desktop_app.emulator.store import DuplicateEmail, EmulatorStore, ListQuery
from desktop_app.emulator.wire import end_user_document, error_list, settings_document

JSON_TYPE = "application/json; charset=utf-8"
MAX_PAGE = 30
MAX_PER_PAGE = 50
DEFAULT_PER_PAGE = 25
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_PHONE = re.compile(r"^\+[1-9]\d{1,14}$")
_OPERATORS = ("eq", "lt", "lte", "gt", "gte")
_TRUE = {"true", "1", "yes", "on", "t"}
_FALSE = {"false", "0", "no", "off", "f"}
_NOT_FOUND = ("record_not_found", "The record could not be found")


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """One HTTP request as the service sees it."""

    method: str
    path: str  # raw path, without the query string
    query: str = ""
    body: bytes = b""
    content_type: str | None = None
    authorization: str | None = None


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """One HTTP answer: status, body bytes and extra headers."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = JSON_TYPE


class BadParameter(ValueError):
    """A parameter the service refuses (-> 400 error_list)."""

    def __init__(self, message: str, field: str | None) -> None:
        super().__init__(message)
        self.field = field


def json_response(
    status: int, document: Any, headers: tuple[tuple[str, str], ...] = ()
) -> ApiResponse:
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return ApiResponse(status, body, headers)


def _error(status: int, code: str, message: str, field: str | None = None) -> ApiResponse:
    return json_response(status, error_list(code, message, field))


def _flag(params: dict[str, Any], name: str) -> bool:
    value = params.get(name)
    return value is True or (isinstance(value, str) and value.strip().lower() in _TRUE)


def _int_param(params: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = _as_int(raw)
    except ValueError:
        raise BadParameter(f"{name} is invalid", name) from None
    if not low <= value <= high:
        raise BadParameter(f"{name} does not have a valid value", name)
    return value


def _as_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError(raw)
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and re.fullmatch(r"\s*-?\d+\s*", raw):
        return int(raw)
    raise ValueError(raw)


def _bool_param(raw: Any, name: str, *, nullable: bool) -> bool | None:
    if isinstance(raw, bool):
        return raw
    if raw is None or raw == "":
        if nullable:
            return None
        raise BadParameter(f"{name} is invalid", name)
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise BadParameter(f"{name} is invalid", name)


def _filters(params: dict[str, Any], name: str) -> tuple[tuple[str, int], ...]:
    raw = params.get(name)
    if raw is None or raw == "":
        return ()
    if not isinstance(raw, dict):
        raise BadParameter(f"{name} is invalid", name)
    out: list[tuple[str, int]] = []
    for op in _OPERATORS:  # undeclared keys are ignored, as Grape does
        if op in raw:
            try:
                out.append((op, _as_int(raw[op])))
            except ValueError:
                raise BadParameter(f"{name}[{op}] is invalid", f"{name}[{op}]") from None
    return tuple(out)


def _choice(params: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    raw = params.get(name)
    if raw is None or raw == "":
        return allowed[0]
    if raw not in allowed:
        raise BadParameter(f"{name} does not have a valid value", name)
    return str(raw)


def _end_user_changes(params: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """Validated end-user fields from a create or update (Rails' `end_user[...]` wrapper too)."""
    wrapped = params.get("end_user")
    if isinstance(wrapped, dict):
        params = {**params, **wrapped}
    changes: dict[str, Any] = {}
    if "email" in params or creating:
        email = params.get("email")
        if email is None or (creating and email == ""):
            raise BadParameter("email is missing", "email")
        if not isinstance(email, str) or not _EMAIL.match(email.strip()):
            raise BadParameter("email is invalid", "email")
        changes["email"] = email.strip()
    for name in ("external_created_at", "last_surveyed"):
        if name in params:
            raw = params[name]
            try:
                changes[name] = None if raw in (None, "") else _as_int(raw)
            except ValueError:
                raise BadParameter(f"{name} is invalid", name) from None
    if "external_id" in params:
        raw = params["external_id"]
        changes["external_id"] = None if raw in (None, "") else str(raw)
    if "phone_number" in params:
        raw = params["phone_number"]
        if raw in (None, ""):
            changes["phone_number"] = None
        elif isinstance(raw, str) and _PHONE.match(raw.strip()):
            changes["phone_number"] = raw.strip()
        else:
            raise BadParameter("phone_number is invalid", "phone_number")
    if "properties" in params:
        raw = params["properties"]
        if raw in (None, ""):
            changes["properties"] = {}  # `properties=` clears the hash
        elif isinstance(raw, dict):
            try:
                changes["properties"] = typed_properties(raw)  # replaces the whole hash
            except PropertyTypeError as exc:
                raise BadParameter(str(exc), exc.field) from None
        else:
            raise BadParameter("properties is invalid", "properties")
    return changes


class WootricService:
    """Answers API requests against an `EmulatorStore`; thread-safe (the parts are)."""

    def __init__(
        self,
        store: EmulatorStore,
        tokens: TokenIssuer,
        clock: Clock,
        zone: tzinfo,
        rate_limit: int | None = None,
        seed: int = 0,
        purges: PurgeSchedule | None = None,
    ) -> None:
        self.store = store
        self.purges = purges or PurgeSchedule(clock)
        self.tokens = tokens
        self.clock = clock
        self.zone = zone
        self.budget = None if rate_limit is None else MinuteBudget(rate_limit, clock)
        self.seed = seed
        self.repeated_rows: Callable[[], int] = lambda: 0  # the fault plan's, once attached
        # responses, declines, nps_summary, segments (`responses.SurveyRoutes`, once attached)
        self.survey_routes: Callable[[str, list[str], dict[str, Any]], ApiResponse | None] = (
            lambda method, route, params: None)

    # -- entry point ---------------------------------------------------------------------

    def handle(self, request: ApiRequest) -> ApiResponse:
        path = request.path[:-5] if request.path.endswith(".json") else request.path
        segments = [unquote(part) for part in path.strip("/").split("/")]
        if segments == ["oauth", "token"]:
            if request.method != "POST":
                return _error(405, "method_not_allowed", "405 Not Allowed")
            return self._token(request)
        if not segments or segments[0] != "v1":
            return _error(404, "not_found", "Not Found")
        decision: RateDecision | None = None
        if self.budget is not None:
            decision = self.budget.take()
            if not decision.allowed:
                return self.rate_limited(decision)
        response = self._authorized(request, segments[1:])
        if decision is not None:
            response = ApiResponse(response.status, response.body,
                                   response.headers + decision.headers(), response.content_type)
        return response

    def rate_limited(self, decision: RateDecision | None = None) -> ApiResponse:
        """A 429 with the X-Rate-Limit-* headers (also used for an injected 429 burst)."""
        if decision is None:
            if self.budget is not None:
                decision = self.budget.peek()
            else:  # an injected burst on an unlimited emulator still names a window
                reset = (int(self.clock.now()) // 60 + 1) * 60
                decision = RateDecision(False, 100, 0, reset)
        body = error_list("too_many_requests",
                          "Rate limit exceeded: try again after the limit resets")
        spent = RateDecision(False, decision.limit, 0, decision.reset)
        return json_response(429, body, spent.headers())

    def _token(self, request: ApiRequest) -> ApiResponse:
        try:
            params = parse_params(request.query, request.body, request.content_type)
        except ParamsError as exc:
            return json_response(400, {"error": "invalid_request", "error_description": str(exc)})
        basic: tuple[str, str] | None = None
        auth = request.authorization or ""
        if auth[:6].lower() == "basic ":
            try:
                user, _, secret = base64.b64decode(auth[6:].strip()).decode("utf-8").partition(":")
                basic = (unquote(user), unquote(secret))
            except (ValueError, UnicodeDecodeError):
                basic = None
        reply = self.tokens.grant(params, basic)
        return json_response(reply.status, reply.document,
                             (("Cache-Control", "no-store"), ("Pragma", "no-cache")))

    def _authorized(self, request: ApiRequest, route: list[str]) -> ApiResponse:
        try:
            params = parse_params(request.query, request.body, request.content_type)
        except ParamsError as exc:
            return _error(400, "invalid_parameter", str(exc))
        auth = request.authorization or ""
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        if not token:
            presented = params.get("access_token")
            token = presented if isinstance(presented, str) else None
        state = self.tokens.check(token)
        if state is not TokenState.VALID:
            message = (
                "The access token is missing" if not token
                else "The access token expired" if state is TokenState.EXPIRED
                else "The access token is invalid"
            )
            challenge = (
                f'Bearer realm="Wootric", error="invalid_token", error_description="{message}"'
            )
            return json_response(401, error_list("unauthorized", message),
                                 (("WWW-Authenticate", challenge),))
        try:
            return self._route(request.method, route, params)
        except BadParameter as exc:
            return _error(400, "invalid_parameter", str(exc), exc.field)

    def _route(self, method: str, route: list[str], params: dict[str, Any]) -> ApiResponse:
        answer = self.survey_routes(method, route, params)
        if answer is not None:
            return answer
        if not route or route[0] != "end_users":
            return _error(404, "not_found", "Not Found")
        rest = route[1:]
        if not rest:
            if method == "GET":
                return self._list(params)
            if method == "POST":
                return self._create(params)
        elif len(rest) == 2 and rest[0] == "phone_number":
            if method == "GET":
                return self._found(self.store.find("phone_number", rest[1]))
        elif len(rest) == 1:
            if method == "GET":
                return self._found(self._lookup(rest[0], params))
            if method in ("PUT", "PATCH"):
                return self._update(rest[0], params)
            if method == "DELETE":
                return self._delete(rest[0])
        elif rest[1] == "settings" and len(rest) == 2:
            if method == "GET":
                return self._settings(rest[0])
            if method in ("PUT", "PATCH"):
                return self._update_settings(rest[0], params)
        else:
            return _error(404, "not_found", "Not Found")
        return _error(405, "method_not_allowed", "405 Not Allowed")

    # -- end users -----------------------------------------------------------------------

    def document(self, user: EndUser) -> dict[str, Any]:
        """The wire document of an end user, with its newest stored response."""
        last = self.store.responses.last_response(user.id)
        return end_user_document(user, self.zone, last)

    def _found(self, user: EndUser | None) -> ApiResponse:
        if user is None:
            return _error(404, *_NOT_FOUND)
        return json_response(200, self.document(user))

    def _by_id(self, key: str) -> EndUser | None:
        return self.store.fetch(int(key)) if key.isdigit() else None

    def _lookup(self, key: str, params: dict[str, Any]) -> EndUser | None:
        if _flag(params, "lookup_by_email"):
            return self.store.find("email", key)
        if _flag(params, "lookup_by_external_id"):
            return self.store.find("external_id", key)
        return self._by_id(key)

    def _list(self, params: dict[str, Any]) -> ApiResponse:
        page = _int_param(params, "page", 1, 1, MAX_PAGE)
        per_page = _int_param(params, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
        email = params.get("email")
        query = ListQuery(
            created=_filters(params, "created"),
            updated=_filters(params, "updated"),
            email=email if isinstance(email, str) and email != "" else None,
            sort_key=_choice(params, "sort_key", ("email", "updated_at", "created_at")),
            descending=_choice(params, "sort_order", ("asc", "desc")) == "desc",
            limit=per_page,
            # the repeat-rows fault: each page starts that many rows before the last one ended
            offset=(page - 1) * max(1, per_page - self.repeated_rows()),
        )
        return json_response(200, [self.document(user) for user in self.store.page(query)])

    def _create(self, params: dict[str, Any]) -> ApiResponse:
        changes = _end_user_changes(params, creating=True)
        try:
            user = self.store.create(changes, unique_email=True)
        except DuplicateEmail:
            raise BadParameter("email has already been taken", "email") from None
        return json_response(201, self.document(user))

    def _update(self, key: str, params: dict[str, Any]) -> ApiResponse:
        user = self._by_id(key)
        if user is None:
            return _error(404, *_NOT_FOUND)
        changes = _end_user_changes(params, creating=False)
        try:
            updated = self.store.apply(user.id, changes, unique_email=True)
        except DuplicateEmail:
            raise BadParameter("email has already been taken", "email") from None
        except KeyError:  # deleted meanwhile
            return _error(404, *_NOT_FOUND)
        return json_response(200, self.document(updated))

    def _delete(self, key: str) -> ApiResponse:
        """202 and the end user: marked for deletion, purged later (erasure.py)."""
        user = self._by_id(key) if key.isdigit() else self.store.find("email", key)
        if user is None or not self.store.mark_for_purge(user.id, self.purges.purge_at()):
            return _error(404, *_NOT_FOUND)
        return json_response(202, self.document(user))

    def _settings(self, key: str) -> ApiResponse:
        user = self._by_id(key)
        if user is None:
            return _error(404, *_NOT_FOUND)
        return json_response(200, settings_document(user, self.zone))

    def _update_settings(self, key: str, params: dict[str, Any]) -> ApiResponse:
        user = self._by_id(key)
        if user is None:
            return _error(404, *_NOT_FOUND)
        wrapped = params.get("settings")
        if isinstance(wrapped, dict):
            params = {**params, **wrapped}
        changes: dict[str, Any] = {}
        for name in ("email_nps", "mobile_nps", "web_nps"):
            if name in params:
                changes[name] = _bool_param(params[name], name, nullable=False)
        for name in ("force_web_survey", "force_mobile_survey"):
            if name in params:
                changes[name] = _bool_param(params[name], name, nullable=True)
        # `surveys_disabled_by_end_user` is the end user's own choice: read-only here
        try:
            updated = self.store.apply(user.id, changes, unique_email=False)
        except KeyError:
            return _error(404, *_NOT_FOUND)
        return json_response(200, settings_document(updated, self.zone))
