"""The streaming CSV export of the filtered end users (or a selection), offline, from the cache."""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from desktop_app.cache.filters.language import MatchAll, parse_filter
from desktop_app.cancellation import Cancelled
from desktop_app.cache.reading.query import (
    SortSpec,
    properties_from_json,
    property_token_key,
)
from desktop_app.export import csv_lines
from desktop_app.export.cells import (
    ColumnCells,
    IsoTimestamps,
    base_cells,
    date_property_cells,
    document_cells,
    token_cells,
)
from desktop_app.export.columns import (
    ExportColumn,
    ExportOptions,
    TimestampFormat,
    resolve_columns,
    sorted_keys,
)
from desktop_app.export.destination import ExportTarget, describe_os_error, open_target
from desktop_app.fields import PROPERTY_PREFIX, FieldKind, is_date_property

if TYPE_CHECKING:
    from desktop_app.cache.reading.query import EndUserQuery

log = logging.getLogger(__name__)

# Rows per query batch: the unit of memory, progress and cancel checks. Small enough that a
# batch's values stay in the CPU's cache from reading to writing: profiled at a million rows,
# turning batches into columns and back took 0.15 s at 500 rows and 1 s at 2,000.
BATCH_SIZE = 500
# Up to this many property columns are taken out of properties_json by SQLite, one JSON path
# each; with more, decoding each document once in Python costs less (see _RowLayout). Measured
# on the benchmark's six-key documents (CPU time, interleaved runs): SQLite took 0.6x the time
# of Python for one column, 0.9x for two, about the same for three or four, 1.6x for six.
SQL_PROPERTY_COLUMNS_MAX = 3
BOM = "\ufeff"

Progress = Callable[[int, int], None]
CancelCheck = Callable[[], bool]  # true once the person cancelled
Destination = Path | str | os.PathLike[str] | BinaryIO | TextIO


