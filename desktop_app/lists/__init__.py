"""Work from lists: a file or pasted text of people, matched and acted on (issue 14). Qt-free."""

from __future__ import annotations

from desktop_app.lists.reading import (
    ColumnGuess,
    IdentifierKind,
    IdentifierList,
    ListReadError,
    ListTable,
    RowProblem,
    RowProblemKind,
    guess_identifier_column,
    read_identifiers,
    read_list_file,
    read_pasted,
)

__all__ = [
    "ColumnGuess",
    "IdentifierKind",
    "IdentifierList",
    "ListReadError",
    "ListTable",
    "RowProblem",
    "RowProblemKind",
    "guess_identifier_column",
    "read_identifiers",
    "read_list_file",
    "read_pasted",
]
