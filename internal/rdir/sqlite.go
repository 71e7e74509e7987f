package rdir

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gridkeep/gridkeep/internal/sqlitedb"
)

// schema is the SQLite schema of the index. One database file holds every
// volume: a volume is a row of volumes, its records are the rows of chunks
// with its id. chunk_key is the OpenIO listing key "<CID>|<CHUNKID>", so
// that ordering, markers and prefixes compare bytes exactly as OpenIO's
// key-value store does. Two indexes answer lookups by chunk id (the key
// after "|", from its 66th character) and by content id.
var schema = sqlitedb.Schema{Name: "rdir", Steps: []string{`
CREATE TABLE volumes (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	incident_date INTEGER NOT NULL DEFAULT 0,
	lock_owner TEXT NOT NULL DEFAULT ''
);
CREATE TABLE chunks (
	volume INTEGER NOT NULL REFERENCES volumes (id) ON DELETE CASCADE,
	chunk_key TEXT NOT NULL,
	content_id TEXT NOT NULL,
	path TEXT NOT NULL,
	version INTEGER NOT NULL,
	mtime INTEGER NOT NULL,
	PRIMARY KEY (volume, chunk_key)
) WITHOUT ROWID;
`, `
CREATE INDEX chunks_by_id ON chunks (volume, substr(chunk_key, 66), chunk_key);
CREATE INDEX chunks_by_content ON chunks (volume, content_id, chunk_key);
`}}

// SQLiteStore is the Store kept in one SQLite database file for all
// volumes. A change is durable once its method returns, to the standard
// of the sqlitedb.Options it was opened with (see package sqlitedb).
type SQLiteStore struct {
	db     *sql.DB
	writes *sqlitedb.WriteGroup // runs this process's write transactions
}

var _ Store = (*SQLiteStore)(nil)

// OpenSQLite opens or creates the index database at path and brings its
// schema up to date. The caller closes the store.
func OpenSQLite(ctx context.Context, path string, opts sqlitedb.Options) (*SQLiteStore, error) {
	db, err := sqlitedb.Open(ctx, path, opts)
	if err != nil {
		return nil, fmt.Errorf("open rdir store: %w", err)
	}
	if err := sqlitedb.Migrate(ctx, db, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("open rdir store: %w", err)
	}
	return &SQLiteStore{db: db, writes: sqlitedb.NewWriteGroup(db, sqlitedb.WriteGroupOptions{})}, nil
}

// Close closes the database.
func (s *SQLiteStore) Close() error { return s.db.Close() }

// volume is a row of the volumes table.
type volume struct {
	id       int64
	incident int64
	lock     string
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// volume looks up vol, returning ErrNoVolume if it was never created.
func (s *SQLiteStore) volume(ctx context.Context, q querier, vol string) (volume, error) {
	if err := ValidateVolume(vol); err != nil {
		return volume{}, err
	}
	var v volume
	err := q.QueryRowContext(ctx, `SELECT id, incident_date, lock_owner FROM volumes
		WHERE name = ?`, vol).Scan(&v.id, &v.incident, &v.lock)
	if errors.Is(err, sql.ErrNoRows) {
		return volume{}, fmt.Errorf("%w: %q", ErrNoVolume, vol)
	}
	return v, err
}

// inTx runs fn in a write transaction, committed if fn returns nil; the
// transaction may be shared with other writers (see sqlitedb.WriteGroup).
func (s *SQLiteStore) inTx(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	return s.writes.Do(ctx, fn)
}

// exec runs one writing statement in a write transaction.
func (s *SQLiteStore) exec(ctx context.Context, query string, args ...any) error {
	return s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, query, args...)
		return err
	})
}

// CreateVolume creates the volume if it does not exist.
func (s *SQLiteStore) CreateVolume(ctx context.Context, vol string) error {
	if err := ValidateVolume(vol); err != nil {
		return fmt.Errorf("create volume: %w", err)
	}
	err := s.exec(ctx, `INSERT INTO volumes (name) VALUES (?)
		ON CONFLICT (name) DO NOTHING`, vol)
	if err != nil {
		return fmt.Errorf("create volume %s: %w", vol, err)
	}
	return nil
}

