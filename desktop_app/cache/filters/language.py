"""The filter-bar language: text -> FilterNode tree -> parameterised SQL over `end_user` (Qt-free).

`parse_filter` never touches the database; `compile_filter` turns a tree into a WHERE clause
whose values are all bound parameters. Property keys reach SQL text only through
`indexes.property_sql`, which inlines nothing but quote-free keys.

The parts: `filter_nodes.py` (the tree), `filter_parse.py` (text -> tree, error messages),
`filter_sql.py` (tree -> SQL). Callers import from here.
"""

from __future__ import annotations

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
from desktop_app.cache.filters.parse import (
    FIELD_NAMES,
    MAX_CONDITIONS,
    MAX_NESTING,
    FILTER_PROPERTY_PREFIX,
    FilterError,
    describe_syntax,
    parse_filter,
)
from desktop_app.cache.filters.sql import (
    CompileContext,
    SqlCompiler,
    SqlFilter,
    compile_filter,
    like_pattern,
)

__all__ = [
    "FIELD_NAMES", "MAX_CONDITIONS", "MAX_NESTING", "FILTER_PROPERTY_PREFIX",
    "Age", "And", "CommentHas", "HasHistory", "HistoryField", "NpsGroup", "NpsIs", "TagIs", "Between", "Bound", "CalendarSpan", "Compare", "CompileContext", "Equals", "FieldKind",
    "FilterError", "FilterNode", "FreeText", "Has", "InList", "MatchAll", "Not", "Number", "Op", "Or", "PropertyField",
    "SeedField", "SqlCompiler", "SqlFilter", "State", "StateIs", "Target", "Text",
    "compile_filter", "describe_syntax", "like_pattern", "parse_filter",
]
