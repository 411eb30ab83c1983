"""The filter language: the bar's text -> a `FilterNode` tree (`parse`, `nodes`) -> a parameterised
WHERE clause (`sql`), and the tree in plain words (`words`). `language` is the entry point.

Nothing here opens the database; the package re-exports nothing, so each module loads alone.
"""