const upsertRecord = `INSERT INTO chunks (volume, chunk_key, content_id, path, version, mtime)
	VALUES (?, ?, ?, ?, ?, ?)
	ON CONFLICT (volume, chunk_key) DO UPDATE SET content_id = excluded.content_id,
		path = excluded.path, version = excluded.version, mtime = excluded.mtime`

// Push inserts or replaces records in one transaction.
func (s *SQLiteStore) Push(ctx context.Context, vol string, recs []Record) error {
	norm, err := normalizeRecords(recs)
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	err = s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		v, err := s.volume(ctx, tx, vol)
		if err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, upsertRecord)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, r := range norm {
			_, err := stmt.ExecContext(ctx, v.id, r.Key(), r.ContentID, r.Path, r.Version, r.Mtime)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("push to %s: %w", vol, err)
	}
	return nil
}

func normalizeRecords(recs []Record) ([]Record, error) {
	norm := make([]Record, len(recs))
	for i, r := range recs {
		var err error
		if norm[i], err = r.Normalize(); err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
	}
	return norm, nil
}

// Delete removes records in one transaction.
func (s *SQLiteStore) Delete(ctx context.Context, vol string, refs []ChunkRef) error {
	keys := make([]string, len(refs))
	for i, ref := range refs {
		n, err := ref.Normalize()
		if err != nil {
			return fmt.Errorf("delete: record %d: %w", i, err)
		}
		keys[i] = n.Key()
	}
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		v, err := s.volume(ctx, tx, vol)
		if err != nil {
			return err
		}
		for _, k := range keys {
			_, err := tx.ExecContext(ctx, `DELETE FROM chunks WHERE volume = ? AND chunk_key = ?`, v.id, k)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete from %s: %w", vol, err)
	}
	return nil
}

// Fetch returns one page of records.
func (s *SQLiteStore) Fetch(ctx context.Context, vol string, opts ListOptions) (Page, error) {
	page, err := s.fetch(ctx, vol, opts)
	if err != nil {
		return Page{}, fmt.Errorf("fetch from %s: %w", vol, err)
	}
	return page, nil
}

