"""The filter-bar language: text -> FilterNode tree -> parameterised SQL over `end_user` (Qt-free).

`parse_filter` never touches the database; `compile_filter` turns a tree into a WHERE clause
whose values are all bound parameters. Property keys reach SQL text only through
`indexes.property_sql`, which inlines nothing but quote-free keys.
"""

from __future__ import annotations

import calendar
import difflib
import enum
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from desktop_app.cache.indexes import (
    PropertyCatalog,
    PropertyKind,
    PropertySql,
    is_number_text,
    property_sql,
)


class FilterError(ValueError):
    """A filter that cannot be read; `position` is the 0-based offset of the offending text."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


class FieldKind(enum.Enum):
    TEXT = "text"
    INTEGER = "integer"
    DATE = "date"  # unix seconds


@dataclass(frozen=True, slots=True)
class SeedField:
    """A column of `end_user` that filters can name."""

    column: str
    kind: FieldKind


@dataclass(frozen=True, slots=True)
class PropertyField:
    """A custom property, by its exact (case-sensitive) key."""

    key: str


Target = SeedField | PropertyField

_SEED_FIELDS: dict[str, SeedField] = {
    "email": SeedField("email", FieldKind.TEXT),
    "external_id": SeedField("external_id", FieldKind.TEXT),
    "phone": SeedField("phone_number", FieldKind.TEXT),
    "phone_number": SeedField("phone_number", FieldKind.TEXT),
    "id": SeedField("id", FieldKind.INTEGER),
    "created": SeedField("created_at", FieldKind.DATE),
    "created_at": SeedField("created_at", FieldKind.DATE),
    "updated": SeedField("updated_at", FieldKind.DATE),
    "updated_at": SeedField("updated_at", FieldKind.DATE),
    "last_surveyed": SeedField("last_surveyed", FieldKind.DATE),
    "external_created_at": SeedField("external_created_at", FieldKind.DATE),
}
_SPECIAL_FIELDS = ("has", "is", "surveys", "disabled_by")
FIELD_NAMES: tuple[str, ...] = (
    "email", "external_id", "id", "created", "created_at", "updated", "updated_at",
    "last_surveyed", "external_created_at", "phone", *_SPECIAL_FIELDS,
)
PROPERTY_PREFIX = "prop."


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
    SURVEYS_DISABLED = "surveys_disabled"
    SURVEYS_ENABLED = "surveys_enabled"
    DISABLED_BY_ADMIN = "disabled_by_admin"
    DISABLED_BY_END_USER = "disabled_by_end_user"


@dataclass(frozen=True, slots=True)
class StateIs:
    state: State


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[FilterNode, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[FilterNode, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: FilterNode


FilterNode = MatchAll | FreeText | Equals | Compare | Between | Has | StateIs | And | Or | Not

_STATE_WORDS: dict[str, dict[str, State]] = {
    "is": {"pending": State.PENDING, "conflict": State.CONFLICT, "conflicts": State.CONFLICT,
           "deleted": State.DELETED},
    "surveys": {"disabled": State.SURVEYS_DISABLED, "off": State.SURVEYS_DISABLED,
                "enabled": State.SURVEYS_ENABLED, "on": State.SURVEYS_ENABLED},
    "disabled_by": {"admin": State.DISABLED_BY_ADMIN, "end_user": State.DISABLED_BY_END_USER,
                    "end-user": State.DISABLED_BY_END_USER, "enduser": State.DISABLED_BY_END_USER,
                    "nobody": State.SURVEYS_ENABLED, "none": State.SURVEYS_ENABLED},
}
_OPERATOR = re.compile(r"^(>=|<=|=>|=<|==|!=|<>|><|>|<|=|!)")
_BAD_OPERATORS = {
    "=>": "Unknown operator '=>' — did you mean '>='?",
    "=<": "Unknown operator '=<' — did you mean '<='?",
    "><": "Unknown operator '><' — use a range instead, e.g. seats_count:10..50",
    "==": "Unknown operator '==' — write field:value, e.g. plan:pro",
    "!=": "Unknown operator '!=' — put '-' before a condition to exclude it, e.g. -plan:free",
    "<>": "Unknown operator '<>' — put '-' before a condition to exclude it, e.g. -plan:free",
    "!": "Unknown operator '!' — put '-' before a condition to exclude it, e.g. -plan:free",
}
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_AGE = re.compile(r"^(\d{1,5})([A-Za-z]+)$")
_UNIX = re.compile(r"^\d{5,}$")
_UNIT_NAMES = {"h": "hours", "d": "days", "w": "weeks", "m": "months", "y": "years"}
_KEYWORDS = {"OR", "AND", "NOT"}


@dataclass(slots=True)
class _Token:
    kind: str  # "(", ")", "OR", "AND", "NOT", "TERM", "END"
    position: int
    end: int = 0
    dash: bool = False


@dataclass(frozen=True, slots=True)
class _Piece:
    """A run of a term's text: quoted (literal) or bare (wildcards, operators)."""

    text: str
    quoted: bool
    position: int


