"""The field catalogue (`desktop_app.fields`) is where the table, the export, the filter language,
the sort and the command line all take the seed's fields from, and `is_date_property` is the one
answer every reader gives to "is this property a date"."""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

import pytest

from desktop_app.cache.filters.language import FIELD_NAMES, Between, CalendarSpan, SeedField, describe_syntax, parse_filter
from desktop_app.cache.reading.query import EndUserQuery, SortSpec
from desktop_app.cli import build_parser
from desktop_app.cli.verbs import _sort
from desktop_app.export import BASE_COLUMNS, ExportOptions, TimestampFormat, export_csv
from desktop_app.export.columns import validate_column_ids
from desktop_app.fields import FIELDS, MARKERS, SURVEYS, FieldKind, filter_fields, is_date_property
from desktop_app.ui.columns import BUILTIN_COLUMNS, ColumnKind, format_property
from desktop_app.ui.property_editors import value_as_text

sys.path.insert(0, str(Path(__file__).parent / "export"))
from nasty_end_users import SeedUser, make_cache

_TABLE = {spec.key: spec for spec in BUILTIN_COLUMNS}


def _verb_help(verb: str) -> str:
    parser = build_parser()
    verbs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return " ".join(verbs.choices[verb].format_help().split())


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.key)
def test_every_field_sorts_in_the_table_the_query_and_the_cli(field) -> None:
    assert field.sorts and SortSpec(field.key).column == field.key
    assert _sort(argparse.Namespace(sort=field.key, desc=False)).column == field.key
    if field.short:
        assert SortSpec(field.short).column == field.key
    for verb in ("list", "export"):
        assert field.key in _verb_help(verb).split("--sort", 1)[1]
    spec = _TABLE[field.table]
    if field.table == field.key:  # its own column: titled and sorted by the catalogue
        assert spec.kind is ColumnKind.FIELD and spec.field == field
        assert spec.title() == field.title and spec.sort_column == field.key
    elif field.table == SURVEYS:
        assert spec.sort_column in {f.key for f in FIELDS if f.table == SURVEYS}
    else:
        assert field.table == MARKERS and spec.sort_column is None


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.key)
def test_every_field_exports_with_the_catalogue_title_and_kind(field) -> None:
    assert field.exports
    column = next(c for c in BASE_COLUMNS if c.id == field.key)
    assert (column.label, column.kind, column.attr) == (field.title, field.kind, field.key)
    validate_column_ids([field.key])
    assert field.key in _verb_help("export").split("--columns", 1)[1]


def test_the_table_shows_every_field_and_nothing_else() -> None:
    assert {spec.key for spec in BUILTIN_COLUMNS} == {f.table for f in FIELDS}
    assert len(BASE_COLUMNS) == len(FIELDS)


def test_titles_agree_where_the_table_and_the_export_both_show_a_field() -> None:
    for spec in BUILTIN_COLUMNS:
        if spec.field is not None:
            assert spec.title() == next(c.label for c in BASE_COLUMNS if c.id == spec.key)


@pytest.mark.parametrize("field", filter_fields(), ids=lambda f: f.key)
def test_every_filter_field_is_named_in_the_help_and_parses_to_its_column(field) -> None:
    assert field.kind in (FieldKind.TEXT, FieldKind.INTEGER, FieldKind.DATE)
    help_words = describe_syntax().replace(",", " ").split()
    assert field.filter_name in help_words
    for name in filter(None, (field.key, field.short)):
        assert name in FIELD_NAMES
        assert parse_filter(f"has:{name}").target == SeedField(field.key, field.kind)


KEYS = ["signup_date", "renewed_at", "Signup_DATE", "LAST_LOGIN_AT", "plan", "seats_count", "format", "date"]
UNIX = 1_714_564_800  # 2024-05-01T12:00:00Z


def test_is_date_property_has_one_answer_in_the_table_editor_filter_and_export(tmp_path: Path) -> None:
    engine = make_cache(tmp_path / "cache.sqlite3", [SeedUser(1, "a@example.org", properties=dict.fromkeys(KEYS, UNIX))])
    try:
        out = io.StringIO()
        options = ExportOptions(columns=[f"prop:{key}" for key in KEYS], timestamps=TimestampFormat.ISO)
        export_csv(EndUserQuery(engine), "", out, options)
    finally:
        engine.dispose()
    exported = next(csv.DictReader(io.StringIO(out.getvalue())))
    answers = {}
    for key in KEYS:
        node = parse_filter(f"{key}:2024")
        readers = {
            "table": format_property(key, UNIX) == "2024-05-01",
            "editor": value_as_text(key, UNIX) == "2024-05-01",
            "filter": isinstance(node, Between) and node.low == CalendarSpan(2024),
            "export": exported[f"prop:{key}"] == "2024-05-01T12:00:00Z",
        }
        assert set(readers.values()) == {is_date_property(key)}, (key, readers)
        answers[key] = is_date_property(key)
    assert [k for k, dated in answers.items() if dated] == ["signup_date", "renewed_at", "Signup_DATE", "LAST_LOGIN_AT"]