func (s *SQLiteStore) fetch(ctx context.Context, vol string, opts ListOptions) (Page, error) {
	opts, err := opts.Normalize()
	if err != nil {
		return Page{}, err
	}
	v, err := s.volume(ctx, s.db, vol)
	if err != nil {
		return Page{}, err
	}
	if opts.Rebuild && v.incident <= 0 {
		return Page{}, nil
	}
	var recs []Record
	err = s.list(ctx, v, opts, func(key string, r Record) error {
		ref, err := ParseKey(key)
		if err != nil {
			return fmt.Errorf("stored key %q: %w", key, err)
		}
		r.ContainerID, r.ChunkID = ref.ContainerID, ref.ChunkID
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		return Page{}, err
	}
	return pageOf(recs, opts.Limit), nil
}

// pageOf cuts recs, read with one record more than limit, to a page.
func pageOf(recs []Record, limit int) Page {
	if len(recs) <= limit {
		return Page{Records: recs}
	}
	recs = recs[:limit]
	return Page{Records: recs, Truncated: true, Marker: recs[limit-1].Key()}
}

// list calls fn for each of the first opts.Limit+1 records that opts
// selects, in key order. opts must be normalized. Only the value fields of
// the Record are set.
func (s *SQLiteStore) list(ctx context.Context, v volume, opts ListOptions,
	fn func(key string, r Record) error) error {
	query, args := selectRecords(v, opts)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	type row struct {
		key string
		r   Record
	}
	var sorted []row // the rows of a listing by chunk id, to sort
	for rows.Next() {
		var key string
		var r Record
		if err := rows.Scan(&key, &r.ContentID, &r.Path, &r.Version, &r.Mtime); err != nil {
			return err
		}
		if opts.ByChunk {
			sorted = append(sorted, row{key, r})
			continue
		}
		if err := fn(key, r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	slices.SortFunc(sorted, func(a, b row) int {
		if After(a.key, b.key, true) {
			return 1
		}
		return -1 // keys are unique
	})
	for _, rw := range sorted {
		if err := fn(rw.key, rw.r); err != nil {
			return err
		}
	}
	return nil
}

// selectRecords returns the query of list and its arguments. A lookup by
// chunk or content id, or a listing by chunk id, selects the keys from an
// index, which holds them, then reads their records; left to choose, the
// planner would rather walk the primary key than read an index that lacks
// the values.
func selectRecords(v volume, opts ListOptions) (string, []any) {
	where := `volume = ? AND chunk_key >= ?`
	args := []any{v.id, opts.Prefix}
	order := `chunk_key`
	switch {
	case opts.ByChunk:
		order = `substr(chunk_key, 66), chunk_key`
		if opts.Marker != "" {
			_, id, _ := strings.Cut(opts.Marker, "|")
			// The first test seeks the index; the second skips the keys
			// of the marker's chunk id up to the marker.
			where += ` AND substr(chunk_key, 66) >= ? AND (substr(chunk_key, 66) > ? OR chunk_key > ?)`
			args = append(args, id, id, opts.Marker)
		}
	default:
		where += ` AND chunk_key > ?`
		args = append(args, opts.Marker)
	}
	if opts.Prefix != "" {
		// Keys are made of hexadecimal digits and "|", all below "~".
		where += ` AND chunk_key < ?`
		args = append(args, opts.Prefix+"~")
	}
	if opts.Rebuild {
		where += ` AND mtime <= ?`
		args = append(args, v.incident)
	}
	if opts.ChunkID != "" {
		where += ` AND substr(chunk_key, 66) = ?`
		args = append(args, opts.ChunkID)
	}
	if opts.ContentID != "" {
		where += ` AND content_id = ?`
		args = append(args, opts.ContentID)
	}
	if opts.ChunkID == "" && opts.ContentID == "" && !opts.ByChunk {
		return `SELECT chunk_key, content_id, path, version, mtime FROM chunks
			WHERE ` + where + ` ORDER BY chunk_key LIMIT ?`, append(args, opts.Limit+1)
	}
	outer := ` ORDER BY chunk_key`
	if opts.ByChunk {
		outer = "" // sorted by list: ordered here, the rows come from a walk of the index
	}
	return `SELECT chunk_key, content_id, path, version, mtime FROM chunks
		WHERE volume = ? AND chunk_key IN (SELECT chunk_key FROM chunks
			WHERE ` + where + ` ORDER BY ` + order + ` LIMIT ?)` + outer,
		append(append([]any{v.id}, args...), opts.Limit+1)
}

// Status counts one page of records.
func (s *SQLiteStore) Status(ctx context.Context, vol string, opts ListOptions) (Status, error) {
	st, err := s.status(ctx, vol, opts)
	if err != nil {
		return Status{}, fmt.Errorf("status of %s: %w", vol, err)
	}
	return st, nil
}

func (s *SQLiteStore) status(ctx context.Context, vol string, opts ListOptions) (Status, error) {
	opts, err := opts.Normalize()
	if err != nil {
		return Status{}, err
	}
	opts.Rebuild = false
	v, err := s.volume(ctx, s.db, vol)
	if err != nil {
		return Status{}, err
	}
	var c statusCounter
	c.start(v.incident, opts.Limit)
	err = s.list(ctx, v, opts, func(key string, r Record) error {
		c.add(key, r.Mtime)
		return nil
	})
	return c.st, err
}

// statusCounter accumulates a Status over a listing of up to limit+1
// records.
type statusCounter struct {
	st    Status
	limit int
	last  string
}

func (c *statusCounter) start(incident int64, limit int) {
	c.st = Status{Containers: map[string]Counts{}, IncidentDate: incident}
	c.limit = limit
}

func (c *statusCounter) add(key string, mtime int64) {
	if c.st.Chunk.Total == int64(c.limit) {
		c.st.Truncated, c.st.Marker = true, c.last
		return
	}
	c.last = key
	cid, _, _ := strings.Cut(key, "|")
	n := c.st.Containers[cid]
	n.Total++
	c.st.Chunk.Total++
	if c.st.IncidentDate > 0 && mtime <= c.st.IncidentDate {
		n.ToRebuild++
		c.st.Chunk.ToRebuild++
	}
	c.st.Containers[cid] = n
}

// IncidentDate returns the incident date in seconds, 0 if unset.
func (s *SQLiteStore) IncidentDate(ctx context.Context, vol string) (int64, error) {
	v, err := s.volume(ctx, s.db, vol)
	if err != nil {
		return 0, fmt.Errorf("incident date of %s: %w", vol, err)
	}
	return v.incident, nil
}

// SetIncidentDate sets the incident date.
func (s *SQLiteStore) SetIncidentDate(ctx context.Context, vol string, date int64) error {
	if date < 0 {
		return fmt.Errorf("set incident date of %s: %w", vol, invalidf("negative date %d", date))
	}
	err := s.updateVolume(ctx, vol, `UPDATE volumes SET incident_date = ? WHERE name = ?`, date, vol)
	if err != nil {
		return fmt.Errorf("set incident date of %s: %w", vol, err)
	}
	return nil
}

// updateVolume runs an UPDATE of one volume row, returning ErrNoVolume if
// it changed no row.
func (s *SQLiteStore) updateVolume(ctx context.Context, vol, query string, args ...any) error {
	if err := ValidateVolume(vol); err != nil {
		return err
	}
	var n int64
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: %q", ErrNoVolume, vol)
	}
	return nil
}

// Lock locks the volume for who.
func (s *SQLiteStore) Lock(ctx context.Context, vol, who string) error {
	if err := validateOwner(who); err != nil {
		return fmt.Errorf("lock %s: %w", vol, err)
	}
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		v, err := s.volume(ctx, tx, vol)
		if err != nil {
			return err
		}
		if v.lock != "" && v.lock != who {
			return fmt.Errorf("%w by %s", ErrLocked, v.lock)
		}
		_, err = tx.ExecContext(ctx, `UPDATE volumes SET lock_owner = ? WHERE id = ?`, who, v.id)
		return err
	})
	if err != nil {
		return fmt.Errorf("lock %s: %w", vol, err)
	}
	return nil
}