class ExportCancelled(Cancelled):
    """The person cancelled; nothing was left behind at the destination path."""


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What an export wrote: data rows (header excluded), header cells, and the file if any."""

    rows: int
    columns: tuple[str, ...]
    path: Path | None


class _ChunkSink:
    """What csv.writer writes into: a list we join and hand to the target once per batch."""

    __slots__ = ("parts", "write")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.write = self.parts.append

    def drain(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


def export_csv(
    query: EndUserQuery,
    filter_text: str,
    destination: Destination,
    options: ExportOptions | None = None,
    *,
    ids: Sequence[int] | None = None,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> ExportResult:
    """Write the end users the filter shows (or exactly `ids`, the selection) as CSV.

    Rows come in the view's order (`filter_text` and `options.sort`). With `ids`, exactly
    those end users are exported (in the view's order too; any the filter no longer shows,
    after an edit, come last). `progress(done, total)` and `cancelled()` are called between
    batches from the calling thread. A path destination is written to a temp file and
    renamed into place only when complete; a cancel (ExportCancelled) or failure
    (ExportError, in plain words) removes the temp file and leaves an existing file untouched.
    """
    options = options or ExportOptions()
    _check(cancelled)
    selection = None
    if ids is not None:
        selection = in_view_order(query, filter_text, options.sort, ids)
    text = "" if selection is not None else filter_text
    keys: Sequence[str] = ()
    if options.needs_property_scan:
        keys = result_property_keys(query, text, options.sort, selection, cancelled)
    columns = resolve_columns(options.column_ids, keys)
    total = len(selection) if selection is not None else query.count(text)
    target = open_target(destination)
    try:
        rows = _write_rows(target, query, text, selection, columns, options, total, progress,
                           cancelled)
        target.commit()
    except OSError as exc:
        target.discard()
        raise describe_os_error(exc, target.path) from exc
    except BaseException:
        target.discard()
        raise
    log.info("exported %d end users in %d columns", rows, len(columns))
    return ExportResult(rows, tuple(column.id for column in columns), target.path)


def in_view_order(query: EndUserQuery, filter_text: str, sort: SortSpec, ids: Sequence[int]) -> list[int]:
    """`ids` without repeats, ordered as the view shows them; ids the view lacks go last.

    A table's selection comes in click order; the export promises the view's order.
    """
    unique = list(dict.fromkeys(ids))
    if len(unique) < 2:
        return unique
    wanted = set(unique)
    ordered = [i for i in query.ids(filter_text, sort) if i in wanted]
    shown = set(ordered)
    return ordered + [i for i in unique if i not in shown]


def result_property_keys(
    query: EndUserQuery,
    filter_text: str,
    sort: SortSpec,
    ids: Sequence[int] | None = None,
    cancelled: CancelCheck | None = None,
) -> list[str]:
    """The union of property keys over the rows an export would write (the first pass).

    With no filter and no selection that is every key in the cache: one SQL statement. Any
    other result is read once through the query, batch by batch (flat memory, cancellable),
    in id order whatever `sort` says: the keys do not depend on the order, and id order is
    the cheapest read.
    """
    if ids is not None and not ids:
        return []
    if ids is None and isinstance(parse_filter(filter_text), MatchAll):
        keys_in_cache = query.property_keys(exhaustive=True)
        _check(cancelled)
        return sorted_keys(keys_in_cache)
    keys: set[str] = set()
    batches = query.iter_tuples(filter_text, SortSpec("id"), ("properties_json",), BATCH_SIZE, ids=ids)
    try:
        for batch in batches:
            _check(cancelled)
            for (text,) in batch:
                if text != "{}":
                    keys.update(properties_from_json(text))
    finally:
        _close(batches)
    return sorted_keys(keys)


class _RowLayout:
    """Which stored values an export reads (`iter_tuples` columns) and how a batch of them
    becomes rows of cells.

    Each export column renders from one read column, a whole batch column at a time (see
    `cells.base_cells`). Property columns are read as JSON texts SQLite takes out of
    `properties_json` (`token_cells`), so no document is decoded in Python; a key SQLite
    cannot address, or more than SQL_PROPERTY_COLUMNS_MAX property columns, read the document
    instead and decode it once per row (`document_cells`).
    """

    def __init__(self, columns: Sequence[ExportColumn], options: ExportOptions, iso: IsoTimestamps) -> None:
        on = options.neutralize_formulas
        dates_as_iso = options.timestamps is TimestampFormat.ISO
        keys = [column.key for column in columns if column.kind is FieldKind.PROPERTY]
        in_sql = len(keys) <= SQL_PROPERTY_COLUMNS_MAX and all(map(property_token_key, keys))
        read: list[str] = []
        documents = -1  # stands for the decoded documents, appended after the read columns

        def source(name: str) -> int:
            if name not in read:
                read.append(name)
            return read.index(name)

        plan: list[tuple[int, ColumnCells | None]] = []
        for column in columns:
            if column.kind is not FieldKind.PROPERTY:
                plan.append((source(column.attr), base_cells(column, options.timestamps, on, iso)))
            else:
                if in_sql:
                    read_from, cells = source(PROPERTY_PREFIX + column.key), token_cells(on)
                else:
                    read_from, cells = documents, document_cells(column.key, on)
                if dates_as_iso and is_date_property(column.key):
                    cells = date_property_cells(cells, iso)
                plan.append((read_from, cells))
        self.documents = source("properties_json") if keys and not in_sql else None
        if not read:  # `prop:*` alone and no end user has a property: rows with no cells
            read.append("id")
        self.read = tuple(read)
        self.plan = [(len(read) if index == documents else index, cells) for index, cells in plan]
        self.unchanged = all(cells is None for _, cells in plan) and [i for i, _ in plan] == list(range(len(read)))

    def rows(self, batch: list[tuple[Any, ...]]) -> Iterable[Sequence[Any]]:
        """The cells of a batch, row by row (what csv.writer.writerows takes)."""
        if self.unchanged:
            return batch
        return zip(*self.columns(batch))

    def columns(self, batch: list[tuple[Any, ...]]) -> list[Sequence[Any]]:
        """The cells of a batch, column by column (what csv_lines.batch_text takes)."""
        values: list[Sequence[Any]] = list(zip(*batch))
        if self.documents is not None:
            values.append([properties_from_json(text) for text in values[self.documents]])
        # Column-wise rendering: see cells.base_cells for why.
        return [values[index] if cells is None else cells(values[index]) for index, cells in self.plan]


def _write_rows(
    target: ExportTarget,
    query: EndUserQuery,
    filter_text: str,
    selection: Sequence[int] | None,
    columns: Sequence[ExportColumn],
    options: ExportOptions,
    total: int,
    progress: Progress | None,
    cancelled: CancelCheck | None,
) -> int:
    sink = _ChunkSink()
    writer = csv.writer(sink, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    layout = _RowLayout(columns, options, IsoTimestamps())
    writer.writerow([column.id for column in columns])
    target.write((BOM if options.bom else "") + sink.drain())
    done = 0
    if progress is not None:
        progress(0, total)
    if selection is not None and not selection:
        return 0
    batches = query.iter_tuples(filter_text, options.sort, layout.read, BATCH_SIZE, ids=selection)
    try:
        by_columns = csv_lines.fits(len(layout.plan))
        for batch in batches:
            _check(cancelled)
            if by_columns:  # the writer's bytes, built a column at a time (see csv_lines)
                target.write(csv_lines.batch_text(layout.columns(batch)))
            else:
                writer.writerows(layout.rows(batch))
                target.write(sink.drain())
            done += len(batch)
            if progress is not None:
                progress(done, max(total, done))  # a sync may add rows while we export
    finally:
        _close(batches)  # a cancelled export must not keep a read transaction open
    return done


def _check(cancelled: CancelCheck | None) -> None:
    if cancelled is not None and cancelled():
        raise ExportCancelled("export cancelled")


def _close(batches: object) -> None:
    close = getattr(batches, "close", None)
    if close is not None:
        close()
