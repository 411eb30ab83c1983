"""The SQL must agree with a plain-Python reader of the same rows, for generated rows and filters.

The reference below is written from the language's description, not from the compiler: rows are
Python values, filters are evaluated by walking the parsed tree. Each scenario runs with no
property indexes and with text/number indexes (the compiler writes different SQL for each), and
with the planner's thresholds forced both ways (walking the sort index, rowid lists).
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import desktop_app.cache.reading.query as query_module
import desktop_app.cache.reading.plan as query_plan
import desktop_app.cache.reading.turns as read_turns
from desktop_app.cache.filters.language import (
    Age,
    And,
    Between,
    CalendarSpan,
    CommentHas,
    Compare,
    Equals,
    FieldKind,
    FilterNode,
    FreeText,
    Has,
    HasHistory,
    HistoryField,
    InList,
    MatchAll,
    Not,
    NpsIs,
    Number,
    Op,
    Or,
    PropertyField,
    SeedField,
    State,
    StateIs,
    TagIs,
    Text,
    parse_filter,
)
from desktop_app.cache.indexes.expressions import number_index_name, property_sql, text_index_name
from desktop_app.cache.reading.query import EndUserQuery, SortSpec
from desktop_app.cache.indexes.history import HISTORY_INDEX_DDL
from desktop_app.cache.indexes.search import build_search_index, drop_search_index
from desktop_app.cache.schema.history_tables import ResponseRow  # noqa: F401  (registers the tables)
from desktop_app.cache.writes.history import REFRESH_SUMMARIES
from desktop_app.cache.schema.state_tables import SearchIndexRow  # noqa: F401  (registers the table)
from desktop_app.cache.schema.tables import EndUserRow  # noqa: F401  (registers the table)

NOW = 1_750_000_000  # 2025-06-15
DAY = 86_400
KEYS = ("plan", "revenue_amount", "tags", "flag", "a b", "x'y", 'q"z', "plan_date")
INSERT = (
    "INSERT INTO end_user (id, email, external_id, external_created_at, last_surveyed, phone_number, "
    "created_at, updated_at, surveys_disabled, disabled_by, settings_json, properties_json, "
    "pending_count, has_conflict, pending_delete) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


class FixedClock:
    def now(self) -> float:
        return float(NOW)

    def sleep(self, seconds: float) -> None:
        pass


# -- rows --------------------------------------------------------------------------------------
# Rows come from a seeded random.Random: drawing hundreds of values per example through
# hypothesis costs more than the queries under test. Filters (below) stay hypothesis-drawn.

TEXT_ALPHABET = "aAbBzZ1 %_.-[é"
NUMBER_STRINGS = ["10", " 10", "1e1", "10.0", "007", "+5", "-0", "3.5", "0", "1"]


# Data and filters draw from the same few words, so that near misses (case, numeric forms,
# JSON text of arrays) meet often.
WORDS = ["a", "A", "b", "Pro", "pro", "PRO", "true", "TRUE", "false", "é", "É", "%", "a%b", "[x]", "",
         "10", "1e1", "10.0", "007", '["a"]', "1", "0"]
# Instants on the edges of the spans and ages the filters use, so off-by-one-second shows.
EDGES = [int(datetime(y, m, d, tzinfo=timezone.utc).timestamp()) for y, m, d in (
    (2024, 1, 1), (2024, 6, 1), (2024, 7, 1), (2024, 12, 1), (2025, 1, 1), (2025, 6, 1), (2025, 6, 2),
    (2026, 1, 1))] + [NOW - n * DAY for n in (1, 7, 30, 365)] + [
    Age(1, unit).cutoff(NOW, timezone.utc) for unit in "hwmy"]


def _text(rnd: random.Random) -> str:
    if rnd.random() < 0.8:
        return rnd.choice(WORDS)
    return "".join(rnd.choice(TEXT_ALPHABET) for _ in range(rnd.randrange(6)))


def _instant(rnd: random.Random) -> int | None:
    roll = rnd.random()
    if roll < 0.2:
        return None
    if roll < 0.7:
        return rnd.choice(EDGES) + rnd.choice([-1, 0, 0, 1])
    return rnd.randint(NOW - 900 * DAY, NOW)


def _scalar(rnd: random.Random) -> object:
    return rnd.choice([
        _text, lambda r: r.choice(NUMBER_STRINGS), lambda r: r.randint(-20, 20),
        lambda r: r.randint(-10**9, 10**9), lambda r: r.choice([0.5, -2.25, 10.0, 1.0, 0.0, 3.5]),
        lambda r: r.random() < 0.5, lambda r: None,
    ])(rnd)


def _value(rnd: random.Random, key: str) -> object:
    roll = rnd.random()
    if key == "plan_date" and roll < 0.7:
        moment = _instant(rnd)
        return str(moment) if moment and roll < 0.2 else moment
    if roll < 0.25:
        return [_scalar(rnd) for _ in range(rnd.randrange(4))]
    return {"nested": 1} if roll < 0.23 else _scalar(rnd)


def make_rows(count: int, seed: int) -> list[tuple[Any, ...]]:
    rnd = random.Random(seed)
    rows = []
    for n in range(1, count + 1):
        props = {k: _value(rnd, k) for k in KEYS if rnd.random() < 0.5}
        disabled_by = rnd.choice(["", "", "admin", "end_user"])
        rows.append((
            n * 3,  # gaps in the id range
            rnd.choice(["", "a", "B", "acme", "%"]) + _text(rnd) + "@" + rnd.choice(["acme.com", "x.io", "ACME.org"]),
            rnd.choice([None, _text(rnd)]),
            _instant(rnd), _instant(rnd),
            rnd.choice([None, None, "+14155550100", "+4930123"]),
            _instant(rnd) or NOW, rnd.choice([NOW, _instant(rnd) or NOW]),
            int(disabled_by != ""), disabled_by, "{}",
            json.dumps(props, separators=(",", ":"), ensure_ascii=False),
            rnd.choice([0, 0, 1, 2]), rnd.choice([0, 1]), rnd.choice([0, 0, 1]),
        ))
    return rows


# -- survey history ----------------------------------------------------------------------------
# Each end user's responses and declines follow from its row (so `load` and the reference draw
# the same ones): scores on the group edges, comments and tags from near-miss words, some
# responses excluded from calculations, equal created_at seconds, and history of an id no end
# user has (a response that arrived before its end user).

COMMENTS = ["too slow", "Too SLOW!", "slowness", "great", "é bien", "a%b", "100% fine", "", None, "sl ow"]
TAGS = ["billing", "Billing", "bug", "bugs", "ux", "é", "a%b", "10"]
ORPHAN = 10**9 + 1


@dataclass
class History:
    responses: list[dict[str, Any]]
    declines: list[int]  # created_at of each


def make_history(raw_rows: list[tuple[Any, ...]]) -> dict[int, History]:
    out: dict[int, History] = {}
    next_id = 1
    for end_user_id in [row[0] for row in raw_rows] + [ORPHAN]:
        rnd = random.Random(f"{end_user_id}:{len(raw_rows)}:{raw_rows[0][1] if raw_rows else ''}")
        responses = []
        for _ in range(rnd.choice([0, 0, 1, 1, 2, 3])):
            tags: list[Any] = rnd.sample(TAGS, rnd.choice([0, 0, 1, 2]))
            if rnd.random() < 0.1:
                tags.append(10)  # a number in the tag list: not a tag the filter can name
            responses.append({
                "id": next_id, "score": rnd.choice([0, 5, 6, 7, 8, 9, 10, 3]),
                "text": rnd.choice(COMMENTS), "excluded": rnd.random() < 0.25,
                "created_at": rnd.choice(EDGES[:6] + [NOW - 5 * DAY, NOW - 100 * DAY]) + rnd.choice([-1, 0, 0]),
                "tags": tags,
            })
            next_id += 1
        declines = [rnd.choice(EDGES) for _ in range(rnd.choice([0, 0, 0, 1, 2, 3]))]
        out[end_user_id] = History(responses, declines)
    return out


def load_history(raw: sqlite3.Connection, raw_rows: list[tuple[Any, ...]]) -> None:
    raw.execute("DELETE FROM response")
    raw.execute("DELETE FROM decline")
    raw.execute("DELETE FROM survey_summary")
    history = make_history(raw_rows)
    decline_id = 1
    for end_user_id, h in history.items():
        raw.executemany(
            "INSERT INTO response (id, end_user_id, score, text, completed, excluded_from_calculations,"
            " created_at, updated_at, tags_json, notes_json, end_user_properties_json)"
            " VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, '[]', '{}')",
            [(r["id"], end_user_id, r["score"], r["text"], r["excluded"], r["created_at"], r["created_at"],
              json.dumps(r["tags"], ensure_ascii=False)) for r in h.responses])
        for created in h.declines:
            raw.execute("INSERT INTO decline (id, end_user_id, created_at, updated_at) VALUES (?, ?, ?, ?)",
                        (decline_id, end_user_id, created, created))
            decline_id += 1
    # As the sync writes them: a summary row only for end users some history arrived for.
    touched = sorted(i for i, h in history.items() if h.responses or h.declines)
    raw.execute(REFRESH_SUMMARIES, (json.dumps(touched),))


def latest_counted(h: History) -> dict[str, Any] | None:
    counted = [r for r in h.responses if not r["excluded"]]
    return max(counted, key=lambda r: (r["created_at"], r["id"])) if counted else None


def history_value(column: str, h: History) -> float | None:
    latest = latest_counted(h)
    if column == "response_count":
        return len(h.responses)
    if column == "decline_count":
        return len(h.declines)
    if latest is None:
        return None
    return latest["score"] if column == "latest_score" else latest["created_at"]


end_users = st.builds(make_rows, st.integers(0, 30), st.integers(0, 2**32))
texts = st.text(TEXT_ALPHABET, max_size=5)


# -- filters -----------------------------------------------------------------------------------

def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


property_names = st.sampled_from(["plan", "revenue_amount", "tags", "flag", '"a b"', "prop.\"x'y\"", 'prop."q\\"z"'])
def _literal(word: str) -> str:
    return word if re.fullmatch(r"[\w%.é]+", word) else _quoted(word)


equal_values = st.one_of(
    st.sampled_from([_literal(w) for w in WORDS if w]),
    st.sampled_from(["-0", "3.5", "*a*", "a*", "*", "_", "P*", "*%*"]),
    texts.filter(str.strip).map(_quoted),
)
numbers = st.sampled_from(["0", "1", "10", "-5", "3.5", "1e1", "1000000"])
ops = st.sampled_from(["<", "<=", ">", ">="])
dates = st.sampled_from(["2024", "2024-06", "2025-06-01", "2025", "2024-12"])
words = st.sampled_from(["a", "acme", "b", "%", "_", "é", "a*c", '"b a"', "1"])
text_fields = st.sampled_from(["email", "external_id", "phone"])
time_fields = st.sampled_from(["created", "last_surveyed", "external_created_at", "updated"])
time_ops = st.sampled_from(["", ">=", "<", ">", "<="])
units = st.sampled_from("hdwmy")
has_names = st.sampled_from(["external_id", "phone", "last_surveyed", "plan", "tags", "flag", "prop.email"])
states = st.sampled_from(["surveys:disabled", "surveys:enabled", "disabled_by:admin", "disabled_by:end_user",
                          "is:pending", "is:conflict", "is:deleted"])
id_ops = st.sampled_from(["", ">", "<="])
date_keys = st.sampled_from(["plan_date", "revenue_amount_date"])
date_terms = st.sampled_from(["", "..2025-06"])
flag_values = st.sampled_from(["true", "false", "1", "0"])
# Kept lists every load writes (`load_lists`): who is on each is a rule the reference knows.
LISTS = {"week": lambda id: id % 2 == 0, "last week": lambda id: id % 5 == 0, "empty": lambda id: False}
list_names = st.sampled_from(["week", "WEEK", '"last week"', '"Last Week"', "empty", '"week"|"last week"'])


score_values = st.sampled_from(["<=6", "6", "9|10", "0..6", "7..8", ">=9", "<7", "..6", "9..", ">10", "0"])
count_values = st.sampled_from([">=3", ">=2", "0", "1", "<3", "<=0", "0..1", "2..", "..1", ">0", "1|3"])
comment_values = st.sampled_from(["slow", '"too slow"', "SLOW", "sl*w", "%", "a%b", "é", "ow", "great|slow", '"o s"'])
tag_values = st.sampled_from(["billing", "BILLING", "bug", "bug*", "b*", "é", "a%b", "10", "ux|bugs", '"billing"'])


@st.composite
def history_terms(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 7))
    if kind == 0:
        return f"score:{draw(score_values)}"
    if kind == 1:
        return f"nps:{draw(st.sampled_from(['detractor', 'passive', 'promoter', 'Promoters', 'detractor|passive']))}"
    if kind == 2:
        form = draw(st.integers(0, 2))
        if form == 0:
            return f"responded:{draw(ops)}{draw(st.sampled_from([1, 7, 30, 90, 365]))}{draw(units)}"
        if form == 1:
            return f"responded:{draw(time_ops)}{draw(dates)}"
        return f"responded:{draw(dates)}..{draw(dates)}"
    if kind == 3:
        return f"{draw(st.sampled_from(['responses', 'declines']))}:{draw(count_values)}"
    if kind == 4:
        return f"comment:{draw(comment_values)}"
    if kind == 5:
        return f"tag:{draw(tag_values)}"
    return f"has:{draw(st.sampled_from(['response', 'decline', 'responses']))}"


@st.composite
def terms(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 16))
    if kind == 16:
        return draw(history_terms())
    if kind == 0:
        return draw(words)
    if kind == 1:
        return f"{draw(text_fields)}:{draw(equal_values)}"
    if kind in (2, 3):
        first, second = draw(equal_values), draw(equal_values)
        return f"{draw(property_names)}:{first}" + (f"|{second}" if kind == 3 else "")
    if kind == 4:
        return f"{draw(property_names)}:{draw(ops)}{draw(numbers)}"
    if kind == 5:
        low, high = sorted([draw(numbers), draw(numbers)], key=float)
        return f"{draw(property_names)}:{low if draw(st.booleans()) else ''}..{high}"
    if kind == 6:
        form = draw(st.integers(0, 2))
        if form == 0:
            amount = draw(st.sampled_from([1, 7, 30, 365]))
            return f"{draw(time_fields)}:{draw(ops)}{amount}{draw(units)}"
        if form == 1:
            return f"{draw(time_fields)}:{draw(time_ops)}{draw(dates)}"
        return f"{draw(time_fields)}:{draw(dates)}..{draw(dates)}"
    if kind == 7:
        return f"has:{draw(has_names)}"
    if kind == 8:
        return draw(states)
    if kind == 9:
        return f"id:{draw(id_ops)}{draw(st.integers(0, 100))}"
    if kind == 10:
        return f"revenue_amount:{draw(ops)}{draw(numbers)}"
    if kind == 11:
        form = draw(st.integers(0, 2))
        if form == 0:
            return f"{draw(date_keys)}:{draw(ops)}{draw(dates)}"
        if form == 1:
            return f"plan_date:{draw(dates)}"
        return f"plan_date:{draw(ops)}{draw(st.sampled_from([1, 30, 365]))}d"
    if kind == 12:
        return f"flag:{draw(flag_values)}"
    if kind == 14:
        return f"list:{draw(list_names)}"
    return f"tags:{draw(equal_values)}"


@st.composite
def combined(draw: st.DrawFn, depth: int = 2) -> str:
    """A term, or two or three filters joined by AND, OR, NOT, '-' and parentheses."""
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        return draw(terms())
    inner = combined(depth - 1)
    shape = draw(st.integers(0, 4))
    if shape == 0:
        return f"{draw(inner)} {draw(inner)}"
    if shape == 1:
        return f"{draw(inner)} OR {draw(inner)}"
    if shape == 2:
        return f"-({draw(inner)})"
    if shape == 3:
        return f"NOT {draw(inner)}"
    return f"({draw(inner)} OR {draw(inner)}) {draw(inner)}"


FILTERS = combined()


# -- the reference -----------------------------------------------------------------------------

_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_JSON_NUMBER = re.compile(r"[ \t\n\r]*-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?[ \t\n\r]*")


def fold(text: str) -> str:
    return text.translate(_LOWER)  # SQLite's NOCASE and LIKE fold A-Z only


def like(parts: tuple[str, ...], value: object, substring: bool) -> bool:
    if not isinstance(value, str):
        return False
    body = ".*".join(re.escape(fold(p)) for p in parts)
    pattern = f".*{body}.*" if substring else body
    return re.fullmatch(pattern, fold(value), re.DOTALL) is not None


def number_of(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _JSON_NUMBER.fullmatch(value):
        return float(value)
    return None


@dataclass
class Row:
    values: dict[str, Any]
    props: dict[str, Any]
    history: History


def to_rows(raw_rows: list[tuple[Any, ...]]) -> list[Row]:
    names = ["id", "email", "external_id", "external_created_at", "last_surveyed", "phone_number",
             "created_at", "updated_at", "surveys_disabled", "disabled_by", "settings_json",
             "properties_json", "pending_count", "has_conflict", "pending_delete"]
    history = make_history(raw_rows)
    return [Row(dict(zip(names, r)), json.loads(r[11]), history[r[0]]) for r in raw_rows]


def matches(node: FilterNode, row: Row) -> bool:
    v = row.values
    match node:
        case MatchAll():
            return True
        case And(children):
            return all(matches(c, row) for c in children)
        case Or(children):
            return any(matches(c, row) for c in children)
        case Not(child):
            return not matches(child, row)
        case FreeText(text):
            return like(text.parts, v["email"], True) or like(text.parts, v["external_id"], True)
        case InList(name):
            return LISTS[name.lower()](v["id"])
        case StateIs(state):
            return {
                State.PENDING: v["pending_count"] > 0,
                State.CONFLICT: v["has_conflict"] == 1,
                State.DELETED: v["pending_delete"] == 1,
                State.SURVEYS_DISABLED: v["surveys_disabled"] == 1,
                State.SURVEYS_ENABLED: v["surveys_disabled"] == 0,
                State.DISABLED_BY_ADMIN: v["surveys_disabled"] == 1 and v["disabled_by"] == "admin",
                State.DISABLED_BY_END_USER: v["surveys_disabled"] == 1 and v["disabled_by"] == "end_user",
            }[state]
        case Equals(HistoryField(column), wanted):
            value = history_value(column, row.history)
            return value is not None and any(value == w.value for w in wanted if isinstance(w, Number))
        case NpsIs(group):
            latest = latest_counted(row.history)
            return latest is not None and group.value[0] <= latest["score"] <= group.value[1]
        case HasHistory(what):
            return bool(row.history.responses if what == "response" else row.history.declines)
        case CommentHas(text):
            return any(like(text.parts, r["text"], True) for r in row.history.responses)
        case TagIs(wanted):
            return any(isinstance(tag, str) and any(
                fold(tag) == fold(w.text) if w.literal else like(w.parts, tag, False) for w in wanted)
                for r in row.history.responses for tag in r["tags"])
        case Has(SeedField(column, kind)):
            return v[column] is not None and (kind is not FieldKind.TEXT or v[column] != "")
        case Has(PropertyField(key)):
            return row.props.get(key) is not None and row.props.get(key) != ""
        case Equals(SeedField(column, FieldKind.TEXT), wanted):
            return v[column] is not None and any(
                fold(v[column]) == fold(w.text) if w.literal else like(w.parts, v[column], False)
                for w in wanted if isinstance(w, Text))
        case Equals(SeedField(column, _), wanted):
            return any(v[column] == w.value for w in wanted if isinstance(w, Number))
        case Equals(PropertyField(key), wanted):
            return property_equals(row.props.get(key), [w for w in wanted if isinstance(w, Text)], True)
        case Compare(target, op, bound):
            value = value_of(target, row)
            return value is not None and compare(op, bound, value)
        case Between(target, low_bound, high_bound):
            value = value_of(target, row)
            if value is None:
                return False
            if low_bound is not None and value < (low_bound.start(utc()) if isinstance(low_bound, CalendarSpan) else low_bound.value):
                return False
            if isinstance(high_bound, CalendarSpan):
                return value < high_bound.end(utc())
            return high_bound is None or value <= high_bound.value
    raise AssertionError(node)


def utc() -> Any:
    return timezone.utc


def property_equals(value: object, wanted: list[Text], top: bool) -> bool:
    literals = [w.text for w in wanted if w.literal]
    if isinstance(value, bool):
        return ("true" if value else "false") in {fold(s) for s in literals}
    if isinstance(value, (int, float)):
        return any(_JSON_NUMBER.fullmatch(s) and float(s) == float(value) for s in literals)
    if isinstance(value, str):
        return fold(value) in {fold(s) for s in literals} or any(
            like(w.parts, value, False) for w in wanted if not w.literal)
    if isinstance(value, list) and top:
        return any(property_equals(item, wanted, False) for item in value)
    return False


def value_of(target: SeedField | PropertyField | HistoryField, row: Row) -> float | None:
    if isinstance(target, HistoryField):
        return history_value(target.column, row.history)
    if isinstance(target, SeedField):
        return row.values[target.column]
    return number_of(row.props.get(target.key))


def compare(op: Op, bound: Any, value: float) -> bool:
    if isinstance(bound, Number):
        x = bound.value
        return {Op.LT: value < x, Op.LE: value <= x, Op.GT: value > x, Op.GE: value >= x}[op]
    if isinstance(bound, CalendarSpan):  # after the span, before it, or in it
        start, end = bound.start(utc()), bound.end(utc())
        return {Op.GE: value >= start, Op.GT: value >= end, Op.LT: value < start, Op.LE: value < end}[op]
    cutoff = bound.cutoff(NOW, utc())  # <30d: within the last 30 days; >30d: longer ago
    return value >= cutoff if op in (Op.LT, Op.LE) else value < cutoff


# -- sorting as SQLite orders values -----------------------------------------------------------

def sort_key(sort: SortSpec, row: Row, kind: str | None) -> tuple[Any, ...]:
    column = sort.column
    if column.startswith("prop:"):
        value = row.props.get(column[5:])
        if kind == "number":
            number = number_of(value)
            return (0,) if number is None else (1, number)
        return sqlite_text_order(value)
    history = {"latest_score": "latest_score", "response_count": "response_count"}
    value = history_value(history[column], row.history) if column in history else row.values[column]
    if value is None:
        return (0,)
    if column == "email":
        return (1, fold(value))
    return (1, value)


def sqlite_text_order(value: object) -> tuple[Any, ...]:
    """json_extract(...) COLLATE NOCASE: NULL, then numbers (true/false are 1/0), then text."""
    if value is None:
        return (0,)
    if isinstance(value, bool):
        return (1, float(value))
    if isinstance(value, (int, float)):
        return (1, float(value))
    if isinstance(value, str):
        return (2, fold(value))
    return (2, fold(json.dumps(value, separators=(",", ":"), ensure_ascii=False)))


# -- harness -----------------------------------------------------------------------------------

@dataclass
class Scenario:
    engine: Engine
    path: Path
    query: EndUserQuery
    kinds: dict[str, str]  # property key -> "text" | "number" for indexed keys
    # The search indexes (text and properties): "" none, "maintained" built on the empty table
    # and kept by their triggers through every load, "rebuilt" dropped and built after every load.
    search: str = ""


def make_scenario(path: Path, indexed: dict[str, str], search: str = "") -> Scenario:
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi: sqlite3.Connection, _record: object) -> None:
        dbapi.isolation_level = None  # as the app's engine: SQLite's own transactions only
        dbapi.execute("PRAGMA journal_mode = WAL")

    SQLModel.metadata.create_all(engine)
    with sqlite3.connect(path) as raw:
        from desktop_app.cache.indexes.expressions import ensure_query_indexes
        ensure_query_indexes(raw, property_keys=[])
        for key, kind in indexed.items():
            sql = property_sql(key)
            if kind == "number":
                raw.execute(f'CREATE INDEX "{number_index_name(key)}" ON end_user({sql.number})')
            else:
                raw.execute(f'CREATE INDEX "{text_index_name(key)}" ON end_user({sql.value} COLLATE NOCASE)')
        if search:  # the history's search tables too: without them, comment: and tag: scan
            for statement in HISTORY_INDEX_DDL:
                raw.execute(statement)
            raw.commit()
            build_search_index(raw)
    return Scenario(engine, path, EndUserQuery(engine, clock=FixedClock()), dict(indexed), search)


def load(scenario: Scenario, raw_rows: list[tuple[Any, ...]]) -> None:
    with sqlite3.connect(scenario.path) as raw:
        raw.execute("PRAGMA synchronous = OFF")  # a test database: no need to wait for the disk
        raw.execute("DELETE FROM end_user")
        raw.executemany(INSERT, raw_rows)
        load_lists(raw, [row[0] for row in raw_rows])
        load_history(raw, raw_rows)
    if scenario.search == "rebuilt":
        with closing(sqlite3.connect(scenario.path)) as raw:
            drop_search_index(raw)
            build_search_index(raw)
        # Pooled readers that knew the dropped table fail once with "schema has changed"
        # (FTS5 keeps its own statements); the app never drops it, so readers start afresh.
        scenario.engine.dispose()


def load_lists(raw: sqlite3.Connection, ids: list[int]) -> None:
    """The kept lists of LISTS over these ids, plus an id no row has (a person erased since)."""
    raw.execute("DELETE FROM saved_list_member")
    raw.execute("DELETE FROM saved_list")
    for list_id, (name, member) in enumerate(LISTS.items(), start=1):
        members = [id for id in ids if member(id)] + ([10**9] if name == "week" else [])
        raw.execute("INSERT INTO saved_list (id, name, source, identifier_kind, created_at, member_count)"
                    " VALUES (?, ?, '', 'email', ?, ?)", (list_id, name, NOW, len(members)))
        raw.executemany("INSERT INTO saved_list_member (list_id, end_user_id) VALUES (?, ?)",
                        [(list_id, id) for id in members])


_PROPERTY_INDEXES = {"plan": "text", "tags": "text", "revenue_amount": "number", "flag": "number",
                     "a b": "text", "plan_date": "number"}
SCENARIOS: dict[str, tuple[dict[str, str], str]] = {
    "no property indexes": ({}, ""),
    "text and number indexes": (_PROPERTY_INDEXES, ""),
    "search index kept by its triggers": ({}, "maintained"),
    "search index rebuilt, text and number indexes": (_PROPERTY_INDEXES, "rebuilt"),
}


@pytest.fixture(params=sorted(SCENARIOS), scope="module")
def scenario(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    made = make_scenario(tmp_path_factory.mktemp("reference") / "cache.sqlite", *SCENARIOS[request.param])
    yield made
    made.engine.dispose()


@pytest.fixture(params=["planner", "walk", "interrupted walks", "rowid lists", "column checks"])
def planner_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param != "planner":  # a built search index serves every free text it can
        monkeypatch.setattr(query_plan, "TEXT_INDEX_SHARE", 2.0)
        monkeypatch.setattr(query_plan, "TEXT_INDEX_PAGE_ROWS", 10**12)
        monkeypatch.setattr(query_plan, "PROPERTY_LOOKUP_RATIO", 0.0)
    if request.param in ("walk", "interrupted walks"):  # always walk the sort index
        monkeypatch.setattr(query_plan, "WALK_ALL_SHARE", 0.0)
    if request.param == "interrupted walks":  # ... and give pages no time: the fallback runs
        monkeypatch.setattr(query_module, "WALK_BUDGET_S", -1.0)
        monkeypatch.setattr(read_turns, "TIME_BOX_STEPS", 1)
    elif request.param == "rowid lists":  # never walk; free text never forces the text index
        monkeypatch.setattr(query_plan, "WALK_ALL_SHARE", 2.0)
        monkeypatch.setattr(query_plan, "FILTER_FIRST_ROWS", 10**12)
        monkeypatch.setattr(query_plan, "FREE_TEXT_INDEX_SHARE", 2.0)
        monkeypatch.setattr(query_plan, "LIST_SHARE_RATIO", 1e9)
    elif request.param == "column checks":  # a property drives wherever it can; columns on its rows
        monkeypatch.setattr(query_plan, "COLUMN_DRIVER_RATIO", 1e9)
        monkeypatch.setattr(query_plan, "COLUMN_LIST_RATIO", 0.0)
    return request.param


SORTS = [SortSpec("email"), SortSpec("email", True), SortSpec("last_surveyed", True), SortSpec("id"),
         SortSpec("created_at"), SortSpec("prop:plan"), SortSpec("prop:revenue_amount", True),
         SortSpec("latest_score"), SortSpec("response_count", True)]


def expected_ids(rows: list[Row], node: FilterNode, sort: SortSpec, kinds: dict[str, str]) -> list[int]:
    kept = [r for r in rows if matches(node, r)]
    key = sort.column[5:] if sort.column.startswith("prop:") else None
    kind = kinds.get(key) if key else None
    ordered = sorted(kept, key=lambda r: (sort_key(sort, r, kind), r.values["id"]), reverse=sort.descending)
    return [r.values["id"] for r in ordered]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw_rows=end_users, text=FILTERS, sort=st.sampled_from(SORTS))
def test_sql_agrees_with_the_reference(scenario: Scenario, planner_mode: str, raw_rows: list[tuple[Any, ...]],
                                       text: str, sort: SortSpec) -> None:
    load(scenario, raw_rows)
    rows = to_rows(raw_rows)
    node = parse_filter(text)
    if sort.column.startswith("prop:") and sort.column[5:] not in scenario.kinds:
        sort = SortSpec("email")  # unindexed property sorts depend on a sample; tested elsewhere
    wanted = expected_ids(rows, node, sort, scenario.kinds)
    query = scenario.query
    assert query.count(text) == len(wanted), text
    assert list(query.ids(text, sort)) == wanted, text
    assert [r.id for r in query.page(text, sort, 1, 3)] == wanted[1:4], text
    batches = list(query.iter_rows(text, sort, batch_size=4))
    assert [r.id for batch in batches for r in batch] == wanted, text
    assert all(0 < len(batch) <= 4 for batch in batches)


# -- one property at a time: denser collisions between data and filter -------------------------

def focused_rows(key: str, seed: int) -> list[tuple[Any, ...]]:
    rnd = random.Random(seed)
    rows = make_rows(24, seed)
    out = []
    for row in rows:
        props = json.loads(row[11])
        roll = rnd.random()
        arrays = seed % 3 != 0  # a third of the time no arrays: equality then skips that branch
        props[key] = ([rnd.choice(WORDS + [10, 1, True]) for _ in range(rnd.randrange(3))] if arrays and roll < 0.2
                      else rnd.choice(WORDS + [10, 10.0, 1, 0, True, False, None, -0.0, 3.5]))
        out.append((*row[:11], json.dumps(props, separators=(",", ":"), ensure_ascii=False), *row[12:]))
    return out


focused_terms = st.one_of(
    equal_values,
    st.tuples(equal_values, equal_values).map("|".join),
    st.tuples(ops, numbers).map("".join),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(["plan", "revenue_amount", "flag", "x'y"]), seed=st.integers(0, 2**32),
       value=focused_terms, negate=st.booleans())
def test_one_property_agrees_with_the_reference(scenario: Scenario, key: str, seed: int, value: str,
                                                negate: bool) -> None:
    raw_rows = focused_rows(key, seed)
    load(scenario, raw_rows)
    name = key if key.isidentifier() else f"prop.{_quoted(key)}"
    text = f"{'-' if negate else ''}{name}:{value}"
    node = parse_filter(text)
    wanted = expected_ids(to_rows(raw_rows), node, SortSpec("id"), scenario.kinds)
    assert list(scenario.query.ids(text, SortSpec("id"))) == wanted, text
    assert scenario.query.count(text) == len(wanted), text


date_filters = st.one_of(
    st.tuples(st.sampled_from(["", ">=", "<", ">", "<="]), dates).map("".join),
    st.tuples(dates, dates).map("..".join),
    st.tuples(ops, st.sampled_from([1, 7, 30, 365]), units).map(lambda p: f"{p[0]}{p[1]}{p[2]}"),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["created", "last_surveyed", "plan_date"]), seed=st.integers(0, 2**32),
       value=date_filters)
def test_dates_agree_with_the_reference_on_the_edges(scenario: Scenario, field: str, seed: int, value: str) -> None:
    rnd = random.Random(seed)
    raw_rows = []
    for row in make_rows(24, seed):  # every value sits on, or a second off, a span's edge
        moment = rnd.choice(EDGES) + rnd.choice([-1, 0, 1])
        props = json.loads(row[11])
        props["plan_date"] = str(moment) if rnd.random() < 0.3 else moment
        raw_rows.append((*row[:4], moment, row[5], moment, *row[7:11],
                         json.dumps(props, separators=(",", ":")), *row[12:]))
    load(scenario, raw_rows)
    text = f"{field}:{value}"
    wanted = expected_ids(to_rows(raw_rows), parse_filter(text), SortSpec("id"), scenario.kinds)
    assert list(scenario.query.ids(text, SortSpec("id"))) == wanted, text


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw_rows=end_users, history=history_terms(), other=terms(), joiner=st.sampled_from([" ", " OR ", " -", " NOT "]),
       negate=st.booleans(), sort=st.sampled_from([*SORTS[:5], *SORTS[-2:]]))
def test_survey_history_agrees_with_the_reference(scenario: Scenario, planner_mode: str,
                                                  raw_rows: list[tuple[Any, ...]], history: str, other: str,
                                                  joiner: str, negate: bool, sort: SortSpec) -> None:
    load(scenario, raw_rows)
    text = f"{'-' if negate else ''}{history}{joiner}{other}"
    wanted = expected_ids(to_rows(raw_rows), parse_filter(text), sort, scenario.kinds)
    assert query_count_and_ids(scenario, text, sort) == (len(wanted), wanted), text
    assert [r.id for r in scenario.query.page(text, sort, 0, 3)] == wanted[:3], text


def query_count_and_ids(scenario: Scenario, text: str, sort: SortSpec) -> tuple[int, list[int]]:
    return scenario.query.count(text), list(scenario.query.ids(text, sort))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw_rows=end_users, name=list_names, other=terms(), joiner=st.sampled_from([" ", " OR ", " -", " NOT "]),
       negate=st.booleans(), sort=st.sampled_from(SORTS[:5]))
def test_kept_lists_agree_with_the_reference(scenario: Scenario, planner_mode: str, raw_rows: list[tuple[Any, ...]],
                                             name: str, other: str, joiner: str, negate: bool, sort: SortSpec) -> None:
    load(scenario, raw_rows)
    text = f"{'-' if negate else ''}list:{name}{joiner}{other}"
    wanted = expected_ids(to_rows(raw_rows), parse_filter(text), sort, scenario.kinds)
    assert list(scenario.query.ids(text, sort)) == wanted, text
    assert scenario.query.count(text) == len(wanted), text
    assert [r.id for r in scenario.query.page(text, sort, 0, 3)] == wanted[:3], text
