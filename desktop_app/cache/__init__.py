"""The local SQLite cache: server rows, local edits and their outbox, sync state (Qt-free)."""