def parse_filter(text: str) -> FilterNode:
    """Parse what someone typed in the filter bar; raises FilterError pointing at the problem."""
    return _Parser(text).parse()


MAX_CONDITIONS = 200  # SQLite's expression depth limit is 1000; nobody types more than this
MAX_NESTING = 50


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = self._lex()
        self.index = 0
        self.depth = 0
        terms = [t for t in self.tokens if t.kind == "TERM"]
        if len(terms) > MAX_CONDITIONS:
            raise FilterError(f"Too many conditions — at most {MAX_CONDITIONS}", terms[MAX_CONDITIONS].position)

    # -- lexing --------------------------------------------------------------------------------
    def _lex(self) -> list[_Token]:
        text, tokens, i = self.text, [], 0
        while i < len(text):
            char = text[i]
            if char.isspace():
                i += 1
            elif char in "()":
                tokens.append(_Token(char, i, i + 1))
                i += 1
            elif char == "-":
                if i + 1 == len(text) or text[i + 1].isspace() or text[i + 1] == ")":
                    raise FilterError("'-' needs a condition right after it (quote it to search for '-')", i)
                tokens.append(_Token("NOT", i, i + 1, dash=True))
                i += 1
            else:
                end = self._term_end(i)
                word = text[i:end]
                kind = word.upper() if word.upper() in _KEYWORDS else "TERM"
                tokens.append(_Token(kind, i, end))
                i = end
        tokens.append(_Token("END", len(text), len(text)))
        return tokens

    def _term_end(self, start: int) -> int:
        text, i, quote = self.text, start, -1
        while i < len(text):
            char = text[i]
            if quote >= 0:
                if char == "\\" and i + 1 < len(text):
                    i += 1
                elif char == '"':
                    quote = -1
            elif char == '"':
                quote = i
            elif char.isspace() or char in "()":
                break
            i += 1
        if quote >= 0:
            raise FilterError("Missing closing quote", quote)
        return i

    def _pieces(self, start: int, end: int) -> list[_Piece]:
        pieces, i, text = [], start, self.text
        while i < end:
            if text[i] == '"':
                j, out = i + 1, []
                while text[j] != '"':
                    if text[j] == "\\" and text[j + 1] in '"\\':
                        j += 1
                    out.append(text[j])
                    j += 1
                pieces.append(_Piece("".join(out), True, i))
                i = j + 1
            else:
                j = i
                while j < end and text[j] != '"':
                    j += 1
                pieces.append(_Piece(text[i:j], False, i))
                i = j
        return pieces

    # -- grammar -------------------------------------------------------------------------------
    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def parse(self) -> FilterNode:
        if self.current.kind == "END":
            return MatchAll()
        node = self._or()
        if self.current.kind == ")":
            raise FilterError("Unexpected ')' — there is no '(' to close", self.current.position)
        return node

    def _or(self) -> FilterNode:
        children = [self._and()]
        while self.current.kind == "OR":
            token = self.current
            self.index += 1
            if self.current.kind in ("END", ")", "OR"):
                raise FilterError("OR needs a condition on both sides", token.position)
            children.append(self._and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def _and(self) -> FilterNode:
        children: list[FilterNode] = []
        while self.current.kind not in ("END", ")", "OR"):
            token = self.current
            if token.kind == "AND":
                self.index += 1
                if not children or self.current.kind in ("END", ")", "OR", "AND"):
                    raise FilterError("AND needs a condition on both sides", token.position)
                continue
            children.append(self._unary())
        if not children:
            token = self.current
            if token.kind == "OR":
                raise FilterError("OR needs a condition on both sides", token.position)
            if token.kind == ")":
                raise FilterError("Empty parentheses", token.position)
            raise FilterError("A condition is missing here", token.position)
        flat: list[FilterNode] = []
        for child in children:
            flat.extend(child.children if isinstance(child, And) else (child,))
        return flat[0] if len(flat) == 1 else And(tuple(flat))

    def _unary(self) -> FilterNode:
        token = self.current
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                raise FilterError(f"Nested too deeply — at most {MAX_NESTING} levels", token.position)
            return self._unary_inner(token)
        finally:
            self.depth -= 1

    def _unary_inner(self, token: _Token) -> FilterNode:
        if token.kind == "NOT":
            self.index += 1
            if self.current.kind in ("END", ")", "OR", "AND"):
                what = "'-'" if token.dash else "NOT"
                raise FilterError(f"{what} needs a condition right after it", token.position)
            return Not(self._unary())
        if token.kind == "(":
            self.index += 1
            if self.current.kind == ")":
                raise FilterError("Empty parentheses", token.position)
            inner = self._or()
            if self.current.kind != ")":
                raise FilterError("Missing ')' for this '('", token.position)
            self.index += 1
            return inner
        if token.kind == ")":
            raise FilterError("Unexpected ')' — there is no '(' to close", token.position)
        self.index += 1
        return self._term(token.position, token.end)

    # -- terms ---------------------------------------------------------------------------------
    def _term(self, start: int, end: int) -> FilterNode:
        pieces = self._pieces(start, end)
        for n, piece in enumerate(pieces):
            colon = -1 if piece.quoted else piece.text.find(":")
            if colon >= 0:
                head = pieces[:n] + ([_Piece(piece.text[:colon], False, piece.position)] if colon else [])
                rest = piece.text[colon + 1:]
                tail = ([_Piece(rest, False, piece.position + colon + 1)] if rest else []) + pieces[n + 1:]
                return self._field_term(head, tail, start, piece.position + colon)
        return FreeText(_text(pieces))

    def _field_term(self, head: list[_Piece], tail: list[_Piece], start: int, colon: int) -> FilterNode:
        name, explicit = _field_name(head, start)
        alternatives = _split_alternatives(tail, colon + 1)
        lowered = name.lower()
        if not explicit and lowered in _STATE_WORDS:
            states = [self._state(lowered, alt, pos) for alt, pos in alternatives]
            return _any_of([StateIs(s) for s in states])
        if not explicit and lowered == "has":
            return _any_of([Has(_target(_plain(alt, pos, "has"))) for alt, pos in alternatives])
        target: Target = (
            PropertyField(name) if explicit or lowered not in _SEED_FIELDS else _SEED_FIELDS[lowered]
        )
        label = name if isinstance(target, PropertyField) else lowered
        nodes = [_value_node(target, label, alt, pos) for alt, pos in alternatives]
        equal = [n for n in nodes if isinstance(n, Equals)]
        if len(equal) == len(nodes) and len(nodes) > 1:
            return Equals(target, tuple(v for n in equal for v in n.values))
        return _any_of(nodes)

    def _state(self, field_name: str, alt: list[_Piece], position: int) -> State:
        word = _plain(alt, position, field_name).lower()
        states = _STATE_WORDS[field_name]
        if word in states:
            return states[word]
        choices = sorted({w for w in states if "-" not in w and w != "enduser"})
        close = difflib.get_close_matches(word, list(states), n=1)
        hint = f" — did you mean '{close[0]}'?" if close else f" — use {_or_list(choices)}"
        raise FilterError(f"Unknown value '{word}' for {field_name}:{hint}", position)


def _or_list(words: list[str]) -> str:
    return ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0]


