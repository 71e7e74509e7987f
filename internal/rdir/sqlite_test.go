package rdir_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gridkeep/gridkeep/internal/rdir"
	"github.com/gridkeep/gridkeep/internal/rdir/rdirtest"
	"github.com/gridkeep/gridkeep/internal/sqlitedb"
)

// sqliteOptions are those of a production store.
var sqliteOptions = sqlitedb.Options{}

func newSQLite(t *testing.T) *rdir.SQLiteStore {
	t.Helper()
	s, err := rdir.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "rdir.db"),
		sqliteOptions)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSQLiteConformance(t *testing.T) {
	rdirtest.Run(t, func(t *testing.T) rdir.Store { return newSQLite(t) })
}
