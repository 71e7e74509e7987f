package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/meta/metatest"
	"github.com/gridkeep/gridkeep/internal/meta/sqlstore"
)

func newSQLite(t *testing.T, ns meta.Namespace) meta.Store {
	s, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "meta.db"),
		sqlstore.Options{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLiteConformance(t *testing.T) {
	metatest.Run(t, newSQLite)
}
