"""Importing a file in Wootric's upload convention: update the people it names, create the rest.

The convention (the dashboard's end-user upload): the first column is `email`; every other
header is a property name, kept exactly as written (case matters: `Plan` and `plan` are two
properties); `*_amount` holds whole numbers, `*_date` dates (YYYY-MM-DD or unix seconds),
`*_array` comma-separated lists (`property_types` has the suffix typing). A blank cell leaves
that property as it is.

`read_upload` reads and checks the file (a refused file raises ListReadError; nothing is
written); `plan_import` matches it against the cache (`lists.matching`, emails casefolded) and
says what it would do, with warnings where a header or a value differs from what the cache
holds only by case, since those split segments; `apply_import` writes it as one batch (one undo
step): the matched people's own values, and, when the import creates, new end users with local
ids that the next push creates on the service (`sync.push.push_created`).
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.cache.changes import CacheChanges
from desktop_app.cache.records import EditRejected
from desktop_app.cache.store import Cache
from desktop_app.cache.writes.creates import NewEndUser
from desktop_app.cache.writes.row_edits import Cell
from desktop_app.cache.writes.validation import check_property_key, check_property_value
from desktop_app.domain import PropertyValue
from desktop_app.lists.identifiers import IdentifierKind
from desktop_app.lists.matching import ListedIdentifier, MatchReport, Suppression, match_list
from desktop_app.lists.reading import ListReadError, ListTable, clean, read_list_file
from desktop_app.lists.wanted import ActionKind, ListAction
from desktop_app.property_types import PropertyType, parse_property_text, property_type

EMAIL_COLUMN = "email"
WARNINGS_SHOWN = 20  # the report names this many case-only differences, then counts the rest


class NewPeople(enum.StrEnum):
    """What an import does with rows that match nobody (the command line's flags)."""

    CREATE = "create"  # create them (and update the people who match)
    UPDATE_ONLY = "update-only"  # update the people who match; create nobody
    SKIP_NEW = "skip-new"  # the same writes as UPDATE_ONLY, said as "the new rows were skipped"


@dataclass(frozen=True, slots=True)
class UploadFile:
    """A file read in the upload convention: its property columns and each row's cells."""

    source: str
    table: ListTable
    keys: tuple[str, ...]  # the property columns, as written, in file order

    def values(self, row: int) -> dict[str, str]:
        """Row `row`'s non-blank property cells, by key."""
        cells = self.table.rows[row]
        return {key: text for key, text in zip(self.keys, cells[1:]) if clean(text)}


@dataclass(frozen=True, slots=True)
class InvalidRow:
    """A row refused before matching: a value that does not fit its column's type."""

    line: int
    email: str
    message: str


@dataclass(frozen=True, slots=True)
class CaseWarning:
    """A header or a value that differs from an existing one only by case."""

    column: str
    given: str
    existing: str
    lines: tuple[int, ...] = ()  # where the value is (empty for a header)

    def words(self) -> str:
        if not self.lines:
            return (f'column "{self.given}" differs only by case from the existing property '
                    f'"{self.existing}": they are two properties and split segments')
        where = ", ".join(map(str, self.lines[:5])) + (" …" if len(self.lines) > 5 else "")
        return (f'{self.column}: "{self.given}" (line {where}) differs only by case from the '
                f'existing value "{self.existing}": they split segments')


@dataclass(frozen=True, slots=True)
class NewRow:
    line: int
    email: str  # as the file gives it (trimmed): the service stores and compares it so
    properties: dict[str, PropertyValue]


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What an import would do; nothing is written to make it."""

    upload: UploadFile
    choice: NewPeople
    report: MatchReport  # the match of the valid rows (matched, already, refused, ambiguous, ...)
    new: tuple[NewRow, ...]  # rows that match nobody (created only with NewPeople.CREATE)
    invalid: tuple[InvalidRow, ...]
    warnings: tuple[CaseWarning, ...] = field(default=())

    @property
    def creates(self) -> bool:
        return self.choice is NewPeople.CREATE

    def counts(self) -> dict[str, int]:
        counts = self.report.counts()
        counts.pop("not_in_cache", None)
        counts["rows"] = len(self.upload.table.rows)
        counts["to_create" if self.creates else "new_skipped"] = len(self.new)
        counts["invalid"] = len(self.invalid)
        counts["warnings"] = len(self.warnings)
        return counts

    def cells(self) -> list[Cell]:
        """The matched people's own values, as `Cache.set_values_per_row` takes them."""
        return [(person.id, key, value) for person in self.report.matched for key, value in person.wanted]


# -- reading --------------------------------------------------------------------------------


def read_upload(path: Path | str) -> UploadFile:
    """Read and check an upload file; ListReadError (nothing read) when it does not follow the
    convention: no header, a first column other than `email`, a blank, repeated or unusable
    property name."""
    table = read_list_file(path)
    return upload_from_table(table)


def upload_from_table(table: ListTable) -> UploadFile:
    source = table.source
    header = table.header
    first = clean(header[0]) if header else ""
    if header is None or first.casefold() != EMAIL_COLUMN:
        found = f'its first column is "{first}"' if header else "it has no header row"
        raise ListReadError(f"{source} does not follow Wootric's upload convention: {found}; the "
                            "first column must be email and the other headers property names")
    keys: list[str] = []
    for index, name in enumerate(header[1:], 2):
        key = clean(name)
        if not key:
            raise ListReadError(f"{source}: column {index} has no name; every column after email "
                                "names a property")
        try:
            key = check_property_key(key)
        except EditRejected as error:
            raise ListReadError(f"{source}: column {index} \"{key[:60]}\": {error.message}") from None
        if key in keys:
            raise ListReadError(f'{source}: the property "{key}" is named by two columns')
        keys.append(key)
    if not keys and not table.rows:
        raise ListReadError(f"{source} has a header and no rows: nothing to import")
    return UploadFile(source, table, tuple(keys))


def typed_value(key: str, text: str) -> PropertyValue:
    """A cell in its column's type; ValueError with plain words when it does not fit."""
    value = parse_property_text(key, text.strip())
    if (property_type(key) is PropertyType.NUMBER and key.lower().endswith("_amount")
            and isinstance(value, float) and not (math.isfinite(value) and value.is_integer())):
        raise ValueError(f"{key} holds whole numbers; {text.strip()!r} is not one")
    try:
        return check_property_value(value)
    except EditRejected as error:
        raise ValueError(error.message) from None


# -- planning -------------------------------------------------------------------------------


def plan_import(cache: Cache, upload: UploadFile, choice: NewPeople = NewPeople.CREATE, *,
                suppression: Suppression | None = None) -> ImportPlan:
    """Match the upload against the cache and say what the import would do. Suppressed emails
    (erased earlier; `suppression`, the matching's hook) are refused, never created."""
    table = upload.table
    invalid: list[InvalidRow] = []
    identifiers: list[str] = []
    values: list[dict[str, str]] = []
    typed: list[dict[str, PropertyValue]] = []
    lines: list[int] = []
    for index, row in enumerate(table.rows):
        email = clean(row[0]) if row else ""
        cells = upload.values(index)
        try:
            typed_row = {key: typed_value(key, text) for key, text in cells.items()}
        except ValueError as error:
            invalid.append(InvalidRow(table.lines[index], email, str(error)))
            continue
        identifiers.append(email)
        values.append(cells)
        typed.append(typed_row)
        lines.append(table.lines[index])
    report = match_list(cache, IdentifierKind.EMAIL, identifiers, ListAction(ActionKind.SET_COLUMNS),
                        values=values, suppression=suppression)
    new = tuple(NewRow(lines[listed.row], listed.identifier, typed[listed.row])
                for listed in report.not_in_cache)
    warnings = case_warnings(cache, upload, typed, lines)
    return ImportPlan(upload, choice, report, new, tuple(invalid), warnings)


def case_warnings(cache: Cache, upload: UploadFile, typed: Sequence[Mapping[str, PropertyValue]],
                  lines: Sequence[int]) -> tuple[CaseWarning, ...]:
    """Headers that differ from a cached property key only by case, and text values (list
    elements too) that differ only by case from a value the cache holds for that key, or
    from another value of the same column in the file."""
    known = set(cache.property_keys())
    by_fold: dict[str, list[str]] = {}
    for key in known:
        by_fold.setdefault(key.casefold(), []).append(key)
    warnings: list[CaseWarning] = []
    for key in upload.keys:
        if key not in known:
            for other in sorted(by_fold.get(key.casefold(), ())):
                warnings.append(CaseWarning(key, key, other))
    texts = [k for k in upload.keys if property_type(k) in (PropertyType.TEXT, PropertyType.LIST)]
    existing = _existing_text_values(cache, [k for k in texts if k in known])
    seen: dict[tuple[str, str], dict[str, list[int]]] = {}  # (key, folded) -> form -> lines
    for row, line in zip(typed, lines):
        for key in texts:
            value = row.get(key)
            for text in (value if isinstance(value, list) else [value]):
                if isinstance(text, str) and text:
                    seen.setdefault((key, text.casefold()), {}).setdefault(text, []).append(line)
    for (key, folded), forms in seen.items():
        held = existing.get(key, {}).get(folded, set())
        for form, where in forms.items():
            others = sorted((held | set(forms)) - {form})
            if others and form not in held:
                warnings.append(CaseWarning(key, form, others[0], tuple(where)))
    return tuple(warnings)


def _existing_text_values(cache: Cache, keys: Sequence[str]) -> dict[str, dict[str, set[str]]]:
    """Each key's distinct text values in the cache (array elements too), by casefold: one
    pass over the end users' properties."""
    out: dict[str, dict[str, set[str]]] = {}
    if not keys:
        return out
    with cache.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT DISTINCT je.key, je.type, je.value FROM end_user, json_each(end_user.properties_json) je"
            " WHERE je.key IN (SELECT value FROM json_each(?)) AND je.type IN ('text', 'array')",
            (json.dumps(list(keys)),))
        for key, kind, value in rows:
            items = json.loads(value) if kind == "array" else [value]
            for item in items:
                if isinstance(item, str) and item:
                    out.setdefault(key, {}).setdefault(item.casefold(), set()).add(item)
    return out