def _any_of(nodes: list[FilterNode]) -> FilterNode:
    return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))


def _text(pieces: list[_Piece]) -> Text:
    parts = [""]
    for piece in pieces:
        if piece.quoted:
            parts[-1] += piece.text
        else:
            chunks = piece.text.split("*")
            parts[-1] += chunks[0]
            parts.extend(chunks[1:])
    return Text(tuple(parts))


def _field_name(head: list[_Piece], start: int) -> tuple[str, bool]:
    if not head:
        raise FilterError("A field name is missing before ':'", start)
    joined = "".join(p.text for p in head)
    explicit = not head[0].quoted and head[0].text.lower().startswith(PROPERTY_PREFIX)
    if explicit:
        joined = joined[len(PROPERTY_PREFIX):]
        if not joined:
            raise FilterError("A property name is missing after 'prop.'", start)
    if any(ord(c) < 32 for c in joined):
        raise FilterError("Property names cannot contain control characters", start)
    if any(p.quoted for p in head):
        explicit = True  # a quoted name is always a property
    return joined, explicit


def _split_alternatives(tail: list[_Piece], position: int) -> list[tuple[list[_Piece], int]]:
    alternatives: list[tuple[list[_Piece], int]] = [([], position)]
    for piece in tail:
        if piece.quoted:
            alternatives[-1][0].append(piece)
            continue
        offset = 0
        for n, chunk in enumerate(piece.text.split("|")):
            if n:
                alternatives.append(([], piece.position + offset))
            if chunk:
                alternatives[-1][0].append(_Piece(chunk, False, piece.position + offset))
            offset += len(chunk) + 1
    for alt, pos in alternatives:
        if not alt:
            raise FilterError("A value is missing after ':' (for example plan:pro)", pos)
    return alternatives


