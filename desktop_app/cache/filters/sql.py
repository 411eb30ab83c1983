"""Compiling a `FilterNode` tree to a parameterised WHERE clause over `end_user`.

Every value is a bound parameter. Property keys reach SQL text only through
`indexes.property_sql`, which inlines nothing but quote-free keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import timezone, tzinfo
from typing import Any

from desktop_app.cache.filters.nodes import (
    Age,
    And,
    Between,
    Bound,
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
    Target,
    Text,
)
from desktop_app.cache.indexes.expressions import (
    PropertyCatalog,
    PropertyKind,
    PropertySql,
    is_number_text,
    property_sql,
)
from desktop_app.cache.indexes.properties import (
    ELEMENT_BOOL,
    ELEMENT_NUMBER,
    HAS_KINDS,
    OTHER,
    PROPERTY_INDEX,
    TEXT_ELEMENT,
    TEXT_TOP,
    TOP_NUMBER,
    TOP_NUMERIC_TEXT,
)
from desktop_app.cache.indexes.history import RESPONSE_TAG, RESPONSE_TEXT
from desktop_app.cache.indexes.search import TEXT_INDEX, text_match


@dataclass(frozen=True, slots=True)
class CompileContext:
    """What a compiled filter depends on besides the tree: the time, the zone and the indexes."""

    now: float
    zone: tzinfo = timezone.utc
    catalog: PropertyCatalog = field(default_factory=PropertyCatalog)
    # Keys no end user holds an array under, as checked in the reading snapshot: their
    # equality needs no array branch (which would turn one index lookup into an OR).
    array_free: frozenset[str] = frozenset()
    # Free text of 3+ characters goes through the trigram index (search_index.py): the
    # planner's choice, since a common fragment is found faster by walking the sort's index.
    text_index: bool = False
    # Properties without an expression index go through the side tables (property_index.py).
    property_index: bool = False
    # The survey history's search tables (indexes/history.py): `comment:` through the trigram
    # index over response text, `tag:` through the tag table. Without them, a scan of `response`.
    history_index: bool = False
    # History terms as per-row probes (`EXISTS` on the end user's own summary or responses)
    # instead of id lists: for the planner's sample and for walking the sort's index, where
    # few rows are checked and building a list of every match would cost more than the read.
    history_probe: bool = False


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
    State.ERASURE_PENDING: "pending_delete = 2",  # the service took the delete, purge awaited
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
                like = f"(email LIKE {pattern} {_ESC} OR external_id LIKE {pattern} {_ESC})"
                match = text_match([text]) if self.context.text_index else None
                if match is None:
                    return like
                # The index finds candidates; LIKE keeps its meaning on them.
                return f"(id IN (SELECT rowid FROM {TEXT_INDEX} WHERE {TEXT_INDEX} MATCH {self.bind(match)}) AND {like})"
            case StateIs(state):
                return _STATE_SQL[state]
            case InList(name):
                # saved_list.name compares ignoring case (its column's collation, its index)
                return (f"id IN (SELECT m.end_user_id FROM saved_list l JOIN saved_list_member m"
                        f" ON m.list_id = l.id WHERE l.name = {self.bind(name)})")
            case Compare(HistoryField() as field, _, _) | Between(HistoryField() as field, _, _) | \
                    Equals(HistoryField() as field, _):
                return self.history(field, node)
            case NpsIs(group):
                low, high = group.value
                return self.summary(f"latest_score BETWEEN {self.bind(low)} AND {self.bind(high)}")
            case HasHistory(what):
                column = "response_count" if what == "response" else "decline_count"
                return self.summary(f"{column} > 0")
            case CommentHas(text):
                if self.context.history_probe:
                    return f"EXISTS ({self.comment_rows(text, probe=True)})"
                return f"id IN ({self.comment_rows(text)})"
            case TagIs(values):
                if self.context.history_probe:
                    return f"EXISTS ({self.tag_rows(values, probe=True)})"
                return f"id IN ({self.tag_rows(values)})"
            case Has(SeedField(column, kind)):
                return f"{column} > ''" if kind is FieldKind.TEXT else f"{column} IS NOT NULL"
            case Has(PropertyField(key)) | Equals(PropertyField(key), _) | Compare(PropertyField(key), _, _) | \
                    Between(PropertyField(key), _, _) if self.looks_up(key):
                return f"id IN ({self.lookup(node)})"
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
                    below, value = ("<", high.end(self.context.zone)) if isinstance(high, CalendarSpan) else ("<=", _exact(high))
                    terms.append(f"{expr} {below} {self.bind(value)}")
                return "(" + " AND ".join(terms) + ")"
        raise TypeError(f"not a filter node: {node!r}")

    def history(self, field: HistoryField, node: Compare | Between | Equals) -> str:
        """A summary number's condition, as the same condition over a plain column of
        `survey_summary`. An end user without a summary row has no latest response and zero
        counts: where zero meets the condition, the others are excluded instead of listed."""
        condition = self.node(replace(node, target=SeedField(field.column, field.kind)))
        if field.column in ("response_count", "decline_count") and _zero_meets(node):
            return f"NOT {self.summary(f'({condition}) IS NOT 1')}"
        return self.summary(condition)

    def summary(self, condition: str) -> str:
        """The end users whose `survey_summary` row meets `condition` (over its columns)."""
        if self.context.history_probe:
            return (f"EXISTS (SELECT 1 FROM survey_summary AS s WHERE s.end_user_id = end_user.id"
                    f" AND {condition})")
        return f"id IN (SELECT end_user_id FROM survey_summary WHERE {condition})"

    def comment_rows(self, text: Text, probe: bool = False) -> str:
        """The end users with a response whose text contains `text` (LIKE decides; the
        trigram index, when there is one and the text is long enough, only narrows). A
        `probe` reads the row's own end user's responses (their end_user_id index)."""
        like = f"text LIKE {self.bind(like_pattern(text, substring=True))} {_ESC}"
        match = text_match([text]) if self.context.history_index and not probe else None
        if probe:
            return f"SELECT 1 FROM response AS r WHERE r.end_user_id = end_user.id AND {like}"
        if match is None:
            return f"SELECT end_user_id FROM response WHERE {like}"
        return (f"SELECT end_user_id FROM response WHERE id IN (SELECT rowid FROM {RESPONSE_TEXT}"
                f" WHERE {RESPONSE_TEXT} MATCH {self.bind(match)}) AND {like}")

    def tag_rows(self, values: tuple[Text, ...], probe: bool = False) -> str:
        """The end users with a response tagged with one of `values` (ignoring case)."""
        literals = [v.text for v in values if v.literal]
        patterns = [like_pattern(v) for v in values if not v.literal]
        if self.context.history_index and not probe:  # the tag table's column compares NOCASE
            source, column = f"{RESPONSE_TAG}", "tag"
        else:
            source, column = "response, json_each(response.tags_json) AS t", "t.value COLLATE NOCASE"
        terms = [f"{column} IN ({self.binds(literals)})"] if literals else []
        terms += [f"{column} LIKE {self.bind(p)} {_ESC}" for p in patterns]
        text_only = "" if self.context.history_index and not probe else "t.type = 'text' AND "  # as the table holds
        if probe:
            text_only += "response.end_user_id = end_user.id AND "
        return f"SELECT end_user_id FROM {source} WHERE {text_only}({' OR '.join(terms)})"

    def looks_up(self, key: str) -> bool:
        """True when `key`'s filters read the property side tables."""
        return self.context.property_index and (
            not property_sql(key).indexable or self.context.catalog.index_for(key) is None)

    def lookup(self, node: FilterNode) -> str:
        """The ids a property filter matches, from the side table: the same rows as the JSON
        expressions below, since the table holds what those expressions compute."""
        rows = f"SELECT end_user_id FROM {PROPERTY_INDEX} WHERE key = "
        numbers = f"kind IN ({TOP_NUMBER}, {TOP_NUMERIC_TEXT})"
        match node:
            case Has(PropertyField(key)):
                return f"{rows}{self.bind(key)} AND kind IN {HAS_KINDS} AND NOT (kind = {TEXT_TOP} AND val = '')"
            case Equals(PropertyField(key), values):
                return self.lookup_equals(rows + self.bind(key), [v for v in values if isinstance(v, Text)],
                                          key not in self.context.array_free)
            case Compare(PropertyField(key), op, bound):
                sql_op, value = self.resolve(op, bound)
                return f"{rows}{self.bind(key)} AND {numbers} AND val {sql_op} {self.bind(value)}"
            case Between(PropertyField(key), low, high):
                terms = [f"{rows}{self.bind(key)}", numbers]
                if low is not None:
                    terms.append(f"val >= {self.bind(self.low(low))}")
                if high is not None:
                    upper, end = (("<", high.end(self.context.zone)) if isinstance(high, CalendarSpan)
                                  else ("<=", _exact(high)))
                    terms.append(f"val {upper} {self.bind(end)}")
                return " AND ".join(terms)
        raise TypeError(f"not a property filter: {node!r}")

    def lookup_equals(self, rows: str, values: list[Text], arrays: bool) -> str:
        """`property_equals` over the side table: text ignoring case, JSON numbers equal to a
        typed number, true/false, at the top level or (`arrays`: some end user has an array
        under the key) as an array's element."""
        literals = [x.text for x in values if x.literal]
        numbers = [float(s) for s in literals if is_number_text(s)]
        bools = ", ".join(f"'{b}'" for b in sorted({s.lower() for s in literals if s.lower() in ("true", "false")}))
        texts = f"({TEXT_TOP}, {TEXT_ELEMENT})" if arrays else f"({TEXT_TOP})"
        arms = []
        if literals:
            arms.append(f"{rows} AND kind IN {texts} AND val IN ({self.binds(literals)})")
        if numbers:
            kinds = f"({TOP_NUMBER}, {ELEMENT_NUMBER})" if arrays else f"({TOP_NUMBER})"
            arms.append(f"{rows} AND kind IN {kinds} AND val IN ({self.binds(numbers)})")
        if bools:  # fixed words, not user text
            kinds = f"({OTHER}, {ELEMENT_BOOL})" if arrays else f"({OTHER})"
            arms.append(f"{rows} AND kind IN {kinds} AND val IN ({bools})")
        for wildcard in (x for x in values if not x.literal):
            arms.append(f"{rows} AND kind IN {texts} AND val LIKE {self.bind(like_pattern(wildcard))} {_ESC}")
        return " UNION ALL ".join(arms) if arms else "SELECT NULL WHERE 0"

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
        if isinstance(target, HistoryField):  # `history` compiles these over survey_summary
            raise TypeError(f"a history field outside survey_summary: {target!r}")
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


def _zero_meets(node: Compare | Between | Equals) -> bool:
    """Whether a count of zero meets a count's condition (`responses:<3` does)."""
    match node:
        case Compare(_, op, Number(value)):
            return {Op.LT: value > 0, Op.LE: value >= 0, Op.GT: value < 0, Op.GE: value <= 0}[op]
        case Between(_, low, high):
            return (low is None or isinstance(low, Number) and low.value <= 0) and (
                high is None or isinstance(high, Number) and high.value >= 0)
        case Equals(_, values):
            return any(isinstance(v, Number) and v.value == 0 for v in values)
    return False


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
