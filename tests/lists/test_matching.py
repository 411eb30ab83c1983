"""A list matched against a real cache file: every row in exactly one group, as crafted."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from desktop_app.cache.reading.list_match import MatchColumn, match_plan
from desktop_app.cache.records import EditRejected
from desktop_app.cache.store import Cache
from desktop_app.lists.identifiers import IdentifierKind, normalize_identifier
from desktop_app.lists.matching import OPTED_OUT, match_list
from desktop_app.lists.report_csv import ReportGroup, write_group_csv
from desktop_app.lists.wanted import ActionKind, ListAction

EMAIL = IdentifierKind.EMAIL


def test_identifiers_normalize_by_kind() -> None:
    assert normalize_identifier(EMAIL, "  Ann@Example.COM \t") == "ann@example.com"
    assert normalize_identifier(EMAIL, "STRAßE@x.io") == "strasse@x.io"
    assert normalize_identifier(IdentifierKind.EXTERNAL_ID, " Cus_8 ") == "Cus_8"  # exact, case kept
    assert normalize_identifier(IdentifierKind.WOOTRIC_ID, " 0042 ") == "42"
    for raw in ("", "   ", "12a", "-4", "١٢", "1" * 30):
        assert normalize_identifier(IdentifierKind.WOOTRIC_ID, raw) is None, raw
    assert normalize_identifier(EMAIL, " ") is None


def test_every_row_lands_in_one_group(crowd: Cache) -> None:
    rows = ["ann@example.com", "  ANN@EXAMPLE.COM ", "shared@EXAMPLE.com", "user4@example.com",
            "user5@example.com", "josé@example.com", "strasse@example.com", "nobody@example.com",
            "", "user9@example.com", "user9@example.com"]
    report = match_list(crowd, EMAIL, rows, ListAction(ActionKind.DISABLE_SURVEYS))
    assert [m.id for m in report.matched] == [1, 6, 7, 9]
    assert [(m.id, m.current, m.wanted) for m in report.matched][0] == (1, (("surveys", True),), (("surveys", False),))
    assert [m.id for m in report.already] == [4, 5]  # off already, by herself or by an admin
    [ambiguous] = report.ambiguous
    assert (ambiguous.row, sorted(p.id for p in ambiguous.end_users)) == (2, [2, 3])
    assert [(n.row, n.identifier) for n in report.not_in_cache] == [(7, "nobody@example.com")]
    assert [d.row for d in report.duplicates] == [1, 10]  # counted once, the first row kept
    assert report.blank == 1 and report.refused == () and report.rows == len(rows)
    assert report.member_ids == [1, 4, 5, 6, 7, 9]


def test_an_enable_list_refuses_who_opted_out_themselves(crowd: Cache) -> None:
    report = match_list(crowd, EMAIL, ["user4@example.com", "user5@example.com", "user10@example.com"],
                        ListAction(ActionKind.ENABLE_SURVEYS))
    assert [(m.id, m.reason) for m in report.refused] == [(4, OPTED_OUT)]
    assert [m.id for m in report.matched] == [5]
    assert [m.id for m in report.already] == [10]


def test_external_ids_and_wootric_ids_match_exactly(crowd: Cache) -> None:
    report = match_list(crowd, IdentifierKind.EXTERNAL_ID, ["cus_8", "CUS_8", " cus_8 "])
    assert [m.id for m in report.matched] == [8]
    assert [n.identifier for n in report.not_in_cache] == ["CUS_8"]
    assert len(report.duplicates) == 1
    report = match_list(crowd, IdentifierKind.WOOTRIC_ID, ["3", "0003", "99", "abc"],
                        ListAction(ActionKind.SET_PROPERTY, "plan", "pro"))
    assert [m.id for m in report.matched] == [3]
    assert [n.identifier for n in report.not_in_cache] == ["99"]
    assert [u.identifier for u in report.unreadable] == ["abc"]
    report = match_list(crowd, IdentifierKind.WOOTRIC_ID, ["8", "2"], ListAction(ActionKind.SET_PROPERTY, "plan", "pro"))
    assert [m.id for m in report.already] == [8] and [m.id for m in report.matched] == [2]


def test_suppressed_identifiers_are_held_back_before_matching(crowd: Cache) -> None:
    erased = {"user9@example.com"}
    report = match_list(crowd, EMAIL, ["User9@example.com", "user10@example.com"],
                        ListAction(ActionKind.ERASE), suppression=lambda kind, keys: erased & set(keys))
    assert [s.identifier for s in report.suppressed] == ["User9@example.com"]
    assert [m.id for m in report.matched] == [10]


def test_per_row_values_are_typed_by_suffix_and_bad_ones_refused(crowd: Cache) -> None:
    rows = [("user8@example.com", {"plan": "pro", "seats_amount": "8"}),
            ("user9@example.com", {"plan": "team", "seats_amount": "1,200"}),
            ("user10@example.com", {"plan": "", "seats_amount": "ten"})]
    report = match_list(crowd, EMAIL, [r[0] for r in rows], ListAction(ActionKind.SET_COLUMNS),
                        values=[r[1] for r in rows])
    assert [(m.id, m.wanted) for m in report.matched] == [
        (8, (("plan", "pro"), ("seats_amount", 8))), (9, (("plan", "team"), ("seats_amount", 1200)))]
    [refused] = report.refused
    assert refused.id == 10 and "seats_amount holds numbers" in refused.reason
    report = match_list(crowd, EMAIL, ["user8@example.com", "USER8@example.com", "user8@example.com "],
                        ListAction(ActionKind.SET_COLUMNS),
                        values=[{"plan": "team"}, {"plan": "pro"}, {"plan": "team"}])
    assert [(m.id, m.wanted) for m in report.matched] == [(8, (("plan", "team"),))]  # the first row's
    assert [(d.row, d.note) for d in report.duplicates] == [(1, "other values than row 1, whose are used"), (2, "")]
    with pytest.raises(EditRejected, match="other columns"):
        match_list(crowd, EMAIL, ["a@b.c"], ListAction(ActionKind.SET_COLUMNS))


def test_each_group_exports_to_csv(crowd: Cache, tmp_path: Path) -> None:
    report = match_list(crowd, EMAIL, ["user4@example.com", "user5@example.com", "shared@example.com",
                                       "=cmd@evil.com", "user9@example.com"], ListAction(ActionKind.ENABLE_SURVEYS))
    target = tmp_path / "refused.csv"
    assert write_group_csv(report, ReportGroup.REFUSED, target) == 1
    [header, row] = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert header == ["row", "identifier", "id", "email", "external_id", "surveys", "disabled_by",
                      "surveys now", "surveys wanted", "reason"]
    assert row[:3] == ["1", "user4@example.com", "4"] and row[7:9] == ["off", "on"] and row[9] == OPTED_OUT
    stream = io.StringIO()
    assert write_group_csv(report, ReportGroup.NOT_IN_CACHE, stream) == 1
    assert stream.getvalue() == "row,identifier\r\n4,'=cmd@evil.com\r\n"  # a formula made inert
    stream = io.StringIO()
    assert write_group_csv(report, ReportGroup.AMBIGUOUS, stream) == 2
    for group in ReportGroup:
        write_group_csv(report, group, io.StringIO())


@pytest.mark.parametrize(("column", "index"), [
    ("email", "ix_q_email"), ("external_id", "ix_end_user_external_id"), ("id", "INTEGER PRIMARY KEY")])
def test_each_key_searches_an_index_never_scans_the_end_users(crowd: Cache, column: MatchColumn, index: str) -> None:
    with crowd.engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        plan = match_plan(raw, column)
    assert any(step.startswith("SEARCH e USING") and index in step for step in plan), plan
    assert not any(step.startswith("SCAN e") for step in plan), plan
