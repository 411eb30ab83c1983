"""A list job from start to end, as the window and the command line both run it (Qt-free):
which column identifies people (the guess, or the person's pick), the rows handed to the
matcher, the report's words, the kept list's default name and the action's name.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import PurePath

from desktop_app.cache.store import Cache
from desktop_app.lists.identifiers import IdentifierKind
from desktop_app.lists.matching import MatchReport, Suppression, match_list
from desktop_app.lists.reading import (
    ColumnGuess,
    ListReadError,
    ListTable,
    RowProblemKind,
    _name_kind,
    guess_identifier_column,
    normalise_identifier,
)
from desktop_app.lists.suppression import CacheSuppression
from desktop_app.lists.wanted import ERASED_FIELD, SURVEYS_FIELD, ActionKind, ListAction

# The report's groups in the order they are shown, with their names in words.
GROUP_TITLES: tuple[tuple[str, str], ...] = (
    ("matched", "Matched: will change"),
    ("already", "Already as wanted"),
    ("refused", "Refused"),
    ("ambiguous", "Ambiguous (one identifier, several end users)"),
    ("not_in_cache", "Not in the cache"),
    ("unreadable", "Unreadable rows"),
    ("suppressed", "Erased earlier (suppressed)"),
    ("duplicates", "Duplicates (counted once)"),
)


@dataclass(frozen=True, slots=True)
class ListJob:
    """A read list, the column that identifies people in it, as what, and the action."""

    table: ListTable
    column: int
    kind: IdentifierKind
    action: ListAction | None = None

    def identifiers(self) -> list[str]:
        return [self.table.cell(row, self.column) for row in range(len(self.table.rows))]

    def values(self) -> list[dict[str, str]] | None:
        """Each row's other cells by their header name (per-row actions only)."""
        if self.action is None or not self.action.per_row:
            return None
        header = self.table.header
        if not header:
            raise ListReadError(f"{self.table.source} has no header row: each person's own values "
                                "need column names (email,plan,seats_amount)")
        others = [c for c in range(len(header)) if c != self.column and header[c].strip()]
        if self.action.kind is ActionKind.SET_EXTERNAL_ID:
            wanted = self.action.key or "external_id"
            if not any(header[c].strip() == wanted for c in others):
                raise ListReadError(f"{self.table.source} has no column named “{wanted}” to take "
                                    "the external ids from")
            others = [c for c in others if header[c].strip() == wanted]
        elif not others:
            raise ListReadError(f"{self.table.source} has no other column: nothing to set per person")
        return [{header[c].strip(): self.table.cell(row, c) for c in others}
                for row in range(len(self.table.rows))]

    def match(self, cache: Cache, suppression: Suppression | None = None) -> MatchReport:
        """The match report (one read snapshot; nothing written). A cell of an email column
        that no end user has and that is not an address ("call me back") is an unreadable
        row, with why, not a person missing from the cache. Erased people are the suppressed
        group (the cache's suppression list, unless the caller hands another)."""
        report = match_list(cache, self.kind, self.identifiers(), self.action, values=self.values(),
                            suppression=suppression if suppression is not None else CacheSuppression(cache))
        if self.kind is not IdentifierKind.EMAIL:
            return report
        missing, unreadable = [], list(report.unreadable)
        for listed in report.not_in_cache:
            problem = normalise_identifier(self.kind, listed.identifier)
            if isinstance(problem, RowProblemKind):
                unreadable.append(replace(listed, note=problem.value))
            else:
                missing.append(listed)
        if len(missing) == len(report.not_in_cache):
            return report
        return replace(report, not_in_cache=tuple(missing),
                       unreadable=tuple(sorted(unreadable, key=lambda item: item.row)))


def pick_column(table: ListTable, spec: str | None) -> ColumnGuess:
    """The column `spec` names: a header name (ignoring case), a 1-based number, or a kind
    (email, external_id, wootric_id: the column guessed for it); None: the app's guess."""
    guess = guess_identifier_column(table)
    if spec is None or not spec.strip():
        return guess
    text = spec.strip()
    kinds = {kind.value: kind for kind in IdentifierKind}
    names = [name.strip().casefold() for name in table.header or ()]
    if text.casefold() in names:
        column = names.index(text.casefold())
        kind = kinds.get(text.casefold(), guess.kind if guess.column == column else _kind_of(table, column))
        return ColumnGuess(column, kind, f"{table.column_name(column)}, as asked")
    if text.isascii() and text.isdigit():
        column = int(text) - 1
        if not 0 <= column < table.width:
            raise ListReadError(f"{table.source} has no column {text} (it has {table.width})")
        kind = guess.kind if guess.column == column else _kind_of(table, column)
        return ColumnGuess(column, kind, f"{table.column_name(column)}, as asked")
    if text.casefold() in kinds:
        kind = kinds[text.casefold()]
        column = guess.column if guess.kind is kind else _column_of(table, kind)
        return ColumnGuess(column, kind, f"{table.column_name(column)}, read as {kind.words}")
    shown = ", ".join(f"“{name}”" for name in table.header or ()) or "none"
    raise ListReadError(f"{table.source} has no column “{text}”: give a header name ({shown}), "
                        "a column number from 1, or email / external_id / wootric_id")


