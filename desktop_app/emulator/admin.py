"""The `/_emulator/` admin surface: out-of-process control for tests and demos (loopback only,
no auth, JSON in and out, never faulted or rate limited).

    GET    /_emulator/health                 {"end_users": N, "offline": false}
    GET    /_emulator/end_users              every end user as a seed dict incl. settings
    GET    /_emulator/end_users/{id}         one (404 when unknown)
    POST   /_emulator/end_users              a seed dict (or a list) -> 201 {"ids": [...]}
    PUT    /_emulator/end_users/{id}         fields as `EmulatorStore.update` takes them, plus
                                             "opted_out": bool -> the updated seed dict
    DELETE /_emulator/end_users/{id}         204 (404 when unknown)
    GET    /_emulator/faults                 {"counts": {...}, "total": N, "offline": bool}
    POST   /_emulator/faults                 {"latency": s, "fail_rate": r, "kinds": [...],
                                              "path_prefix": "/v1/...", "fail_next": {"kind":
                                              k, "count": n}, "hang_seconds": s,
                                              "retry_after": "text" (an injected 429's
                                              Retry-After) or null, "tamper_next": {"field":
                                              f, "value": any JSON, "count": n,
                                              "path_prefix": p}, "offline_for": s,
                                              "clear": true}
    POST   /_emulator/tokens/expire          204: every access token expires now
    GET    /_emulator/deletions              {"marked": [{"id": n, "purge_at": unix}, ...],
                                              "purge_delay": s or null}: who an API DELETE
                                             marked and when each is purged; null: the next
                                             07:00 UTC after the delete (the service's run)
    PUT    /_emulator/deletions              {"purge_delay": s or null} -> the same document;
                                             applies to deletes from now on
    POST   /_emulator/purge                  {"purged": [ids]}: every marked end user is
                                             purged now, whatever its time

The admin's own DELETE removes at once; only the API's DELETE marks and purges later
(`erasure.py`: until the purge the API still finds the person, afterwards 404).
Responses and declines (`/_emulator/responses`, `/_emulator/declines`): see response_admin.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from desktop_app.emulator.erasure import PurgeSchedule
from desktop_app.emulator.faults import FaultPlan
from desktop_app.emulator.oauth import TokenIssuer
from desktop_app.emulator.response_admin import history_admin
from desktop_app.emulator.service import ApiResponse, json_response
from desktop_app.emulator.store import EmulatorStore
from desktop_app.emulator.wire import error_list

AdminReply = tuple[ApiResponse, Callable[[], None] | None]


def _reply(status: int, document: Any = None) -> AdminReply:
    if document is None:
        return ApiResponse(status, b""), None
    return json_response(status, document), None


def _bad(message: str) -> AdminReply:
    return json_response(400, error_list("invalid_parameter", message)), None


class EmulatorAdmin:
    """Answers `/_emulator/...` requests over the parts of one emulator.

    It is handed the parts it reads, not the server that holds them: the server builds it, so
    this module never imports the server (a contract in pyproject.toml keeps it that way).
    """

    def __init__(
        self, store: EmulatorStore, faults: FaultPlan, tokens: TokenIssuer, purges: PurgeSchedule
    ) -> None:
        self._store = store
        self._faults = faults
        self._tokens = tokens
        self._purges = purges

    def handle(self, method: str, path: str, body: bytes) -> AdminReply:
        """The answer, and an action to run once it has been sent (going offline)."""
        parts = [p for p in path.split("/") if p][1:]
        try:
            document = json.loads(body) if body.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            return _bad("the body must be JSON")
        try:
            return self._route(method, parts, document)
        except (KeyError, LookupError):
            return json_response(404, error_list("record_not_found", "no such end user")), None
        except (TypeError, ValueError) as exc:
            return _bad(str(exc))

    def _route(self, method: str, parts: list[str], document: Any) -> AdminReply:
        store = self._store
        history = history_admin(store.responses, method, parts, document)  # response_admin.py
        if history is not None:
            return history, None
        if parts == ["health"] and method == "GET":
            offline = self._faults.is_offline
            return _reply(200, {"end_users": store.count(), "offline": offline})
        if parts == ["tokens", "expire"] and method == "POST":
            self._tokens.expire_all()
            return _reply(204)
        if parts == ["purge"] and method == "POST":
            return _reply(200, {"purged": store.purge_marked()})
        if parts == ["deletions"]:
            if method == "PUT":
                if not isinstance(document, dict) or "purge_delay" not in document:
                    return _bad('the body must be {"purge_delay": seconds or null}')
                delay = document["purge_delay"]
                if isinstance(delay, bool) or not isinstance(delay, (int, float, type(None))):
                    return _bad("purge_delay is a number of seconds or null")
                self._purges.delay = delay
            if method in ("GET", "PUT"):
                marked = [{"id": i, "purge_at": at} for i, at in store.marked().items()]
                return _reply(200, {"marked": marked, "purge_delay": self._purges.delay})
        if parts == ["faults"]:
            if method == "GET":
                faults = self._faults
                return _reply(200, {"counts": faults.counts(), "total": faults.total,
                                    "offline": faults.is_offline})
            if method == "POST":
                return self._switch_faults(document)
        if parts[:1] == ["end_users"]:
            if len(parts) == 1:
                if method == "GET":
                    return _reply(200, store.seed_dicts())
                if method == "POST":
                    rows = document if isinstance(document, list) else [document]
                    return _reply(201, {"ids": [store.add(row) for row in rows]})
            elif len(parts) == 2:
                end_user_id = int(parts[1])
                if method == "GET":
                    found = store.get(end_user_id)
                    if found is None:
                        raise KeyError(end_user_id)
                    return _reply(200, found)
                if method in ("PUT", "PATCH"):
                    if not isinstance(document, dict):
                        return _bad("the body must be a JSON object")
                    fields = dict(document)
                    opted_out = fields.pop("opted_out", None)
                    updated: dict[str, object] | None
                    if fields:
                        updated = store.update(end_user_id, **fields)
                    else:
                        updated = store.get(end_user_id)
                    if opted_out is not None:
                        updated = store.opt_out(end_user_id, bool(opted_out))
                    if updated is None:
                        raise KeyError(end_user_id)
                    return _reply(200, updated)
                if method == "DELETE":
                    if not store.delete(end_user_id):
                        raise KeyError(end_user_id)
                    return _reply(204)
        return json_response(404, error_list("not_found", "Not Found")), None

    def _switch_faults(self, document: Any) -> AdminReply:
        if not isinstance(document, dict):
            return _bad("the body must be a JSON object")
        faults = self._faults
        if document.get("clear"):
            faults.clear()
        if "latency" in document:
            faults.latency(float(document["latency"]))
        if "hang_seconds" in document:
            faults.hang_seconds = float(document["hang_seconds"])
        if "fail_rate" in document:
            faults.fail(float(document["fail_rate"]), document.get("kinds"),
                        path_prefix=document.get("path_prefix"))
        if "retry_after" in document:
            retry_after = document["retry_after"]
            faults.retry_after = None if retry_after is None else str(retry_after)
        tamper = document.get("tamper_next")
        if isinstance(tamper, dict):
            faults.tamper_next(str(tamper["field"]), tamper.get("value"),
                               int(tamper.get("count", 1)), path_prefix=tamper.get("path_prefix"))
        queued = document.get("fail_next")
        if isinstance(queued, dict):
            faults.fail_next(str(queued["kind"]), int(queued.get("count", 1)),
                             path_prefix=queued.get("path_prefix"))
        offline_for = document.get("offline_for")
        if offline_for is not None:
            seconds = float(offline_for)
            # answer first, then go: the outage takes this very connection down too
            answer = json_response(200, {"offline_for": seconds})
            return answer, lambda: faults.offline(for_seconds=seconds)
        return _reply(200, {"counts": faults.counts(), "offline": faults.is_offline})
