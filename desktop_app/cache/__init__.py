"""The local SQLite cache: server rows, local edits and their outbox, sync state (Qt-free).

Import each name from the module that defines it (`desktop_app.cache.store.Cache`): the package
re-exports nothing, so a light submodule such as `desktop_app.cache.query` loads without
SQLModel and SQLAlchemy (about 1.7 s), which only the writer side (`store`) needs.
"""
