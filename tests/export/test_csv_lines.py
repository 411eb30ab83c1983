"""Lines built a column at a time (`csv_lines`) are the bytes csv.writer writes, cell for cell."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop_app.cache.reading.query import EndUserQuery, SortSpec
from desktop_app.export import ExportOptions, csv_lines, export_csv
from nasty_end_users import NASTY_USERS, SeedUser


def writer_text(rows: Sequence[Sequence[object]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerows(rows)
    return out.getvalue()


# What renderers hand on: text (quotes, commas, line ends, NUL, spaces, non-ASCII), None,
# ints of any size, floats (the writer uses repr), and the odd bool.
cells = st.one_of(
    st.text(alphabet=st.sampled_from(list('ab ,"\r\n\x00\té=-+@;\'') + ["ü", "字", "\u2028"]),
            max_size=8),
    st.none(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)


@settings(max_examples=400, deadline=None)
@given(width=st.integers(2, 6), data=st.data())
def test_batch_text_is_what_the_writer_writes(width: int, data: st.DataObject) -> None:
    rows = data.draw(st.lists(st.lists(cells, min_size=width, max_size=width), max_size=12))
    columns = [list(column) for column in zip(*rows)] or [[] for _ in range(width)]
    assert csv_lines.batch_text(columns) == writer_text(rows)


def test_rows_the_writer_writes_its_own_way_stay_with_it() -> None:
    assert writer_text([[""]]) == '""\r\n' and writer_text([[]]) == "\r\n"
    assert not csv_lines.fits(0) and not csv_lines.fits(1) and csv_lines.fits(2)


def _export(query: EndUserQuery, **options: Any) -> bytes:
    out = io.BytesIO()
    export_csv(query, "", out, ExportOptions(**options))
    return out.getvalue()


@pytest.mark.parametrize("timestamps", ["iso", "unix"])
@pytest.mark.parametrize("on", [True, False])
@pytest.mark.parametrize("columns", [None, ["id", "email", "prop:plan", "prop:note"],
                                     ["email", "created_at", "disabled_by", "surveys_disabled"]])
def test_an_export_writes_the_same_bytes_either_way(
    cache_factory: Callable[..., EndUserQuery], monkeypatch: pytest.MonkeyPatch,
    timestamps: str, on: bool, columns: list[str] | None,
) -> None:
    users = [*NASTY_USERS, *(SeedUser(100 + i, f"more{i}@example.com", properties={"plan": "x,y"})
                             for i in range(1_200))]  # several batches
    query = cache_factory(users)
    options = dict(columns=columns, timestamps=timestamps, neutralize_formulas=on, bom=True,
                   sort=SortSpec("email"))
    fast = _export(query, **options)
    monkeypatch.setattr(csv_lines, "fits", lambda width: False)
    assert fast == _export(query, **options)
    assert fast.count(b"\r\n") >= len(users) + 1
