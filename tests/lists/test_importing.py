"""Importing files in Wootric's upload convention, on real files: read, plan, apply, undo."""

from __future__ import annotations

import codecs
import time
from collections.abc import Collection
from pathlib import Path

import pytest

from desktop_app.cache.reading.query import EndUserQuery
from desktop_app.cache.store import Cache
from desktop_app.lists.identifiers import IdentifierKind
from desktop_app.lists.importing import (
    NewPeople,
    apply_import,
    plan_import,
    read_upload,
    report_lines,
)
from desktop_app.lists.reading import ListReadError

from .conftest import check_invariants, end_user

T_2024_03_05 = 1_709_596_800


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# What LibreOffice Calc writes for "Text CSV", field delimiter `;`, string delimiter `"`
# ("Quote all text cells" on), line ends as on Linux; the Unicode variant is UTF-16 LE with
# its BOM.
LIBREOFFICE = (
    'email;plan;seats_amount;signup_date;features_array\n'
    '"ann@example.com";"Pro";12;2024-03-05;"sso,api"\n'
    '"user2@example.com";"team";3;;\n'
    '"Newbie@Example.org";"pro";1;2024-03-05;"sso"\n'
)


@pytest.mark.parametrize("encoding, prefix", [
    ("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE),
])
def test_libreoffice_csv_in_utf8_and_utf16_with_semicolons(cache: Cache, tmp_path: Path, encoding: str,
                                                          prefix: bytes) -> None:
    cache.ingest_pulled([end_user(1, email="Ann@Example.com", properties={"plan": "pro"}),
                         end_user(2)], "end_users", 1)
    upload = read_upload(_write(tmp_path, "calc.csv", prefix + LIBREOFFICE.encode(encoding)))
    assert upload.keys == ("plan", "seats_amount", "signup_date", "features_array")
    assert upload.table.delimiter == ";"
    plan = plan_import(cache, upload, NewPeople.CREATE)
    assert {m.id for m in plan.report.matched} == {1, 2}  # Ann matched ignoring case
    [new] = plan.new
    assert new.email == "Newbie@Example.org"  # created as the file gives it
    assert new.properties == {"plan": "pro", "seats_amount": 1, "signup_date": T_2024_03_05,
                              "features_array": ["sso"]}
    ann = next(m for m in plan.report.matched if m.id == 1)
    assert dict(ann.wanted) == {"plan": "Pro", "seats_amount": 12, "signup_date": T_2024_03_05,
                                "features_array": ["sso", "api"]}
    # `Pro` beside the cached `pro` splits the segment: the report says so.
    assert any(w.given == "Pro" and w.existing == "pro" for w in plan.warnings)
    assert any("differs only by case" in line for line in report_lines(plan))


def test_a_header_differing_only_by_case_from_a_property_is_a_warning_not_the_same_key(
        cache: Cache, tmp_path: Path) -> None:
    cache.ingest_pulled([end_user(1, properties={"plan": "free"})], "end_users", 1)
    upload = read_upload(_write(tmp_path, "p.csv", b"email,Plan\nuser1@example.com,pro\n"))
    plan = plan_import(cache, upload)
    [warning] = plan.warnings
    assert (warning.given, warning.existing, warning.lines) == ("Plan", "plan", ())
    assert "two properties" in warning.words()
    apply_import(cache, plan)
    cached = cache.get(1)
    assert cached is not None and cached.end_user.properties == {"plan": "free", "Plan": "pro"}


def test_values_differing_only_by_case_within_the_file_are_warned_too(cache: Cache, tmp_path: Path) -> None:
    upload = read_upload(_write(tmp_path, "p.csv", b"email,tier\na@x.example,Gold\nb@x.example,gold\n"))
    plan = plan_import(cache, upload, NewPeople.CREATE)
    assert {(w.given, w.existing) for w in plan.warnings} == {("Gold", "gold"), ("gold", "Gold")}


@pytest.mark.parametrize("body, words", [
    (b"plan,email\npro,a@x.example\n", 'its first column is "plan"'),
    (b"a@x.example,pro\n", "no header row"),
    (b"email,plan,plan\na@x.example,pro,team\n", "named by two columns"),
    (b"email,,plan\na@x.example,x,pro\n", "column 2 has no name"),
    (b"email,plan[x]\na@x.example,pro\n", "[ or ]"),
])
def test_a_file_outside_the_convention_is_refused_in_words(tmp_path: Path, body: bytes, words: str) -> None:
    with pytest.raises(ListReadError, match=words.replace("[", r"\[").replace("]", r"\]")):
        read_upload(_write(tmp_path, "bad.csv", body))


def test_values_that_do_not_fit_their_column_are_listed_and_the_rest_imported(cache: Cache, tmp_path: Path) -> None:
    body = b"email,seats_amount,renewal_date\na@x.example,ten,\nb@x.example,2.5,\nc@x.example,3,soon\nd@x.example,4,\n"
    plan = plan_import(cache, read_upload(_write(tmp_path, "t.csv", body)), NewPeople.CREATE)
    assert [(r.line, r.email) for r in plan.invalid] == [(2, "a@x.example"), (3, "b@x.example"), (4, "c@x.example")]
    assert "whole numbers" in plan.invalid[1].message
    assert [n.email for n in plan.new] == ["d@x.example"]


def test_import_updates_and_creates_in_one_undo_step(cache: Cache, tmp_path: Path) -> None:
    cache.ingest_pulled([end_user(1), end_user(2)], "end_users", 1)
    body = b"email,plan\nuser1@example.com,pro\nUSER2@example.com,free\nnew1@example.com,pro\nnew2@example.com,\n"
    plan = plan_import(cache, read_upload(_write(tmp_path, "i.csv", body)), NewPeople.CREATE)
    assert [m.id for m in plan.report.matched] == [1] and [m.id for m in plan.report.already] == [2]
    outcome = apply_import(cache, plan)
    assert outcome.updated == 1 and len(outcome.created) == 2 and all(i < 0 for i in outcome.created)
    query = EndUserQuery(cache.engine)
    assert query.count("plan:pro") == 2  # filters see the created rows like any other
    assert set(query.ids("is:pending")) == {1, *outcome.created}
    check_invariants(cache)
    state = cache.undo_state()
    assert state.undo is not None and state.undo.end_users == 3
    assert cache.undo() is not None
    assert sorted(cache.all_ids()) == [1, 2] and cache.pending_count() == 0
    cached = cache.get(1)
    assert cached is not None and cached.end_user.properties["plan"] == "free"
    check_invariants(cache)
    assert cache.redo() is not None
    assert sorted(cache.all_ids()) == [*sorted(outcome.created), 1, 2]
    assert query.count("plan:pro") == 2
    check_invariants(cache)


def test_update_only_and_skip_new_create_nobody(cache: Cache, tmp_path: Path) -> None:
    cache.ingest_pulled([end_user(1)], "end_users", 1)
    path = _write(tmp_path, "i.csv", b"email,plan\nuser1@example.com,pro\nnew@example.com,pro\n")
    for choice in (NewPeople.UPDATE_ONLY, NewPeople.SKIP_NEW):
        plan = plan_import(cache, read_upload(path), choice)
        assert plan.counts()["new_skipped"] == 1
        assert any("not created" in line for line in report_lines(plan))
    outcome = apply_import(cache, plan)
    assert outcome.created == () and sorted(cache.all_ids()) == [1]


def test_suppressed_emails_are_refused_through_the_hook(cache: Cache, tmp_path: Path) -> None:
    asked: list[tuple[IdentifierKind, list[str]]] = []

    def suppression(kind: IdentifierKind, identifiers: Collection[str]) -> Collection[str]:
        asked.append((kind, list(identifiers)))
        return [i for i in identifiers if i == "erased@example.com"]

    path = _write(tmp_path, "s.csv", b"email,plan\nErased@Example.com,pro\nfresh@example.com,pro\n")
    plan = plan_import(cache, read_upload(path), NewPeople.CREATE, suppression=suppression)
    assert asked and asked[0][0] is IdentifierKind.EMAIL
    assert [s.identifier for s in plan.report.suppressed] == ["Erased@Example.com"]
    assert [n.email for n in plan.new] == ["fresh@example.com"]
    assert any(line.startswith("suppressed: Erased@Example.com") for line in report_lines(plan))


def test_100000_rows_half_known_half_new(cache: Cache, tmp_path: Path) -> None:
    known = 50_000
    cache.ingest_pulled([end_user(i) for i in range(1, known + 1)], "end_users", 1)
    lines = ["email,plan,seats_amount"]
    lines += [f"user{i}@example.com,pro,{i % 7}" for i in range(1, known + 1)]
    lines += [f"new{i}@example.org,team,{i % 5}" for i in range(known)]
    path = _write(tmp_path, "big.csv", ("\n".join(lines) + "\n").encode())
    started = time.perf_counter()
    plan = plan_import(cache, read_upload(path), NewPeople.CREATE)
    planned = time.perf_counter() - started
    outcome = apply_import(cache, plan)
    applied = time.perf_counter() - started - planned
    print(f"import of 100,000 rows: plan {planned:.2f} s, apply {applied:.2f} s")
    assert len(plan.report.matched) == known and len(outcome.created) == known
    assert EndUserQuery(cache.engine).count("plan:team") == known
    assert cache.pending_count() == 2 * known + known  # two cells each, or one create
    assert cache.undo() is not None
    assert cache.count_all() == known


def test_created_rows_page_sort_and_export_like_any_other(cache: Cache, tmp_path: Path) -> None:
    from desktop_app.cache.reading.results import SortSpec

    cache.ingest_pulled([end_user(1, email="m@example.com")], "end_users", 1)
    plan = plan_import(cache, read_upload(_write(tmp_path, "i.csv", b"email,plan\na@example.com,pro\nz@example.com,pro\n")),
                       NewPeople.CREATE)
    apply_import(cache, plan)
    query = EndUserQuery(cache.engine)
    page = query.page("", SortSpec("email"), 0, 10)
    assert [row.email for row in page] == ["a@example.com", "m@example.com", "z@example.com"]
    assert list(query.ids("", SortSpec("id"))) == [-2, -1, 1]
    exported = [row for batch in query.iter_rows("plan:pro") for row in batch]
    assert sorted(row.id for row in exported) == [-2, -1]
