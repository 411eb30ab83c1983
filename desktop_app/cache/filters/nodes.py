"""The filter language's tree: what `parse_filter` builds and `SqlCompiler` reads.

Fields (a seed column or a property), typed values (text with wildcards, numbers, calendar
spans, ages) and the nodes combining them; frozen, so trees compare and hash by value.
"""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from desktop_app.fields import EndUserField, FieldKind



@dataclass(frozen=True, slots=True)
class SeedField:
    """A column of `end_user` that filters can name (text, integer or date: `fields.FIELDS`)."""

    column: str
    kind: FieldKind

    @classmethod
    def of(cls, field: EndUserField) -> SeedField:
        return cls(field.key, field.kind)


@dataclass(frozen=True, slots=True)
class PropertyField:
    """A custom property, by its exact (case-sensitive) key."""

    key: str


@dataclass(frozen=True, slots=True)
class HistoryField:
    """A number of the end user's survey history, kept in `survey_summary` (`score:`,
    `responded:`, `responses:`, `declines:`). `name` is the term's name, for words and errors."""

    column: str
    kind: FieldKind
    name: str


Target = SeedField | PropertyField | HistoryField


class Op(enum.Enum):
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


@dataclass(frozen=True, slots=True)
class Text:
    """Typed text; `parts` are the pieces between `*` wildcards (one part: no wildcard)."""

    parts: tuple[str, ...]

    @property
    def literal(self) -> bool:
        return len(self.parts) == 1

    @property
    def text(self) -> str:
        return "*".join(self.parts)


@dataclass(frozen=True, slots=True)
class Number:
    value: float


@dataclass(frozen=True, slots=True)
class CalendarSpan:
    """A year, a month or a day, in the zone the query runs in."""

    year: int
    month: int | None = None
    day: int | None = None

    def start(self, zone: tzinfo) -> int:
        return int(datetime(self.year, self.month or 1, self.day or 1, tzinfo=zone).timestamp())

    def end(self, zone: tzinfo) -> int:
        """The first second after the span."""
        start = datetime(self.year, self.month or 1, self.day or 1, tzinfo=zone)
        if self.day is not None:
            nxt = (start.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=zone)
        elif self.month is not None:
            nxt = start.replace(year=self.year + self.month // 12, month=self.month % 12 + 1)
        else:
            nxt = start.replace(year=self.year + 1)
        return int(nxt.timestamp())


@dataclass(frozen=True, slots=True)
class Age:
    """"30d" in `last_surveyed:<30d`: a distance back from now (h, d, w, calendar m and y)."""

    amount: int
    unit: str

    def cutoff(self, now: float, zone: tzinfo) -> int:
        moment = datetime.fromtimestamp(now, tz=zone)
        if self.unit in "hdw":
            hours = self.amount * {"h": 1, "d": 24, "w": 24 * 7}[self.unit]
            return int(now - hours * 3600)
        months = self.amount * (12 if self.unit == "y" else 1)
        year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
        day = min(moment.day, calendar.monthrange(year, month + 1)[1])
        return int(moment.replace(year=year, month=month + 1, day=day).timestamp())


Bound = Number | CalendarSpan | Age


@dataclass(frozen=True, slots=True)
class MatchAll:
    pass


@dataclass(frozen=True, slots=True)
class FreeText:
    """Case-insensitive substring of email or external id."""

    text: Text


@dataclass(frozen=True, slots=True)
class Equals:
    """`field:value` (several values from `a|b`): text, number or array membership."""

    target: Target
    values: tuple[Text | Number, ...]


@dataclass(frozen=True, slots=True)
class Compare:
    target: Target
    op: Op
    bound: Bound


@dataclass(frozen=True, slots=True)
class Between:
    """Inclusive range; a calendar span as `high` includes the whole span."""

    target: Target
    low: Number | CalendarSpan | None
    high: Number | CalendarSpan | None


@dataclass(frozen=True, slots=True)
class Has:
    target: Target


class State(enum.Enum):
    PENDING = "pending"
    CONFLICT = "conflict"
    DELETED = "deleted"
    ERASURE_PENDING = "erasure_pending"
    SURVEYS_DISABLED = "surveys_disabled"
    SURVEYS_ENABLED = "surveys_enabled"
    DISABLED_BY_ADMIN = "disabled_by_admin"
    DISABLED_BY_END_USER = "disabled_by_end_user"


@dataclass(frozen=True, slots=True)
class StateIs:
    state: State


@dataclass(frozen=True, slots=True)
class InList:
    """`list:<name>`: the end users a kept list matched (the name ignoring case). Whether such
    a list exists is a read, so the planner checks it; `position` points its error at the term."""

    name: str
    position: int = field(default=0, compare=False)


class NpsGroup(enum.Enum):
    """Wootric's three groups of a 0-10 score: (lowest, highest) score of each."""

    DETRACTOR = (0, 6)
    PASSIVE = (7, 8)
    PROMOTER = (9, 10)


@dataclass(frozen=True, slots=True)
class NpsIs:
    """`nps:detractor`: the latest counted response's score falls in the group."""

    group: NpsGroup


@dataclass(frozen=True, slots=True)
class HasHistory:
    """`has:response` / `has:decline`: at least one, excluded responses included."""

    what: str  # "response" or "decline"


@dataclass(frozen=True, slots=True)
class CommentHas:
    """`comment:"too slow"`: some response's text contains this (ignoring case; * a wildcard)."""

    text: Text


@dataclass(frozen=True, slots=True)
class TagIs:
    """`tag:billing`: some response carries a tag equal to one of these (ignoring case)."""

    values: tuple[Text, ...]


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[FilterNode, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[FilterNode, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: FilterNode


FilterNode = (MatchAll | FreeText | Equals | Compare | Between | Has | StateIs | InList | NpsIs | HasHistory
              | CommentHas | TagIs | And | Or | Not)