def _plain(alt: list[_Piece], position: int, field_name: str) -> str:
    word = "".join(p.text for p in alt)
    if not word:
        raise FilterError(f"{field_name}: needs a value", position)
    return word


def _target(name: str) -> Target:
    if name.lower().startswith(PROPERTY_PREFIX):
        return PropertyField(name[len(PROPERTY_PREFIX):])
    return _SEED_FIELDS.get(name.lower()) or PropertyField(name)


def _is_date_key(key: str) -> bool:
    return key.lower().endswith(("_date", "_at"))


def _value_node(target: Target, label: str, alt: list[_Piece], position: int) -> FilterNode:
    op: Op | None = None
    first = alt[0]
    if not first.quoted:
        match = _OPERATOR.match(first.text)
        if match:
            symbol = match.group(1)
            if symbol in _BAD_OPERATORS:
                raise FilterError(_BAD_OPERATORS[symbol], first.position)
            rest = first.text[len(symbol):]
            alt = ([_Piece(rest, False, first.position + len(symbol))] if rest else []) + alt[1:]
            if not alt:
                raise FilterError(f"A value is missing after '{symbol}'", first.position)
            op = None if symbol == "=" else Op(symbol)
    quoted = any(p.quoted for p in alt)
    raw = "".join(p.text for p in alt)
    where = alt[0].position
    if isinstance(target, SeedField) and target.kind is FieldKind.TEXT:
        if op is not None:
            raise FilterError(
                f"{label} can't be compared with '{op.value}' — comparisons work on numbers and dates",
                position,
            )
        return Equals(target, (_text(alt),))
    dates = _dated(target)
    if quoted:
        if op is not None or isinstance(target, SeedField):
            raise FilterError(f"'{raw}' is not a number or a date", where)
        return Equals(target, (_text(alt),))
    if ".." in raw:
        low_raw, high_raw = raw.split("..", 1)
        if not low_raw and not high_raw:
            raise FilterError("A range needs at least one end, e.g. 10..50", where)
        if op is not None:
            raise FilterError("Use either a comparison or a range, not both", position)
        low = _range_end(target, label, low_raw, where) if low_raw else None
        high = _range_end(target, label, high_raw, where + len(low_raw) + 2) if high_raw else None
        return Between(target, low, high)
    age = _AGE.match(raw)
    integer = isinstance(target, SeedField) and target.kind is FieldKind.INTEGER
    if age and not integer and (dates or op is not None):
        bound = _age(age, where)
        if op is None:
            span = f"{bound.amount} {_UNIT_NAMES[bound.unit]}"
            raise FilterError(
                f"Say {label}:<{raw} for within the last {span}, or {label}:>{raw} for longer ago", where
            )
        return Compare(target, op, bound)
    span = None if integer else _span(raw, where, dash_only=not dates)
    if span is not None:
        return Compare(target, op, span) if op else Between(target, span, span)
    if isinstance(target, PropertyField):
        if op is None:
            return Equals(target, (_text(alt),))
        if _NUMBER.match(raw):
            return Compare(target, op, Number(float(raw)))
        raise FilterError(f"'{raw}' is not a number or a date", where)
    number = _seed_number(target, label, raw, where)
    return Compare(target, op, number) if op else Equals(target, (number,))


