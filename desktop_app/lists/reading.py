"""Reading a list of people: a CSV/TSV file or pasted text, into rows and one identifier column.

Survey-ops lists arrive as files from any spreadsheet or as text pasted from an email. This
module turns either into a `ListTable` (every row kept, other columns too: a later step reads
per-row values such as `email,plan,seats_amount`), guesses which column identifies people and
says why, and normalises that column into a de-duplicated identifier list with the problems of
each refused row kept for the match report. Qt-free, network-free, and it writes nothing.

Choices, so the report can say them:
- Encoding: a BOM decides (UTF-8, UTF-16 LE/BE: Excel's "Unicode Text" and LibreOffice's UTF-16);
  UTF-16 without a BOM is recognised by its zero bytes; anything else must be UTF-8, and a file
  that is not is refused naming the first line that is not (no guessing of legacy code pages:
  a wrong guess would silently mangle the addresses that must match).
- Delimiter: `csv.Sniffer` over , ; tab |, accepted only when it splits the sample into
  a steady number of columns; otherwise the candidate that does so best; none: one column.
- Header: the first row is one when a cell is named like an identifier ("E-mail", "external_id",
  "Wootric ID", …) or when a column holds addresses or numbers below it but not in it.
- Pasted text with tabs is a range copied from a spreadsheet (read as TSV); any other is a flat
  list split at line ends, commas and semicolons, blank items skipped.
- Identifiers: emails are trimmed and casefolded (so they match case-insensitively); external
  ids are trimmed; a Wootric id must be digits (leading zeros dropped). Each identifier counts
  once however often it appears; blank, not-an-email and not-a-number rows are kept as problems.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

from desktop_app.broken_text import is_broken_char
from desktop_app.user_errors import ErrorKind, UserFacingError

MAX_ROWS = 1_000_000
MAX_BYTES = 512 * 1024 * 1024  # a million rows of a dozen columns, in UTF-16, fits well under it
MAX_FIELD = 64 * 1024  # one cell; an unclosed quote otherwise swallows the rest of the file
CANDIDATE_DELIMITERS = ",;\t|"
_SNIFF_LINES = 200
# The service's own check of an email (desktop_app.emulator.service, wootric-api.md).
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
# Copy-paste leaves these around a value; str.strip() keeps the zero-width ones.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_EMAIL_NAMES = {"email", "emails", "mail", "emailaddress", "mailaddress"}
_EXTERNAL_NAMES = {"externalid", "extid", "customerid", "crmid", "accountid", "userid", "uid"}
_WOOTRIC_NAMES = {"id", "wootricid", "enduserid", "wootricenduserid", "wootricuserid"}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class ListReadError(UserFacingError):
    """The list could not be read; the message says where and what to do. Nothing was read."""

    title = "The list could not be read"
    headline = "cannot read the list"
    kind = ErrorKind.INPUT


class IdentifierKind(StrEnum):
    """What a list's identifying column holds."""

    EMAIL = "email"
    EXTERNAL_ID = "external_id"
    WOOTRIC_ID = "wootric_id"

    @property
    def words(self) -> str:
        return {"email": "email addresses", "external_id": "external ids",
                "wootric_id": "Wootric ids"}[self.value]


class RowProblemKind(StrEnum):
    """Why a row's identifier was refused (the match report lists these rows)."""

    BLANK = "blank"
    NOT_AN_EMAIL = "not an email"
    NOT_A_NUMBER = "not a number"


@dataclass(frozen=True, slots=True)
class ListTable:
    """A list as read: its rows of text cells and where each came from."""

    source: str  # the file's path, or "pasted text"
    encoding: str  # "utf-8", "utf-8-sig", "utf-16-le", "utf-16-be" or "text" (pasted)
    delimiter: str | None  # None: one column
    header: tuple[str, ...] | None  # the first row's names, when it was a header
    rows: tuple[tuple[str, ...], ...]  # the data rows, header excluded, cells as written
    lines: tuple[int, ...]  # the line each row starts on (1-based), for the report

    @property
    def width(self) -> int:
        widths = [len(row) for row in self.rows]
        return max([len(self.header or ()), *widths]) if widths or self.header else 0

    def column_name(self, index: int) -> str:
        """'column 2 "E-mail"', or 'column 2' without a header (the words of the report)."""
        name = self.header[index].strip() if self.header and index < len(self.header) else ""
        return f'column {index + 1} "{name}"' if name else f"column {index + 1}"

    def cell(self, row: int, column: int) -> str:
        cells = self.rows[row]
        return cells[column] if column < len(cells) else ""


