"""Pushing queued local edits: per end user, read the latest row, merge three ways, send."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from desktop_app.api.errors import NotFoundError, ValidationError
from desktop_app.cache.records import EditKind, EditState, PendingEdit
from desktop_app.domain import EndUser
from desktop_app.sync.merge import MergePlan, plan_push

if TYPE_CHECKING:  # SQLModel and httpx stay unimported until the cache opens and sync runs
    from desktop_app.api.client import WootricClient
    from desktop_app.cache.store import Cache

log = logging.getLogger(__name__)

GONE_MESSAGE = "This end user no longer exists on the service."


@dataclass(frozen=True, slots=True)
class PushResult:
    end_users: int = 0
    edits_done: int = 0
    conflicts: int = 0
    rejected: int = 0


def push_all(
    client: WootricClient,
    cache: Cache,
    *,
    cancelled: Callable[[], bool] = lambda: False,
    held: Callable[[], bool] = lambda: False,
    progress: Callable[[int], None] = lambda done: None,
    pace: Callable[[], None] = lambda: None,
) -> PushResult:
    """Push every end user with queued edits, oldest edit first, until the queue is empty.

    Network errors propagate (the service retries the whole run later); an edit the service
    rejects is marked and never blocks the rest. `progress` gets the edits handled so far (sent,
    conflicted or rejected), to be read against the outbox size. While `held()` (a local edit
    is within its undo grace) nothing more is sent: the rest stays queued for a later push.
    """
    totals = PushResult()
    attempted: set[int] = set()
    while not cancelled() and not held():
        batch = [i for i in cache.end_users_with_pending(limit=100) if i not in attempted]
        if not batch:
            break
        for end_user_id in batch:
            if cancelled() or held():
                break
            attempted.add(end_user_id)
            result = push_end_user(client, cache, end_user_id)
            totals = PushResult(
                totals.end_users + 1,
                totals.edits_done + result.edits_done,
                totals.conflicts + result.conflicts,
                totals.rejected + result.rejected,
            )
            progress(totals.edits_done + totals.conflicts + totals.rejected)
            pace()
    return totals


def push_end_user(client: WootricClient, cache: Cache, end_user_id: int) -> PushResult:
    """Merge and send one end user's queued edits; every outcome is stored before returning."""
    edits = [e for e in cache.pending_for(end_user_id) if e.state is EditState.QUEUED]
    if not edits:
        return PushResult()
    try:
        theirs = client.get_end_user(end_user_id)
    except NotFoundError:
        if any(e.kind is EditKind.DELETE for e in edits):  # deleting what is gone is success
            cache.complete_push(end_user_id, [e.id for e in edits], None)
            return PushResult(1, len(edits))
        cache.reject_push(end_user_id, [e.id for e in edits], GONE_MESSAGE, None)
        return PushResult(1, rejected=len(edits))

    plan = plan_push(edits, theirs)
    rejected = 0
    if plan.rejected:
        for edit_id, why in plan.rejected:
            cache.reject_push(end_user_id, [edit_id], why, theirs)
        rejected += len(plan.rejected)

    if plan.delete:
        # The record (hashes, sent time) is durable before the request: a crash after the 202
        # leaves it and the outbox entry, and the next push sends the DELETE again (202 again)
        # or finds the person purged (404); both end in the same records.
        cache.erasure_sent(end_user_id, list(plan.done))
        try:
            client.delete_end_user(end_user_id)
            accepted = True  # 202: marked on the service, purged later (erasure pending)
        except NotFoundError:
            accepted = False  # already purged: erased
        cache.complete_push(end_user_id, list(plan.done), None, erasure_accepted=accepted)
        return PushResult(1, len(plan.done), rejected=rejected)

    # Durable before the first request: a crash after the service took it must not make our
    # own value look like a colleague's on the next push (see merge).
    cache.mark_sent(end_user_id, plan.sending)
    try:
        server, done, refused = _send(client, plan, theirs, edits)
    except NotFoundError:  # deleted on the service between our read and our write
        ids = [*plan.done, *(i for i, _ in plan.conflicts)]
        cache.reject_push(end_user_id, ids, GONE_MESSAGE, None)
        return PushResult(1, rejected=rejected + len(ids))
    for edit_ids, message in refused:
        cache.reject_push(end_user_id, edit_ids, message, server)
        rejected += len(edit_ids)
    if plan.conflicts:
        cache.record_conflicts(end_user_id, list(plan.conflicts), server)
    cache.complete_push(end_user_id, done, server)
    return PushResult(1, len(done), len(plan.conflicts), rejected)


def _send(
    client: WootricClient, plan: MergePlan, theirs: EndUser, edits: list[PendingEdit]
) -> tuple[EndUser, list[int], list[tuple[list[int], str]]]:
    """Send the plan; returns the server's row afterwards, edits done, and refused edits."""
    done = list(plan.done)
    refused: list[tuple[list[int], str]] = []
    server = theirs
    fields = dict(plan.fields)
    properties = plan.properties
    # A validation error names a field: refuse the edits of that field, send the rest again.
    for _ in range(4):
        if not fields and properties is None:
            break
        kwargs: dict[str, Any] = dict(fields)  # each value checked for its field when edited
        if properties is not None:
            kwargs["properties"] = properties
        try:
            server = client.update_end_user(plan.end_user_id, **kwargs)
            break
        except ValidationError as error:
            culprit = error.field if error.field in fields or error.field == "properties" else None
            names = [culprit] if culprit else [*fields, *(["properties"] if properties else [])]
            ids = [i for name in names for i in plan.edits_for_field(name, edits)]
            refused.append((ids, str(error.message or error)))
            done = [i for i in done if i not in ids]
            for name in names:
                if name == "properties":
                    properties = None
                else:
                    fields.pop(name, None)
    if plan.surveys_enabled is not None:
        settings = client.set_surveys_enabled(plan.end_user_id, plan.surveys_enabled)
        # The settings PUT bumps updated_at, so the next pull brings the exact row back;
        # not reading it again here saves a request per end user against the rate limit.
        server = replace(server, settings=settings)
    return server, done, refused
