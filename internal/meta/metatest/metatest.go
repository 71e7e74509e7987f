// Package metatest is the conformance suite of meta.Store implementations:
// every store runs it against a real engine.
package metatest

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/meta"
)

// NewStore returns an empty store applying ns, closed when the test ends.
type NewStore func(t *testing.T, ns meta.Namespace) meta.Store

// Run runs the conformance suite against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, newStore NewStore)
	}{
		{"Accounts", testAccounts},
		{"ContainerSystemProperties", testContainerSystem},
		{"ContainerProperties", testContainerProperties},
		{"ContainerListing", testContainerListing},
		{"ContainerDestroy", testContainerDestroy},
		{"PutAndGet", testPutAndGet},
		{"ObjectProperties", testObjectProperties},
		{"UpdateChunk", testUpdateChunk},
		{"ChunkOwners", testChunkOwners},
		{"ReplaceWithoutVersioning", testReplace},
		{"UnlimitedVersioning", testUnlimitedVersions},
		{"KeepNVersions", testKeepN},
		{"ListObjects", testListObjects},
		{"ListVersions", testListVersions},
		{"ListPaging", testListPaging},
		{"Events", testEvents},
		{"Outbox", testOutbox},
		{"BadInputChangesNothing", testBadInput},
		{"PropertiesSize", testPropertiesSize},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore) })
	}
}

const (
	acct = "myaccount"
	ctr  = "mycontainer"
)

var cid = chunk.ContainerID(acct, ctr)

// fixture is a store with one container, its events drained.
type fixture struct {
	t   *testing.T
	ctx context.Context
	s   meta.Store
}

func newFixture(t *testing.T, newStore NewStore, ns meta.Namespace) *fixture {
	f := &fixture{t: t, ctx: context.Background(), s: newStore(t, ns)}
	f.createContainer(acct, ctr, nil)
	f.drain()
	return f
}

func (f *fixture) createContainer(account, name string, sys map[string]string) {
	f.t.Helper()
	if _, err := f.s.CreateContainer(f.ctx, meta.ContainerSpec{Account: account, Name: name,
		System: sys}); err != nil {
		f.t.Fatalf("create container %s/%s: %v", account, name, err)
	}
}

// drain returns and removes the pending events.
func (f *fixture) drain() []event.Event {
	f.t.Helper()
	recs, err := f.s.Pending(f.ctx, 10000)
	if err != nil {
		f.t.Fatalf("pending: %v", err)
	}
	var ids []int64
	var evs []event.Event
	for _, r := range recs {
		ids = append(ids, r.ID)
		evs = append(evs, r.Event)
	}
	if err := f.s.Done(f.ctx, ids); err != nil {
		f.t.Fatalf("done: %v", err)
	}
	return evs
}

func (f *fixture) container(id string) *meta.Container {
	f.t.Helper()
	c, err := f.s.Container(f.ctx, id)
	if err != nil {
		f.t.Fatalf("container %s: %v", id, err)
	}
	return c
}

// chunksFor returns n copies of each of the metachunks holding size bytes,
// 10 bytes per metachunk.
func chunksFor(name string, version int64, size int64, copies int) []meta.Chunk {
	var out []meta.Chunk
	for pos := int64(0); pos == 0 || pos*10 < size; pos++ {
		n := min(10, size-pos*10)
		p := itoa(pos)
		id := meta.ChunkID(cid, name, version, p, "SINGLE")
		for c := range copies {
			out = append(out, meta.Chunk{URL: "http://rawx-" + itoa(int64(c)) + "/" + id,
				Pos: p, Size: n, Hash: "0123456789abcdef0123456789abcdef"})
		}
	}
	return out
}

// put stores an object of size bytes, 10 per metachunk.
func (f *fixture) put(name string, size int64, props map[string]string) *meta.Object {
	f.t.Helper()
	o, err := f.s.PutObject(f.ctx, cid, &meta.Object{Name: name, Size: size,
		Hash: "d41d8cd98f00b204e9800998ecf8427e", Chunks: chunksFor(name, 0, size, 1),
		Properties: props})
	if err != nil {
		f.t.Fatalf("put %q: %v", name, err)
	}
	return o
}

func (f *fixture) get(q meta.ObjectQuery) (*meta.Object, error) {
	return f.s.Object(f.ctx, cid, q)
}

func (f *fixture) wantErr(what string, err, want error) {
	f.t.Helper()
	if !errors.Is(err, want) {
		f.t.Errorf("%s: got error %v, want %v", what, err, want)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
