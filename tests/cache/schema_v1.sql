-- The cache schema at version 1 (before pending_edit.sent_at), as a v1 app created it.
-- Migration tests build an old file from it; never edit it.
CREATE TABLE end_user (
	id INTEGER NOT NULL, 
	email VARCHAR NOT NULL, 
	external_id VARCHAR, 
	external_created_at INTEGER, 
	last_surveyed INTEGER, 
	phone_number VARCHAR, 
	created_at INTEGER NOT NULL, 
	updated_at INTEGER NOT NULL, 
	surveys_disabled BOOLEAN NOT NULL, 
	disabled_by VARCHAR NOT NULL, 
	settings_json VARCHAR NOT NULL, 
	properties_json VARCHAR NOT NULL, 
	pending_count INTEGER NOT NULL, 
	has_conflict BOOLEAN NOT NULL, 
	pending_delete BOOLEAN NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_end_user_surveys_disabled ON end_user (surveys_disabled);
CREATE INDEX ix_end_user_external_id ON end_user (external_id);
CREATE INDEX ix_end_user_updated_at ON end_user (updated_at);
CREATE INDEX ix_end_user_email ON end_user (email);
CREATE INDEX ix_end_user_pending_count ON end_user (pending_count);
CREATE INDEX ix_end_user_has_conflict ON end_user (has_conflict);
CREATE INDEX ix_end_user_created_at ON end_user (created_at);
CREATE INDEX ix_end_user_last_surveyed ON end_user (last_surveyed);
CREATE TABLE server_end_user (
	id INTEGER NOT NULL, 
	email VARCHAR NOT NULL, 
	external_id VARCHAR, 
	external_created_at INTEGER, 
	last_surveyed INTEGER, 
	phone_number VARCHAR, 
	created_at INTEGER NOT NULL, 
	updated_at INTEGER NOT NULL, 
	surveys_disabled BOOLEAN NOT NULL, 
	disabled_by VARCHAR NOT NULL, 
	settings_json VARCHAR NOT NULL, 
	properties_json VARCHAR NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(id) REFERENCES end_user (id) ON DELETE CASCADE
);
CREATE TABLE edit_batch (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	kind VARCHAR NOT NULL, 
	"key" VARCHAR, 
	value_json VARCHAR NOT NULL, 
	created_at INTEGER NOT NULL, 
	undoable BOOLEAN NOT NULL, 
	state VARCHAR NOT NULL, 
	pushed BOOLEAN NOT NULL
);
CREATE INDEX ix_edit_batch_state ON edit_batch (state);
CREATE TABLE pending_edit (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	end_user_id INTEGER NOT NULL, 
	batch_id INTEGER NOT NULL, 
	kind VARCHAR NOT NULL, 
	"key" VARCHAR, 
	base_json VARCHAR NOT NULL, 
	value_json VARCHAR NOT NULL, 
	created_at INTEGER NOT NULL, 
	state VARCHAR NOT NULL, 
	message VARCHAR, 
	FOREIGN KEY(end_user_id) REFERENCES end_user (id) ON DELETE CASCADE
);
CREATE INDEX ix_pending_edit_end_user_id ON pending_edit (end_user_id);
CREATE INDEX ix_pending_edit_batch_id ON pending_edit (batch_id);
CREATE INDEX ix_pending_edit_state_id ON pending_edit (state, id);
CREATE TABLE audit_entry (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	edit_id INTEGER NOT NULL, 
	batch_id INTEGER NOT NULL, 
	end_user_id INTEGER NOT NULL, 
	kind VARCHAR NOT NULL, 
	"key" VARCHAR, 
	before_json VARCHAR NOT NULL, 
	after_json VARCHAR NOT NULL, 
	created_at INTEGER NOT NULL, 
	outcome VARCHAR NOT NULL, 
	outcome_at INTEGER, 
	message VARCHAR
);
CREATE INDEX ix_audit_entry_end_user_id ON audit_entry (end_user_id);
CREATE INDEX ix_audit_entry_edit_id ON audit_entry (edit_id);
CREATE INDEX ix_audit_entry_batch_id ON audit_entry (batch_id);
CREATE TABLE edit_conflict (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	edit_id INTEGER NOT NULL, 
	end_user_id INTEGER NOT NULL, 
	field VARCHAR NOT NULL, 
	"key" VARCHAR, 
	base_json VARCHAR NOT NULL, 
	mine_json VARCHAR NOT NULL, 
	theirs_json VARCHAR NOT NULL, 
	created_at INTEGER NOT NULL, 
	UNIQUE (edit_id), 
	FOREIGN KEY(edit_id) REFERENCES pending_edit (id) ON DELETE CASCADE, 
	FOREIGN KEY(end_user_id) REFERENCES end_user (id) ON DELETE CASCADE
);
CREATE INDEX ix_edit_conflict_end_user_id ON edit_conflict (end_user_id);
CREATE TABLE sync_cursor (
	"key" VARCHAR NOT NULL, 
	value INTEGER, 
	PRIMARY KEY ("key")
);
CREATE TABLE sync_run (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	kind VARCHAR NOT NULL, 
	outcome VARCHAR NOT NULL, 
	reason VARCHAR NOT NULL, 
	started_at INTEGER NOT NULL, 
	finished_at INTEGER, 
	counts_json VARCHAR NOT NULL, 
	pid INTEGER
);
CREATE INDEX ix_sync_run_outcome ON sync_run (outcome);
CREATE TABLE property_key (
	"key" VARCHAR NOT NULL, 
	PRIMARY KEY ("key")
);
PRAGMA user_version = 1;
