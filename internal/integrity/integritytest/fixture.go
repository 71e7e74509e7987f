// Package integritytest runs a namespace, fills it with objects and breaks
// it in every way the integrity checker must find: the fixture of the
// checker's and the rebuilder's end-to-end tests.
package integritytest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/integrity"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/namespace"
	"github.com/gridkeep/gridkeep/internal/object"
	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

// ChunkSize is the metachunk size of test namespaces: small, so that
// objects of a few kilobytes span several metachunks.
const ChunkSize = 16 << 10

// Account is the account every object of a Fixture is in.
const Account = "acct"

// Fixture is a running namespace with objects in it.
type Fixture struct {
	T       testing.TB
	Ctx     context.Context
	NS      *namespace.Namespace
	Data    string // the namespace's data folder
	Dir     *meta.Client
	warns   *lockedBuffer // the namespace's warnings, shown when setting up fails
	Objects []object.Name
	oc      *object.Client
}

// Start runs a namespace of rawxCount chunk servers until the test ends,
// with metachunks of ChunkSize bytes.
func Start(t testing.TB, rawxCount int) *Fixture {
	t.Helper()
	return StartSized(t, rawxCount, ChunkSize)
}

// StartSized is Start with metachunks of chunkSize bytes.
func StartSized(t testing.TB, rawxCount int, chunkSize int64) *Fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	data := t.TempDir()
	warns := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(warns, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ns, err := namespace.Start(ctx, namespace.Options{Data: data, PortBase: -1,
		Rawx: rawxCount, ChunkSize: chunkSize, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	dir, err := meta.NewClient(ns.ProxyURL, meta.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &Fixture{T: t, Ctx: ctx, NS: ns, Data: data, Dir: dir, warns: warns,
		oc: &object.Client{Dir: dir, Rawx: &rawx.Client{}}}
}

// Policies cycles through the replicated policies; Sizes go from empty to
// several metachunks.
var (
	Policies = []string{"THREECOPIES", "TWOCOPIES", "SINGLE", "TWOCOPIES"}
	Sizes    = []int{0, 1, 100, ChunkSize - 1, ChunkSize, ChunkSize + 1, 3*ChunkSize + 77, 5000}
)

// Populate writes n objects over four containers, with the policies and
// sizes above in turn, and waits until the reverse index knows every
// chunk.
func (f *Fixture) Populate(n int) {
	f.T.Helper()
	f.Write(n, func(i int) object.Name {
		return object.Name{Account: Account, Container: fmt.Sprintf("ctr-%d", i%4),
			Path: fmt.Sprintf("dir %d/obj-%04d", i%7, i)}
	}, func(i int) (int, string) { return Sizes[i%len(Sizes)], Policies[i%len(Policies)] })
	f.WaitIndexed()
}

// Write writes n objects named by name, of the size and policy spec
// gives, with random data, sixteen at a time.
func (f *Fixture) Write(n int, name func(int) object.Name, spec func(int) (int, string)) {
	f.T.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	for i := range n {
		size, policy := spec(i)
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(rng.UintN(256))
		}
		nm := name(i)
		f.Objects = append(f.Objects, nm)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			_, err := f.oc.Put(f.Ctx, nm, bytes.NewReader(data), object.PutOptions{
				Size: int64(len(data)), SizeKnown: true, Policy: policy})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			f.T.Fatal(err)
		}
	}
}

// WaitIndexed waits until each volume's reverse index lists exactly the
// chunk files of the volume: the index follows the chunk servers' events,
// a little behind them. The events in flight are waited for first, by
// writing and deleting a marker chunk on each volume: a file and a record
// that agree do not mean that no event about the chunk is still to come.
// A chunk deleted and written again under its id on one volume (by a
// rebuild, say) has its record removed and pushed back by the two events,
// after its files and records agreed.
func (f *Fixture) WaitIndexed() {
	f.T.Helper()
	rc := f.rdir()
	deadline := time.Now().Add(2 * time.Minute)
	for _, r := range f.NS.Rawx {
		f.flushEvents(rc, r, deadline)
	}
	for _, r := range f.NS.Rawx {
		f.waitVolume(rc, r, deadline, func(files, indexed map[string]bool) bool {
			return maps.Equal(files, indexed)
		})
	}
}

// flushEvents writes a marker chunk on a volume and waits until its
// record is in the volume's reverse index, then deletes it and waits
// until its record is gone: the events the chunk server published before
// the marker's, which the index applies in order, are applied then.
func (f *Fixture) flushEvents(rc *rdir.Client, r namespace.RawxInfo, deadline time.Time) {
	f.T.Helper()
	id := fmt.Sprintf("%016X%016X%016X%016X", rand.Uint64(), rand.Uint64(), rand.Uint64(),
		rand.Uint64())
	m := &chunk.Meta{Fullpath: chunk.Fullpath{Account: Account, Container: "index-marker",
		Path: "marker", Version: time.Now().UnixMicro(), ContentID: id[:32]},
		Position: "0", ChunkMethod: "plain/cca=blake3,nb_copy=1", StoragePolicy: "SINGLE"}
	url := rawx.ChunkURL(r.Addr, id)
	if _, err := (&rawx.Client{}).Put(f.Ctx, url, m, strings.NewReader("marker"), 6); err != nil {
		f.T.Fatalf("volume %s: write an index marker: %v", r.ServiceID, err)
	}
	f.waitVolume(rc, r, deadline, func(_, indexed map[string]bool) bool { return indexed[id] })
	if err := (&rawx.Client{}).Delete(f.Ctx, url); err != nil {
		f.T.Fatalf("volume %s: delete the index marker: %v", r.ServiceID, err)
	}
	f.waitVolume(rc, r, deadline, func(_, indexed map[string]bool) bool { return !indexed[id] })
}

// waitVolume waits until done holds of the chunk files of a volume and
// its reverse index records, failing the test after the deadline.
func (f *Fixture) waitVolume(rc *rdir.Client, r namespace.RawxInfo, deadline time.Time,
	done func(files, indexed map[string]bool) bool) {
	f.T.Helper()
	for {
		files, indexed, err := f.volumeChunks(rc, r.Volume, r.ServiceID)
		if err == nil && done(files, indexed) {
			return
		}
		if f.Ctx.Err() != nil || time.Now().After(deadline) {
			f.T.Fatalf("volume %s: %d chunk files, %d reverse index records after 2 min: %v; "+
				"namespace warnings:\n%s", r.ServiceID, len(files), len(indexed), err,
				f.warns.tail(4096))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// volumeChunks returns the chunk ids of the files of a volume and those
// of its reverse index records.
func (f *Fixture) volumeChunks(rc *rdir.Client, dir, vol string) (files, indexed map[string]bool, err error) {
	files, indexed = map[string]bool{}, map[string]bool{}
	err = chunk.WalkChunks(dir, func(path string) error {
		files[strings.ToUpper(filepath.Base(path))] = true
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for rec, err := range rdir.All(f.Ctx, rc, vol, rdir.ListOptions{}) {
		if errors.Is(err, rdir.ErrNoVolume) {
			break // nothing indexed on this volume yet: no chunk may have landed there
		}
		if err != nil {
			return nil, nil, err
		}
		indexed[rec.ChunkID] = true
	}
	return files, indexed, nil
}

func (f *Fixture) rdir() *rdir.Client {
	f.T.Helper()
	rc, err := rdir.NewClient(f.NS.RdirURL, rdir.ClientOptions{})
	if err != nil {
		f.T.Fatal(err)
	}
	return rc
}

// Locate returns an object with its chunks.
func (f *Fixture) Locate(n object.Name) *meta.Object {
	f.T.Helper()
	o, err := f.Dir.Locate(f.Ctx, n.Account, n.Container, n.Path, 0)
	if err != nil {
		f.T.Fatal(err)
	}
	return o
}

// ObjectsOf returns the fixture's objects of a policy that have data,
// with their chunks.
func (f *Fixture) ObjectsOf(policy string) []*meta.Object {
	var out []*meta.Object
	for _, n := range f.Objects {
		if o := f.Locate(n); o.Policy == policy && o.Size > 0 {
			out = append(out, o)
		}
	}
	return out
}

// ContainerOf returns the container of a fixture object.
func (f *Fixture) ContainerOf(o *meta.Object) string {
	f.T.Helper()
	for _, n := range f.Objects {
		if n.Path == o.Name {
			return n.Container
		}
	}
	f.T.Fatalf("no object %s", o.Name)
	return ""
}

// CopiesAt returns the copies of position pos of o.
func CopiesAt(o *meta.Object, pos string) []meta.Chunk {
	var out []meta.Chunk
	for _, c := range o.Chunks {
		if c.Pos == pos {
			out = append(out, c)
		}
	}
	return out
}

// Path returns the file of a chunk.
func (f *Fixture) Path(c meta.Chunk) string {
	f.T.Helper()
	return filepath.Join(f.Volume(c.Host()), chunk.DefaultLayout.Path(c.ID()))
}

// ChunkPath returns the file of the chunk at a chunk URL.
func (f *Fixture) ChunkPath(chunkURL string) string {
	f.T.Helper()
	host, id, err := rawx.SplitChunkURL(chunkURL)
	if err != nil {
		f.T.Fatal(err)
	}
	return filepath.Join(f.Volume(host), chunk.DefaultLayout.Path(id))
}

// Volume returns the volume directory of a chunk server.
func (f *Fixture) Volume(serviceID string) string {
	f.T.Helper()
	return f.rawx(serviceID).Volume
}

// Addr returns the address of a chunk server.
func (f *Fixture) Addr(serviceID string) string {
	f.T.Helper()
	return f.rawx(serviceID).Addr
}

func (f *Fixture) rawx(serviceID string) namespace.RawxInfo {
	f.T.Helper()
	for _, r := range f.NS.Rawx {
		if r.ServiceID == serviceID {
			return r
		}
	}
	f.T.Fatalf("no chunk server %s", serviceID)
	return namespace.RawxInfo{}
}

// pick returns the first object with the given policy and at least
// minChunks chunks that is not in used, and marks it used.
func (f *Fixture) pick(used map[string]bool, policy string, minChunks int) (*meta.Object, string) {
	f.T.Helper()
	for _, n := range f.Objects {
		if used[n.String()] {
			continue
		}
		o := f.Locate(n)
		if o.Policy == policy && len(o.Chunks) >= minChunks && o.Size > 0 {
			used[n.String()] = true
			return o, n.Container
		}
	}
	f.T.Fatalf("no %s object with %d chunks left", policy, minChunks)
	return nil, ""
}

// ReadAll reads back every object but those whose item is in except; a
// read checks every byte against the chunk hashes and the object's MD5.
func (f *Fixture) ReadAll(except []Item) {
	f.T.Helper()
	skip := map[Item]bool{}
	for _, it := range except {
		skip[it] = true
	}
	for _, n := range f.Objects {
		if skip[Item{integrity.KindObject, n.String()}] {
			continue
		}
		if _, err := f.oc.Get(f.Ctx, n, 0, io.Discard); err != nil {
			f.T.Errorf("read %s: %v", n, err)
		}
	}
}

// Item names a result the way reports do.
type Item struct {
	Kind integrity.Kind
	Item string
}

// Sorted returns items sorted, without duplicates.
func Sorted(items []Item) []Item {
	out := slices.Clone(items)
	slices.SortFunc(out, func(a, b Item) int {
		return strings.Compare(string(a.Kind)+a.Item, string(b.Kind)+b.Item)
	})
	return slices.Compact(out)
}

// Check runs a checker over targets and returns the items reported in
// error, sorted, their results, and the counters.
func Check(t testing.TB, ctx context.Context, proxy string, opts integrity.Options,
	targets ...integrity.Target) ([]Item, map[Item]integrity.Result, integrity.Stats) {
	t.Helper()
	var mu sync.Mutex
	bad := map[Item]integrity.Result{}
	opts.Report = func(r integrity.Result) {
		if !r.OK() {
			mu.Lock()
			bad[Item{r.Kind, r.Item()}] = r
			mu.Unlock()
		}
	}
	c, err := integrity.New(proxy, opts)
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Run(ctx, targets)
	if err != nil {
		t.Fatal(err)
	}
	items := make([]Item, 0, len(bad))
	for it := range bad {
		items = append(items, it)
	}
	return Sorted(items), bad, st
}

// ObjectItem is the item of an object of the fixture's account.
func ObjectItem(o *meta.Object, container string) Item {
	return Item{integrity.KindObject, Account + "/" + container + "/" + o.Name}
}

// ChunkItem is the item of a chunk.
func ChunkItem(c meta.Chunk) Item { return Item{integrity.KindChunk, c.URL} }

// Append adds text at the end of a file: bytes after a chunk's data.
func Append(t testing.TB, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// Flip inverts one byte in the middle of a file, keeping its size.
func Flip(t testing.TB, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	off := st.Size() / 2
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xFF
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// lockedBuffer collects log lines from the namespace's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		b.buf.Reset() // keep the recent lines only
	}
	return b.buf.Write(p)
}

// tail returns the last n bytes written.
func (b *lockedBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	return s[max(0, len(s)-n):]
}