def _dated(target: Target) -> bool:
    """Whether a bare year means a year (created:2024) rather than a number (seats_count:2024)."""
    if isinstance(target, SeedField):
        return target.kind is FieldKind.DATE
    return _is_date_key(target.key)


def _range_end(target: Target, label: str, raw: str, position: int) -> Number | CalendarSpan:
    integer = isinstance(target, SeedField) and target.kind is FieldKind.INTEGER
    span = None if integer else _span(raw, position, dash_only=not _dated(target))
    if span is not None:
        return span
    if isinstance(target, SeedField):
        return _seed_number(target, label, raw, position)
    if _NUMBER.match(raw):
        return Number(float(raw))
    raise FilterError(f"'{raw}' is not a number or a date (quote text that contains '..')", position)


def _seed_number(target: SeedField, label: str, raw: str, position: int) -> Number:
    if target.kind is FieldKind.INTEGER:
        if not raw.isdigit():
            raise FilterError(f"'{raw}' is not a whole number — {label} takes numbers like {label}:12345", position)
        return Number(float(int(raw)))
    if _UNIX.match(raw):
        return Number(float(int(raw)))
    raise FilterError(
        f"'{raw}' is not a date — use 2024, 2024-01, 2024-01-31, <30d or >1y", position
    )


def _span(raw: str, position: int, dash_only: bool) -> CalendarSpan | None:
    match = _DATE.match(raw)
    if not match or (dash_only and match.group(2) is None):
        if re.match(r"^\d{4}-", raw):
            raise FilterError(f"'{raw}' is not a date — use 2024, 2024-01 or 2024-01-31", position)
        return None
    year, month, day = (int(g) if g else None for g in match.groups())
    assert year is not None
    if year < 1 or (month is not None and not 1 <= month <= 12) or (
        day is not None and month is not None and not 1 <= day <= calendar.monthrange(year, month)[1]
    ):
        raise FilterError(f"'{raw}' is not a date — use 2024, 2024-01 or 2024-01-31", position)
    if year >= 9999:
        raise FilterError(f"'{raw}' is too far in the future", position)
    return CalendarSpan(year, month, day)


def _age(match: re.Match[str], position: int) -> Age:
    amount, unit = int(match.group(1)), match.group(2)
    if unit not in ("h", "d", "w", "m", "y"):
        raise FilterError(
            f"Unknown time unit '{unit}' — use h (hours), d (days), w (weeks), m (months) or y (years)",
            position + len(match.group(1)),
        )
    if amount * {"h": 1 / 8760, "d": 1 / 365, "w": 7 / 365, "m": 1 / 12, "y": 1}[unit] > 1000:
        raise FilterError("That is too far back — use at most 1000 years", position)
    return Age(amount, unit)


