"""The streaming CSV export of the filtered end users (or a selection), offline, from the cache."""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO

from desktop_app.cache.filters import MatchAll, parse_filter
from desktop_app.export.cells import IsoTimestamps, column_renderer
from desktop_app.export.columns import ExportColumn, ExportOptions, resolve_columns, sorted_keys
from desktop_app.export.destination import ExportTarget, describe_os_error, open_target

if TYPE_CHECKING:
    from desktop_app.cache.query import EndUserQuery, SortSpec

log = logging.getLogger(__name__)

BATCH_SIZE = 2000  # rows per query batch: the unit of memory, progress and cancel checks
BOM = "\ufeff"

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]
Destination = Path | str | os.PathLike[str] | BinaryIO | TextIO


class ExportCancelled(Exception):
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
    cancelled: Cancelled | None = None,
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
    cancelled: Cancelled | None = None,
) -> list[str]:
    """The union of property keys over the rows an export would write (the first pass).

    With no filter and no selection that is every key in the cache: one SQL statement. Any
    other result is read once through the query, batch by batch (flat memory, cancellable).
    """
    if ids is not None and not ids:
        return []
    if ids is None and isinstance(parse_filter(filter_text), MatchAll):
        keys_in_cache = query.property_keys(exhaustive=True)
        _check(cancelled)
        return sorted_keys(keys_in_cache)
    keys: set[str] = set()
    batches = query.iter_rows(filter_text, sort, batch_size=BATCH_SIZE, ids=ids)
    try:
        for batch in batches:
            _check(cancelled)
            for row in batch:
                keys.update(row.properties)
    finally:
        _close(batches)
    return sorted_keys(keys)


def _write_rows(
    target: ExportTarget,
    query: EndUserQuery,
    filter_text: str,
    selection: Sequence[int] | None,
    columns: Sequence[ExportColumn],
    options: ExportOptions,
    total: int,
    progress: Progress | None,
    cancelled: Cancelled | None,
) -> int:
    sink = _ChunkSink()
    writer = csv.writer(sink, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    iso = IsoTimestamps()
    renderers = [
        column_renderer(column, options.timestamps, options.neutralize_formulas, iso)
        for column in columns
    ]
    writer.writerow([column.id for column in columns])
    target.write((BOM if options.bom else "") + sink.drain())
    done = 0
    if progress is not None:
        progress(0, total)
    if selection is not None and not selection:
        return 0
    batches = query.iter_rows(filter_text, options.sort, batch_size=BATCH_SIZE, ids=selection)
    try:
        for batch in batches:
            _check(cancelled)
            # Column-wise rendering, then one transpose: see cells.column_renderer for why.
            writer.writerows(zip(*[render(batch) for render in renderers]))
            target.write(sink.drain())
            done += len(batch)
            if progress is not None:
                progress(done, max(total, done))  # a sync may add rows while we export
    finally:
        _close(batches)  # a cancelled export must not keep a read transaction open
    return done


def _check(cancelled: Cancelled | None) -> None:
    if cancelled is not None and cancelled():
        raise ExportCancelled("export cancelled")


def _close(batches: object) -> None:
    close = getattr(batches, "close", None)
    if close is not None:
        close()
