package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/jsonx"
	"github.com/gridkeep/gridkeep/internal/meta"
)

const aliasColumns = `name, version, content_id, deleted, ctime, mtime, policy, chunk_method,
	size, hash, mime_type`

// objectDetails selects, after the columns of alias row a, its chunks and
// its properties as two JSON texts: one statement, which reads one
// snapshot even outside a transaction, finds a whole object.
//
// The hot queries have no ORDER BY: SQLite plans a statement that has one
// and bound parameters again at each execution (as if it had never been
// prepared, about 7 µs), so rows are put in order here instead.
const objectDetails = `,
	(SELECT json_group_array(json_object('seq', seq, 'url', url, 'pos', pos, 'size', size,
		'hash', hash)) FROM chunks c WHERE c.cid = a.cid AND c.content_id = a.content_id),
	(SELECT json_group_object(pkey, pvalue) FROM alias_props p
		WHERE p.cid = a.cid AND p.name = a.name AND p.version = a.version)`

// latestVersion keeps, of the rows of one name, the highest version.
const latestVersion = ` AND NOT EXISTS (SELECT 1 FROM aliases n
	WHERE n.cid = a.cid AND n.name = a.name AND n.version > a.version)`

// chunkRow is a chunk with its rank among its object's.
type chunkRow struct {
	meta.Chunk
	Seq int `json:"seq"`
}

// sortedChunks returns the chunks of rows in position order.
func sortedChunks(rows []chunkRow) []meta.Chunk {
	slices.SortFunc(rows, func(a, b chunkRow) int { return cmp.Compare(a.Seq, b.Seq) })
	out := make([]meta.Chunk, len(rows))
	for i, r := range rows {
		out[i] = r.Chunk
	}
	// A chunk update writes its new row last (see updateChunkRows); the
	// list is in position order all the same, entries of one URL in the
	// order of their rows.
	meta.SortChunks(out)
	return out
}

// scanAlias reads the aliasColumns of a row, then into extra the columns
// that follow.
func scanAlias(r interface{ Scan(...any) error }, extra ...any) (meta.Object, error) {
	var o meta.Object
	var deleted int
	err := r.Scan(append([]any{&o.Name, &o.Version, &o.ContentID, &deleted, &o.CTime, &o.MTime,
		&o.Policy, &o.ChunkMethod, &o.Size, &o.Hash, &o.MimeType}, extra...)...)
	o.Deleted = deleted != 0
	return o, err
}

// PutObject stores a new object version.
func (s *Store) PutObject(ctx context.Context, cid string, in *meta.Object) (*meta.Object, error) {
	o := cloneObject(in)
	o.Deleted = false
	if err := meta.NormalizeObject(o); err != nil {
		return nil, fmt.Errorf("put object %q: %w", in.Name, err)
	}
	meta.SortChunks(o.Chunks)
	err := s.update(ctx, func(ctx context.Context, w *wtx) error {
		c, err := w.s.loadContainer(ctx, w.conn, cid)
		if err != nil {
			return err
		}
		if err := w.fillObject(c, o); err != nil {
			return err
		}
		if err := w.insertObject(c, o); err != nil {
			return err
		}
		if err := w.emitContent(event.ContentNew, c, o); err != nil {
			return err
		}
		return w.prune(c, o)
	})
	if err != nil {
		return nil, fmt.Errorf("put object %q: %w", in.Name, err)
	}
	return o, nil
}

func cloneObject(in *meta.Object) *meta.Object {
	o := *in
	o.Properties = maps.Clone(in.Properties)
	o.Chunks = slices.Clone(in.Chunks)
	return &o
}

// fillObject sets the defaults of a new version: policy and chunk method
// from the container, mime type, times, version and content id.
func (w *wtx) fillObject(c *meta.Container, o *meta.Object) error {
	if o.Policy == "" {
		o.Policy = c.StoragePolicy()
	}
	p, ok := w.s.ns.Policy(o.Policy)
	if !ok {
		return fmt.Errorf("%w: %q", meta.ErrUnknownPolicy, o.Policy)
	}
	if o.ChunkMethod == "" {
		o.ChunkMethod = p.ChunkMethod()
	}
	if o.MimeType == "" {
		o.MimeType = meta.DefaultMimeType
	}
	if o.CTime == 0 {
		o.CTime = w.now.Unix()
	}
	o.MTime = w.now.Unix()
	if o.ContentID == "" {
		o.ContentID = meta.NewContentID()
	}
	if o.Version != 0 {
		return nil
	}
	latest, err := w.latestVersion(c.ID, o.Name)
	o.Version = max(w.micros(), latest+1)
	return err
}

