package rawx

import (
	"bytes"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

// fakeDisk stands for a filesystem: a sync makes durable what was written
// before it started.
type fakeDisk struct {
	mu      sync.Mutex
	written map[int]bool
	durable map[int]bool
	syncs   int
	fail    func(n int) error // the error of sync n, from 1
}

func newFakeDisk() *fakeDisk {
	return &fakeDisk{written: map[int]bool{}, durable: map[int]bool{}, fail: func(int) error { return nil }}
}

func (d *fakeDisk) write(i int) {
	d.mu.Lock()
	d.written[i] = true
	d.mu.Unlock()
}

func (d *fakeDisk) sync() error {
	d.mu.Lock()
	d.syncs++
	n := d.syncs
	snapshot := make([]int, 0, len(d.written))
	for i := range d.written {
		snapshot = append(snapshot, i)
	}
	d.mu.Unlock()
	time.Sleep(time.Millisecond) // writes go on meanwhile, and are not covered
	if err := d.fail(n); err != nil {
		return err
	}
	d.mu.Lock()
	for _, i := range snapshot {
		d.durable[i] = true
	}
	d.mu.Unlock()
	return nil
}

func (d *fakeDisk) isDurable(i int) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.durable[i]
}

func TestGroupSyncCoversWritesBeforeTheCall(t *testing.T) {
	d := newFakeDisk()
	g := newGroupSync(d.sync)
	const writers, rounds = 16, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				i := w*rounds + r
				d.write(i)
				if err := g.Sync(); err != nil {
					t.Error(err)
					return
				}
				if !d.isDurable(i) {
					t.Errorf("write %d not durable when Sync returned", i)
					return
				}
			}
		})
	}
	wg.Wait()
	if d.syncs >= writers*rounds {
		t.Errorf("%d syncs for %d calls: calls were not grouped", d.syncs, writers*rounds)
	}
	t.Logf("%d syncs for %d calls", d.syncs, writers*rounds)
}

func TestGroupSyncReportsFailureToEveryCallItServed(t *testing.T) {
	d := newFakeDisk()
	broken := errors.New("writeback failed")
	release := make(chan struct{})
	d.fail = func(n int) error {
		switch n {
		case 1:
			<-release // the other calls come while the first sync runs
		case 2:
			return broken
		}
		return nil
	}
	g := newGroupSync(d.sync)
	errs := make(chan error, 4)
	go func() { errs <- g.Sync() }()
	waitState(t, g, 1, 0)
	for range 3 {
		go func() { errs <- g.Sync() }()
	}
	waitState(t, g, 1, 3) // the three wait for a sync that starts after them
	close(release)
	var failed int
	for range 4 {
		if err := <-errs; errors.Is(err, broken) {
			failed++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if failed != 3 {
		t.Fatalf("%d calls got the failure of the sync that served 3", failed)
	}
	// The failure is past: a new call gets a new sync, which works.
	d.write(1)
	if err := g.Sync(); err != nil || !d.isDurable(1) {
		t.Fatalf("call after the failure: %v, durable %v", err, d.isDurable(1))
	}
}

// waitState waits until g has started syncs syncs and has waiting calls.
func waitState(t *testing.T, g *groupSync, syncs uint64, waiting int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		s, w := g.state()
		if s == syncs && w == waiting {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d syncs started and %d calls waiting, want %d and %d", s, w, syncs, waiting)
		}
	}
}

// With Fsync, an upload is synced before its rename and after it, and a
// failed sync before the rename leaves no chunk behind.
func TestFsyncUploadSyncsAroundRename(t *testing.T) {
	var syncs atomic.Int64
	var fail atomic.Bool
	srv, addr := startServer(t, Config{Namespace: "NS", Fsync: true})
	var renamed []bool // whether the chunk had its final name at each sync
	var mu sync.Mutex
	id := testID(8)
	srv.synced = newGroupSync(func() error {
		syncs.Add(1)
		_, err := os.Stat(filepath.Join(srv.cfg.Volume, srv.cfg.Layout.Path(id)))
		mu.Lock()
		renamed = append(renamed, err == nil)
		mu.Unlock()
		if fail.Load() {
			return errors.New("writeback failed")
		}
		return nil
	})
	var c Client
	body := []byte("durable")
	if _, err := c.Put(ctx, ChunkURL(addr, id), testMeta(id), bytes.NewReader(body), -1); err != nil {
		t.Fatal(err)
	}
	if want := []bool{false, true}; !slices.Equal(renamed, want) {
		t.Fatalf("final name present at each sync: %v, want %v", renamed, want)
	}

	fail.Store(true)
	other := testID(9)
	_, err := c.Put(ctx, ChunkURL(addr, other), testMeta(other), bytes.NewReader(body), -1)
	var se *StatusError
	if !errors.As(err, &se) || se.Status != http.StatusInternalServerError {
		t.Fatalf("put with a failing sync: %v, want 500", err)
	}
	path := filepath.Join(srv.cfg.Volume, srv.cfg.Layout.Path(other))
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("chunk whose sync failed is on the volume: %v", err)
	}
	if _, err := os.Lstat(path + chunk.PendingSuffix); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("pending file left: %v", err)
	}
	if n := syncs.Load(); n != 3 {
		t.Errorf("%d syncs, want 2 for the first upload and 1 for the failed one", n)
	}
}
