"""A list job as the window and `apply-list` run it: the column asked for, the rows handed to
the matcher, unreadable rows, the report's words."""

from __future__ import annotations

import pytest

from desktop_app.cache.store import Cache
from desktop_app.lists.identifiers import IdentifierKind
from desktop_app.lists.job import ListJob, default_list_name, pick_column, report_lines
from desktop_app.lists.reading import ListReadError, read_list_text
from desktop_app.lists.wanted import ActionKind, ListAction


def _table(text: str):
    return read_list_text(text, "list.csv", "utf-8")


def test_the_column_is_a_header_name_a_number_or_a_kind_and_a_wrong_one_names_the_choices() -> None:
    table = _table("Name;E-mail;Wootric ID\nAnn;ann@example.com;12\nBob;bob@example.com;13\n")
    assert pick_column(table, None).column == 1
    assert pick_column(table, "e-mail")[:2] == (1, IdentifierKind.EMAIL)
    assert pick_column(table, "3")[:2] == (2, IdentifierKind.WOOTRIC_ID)  # named so in its header
    assert pick_column(table, "email").column == 1
    with pytest.raises(ListReadError, match="has no column 4"):
        pick_column(table, "4")
    with pytest.raises(ListReadError, match="“Name”, “E-mail”, “Wootric ID”"):
        pick_column(table, "phone")


def test_a_cell_that_is_no_address_is_an_unreadable_row_with_its_line(crowd: Cache) -> None:
    table = _table("email\nuser9@example.com\ncall me back\n\nnobody@nowhere.example\n")
    report = ListJob(table, 0, IdentifierKind.EMAIL, ListAction(ActionKind.DISABLE_SURVEYS)).match(crowd)
    assert [m.id for m in report.matched] == [9]
    assert [(u.identifier, u.note) for u in report.unreadable] == [("call me back", "not an email")]
    assert [n.identifier for n in report.not_in_cache] == ["nobody@nowhere.example"]
    lines = report_lines(report, table)
    assert "Unreadable rows: 1" in lines and "    line 3: call me back (not an email)" in lines
    assert "    line 5: nobody@nowhere.example" in lines  # the blank line 4 is not a row


def test_per_row_values_need_a_header_and_the_named_column() -> None:
    with pytest.raises(ListReadError, match="no column named “crm_id”"):
        ListJob(_table("email,plan\na@example.com,pro\n"), 0, IdentifierKind.EMAIL,
                ListAction(ActionKind.SET_EXTERNAL_ID, "crm_id")).values()
    job = ListJob(_table("email,plan,seats_amount\na@example.com,pro,3\n"), 0, IdentifierKind.EMAIL,
                  ListAction(ActionKind.SET_COLUMNS))
    assert job.values() == [{"plan": "pro", "seats_amount": "3"}]
    assert default_list_name("/home/me/optouts.csv").startswith("optouts.csv 20")
