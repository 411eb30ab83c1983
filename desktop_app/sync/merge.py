"""The three-way merge of queued local edits against the service's latest row (pure logic).

Each edit remembers the server value it was made on (its base). Against the latest server row
("theirs"), per field and per property key:
  theirs == mine   -> already true on the server: nothing to send, the edit is done
  mine == base     -> changed and changed back locally: nothing to send either
  theirs == base   -> only we changed it: send mine
  otherwise        -> both sides changed it differently: a conflict, nothing overwritten
Several edits of one target collapse to the oldest base and the newest value. One exception:
when theirs equals the value of an edit marked sent (`sent_at`: a push carrying it as ours may
have reached the service before a crash kept the cache from storing the answer), theirs is our
own value, so it serves as the base. Only sent values count: a colleague who happens to set an
older value that never left this machine still makes a conflict.
Values compare in their canonical form (`canonical_value`), since the service hands back
form-encoded values as strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from desktop_app.cache.records import EditKind, PendingEdit
from desktop_app.domain import DisabledBy, EndUser, PropertyValue, canonical_value

# The fields a PUT /v1/end_users/{id} carries, by edit kind.
_FIELD_OF_KIND = {EditKind.SET_EMAIL: "email", EditKind.SET_EXTERNAL_ID: "external_id"}


@dataclass(frozen=True, slots=True)
class MergePlan:
    """What to send for one end user, and what becomes of each queued edit."""

    end_user_id: int
    delete: bool = False
    fields: dict[str, str | None] = field(default_factory=dict)  # email / external_id to PUT
    properties: dict[str, PropertyValue] | None = None  # the whole merged hash, when it changes
    surveys_enabled: bool | None = None  # settings PUT, when it changes
    done: tuple[int, ...] = ()  # edits satisfied once the plan is sent (or already true)
    sending: tuple[int, ...] = ()  # edits whose values the plan puts on the wire as ours
    conflicts: tuple[tuple[int, object], ...] = ()  # (edit id, their value)
    rejected: tuple[tuple[int, str], ...] = ()  # (edit id, why) decided without asking the service

    def edits_for_field(self, name: str, edits: Sequence[PendingEdit]) -> list[int]:
        """Ids of the planned edits that touch `name` (a field, "properties" or "surveys")."""
        return [e.id for e in edits if e.id in self.done and _target(e)[0] == name]


def _target(edit: PendingEdit) -> tuple[str, str | None]:
    """(what the edit changes, property key): ("email", None), ("properties", "plan"), ..."""
    if edit.kind in (EditKind.SET_PROPERTY, EditKind.UNSET_PROPERTY):
        return "properties", edit.key
    if edit.kind is EditKind.SET_SURVEYS:
        return "surveys", None
    if edit.kind is EditKind.DELETE:
        return "delete", None
    return _FIELD_OF_KIND[edit.kind], None


def _theirs(theirs: EndUser, target: tuple[str, str | None]) -> object:
    name, key = target
    if name == "properties":
        return theirs.properties.get(key or "")
    if name == "surveys":
        return not theirs.surveys_disabled
    return getattr(theirs, name)


def _same(a: object, b: object) -> bool:
    return canonical_value(a) == canonical_value(b)


def plan_push(edits: Sequence[PendingEdit], theirs: EndUser) -> MergePlan:
    """Merge the queued edits of one end user (oldest first) against the service's row."""
    if any(e.kind is EditKind.DELETE for e in edits):
        # A delete makes every other edit of this end user moot.
        return MergePlan(theirs.id, delete=True, done=tuple(e.id for e in edits))

    # Several edits of one target collapse: the newest value against the oldest base.
    groups: dict[tuple[str, str | None], list[PendingEdit]] = {}
    for edit in edits:
        groups.setdefault(_target(edit), []).append(edit)

    done: list[int] = []
    conflicts: list[tuple[int, object]] = []
    rejected: list[tuple[int, str]] = []
    fields: dict[str, str | None] = {}
    merged_props = dict(theirs.properties)
    props_changed = False
    surveys: bool | None = None
    sending: list[int] = []

    for target, group in groups.items():
        ids = [e.id for e in group]
        base, mine = group[0].base, group[-1].value
        current = _theirs(theirs, target)
        if any(e.sent_at is not None and _same(current, e.value) for e in group):
            base = current  # our own earlier push reached the service
        name, key = target
        if name == "surveys" and mine and theirs.disabled_by is DisabledBy.END_USER:
            rejected += [(i, "The end user opted out of surveys themself; only they can opt back in.")
                         for i in ids]
            continue
        if _same(current, mine) or _same(mine, base):
            # Already true on the service, or edited and changed back: nothing to send.
            done += ids
        elif _same(current, base):
            done += ids
            sending.append(ids[-1])
            if name == "properties":
                props_changed = True
                if mine is None:
                    merged_props.pop(key or "", None)
                else:
                    merged_props[key or ""] = mine  # type: ignore[assignment]  # checked as a PropertyValue when made
            elif name == "surveys":
                surveys = bool(mine)
            else:
                fields[name] = None if mine is None else str(mine)
        else:
            # One conflict per target: the newest edit carries it, older ones are superseded.
            done += ids[:-1]
            conflicts.append((ids[-1], current))

    return MergePlan(
        theirs.id,
        fields=fields,
        properties=merged_props if props_changed else None,
        surveys_enabled=surveys,
        done=tuple(done),
        sending=tuple(sending),
        conflicts=tuple(conflicts),
        rejected=tuple(rejected),
    )