def describe_syntax() -> str:
    """Short help for the filter bar."""
    return (
        "Words search email and external id (\"quoted phrases\" too).\n"
        "field:value — email, external_id, id, phone, created, updated, last_surveyed,\n"
        "  external_created_at, or any property (plan:pro; prop.name:value when a name clashes;\n"
        "  \"two words\":value). Text matches ignore case; * is a wildcard (email:*@acme.com).\n"
        "  Arrays match when any element matches (features_array:sso). a|b means either.\n"
        "Numbers and dates: revenue_amount:>=1000  seats_count:10..50  created:2024-01..2024-06\n"
        "  last_surveyed:<30d (within the last 30 days; h d w m y)  last_surveyed:>1y (longer ago)\n"
        "has:external_id  has:plan  surveys:disabled|enabled  disabled_by:admin|end_user\n"
        "is:pending  is:conflict  is:deleted\n"
        "Combine: space = AND, OR, NOT or a leading -, and (parentheses)."
    )


# -- SQL ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompileContext:
    """What a compiled filter depends on besides the tree: the time, the zone and the indexes."""

    now: float
    zone: tzinfo = timezone.utc
    catalog: PropertyCatalog = field(default_factory=PropertyCatalog)
    # Keys no end user holds an array under, as checked in the reading snapshot: their
    # equality needs no array branch (which would turn one index lookup into an OR).
    array_free: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class SqlFilter:
    """A WHERE expression over `end_user` and its named parameters."""

    where: str
    params: dict[str, Any]


def compile_filter(node: FilterNode, context: CompileContext) -> SqlFilter:
    compiler = SqlCompiler(context)
    return SqlFilter(compiler.node(node), compiler.params)


def like_pattern(text: Text, substring: bool = False) -> str:
    """A LIKE pattern (escape character '\\') for a Text: its wildcards become %."""
    escaped = [re.sub(r"([\\%_])", r"\\\1", part) for part in text.parts]
    pattern = "%".join(escaped)
    return f"%{pattern}%" if substring else pattern


_STATE_SQL = {
    State.PENDING: "pending_count > 0",
    State.CONFLICT: "has_conflict = 1",
    State.DELETED: "pending_delete = 1",
    State.SURVEYS_DISABLED: "surveys_disabled = 1",
    State.SURVEYS_ENABLED: "surveys_disabled = 0",
    State.DISABLED_BY_ADMIN: "(surveys_disabled = 1 AND disabled_by = 'admin')",
    State.DISABLED_BY_END_USER: "(surveys_disabled = 1 AND disabled_by = 'end_user')",
}
_ESC = "ESCAPE '\\'"


