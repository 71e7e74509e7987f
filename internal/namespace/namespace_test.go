package namespace

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/object"
	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

func start(t *testing.T, data string) (*Namespace, *object.Client) {
	t.Helper()
	ns, err := Start(context.Background(), Options{Data: data, PortBase: -1, ChunkSize: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := meta.NewClient(ns.ProxyURL, meta.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ns, &object.Client{Dir: dir, Rawx: &rawx.Client{}}
}

// startFresh starts a namespace in a new directory, closed when the test
// ends, and returns a context that ends after a minute or with the test.
func startFresh(t *testing.T) (context.Context, *Namespace, *object.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	ns, oc := start(t, t.TempDir())
	t.Cleanup(func() { ns.Close() })
	return ctx, ns, oc
}

// TestObjectLifecycle writes a 30 MiB object with three copies, reads it
// back after losing a copy and after a restart, and checks that the
// reverse index knows every chunk.
func TestObjectLifecycle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	data := t.TempDir()
	ns, oc := start(t, data)
	name := object.Name{Account: "acct", Container: "ctr", Path: "dir/big object"}
	payload := make([]byte, 30<<20+123)
	rand.Read(payload)

	o, err := oc.Put(ctx, name, bytes.NewReader(payload), object.PutOptions{Size: int64(len(payload)),
		SizeKnown: true, Policy: "THREECOPIES"})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Chunks) != 4*3 {
		t.Fatalf("%d chunks, want 4 metachunks of 3 copies", len(o.Chunks))
	}
	assertGet(t, ctx, oc, name, payload)

	// Lose one copy of the first metachunk: the object still reads.
	loc, err := oc.Dir.Locate(ctx, "acct", "ctr", name.Path, 0)
	if err != nil {
		t.Fatal(err)
	}
	lost := loc.Chunks[0]
	vol := volumeOf(t, ns, lost.Host())
	if err := os.Remove(filepath.Join(vol, chunk.DefaultLayout.Path(lost.ID()))); err != nil {
		t.Fatal(err)
	}
	assertGet(t, ctx, oc, name, payload)

	// Every chunk is in the reverse index of its volume.
	waitIndexed(t, ctx, ns, loc.Chunks)

	// After a restart everything is still there.
	if err := ns.Close(); err != nil {
		t.Fatal(err)
	}
	ns, oc = start(t, data)
	defer ns.Close()
	assertGet(t, ctx, oc, name, payload)

	// An unstreamed (unknown size) put of an empty object, then delete.
	empty := object.Name{Account: "acct", Container: "ctr", Path: "empty"}
	if _, err := oc.Put(ctx, empty, bytes.NewReader(nil), object.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	assertGet(t, ctx, oc, empty, nil)
	eloc, _ := oc.Dir.Locate(ctx, "acct", "ctr", "empty", 0)
	if _, err := oc.Dir.ContentDelete(ctx, "acct", "ctr", "empty", 0); err != nil {
		t.Fatal(err)
	}
	// The agent deletes the chunk files of the deleted object.
	for _, c := range eloc.Chunks {
		path := filepath.Join(volumeOf(t, ns, c.Host()), chunk.DefaultLayout.Path(c.ID()))
		waitGone(t, ctx, path)
	}
}

func assertGet(t *testing.T, ctx context.Context, oc *object.Client, n object.Name, want []byte) {
	t.Helper()
	var got bytes.Buffer
	if _, err := oc.Get(ctx, n, 0, &got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("read %d bytes, not the %d written", got.Len(), len(want))
	}
}

func volumeOf(t *testing.T, ns *Namespace, serviceID string) string {
	for _, r := range ns.Rawx {
		if r.ServiceID == serviceID {
			return r.Volume
		}
	}
	t.Fatalf("no chunk server %s", serviceID)
	return ""
}

func waitIndexed(t *testing.T, ctx context.Context, ns *Namespace, chunks []meta.Chunk) {
	t.Helper()
	rc, err := rdir.NewClient(ns.RdirURL, rdir.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range chunks {
		for {
			page, err := rc.Fetch(ctx, c.Host(), rdir.ListOptions{Limit: 1000})
			found := false
			for _, r := range page.Records {
				found = found || r.ChunkID == c.ID()
			}
			if err == nil && found {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("chunk %s never indexed under %s: %v", c.ID(), c.Host(), err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func waitGone(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	for {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("%s was never deleted", path)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLargeEventsDoNotBlockTheBus commits an object whose properties make
// a large event, then checks that later events still flow: the chunk of a
// deleted object is removed by the agent.
func TestLargeEventsDoNotBlockTheBus(t *testing.T) {
	ctx, ns, oc := startFresh(t)
	props := map[string]string{}
	for i := range 20 {
		props[fmt.Sprint("k", i)] = strings.Repeat("v", 60000)
	}
	big := object.Name{Account: "a", Container: "c", Path: "big-properties"}
	if _, err := oc.Put(ctx, big, strings.NewReader("x"), object.PutOptions{Properties: props}); err != nil {
		t.Fatal(err)
	}
	after := object.Name{Account: "a", Container: "c", Path: "after"}
	if _, err := oc.Put(ctx, after, strings.NewReader("y"), object.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	loc, err := oc.Dir.Locate(ctx, "a", "c", "after", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oc.Dir.ContentDelete(ctx, "a", "c", "after", 0); err != nil {
		t.Fatal(err)
	}
	for _, c := range loc.Chunks {
		waitGone(t, ctx, filepath.Join(volumeOf(t, ns, c.Host()), chunk.DefaultLayout.Path(c.ID())))
	}
}

// The rawx-N folders above the chunk servers started that hold chunk
// files are reported, and nothing else of the data folder: not an empty
// volume, nor one whose chunk directories are empty.
func TestUnserved(t *testing.T) {
	data := t.TempDir()
	for _, name := range []string{"rawx-1", "rawx-2", "rawx-3", "rawx-5", "rawx-6/ABC", "rawx-12",
		"rawx-x", "nats"} {
		if err := os.MkdirAll(filepath.Join(data, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	id := strings.Repeat("AB", 32)
	for _, vol := range []string{"rawx-1", "rawx-2", "rawx-3", "rawx-12", "rawx-x", "nats"} {
		dir := filepath.Join(data, vol, id[:3])
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, id), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(data, "rawx-4"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ns := &Namespace{opts: Options{Data: data, Rawx: 2}}
	want := []string{filepath.Join(data, "rawx-12"), filepath.Join(data, "rawx-3")}
	if got := ns.Unserved(); !slices.Equal(got, want) {
		t.Errorf("Unserved() = %q, want %q", got, want)
	}
	ns.opts.Rawx = 12
	if got := ns.Unserved(); len(got) != 0 {
		t.Errorf("with 12 chunk servers, Unserved() = %q", got)
	}
}

// When one copy of a put fails, the error names that copy's chunk server
// and why, not another copy whose upload was ended because of it.
func TestPutErrorNamesTheFailingCopy(t *testing.T) {
	ctx, ns, oc := startFresh(t)
	bad := ns.Rawx[1]
	if err := os.Rename(bad.Volume, bad.Volume+".away"); err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 1<<20)
	_, err := oc.Put(ctx, object.Name{Account: "acct", Container: "ctr", Path: "o"},
		bytes.NewReader(payload), object.PutOptions{Size: int64(len(payload)), SizeKnown: true,
			Policy: "THREECOPIES"})
	if err == nil {
		t.Fatal("a put with a copy on a lost volume succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, bad.Addr) || !strings.Contains(msg, "503") ||
		strings.Contains(msg, "chunk upload ended") {
		t.Errorf("put error %q: want the failing server %s and its 503", msg, bad.Addr)
	}
}

// A volume that is missing or empty at start while the reverse index
// lists chunks on it stops the start, unless named as a new volume.
func TestLostVolumeStopsStart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data := t.TempDir()
	ns, oc := start(t, data)
	o, err := oc.Put(ctx, object.Name{Account: "acct", Container: "ctr", Path: "o"},
		strings.NewReader("data"), object.PutOptions{Size: 4, SizeKnown: true, Policy: "THREECOPIES"})
	if err != nil {
		t.Fatal(err)
	}
	waitIndexed(t, ctx, ns, o.Chunks)
	ns.Close()

	// A volume that lost its identity attribute is told as such, with the
	// command that gives it back.
	vol := filepath.Join(data, "rawx-2")
	if err := unix.Removexattr(vol, chunk.AttrVolumeID); err != nil {
		t.Fatal(err)
	}
	ns, err = Start(ctx, Options{Data: data, PortBase: -1})
	if want := vol + " has no identity attribute (user.server.id), yet holds 1 chunk directory"; !errors.Is(err,
		ErrVolumeLost) || !strings.Contains(err.Error(), want) ||
		!strings.Contains(err.Error(), "`setfattr -n user.server.id -v rawx-2 "+vol+"`") {
		t.Errorf("start with rawx-2 without its identity: %v, want %q and the command", err, want)
	}
	if ns != nil {
		ns.Close()
	}
	// Nor is it a new disk: --new-volume would call it empty while its
	// chunks are there.
	ns, err = Start(ctx, Options{Data: data, PortBase: -1, NewVolumes: []string{"rawx-2"}})
	if !errors.Is(err, ErrVolumeLost) || !strings.Contains(err.Error(), "--new-volume rawx-2") ||
		!strings.Contains(err.Error(), "it is no new disk") {
		t.Errorf("start with rawx-2 holding chunks named as new: %v, want it refused", err)
	}
	if ns != nil {
		ns.Close()
	}
	if id, err := chunk.ReadVolume(vol); err == nil && id.ServiceID != "" {
		t.Errorf("a refused --new-volume gave the volume an identity: %+v", id)
	}
	if err := unix.Setxattr(vol, chunk.AttrVolumeID, []byte("rawx-2"), 0); err != nil {
		t.Fatal(err)
	}
	// With its identity back, it is still no new disk.
	ns, err = Start(ctx, Options{Data: data, PortBase: -1, NewVolumes: []string{"rawx-2"}})
	if !errors.Is(err, ErrVolumeLost) || !strings.Contains(err.Error(), "it is no new disk") {
		t.Errorf("start with rawx-2 in use named as new: %v, want it refused", err)
	}
	if ns != nil {
		ns.Close()
	}
	if ns, err = Start(ctx, Options{Data: data, PortBase: -1}); err != nil {
		t.Fatalf("start with the identity of rawx-2 given back: %v", err)
	}
	ns.Close()

	if err := os.Rename(vol, vol+".away"); err != nil {
		t.Fatal(err)
	}
	for _, setup := range []string{"missing", "empty"} {
		if setup == "empty" { // the mount point of a disk that is not mounted
			os.Mkdir(vol, 0o755)
		}
		ns, err := Start(ctx, Options{Data: data, PortBase: -1})
		if !errors.Is(err, ErrVolumeLost) || !strings.Contains(err.Error(), vol+" is "+setup) {
			t.Errorf("start with rawx-2 %s: %v, want ErrVolumeLost", setup, err)
		}
		if ns != nil {
			ns.Close()
		}
		if id, err := chunk.ReadVolume(vol); err == nil && id.ServiceID != "" {
			t.Errorf("start with rawx-2 %s made a volume there", setup)
		}
	}
	ns, err = Start(ctx, Options{Data: data, PortBase: -1, NewVolumes: []string{"rawx-2"}})
	if err != nil {
		t.Fatalf("start with rawx-2 named as new: %v", err)
	}
	ns.Close()
	if !slices.Equal(ns.Replaced, []string{"rawx-2"}) {
		t.Errorf("replaced volumes %v, want rawx-2", ns.Replaced)
	}
	if id, err := chunk.ReadVolume(vol); err != nil || id.ServiceID != "rawx-2" {
		t.Errorf("the new volume: %+v, %v", id, err)
	}
}

// A chunk server whose volume is moved away while the namespace runs is
// marked down and gets no copies until the volume is back.
func TestMovedVolumeGetsNoCopies(t *testing.T) {
	ctx, ns, oc := startFresh(t)
	bad := ns.Rawx[1]
	alive := func() bool {
		svc, err := ns.Registry.Resolve("rawx", bad.ServiceID)
		return err == nil && svc.Alive
	}
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			if ctx.Err() != nil {
				t.Fatalf("%s: %v", what, ctx.Err())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if err := os.Rename(bad.Volume, bad.Volume+".away"); err != nil {
		t.Fatal(err)
	}
	waitUntil("rawx-2 marked down", func() bool { return !alive() })
	for i := range 10 {
		_, err := oc.Put(ctx, object.Name{Account: "acct", Container: "ctr", Path: fmt.Sprint(i)},
			strings.NewReader("data"), object.PutOptions{Size: 4, SizeKnown: true, Policy: "TWOCOPIES"})
		if err != nil {
			t.Fatalf("put %d with rawx-2 down: %v", i, err)
		}
	}
	if err := os.Rename(bad.Volume+".away", bad.Volume); err != nil {
		t.Fatal(err)
	}
	waitUntil("rawx-2 up again", alive)
}

// A start that fails leaves no data directory behind when it made it.
func TestFailedStartRemovesNewData(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().(*net.TCPAddr).Port
	data := filepath.Join(t.TempDir(), "data")
	if ns, err := Start(context.Background(), Options{Data: data, PortBase: taken}); err == nil {
		ns.Close()
		t.Fatal("a start on a port in use succeeded")
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the failed start left its data directory: %v", err)
	}
}

// A second namespace on a data directory in use is refused, saying so.
func TestDataInUse(t *testing.T) {
	data := t.TempDir()
	ns, _ := start(t, data)
	defer ns.Close()
	other, err := Start(context.Background(), Options{Data: data, PortBase: -1})
	if err == nil {
		other.Close()
		t.Fatal("a second namespace started on the same data directory")
	}
	if !strings.Contains(err.Error(), "data directory "+data+" is in use") {
		t.Errorf("second start: %v", err)
	}
}

// TestDeletedObjectWithLostChunksLeavesNoRecord deletes an object whose
// chunk files were lost first: no chunk event says they are gone, and the
// agent, finding them missing as it deletes them, removes their reverse
// index records itself.
func TestDeletedObjectWithLostChunksLeavesNoRecord(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns, oc := start(t, t.TempDir())
	defer ns.Close()
	name := object.Name{Account: "acct", Container: "ctr", Path: "lost"}
	o, err := oc.Put(ctx, name, bytes.NewReader([]byte("data")), object.PutOptions{Size: 4, SizeKnown: true,
		Policy: "TWOCOPIES"})
	if err != nil {
		t.Fatal(err)
	}
	waitIndexed(t, ctx, ns, o.Chunks)
	for _, c := range o.Chunks {
		path := filepath.Join(volumeOf(t, ns, c.Host()), chunk.DefaultLayout.Path(c.ID()))
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := oc.Dir.ContentDelete(ctx, name.Account, name.Container, name.Path, 0); err != nil {
		t.Fatal(err)
	}
	rc, err := rdir.NewClient(ns.RdirURL, rdir.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range o.Chunks {
		for {
			page, err := rc.Fetch(ctx, c.Host(), rdir.ListOptions{Limit: 1000})
			if err == nil && !slices.ContainsFunc(page.Records, func(r rdir.Record) bool {
				return r.ChunkID == c.ID()
			}) {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("the record of chunk %s on %s was never removed: %v", c.ID(), c.Host(), err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// stallingReader yields some bytes, closing sent, then blocks until
// released.
type stallingReader struct {
	sent, release chan struct{}
}

func (r *stallingReader) Read(p []byte) (int, error) {
	select {
	case <-r.sent:
	default:
		close(r.sent)
		return copy(p, "ten bytes."), nil
	}
	<-r.release
	return 0, io.ErrUnexpectedEOF
}

// TestStopCutsStalledUploads: a stop cuts, after a grace, the uploads of
// a client that stalled on every chunk server, and is no failure.
func TestStopCutsStalledUploads(t *testing.T) {
	ns, err := Start(context.Background(), Options{Data: t.TempDir(), PortBase: -1})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := meta.NewClient(ns.ProxyURL, meta.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in := &stallingReader{sent: make(chan struct{}), release: make(chan struct{})}
	defer close(in.release)
	oc := &object.Client{Dir: dir, Rawx: &rawx.Client{}}
	go oc.Put(context.Background(), object.Name{Account: "acct", Container: "ctr", Path: "stalled"}, in,
		object.PutOptions{Policy: "THREECOPIES", Size: 1000, SizeKnown: true})
	<-in.sent
	time.Sleep(200 * time.Millisecond) // the uploads are under way
	if err := ns.Close(); err != nil {
		t.Errorf("stop with stalled uploads: %v", err)
	}
}
