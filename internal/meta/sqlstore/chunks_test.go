package sqlstore

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
)

// TestChunkUpdateWritesItsRowsOnly: a chunk update removes the row of the
// old chunk and adds one for the new, leaving the others as they are (a
// rebuild updates objects of thousands of chunks one at a time), and the
// object still reads in position order.
func TestChunkUpdateWritesItsRowsOnly(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "meta.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateContainer(ctx, meta.ContainerSpec{Account: "a", Name: "c"}); err != nil {
		t.Fatal(err)
	}
	cid := chunk.ContainerID("a", "c")
	url := func(host string, pos int) string {
		return "http://" + host + "/" + strings.Repeat(string(rune('A'+pos)), 64)
	}
	c := func(host string, pos int) meta.Chunk {
		return meta.Chunk{URL: url(host, pos), Pos: string(rune('0' + pos)), Size: 1,
			Hash: strings.Repeat("0", 32)}
	}
	o, err := s.PutObject(ctx, cid, &meta.Object{Name: "o", ContentID: "AB", Policy: "TWOCOPIES", Size: 2,
		Chunks: []meta.Chunk{c("rawx-1", 0), c("rawx-2", 0), c("rawx-2", 1), c("rawx-3", 1)}})
	if err != nil {
		t.Fatal(err)
	}
	u := meta.ChunkUpdate{ContentID: o.ContentID, Old: c("rawx-2", 1), New: c("rawx-1", 1)}
	if err := s.UpdateChunk(ctx, cid, u); err != nil {
		t.Fatal(err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT seq, url FROM chunks WHERE cid = ? AND content_id = ?
		ORDER BY seq`, cid, o.ContentID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]int{}
	for rows.Next() {
		var seq int
		var u string
		if err := rows.Scan(&seq, &u); err != nil {
			t.Fatal(err)
		}
		got[u] = seq
	}
	want := map[string]int{url("rawx-1", 0): 0, url("rawx-2", 0): 1, url("rawx-3", 1): 3, url("rawx-1", 1): 4}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chunk rows after the update (-want +got):\n%s", diff)
	}
	now, err := s.Object(ctx, cid, meta.ObjectQuery{ContentID: o.ContentID})
	if err != nil {
		t.Fatal(err)
	}
	wantChunks := []meta.Chunk{c("rawx-1", 0), c("rawx-2", 0), c("rawx-1", 1), c("rawx-3", 1)}
	if diff := cmp.Diff(wantChunks, now.Chunks); diff != "" {
		t.Errorf("the object's chunks (-want +got):\n%s", diff)
	}
}
