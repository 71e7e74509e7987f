package sqlstore

import "github.com/gridkeep/gridkeep/internal/event/sqloutbox"

// dialect holds what differs between SQL engines. Queries are written with
// "?" placeholders and standard SQL (ON CONFLICT, no engine-specific
// upserts); rebind turns them into the engine's form.
type dialect struct {
	name       string
	migrations []string
	rebind     func(string) string
	outbox     sqloutbox.Dialect
	// beginRead starts a read-only transaction that sees one snapshot.
	beginRead string
}

// schemaName names the directory's schema among those of the database.
const schemaName = "meta"

// TODO(#3): a PostgreSQL dialect: migrations with BIGSERIAL ids, names
// compared with COLLATE "C", "$n" placeholders in rebind, a listing
// successor that stays valid UTF-8, beginRead with REPEATABLE READ, and
// migrations run without sqlitedb.

// sqlite is the SQLite dialect. Each migration is a schema version (see
// sqlitedb.Migrate); released ones are never edited.
var sqlite = dialect{
	name:      "sqlite",
	rebind:    func(q string) string { return q },
	outbox:    sqloutbox.SQLite,
	beginRead: "BEGIN DEFERRED",
	migrations: []string{`
CREATE TABLE accounts (
	name TEXT NOT NULL PRIMARY KEY,
	ctime BIGINT NOT NULL,
	mtime BIGINT NOT NULL,
	containers BIGINT NOT NULL DEFAULT 0,
	objects BIGINT NOT NULL DEFAULT 0,
	bytes BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE containers (
	cid TEXT NOT NULL PRIMARY KEY,
	account TEXT NOT NULL,
	name TEXT NOT NULL,
	ctime BIGINT NOT NULL,
	mtime BIGINT NOT NULL,
	objects BIGINT NOT NULL DEFAULT 0,
	bytes BIGINT NOT NULL DEFAULT 0,
	UNIQUE (account, name)
);
CREATE INDEX containers_by_name ON containers (name);
CREATE TABLE container_props (
	cid TEXT NOT NULL,
	kind TEXT NOT NULL,
	pkey TEXT NOT NULL,
	pvalue TEXT NOT NULL,
	PRIMARY KEY (cid, kind, pkey)
);
CREATE TABLE aliases (
	cid TEXT NOT NULL,
	name TEXT NOT NULL,
	version BIGINT NOT NULL,
	content_id TEXT NOT NULL,
	deleted SMALLINT NOT NULL,
	ctime BIGINT NOT NULL,
	mtime BIGINT NOT NULL,
	policy TEXT NOT NULL,
	chunk_method TEXT NOT NULL,
	size BIGINT NOT NULL,
	hash TEXT NOT NULL,
	mime_type TEXT NOT NULL,
	PRIMARY KEY (cid, name, version)
);
CREATE INDEX aliases_listing ON aliases (cid, name, version DESC);
CREATE INDEX aliases_by_content ON aliases (cid, content_id);
CREATE TABLE alias_props (
	cid TEXT NOT NULL,
	name TEXT NOT NULL,
	version BIGINT NOT NULL,
	pkey TEXT NOT NULL,
	pvalue TEXT NOT NULL,
	PRIMARY KEY (cid, name, version, pkey)
);
CREATE TABLE chunks (
	cid TEXT NOT NULL,
	content_id TEXT NOT NULL,
	seq INTEGER NOT NULL,
	url TEXT NOT NULL,
	pos TEXT NOT NULL,
	size BIGINT NOT NULL,
	hash TEXT NOT NULL,
	PRIMARY KEY (cid, content_id, seq)
);
CREATE TABLE outbox (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	event TEXT NOT NULL
);`, `
ALTER TABLE chunks ADD COLUMN chunk_id TEXT NOT NULL DEFAULT '';
UPDATE chunks SET chunk_id = upper(substr(url, 8 + instr(substr(url, 8), '/')));
CREATE INDEX chunks_by_chunk_id ON chunks (chunk_id);`,
		// The primary key orders versions of a name too: listings read it
		// and sort each name's few versions latest first, and every put
		// writes one index less.
		`
DROP INDEX aliases_listing;`,
	},
}
