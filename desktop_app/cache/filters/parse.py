"""Reading the filter bar: text -> `FilterNode` tree, with errors that point at the problem
(and say "did you mean" where they can). Never touches the database.
"""

from __future__ import annotations

import calendar
import difflib
import re
import textwrap
from dataclasses import dataclass

from desktop_app.cache.filters.nodes import (
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
    NpsGroup,
    NpsIs,
    Number,
    Op,
    Or,
    PropertyField,
    SeedField,
    State,
    StateIs,
    TagIs,
    Target,
    Text,
)
from desktop_app.fields import filter_fields, is_date_property
from desktop_app.user_errors import ErrorKind, UserFacingError


class FilterError(UserFacingError, ValueError):
    """A filter that cannot be read; `position` is the 0-based offset of the offending text."""

    title = "The filter could not be read"
    kind = ErrorKind.INPUT

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


# The seed fields `name:value` reaches, by key and by short name (`created`, `phone`).
_SEED_FIELDS: dict[str, SeedField] = {
    name: SeedField.of(field)
    for field in filter_fields()
    for name in (field.short, field.key) if name
}
# The survey history's terms (`survey_summary`; see docs/filter-language.md "Scores"): `score:`
# and `responded:` read the latest response that counts (not excluded from calculations, as
# Wootric's NPS), `responses:`/`declines:` count every one. These names shadow properties of
# the same name, which `prop.score:` still reaches.
HISTORY_FIELDS: dict[str, HistoryField] = {
    "score": HistoryField("latest_score", FieldKind.INTEGER, "score"),
    "responded": HistoryField("latest_response_at", FieldKind.DATE, "responded"),
    "responses": HistoryField("response_count", FieldKind.INTEGER, "responses"),
    "declines": HistoryField("decline_count", FieldKind.INTEGER, "declines"),
}
_HISTORY_EXAMPLES = {"score": "score:<=6", "responses": "responses:>=3", "declines": "declines:>=2"}
NPS_WORDS: dict[str, NpsGroup] = {
    "detractor": NpsGroup.DETRACTOR, "detractors": NpsGroup.DETRACTOR,
    "passive": NpsGroup.PASSIVE, "passives": NpsGroup.PASSIVE,
    "promoter": NpsGroup.PROMOTER, "promoters": NpsGroup.PROMOTER,
}
HAS_HISTORY_WORDS = {"response": "response", "responses": "response", "decline": "decline",
                     "declines": "decline"}
_SPECIAL_FIELDS = ("has", "is", "surveys", "disabled_by", "list", "nps", "comment", "tag")
FIELD_NAMES: tuple[str, ...] = (*_SEED_FIELDS, *HISTORY_FIELDS, *_SPECIAL_FIELDS)
# `prop.name:value` names a property whose name a seed field or a word also has. (Columns,
# sorts and exports spell it `prop:name`, `fields.PROPERTY_PREFIX`; a filter's colon is taken.)
FILTER_PROPERTY_PREFIX = "prop."

