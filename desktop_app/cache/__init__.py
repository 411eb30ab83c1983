"""The local SQLite cache: server rows, local edits and their outbox, sync state (Qt-free).

One folder per idea: `filters/` (the filter language), `reading/` (queries, the planner, read
connections), `indexes/` (property and search indexes), `schema/` (the file, tables, migrations),
`writes/` (local edits, sync writes, overlay, validation). Beside them the `Cache` itself
(`store`), its value types (`records`, `rows`), its change broadcast (`changes`) and the open in
progress (`opening`).

Import each name from the module that defines it (`desktop_app.cache.store.Cache`): the packages
re-export nothing, so a light submodule such as `desktop_app.cache.reading.query` loads without
SQLModel and SQLAlchemy (about 1.7 s), which only the writer side (`store`) needs.
"""