func validateOwner(who string) error {
	if who == "" || len(who) > MaxVolumeLen {
		return invalidf("lock owner must be 1 to %d bytes", MaxVolumeLen)
	}
	return nil
}

// Unlock removes the lock.
func (s *SQLiteStore) Unlock(ctx context.Context, vol string) error {
	err := s.updateVolume(ctx, vol, `UPDATE volumes SET lock_owner = '' WHERE name = ?`, vol)
	if err != nil {
		return fmt.Errorf("unlock %s: %w", vol, err)
	}
	return nil
}

// Show returns the administrative state.
func (s *SQLiteStore) Show(ctx context.Context, vol string) (Admin, error) {
	v, err := s.volume(ctx, s.db, vol)
	if err != nil {
		return Admin{}, fmt.Errorf("show %s: %w", vol, err)
	}
	return Admin{Lock: v.lock, IncidentDate: v.incident}, nil
}

// Clear removes the incident date and the records opts selects, in one
// transaction. Records are only ever stored under the current key format,
// so Repair finds nothing to repair.
func (s *SQLiteStore) Clear(ctx context.Context, vol string, opts ClearOptions) (ClearResult, error) {
	var res ClearResult
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		v, err := s.volume(ctx, tx, vol)
		if err != nil {
			return err
		}
		if v.lock != "" && v.lock != ClearLockOwner {
			return fmt.Errorf("%w by %s", ErrLocked, v.lock)
		}
		if res.Removed, err = clearRecords(ctx, tx, v, opts); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE volumes SET incident_date = 0, lock_owner = ''
			WHERE id = ?`, v.id)
		return err
	})
	if err != nil {
		return ClearResult{}, fmt.Errorf("clear %s: %w", vol, err)
	}
	return res, nil
}

func clearRecords(ctx context.Context, tx *sql.Tx, v volume, opts ClearOptions) (int64, error) {
	var res sql.Result
	var err error
	switch {
	case opts.All:
		res, err = tx.ExecContext(ctx, `DELETE FROM chunks WHERE volume = ?`, v.id)
	case opts.BeforeIncident && v.incident > 0:
		res, err = tx.ExecContext(ctx, `DELETE FROM chunks WHERE volume = ? AND mtime <= ?`,
			v.id, v.incident)
	default:
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
