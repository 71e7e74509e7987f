package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/sqlitedb"
)

// Open opens (creating it if needed) the SQLite directory database at path
// and brings its schema up to date. Commits are synced to disk (see
// Options.SyncNormal).
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	sync := sqlitedb.SyncFull
	if opts.SyncNormal {
		sync = sqlitedb.SyncNormal
	}
	db, err := sqlitedb.Open(ctx, path, sqlitedb.Options{Sync: sync,
		BusyTimeout: 30 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open directory database: %w", err)
	}
	s, err := newStore(ctx, db, sqlite, opts)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open directory database %s: %w", path, err)
	}
	return s, nil
}

var _ meta.Store = (*Store)(nil)
