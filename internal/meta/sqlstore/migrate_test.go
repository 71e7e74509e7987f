package sqlstore

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/sqlitedb"
)

// TestChunkIDBackfilled opens a directory written before chunk ids were
// stored: the migration fills them in, and ChunkOwners finds the entries,
// whatever the case of their URLs.
func TestChunkIDBackfilled(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := sqlitedb.Open(ctx, path, sqlitedb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	first := sqlitedb.Schema{Name: schemaName, Steps: sqlite.migrations[:1]}
	if err := sqlitedb.Migrate(ctx, db, first); err != nil {
		t.Fatal(err)
	}
	id := strings.Repeat("AB", 32)
	for i, u := range []string{"http://rawx-1/" + id, "http://127.0.0.1:6202/" + strings.ToLower(id),
		"http://rawx-3/" + strings.Repeat("CD", 32)} {
		if _, err := db.ExecContext(ctx, `INSERT INTO chunks (cid, content_id, seq, url, pos, size,
			hash) VALUES ('C', 'AA', ?, ?, '0', 1, 'FF')`, i, u); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.ChunkOwners(ctx, id)
	if err != nil || len(got) != 2 || got[0].Chunk.URL != "http://rawx-1/"+id ||
		got[1].Chunk.URL != "http://127.0.0.1:6202/"+strings.ToLower(id) {
		t.Errorf("owners after the migration: %+v %v", got, err)
	}
	if got, _ := s.ChunkOwners(ctx, strings.Repeat("EF", 32)); len(got) != 0 {
		t.Errorf("owners of an unknown id: %+v", got)
	}
	var _ meta.Store = s
}
