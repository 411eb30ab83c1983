"""The search index finds exactly what the plain scan finds: after it is built, through edits,
undo, pulls and deletes, and after a crash part way through building it."""

from __future__ import annotations

import os
import random
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import desktop_app.cache.reading.plan as query_plan
from desktop_app.cache.indexes import properties as property_index
from desktop_app.cache.store import Cache
from desktop_app.cache.filters.language import parse_filter
from desktop_app.cache.reading.query import EndUserQuery, SortSpec
from desktop_app.cache.indexes.search import complete_indexes
from desktop_app.domain import EndUser

from .conftest import StepClock, end_user
from .test_query_reference import matches, to_rows

ROW_NAMES = ["id", "email", "external_id", "external_created_at", "last_surveyed", "phone_number",
             "created_at", "updated_at", "surveys_disabled", "disabled_by", "settings_json",
             "properties_json", "pending_count", "has_conflict", "pending_delete"]

ALPHABET = "abcxyz01._-%AB"


def _folded(text: str) -> str:
    return text.translate(str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"))


def scan(cache: Cache, text: str) -> list[int]:
    """The reference: every cached row read in Python, `text` as the filter bar means it
    (parts between * in order, ASCII case ignored, anywhere in email or external id)."""
    quoted = text.startswith('"') and text.endswith('"')
    parts = [_folded(text[1:-1])] if quoted else [_folded(p) for p in text.split("*")]
    pattern = re.compile(".*".join(re.escape(p) for p in parts), re.S)
    with sqlite3.connect(cache.path) as raw:
        rows = raw.execute("SELECT id, email, external_id FROM end_user ORDER BY id").fetchall()
    return [i for i, email, external in rows
            if pattern.search(_folded(email)) or (external is not None and pattern.search(_folded(external)))]


def people(rnd: random.Random, ids: range, updated_at: int = 0) -> list[EndUser]:
    def word(n: int) -> str:
        return "".join(rnd.choice(ALPHABET) for _ in range(n))

    return [end_user(i, email=f"{word(rnd.randrange(1, 7))}.{i}@{rnd.choice(['acme', 'x-co', 'ABC'])}.com",
                     external_id=rnd.choice([None, f"cus_{word(6)}", word(3)]), properties=props(rnd),
                     **({"updated_at": updated_at + i} if updated_at else {})) for i in ids]


def filters(cache: Cache, rnd: random.Random, count: int = 25) -> list[str]:
    """Fragments of cached emails and ids (common and rare), with wildcards, quotes, short ones."""
    with sqlite3.connect(cache.path) as raw:
        texts = [t for (t,) in raw.execute("SELECT email FROM end_user UNION ALL SELECT external_id "
                                           "FROM end_user WHERE external_id IS NOT NULL")]
    out = ["zzqq", "acme", "ab", "x", "ABC.", ".co", "cus_", "1@", "x-co.com", "ac*e.", '"ac*e"', "a*c*m"]
    for _ in range(count):
        source = rnd.choice(texts)
        start = rnd.randrange(len(source))
        piece = source[start:start + rnd.randrange(1, 8)]
        roll = rnd.random()
        if roll < 0.2 and len(piece) > 4 and piece[0].isalnum():
            out.append(piece[:2] + "*" + piece[3:])  # a wildcard
            continue
        out.append('"' + (piece.upper() if roll < 0.4 else piece) + '"')  # quoted: taken as typed
    return out


@pytest.fixture
def always_indexed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every fragment the index can serve goes through it (the test rows are few)."""
    monkeypatch.setattr(query_plan, "TEXT_INDEX_SHARE", 2.0)
    monkeypatch.setattr(query_plan, "TEXT_INDEX_PAGE_ROWS", 10**12)
    monkeypatch.setattr(query_plan, "PROPERTY_LOOKUP_RATIO", 0.0)


PROPERTY_FILTERS = [
    "plan:pro", "plan:PRO|team", "plan:t*", "-plan:pro", "has:plan", "-has:tags", "tags:sso", "tags:1",
    "seats:>100", "seats:10..20", "seats:<=5 plan:free", "flag:true", "flag:1", "tags:true", "prop.score:>=2.5",
    "prop.score:2.5", "(plan:pro OR has:flag) -seats:>200", "prop.\"a b\":x", "region:eu seats:>50",
]


def reference(cache: Cache, text: str) -> list[int]:
    """Every cached row through the reference reader of test_query_reference (no SQL)."""
    with sqlite3.connect(cache.path) as raw:
        rows = to_rows(raw.execute(f"SELECT {', '.join(ROW_NAMES)} FROM end_user ORDER BY id").fetchall())
    node = parse_filter(text)
    return [r.values["id"] for r in rows if matches(node, r)]


def agree_on_properties(cache: Cache) -> None:
    query = EndUserQuery(cache.engine)
    for text in PROPERTY_FILTERS:
        wanted = reference(cache, text)
        assert query.count(text) == len(wanted), text
        assert list(query.ids(text, SortSpec("id"))) == wanted, text
        assert [r.id for r in query.page(text, SortSpec("id"), 0, 50)] == wanted[:50], text


def props(rnd: random.Random) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, make in (
        ("plan", lambda: rnd.choice(["free", "pro", "Pro", "team", "", None, 10])),
        ("seats", lambda: rnd.choice([rnd.randrange(300), str(rnd.randrange(300)), "many"])),
        ("tags", lambda: rnd.sample(["sso", "api", 1, True, "SSO"], rnd.randrange(4))),
        ("flag", lambda: rnd.choice([True, False, 1, "true"])),
        ("score", lambda: rnd.choice([2.5, 1, "2.5", 3.75])),
        ("region", lambda: rnd.choice(["eu", "us"])),
        ("a b", lambda: rnd.choice(["x", "X", "y"])),
    ):
        if rnd.random() < 0.7:
            out[key] = make()
    return out


def agree(cache: Cache, rnd: random.Random) -> None:
    agree_on_properties(cache)
    query = EndUserQuery(cache.engine)
    for text in filters(cache, rnd):
        wanted = scan(cache, text)
        assert query.count(text) == len(wanted), text
        assert list(query.ids(text, SortSpec("id"))) == wanted, text
        assert [r.id for r in query.page(text, SortSpec("email"), 0, 500)] == sorted(
            wanted, key=lambda i: (_folded(cache.get(i).end_user.email), i))[:500], text


def test_the_index_agrees_with_the_scan_through_edits_undo_pulls_and_deletes(
        cache: Cache, always_indexed: None) -> None:
    rnd = random.Random(13)
    cache.ingest_pulled(people(rnd, range(1, 301)), "pull", 1)
    reported: list[tuple[int, int]] = []
    assert cache.build_search_index(lambda done, total: reported.append((done, total)))
    assert cache.search_index_ready() and reported[-1] == (600, 600)  # text, then properties
    assert not cache.build_search_index()  # built once
    agree(cache, rnd)

    for i in rnd.sample(range(1, 301), 20):  # local edits of the text itself
        cache.set_email(i, f"renamed.{i}@zqx-{rnd.choice('abcxyz01')}.org")
    cache.set_external_id(5, "cus_unique42")
    cache.set_external_id(6, None)
    cache.set_property([7, 8], "plan", "pro")
    cache.set_property([9], "tags", ["sso", "web"])
    cache.set_property(list(range(20, 40)), "seats", 150, bulk=True)
    cache.unset_property([41, 42], "plan")
    agree(cache, rnd)
    assert EndUserQuery(cache.engine).count("unique42") == 1

    for _ in range(3):
        cache.undo()
    agree(cache, rnd)
    cache.redo()
    agree(cache, rnd)

    cache.ingest_pulled(people(rnd, range(250, 400), updated_at=2_000_000_000), "pull", 2)  # upserts, new rows
    agree(cache, rnd)

    cache.delete_end_users([10, 11, 12])  # pending deletes: still cached, still found
    agree(cache, rnd)
    cache.remove_end_users([1, 2, 3, 260, 399])  # gone from the service
    agree(cache, rnd)
    assert EndUserQuery(cache.engine).count(".399@") == 0


def test_a_cache_with_no_index_reads_by_scan_and_an_empty_one_gets_none(cache: Cache) -> None:
    rnd = random.Random(5)
    assert not cache.search_index_ready()
    cache.ingest_pulled(people(rnd, range(1, 51)), "pull", 1)
    agree(cache, rnd)  # no index yet: the scan answers
    with sqlite3.connect(cache.path) as raw:
        assert raw.execute("SELECT count(*) FROM sqlite_master WHERE name LIKE 'end_user_%'").fetchone()[0] == 0


_KILL_MID_BUILD = """
import os, signal, sqlite3, sys
from desktop_app.cache.indexes.search import build_search_index

raw = sqlite3.connect(sys.argv[1], isolation_level=None)
steps = []

def progress(done, total):
    steps.append(done)
    if len(steps) == 3:  # part way: a third of the rows are in the index table
        print(done, total, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

build_search_index(raw, progress, batch=100)
"""


def test_a_crash_while_building_leaves_no_half_index(cache_path: Path, always_indexed: None) -> None:
    rnd = random.Random(9)
    with Cache.open(cache_path) as cache:
        cache.ingest_pulled(people(rnd, range(1, 1001)), "pull", 1)
    root = Path(__file__).resolve().parents[2]
    killed = subprocess.run([sys.executable, "-c", _KILL_MID_BUILD, str(cache_path)], cwd=root,
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(root)})
    assert killed.returncode == -9, killed.stderr
    assert killed.stdout.split() == ["300", "2000"]  # it died with the text index part built
    with Cache.open(cache_path) as cache:
        with sqlite3.connect(cache_path) as raw:
            assert complete_indexes(raw) == frozenset()
            assert raw.execute("SELECT count(*) FROM sqlite_master WHERE name LIKE 'end_user_%'").fetchone()[0] == 0
        assert not cache.search_index_ready()
        agree(cache, rnd)  # the scan answers meanwhile
        cache.set_email(4, "after.crash@zqx.org")  # writes work without the index's triggers
        assert cache.build_search_index()
        agree(cache, rnd)
        assert EndUserQuery(cache.engine).count("after.crash") == 1


def test_an_edit_seeks_its_old_property_rows_and_an_older_files_triggers_are_replaced(
        cache: Cache, clock: StepClock, always_indexed: None) -> None:
    """A changed document's rows were found by a row-value IN, which SQLite 3.40 seeks on the
    key alone: every row of the document's keys was read, 1.4 s per edited end user at 1M."""
    rnd = random.Random(21)
    cache.ingest_pulled(people(rnd, range(1, 201)), "pull", 1)
    assert cache.build_search_index()
    with sqlite3.connect(cache.path) as raw:
        document = raw.execute("SELECT properties_json FROM end_user WHERE id = 7").fetchone()[0]
        seek = raw.execute("EXPLAIN QUERY PLAN " + property_index._delete(":rid", ":props"),
                           {"rid": 7, "props": document}).fetchall()[0][3]
        assert "key=? AND kind=? AND val=? AND end_user_id=?" in seek, seek
        # An older version's trigger, as a file built then still holds it.
        old_delete = (f"DELETE FROM {property_index.PROPERTY_INDEX} WHERE ({property_index._COLUMNS}) IN "
                      f"({property_index._rows('(SELECT 1)', 'old.id', 'old.properties_json')})")
        raw.execute("DROP TRIGGER end_user_prop_au")
        raw.execute("CREATE TRIGGER end_user_prop_au AFTER UPDATE OF id, properties_json ON end_user "
                    f"BEGIN {old_delete}; {property_index._insert('(SELECT 1)', 'new.id', 'new.properties_json')}; END")
    path = cache.path
    cache.close()
    reopened = Cache.open(path, clock=clock)
    try:
        with sqlite3.connect(path) as raw:
            triggers = dict(raw.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
            assert "end_user_id = old.id AND key IN" in triggers["end_user_prop_au"]
            assert "end_user_id = old.id AND key IN" in triggers["end_user_prop_ad"]
            raw.execute("BEGIN")
            assert not property_index.refresh_property_triggers(raw)  # current: left alone
            raw.execute("ROLLBACK")
        assert reopened.search_index_ready()  # the rows were kept, only the triggers changed
        for i in rnd.sample(range(1, 201), 30):
            reopened.set_property([i], rnd.choice(["plan", "seats", "tags", "a b"]), rnd.choice(["pro", 7, ["sso"], "X"]))
        reopened.unset_property([3, 4], "plan")
        reopened.ingest_pulled(people(rnd, range(150, 250), updated_at=2_000_000_000), "pull", 2)
        reopened.remove_end_users([5, 6])
        agree_on_properties(reopened)
    finally:
        reopened.close()
