"""The action on a list's matched people: its preview (before → after per cell) and its one batch.

Applying goes through the Cache's ordinary edit calls, so the batch is one undo step, audits
each person, and leaves through the outbox and its three-way merge like any bulk action; per
person values go through `Cache.set_values_per_row`, the same path set-based.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from desktop_app.cache.changes import CacheChanges
from desktop_app.cache.records import EditKind, EditRejected
from desktop_app.cache.rows import dump_json
from desktop_app.cache.store import Cache
from desktop_app.cache.writes.row_edits import Cell
from desktop_app.lists.matching import MatchedEndUser, MatchReport
from desktop_app.lists.wanted import EXTERNAL_ID_COLUMN, ActionKind


@dataclass(frozen=True, slots=True)
class CellChange:
    """One field of one person: as it is, as the action leaves it, and whether that differs."""

    field: str
    before: object
    after: object
    changes: bool


@dataclass(frozen=True, slots=True)
class RowPreview:
    id: int
    identifier: str
    email: str
    cells: tuple[CellChange, ...]

    @property
    def changes(self) -> bool:
        return any(cell.changes for cell in self.cells)


def preview(report: MatchReport, limit: int | None = None) -> list[RowPreview]:
    """Before → after for each person the action reaches (matched, then already in the wanted
    state, whose cells all change nothing), in list order; at most `limit` rows."""
    people = sorted((*report.matched, *report.already), key=lambda m: m.row)
    return [_row(person) for person in people[:limit]]


def _row(person: MatchedEndUser) -> RowPreview:
    cells = tuple(CellChange(name, before, after, dump_json(before) != dump_json(after))
                  for (name, before), (_, after) in zip(person.current, person.wanted))
    return RowPreview(person.id, person.identifier, person.email, cells)


def opted_out_words(opted_out: int, total: int) -> str:
    """The warning an erase confirmation gives (the lists' preview and the table's bulk
    delete): an opt-out lives on the end user, so erasing them erases it too."""
    if not opted_out:
        return ""
    who = ("1 of them" if total > 1 else "This person") if opted_out == 1 else f"{opted_out:,} of them"
    return (f"{who} opted out of surveys themselves. The opt-out is erased with the person: "
            "if someone creates them again later (an import, a create, the service's own "
            "tracking), they will be surveyed again.")


def erase_warning(report: MatchReport) -> str:
    """For an erase: how many of the people it erases turned surveys off themselves, and what
    that means if they come back; "" for any other action or when nobody did."""
    if report.action is None or report.action.kind is not ActionKind.ERASE:
        return ""
    opted_out = sum(1 for person in report.matched if person.disabled_by == "end_user")
    return opted_out_words(opted_out, len(report.matched))


def apply_action(cache: Cache, report: MatchReport) -> CacheChanges | None:
    """Apply the report's action to its matched people as one bulk batch; None when nobody
    needs a change. The edit layer checks every row again in the write transaction, so a
    person who changed since the report (opted out meanwhile) refuses the whole batch with
    EditRejected and nothing is written: match again, then apply."""
    action = report.action
    if action is None:
        raise EditRejected("The list has no action to apply; choose one (disable surveys, …).")
    ids = report.ids_to_change
    if not ids:
        return None
    match action.kind:
        case ActionKind.DISABLE_SURVEYS | ActionKind.ENABLE_SURVEYS:
            return cache.set_surveys_enabled(ids, action.kind is ActionKind.ENABLE_SURVEYS, bulk=True)
        case ActionKind.SET_PROPERTY:
            assert action.key is not None and action.value is not None  # ListAction checked both
            return cache.set_property(ids, action.key, action.value, bulk=True)
        case ActionKind.UNSET_PROPERTY:
            assert action.key is not None
            return cache.unset_property(ids, action.key, bulk=True)
        case ActionKind.ERASE:
            return cache.delete_end_users(ids, bulk=True)
        case ActionKind.SET_EXTERNAL_ID:
            cells = [(p.id, None, value) for p in report.matched
                     for name, value in p.wanted if name == EXTERNAL_ID_COLUMN]
            return cache.set_values_per_row(EditKind.SET_EXTERNAL_ID, cells)
    own: list[Cell] = [(p.id, name, value) for p in report.matched for name, value in p.wanted]
    return cache.set_values_per_row(EditKind.SET_PROPERTY, own)


def keep_list(cache: Cache, report: MatchReport, name: str, *, source: str = "",
              replace: bool = False) -> int:
    """Keep the people the list named (matched, already, refused) under `name`, for
    `list:<name>`; the list's id. Only the source file's name is kept, not its folder."""
    return cache.save_list(name, report.member_ids, identifier_kind=report.kind.value,
                           source=PurePath(source).name if source else "", replace=replace)
