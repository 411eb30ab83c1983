"""The `/_emulator/` routes of stored responses and declines (called by `admin.EmulatorAdmin`).

    GET    /_emulator/responses              {"count": N} (also /_emulator/declines)
    POST   /_emulator/responses              a response dict or a list -> 201 {"ids": [...]}
                                             (keys: `ResponseStore.load_responses`; every row is
                                             checked first, so a bad one writes nothing: 400)
    POST   /_emulator/declines               the same for declines (`load_declines`)
    PUT    /_emulator/responses/{id}         `completed`, `excluded_from_calculations`, `tags`,
                                             `notes`, `properties` -> 204, as a colleague's edit in
                                             the dashboard (bumps `updated_at`); declines take
                                             `properties`
"""

from __future__ import annotations

from typing import Any

from desktop_app.emulator.response_store import ResponseStore
from desktop_app.emulator.service import ApiResponse, json_response
from desktop_app.emulator.wire import error_list

_KINDS = {"responses": "response", "declines": "decline"}


def history_admin(
    store: ResponseStore, method: str, parts: list[str], document: Any
) -> ApiResponse | None:
    """The answer to a `/_emulator/responses|declines...` request, or None for other paths.

    Raises ValueError or TypeError for a body it cannot take (the admin answers 400)."""
    if not parts or parts[0] not in _KINDS:
        return None
    kind = _KINDS[parts[0]]
    if len(parts) == 1:
        if method == "GET":
            return json_response(200, {"count": store.count(kind)})
        if method == "POST":
            rows = document if isinstance(document, list) else [document]
            load = store.load_responses if kind == "response" else store.load_declines
            return json_response(201, {"ids": load(rows)})
    elif len(parts) == 2 and method in ("PUT", "PATCH"):
        if not isinstance(document, dict):
            raise ValueError("the body must be a JSON object")
        if not parts[1].isdigit():
            raise ValueError(f"no {kind} {parts[1]!r}")
        try:
            store.edit(kind, int(parts[1]), **document)
        except KeyError:
            return json_response(404, error_list("record_not_found", f"no such {kind}"))
        return ApiResponse(204, b"")
    return json_response(404, error_list("not_found", "Not Found"))