def _kind_of(table: ListTable, column: int) -> IdentifierKind:
    """What a column the person picked holds: what its header names ("Wootric ID"), else
    addresses when most of it is, else external ids."""
    named = _name_kind(table.header[column]) if table.header and column < len(table.header) else None
    if named is not None:
        return named
    cells = [table.cell(row, column) for row in range(min(len(table.rows), 200))]
    filled = [c for c in cells if c.strip()]
    emails = sum("@" in c for c in filled)
    return IdentifierKind.EMAIL if filled and emails >= 0.5 * len(filled) else IdentifierKind.EXTERNAL_ID


def _column_of(table: ListTable, kind: IdentifierKind) -> int:
    for column in range(table.width):
        if _kind_of(table, column) is kind or (table.header and kind.value in table.header[column].casefold()):
            return column
    return 0


def default_list_name(source: str, today: datetime.date | None = None) -> str:
    """"optouts.csv 2026-12-08": the file's name and the day, for "Show in the main table"."""
    day = (today or datetime.date.today()).isoformat()
    name = PurePath(source).name if source and source != "the pasted text" else "pasted list"
    return f"{name} {day}"


def action_name(action: ListAction) -> str:
    """The action in a few words, as its undo step is named."""
    match action.kind:
        case ActionKind.DISABLE_SURVEYS:
            return "Disable surveys"
        case ActionKind.ENABLE_SURVEYS:
            return "Enable surveys"
        case ActionKind.SET_PROPERTY:
            return f"Set {action.key}"
        case ActionKind.UNSET_PROPERTY:
            return f"Remove {action.key}"
        case ActionKind.SET_EXTERNAL_ID:
            return "Set external ids"
        case ActionKind.SET_COLUMNS:
            return "Set each person's values"
    return "Delete"


def value_words(name: str, value: object) -> str:
    """A cell of the preview in words: surveys on/off, erased, a property's value or "not set"."""
    if name == SURVEYS_FIELD:
        return "surveys on" if value else "surveys off"
    if name == ERASED_FIELD:
        return "deleted" if value else "kept"
    if value is None:
        return "not set"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def field_words(name: str) -> str:
    return {SURVEYS_FIELD: "surveys", ERASED_FIELD: "end user"}.get(name, name)


def report_lines(report: MatchReport, table: ListTable, first: int = 5) -> list[str]:
    """The report as text: a count per group, then its first rows (with the list's line)."""
    counts: Mapping[str, int] = report.counts()
    lines = [f"{report.rows:,} rows read as {report.kind.words}"
             + (f" ({report.blank:,} blank)" if report.blank else "")]
    for group, title in GROUP_TITLES:
        count = counts[group]
        if not count and group not in ("matched", "not_in_cache"):
            continue
        lines.append(f"{title}: {count:,}")
        for text in group_examples(report, table, group, first):
            lines.append(f"    {text}")
        if count > first:
            lines.append(f"    … and {count - first:,} more")
    return lines


def line_of(table: ListTable, row: int) -> int:
    return table.lines[row] if 0 <= row < len(table.lines) else row + 1


def group_examples(report: MatchReport, table: ListTable, group: str, limit: int) -> list[str]:
    """The first rows of a group in words, each with the line of the list it came from."""
    out: list[str] = []
    if group in ("matched", "already", "refused"):
        for person in getattr(report, group)[:limit]:
            change = "; ".join(f"{field_words(n)}: {value_words(n, now)} → {value_words(n, then)}"
                               for (n, now), (_, then) in zip(person.current, person.wanted))
            why = f" — {person.reason}" if person.reason else ""
            out.append(f"line {line_of(table, person.row)}: {person.email} (id {person.id})"
                       + (f"  {change}" if change else "") + why)
    elif group == "ambiguous":
        for item in report.ambiguous[:limit]:
            ids = ", ".join(str(p.id) for p in item.end_users)
            out.append(f"line {line_of(table, item.row)}: {item.identifier} is on end users {ids}")
    else:
        for listed in getattr(report, group)[:limit]:
            note = f" ({listed.note})" if getattr(listed, "note", "") else ""
            out.append(f"line {line_of(table, listed.row)}: {listed.identifier}{note}")
    return out
