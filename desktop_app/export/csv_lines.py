"""CSV text of a batch of rendered cells, built column by column: the bytes `csv.writer` writes
(QUOTE_MINIMAL, `,` and `\\r\\n`) without the writer's walk through every character of every cell.

Profiled at a million rows of ten columns, `writerows` was the export's largest Python cost
(more than rendering the cells). Here a column is checked for the characters that need quoting
in one search over its joined text, usually finding none, and rows are joined with `str.join`.
Two row shapes the writer treats specially are left to it (see `fits`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

LINE_END = "\r\n"


def fits(width: int) -> bool:
    """Whether rows of `width` cells can be built here.

    csv.writer writes a row of no cells as an empty line and a lone empty cell as `""`, so a
    one-column export could differ; those stay with the writer.
    """
    return width >= 2


def column_text(cells: Sequence[object]) -> Sequence[str]:
    """One column's cells as the text csv.writer writes for each: None empty, numbers by str()
    (repr for floats, which is the same), quoted where a special character needs it."""
    try:
        texts = cast("Sequence[str]", cells)  # the common case; join says TypeError if not
        joined = "\x00".join(texts)
    except TypeError:
        texts = ["" if c is None else c if type(c) is str else str(c) for c in cells]
        joined = "\x00".join(texts)
    # what makes csv.writer quote a cell here: the delimiter, the quote, the line end's characters
    if "," in joined or '"' in joined or "\r" in joined or "\n" in joined:
        return [
            '"' + t.replace('"', '""') + '"' if "," in t or '"' in t or "\r" in t or "\n" in t else t
            for t in texts
        ]
    return texts


def batch_text(columns: Sequence[Sequence[object]]) -> str:
    """Rows (given as their columns, of equal length; `fits(len(columns))`) as CSV lines."""
    lines = map(",".join, zip(*map(column_text, columns)))
    text = LINE_END.join(lines)
    return text + LINE_END if text else text
