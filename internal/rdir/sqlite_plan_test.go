package rdir

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gridkeep/gridkeep/internal/sqlitedb"
)

// TestLookupsUseIndexes checks that lookups by chunk id and by content id,
// and listings by chunk id, are answered by their indexes, not by a scan
// of the volume's records.
func TestLookupsUseIndexes(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "rdir.db"), sqlitedb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tests := []struct {
		opts  ListOptions
		index string
	}{
		{ListOptions{ChunkID: strings.Repeat("A", 64)}, "chunks_by_id"},
		{ListOptions{ChunkID: strings.Repeat("A", 64), Marker: "0"}, "chunks_by_id"},
		{ListOptions{ContentID: "ABCD"}, "chunks_by_content"},
		{ListOptions{ContentID: "ABCD", Prefix: strings.Repeat("B", 64)}, "chunks_by_content"},
		{ListOptions{ByChunk: true}, "chunks_by_id"},
		{ListOptions{ByChunk: true, Marker: strings.Repeat("B", 64) + "|" + strings.Repeat("A", 64)},
			"chunks_by_id (volume=? AND <expr>>?)"},
	}
	for _, tt := range tests {
		query, args := selectRecords(volume{id: 1}, tt.opts)
		rows, err := s.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		all := strings.Join(plan, "; ")
		if !strings.Contains(all, "INDEX "+tt.index) {
			t.Errorf("%+v: plan %q does not use %s", tt.opts, plan, tt.index)
		}
		// The records are then read one by one by key, never by a walk.
		if !strings.Contains(all, "PRIMARY KEY (volume=? AND chunk_key=?)") {
			t.Errorf("%+v: plan %q does not read the records by key", tt.opts, plan)
		}
	}
}
