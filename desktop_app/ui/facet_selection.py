"""Which facet values the filter text selects, and how a click changes the text.

The filter text is the one record of the selection, so typing and clicking agree: values of
one key are alternatives of one term (`plan:pro|enterprise`, OR), different keys are separate
terms (AND). Only plain top-level terms count as facet choices; a negated term (`-plan:pro`),
or one inside parentheses or beside an OR, is left as the person typed it.

Counts are "disjunctive": a key's values are counted over the filter without that key's own
term, so choosing Pro keeps Enterprise visible with the count it would add.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from desktop_app.ui.filter_bar import quote_value

# One token of the filter: a parenthesis, OR, or a term whose value may be `a|"b c"|d`.
_VALUE = r'(?:"(?:[^"\\]|\\.)*"|[^\s()|"]+)'
_TOKEN_RE = re.compile(
    r'[()]|-?(?:"(?:[^"\\]|\\.)*"|[^\s":()]+)(?::' + _VALUE + r'?(?:\|' + _VALUE + r'?)*)?'
)
_ALIASES = {
    "surveys": {"on": "enabled", "off": "disabled"},
    "is": {"conflicts": "conflict"},
    "disabled_by": {"end-user": "end_user", "enduser": "end_user"},
}
SURVEY_KEYS = frozenset({"surveys", "disabled_by"})
STATUS_KEYS = frozenset({"is"})
# Counts of facet_counts() that belong to each fixed group.
_SURVEY_COUNTS = ("surveys_enabled", "surveys_disabled", "disabled_by_admin", "disabled_by_end_user")
_STATUS_COUNTS = ("pending", "conflicts", "deleted")
VALUES_SHOWN = 8  # values of a property listed at first; chosen ones are always listed too
VALUES_COUNTED = 50  # counted in the same pass, so values already shown keep true counts


@dataclass(frozen=True, slots=True)
class _Term:
    text: str
    key: str | None  # lower-cased; None for parentheses, OR and free words
    values: tuple[str, ...]  # unquoted alternatives


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _alternatives(value_text: str) -> tuple[str, ...]:
    return tuple(_unquote(v) for v in re.findall(_VALUE, value_text))


def _terms(text: str) -> list[_Term]:
    out: list[_Term] = []
    for token in _TOKEN_RE.findall(text):
        head, colon, tail = token.partition(":")
        if token in ("(", ")") or token.upper() in ("OR", "AND", "NOT") or not colon or head.startswith("-"):
            out.append(_Term(token, None, ()))
            continue
        out.append(_Term(token, _unquote(head).lower(), _alternatives(tail)))
    return out


def _plain_terms(terms: list[_Term]) -> bool:
    """True when every term is ANDed at the top level (no parentheses, no OR)."""
    return not any(t.key is None and t.text.upper() in ("(", ")", "OR") for t in terms)


def normal_value(key: str, value: str) -> str:
    lowered = value.lower()
    return _ALIASES.get(key, {}).get(lowered, lowered)


def split_facet_term(term: str) -> tuple[str, str]:
    """`plan:"a b"` -> ("plan", "a b"): the key (lower case) and value of a facet's term."""
    parsed = _terms(term)
    if len(parsed) != 1 or parsed[0].key is None or len(parsed[0].values) != 1:
        return term.lower(), ""
    return parsed[0].key, parsed[0].values[0]


def chosen_values(text: str) -> dict[str, set[str]]:
    """The facet values the filter chooses: key -> its alternatives (normalized, lower case)."""
    terms = _terms(text)
    if not _plain_terms(terms):
        return {}
    chosen: dict[str, set[str]] = {}
    for term in terms:
        if term.key is not None:
            chosen.setdefault(term.key, set()).update(normal_value(term.key, v) for v in term.values)
    return chosen


def _term_text(key_text: str, values: Sequence[str]) -> str:
    return key_text + ":" + "|".join(quote_value(v) for v in values)


def toggle_value(text: str, term: str, exclusive_keys: Iterable[str] = ()) -> str:
    """The filter with the facet value `term` chosen, or un-chosen if it was.

    A second value of a key joins the key's term as an alternative; for `exclusive_keys` it
    replaces it instead (surveys on or off: both would be everyone).
    """
    key, value = split_facet_term(term)
    wanted = normal_value(key, value)
    terms = _terms(text)
    if not _plain_terms(terms):  # a hand-written expression: add or remove the whole term only
        words = [t.text for t in terms]
        return " ".join(w for w in words if w != term) if term in words else " ".join([*words, term])
    out: list[str] = []
    placed = False
    for t in terms:
        if t.key != key:
            out.append(t.text)
            continue
        values = [v for v in t.values if normal_value(key, v) != wanted]
        if len(values) < len(t.values):  # chosen: take it out
            placed = True
        elif not placed:
            values = [value] if key in exclusive_keys else [*values, value]
            placed = True
        if values:
            out.append(_term_text(t.text.partition(":")[0], values))
    if not placed:
        out.append(term)
    return " ".join(out)


def without_keys(text: str, keys: Iterable[str]) -> str:
    """The filter with the plain terms of these keys left out (what their facets count over)."""
    terms = _terms(text)
    if not _plain_terms(terms):
        return text
    dropped = set(keys)
    return " ".join(t.text for t in terms if t.key not in dropped)


class FacetQuery(Protocol):
    def facet_counts(self, filter_text: str = "") -> dict[str, int]: ...
    def property_values(self, key: str, limit: int = 20, filter_text: str = "") -> list[tuple[str, int]]: ...
    def count(self, filter_text: str = "") -> int: ...


def fixed_counts(query: FacetQuery, text: str) -> dict[str, int]:
    """facet_counts, each fixed group counted without its own keys' terms (runs in a worker)."""
    counts = dict(query.facet_counts(text))
    for keys, names in ((SURVEY_KEYS, _SURVEY_COUNTS), (STATUS_KEYS, _STATUS_COUNTS)):
        wider = without_keys(text, keys)
        if wider != text:
            other = query.facet_counts(wider)
            counts.update({name: other[name] for name in names if name in other})
    return counts


def property_counts(query: FacetQuery, key: str, text: str) -> list[tuple[str, int]]:
    """A property's common values with counts, without the key's own term, chosen ones included
    (runs in a worker)."""
    wider = without_keys(text, [key.lower()])
    found = list(query.property_values(key, VALUES_COUNTED, wider))
    seen = {value.lower() for value, _n in found}
    for value in sorted(chosen_values(text).get(key.lower(), set()) - seen):
        term = _term_text(quote_value(key), [value])
        found.append((value, query.count(f"{wider} {term}".strip())))
    return found


def merge_values(shown: Sequence[str], found: Mapping[str, int], chosen: set[str]) -> list[tuple[str, int]]:
    """What a loaded property facet lists after a refresh: the values already shown, in their
    places (so nothing moves under the pointer), with fresh counts; then, while fewer than
    `VALUES_SHOWN` are listed, the most common new ones; chosen values always."""
    by_lower = {value.lower(): (value, n) for value, n in found.items()}
    listed: list[tuple[str, int]] = []
    for value in shown:
        listed.append((value, by_lower.get(value.lower(), (value, 0))[1]))
    known = {value.lower() for value in shown}
    for value, n in found.items():
        if value.lower() in known:
            continue
        if len(listed) < VALUES_SHOWN or value.lower() in chosen:
            listed.append((value, n))
            known.add(value.lower())
    return listed
