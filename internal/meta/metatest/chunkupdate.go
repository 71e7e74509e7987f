package metatest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/meta"
)

// putTwoCopies stores object "two": two metachunks of two copies each.
func (f *fixture) putTwoCopies() *meta.Object {
	f.t.Helper()
	o, err := f.s.PutObject(f.ctx, cid, &meta.Object{Name: "two", Size: 15, Policy: "TWOCOPIES",
		Hash: "d41d8cd98f00b204e9800998ecf8427e", Chunks: chunksFor("two", 0, 15, 2)})
	if err != nil {
		f.t.Fatal(err)
	}
	return o
}

func testUpdateChunk(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, meta.Namespace{})
	o := f.putTwoCopies()
	f.drain()
	lost := o.Chunks[0] // http://rawx-0/<id of position 0>
	spare := lost
	spare.URL = "http://rawx-7/" + lost.ID()
	replace := meta.ChunkUpdate{ContentID: o.ContentID, Old: lost, New: spare}

	if err := f.s.UpdateChunk(f.ctx, cid, replace); err != nil {
		t.Fatalf("replace: %v", err)
	}
	want := append([]meta.Chunk{o.Chunks[1], spare}, o.Chunks[2:]...)
	f.wantChunks("after a replacement", o, want)
	evs := f.drain()
	if len(evs) != 1 || evs[0].Type != event.ContentUpdate {
		t.Errorf("replacement announced by %+v, want one %s", evs, event.ContentUpdate)
	}

	// Doing it again finds the old entry gone; nothing changes.
	f.wantErr("replace again", f.s.UpdateChunk(f.ctx, cid, replace), meta.ErrChunkConflict)
	dup := meta.ChunkUpdate{ContentID: o.ContentID, Old: o.Chunks[1], New: spare}
	f.wantErr("two entries for one copy", f.s.UpdateChunk(f.ctx, cid, dup), meta.ErrChunkConflict)
	add := meta.ChunkUpdate{ContentID: o.ContentID, New: lost}
	f.wantErr("a third copy", f.s.UpdateChunk(f.ctx, cid, add), meta.ErrChunkConflict)
	for _, pos := range []string{"2", "3", "1.0"} {
		extra := lost
		extra.URL, extra.Pos = "http://rawx-7/"+meta.ChunkID(cid, "two", 0, pos, "TWOCOPIES"), pos
		f.wantErr("a copy at position "+pos+", which has none", f.s.UpdateChunk(f.ctx, cid,
			meta.ChunkUpdate{ContentID: o.ContentID, New: extra}), meta.ErrChunkConflict)
	}
	f.wantChunks("after refused updates", o, want)

	// Remove a copy, then add it back; the last copy stays.
	if err := f.s.UpdateChunk(f.ctx, cid, meta.ChunkUpdate{ContentID: o.ContentID,
		Old: spare}); err != nil {
		t.Fatalf("remove: %v", err)
	}
	last := meta.ChunkUpdate{ContentID: o.ContentID, Old: o.Chunks[1]}
	f.wantErr("remove the last copy", f.s.UpdateChunk(f.ctx, cid, last), meta.ErrChunkConflict)
	if err := f.s.UpdateChunk(f.ctx, cid, add); err != nil {
		t.Fatalf("add: %v", err)
	}
	f.wantChunks("after removing and adding", o, o.Chunks)

	bad := meta.ChunkUpdate{ContentID: o.ContentID, Old: o.Chunks[1], New: spare}
	bad.New.Size = 3
	f.wantErr("a copy of another size", f.s.UpdateChunk(f.ctx, cid, bad), meta.ErrInvalid)
	bad = replace
	bad.New.Pos = "1"
	f.wantErr("a copy at another position", f.s.UpdateChunk(f.ctx, cid, bad), meta.ErrInvalid)
	bad = replace
	bad.ContentID = "0123456789ABCDEF0123456789ABCDEF"
	f.wantErr("unknown content", f.s.UpdateChunk(f.ctx, cid, bad), meta.ErrNoSuchObject)
	f.wantErr("no chunk", f.s.UpdateChunk(f.ctx, cid, meta.ChunkUpdate{ContentID: o.ContentID}),
		meta.ErrInvalid)
	f.wantChunks("after bad updates", o, o.Chunks)
}

// wantChunks checks the chunks the store holds for o.
func (f *fixture) wantChunks(what string, o *meta.Object, want []meta.Chunk) {
	f.t.Helper()
	got, err := f.get(meta.ObjectQuery{ContentID: o.ContentID})
	if err != nil {
		f.t.Fatalf("%s: %v", what, err)
	}
	if diff := cmp.Diff(want, got.Chunks); diff != "" {
		f.t.Errorf("%s: chunks (-want +got):\n%s", what, diff)
	}
}

// testChunkOwners finds the entries of a chunk id across objects and
// servers, follows a chunk update, forgets a deleted object, and refuses
// a malformed id.
func testChunkOwners(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, meta.Namespace{})
	o := f.putTwoCopies()
	f.put("other", 5, nil)
	c := o.Chunks[0]
	owners := func(id string) []meta.ChunkOwner {
		t.Helper()
		got, err := f.s.ChunkOwners(f.ctx, id)
		if err != nil {
			t.Fatalf("ChunkOwners(%s): %v", id, err)
		}
		return got
	}
	entry := func(ch meta.Chunk) meta.ChunkOwner {
		return meta.ChunkOwner{ContainerID: cid, ContentID: o.ContentID,
			Chunk: meta.Chunk{URL: ch.URL, Pos: ch.Pos, Size: ch.Size, Hash: ch.Hash}}
	}
	want := []meta.ChunkOwner{entry(o.Chunks[0]), entry(o.Chunks[1])} // both copies share the id
	if diff := cmp.Diff(want, owners(strings.ToLower(c.ID()))); diff != "" {
		t.Errorf("owners (-want +got):\n%s", diff)
	}
	moved := c
	moved.URL = "http://rawx-7/" + c.ID()
	if err := f.s.UpdateChunk(f.ctx, cid, meta.ChunkUpdate{ContentID: o.ContentID, Old: c,
		New: moved}); err != nil {
		t.Fatal(err)
	}
	want = []meta.ChunkOwner{entry(o.Chunks[1]), entry(moved)}
	if diff := cmp.Diff(want, owners(c.ID())); diff != "" {
		t.Errorf("owners after a move (-want +got):\n%s", diff)
	}
	if got := owners(strings.Repeat("0", 64)); len(got) != 0 {
		t.Errorf("owners of an unknown id: %+v", got)
	}
	if _, err := f.s.DeleteObject(f.ctx, cid, "two", 0); err != nil {
		t.Fatal(err)
	}
	if got := owners(c.ID()); len(got) != 0 {
		t.Errorf("owners after the object was deleted: %+v", got)
	}
	_, err := f.s.ChunkOwners(f.ctx, "not-an-id")
	f.wantErr("a malformed id", err, meta.ErrInvalid)
}
