"""Pushing queued local edits: per end user, read the latest row, merge three ways, send."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from desktop_app.api.errors import NotFoundError, ValidationError
from desktop_app.cache.records import EditKind, EditState, PendingEdit, is_local
from desktop_app.domain import EndUser
from desktop_app.sync.merge import MergePlan, plan_push

if TYPE_CHECKING:  # SQLModel and httpx stay unimported until the cache opens and sync runs
    from desktop_app.api.client import WootricClient
    from desktop_app.cache.store import Cache

log = logging.getLogger(__name__)

GONE_MESSAGE = "This end user no longer exists on the service."
DELETED_BEFORE_SENT = "Created here and deleted again before it was sent: nothing went to the service."
# What a create's POST carries from the effective row: edits of these kinds made on the local
# row before the push travel with it and leave the outbox with the create.
_CARRIED = (EditKind.CREATE, EditKind.SET_PROPERTY, EditKind.UNSET_PROPERTY, EditKind.SET_EMAIL,
            EditKind.SET_EXTERNAL_ID)


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
    if is_local(end_user_id):
        return push_created(client, cache, end_user_id)
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


def lookup_emails(created_email: str, row_email: str) -> list[str]:
    """The emails a create looks up before its POST, in order: as the file gave it (the CREATE
    entry's), as the local row has it now (edited since), and lowercased. The service compares
    emails exactly while the cache casefolds, so one person may be on the service in a case
    the file does not use; each distinct form costs one GET."""
    return list(dict.fromkeys((created_email, row_email, row_email.lower())))


def push_created(client: WootricClient, cache: Cache, local_id: int) -> PushResult:
    """Create a person made here, exactly once across crashes although the service has no
    idempotency key: look the email up first and adopt an id found (our own earlier POST
    whose answer a crash lost, or a colleague's person); otherwise mark the create sent in a
    durable commit, then POST. The local id then becomes the service's everywhere, and edits
    the POST could not carry (surveys, a delete) go out as ordinary edits of the new id."""
    cached = cache.get(local_id)
    edits = [e for e in (cached.pending if cached else ()) if e.state is EditState.QUEUED]
    create = next((e for e in edits if e.kind is EditKind.CREATE), None)
    if cached is None or create is None:
        return PushResult()  # a refused create stays listed; nothing to send
    if create.sent_at is None and any(e.kind is EditKind.DELETE for e in edits):
        cache.drop_unsent_create(local_id, DELETED_BEFORE_SENT)
        return PushResult(1, len(edits))
    row = cached.end_user
    value = create.value if isinstance(create.value, dict) else {}
    found: EndUser | None = None
    for email in lookup_emails(str(value.get("email") or row.email), row.email):
        found = client.lookup_by_email(email)
        if found is not None:
            break
    carried = [e.id for e in edits if e.kind in _CARRIED]
    if found is None:
        cache.mark_sent(local_id, [create.id])  # durable before the POST: a crash resolves by lookup
        try:
            found = client.create_end_user(
                row.email, external_id=row.external_id, properties=dict(row.properties) or None)
        except ValidationError as error:
            if error.field == "email":  # taken since our lookup: adopt whoever holds it
                found = client.lookup_by_email(row.email)
            if found is None:
                cache.reject_push(local_id, [create.id], str(error.message or error), None)
                return PushResult(1, rejected=1)
    elif _differs(found, row):  # someone holds the email already: our values go onto them
        properties = {**found.properties, **row.properties}
        if row.external_id:
            found = client.update_end_user(found.id, properties=properties, external_id=row.external_id)
        else:
            found = client.update_end_user(found.id, properties=properties)
    cache.adopt_created(local_id, found, carried)
    rest = push_end_user(client, cache, found.id) if len(carried) < len(edits) else PushResult()
    return PushResult(1, len(carried) + rest.edits_done, rest.conflicts, rest.rejected)


def _differs(server: EndUser, row: EndUser) -> bool:
    wanted = {**server.properties, **row.properties}
    return dict(server.properties) != wanted or bool(row.external_id and row.external_id != server.external_id)