# -- applying -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    changes: CacheChanges | None
    updated: int  # end users whose values changed
    created: tuple[int, ...]  # the local ids of the people created


def apply_import(cache: Cache, plan: ImportPlan) -> ImportOutcome:
    """Write the plan as one batch (one undo step). The edit layer checks every row again in
    the write transaction (EditRejected: nothing is written)."""
    people = [NewEndUser(row.email, None, row.properties) for row in plan.new] if plan.creates else []
    cells = plan.cells()
    if not cells and not people:
        return ImportOutcome(None, 0, ())
    changes, created = cache.import_end_users(cells, people)
    return ImportOutcome(changes, len({c[0] for c in cells}), tuple(created))


def report_lines(plan: ImportPlan, *, dry_run: bool = False) -> list[str]:
    """The import's report in plain lines: counts per group, then the warnings and refusals."""
    c = plan.counts()
    verb = "would" if dry_run else "will"
    lines = [f"{plan.upload.source}: {c['rows']:,} rows, {len(plan.upload.keys)} property column(s)"
             + (f" ({', '.join(plan.upload.keys[:8])}{' …' if len(plan.upload.keys) > 8 else ''})"
                if plan.upload.keys else "")]
    lines.append(f"  matched, to update:        {c['matched']:,}")
    lines.append(f"  matched, already so:       {c['already']:,}")
    if plan.creates:
        lines.append(f"  new, {verb} be created:     {len(plan.new):,}")
    else:
        lines.append(f"  new, not created ({plan.choice.value}): {len(plan.new):,}")
    for name, label in (("refused", "refused"), ("ambiguous", "ambiguous (one email, several end users)"),
                        ("suppressed", "suppressed (erased earlier)"), ("unreadable", "not an email"),
                        ("invalid", "invalid values"), ("duplicates", "duplicates (counted once)"),
                        ("blank", "blank email")):
        if c.get(name):
            lines.append(f"  {label}: {c[name]:,}")
    for warning in plan.warnings[:WARNINGS_SHOWN]:
        lines.append(f"warning: {warning.words()}")
    if len(plan.warnings) > WARNINGS_SHOWN:
        lines.append(f"warning: … and {len(plan.warnings) - WARNINGS_SHOWN:,} more case-only differences")
    for row in plan.invalid[:10]:
        lines.append(f"invalid: line {row.line} {row.email}: {row.message}")
    for person in plan.report.refused[:10]:
        lines.append(f"refused: {person.identifier}: {person.reason}")
    for amb in plan.report.ambiguous[:10]:
        lines.append(f"ambiguous: {amb.identifier} is on end users "
                     + ", ".join(str(p.id) for p in amb.end_users))
    for listed in plan.report.suppressed[:10]:
        lines.append(f"suppressed: {listed.identifier}: erased earlier; not imported")
    return lines


def not_created(plan: ImportPlan) -> list[ListedIdentifier]:
    """The rows an import without NewPeople.CREATE leaves out (for a report's export)."""
    return list(plan.report.not_in_cache) if not plan.creates else []
