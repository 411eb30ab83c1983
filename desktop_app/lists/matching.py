"""A list matched against the cache: the match report, before anything is written.

Every row of a list lands in exactly one group: matched (the action changes them), already in
the wanted state, refused (the action may not touch them), ambiguous (the identifier is on
several end users), not in the cache, unreadable (not an identifier of that kind), suppressed
(erased earlier, or being erased: `lists.suppression.CacheSuppression` answers), or a duplicate of an earlier
row (counted once: the first row's values win).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from desktop_app.cache.reading.list_match import KeyMatch, MatchColumn, match_keys
from desktop_app.cache.records import EditRejected
from desktop_app.cache.rows import dump_json
from desktop_app.cache.store import Cache
from desktop_app.cache.writes.edits import unchanged_sql
from desktop_app.lists.identifiers import IdentifierKind, normalize_identifier
from desktop_app.lists.wanted import (
    ERASED_FIELD,
    EXTERNAL_ID_COLUMN,
    SURVEYS_FIELD,
    ActionKind,
    ListAction,
    wanted_cells,
)

_COLUMN: dict[IdentifierKind, MatchColumn] = {
    IdentifierKind.EMAIL: "email", IdentifierKind.EXTERNAL_ID: "external_id", IdentifierKind.WOOTRIC_ID: "id",
}
OPTED_OUT = "opted out of surveys themselves: only they can opt back in"
DELETED_HERE = "deleted here and not yet sent: undo the delete before changing them"
BEING_ERASED = "being erased: the service took the delete and purges them soon"

Cells = tuple[tuple[str, object], ...]  # (field, value) pairs: a property key, or one of wanted.*_FIELD


class Suppression(Protocol):
    """The suppression list's answer (issue 14 §4): which of these identifiers were erased
    and must not come back. Called with normalized identifiers of one kind."""

    def __call__(self, kind: IdentifierKind, identifiers: Collection[str]) -> Collection[str]: ...


@dataclass(frozen=True, slots=True)
class ListedIdentifier:
    """A list row that reached no end user: its position (0-based) and its cell as given;
    a duplicate whose other columns differ from the first row's says so in `note`."""

    row: int
    identifier: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class MatchedEndUser:
    """An end user a row named, with their current state and what the action wants."""

    row: int
    identifier: str
    id: int
    email: str
    external_id: str | None
    surveys_enabled: bool
    disabled_by: str  # "", "admin", "end_user"
    current: Cells = ()  # the fields the action touches, as they are now
    wanted: Cells = ()  # ... and as the action would leave them
    reason: str = ""  # why the action may not touch them (refused only)


@dataclass(frozen=True, slots=True)
class AmbiguousIdentifier:
    """An identifier on several end users: the list cannot say which one it meant."""

    row: int
    identifier: str
    end_users: tuple[MatchedEndUser, ...]


@dataclass(frozen=True, slots=True)
class MatchReport:
    """What a list would do, group by group; nothing is written to make it."""

    kind: IdentifierKind
    action: ListAction | None
    rows: int  # rows read, blank ones included
    matched: tuple[MatchedEndUser, ...] = ()
    already: tuple[MatchedEndUser, ...] = ()
    refused: tuple[MatchedEndUser, ...] = ()
    ambiguous: tuple[AmbiguousIdentifier, ...] = ()
    not_in_cache: tuple[ListedIdentifier, ...] = ()
    unreadable: tuple[ListedIdentifier, ...] = ()
    suppressed: tuple[ListedIdentifier, ...] = ()
    duplicates: tuple[ListedIdentifier, ...] = ()
    blank: int = 0
    columns: tuple[str, ...] = field(default=())  # the per-row value columns, in list order

    @property
    def ids_to_change(self) -> list[int]:
        return [m.id for m in self.matched]

    @property
    def member_ids(self) -> list[int]:
        """Everyone the list named unambiguously: the people a kept list holds."""
        return sorted({m.id for group in (self.matched, self.already, self.refused) for m in group})

    def counts(self) -> dict[str, int]:
        return {"rows": self.rows, "matched": len(self.matched), "already": len(self.already),
                "refused": len(self.refused), "ambiguous": len(self.ambiguous),
                "not_in_cache": len(self.not_in_cache), "unreadable": len(self.unreadable),
                "suppressed": len(self.suppressed), "duplicates": len(self.duplicates), "blank": self.blank}


