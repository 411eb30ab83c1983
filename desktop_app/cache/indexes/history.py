"""The survey history's search tables: what `comment:` and `tag:` find their end users through.

- `response_text`: an FTS5 trigram index over response text (external content: no second copy
  of the text; `detail='none'`). It only narrows: `comment:` still checks its LIKE on the rows
  it finds, so wildcards and case mean what they mean without it.
- `response_tag`: one row per (response, tag), the tag compared ignoring case, indexed by tag.

Both are kept by triggers on `response`, so every write (a pull's upsert, the forgetting of a
deleted end user) maintains them in the writer's own transaction. A fresh file gets them with
its tables; an older one in the migration that adds them, filled from the rows it holds.
"""

from __future__ import annotations

RESPONSE_TEXT = "response_text"
RESPONSE_TAG = "response_tag"

_TAGS_OF_NEW = (f"INSERT INTO {RESPONSE_TAG} (response_id, end_user_id, tag) SELECT new.id, new.end_user_id,"
                " t.value FROM json_each(new.tags_json) AS t WHERE t.type = 'text';")
HISTORY_INDEX_DDL: tuple[str, ...] = (
    f"CREATE VIRTUAL TABLE {RESPONSE_TEXT} USING fts5(text, content='response', content_rowid='id',"
    " tokenize='trigram', detail='none')",
    f"CREATE TABLE {RESPONSE_TAG} (response_id INTEGER NOT NULL, end_user_id INTEGER NOT NULL,"
    " tag TEXT NOT NULL COLLATE NOCASE)",
    f"CREATE INDEX ix_{RESPONSE_TAG}_tag ON {RESPONSE_TAG} (tag, end_user_id)",
    f"CREATE INDEX ix_{RESPONSE_TAG}_response ON {RESPONSE_TAG} (response_id)",
    f"CREATE TRIGGER response_history_ai AFTER INSERT ON response BEGIN "
    f"INSERT INTO {RESPONSE_TEXT}(rowid, text) VALUES (new.id, new.text); {_TAGS_OF_NEW} END",
    f"CREATE TRIGGER response_history_ad AFTER DELETE ON response BEGIN "
    f"INSERT INTO {RESPONSE_TEXT}({RESPONSE_TEXT}, rowid, text) VALUES ('delete', old.id, old.text); "
    f"DELETE FROM {RESPONSE_TAG} WHERE response_id = old.id; END",
    # A pull's upsert rewrites every column; the index changes only when the text did.
    f"CREATE TRIGGER response_history_text_au AFTER UPDATE OF id, text ON response "
    "WHEN old.id IS NOT new.id OR old.text IS NOT new.text BEGIN "
    f"INSERT INTO {RESPONSE_TEXT}({RESPONSE_TEXT}, rowid, text) VALUES ('delete', old.id, old.text); "
    f"INSERT INTO {RESPONSE_TEXT}(rowid, text) VALUES (new.id, new.text); END",
    f"CREATE TRIGGER response_history_tag_au AFTER UPDATE OF id, end_user_id, tags_json ON response "
    "WHEN old.id IS NOT new.id OR old.end_user_id IS NOT new.end_user_id"
    " OR old.tags_json IS NOT new.tags_json BEGIN "
    f"DELETE FROM {RESPONSE_TAG} WHERE response_id = old.id; {_TAGS_OF_NEW} END",
)
# Filling both from the responses already cached (the migration's second half).
FILL_HISTORY_INDEXES: tuple[str, ...] = (
    f"INSERT INTO {RESPONSE_TEXT}({RESPONSE_TEXT}) VALUES ('rebuild')",
    f"INSERT INTO {RESPONSE_TAG} (response_id, end_user_id, tag) SELECT r.id, r.end_user_id, t.value"
    " FROM response AS r, json_each(r.tags_json) AS t WHERE t.type = 'text'",
)
HISTORY_INDEX_TABLES = (RESPONSE_TEXT, RESPONSE_TAG)