class ColumnGuess(NamedTuple):
    """Which column identifies people, as what, and the words that say why."""

    column: int
    kind: IdentifierKind
    reason: str


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row whose identifier was refused."""

    line: int
    value: str
    problem: RowProblemKind


@dataclass(frozen=True, slots=True)
class IdentifierList:
    """A list's identifiers, normalised and each once, with the rows that carry them."""

    kind: IdentifierKind
    column: int
    identifiers: tuple[str, ...]  # normalised, in the order first seen
    rows_of: dict[str, tuple[int, ...]] = field(repr=False)  # identifier -> row indexes
    problems: tuple[RowProblem, ...]
    duplicate_rows: int  # rows whose identifier an earlier row already had

    @property
    def rows_read(self) -> int:
        return sum(len(rows) for rows in self.rows_of.values()) + len(self.problems)


# -- decoding ------------------------------------------------------------------------------


def _line_of(data: bytes, position: int, encoding: str) -> int:
    return data[:position].decode(encoding, errors="replace").count("\n") + 1


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 by its zero bytes (ASCII-heavy text has one in every other byte)."""
    sample = data[:4096]
    if len(sample) < 4 or len(sample) % 2:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd > 0.4 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.4 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def decode_list_bytes(data: bytes, source: str) -> tuple[str, str]:
    """The text of a list file and the encoding it was read in; ListReadError when not text."""
    if data.startswith(b"PK\x03\x04"):
        raise ListReadError(f"{source} is a spreadsheet workbook (.xlsx or .ods), not a text "
                            "file: save it as CSV (UTF-8) and open that")
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), None)
    encoding = encoding or _utf16_without_bom(data) or "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start, encoding)
        if encoding.startswith("utf-16"):
            raise ListReadError(f"{source}, line {line}: the file is cut off or damaged "
                                "(not valid UTF-16 text)") from None
        raise ListReadError(
            f"{source}, line {line}: not UTF-8 text (byte 0x{data[exc.start]:02X}). Save the "
            'file as "CSV UTF-8" (or Unicode/UTF-16 text) and open it again') from None
    if encoding.startswith("utf-16") and text.startswith("\ufeff"):
        text = text[1:]  # the BOM decoded as a character
    nul = text.find("\x00")
    if nul >= 0:
        raise ListReadError(f"{source}, line {text.count(chr(10), 0, nul) + 1}: holds a zero "
                            "byte: not a text file")
    return text, encoding


# -- splitting into rows -------------------------------------------------------------------


def _records(text: str, delimiter: str, source: str) -> Iterator[tuple[int, list[str]]]:
    """(starting line, cells) of each non-empty record; csv keeps quoted delimiters and line
    breaks inside a field."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"',
                        doublequote=True, strict=False)
    start = 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if any(len(cell) > MAX_FIELD for cell in cells):
                raise ListReadError(f"{source}, line {line}: a cell is longer than "
                                    f"{MAX_FIELD:,} characters (a quote that never closes?)")
            if cells and any(cell.strip() for cell in cells):
                yield line, cells
    except csv.Error as exc:
        raise ListReadError(f"{source}, line {start}: {exc}") from None


def _steadiness(text: str, delimiter: str) -> tuple[float, int]:
    """How steadily `delimiter` splits the first lines: (share of rows with the usual number
    of columns, that number); 0 when it splits nothing."""
    sample = list(_sample_records(text, delimiter))
    if not sample:
        return 0.0, 1
    widths = [len(cells) for cells in sample]
    usual = max(set(widths), key=lambda w: (widths.count(w), w))
    if usual < 2:
        return 0.0, 1
    return widths.count(usual) / len(widths), usual


def _sample_records(text: str, delimiter: str) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        for number, cells in enumerate(reader):
            if number >= _SNIFF_LINES:
                return
            if any(cell.strip() for cell in cells):
                yield cells
    except csv.Error:
        return


def sniff_delimiter(text: str) -> str | None:
    """The delimiter of a list's text, or None for a single column."""
    head = "\n".join(text[:65536].splitlines()[:_SNIFF_LINES])
    try:
        sniffed: str | None = csv.Sniffer().sniff(head, delimiters=CANDIDATE_DELIMITERS).delimiter
    except csv.Error:
        sniffed = None
    if sniffed is not None and _steadiness(head, sniffed)[0] >= 0.9:
        return sniffed
    scored = [(_steadiness(head, d), -CANDIDATE_DELIMITERS.index(d), d) for d in CANDIDATE_DELIMITERS]
    (share, _width), _order, best = max(scored)
    return best if share >= 0.5 else None


# -- the header ----------------------------------------------------------------------------