def match_list(
    cache: Cache,
    kind: IdentifierKind,
    identifiers: Sequence[str],
    action: ListAction | None = None,
    *,
    values: Sequence[Mapping[str, str]] | None = None,
    suppression: Suppression | None = None,
) -> MatchReport:
    """Match a list's identifier cells (and, for a per-row action, each row's other cells,
    `values[i]` beside `identifiers[i]`, the identifier's own column left out) against the
    cache, in one read snapshot."""
    if action is not None and action.per_row and values is None:
        raise EditRejected("This action takes each person's value from the list's other columns; "
                           "the list has none.")
    if values is not None and len(values) != len(identifiers):
        raise ValueError(f"{len(values)} rows of values for {len(identifiers)} identifiers")  # a caller's bug
    first: dict[str, ListedIdentifier] = {}
    duplicates, unreadable, blank = [], [], 0
    for row, raw in enumerate(identifiers):
        key = normalize_identifier(kind, raw)
        if key is None:
            if raw.strip():
                unreadable.append(ListedIdentifier(row, raw.strip()))
            else:
                blank += 1
        elif key in first:
            earlier = first[key].row
            differs = values is not None and dict(values[row]) != dict(values[earlier])
            note = f"other values than row {earlier + 1}, whose are used" if differs else ""
            duplicates.append(ListedIdentifier(row, raw.strip(), note))
        else:
            first[key] = ListedIdentifier(row, raw.strip())
    suppressed_keys = set(suppression(kind, list(first))) if suppression is not None and first else set()
    keys = [k for k in first if k not in suppressed_keys]
    op = action.edit_op() if action is not None and not action.per_row else None
    with cache.engine.connect() as connection, connection.begin():
        raw_connection = connection.connection.driver_connection
        assert raw_connection is not None
        found = match_keys(raw_connection, _COLUMN[kind], keys,
                           unchanged_sql(op) if op is not None else "0", op.params(0) if op is not None else None)
    single = _single_wanted(action) if action is not None and not action.per_row else ()
    by_key: dict[str, list[KeyMatch]] = {}
    for hit in found:
        by_key.setdefault(hit.key, []).append(hit)
    groups: dict[str, list[MatchedEndUser]] = {"matched": [], "already": [], "refused": []}
    ambiguous = []
    for key in keys:
        hits = by_key.get(key)
        if not hits:
            continue
        listed = first[key]
        if len(hits) > 1:
            ambiguous.append(AmbiguousIdentifier(listed.row, listed.identifier,
                                                 tuple(_person(listed, h) for h in hits)))
            continue
        group, person = _classify(listed, hits[0], action, values[listed.row] if values is not None else {}, single)
        groups[group].append(person)
    return MatchReport(
        kind, action, len(identifiers), tuple(groups["matched"]), tuple(groups["already"]),
        tuple(groups["refused"]), tuple(ambiguous),
        tuple(first[k] for k in keys if k not in by_key), tuple(unreadable),
        tuple(first[k] for k in first if k in suppressed_keys), tuple(duplicates), blank,
        tuple(_columns(values)) if action is not None and action.per_row else ())


def _columns(values: Sequence[Mapping[str, str]] | None) -> list[str]:
    seen: dict[str, None] = {}
    for row in values or ():
        seen.update(dict.fromkeys(row))
    return list(seen)


def _person(listed: ListedIdentifier, hit: KeyMatch, current: Cells = (), wanted: Cells = (),
            reason: str = "") -> MatchedEndUser:
    return MatchedEndUser(listed.row, listed.identifier, hit.id, hit.email, hit.external_id,
                          not hit.surveys_disabled, hit.disabled_by, current, wanted, reason)


def _current(hit: KeyMatch, fields: Sequence[str]) -> Cells:
    props: dict[str, object] | None = None
    out: list[tuple[str, object]] = []
    for name in fields:
        if name == SURVEYS_FIELD:
            out.append((name, not hit.surveys_disabled))
        elif name == ERASED_FIELD:
            out.append((name, bool(hit.pending_delete)))
        elif name == EXTERNAL_ID_COLUMN:
            out.append((name, hit.external_id))
        else:
            if props is None:
                loaded = json.loads(hit.properties_json)
                props = loaded if isinstance(loaded, dict) else {}
            out.append((name, props.get(name)))
    return tuple(out)


def _classify(listed: ListedIdentifier, hit: KeyMatch, action: ListAction | None,
              values: Mapping[str, str], single: Cells) -> tuple[str, MatchedEndUser]:
    """The group of a person the list named exactly once, with what the action means for them
    (`single`: what a one-value action wants of everyone)."""
    if action is None:
        return "matched", _person(listed, hit)
    if action.per_row:
        try:
            wanted = wanted_cells(action, values)
        except EditRejected as error:
            return "refused", _person(listed, hit, reason=error.message)
    else:
        wanted = single
    current = _current(hit, [name for name, _ in wanted])
    if hit.pending_delete == 2:
        return "refused", _person(listed, hit, current, wanted, BEING_ERASED)
    if hit.pending_delete and action.kind is not ActionKind.ERASE:
        return "refused", _person(listed, hit, current, wanted, DELETED_HERE)
    if action.kind is ActionKind.ENABLE_SURVEYS and hit.disabled_by == "end_user":
        return "refused", _person(listed, hit, current, wanted, OPTED_OUT)
    if action.per_row:
        same = all(_same_value(now, then) for (_, now), (_, then) in zip(current, wanted))
    else:
        same = bool(hit.unchanged)  # the edit layer's own test, read with the row
    return ("already" if same else "matched"), _person(listed, hit, current, wanted)


def _same_value(now: object, then: object) -> bool:
    """Equal as the outbox compares values (their JSON text: 1 is not 1.0, "1" is not 1)."""
    if now != then:
        return False
    return type(now) is type(then) or dump_json(now) == dump_json(then)


def _single_wanted(action: ListAction) -> Cells:
    match action.kind:
        case ActionKind.DISABLE_SURVEYS | ActionKind.ENABLE_SURVEYS:
            return ((SURVEYS_FIELD, action.kind is ActionKind.ENABLE_SURVEYS),)
        case ActionKind.ERASE:
            return ((ERASED_FIELD, True),)
        case ActionKind.UNSET_PROPERTY:
            return ((str(action.key), None),)
    return ((str(action.key), action.value),)
