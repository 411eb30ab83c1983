"""Random and adversarial filter text, and the one rule it checks: the filter language answers
anything with results or its own FilterError, never another exception.

Used by `test_filter_fuzz.py` (a few hundred cases in CI) and `benchmarks/fuzz_filters.py` (the
10,000-case soak). Each case is parsed, compiled and run (count and a first page) on a real cache.
"""

from __future__ import annotations

import random
import traceback
from collections.abc import Iterator
from dataclasses import dataclass

from desktop_app.cache.filters.language import FilterError
from desktop_app.cache.reading.query import EndUserQuery

KEYS = ["email", "external_id", "id", "phone", "plan", "seats", "revenue_amount", "signup_date",
        "renewed_at", "features_array", "prop.plan", "prop.email", '"revenue amount"', "is",
        "has", "surveys", "disabled_by", "created", "created_at", "updated", "last_surveyed",
        "pla", "", "Ünïcode", "x" * 300, "list", "LIST", "prop.list", "score", "nps", "responded",
        "responses", "declines", "comment", "tag", "prop.score"]
VALUES = ["pro", "Pro|team", "", "*", "**", "*@acme.com", ">=1000", "<10", "10..50", "..", ">",
          ">=", "=>", "<30d", ">1y", "<0d", "<99999999y", "2024", "2024-01..2024-06", "2024-13-45",
          ">2024-06", "1e308", "-1", "nan", "inf", "0x10", "99999999999999999999999", "pending",
          "pendng", "conflict", "deleted", "disabled", "enabled", "admin|end_user", '"quoted"',
          '"unbalanced', "'single'", "%", "_", "\\", "\\*", "(", ")", "|", "||", "a|", "|a",
          "week", '"last week"', '"Last Week"|week', "wek", "detractor", "promotr", "<=6", "slow", "billing", "response", '"x\') OR 1=1 --"']
JOINERS = [" ", " ", " ", " AND ", " OR ", " NOT ", " -", " (", ") ", "  ", "\t", "\n"]
ODD = ["\x00", "\ud800", "\udfff", "\U0001f600", "\u202e", "\ufeff", "＝", "ß", "İ", "\r\n",
       "\u0301", "\x7f", "\\\"", "'", "`", ";", "--", "/*", "*/", "DROP TABLE end_user"]


@dataclass(frozen=True)
class FuzzFailure:
    text: str
    error: str


def _term(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.55:
        key = rng.choice(KEYS)
        return f"{rng.choice(['', '-'])}{key}:{rng.choice(VALUES)}"
    if roll < 0.75:
        return rng.choice(VALUES + ODD)
    if roll < 0.9:
        return "".join(chr(rng.choice([rng.randrange(32, 127), rng.randrange(0x80, 0x3000),
                                       rng.randrange(0xD800, 0xE000), rng.randrange(0, 32)]))
                       for _ in range(rng.randrange(1, 12)))
    return rng.choice(["acme", "*", "a", "%_"]) * rng.choice([1000, 20_000, 60_000])


def filter_cases(seed: int, count: int) -> Iterator[str]:
    """`count` filter texts: terms, joiners and odd characters in random arrangements."""
    rng = random.Random(seed)
    for _ in range(count):
        parts = [_term(rng) for _ in range(rng.choice([1, 1, 2, 3, 5, 12, 250]))]
        text = parts[0]
        for part in parts[1:]:
            text += rng.choice(JOINERS) + part
        if rng.random() < 0.1:
            text = "(" * rng.choice([1, 60, 2000]) + text
        yield text


def run_case(query: EndUserQuery, text: str) -> FuzzFailure | None:
    """None when the filter answered (rows or a FilterError); the failure otherwise."""
    try:
        query.count(text)
        query.page(text, limit=5)
    except FilterError as exc:
        if not str(exc):
            return FuzzFailure(text, "a FilterError without a message")
    except Exception:  # noqa: BLE001 - anything else is the bug this fuzz exists to find
        return FuzzFailure(text, traceback.format_exc(limit=3))
    return None