def _name_tokens(cell: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", cell)  # externalId -> external Id
    return [t for t in re.split(r"[^0-9a-z]+", spaced.casefold()) if t]


def _name_kind(cell: str) -> IdentifierKind | None:
    """What a header cell names, if it names an identifier ("E-mail", "external_id", "ID")."""
    if "@" in cell or any(ch.isdigit() for ch in cell):
        return None
    tokens = _name_tokens(cell)
    key = "".join(tokens)
    if key in _EMAIL_NAMES or "email" in key or "mail" in tokens:
        return IdentifierKind.EMAIL
    if key in _WOOTRIC_NAMES or "wootric" in tokens:
        return IdentifierKind.WOOTRIC_ID
    if key in _EXTERNAL_NAMES or "external" in tokens or (tokens and tokens[-1] in ("id", "ids")):
        return IdentifierKind.EXTERNAL_ID  # "CRM ID", "customer_id", "externalId"
    return None


def _shape(cell: str) -> str:
    value = clean(cell)
    if not value:
        return "blank"
    if _EMAIL.match(value):
        return "email"
    return "number" if value.isascii() and value.isdigit() else "text"


def _is_header(first: Sequence[str], rest: Sequence[Sequence[str]]) -> bool:
    """Named like an identifier, or a column of addresses (numbers) whose first cell holds no
    @ (is not a number)."""
    if any(_name_kind(cell) is not None for cell in first):
        return True
    below = rest[:_SNIFF_LINES]
    for column, cell in enumerate(first):
        shapes = [_shape(row[column]) for row in below if column < len(row)]
        filled = [s for s in shapes if s != "blank"]
        if not filled or not clean(cell):
            continue
        if "@" not in cell and filled.count("email") >= 0.5 * len(filled):
            return True
        if _shape(cell) == "text" and filled.count("number") >= 0.9 * len(filled):
            return True
    return False


def _table(records: list[tuple[int, list[str]]], source: str, encoding: str,
           delimiter: str | None) -> ListTable:
    if not records:
        raise ListReadError(f"{source} holds no rows: nothing to match")
    header: tuple[str, ...] | None = None
    first = records[0][1]
    if _is_header(first, [cells for _, cells in records[1:]]):
        header = tuple(cell.strip() for cell in first)
        records = records[1:]
        if not records:
            raise ListReadError(f"{source} holds only a header row: nothing to match")
    if len(records) > MAX_ROWS:
        raise _too_long(source)
    return ListTable(source, encoding, delimiter, header,
                     tuple(tuple(cells) for _, cells in records),
                     tuple(line for line, _ in records))


def _collect(rows: Iterator[tuple[int, list[str]]], source: str) -> list[tuple[int, list[str]]]:
    records: list[tuple[int, list[str]]] = []
    for record in rows:
        records.append(record)
        if len(records) > MAX_ROWS + 1:  # + 1: the header row does not count
            raise _too_long(source)
    return records


def _too_long(source: str) -> ListReadError:
    return ListReadError(f"{source} has more than {MAX_ROWS:,} rows; a list holds at most "
                         f"{MAX_ROWS:,}: split it into smaller files")


def _refuse_broken(text: str, source: str) -> None:
    for index, ch in enumerate(text):
        if is_broken_char(ch):
            line = text.count("\n", 0, index) + 1
            raise ListReadError(f"{source}, line {line}: holds a broken character (half of a "
                                "pair): copy the text again")


def read_list_text(text: str, source: str, encoding: str, delimiter: str | None = None) -> ListTable:
    """A table from a file's decoded text (the delimiter sniffed unless given, header detected)."""
    delimiter = delimiter or sniff_delimiter(text)
    # a single column still goes through csv (quoted cells), with a delimiter it cannot meet
    rows = _records(text, delimiter or "\x1f", source)
    return _table(_collect(rows, source), source, encoding, delimiter)


def read_list_file(path: Path | str) -> ListTable:
    """Read a CSV/TSV list file; ListReadError with plain words when it cannot be."""
    path = Path(path)
    source = path.name
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ListReadError(f"{source} is {size / 2**20:,.0f} MB; a list file may be at "
                                f"most {MAX_BYTES // 2**20:,} MB: split it into smaller files")
        data = path.read_bytes()
    except IsADirectoryError:
        raise ListReadError(f"{source} is a folder, not a list file") from None
    except FileNotFoundError:
        raise ListReadError(f"{path} does not exist") from None
    except PermissionError:
        raise ListReadError(f"{source} cannot be read: permission denied") from None
    except OSError as exc:
        raise ListReadError(f"{source} cannot be read: {exc.strerror or exc}") from None
    text, encoding = decode_list_bytes(data, source)
    return read_list_text(text, source, encoding)


def read_pasted(text: str) -> ListTable:
    """Text pasted into the window: a spreadsheet range (tabs) or a list at line ends, commas
    and semicolons."""
    source = "the pasted text"
    _refuse_broken(text, source)
    if "\x00" in text:
        raise ListReadError(f"{source} holds a zero character: not text")
    if "\t" in text:  # a spreadsheet's copy is tab-separated, whatever else its cells hold
        return read_list_text(text, source, "text", "\t")
    items: list[tuple[int, list[str]]] = []
    for number, line in enumerate(text.splitlines(), 1):
        for item in re.split(r"[,;]", line):
            if clean(item):
                items.append((number, [item]))
                if len(items) > MAX_ROWS + 1:
                    raise _too_long(source)
    return _table(items, source, "text", None)


# -- identifiers ---------------------------------------------------------------------------


def clean(value: str) -> str:
    """A cell without the spaces and invisible characters that copying leaves around it."""
    return value.strip().strip(_INVISIBLE).strip()


def normalise_identifier(kind: IdentifierKind, value: str) -> str | RowProblemKind:
    """The identifier as matched (emails casefolded, Wootric ids as plain digits), or why not."""
    text = clean(value)
    if not text:
        return RowProblemKind.BLANK
    if kind is IdentifierKind.EMAIL:
        return text.casefold() if _EMAIL.match(text) else RowProblemKind.NOT_AN_EMAIL
    if kind is IdentifierKind.WOOTRIC_ID:
        return str(int(text)) if text.isascii() and text.isdigit() else RowProblemKind.NOT_A_NUMBER
    return text


def _counts(table: ListTable, column: int) -> tuple[int, int, int]:
    """(filled, emails, numbers) among the column's cells."""
    filled = emails = numbers = 0
    for row in table.rows:
        shape = _shape(row[column]) if column < len(row) else "blank"
        filled += shape != "blank"
        emails += shape == "email"
        numbers += shape == "number"
    return filled, emails, numbers


def guess_identifier_column(table: ListTable) -> ColumnGuess:
    """The column that most likely identifies people, as what, and why in words.

    Email addresses win (the column holding most, when at least half its filled cells are
    addresses); then a column named like an external id or a Wootric id; then a column of
    numbers, taken as external ids: a CRM's numbers read as Wootric ids would reach other
    people, while the other way round they only match nobody.
    """
    if not table.rows:
        raise ListReadError(f"{table.source} holds no rows: nothing to match")
    counts = [_counts(table, column) for column in range(table.width)]
    rows = len(table.rows)
    best_email = max(range(table.width), key=lambda c: (counts[c][1], -c))
    filled, emails, _ = counts[best_email]
    if emails and emails >= 0.5 * filled:
        return ColumnGuess(best_email, IdentifierKind.EMAIL,
                           f"{table.column_name(best_email)} holds addresses in {emails:,} of "
                           f"{rows:,} rows")
    for kind in (IdentifierKind.WOOTRIC_ID, IdentifierKind.EXTERNAL_ID):
        for column, name in enumerate(table.header or ()):
            if _name_kind(name) is kind and counts[column][0]:
                filled, _, numbers = counts[column]
                if kind is IdentifierKind.WOOTRIC_ID and numbers < 0.5 * filled:
                    continue  # named "id" but not numbers: someone else's ids
                return ColumnGuess(column, kind, f"{table.column_name(column)} is named like "
                                   f"{kind.words} and is filled in {filled:,} of {rows:,} rows")
    numeric = [c for c in range(table.width) if counts[c][2] and counts[c][2] >= 0.9 * counts[c][0]]
    if numeric:
        column = numeric[0]
        return ColumnGuess(column, IdentifierKind.EXTERNAL_ID,
                           f"{table.column_name(column)} holds numbers in {counts[column][2]:,} "
                           f"of {rows:,} rows and no column holds addresses: taken as external "
                           "ids (pick Wootric ids if they are)")
    column = max(range(table.width), key=lambda c: (counts[c][0], -c))
    return ColumnGuess(column, IdentifierKind.EXTERNAL_ID,
                       f"no column holds addresses; {table.column_name(column)} is filled in "
                       f"{counts[column][0]:,} of {rows:,} rows: taken as external ids")


def read_identifiers(table: ListTable, column: int, kind: IdentifierKind) -> IdentifierList:
    """The column's identifiers, normalised and de-duplicated, with each refused row."""
    if not 0 <= column < max(table.width, 1):
        raise ListReadError(f"{table.source} has no column {column + 1}")
    rows_of: dict[str, list[int]] = {}
    problems: list[RowProblem] = []
    duplicates = 0
    for index, row in enumerate(table.rows):
        raw = row[column] if column < len(row) else ""
        value = normalise_identifier(kind, raw)
        if isinstance(value, RowProblemKind):
            problems.append(RowProblem(table.lines[index], raw, value))
            continue
        seen = rows_of.get(value)
        if seen is None:
            rows_of[value] = [index]
        else:
            seen.append(index)
            duplicates += 1
    return IdentifierList(kind, column, tuple(rows_of),
                          {key: tuple(rows) for key, rows in rows_of.items()},
                          tuple(problems), duplicates)