func (w *wtx) latestVersion(cid, name string) (int64, error) {
	var v sql.NullInt64
	err := w.row(w.ctx, `SELECT MAX(version) FROM aliases WHERE cid = ? AND name = ?`,
		cid, name).Scan(&v)
	return v.Int64, err
}

// insertObject writes a version, its properties and chunks, and counts it.
func (w *wtx) insertObject(c *meta.Container, o *meta.Object) error {
	if o.ContentID != "" {
		var one int
		err := w.row(w.ctx, `SELECT 1 FROM aliases WHERE cid = ? AND content_id = ?`,
			c.ID, o.ContentID).Scan(&one)
		if err == nil {
			return fmt.Errorf("%w: content id %s is in use", meta.ErrExists, o.ContentID)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	res, err := w.exec(w.ctx, `INSERT INTO aliases (cid, `+aliasColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		c.ID, o.Name, o.Version, o.ContentID, boolInt(o.Deleted), o.CTime, o.MTime, o.Policy,
		o.ChunkMethod, o.Size, o.Hash, o.MimeType)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return cmpErr(err, fmt.Errorf("%w: version %d", meta.ErrExists, o.Version))
	}
	if err := w.insertDetails(c.ID, o); err != nil {
		return err
	}
	if o.Deleted {
		return w.addStats(c, 0, 0)
	}
	return w.addStats(c, 1, o.Size)
}

func (w *wtx) insertDetails(cid string, o *meta.Object) error {
	for k, v := range o.Properties {
		if _, err := w.exec(w.ctx, `INSERT INTO alias_props (cid, name, version, pkey, pvalue)
			VALUES (?, ?, ?, ?, ?)`, cid, o.Name, o.Version, k, v); err != nil {
			return err
		}
	}
	for i, ch := range o.Chunks {
		if err := w.insertChunk(cid, o.ContentID, i, ch); err != nil {
			return err
		}
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// cmpErr returns err if set, else fallback.
func cmpErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

// prune removes the versions of o's name that the container's versioning
// policy no longer keeps: all but o when it keeps one, the oldest beyond N
// when it keeps N.
func (w *wtx) prune(c *meta.Container, o *meta.Object) error {
	max := c.MaxVersions()
	if max < 0 {
		return nil
	}
	versions, err := w.versions(c.ID, o.Name)
	if err != nil {
		return err
	}
	for i, v := range versions {
		drop := i >= int(max)
		if max <= 1 {
			drop = v != o.Version
		}
		if !drop {
			continue
		}
		old, err := w.s.loadObject(w.ctx, w.conn, c.ID, meta.ObjectQuery{Name: o.Name,
			Version: v, Deleted: true})
		if err != nil {
			return err
		}
		if err := w.removeObject(c, old); err != nil {
			return err
		}
	}
	return nil
}

// versions returns the versions of a name, latest first (sorted here: see
// objectDetails).
func (w *wtx) versions(cid, name string) ([]int64, error) {
	rows, err := w.query(w.ctx, `SELECT version FROM aliases WHERE cid = ? AND name = ?`, cid, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b int64) int { return cmp.Compare(b, a) })
	return out, rows.Err()
}

// removeObject deletes a version for good and announces it with its
// chunks.
func (w *wtx) removeObject(c *meta.Container, o *meta.Object) error {
	args := []any{c.ID, o.Name, o.Version}
	if _, err := w.exec(w.ctx, `DELETE FROM aliases WHERE cid = ? AND name = ? AND version = ?`,
		args...); err != nil {
		return err
	}
	if _, err := w.exec(w.ctx, `DELETE FROM alias_props
		WHERE cid = ? AND name = ? AND version = ?`, args...); err != nil {
		return err
	}
	if o.ContentID != "" {
		if _, err := w.exec(w.ctx, `DELETE FROM chunks WHERE cid = ? AND content_id = ?`,
			c.ID, o.ContentID); err != nil {
			return err
		}
	}
	if !o.Deleted {
		if err := w.addStats(c, -1, -o.Size); err != nil {
			return err
		}
	}
	return w.emitContent(event.ContentDeleted, c, o)
}

// Object returns one object version with its properties and chunks.
func (s *Store) Object(ctx context.Context, cid string, q meta.ObjectQuery) (*meta.Object, error) {
	o, err := s.loadObject(ctx, s.plain(), cid, q)
	if errors.Is(err, meta.ErrNoSuchObject) {
		if cerr := s.containerExists(ctx, s.plain(), cid); cerr != nil {
			err = cerr
		}
	}
	if err != nil {
		return nil, fmt.Errorf("object %s in %s: %w", describe(q), cid, err)
	}
	return o, nil
}

func describe(q meta.ObjectQuery) string {
	switch {
	case q.ContentID != "":
		return "content " + q.ContentID
	case q.Version != 0:
		return fmt.Sprintf("%q version %d", q.Name, q.Version)
	}
	return fmt.Sprintf("%q", q.Name)
}

func (s *Store) containerExists(ctx context.Context, cn conn, cid string) error {
	var one int
	err := cn.row(ctx, `SELECT 1 FROM containers WHERE cid = ?`, cid).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return meta.ErrNoSuchContainer
	}
	return err
}

// loadObject reads the version q selects, with its properties and chunks.
func (s *Store) loadObject(ctx context.Context, cn conn, cid string,
	q meta.ObjectQuery) (*meta.Object, error) {
	const sel = `SELECT ` + aliasColumns + objectDetails + ` FROM aliases a WHERE `
	var row *sql.Row
	switch {
	case q.ContentID != "":
		row = cn.row(ctx, sel+`cid = ? AND content_id = ?`, cid, q.ContentID)
	case q.Version != 0:
		row = cn.row(ctx, sel+`cid = ? AND name = ? AND version = ?`, cid, q.Name, q.Version)
	default:
		row = cn.row(ctx, sel+`cid = ? AND name = ?`+latestVersion, cid, q.Name)
	}
	var chunks, props string
	o, err := scanAlias(row, &chunks, &props)
	if errors.Is(err, sql.ErrNoRows) || err == nil && o.Deleted && !q.Deleted {
		return nil, meta.ErrNoSuchObject
	}
	if err != nil {
		return nil, err
	}
	// The chunks and properties of every object read are decoded here.
	if err := jsonx.Unmarshal([]byte(props), &o.Properties); err != nil {
		return nil, fmt.Errorf("properties of %q: %w", o.Name, err)
	}
	if o.ContentID != "" && chunks != "[]" {
		var rows []chunkRow
		if err := jsonx.Unmarshal([]byte(chunks), &rows); err != nil {
			return nil, fmt.Errorf("chunks of %q: %w", o.Name, err)
		}
		o.Chunks = sortedChunks(rows)
	}
	return &o, nil
}

// loadDetails reads the properties and chunks of o.
func (s *Store) loadDetails(ctx context.Context, cn conn, cid string, o *meta.Object,
	props, chunks bool) error {
	if props {
		p, err := loadProps(ctx, cn, cid, o)
		if err != nil {
			return err
		}
		o.Properties = p
	}
	if !chunks || o.ContentID == "" {
		return nil
	}
	rows, err := cn.query(ctx, `SELECT seq, url, pos, size, hash FROM chunks
		WHERE cid = ? AND content_id = ?`, cid, o.ContentID)
	if err != nil {
		return err
	}
	defer rows.Close()
	var found []chunkRow
	for rows.Next() {
		var c chunkRow
		if err := rows.Scan(&c.Seq, &c.URL, &c.Pos, &c.Size, &c.Hash); err != nil {
			return err
		}
		found = append(found, c)
	}
	if len(found) > 0 {
		o.Chunks = sortedChunks(found)
	}
	return rows.Err()
}

func loadProps(ctx context.Context, cn conn, cid string,
	o *meta.Object) (map[string]string, error) {
	rows, err := cn.query(ctx, `SELECT pkey, pvalue FROM alias_props
		WHERE cid = ? AND name = ? AND version = ?`, cid, o.Name, o.Version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	props := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		props[k] = v
	}
	return props, rows.Err()
}

// UpdateObject changes the properties of one object version and announces
// it.
func (s *Store) UpdateObject(ctx context.Context, cid string, q meta.ObjectQuery,
	u meta.PropertyUpdate) error {
	if err := meta.CheckUpdate(u); err != nil {
		return fmt.Errorf("update object %s: %w", describe(q), err)
	}
	q.Deleted = false
	err := s.update(ctx, func(ctx context.Context, w *wtx) error {
		c, err := w.s.loadContainer(ctx, w.conn, cid)
		if err != nil {
			return err
		}
		o, err := w.s.loadObject(ctx, w.conn, cid, q)
		if err != nil {
			return err
		}
		if err := w.setObjectProps(cid, o, u); err != nil {
			return err
		}
		o, err = w.s.loadObject(ctx, w.conn, cid, meta.ObjectQuery{Name: o.Name,
			Version: o.Version})
		if err != nil {
			return err
		}
		return w.emitContent(event.ContentUpdate, c, o)
	})
	if err != nil {
		return fmt.Errorf("update object %s: %w", describe(q), err)
	}
	return nil
}

func (w *wtx) setObjectProps(cid string, o *meta.Object, u meta.PropertyUpdate) error {
	key := []any{cid, o.Name, o.Version}
	if u.Flush {
		if _, err := w.exec(w.ctx, `DELETE FROM alias_props
			WHERE cid = ? AND name = ? AND version = ?`, key...); err != nil {
			return err
		}
	}
	for _, k := range u.Delete {
		if _, err := w.exec(w.ctx, `DELETE FROM alias_props
			WHERE cid = ? AND name = ? AND version = ? AND pkey = ?`, append(key, k)...); err != nil {
			return err
		}
	}
	for k, v := range u.Set {
		if _, err := w.exec(w.ctx, `INSERT INTO alias_props (cid, name, version, pkey, pvalue)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (cid, name, version, pkey)
			DO UPDATE SET pvalue = excluded.pvalue`, append(key, k, v)...); err != nil {
			return err
		}
	}
	var n int
	var size int64
	if err := w.row(w.ctx, `SELECT COUNT(*), `+propertiesSize+` FROM alias_props
		WHERE cid = ? AND name = ? AND version = ?`, key...).Scan(&n, &size); err != nil {
		return err
	}
	if err := meta.CheckStored(n, size); err != nil {
		return err
	}
	_, err := w.exec(w.ctx, `UPDATE aliases SET mtime = ? WHERE cid = ? AND name = ? AND version = ?`,
		append([]any{w.now.Unix()}, key...)...)
	return err
}

// DeleteObject deletes a version, or hides the latest behind a delete
// marker in a versioned container.
func (s *Store) DeleteObject(ctx context.Context, cid, name string,
	version int64) (meta.DeleteResult, error) {
	var res meta.DeleteResult
	if err := meta.CheckObject(name); err != nil {
		return res, fmt.Errorf("delete object: %w", err)
	}
	if version < 0 {
		return res, fmt.Errorf("delete object %q: %w: negative version", name, meta.ErrInvalid)
	}
	err := s.update(ctx, func(ctx context.Context, w *wtx) error {
		var err error
		res, err = w.deleteObject(cid, name, version)
		return err
	})
	if err != nil {
		return meta.DeleteResult{}, fmt.Errorf("delete object %q: %w", name, err)
	}
	return res, nil
}

func (w *wtx) deleteObject(cid, name string, version int64) (meta.DeleteResult, error) {
	c, err := w.s.loadContainer(w.ctx, w.conn, cid)
	if err != nil {
		return meta.DeleteResult{}, err
	}
	q := meta.ObjectQuery{Name: name, Version: version, Deleted: version != 0}
	o, err := w.s.loadObject(w.ctx, w.conn, cid, q)
	if err != nil {
		return meta.DeleteResult{}, err
	}
	if version != 0 || !c.Versioned() {
		return meta.DeleteResult{Version: o.Version, DeleteMarker: o.Deleted},
			w.removeObject(c, o)
	}
	marker := &meta.Object{Name: name, Version: max(w.micros(), o.Version+1), Deleted: true,
		CTime: w.now.Unix(), MTime: w.now.Unix()}
	if err := w.insertObject(c, marker); err != nil {
		return meta.DeleteResult{}, err
	}
	if err := w.emitContent(event.ContentNew, c, marker); err != nil {
		return meta.DeleteResult{}, err
	}
	return meta.DeleteResult{Version: marker.Version, DeleteMarker: true}, w.prune(c, marker)
}