class SqlCompiler:
    """Compiles nodes to SQL; one instance collects the parameters of every piece it makes."""

    def __init__(self, context: CompileContext) -> None:
        self.context = context
        self.params: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def binds(self, values: list[Any]) -> str:
        return ", ".join(self.bind(v) for v in values)

    def node(self, node: FilterNode) -> str:
        match node:
            case MatchAll():
                return "1"
            case And(children):
                return "(" + " AND ".join(self.node(c) for c in children) + ")"
            case Or(children):
                return "(" + " OR ".join(self.node(c) for c in _merge_equals(children)) + ")"
            case Not(child):
                # IS NOT 1: a NULL inside (a missing property) counts as "no match", so its
                # negation matches — `-plan:pro` includes end users without a plan.
                return f"({self.node(child)}) IS NOT 1"
            case FreeText(text):
                pattern = self.bind(like_pattern(text, substring=True))
                return f"(email LIKE {pattern} {_ESC} OR external_id LIKE {pattern} {_ESC})"
            case StateIs(state):
                return _STATE_SQL[state]
            case Has(SeedField(column, kind)):
                return f"{column} > ''" if kind is FieldKind.TEXT else f"{column} IS NOT NULL"
            case Has(PropertyField(key)):
                return self.property_has(key)
            case Equals(SeedField(column, FieldKind.TEXT), values):
                return self.text_equals(column, [v for v in values if isinstance(v, Text)])
            case Equals(SeedField(column, _), values):
                numbers = [_exact(v) for v in values if isinstance(v, Number)]
                return f"{column} IN ({self.binds(numbers)})"
            case Equals(PropertyField(key), values):
                return self.property_equals(key, [v for v in values if isinstance(v, Text)])
            case Compare(target, op, bound):
                sql_op, value = self.resolve(op, bound)
                return f"{self.numeric(target)} {sql_op} {self.bind(value)}"
            case Between(target, low, high):
                expr, terms = self.numeric(target), []
                if low is not None:
                    terms.append(f"{expr} >= {self.bind(self.low(low))}")
                if high is not None:
                    op, value = ("<", high.end(self.context.zone)) if isinstance(high, CalendarSpan) else ("<=", _exact(high))
                    terms.append(f"{expr} {op} {self.bind(value)}")
                return "(" + " AND ".join(terms) + ")"
        raise TypeError(f"not a filter node: {node!r}")

    def low(self, bound: Number | CalendarSpan) -> float | int:
        return bound.start(self.context.zone) if isinstance(bound, CalendarSpan) else _exact(bound)

    def resolve(self, op: Op, bound: Bound) -> tuple[str, float | int]:
        zone = self.context.zone
        if isinstance(bound, Number):
            return op.value, _exact(bound)
        if isinstance(bound, Age):
            cutoff = bound.cutoff(self.context.now, zone)
            return (">=", cutoff) if op in (Op.LT, Op.LE) else ("<", cutoff)
        if op is Op.GE:
            return ">=", bound.start(zone)
        if op is Op.GT:
            return ">=", bound.end(zone)
        if op is Op.LT:
            return "<", bound.start(zone)
        return "<", bound.end(zone)

    def numeric(self, target: Target) -> str:
        if isinstance(target, SeedField):
            return target.column
        return self.prop(target.key).number

    def prop(self, key: str) -> PropertySql:
        sql = property_sql(key, f"k{len(self.params)}")
        self.params.update(sql.params)  # the key itself, when it is too odd to inline
        return sql

    def text_equals(self, column: str, values: list[Text]) -> str:
        literals = [v.text for v in values if v.literal]
        # COLLATE on the left operand: SQLite 3.40 turns `x = ? COLLATE NOCASE OR x = ?
        # COLLATE NOCASE` into an IN on x's BINARY index and loses the collation (wrong rows).
        terms = [f"{column} COLLATE NOCASE IN ({self.binds(literals)})"] if literals else []
        terms += [f"{column} LIKE {self.bind(like_pattern(v))} {_ESC}" for v in values if not v.literal]
        return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"

    def property_has(self, key: str) -> str:
        sql = self.prop(key)
        index = self.context.catalog.index_for(key) if sql.indexable else None
        v, n = sql.value, sql.number
        if index is PropertyKind.TEXT:
            return f"({v} COLLATE NOCASE > '' OR {v} COLLATE NOCASE < '')"
        if index is PropertyKind.NUMBER:
            return f"({n} IS NOT NULL OR ({n} IS NULL AND {v} IS NOT NULL AND {v} <> ''))"
        return f"({v} IS NOT NULL AND {v} <> '')"

    def property_equals(self, key: str, values: list[Text]) -> str:
        """Text equal ignoring case, a number equal to a typed number, true/false, or an array
        with such an element. Each branch is written so the key's index (if any) serves it."""
        sql = self.prop(key)
        index = self.context.catalog.index_for(key) if sql.indexable else None
        v, t, n = sql.value, sql.type, sql.number
        literals = [x.text for x in values if x.literal]
        numbers = [float(s) for s in literals if is_number_text(s)]
        bools = sorted({s.lower() for s in literals if s.lower() in ("true", "false")})
        branches: list[str] = []
        element: list[str] = []
        if literals:
            texts = self.binds(literals)
            # JSON text of an array or object can only equal a value starting with [ or {.
            only_text = f" AND {t} = 'text'" if any(s[:1] in ("[", "{") for s in literals) else ""
            if index is PropertyKind.NUMBER:
                plain = [s for s in literals if not is_number_text(s)]
                if plain:
                    branches.append(f"({n} IS NULL AND {v} COLLATE NOCASE IN ({self.binds(plain)}){only_text})")
                if numbers:
                    numeric_texts = self.binds([s for s in literals if is_number_text(s)])
                    branches.append(
                        f"({n} IN ({self.binds(numbers)}) AND {v} COLLATE NOCASE IN ({numeric_texts}))"
                    )
            else:
                branches.append(f"({v} COLLATE NOCASE IN ({texts}){only_text})")
            element.append(f"(e.type = 'text' AND e.value COLLATE NOCASE IN ({texts}))")
        if numbers:
            nums = self.binds(numbers)
            if index is PropertyKind.NUMBER:
                branches.append(f"({n} IN ({nums}) AND {t} IN ('integer', 'real'))")
            else:
                # true and false come back from json_extract as 1 and 0: tell them apart.
                guard = f" AND {t} IN ('integer', 'real')" if any(x in (0.0, 1.0) for x in numbers) else ""
                branches.append(f"({v} COLLATE NOCASE IN ({nums}){guard})")
            element.append(f"(e.type IN ('integer', 'real') AND e.value IN ({nums}))")
        if bools:
            kinds = ", ".join(f"'{b}'" for b in bools)  # fixed words, not user text
            if index is PropertyKind.NUMBER:
                branches.append(f"({n} IS NULL AND {t} IN ({kinds}))")
            else:
                ones = ", ".join("1" if b == "true" else "0" for b in bools)
                branches.append(f"({v} COLLATE NOCASE IN ({ones}) AND {t} IN ({kinds}))")
            element.append(f"e.type IN ({kinds})")
        for wildcard in (x for x in values if not x.literal):
            pattern = self.bind(like_pattern(wildcard))
            branches.append(f"({t} = 'text' AND {v} LIKE {pattern} {_ESC})")
            element.append(f"(e.type = 'text' AND e.value LIKE {pattern} {_ESC})")
        if key in self.context.array_free:
            return "(" + " OR ".join(branches) + ")" if branches else "0"
        if index is PropertyKind.NUMBER:
            guard = f"{n} IS NULL AND {t} = 'array'"
        elif sql.indexable:
            # Arrays come back as JSON text starting with '[': one index range finds them.
            guard = f"{v} COLLATE NOCASE >= '[' AND {v} COLLATE NOCASE < '\\' AND {t} = 'array'"
        else:
            guard = f"{t} = 'array'"
        members = " OR ".join(element)
        branches.append(f"({guard} AND EXISTS (SELECT 1 FROM {sql.elements} AS e WHERE {members}))")
        return "(" + " OR ".join(branches) + ")"


def _exact(number: Number) -> float | int:
    value = number.value
    return int(value) if value.is_integer() and abs(value) < 2**63 else value


def _merge_equals(children: tuple[FilterNode, ...]) -> list[FilterNode]:
    """`plan:pro OR plan:team` -> one Equals: one index lookup list instead of an OR of scans."""
    merged: list[FilterNode] = []
    seen: dict[Target, int] = {}
    for child in children:
        if isinstance(child, Equals) and isinstance(child.target, PropertyField):
            if child.target in seen:
                at = seen[child.target]
                previous = merged[at]
                assert isinstance(previous, Equals)
                merged[at] = Equals(child.target, previous.values + child.values)
                continue
            seen[child.target] = len(merged)
        merged.append(child)
    return merged
