package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/gridkeep/gridkeep/internal/meta"
)

// ListObjects returns one page of a container's objects, all read in one
// transaction.
func (s *Store) ListObjects(ctx context.Context, cid string,
	opts meta.ListOptions) (*meta.ObjectList, error) {
	if err := checkList(opts); err != nil {
		return nil, fmt.Errorf("list objects of %s: %w", cid, err)
	}
	var out *meta.ObjectList
	err := s.read(ctx, func(cn conn) error {
		if err := s.containerExists(ctx, cn, cid); err != nil {
			return err
		}
		l := &lister{s: s, cn: cn, cid: cid, opts: opts, limit: meta.PageLimit(opts.Limit)}
		var err error
		out, err = l.run(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list objects of %s: %w", cid, err)
	}
	return out, nil
}

func checkList(o meta.ListOptions) error {
	if err := checkPage(meta.PageOptions{Prefix: o.Prefix, Marker: o.Marker,
		EndMarker: o.EndMarker}); err != nil {
		return err
	}
	if len(o.Delimiter) > 64 || strings.IndexByte(o.Delimiter, 0) >= 0 {
		return fmt.Errorf("%w: bad delimiter", meta.ErrInvalid)
	}
	if o.VersionMarker < 0 {
		return fmt.Errorf("%w: negative version marker", meta.ErrInvalid)
	}
	return nil
}

// lister builds one page of a listing, fetching rows in batches and
// skipping over the names under each common prefix.
type lister struct {
	s     *Store
	cn    conn
	cid   string
	opts  meta.ListOptions
	limit int
	out   meta.ObjectList
	count int
}

// cursor is where the next batch starts: after (name, version), or at
// name itself when inclusive.
type cursor struct {
	name      string
	version   int64
	inclusive bool
}

func (l *lister) run(ctx context.Context) (*meta.ObjectList, error) {
	cur := cursor{name: l.opts.Marker}
	if l.opts.Versions && l.opts.Marker != "" {
		cur.version = l.opts.VersionMarker
	}
	for {
		batch := l.limit - l.count + 1
		rows, err := l.fetch(ctx, cur, batch)
		if err != nil {
			return nil, err
		}
		next, more, err := l.consume(ctx, rows)
		if err != nil || !more || len(rows) < batch && next == nil {
			return &l.out, err
		}
		if next == nil {
			last := rows[len(rows)-1]
			next = &cursor{name: last.Name, version: l.versionOf(last)}
		}
		cur = *next
	}
}

func (l *lister) versionOf(o meta.Object) int64 {
	if l.opts.Versions {
		return o.Version
	}
	return 0
}

// consume adds rows to the page. It returns the cursor to jump to when a
// common prefix ends the batch early, and more=false once the page is
// full.
func (l *lister) consume(ctx context.Context, rows []meta.Object) (*cursor, bool, error) {
	for _, o := range rows {
		if l.count == l.limit {
			l.out.Truncated = true
			return nil, false, nil
		}
		if p, ok := l.commonPrefix(o.Name); ok {
			l.addPrefix(p)
			succ, ok := successor(p)
			return &cursor{name: succ, inclusive: true}, ok, nil
		}
		if err := l.s.loadDetails(ctx, l.cn, l.cid, &o, l.opts.Properties,
			l.opts.Chunks); err != nil {
			return nil, false, err
		}
		l.out.Objects = append(l.out.Objects, o)
		l.count++
		l.out.NextMarker, l.out.NextVersionMarker = o.Name, l.versionOf(o)
	}
	return nil, true, nil
}

// commonPrefix returns the prefix a name rolls up into, if any.
func (l *lister) commonPrefix(name string) (string, bool) {
	d := l.opts.Delimiter
	if d == "" {
		return "", false
	}
	rest := strings.TrimPrefix(name, l.opts.Prefix)
	i := strings.Index(rest, d)
	if i < 0 {
		return "", false
	}
	return name[:len(name)-len(rest)+i+len(d)], true
}

// addPrefix adds a common prefix, unless the marker already passed it.
func (l *lister) addPrefix(p string) {
	if p <= l.opts.Marker {
		return
	}
	l.out.Prefixes = append(l.out.Prefixes, p)
	l.count++
	l.out.NextMarker, l.out.NextVersionMarker = p, 0
}

// fetch reads up to n rows from cur on.
func (l *lister) fetch(ctx context.Context, cur cursor, n int) ([]meta.Object, error) {
	conds, args := []string{`a.cid = ?`}, []any{l.cid}
	switch {
	case cur.inclusive:
		conds, args = append(conds, `a.name >= ?`), append(args, cur.name)
	case cur.version > 0:
		// The bound on the name alone lets the query start at the marker
		// instead of at the container's first row.
		conds = append(conds, `a.name >= ?`, `(a.name > ? OR a.version < ?)`)
		args = append(args, cur.name, cur.name, cur.version)
	default:
		conds, args = append(conds, `a.name > ?`), append(args, cur.name)
	}
	page, pargs := pageWhere("a.name", meta.PageOptions{Prefix: l.opts.Prefix,
		EndMarker: l.opts.EndMarker})
	conds, args = append(conds, page), append(args, pargs...)
	if !l.opts.Versions {
		conds = append(conds, `a.version = (SELECT MAX(b.version) FROM aliases b
			WHERE b.cid = a.cid AND b.name = a.name)`)
		if !l.opts.Deleted {
			conds = append(conds, `a.deleted = 0`)
		}
	}
	q := `SELECT ` + prefixed("a.", aliasColumns) + ` FROM aliases a WHERE ` +
		strings.Join(conds, ` AND `) + ` ORDER BY a.name, a.version DESC LIMIT ?`
	rows, err := l.cn.query(ctx, q, append(args, n)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []meta.Object
	for rows.Next() {
		o, err := scanAlias(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// prefixed qualifies each column of a comma-separated list.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
