package meta_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
)

// TestClientUpdateChunk replaces a copy through container/raw_update, as a
// rebuilder does, and checks that repeating it is refused.
func TestClientUpdateChunk(t *testing.T) {
	h, o := twoCopies(t)
	if len(o.Chunks) != 2 {
		t.Fatalf("%d chunks, want 2 copies", len(o.Chunks))
	}
	used := map[string]bool{o.Chunks[0].Host(): true, o.Chunks[1].Host(): true}
	spare := o.Chunks[0]
	for _, id := range []string{"rawx-1", "rawx-2", "rawx-3"} {
		if !used[id] {
			spare.URL = "http://" + id + "/" + spare.ID()
		}
	}
	spare.RealURL, spare.Score = "", 0
	u := meta.ChunkUpdate{ContentID: o.ContentID, Old: o.Chunks[0], New: spare}
	cid := chunk.ContainerID(acct, ctr)
	if err := h.client.UpdateChunk(h.ctx, cid, u); err != nil {
		t.Fatal(err)
	}
	got, err := h.client.LocateByID(h.ctx, cid, o.ContentID)
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, c := range got.Chunks {
		urls = append(urls, c.URL)
	}
	if !strings.Contains(strings.Join(urls, " "), spare.URL) ||
		strings.Contains(strings.Join(urls, " "), o.Chunks[0].URL) {
		t.Errorf("chunks after the update: %v", urls)
	}
	if err := h.client.UpdateChunk(h.ctx, cid, u); !errors.Is(err, meta.ErrChunkConflict) {
		t.Errorf("update again: %v, want %v", err, meta.ErrChunkConflict)
	}
	body := `{"old": [{"id": "http://rawx-1/` + spare.ID() + `", "pos": "0", "content": "` +
		o.ContentID + `"}, {"id": "http://rawx-2/` + spare.ID() + `", "pos": "0", "content": "` +
		o.ContentID + `"}], "new": []}`
	h.proxy("POST", "container/raw_update", with(ref(""), "cid", cid), nil, body).
		want(t, "two old beans", http.StatusBadRequest)
}

// TestApplyChunkUpdateIgnoresCase: an entry stored with its chunk id in
// lowercase, or listed twice, is the Old an update names in uppercase;
// only its first match is replaced.
func TestApplyChunkUpdateIgnoresCase(t *testing.T) {
	id := strings.Repeat("AB", 32)
	lower := meta.Chunk{URL: "http://rawx-1/" + strings.ToLower(id), Pos: "0", Size: 3, Hash: "CAFE"}
	other := meta.Chunk{URL: "http://rawx-2/" + id, Pos: "0", Size: 3, Hash: "CAFE"}
	upper := lower
	upper.URL = "http://rawx-1/" + id
	moved := upper
	moved.URL = "http://rawx-3/" + id

	got, err := meta.ApplyChunkUpdate([]meta.Chunk{lower, other}, meta.ChunkUpdate{Old: upper,
		New: moved}, 2)
	if err != nil || len(got) != 2 || got[0].URL != other.URL || got[1].URL != moved.URL {
		t.Errorf("replace a lowercase entry: %v %v", got, err)
	}
	got, err = meta.ApplyChunkUpdate([]meta.Chunk{upper, lower}, meta.ChunkUpdate{Old: upper}, 2)
	if err != nil || len(got) != 1 || got[0].URL != lower.URL {
		t.Errorf("drop one of two spellings: %v %v", got, err)
	}
	_, err = meta.ApplyChunkUpdate([]meta.Chunk{lower, other}, meta.ChunkUpdate{Old: other,
		New: upper}, 2)
	if !errors.Is(err, meta.ErrChunkConflict) {
		t.Errorf("add a chunk already listed in lowercase: %v, want a conflict", err)
	}
}

// TestClientChunkOwners asks the directory which entries list a chunk id,
// through chunk/owners.
func TestClientChunkOwners(t *testing.T) {
	h, o := twoCopies(t)
	got, err := h.client.ChunkOwners(h.ctx, strings.ToLower(o.Chunks[0].ID()))
	if err != nil || len(got) != 2 || got[0].ContentID != o.ContentID ||
		got[0].ContainerID != chunk.ContainerID(acct, ctr) || got[0].Chunk.URL != o.Chunks[0].URL {
		t.Errorf("owners: %+v %v", got, err)
	}
	if got, err := h.client.ChunkOwners(h.ctx, strings.Repeat("0", 64)); err != nil || len(got) != 0 {
		t.Errorf("owners of an unknown id: %+v %v", got, err)
	}
	if _, err := h.client.ChunkOwners(h.ctx, "xyz"); !errors.Is(err, meta.ErrInvalid) {
		t.Errorf("malformed id: %v, want %v", err, meta.ErrInvalid)
	}
}

// twoCopies starts a directory with a TWOCOPIES container holding object
// "o", and returns it located.
func twoCopies(t *testing.T) (*harness, *meta.Object) {
	t.Helper()
	h := newHarness(t, harnessOptions{})
	if _, err := h.client.ContainerCreate(h.ctx, acct, ctr, nil,
		map[string]string{meta.SysPolicyStorage: "TWOCOPIES"}); err != nil {
		t.Fatal(err)
	}
	h.put("o", nil)
	o, err := h.client.Locate(h.ctx, acct, ctr, "o", 0)
	if err != nil {
		t.Fatal(err)
	}
	return h, o
}
