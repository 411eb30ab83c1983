"""The suppression list, for every path that could bring an erased person back.

The one place to ask: `CacheSuppression(cache)` is the `Suppression` that `match_list` takes
(the match report's "suppressed" group), and `refuse_suppressed(cache, emails)` is what an
import or a create calls before writing anything. Both read `Cache.suppressed`: the erasure
records' salted hashes (`cache.suppression`), never a plain email.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from desktop_app.cache.records import EditRejected
from desktop_app.cache.store import Cache
from desktop_app.lists.identifiers import IdentifierKind

SHOWN = 5  # emails named in a refusal; the rest are counted


class SuppressedIdentifiers(EditRejected):
    """An import or a create named people erased here: nothing was written."""

    title = "Erased earlier"

    def __init__(self, message: str, identifiers: Sequence[str]) -> None:
        super().__init__(message)
        self.identifiers = tuple(identifiers)


class CacheSuppression:
    """Answers `lists.matching.Suppression` from one cache's erasure records."""

    def __init__(self, cache: Cache) -> None:
        self._cache = cache

    def __call__(self, kind: IdentifierKind, identifiers: Collection[str]) -> Collection[str]:
        return self._cache.suppressed(kind.value, identifiers)


def refuse_suppressed(cache: Cache, emails: Sequence[str],
                      kind: IdentifierKind = IdentifierKind.EMAIL) -> None:
    """Raise SuppressedIdentifiers when any of `emails` (or identifiers of `kind`) belongs to
    someone erased, or being erased, from this account; silent otherwise. 100k take well
    under a second."""
    found = cache.suppressed(kind.value, emails)
    if not found:
        return
    listed = list(dict.fromkeys(e.strip() for e in emails if e in found))  # list order, once
    named = ", ".join(listed[:SHOWN]) + (f" and {len(listed) - SHOWN:,} more" if len(listed) > SHOWN else "")
    people = "1 person was" if len(listed) == 1 else f"{len(listed):,} people were"
    raise SuppressedIdentifiers(
        f"{people} erased from this account at their request and must not be created again: "
        f"{named}. Leave them out of the file and try again; nothing was written.", listed)
