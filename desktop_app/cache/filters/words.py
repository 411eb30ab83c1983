"""A filter in plain words, for confirmations: `is:pending plan:pro` → "with local edits not
yet sent and plan is “pro”". Reads the parsed tree, so it says what the query will do, not
what the text looks like (Qt-free; never touches the database)."""

from __future__ import annotations

from desktop_app.cache.filters.nodes import (
    Age,
    And,
    Between,
    CalendarSpan,
    CommentHas,
    Compare,
    Equals,
    FilterNode,
    FreeText,
    Has,
    HasHistory,
    HistoryField,
    InList,
    MatchAll,
    Not,
    NpsGroup,
    NpsIs,
    Number,
    Op,
    Or,
    PropertyField,
    State,
    StateIs,
    TagIs,
    Target,
    Text,
)
from desktop_app.cache.filters.parse import parse_filter
from desktop_app.fields import FIELDS_BY_KEY

_STATE_WORDS = {
    State.PENDING: "with local edits not yet sent",
    State.CONFLICT: "with a conflict to resolve",
    State.DELETED: "deleted here, not yet on the service",
    State.ERASURE_PENDING: "being erased: the service took the delete and purges them later",
    State.SURVEYS_DISABLED: "with surveys off",
    State.SURVEYS_ENABLED: "with surveys on",
    State.DISABLED_BY_ADMIN: "with surveys turned off by an admin",
    State.DISABLED_BY_END_USER: "who opted out of surveys themselves",
}
# The history's numbers inside a sentence ("whose latest score is at most 6").
_HISTORY_WORDS = {"latest_score": "latest score", "latest_response_at": "last responded",
                  "response_count": "responses", "decline_count": "declines"}
_NPS_WORDS = {NpsGroup.DETRACTOR: "detractors (latest score 0–6)", NpsGroup.PASSIVE: "passives (latest score 7–8)",
              NpsGroup.PROMOTER: "promoters (latest score 9–10)"}
_UNITS = {"h": "hour", "d": "day", "w": "week", "m": "month", "y": "year"}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def describe_filter(text: str) -> str:
    """The filter in words; raises FilterError as `parse_filter` does."""
    return describe_node(parse_filter(text))


def describe_node(node: FilterNode) -> str:
    if isinstance(node, MatchAll):
        return "everyone"
    if isinstance(node, FreeText):
        return f"email or external id containing {_text(node.text)}"
    if isinstance(node, Equals):
        return f"{_field(node.target)} is " + " or ".join(_value(v) for v in node.values)
    if isinstance(node, Compare):
        return _compare(node)
    if isinstance(node, Between):
        low = _bound(node.low) if node.low is not None else None
        high = _bound(node.high) if node.high is not None else None
        if low is not None and low == high:
            return f"{_field(node.target)} in {low}"  # `created:2024` is one calendar span
        if low is not None and high is not None:
            return f"{_field(node.target)} from {low} to {high}"
        if low is not None:
            return f"{_field(node.target)} at least {low}"
        return f"{_field(node.target)} at most {high}"
    if isinstance(node, Has):
        return f"{_field(node.target)} is set"
    if isinstance(node, StateIs):
        return _STATE_WORDS[node.state]
    if isinstance(node, InList):
        return f"on the kept list “{node.name}”"
    if isinstance(node, NpsIs):
        return _NPS_WORDS[node.group]
    if isinstance(node, HasHistory):
        return "who responded to a survey" if node.what == "response" else "who declined a survey"
    if isinstance(node, CommentHas):
        return f"with a response comment containing {_text(node.text)}"
    if isinstance(node, TagIs):
        return "with a response tagged " + " or ".join(_text(v) for v in node.values)
    if isinstance(node, And):
        return " and ".join(_grouped(child, Or) for child in node.children)
    if isinstance(node, Or):
        return " or ".join(_grouped(child, And) for child in node.children)
    if isinstance(node, Not):
        return f"not ({describe_node(node.child)})"
    raise TypeError(f"not a filter node: {node!r}")


def _grouped(node: FilterNode, other: type) -> str:
    words = describe_node(node)
    return f"({words})" if isinstance(node, other) else words


def _field(target: Target) -> str:
    if isinstance(target, PropertyField):
        return target.key
    if isinstance(target, HistoryField):
        return _HISTORY_WORDS[target.column]
    seed = FIELDS_BY_KEY.get(target.column)
    return seed.words if seed is not None else target.column


def _text(text: Text) -> str:
    return f"“{text.text}”" if text.literal else f"“{text.text}” (* is any text)"


def _number(number: Number) -> str:
    value = number.value
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def _value(value: Text | Number) -> str:
    return _number(value) if isinstance(value, Number) else _text(value)


def _bound(bound: Number | CalendarSpan | Age) -> str:
    if isinstance(bound, Number):
        return _number(bound)
    if isinstance(bound, CalendarSpan):
        if bound.month is None:
            return str(bound.year)
        if bound.day is None:
            return f"{_MONTHS[bound.month - 1]} {bound.year}"
        return f"{bound.year:04d}-{bound.month:02d}-{bound.day:02d}"
    unit = _UNITS.get(bound.unit, bound.unit)
    return f"{bound.amount} {unit}{'' if bound.amount == 1 else 's'}"


def _compare(node: Compare) -> str:
    name, bound = _field(node.target), node.bound
    if isinstance(bound, Age):
        # An age counts back from now: `<30d` is recent, `>1y` is long ago.
        if node.op in (Op.LT, Op.LE):
            return f"{name} within the last {_bound(bound)}"
        return f"{name} more than {_bound(bound)} ago"
    if isinstance(bound, CalendarSpan):
        words = {Op.LT: "before", Op.LE: "up to the end of", Op.GT: "after", Op.GE: "from"}
        return f"{name} {words[node.op]} {_bound(bound)}"
    words = {Op.LT: "below", Op.LE: "at most", Op.GT: "above", Op.GE: "at least"}
    return f"{name} {words[node.op]} {_bound(bound)}"
