"""The typed change broadcast sent after every write or sync, so views refresh only what changed."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Initiator(enum.StrEnum):
    EDIT = "edit"  # a local edit by the person
    UNDO = "undo"
    PULL = "pull"  # rows arriving from the service
    PUSH = "push"  # the service's answer to pushed edits
    RESOLVE = "resolve"  # a conflict resolved by the person
    RECONCILE = "reconcile"  # deletions found by the id-set reconcile


@dataclass(frozen=True, slots=True)
class CacheChanges:
    """What one operation changed. `end_user_ids` None means "too many to list: refresh all"."""

    initiator: Initiator
    end_user_ids: frozenset[int] | None = frozenset()
    rows_added_or_removed: bool = False  # membership changed: result sets and counts are stale
    outbox_changed: bool = False
    conflicts_changed: bool = False
    # Property keys no end user in the cache had before this write (a first sync brings them
    # all): the facets, the column chooser and completion offer them at once.
    new_property_keys: frozenset[str] = frozenset()
