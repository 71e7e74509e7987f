package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/event/natsbus"
	"github.com/gridkeep/gridkeep/internal/rawx"
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

func startRawx(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	vol := filepath.Join(t.TempDir(), "vol")
	os.Mkdir(vol, 0o755)
	srv, err := rawx.New(rawx.Config{Volume: vol, Addr: ln.Addr().String(), Namespace: "NS"})
	if err != nil {
		t.Fatal(err)
	}
	hs := srv.HTTPServer()
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return ln.Addr().String()
}

func TestContentCleanerDeletesChunks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bus := openBus(t)
	addr := startRawx(t)
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
		m := &chunk.Meta{ChunkID: id, Position: "0", ChunkMethod: "plain/cca=blake3,nb_copy=1",
			StoragePolicy: "SINGLE", Fullpath: chunk.Fullpath{Account: "a", Container: "c",
				Path: "o", Version: 1, ContentID: "AB"}}
		if _, err := c.Put(ctx, u, m, bytes.NewReader([]byte("data")), -1); err != nil {
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

	a, err := New(bus, nil, ContentCleaner(&c, nil, nil))
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
}
