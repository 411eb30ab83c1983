"""Finding end users deleted on the service: their deletion never shows in an updated_at walk."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from desktop_app.api.errors import NotFoundError
from desktop_app.cache.records import is_local

if TYPE_CHECKING:  # SQLModel and httpx stay unimported until the cache opens and sync runs
    from desktop_app.api.client import WootricClient
    from desktop_app.cache.store import Cache

LAST_RECONCILE_KEY = "reconcile.completed_at"


def reconcile_deletions(
    client: WootricClient,
    cache: Cache,
    *,
    cancelled: Callable[[], bool] = lambda: False,
    progress: Callable[[int], None] = lambda seen: None,
    pace: Callable[[], None] = lambda: None,
) -> int | None:
    """Compare the id sets and remove locally what the service no longer has.

    Returns how many were removed, or None when cancelled (nothing is removed from a partial
    id set: a partial walk would make live end users look deleted).
    """
    live: set[int] = set()
    for chunk in client.iter_all_ids():
        live.update(chunk)
        progress(len(live))
        if cancelled():
            return None
        pace()
    # People created here and not pushed yet (local ids) are on no service list by nature.
    missing = sorted(i for i in cache.all_ids() - live if not is_local(i))
    # Confirm each one by id: deletions are rare, and a row the list walk could not reach
    # must never be mistaken for a deleted one.
    gone = []
    for end_user_id in missing:
        if cancelled():
            break
        try:
            client.get_end_user(end_user_id)
        except NotFoundError:
            gone.append(end_user_id)
        pace()
    if gone:
        cache.remove_end_users(gone)
    return len(gone)
