"""The NPS of whatever a filter shows, over a period: the panel's numbers, Qt-free.

What counts is what Wootric's own `nps_summary` (and its dashboard) counts: **every response**
created in the period, not each person's latest, with responses `excluded_from_calculations`
left out. Promoters score 9-10, passives 7-8, detractors 0-6, and the NPS is
100 x (promoters - detractors) / responses, rounded half away from zero as the service rounds.
The empty filter counts every cached response, as the service does; any other filter counts
the responses of the end users it shows (a response whose end user is not cached yet counts
only there).

Months start at midnight on the 1st in the account zone (the service's, Pacific by default), so
the line chart's points are the months the dashboard shows. Two partial covering indexes hold
only the responses that count: the empty filter counts ranges of `ix_response_nps` (score,
created_at), one per month and score, and reads nothing else; any other filter lets its end
users drive into `ix_response_nps_by_user` (end_user_id, created_at, score), the month of a
row found by a balanced CASE over the month starts. "All" runs from the first cached response
that counts to the last.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from desktop_app.cache.reading.plan import Plan
from desktop_app.timestamps import PACIFIC

ACCOUNT_ZONE: tzinfo = PACIFIC  # where the service's days and months begin (wootric-api.md)
SCORES = range(11)
LONGEST_PERIOD_S = 100 * 366 * 86_400  # a longer period is cut to the responses' own span
NPS_INDEX = "ix_response_nps"  # (score, created_at, ...): the whole account's counts
NPS_USER_INDEX = "ix_response_nps_by_user"  # (end_user_id, created_at, score): a filter's


def round_half_away(value: float) -> int:
    """Rounding as the service does it (2.5 -> 3, -2.5 -> -3), not Python's to-even."""
    return int(value + 0.5) if value >= 0 else -int(-value + 0.5)


@dataclass(frozen=True, slots=True)
class ScoreCounts:
    """Responses by score (0-10) and the NPS numbers they make."""

    distribution: tuple[int, ...]  # 11 counts, index = score

    @property
    def responses(self) -> int:
        return sum(self.distribution)

    @property
    def detractors(self) -> int:
        return sum(self.distribution[0:7])

    @property
    def passives(self) -> int:
        return sum(self.distribution[7:9])

    @property
    def promoters(self) -> int:
        return sum(self.distribution[9:11])

    def share(self, count: int) -> float:
        """`count` as a share (0-1) of the responses; 0 without responses."""
        return count / self.responses if self.responses else 0.0

    @property
    def exact_nps(self) -> float | None:
        if not self.responses:
            return None
        return 100 * (self.promoters - self.detractors) / self.responses

    @property
    def nps(self) -> int | None:
        """The NPS as the service shows it (a whole number); None without responses."""
        exact = self.exact_nps
        return None if exact is None else round_half_away(exact)


@dataclass(frozen=True, slots=True)
class MonthScores:
    """One month of the period (the first and last may be partial): `start` is unix seconds."""

    year: int
    month: int
    start: int
    counts: ScoreCounts

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class NpsReport:
    """The NPS panel's numbers for one filter and period [start, end)."""

    start: int | None  # None: no response in the period (and no period asked for)
    end: int | None
    counts: ScoreCounts
    months: tuple[MonthScores, ...]

    @property
    def empty(self) -> bool:
        return self.counts.responses == 0


def month_start(moment: int, zone: tzinfo) -> datetime:
    local = datetime.fromtimestamp(moment, zone)
    return datetime(local.year, local.month, 1, tzinfo=zone)


