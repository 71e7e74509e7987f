package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/event/eventtest"
	"github.com/gridkeep/gridkeep/internal/event/natsbus"
	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/rdir"
	"github.com/gridkeep/gridkeep/internal/sqlitedb"
)

func openBus(t *testing.T) event.Bus {
	t.Helper()
	ctx := context.Background()
	bus, err := natsbus.Open(ctx, natsbus.ServerOptions{Dir: t.TempDir()}, natsbus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bus.Close() })
	return bus
}

// startRawx starts a chunk server on a new volume, sending its events to
// pub when not nil, and returns its address and volume.
func startRawx(t *testing.T, pub event.Publisher) (addr, vol string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	vol = filepath.Join(t.TempDir(), "vol")
	os.Mkdir(vol, 0o755)
	srv, err := rawx.New(rawx.Config{Volume: vol, Addr: ln.Addr().String(), Namespace: "NS",
		ServiceID: "rawx-1", Publisher: pub})
	if err != nil {
		t.Fatal(err)
	}
	hs := srv.HTTPServer()
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return ln.Addr().String(), vol
}

// runAgent runs an agent of steps over bus until the test ends.
func runAgent(t *testing.T, bus event.Bus, steps ...Step) {
	t.Helper()
	a, err := New(bus, nil, steps...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func TestContentCleanerDeletesChunks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bus := openBus(t)
	addr, _ := startRawx(t, nil)
	var c rawx.Client

	// Two chunks exist; the event names them and a third that is already gone.
	var urls []string
	for i := 0; i < 3; i++ {
		id := strings.Repeat(string("ABC"[i]), 64)
		u := rawx.ChunkURL(addr, id)
		urls = append(urls, u)
		if i == 2 {
			continue
		}
		if _, err := c.Put(ctx, u, testChunk(id), bytes.NewReader([]byte("data")), -1); err != nil {
			t.Fatal(err)
		}
	}
	beans := []map[string]any{{"type": "aliases", "name": "o", "version": 1}}
	for _, u := range urls {
		beans = append(beans, map[string]any{"type": "chunks", "id": u, "pos": "0"})
	}
	data, _ := json.Marshal(beans)
	ev := event.Event{Type: event.ContentDeleted, When: event.Now(), Data: data}
	if err := bus.Publish(ctx, ev); err != nil {
		t.Fatal(err)
	}

	a, err := New(bus, nil, ContentCleaner(&c, nil, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	for _, u := range urls[:2] {
		for {
			_, err := c.Head(ctx, u, false)
			if errors.Is(err, rawx.ErrNotFound) {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("chunk %s was not deleted", u)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestNewRejectsBadSteps(t *testing.T) {
	bus := openBus(t)
	if _, err := New(bus, nil, Step{Name: "no handler"}); err == nil {
		t.Error("a step without handler was accepted")
	}
	h := func(context.Context, event.Event) error { return nil }
	if _, err := New(bus, nil, Step{Name: "bad name!", Handle: h}); err == nil {
		t.Error("a bad group name was accepted")
	}
	hb := func(context.Context, []event.Event) error { return nil }
	if _, err := New(bus, nil, Step{Name: "two", Handle: h, HandleBatch: hb}); err == nil {
		t.Error("a step with two handlers was accepted")
	}
}

// A batch step gets the events waiting together on a bus that batches, and
// one at a time on a bus that does not.
func TestBatchStep(t *testing.T) {
	for _, tc := range []struct {
		name     string
		wrap     func(event.Bus) event.Bus
		batching bool
	}{
		{"batching bus", func(b event.Bus) event.Bus { return b }, true},
		{"plain bus", func(b event.Bus) event.Bus { return eventtest.NewFaultyBus(b) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			bus := tc.wrap(openBus(t))
			evs := eventtest.Numbered(event.ContentNew, 40)
			eventtest.PublishAll(t, ctx, bus, evs)
			c := eventtest.NewCollector()
			var largest atomic.Int32
			runAgent(t, bus, Step{Name: "batch", Types: []string{event.ContentNew}, Batch: 16,
				HandleBatch: func(_ context.Context, batch []event.Event) error {
					if n := int32(len(batch)); n > largest.Load() {
						largest.Store(n)
					}
					for _, ev := range batch {
						c.Add(ev)
					}
					return nil
				}})
			c.WaitFor(t, ctx, evs)
			switch n := largest.Load(); {
			case n > 16:
				t.Errorf("a batch of %d events, above the step's bound of 16", n)
			case tc.batching && n < 2:
				t.Errorf("40 waiting events came one at a time")
			case !tc.batching && n != 1:
				t.Errorf("a batch of %d events from a bus that cannot batch", n)
			}
		})
	}
}

// testChunk is the metadata of a one-copy chunk of object a/c/o.
func testChunk(id string) *chunk.Meta {
	return &chunk.Meta{ChunkID: id, Position: "0", ChunkMethod: "plain/cca=blake3,nb_copy=1",
		StoragePolicy: "SINGLE", Fullpath: chunk.Fullpath{Account: "a", Container: "c",
			Path: "o", Version: 1, ContentID: "AB"}}
}

// toLegacy replaces the fullpath attribute of the chunk file at path by
// the owner keys of the format before it.
func toLegacy(t *testing.T, path string, m *chunk.Meta) {
	t.Helper()
	fp := m.Fullpath
	err := chunk.SetAttrs(path, []chunk.Attr{
		{Name: chunk.AttrLegacyChunkID, Value: m.ChunkID},
		{Name: chunk.AttrLegacyContainer, Value: fp.ContainerID()},
		{Name: chunk.AttrLegacyPath, Value: fp.Path},
		{Name: chunk.AttrLegacyVersion, Value: strconv.FormatInt(fp.Version, 10)},
		{Name: chunk.AttrLegacyContentID, Value: fp.ContentID},
	})
	if err == nil {
		err = chunk.RemoveAttr(path, chunk.AttrFullpathPrefix+m.ChunkID)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// waitRecords waits until the index of volume rawx-1 holds the records of
// exactly the chunk ids want, and fails the test if it does not in time.
func waitRecords(ctx context.Context, t *testing.T, store rdir.Store, want ...string) {
	t.Helper()
	var got []string
	for {
		got = got[:0]
		for r, err := range rdir.All(ctx, store, "rawx-1", rdir.ListOptions{}) {
			if err != nil && !errors.Is(err, rdir.ErrNoVolume) {
				t.Fatal(err)
			}
			if err == nil {
				got = append(got, r.ChunkID)
			}
		}
		slices.Sort(got)
		if slices.Equal(got, want) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("indexed chunks %v, want %v", got, want)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Deleting a chunk removes its reverse index record, whether its metadata
// is in the current format or in the legacy one.
func TestVolumeIndexFollowsDeletes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	bus := openBus(t)
	store, err := rdir.OpenSQLite(ctx, filepath.Join(t.TempDir(), "rdir.db"), sqlitedb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	pub := event.NewAsyncPublisher(bus, event.AsyncOptions{})
	t.Cleanup(func() { pub.Close(context.Background()) })
	addr, vol := startRawx(t, pub)
	runAgent(t, bus, VolumeIndex(store))

	var c rawx.Client
	current, legacy := strings.Repeat("C", 64), strings.Repeat("D", 64)
	for _, id := range []string{current, legacy} {
		_, err := c.Put(ctx, rawx.ChunkURL(addr, id), testChunk(id), strings.NewReader("data"), -1)
		if err != nil {
			t.Fatal(err)
		}
	}
	waitRecords(ctx, t, store, current, legacy)

	toLegacy(t, filepath.Join(vol, legacy[:3], legacy), testChunk(legacy))
	for _, id := range []string{current, legacy} {
		if err := c.Delete(ctx, rawx.ChunkURL(addr, id)); err != nil {
			t.Fatal(err)
		}
	}
	waitRecords(ctx, t, store)
}