_STATE_WORDS: dict[str, dict[str, State]] = {
    "is": {"pending": State.PENDING, "conflict": State.CONFLICT, "conflicts": State.CONFLICT,
           "deleted": State.DELETED, "erasure-pending": State.ERASURE_PENDING,
           "erasure_pending": State.ERASURE_PENDING},
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


MAX_FILTER_LENGTH = 10_000  # a term's LIKE pattern must stay under SQLite's 50,000 bytes
_NOT_TEXT = re.compile("[\ud800-\udfff\x00]")  # lone surrogates (undecodable bytes), NUL


def parse_filter(text: str) -> FilterNode:
    """Parse what someone typed in the filter bar; raises FilterError pointing at the problem."""
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterError(
            f"The filter is too long ({len(text):,} characters; at most {MAX_FILTER_LENGTH:,})",
            MAX_FILTER_LENGTH,
        )
    odd = _NOT_TEXT.search(text)
    if odd is not None:
        raise FilterError("The filter holds a character that is not text (a broken byte?)",
                          odd.start())
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
            return _any_of([_has(_plain(alt, pos, "has")) for alt, pos in alternatives])
        if not explicit and lowered == "nps":
            return _any_of([NpsIs(_nps_group(_plain(alt, pos, "nps"), pos)) for alt, pos in alternatives])
        if not explicit and lowered == "comment":  # any response's text, as free text is read
            return _any_of([CommentHas(_text(alt)) for alt, _ in alternatives])
        if not explicit and lowered == "tag":
            return TagIs(tuple(_text(alt) for alt, _ in alternatives))
        if not explicit and lowered == "list":  # a kept list's name, literally (no wildcards)
            return _any_of([InList(_plain(alt, pos, "list").strip(), start) for alt, pos in alternatives])
        target: Target
        if explicit or lowered not in (*_SEED_FIELDS, *HISTORY_FIELDS):
            target = PropertyField(name)
        else:
            target = _SEED_FIELDS.get(lowered) or HISTORY_FIELDS[lowered]
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
    explicit = not head[0].quoted and head[0].text.lower().startswith(FILTER_PROPERTY_PREFIX)
    if explicit:
        joined = joined[len(FILTER_PROPERTY_PREFIX):]
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


def _has(name: str) -> FilterNode:
    if name.lower() in HAS_HISTORY_WORDS:
        return HasHistory(HAS_HISTORY_WORDS[name.lower()])
    return Has(_target(name))


def _nps_group(word: str, position: int) -> NpsGroup:
    group = NPS_WORDS.get(word.lower())
    if group is not None:
        return group
    close = difflib.get_close_matches(word.lower(), list(NPS_WORDS), n=1)
    hint = f" — did you mean '{close[0]}'?" if close else " — use detractor, passive or promoter"
    raise FilterError(f"Unknown value '{word}' for nps:{hint}", position)


def _target(name: str) -> Target:
    if name.lower().startswith(FILTER_PROPERTY_PREFIX):
        return PropertyField(name[len(FILTER_PROPERTY_PREFIX):])
    return _SEED_FIELDS.get(name.lower()) or PropertyField(name)


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
        if op is not None or not isinstance(target, PropertyField):
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
    integer = not isinstance(target, PropertyField) and target.kind is FieldKind.INTEGER
    if age and not integer and (dates or op is not None):
        bound = _age(age, where)
        if op is None:
            length = f"{bound.amount} {_UNIT_NAMES[bound.unit]}"
            raise FilterError(
                f"Say {label}:<{raw} for within the last {length}, or {label}:>{raw} for longer ago", where
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
    if not isinstance(target, PropertyField):
        return target.kind is FieldKind.DATE
    return is_date_property(target.key)


def _range_end(target: Target, label: str, raw: str, position: int) -> Number | CalendarSpan:
    integer = not isinstance(target, PropertyField) and target.kind is FieldKind.INTEGER
    span = None if integer else _span(raw, position, dash_only=not _dated(target))
    if span is not None:
        return span
    if not isinstance(target, PropertyField):
        return _seed_number(target, label, raw, position)
    if _NUMBER.match(raw):
        return Number(float(raw))
    raise FilterError(f"'{raw}' is not a number or a date (quote text that contains '..')", position)


def _seed_number(target: SeedField | HistoryField, label: str, raw: str, position: int) -> Number:
    if target.kind is FieldKind.INTEGER:
        if not raw.isdigit():
            example = _HISTORY_EXAMPLES.get(label, f"{label}:12345")
            raise FilterError(f"'{raw}' is not a whole number — {label} takes numbers like {example}", position)
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
        f"{_fields_line()}\n"
        "  \"two words\":value). Text matches ignore case; * is a wildcard (email:*@acme.com).\n"
        "  Arrays match when any element matches (features_array:sso). a|b means either.\n"
        "Numbers and dates: revenue_amount:>=1000  seats_count:10..50  created:2024-01..2024-06\n"
        "  last_surveyed:<30d (within the last 30 days; h d w m y)  last_surveyed:>1y (longer ago)\n"
        "has:external_id  has:plan  surveys:disabled|enabled  disabled_by:admin|end_user\n"
        "is:pending  is:conflict  is:deleted  is:erasure-pending  list:\"last week\" (the people a kept list matched)\n"
        "Survey history: score:<=6  nps:detractor|passive|promoter (latest counted response)\n"
        "  responded:<90d  responses:>=3  declines:>=2  comment:\"too slow\"  tag:billing  has:response\n"
        "Combine: space = AND, OR, NOT or a leading -, and (parentheses)."
    )



def _fields_line() -> str:
    """The help's line naming every seed field (`fields.FIELDS`), wrapped as the rest is."""
    names = ", ".join(field.filter_name for field in filter_fields())
    line = f"field:value — {names}, or any property (plan:pro; prop.name:value when a name clashes;"
    return textwrap.fill(line, width=90, subsequent_indent="  ", break_on_hyphens=False)
