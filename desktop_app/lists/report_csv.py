"""One group of a match report as a CSV file (with the export's cells, lines and atomic file)."""

from __future__ import annotations

import enum
import os
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, TextIO

from desktop_app.export.cells import neutralize, property_text
from desktop_app.export.csv_lines import LINE_END, batch_text, column_text
from desktop_app.export.destination import open_target
from desktop_app.lists.matching import ListedIdentifier, MatchedEndUser, MatchReport
from desktop_app.lists.wanted import SURVEYS_FIELD


class ReportGroup(enum.StrEnum):
    MATCHED = "matched"
    ALREADY = "already"
    REFUSED = "refused"
    AMBIGUOUS = "ambiguous"
    NOT_IN_CACHE = "not_in_cache"
    UNREADABLE = "unreadable"
    SUPPRESSED = "suppressed"
    DUPLICATES = "duplicates"


_PEOPLE = (ReportGroup.MATCHED, ReportGroup.ALREADY, ReportGroup.REFUSED)
_PERSON_HEADER = ["row", "identifier", "id", "email", "external_id", "surveys", "disabled_by"]


def group_table(report: MatchReport, group: ReportGroup) -> tuple[list[str], list[list[object]]]:
    """The group's header and rows as cells (rows counted from 1, as a spreadsheet shows them;
    text made inert for spreadsheets: a cell starting with = gets a leading ')."""
    if group in _PEOPLE:
        people: Sequence[MatchedEndUser] = getattr(report, group.value)
        fields = list(dict.fromkeys(name for p in people for name, _ in p.wanted))
        header = [*_PERSON_HEADER, *(f"{name} {when}" for name in fields for when in ("now", "wanted"))]
        if group is ReportGroup.REFUSED:
            header.append("reason")
        rows = []
        for p in people:
            current, wanted = dict(p.current), dict(p.wanted)
            row = _person_cells(p)
            for name in fields:
                row += [_value(name, current.get(name)), _value(name, wanted.get(name))]
            if group is ReportGroup.REFUSED:
                row.append(p.reason)
            rows.append(row)
        return header, rows
    if group is ReportGroup.AMBIGUOUS:
        return _PERSON_HEADER, [_person_cells(p) for a in report.ambiguous for p in a.end_users]
    listed: Sequence[ListedIdentifier] = getattr(report, group.value)
    if group is ReportGroup.DUPLICATES:
        return ["row", "identifier", "note"], [[i.row + 1, neutralize(i.identifier), i.note] for i in listed]
    return ["row", "identifier"], [[item.row + 1, neutralize(item.identifier)] for item in listed]


def _person_cells(p: MatchedEndUser) -> list[object]:
    return [p.row + 1, neutralize(p.identifier), p.id, neutralize(p.email), neutralize(p.external_id or ""),
            "on" if p.surveys_enabled else "off", p.disabled_by]


def _value(name: str, value: object) -> object:
    if name == SURVEYS_FIELD and isinstance(value, bool):
        return "on" if value else "off"
    return property_text(value, neutralize_formulas=True)


def write_group_csv(report: MatchReport, group: ReportGroup,
                    destination: Path | str | os.PathLike[str] | BinaryIO | TextIO) -> int:
    """Write one group to `destination` (a file replaced atomically, or a stream); the
    number of rows written under the header."""
    header, rows = group_table(report, group)
    target = open_target(destination)
    try:
        target.write(",".join(column_text(header)) + LINE_END)
        if rows:
            target.write(batch_text([list(column) for column in zip(*rows)]))
        target.commit()
    except BaseException:
        target.discard()
        raise
    return len(rows)