def months_back(now: float, months: int, zone: tzinfo = ACCOUNT_ZONE) -> int:
    """The start of the period "last `months` months": the current month and the ones before."""
    first = month_start(int(now), zone)
    index = first.year * 12 + first.month - 1 - (months - 1)
    return int(datetime(index // 12, index % 12 + 1, 1, tzinfo=zone).timestamp())


def month_bounds(start: int, end: int, zone: tzinfo) -> list[tuple[int, int, int]]:
    """(year, month, first second) of each month that [start, end) touches, in order; the first
    one starts at `start`."""
    first = month_start(start, zone)
    out: list[tuple[int, int, int]] = []
    year, month = first.year, first.month
    moment = start
    while moment < end:
        out.append((year, month, moment))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        moment = int(datetime(year, month, 1, tzinfo=zone).timestamp())
    return out


def _bucket_sql(starts: Sequence[int], low: int, high: int, column: str) -> str:
    """A balanced CASE giving the index of the month holding `column` (log2 comparisons)."""
    if high - low == 1:
        return str(low)
    middle = (low + high) // 2
    return (f"CASE WHEN {column} < {int(starts[middle])} THEN {_bucket_sql(starts, low, middle, column)}"
            f" ELSE {_bucket_sql(starts, middle, high, column)} END")


# The whole account: one range count per month and score along the score-major index. No
# row is sorted or grouped (a GROUP BY over three million rows sorts them all: 2.4 s).
_RANGE_COUNT = (f"SELECT count(*) FROM response INDEXED BY {NPS_INDEX}"
                " WHERE excluded_from_calculations = 0 AND score = ? AND created_at >= ? AND created_at < ?")


_OF_SCORE = f"FROM response INDEXED BY {NPS_INDEX} WHERE excluded_from_calculations = 0 AND score = ?"


def _scalar(raw: sqlite3.Connection, sql: str, score: int) -> int | None:
    value = raw.execute(sql, (score,)).fetchone()[0]
    return None if value is None else int(value)


def _data_span(raw: sqlite3.Connection) -> tuple[int | None, int | None]:
    """The first and last created_at of the responses that count."""
    # min and max apart: SQLite seeks for one of them, but scans the range for both at once
    lows = [_scalar(raw, f"SELECT min(created_at) {_OF_SCORE}", score) for score in SCORES]
    highs = [_scalar(raw, f"SELECT max(created_at) {_OF_SCORE}", score) for score in SCORES]
    return (min((v for v in lows if v is not None), default=None),
            max((v for v in highs if v is not None), default=None))


def _account_grid(raw: sqlite3.Connection, edges: Sequence[int]) -> list[list[int]]:
    return [[raw.execute(_RANGE_COUNT, (score, low, high)).fetchone()[0] for score in SCORES]
            for low, high in zip(edges, edges[1:])]


def _shown_grid(raw: sqlite3.Connection, plan: Plan, edges: Sequence[int]) -> list[list[int]]:
    """The filter's end users drive (CROSS JOIN keeps them outside): each one's responses of the
    period are one short range of the by-user index, which also holds the score."""
    bucket = _bucket_sql(edges[:-1], 0, len(edges) - 1, "r.created_at")
    rows = raw.execute(
        f"SELECT {bucket} * 16 + r.score AS k, count(*)"
        f" FROM (SELECT id FROM {plan.source} WHERE {plan.where}) AS shown"
        f" CROSS JOIN response AS r INDEXED BY {NPS_USER_INDEX} ON r.end_user_id = shown.id"
        " WHERE r.excluded_from_calculations = 0 AND r.created_at >= :_nps_start"
        " AND r.created_at < :_nps_end GROUP BY k",
        {**plan.params, "_nps_start": edges[0], "_nps_end": edges[-1]}).fetchall()
    grid = [[0] * 11 for _ in edges[1:]]
    for key, count in rows:
        month, score = divmod(key, 16)
        if 0 <= score <= 10:  # the service's range; anything else is not an NPS answer
            grid[month][score] += count
    return grid


def read_nps(raw: sqlite3.Connection, plan: Plan | None, start: int | None, end: int | None,
             zone: tzinfo = ACCOUNT_ZONE) -> NpsReport:
    """The report over [start, end) for the end users of `plan` (None: every response).

    `start`/`end` None stretch the period to the first/last cached response that counts.
    Runs in the caller's snapshot; a cancel reaches it through the caller's progress handler.
    """
    if start is None or end is None or end - start > LONGEST_PERIOD_S:
        # None, or a period longer than the months worth drawing: what the responses span
        low, high = _data_span(raw)
        if low is None or high is None:
            return NpsReport(start, end, ScoreCounts((0,) * 11), ())
        start = low if start is None else max(start, low)
        end = high + 1 if end is None else min(end, high + 1)
    if end <= start:
        return NpsReport(start, end, ScoreCounts((0,) * 11), ())
    bounds = month_bounds(start, end, zone)
    edges = [b[2] for b in bounds] + [end]
    grid = _account_grid(raw, edges) if plan is None else _shown_grid(raw, plan, edges)
    months = tuple(MonthScores(y, m, s, ScoreCounts(tuple(grid[i]))) for i, (y, m, s) in enumerate(bounds))
    total = tuple(sum(row[score] for row in grid) for score in SCORES)
    return NpsReport(start, end, ScoreCounts(total), months)
