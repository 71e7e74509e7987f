package rawx

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zeebo/blake3"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/event"
)

var ctx = context.Background()

func testID(n int) string {
	sum := blake3.Sum256([]byte(fmt.Sprint("chunk", n)))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func testMeta(id string) *chunk.Meta {
	return &chunk.Meta{
		ChunkID: id,
		Fullpath: chunk.Fullpath{Account: "acct", Container: "ctr", Path: "dir/obj é",
			Version: 1712000000000000, ContentID: "0123456789ABCDEF"},
		Position:      "0",
		ChunkMethod:   "plain/cca=blake3,nb_copy=3",
		StoragePolicy: "THREECOPIES",
	}
}

func blake3Hex(b []byte) string {
	sum := blake3.Sum256(b)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// events collects published events.
type events struct {
	mu  sync.Mutex
	evs []event.Event
}

func (e *events) Publish(ev event.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evs = append(e.evs, ev)
	return nil
}

func (e *events) all() []event.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]event.Event(nil), e.evs...)
}

func TestPutGetHeadDelete(t *testing.T) {
	pub := &events{}
	srv, addr := startServer(t, Config{Namespace: "NS", ServiceID: "rawx-1", Publisher: pub})
	var c Client
	id := testID(1)
	url := ChunkURL(addr, id)
	data := bytes.Repeat([]byte("gridkeep"), 1000)
	m := testMeta(id)
	m.Extra = map[string]string{"Color": "blue green"}

	res, err := c.Put(ctx, url, m, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Hash != blake3Hex(data) || res.Size != int64(len(data)) {
		t.Errorf("put result %+v", res)
	}
	// The file and its attributes are on disk, current format.
	onDisk, err := chunk.ReadFile(filepath.Join(srv.cfg.Volume, id[:3], id))
	if err != nil {
		t.Fatal(err)
	}
	if onDisk.Fullpath != m.Fullpath || onDisk.Hash != res.Hash || onDisk.Extra["Color"] != "blue green" {
		t.Errorf("on disk: %+v", onDisk)
	}

	body, got, err := c.Get(ctx, url, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(body)
	body.Close()
	if !bytes.Equal(b, data) || got.Fullpath != m.Fullpath || got.Position != "0" {
		t.Errorf("get: %d bytes, meta %+v", len(b), got)
	}

	if _, err := c.Head(ctx, url, true); err != nil {
		t.Errorf("head with hash check: %v", err)
	}
	if err := c.Delete(ctx, url); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, url); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if _, _, err := c.Get(ctx, url, 0, -1); !errors.Is(err, ErrNotFound) {
		t.Errorf("get after delete: %v", err)
	}

	evs := pub.all()
	if len(evs) != 2 || evs[0].Type != event.ChunkNew || evs[1].Type != event.ChunkDeleted {
		t.Fatalf("events %+v", evs)
	}
	var d event.ChunkData
	if err := json.Unmarshal(evs[0].Data, &d); err != nil {
		t.Fatal(err)
	}
	want := event.ChunkData{VolumeID: addr, VolumeServiceID: "rawx-1", FullPath: m.Fullpath.String(),
		ContainerID: chunk.ContainerID("acct", "ctr"), ContentPath: "dir/obj é",
		ContentVersion: "1712000000000000", ContentID: "0123456789ABCDEF",
		ContentStoragePolicy: "THREECOPIES", ChunkID: id, ContentChunkMethod: m.ChunkMethod,
		ChunkPosition: "0", ChunkHash: res.Hash, ChunkSize: "8000"}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("chunk.new data (-want +got):\n%s", diff)
	}
	if evs[0].When <= 0 || evs[0].URL != nil {
		t.Errorf("envelope %+v", evs[0])
	}
}

// toLegacy replaces the fullpath attribute of chunk m, stored at path, by
// the owner keys of the format before it, their chunk id set to legacyID.
// Ids are written in lowercase, as some writers of that format did.
func toLegacy(t *testing.T, path string, m *chunk.Meta, legacyID string) {
	t.Helper()
	fp := m.Fullpath
	err := chunk.SetAttrs(path, []chunk.Attr{
		{Name: chunk.AttrLegacyChunkID, Value: legacyID},
		{Name: chunk.AttrLegacyContainer, Value: strings.ToLower(fp.ContainerID())},
		{Name: chunk.AttrLegacyPath, Value: fp.Path},
		{Name: chunk.AttrLegacyVersion, Value: strconv.FormatInt(fp.Version, 10)},
		{Name: chunk.AttrLegacyContentID, Value: strings.ToLower(fp.ContentID)},
	})
	if err == nil {
		err = chunk.RemoveAttr(path, chunk.AttrFullpathPrefix+m.ChunkID)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// The chunk.deleted event of a chunk in the legacy format names its owner
// from the legacy keys, for the reverse index to find its record, but only
// when the keys describe this chunk and not one it is a hard link of.
func TestLegacyChunkEventsNameTheirOwner(t *testing.T) {
	for _, tc := range []struct {
		name     string
		legacyID func(id string) string
		owned    bool
	}{
		{"keys of this chunk", func(id string) string { return id }, true},
		{"keys of another chunk", func(string) string { return testID(99) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pub := &events{}
			srv, addr := startServer(t, Config{Namespace: "NS", ServiceID: "rawx-1", Publisher: pub})
			var c Client
			id := testID(3)
			url := ChunkURL(addr, id)
			m := testMeta(id)
			res, err := c.Put(ctx, url, m, strings.NewReader("data"), -1)
			if err != nil {
				t.Fatal(err)
			}
			toLegacy(t, srv.chunkPath(id), m, tc.legacyID(id))

			want := event.ChunkData{VolumeID: addr, VolumeServiceID: "rawx-1",
				ContentStoragePolicy: "THREECOPIES", ChunkID: id, ContentChunkMethod: m.ChunkMethod,
				ChunkPosition: "0", ChunkHash: res.Hash, ChunkSize: "4"}
			if tc.owned {
				want.ContainerID = chunk.ContainerID("acct", "ctr")
				want.ContentPath = "dir/obj é"
				want.ContentVersion = "1712000000000000"
				want.ContentID = "0123456789ABCDEF"
			}
			resp, err := http.Head(url)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get(HdrContainerID); got != want.ContainerID {
				t.Errorf("HEAD container id %q, want %q", got, want.ContainerID)
			}

			if err := c.Delete(ctx, url); err != nil {
				t.Fatal(err)
			}
			evs := pub.all()
			if len(evs) != 2 || evs[1].Type != event.ChunkDeleted {
				t.Fatalf("events %+v", evs)
			}
			var d event.ChunkData
			if err := json.Unmarshal(evs[1].Data, &d); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, d); diff != "" {
				t.Errorf("chunk.deleted data (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHostChecked(t *testing.T) {
	_, addr := startServer(t, Config{Namespace: "NS", ServiceID: "rawx-9"})
	for host, want := range map[string]int{addr: 404, "rawx-9": 404, "localhost:1": 418} {
		req, _ := http.NewRequest("GET", "http://"+addr+"/"+testID(1), nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s: %d, want %d", host, resp.StatusCode, want)
		}
	}
}

func TestMD5Fallback(t *testing.T) {
	srv, addr := startServer(t, Config{Namespace: "NS"})
	id := testID(2)
	m := testMeta(id)
	m.ChunkMethod = "plain/nb_copy=1"
	data := []byte("legacy data")
	var c Client
	res, err := c.Put(ctx, ChunkURL(addr, id), m, bytes.NewReader(data), -1)
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	if res.Hash != strings.ToUpper(hex.EncodeToString(sum[:])) {
		t.Errorf("hash %s is not the MD5", res.Hash)
	}
	onDisk, _ := chunk.ReadFile(srv.chunkPath(id))
	if onDisk.ChunkMethod != "plain/nb_copy=1,cca=md5" {
		t.Errorf("stored method %q", onDisk.ChunkMethod)
	}
}

func TestPutRefusesBadInput(t *testing.T) {
	srv, addr := startServer(t, Config{Namespace: "NS", MaxChunkSize: 1 << 20})
	var c Client
	id := testID(3)
	data := []byte("some data")
	tests := []struct {
		name   string
		change func(h http.Header)
		body   []byte
		want   int
	}{
		{"no fullpath", func(h http.Header) { h.Del(HdrFullPath) }, data, 400},
		{"no policy", func(h http.Header) { h.Del(HdrStoragePolicy) }, data, 400},
		{"no method", func(h http.Header) { h.Del(HdrChunkMethod) }, data, 400},
		{"no position", func(h http.Header) { h.Del(HdrChunkPos) }, data, 400},
		{"word as position", func(h http.Header) { h.Set(HdrChunkPos, "abc") }, data, 400},
		{"negative position", func(h http.Header) { h.Set(HdrChunkPos, "-1") }, data, 400},
		{"position with a leading zero", func(h http.Header) { h.Set(HdrChunkPos, "01") }, data, 400},
		{"position of ten digits", func(h http.Header) { h.Set(HdrChunkPos, "1000000000") }, data, 400},
		{"container id disagrees", func(h http.Header) { h.Set(HdrContainerID, testID(9)) }, data, 400},
		{"path disagrees", func(h http.Header) { h.Set(HdrContentPath, "other") }, data, 400},
		{"version disagrees", func(h http.Header) { h.Set(HdrContentVersion, "1") }, data, 400},
		{"content id disagrees", func(h http.Header) { h.Set(HdrContentID, "AB") }, data, 400},
		{"chunk id disagrees", func(h http.Header) { h.Set(HdrChunkID, testID(8)) }, data, 400},
		{"bad fullpath", func(h http.Header) { h.Set(HdrFullPath, "a/b/c") }, data, 400},
		{"wrong hash", func(h http.Header) { h.Set(HdrChunkHash, blake3Hex([]byte("x"))) }, data, 400},
		{"wrong size", func(h http.Header) { h.Set(HdrChunkSize, "3") }, data, 400},
		{"ec without metachunk", func(h http.Header) { h.Set(HdrChunkMethod, "ec/k=6,m=3") }, data, 400},
		{"too large", nil, make([]byte, 2<<20), 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("PUT", ChunkURL(addr, id), bytes.NewReader(tt.body))
			setPutHeaders(req.Header, testMeta(id))
			if tt.change != nil {
				tt.change(req.Header)
			}
			resp := send(t, &c, req)
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d (%s)", resp.StatusCode, tt.want,
					resp.Header.Get("X-Error"))
			}
			assertNoChunkFiles(t, srv.cfg.Volume)
		})
	}
}

// assertNoChunkFiles fails if any chunk or pending file exists on vol.
func assertNoChunkFiles(t *testing.T, vol string) {
	t.Helper()
	filepath.WalkDir(vol, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			t.Errorf("file left on the volume: %s", path)
		}
		return nil
	})
}

func TestIDsValidatedBeforeFilesystem(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("x"), 0o644)
	_, addr := startServer(t, Config{Namespace: "NS", Volume: filepath.Join(dir, "vol")})
	for _, path := range []string{"/../secret", "/%2e%2e%2fsecret", "/..%2Fsecret",
		"/" + strings.Repeat("A", 65), "/ABCDEF", "/" + testID(1)[:30] + "..", "/" + testID(1) + "/x"} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "DELETE %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, addr)
		reply, _ := io.ReadAll(conn)
		conn.Close()
		if !bytes.HasPrefix(reply, []byte("HTTP/1.1 400")) {
			t.Errorf("DELETE %s: %q", path, firstLine(reply))
		}
		if strings.Count(path, "/") == 1 && !bytes.Contains(reply, []byte("X-Error: not a chunk id")) {
			t.Errorf("DELETE %s: no reason in the reply:\n%s", path, reply)
		}
	}
	if _, err := os.Stat(secret); err != nil {
		t.Errorf("a file outside the volume was touched: %v", err)
	}
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\r\n"))
	return string(line)
}

func TestConcurrentPutsOfOneID(t *testing.T) {
	srv, addr := startServer(t, Config{Namespace: "NS"})
	id := testID(4)
	const n = 8
	var wg sync.WaitGroup
	codes := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var c Client
			data := bytes.Repeat([]byte{byte('a' + i)}, 256<<10)
			_, codes[i] = c.Put(ctx, ChunkURL(addr, id), testMeta(id), bytes.NewReader(data), -1)
		}(i)
	}
	wg.Wait()
	won := -1
	for i, err := range codes {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("two uploads of one id succeeded (%d and %d)", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, ErrExists):
			t.Errorf("upload %d: %v, want 409", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no upload succeeded")
	}
	data, _ := os.ReadFile(srv.chunkPath(id))
	if want := bytes.Repeat([]byte{byte('a' + won)}, 256<<10); !bytes.Equal(data, want) {
		t.Error("the stored chunk mixes uploads")
	}
}

func TestPendingCleanedAtStart(t *testing.T) {
	vol := filepath.Join(t.TempDir(), "vol")
	os.Mkdir(vol, 0o755)
	id := testID(5)
	os.MkdirAll(filepath.Join(vol, id[:3]), 0o755)
	pending := filepath.Join(vol, id[:3], id+chunk.PendingSuffix)
	os.WriteFile(pending, []byte("half an upload"), 0o644)
	// A directory named like an upload is none of the server's: it stays,
	// and does not stop the start.
	stray := filepath.Join(vol, id[:3], testID(6)+chunk.PendingSuffix)
	os.MkdirAll(filepath.Join(stray, "inside"), 0o755)

	srv, addr := startServer(t, Config{Namespace: "NS", Volume: vol})
	if _, err := os.Stat(pending); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale pending file still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(stray, "inside")); err != nil {
		t.Errorf("the stray directory: %v", err)
	}
	var c Client
	if _, err := c.Head(ctx, ChunkURL(addr, id), false); !errors.Is(err, ErrNotFound) {
		t.Errorf("a pending upload is visible: %v", err)
	}
	page, err := c.List(ctx, "http://"+addr, "", 10)
	if err != nil || len(page.Chunks) != 0 {
		t.Errorf("list %+v, %v", page, err)
	}
	_ = srv
}

// startUpload sends the headers of a PUT of chunk id, announcing a body of
// 100,000 bytes, and its first 1,000 bytes, on a connection of its own,
// which it returns.
func startUpload(t *testing.T, addr, id string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("PUT", ChunkURL(addr, id), nil)
	setPutHeaders(req.Header, testMeta(id))
	fmt.Fprintf(conn, "PUT /%s HTTP/1.1\r\nHost: %s\r\nContent-Length: 100000\r\n", id, addr)
	req.Header.Write(conn)
	fmt.Fprintf(conn, "\r\n%s", bytes.Repeat([]byte("x"), 1000))
	return conn
}

func TestClientAbortLeavesNothing(t *testing.T) {
	srv, addr := startServer(t, Config{Namespace: "NS", IdleTimeout: 200 * time.Millisecond})
	for i, stall := range []bool{false, true} {
		id := testID(6 + 1000*i)
		conn := startUpload(t, addr, id)
		if stall {
			// A slow client: the server gives up after its idle timeout.
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			reply, _ := io.ReadAll(conn)
			if !bytes.HasPrefix(reply, []byte("HTTP/1.1 408")) {
				t.Errorf("slow client got %q", firstLine(reply))
			}
		}
		conn.Close()
		waitFor(t, func() bool { return countFiles(srv.cfg.Volume) == 0 })
	}
}

// slowFile is a pending file whose Close takes a while, as on a busy disk.
type slowFile struct{ *os.File }

func (f slowFile) Close() error {
	time.Sleep(300 * time.Millisecond)
	return f.File.Close()
}

// TestStopRemovesCutUpload: a stop that cuts an upload under way, by
// closing the http.Server, then Close, leaves no pending file behind for the
// next start to find, as the process may exit as soon as Close returns.
func TestStopRemovesCutUpload(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	vol := filepath.Join(t.TempDir(), "vol")
	os.Mkdir(vol, 0o755)
	addr := ln.Addr().String()
	srv, err := New(Config{Namespace: "NS", Volume: vol, Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	srv.create = func(rel string) (file, error) {
		f, err := os.OpenFile(filepath.Join(vol, rel), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		return slowFile{f}, err
	}
	hs := srv.HTTPServer()
	go hs.Serve(ln)

	id := testID(8)
	conn := startUpload(t, addr, id)
	defer conn.Close()
	waitFor(t, func() bool { return countFiles(vol) == 1 }) // the upload's pending file

	hs.Close()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countFiles(vol); n != 0 {
		t.Errorf("%d files left on the volume after the stop; want none", n)
	}
}

// TestClientAbortIs499: an upload whose client stops sending before the
// end of its body is answered, logged and counted with status 499.
func TestClientAbortIs499(t *testing.T) {
	var log strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return log.Write(p)
	}), nil))
	_, addr := startServer(t, Config{Namespace: "NS", Logger: logger})
	id := testID(7)
	conn := startUpload(t, addr, id)
	defer conn.Close()
	conn.(*net.TCPConn).CloseWrite() // the body ends 99000 bytes short
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if reply, _ := io.ReadAll(conn); !bytes.HasPrefix(reply, []byte("HTTP/1.1 499")) {
		t.Errorf("aborted upload answered %q", firstLine(reply))
	}

	mu.Lock()
	logged := log.String()
	mu.Unlock()
	if !strings.Contains(logged, "msg=access method=PUT path=/"+id+" status=499 ") {
		t.Errorf("access log of an aborted upload:\n%s", logged)
	}
	for path, want := range map[string]string{"/stat": "counter rep.hits.4xx 1\n",
		"/metrics": `gridkeep_rawx_requests_total{code="499",route="put"} 1`} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %q:\n%s", path, want, b)
		}
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestStalledReader: a client that takes nothing of a GET's body loses its
// connection after the idle timeout, and the deadline that sets does not
// outlive the GET on a connection kept alive (net/http clears it after
// each reply).
func TestStalledReader(t *testing.T) {
	_, addr := startServer(t, Config{Namespace: "NS", IdleTimeout: 200 * time.Millisecond})
	var c Client
	big, small := testID(80), testID(81)
	const size = 64 << 20 // more than the socket buffers hold
	data := bytes.Repeat([]byte("z"), size)
	if _, err := c.Put(ctx, ChunkURL(addr, big), testMeta(big), bytes.NewReader(data), size); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(ctx, ChunkURL(addr, small), testMeta(small), strings.NewReader("data"), 4); err != nil {
		t.Fatal(err)
	}

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /%s HTTP/1.1\r\nHost: %s\r\n\r\n", big, addr)
	time.Sleep(time.Second) // reads nothing for five idle timeouts
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.Copy(io.Discard, conn)
	if err != nil || got >= size {
		t.Errorf("the stalled reader got %d bytes (%v), want the connection closed before %d", got, err, size)
	}

	// One connection: a GET, then a HEAD and a PUT after more than the idle
	// timeout.
	conn2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	br := bufio.NewReader(conn2)
	read := func(method string) {
		t.Helper()
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Errorf("%s: %d", method, resp.StatusCode)
		}
	}
	fmt.Fprintf(conn2, "GET /%s HTTP/1.1\r\nHost: %s\r\n\r\n", small, addr)
	read("GET")
	time.Sleep(400 * time.Millisecond)
	fmt.Fprintf(conn2, "HEAD /%s HTTP/1.1\r\nHost: %s\r\n\r\n", small, addr)
	read("HEAD")
}

func countFiles(vol string) int {
	n := 0
	filepath.WalkDir(vol, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not reached in 5s")
}

// fullFile fails writes with ENOSPC once limit bytes are written, like a
// file on a full disk.
type fullFile struct {
	*os.File
	left int
}

func (f *fullFile) Write(p []byte) (int, error) {
	if len(p) > f.left {
		n, _ := f.File.Write(p[:f.left])
		f.left = 0
		return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	f.left -= len(p)
	return f.File.Write(p)
}

func TestFullDisk(t *testing.T) {
	srv, addr := startServer(t, Config{Namespace: "NS"})
	srv.create = func(rel string) (file, error) {
		f, err := os.OpenFile(filepath.Join(srv.cfg.Volume, rel), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, err
		}
		return &fullFile{File: f, left: 300 << 10}, nil
	}
	id := testID(7)
	var c Client
	_, err := c.Put(ctx, ChunkURL(addr, id), testMeta(id), bytes.NewReader(make([]byte, 1<<20)), -1)
	var se *StatusError
	if !errors.As(err, &se) || se.Status != http.StatusInsufficientStorage {
		t.Fatalf("put on a full disk: %v, want 507", err)
	}
	if !strings.Contains(se.Reason, "no space left") {
		t.Errorf("the reason does not say the disk is full: %q", se.Reason)
	}
	if strings.Contains(se.Reason, srv.cfg.Volume) || !strings.Contains(se.Reason, id[:3]+"/"+id) {
		t.Errorf("the reason should name the file relative to the volume: %q", se.Reason)
	}
	assertNoChunkFiles(t, srv.cfg.Volume)
}

func TestRanges(t *testing.T) {
	_, addr := startServer(t, Config{Namespace: "NS"})
	id := testID(10)
	data := []byte("0123456789")
	var c Client
	if _, err := c.Put(ctx, ChunkURL(addr, id), testMeta(id), bytes.NewReader(data), 10); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rng, body, contentRange string
		code                    int
	}{
		{"bytes=2-4", "234", "bytes 2-4/10", 206},
		{"bytes=7-", "789", "bytes 7-9/10", 206},
		{"bytes=-3", "789", "bytes 7-9/10", 206},
		{"bytes=-30", "0123456789", "bytes 0-9/10", 206},
		{"bytes=8-100", "89", "bytes 8-9/10", 206},
		{"bytes=5-2", "0123456789", "", 200},
		{"bytes=0-1,4-5", "0123456789", "", 200},
		{"bytes=5-9223372036854775807", "56789", "bytes 5-9/10", 206},
		{"bytes=0-99999999999999999999", "0123456789", "bytes 0-9/10", 206},
		{"bytes=-99999999999999999999", "0123456789", "bytes 0-9/10", 206},
		{"bytes=99999999999999999999-", "", "bytes */10", 416},
		{"bytes=10-", "", "bytes */10", 416},
		{"bytes=-0", "", "bytes */10", 416},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("GET", ChunkURL(addr, id), nil)
		req.Header.Set("Range", tt.rng)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code || (tt.code < 400 && string(b) != tt.body) ||
			resp.Header.Get("Content-Range") != tt.contentRange {
			t.Errorf("Range %s: %d %q %q", tt.rng, resp.StatusCode, b, resp.Header.Get("Content-Range"))
		}
	}
}

// TestBodyPaths reads ranges of every size class: small bodies go through
// memory, middle ones with sendfile, large ones from a mapping, from
// offsets that are not page-aligned.
func TestBodyPaths(t *testing.T) {
	_, addr := startServer(t, Config{Namespace: "NS"})
	id := testID(11)
	data := make([]byte, 9<<20+123)
	for i := range data {
		data[i] = byte(i * 7 / 5)
	}
	var c Client
	if _, err := c.Put(ctx, ChunkURL(addr, id), testMeta(id), bytes.NewReader(data), -1); err != nil {
		t.Fatal(err)
	}
	size := int64(len(data))
	for _, r := range [][2]int64{{0, size}, {5, 4101}, {100_000, 3_000_000}, {4097, size},
		{size - 5_000_000, size}, {1, smallBody + 2}, {3, 3*sentPiece + 3}} {
		body, _, err := c.Get(ctx, ChunkURL(addr, id), r[0], r[1]-r[0])
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(body)
		body.Close()
		if err != nil || !bytes.Equal(got, data[r[0]:r[1]]) {
			t.Errorf("bytes %d to %d: %d bytes read, equal %v, %v", r[0], r[1], len(got),
				bytes.Equal(got, data[r[0]:r[1]]), err)
		}
	}
}

// TestShortFileFailsBeforeReplying: a file cut shorter than its size
// attribute fails every read before any byte is sent, whatever the size of
// the body, instead of promising a length it cannot send, while HEAD
// still shows the attributes. A reader naming the size the file still
// holds is served.
func TestShortFileFailsBeforeReplying(t *testing.T) {
	srv, addr := startServer(t, Config{Namespace: "NS"})
	id := testID(12)
	data := bytes.Repeat([]byte("0123456789abcdef"), 600_000) // 9.6 MB
	var c Client
	if _, err := c.Put(ctx, ChunkURL(addr, id), testMeta(id), bytes.NewReader(data), -1); err != nil {
		t.Fatal(err)
	}
	const cut = 5_000_003
	if err := os.Truncate(srv.chunkPath(id), cut); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		method, rng, size string
		code              int
	}{
		{"GET", "", "", 412}, {"GET", "bytes=9000000-", "", 412}, {"GET", "bytes=6000000-6000010", "", 412},
		{"GET", "bytes=4999990-5000010", "", 412}, {"GET", "bytes=0-10", "", 412},
		{"HEAD", "", "", 200}, {"GET", "bytes=100-4999999", "5000003", 206},
		{"GET", "bytes=0-10", "5000003", 206}, {"HEAD", "", "5000003", 200},
	} {
		req, _ := http.NewRequest(tt.method, ChunkURL(addr, id), nil)
		if tt.rng != "" {
			req.Header.Set("Range", tt.rng)
		}
		if tt.size != "" {
			req.Header.Set(HdrChunkSize, tt.size)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code || err != nil {
			t.Errorf("%s %q size %q: %d (%v), want %d", tt.method, tt.rng, tt.size, resp.StatusCode, err,
				tt.code)
			continue
		}
		if tt.method == "HEAD" {
			want := int64(len(data)) // the attribute's
			if tt.size != "" {
				want = cut
			}
			if resp.ContentLength != want {
				t.Errorf("HEAD expecting %q: Content-Length %d, want %d", tt.size,
					resp.ContentLength, want)
			}
		}
		if tt.code == 206 {
			var from, to int
			fmt.Sscanf(tt.rng, "bytes=%d-%d", &from, &to)
			if !bytes.Equal(b, data[from:to+1]) {
				t.Errorf("Range %q: wrong bytes", tt.rng)
			}
		}
	}
}

// cuttingWriter cuts file to size after the first write it receives, or
// before it copies the bytes when early is set.
type cuttingWriter struct {
	bytes.Buffer
	file  string
	size  int64
	early bool
	cut   bool
}

func (w *cuttingWriter) Write(p []byte) (int, error) {
	if !w.cut {
		w.cut = true
		if w.early {
			os.Truncate(w.file, w.size)
		} else {
			defer os.Truncate(w.file, w.size)
		}
	}
	return w.Buffer.Write(p)
}

// TestSentBodyStopsAtCut: a file cut while it is sent never has bytes past
// the piece being sent go out, zeros or otherwise.
func TestSentBodyStopsAtCut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chunk")
	data := bytes.Repeat([]byte{0xA5}, 3*sentPiece+100)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const start = 4097
	for _, w := range []*cuttingWriter{
		{file: path, size: sentPiece + start + 10}, // during the first piece
		{file: path, size: 100, early: true},       // before the first bytes go
	} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		// Without ReadFrom, so that every copy goes through Write.
		err := sendPieces(struct{ io.Writer }{w}, f, start, int64(len(data)), nil)
		got := w.Bytes()
		if err == nil || !bytes.Equal(got, data[start:start+len(got)]) || len(got) > sentPiece {
			t.Errorf("cut to %d: %d bytes sent, all from the file %v, err %v; want at most "+
				"one piece of %d bytes and an error", w.size, len(got),
				bytes.Equal(got, data[start:start+len(got)]), err, sentPiece)
		}
	}
}

func TestCheckHashDetectsCorruption(t *testing.T) {
	srv, addr := startServer(t, Config{Namespace: "NS"})
	var c Client
	for i, size := range []int{4096, 3 << 20} { // read path and memory-mapped path
		id := testID(20 + i)
		data := bytes.Repeat([]byte{7}, size)
		if _, err := c.Put(ctx, ChunkURL(addr, id), testMeta(id), bytes.NewReader(data), -1); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Head(ctx, ChunkURL(addr, id), true); err != nil {
			t.Fatalf("size %d: intact chunk failed the check: %v", size, err)
		}
		f, _ := os.OpenFile(srv.chunkPath(id), os.O_WRONLY, 0)
		f.WriteAt([]byte{8}, int64(size/2))
		f.Close()
		if _, err := c.Head(ctx, ChunkURL(addr, id), false); err != nil {
			t.Errorf("size %d: plain HEAD failed: %v", size, err)
		}
		_, err := c.Head(ctx, ChunkURL(addr, id), true)
		if !errors.Is(err, ErrHashFailed) || !strings.Contains(err.Error(), "does not match the hash") {
			t.Errorf("size %d: flipped byte not detected, or not said: %v", size, err)
		}
		os.Truncate(srv.chunkPath(id), int64(size-1))
		if _, err := c.Head(ctx, ChunkURL(addr, id), true); !errors.Is(err, ErrHashFailed) {
			t.Errorf("size %d: truncated chunk not detected: %v", size, err)
		}
	}
}

// TestExpectedSize: a read that names the size it expects (the
// directory's) is served that many bytes of the file whatever the size
// attribute says, a shorter file fails with 412 and a longer one is said
// so in a header; a read that names none is served the attribute's size,
// as by OpenIO. A chunk without a size attribute has no size header.
func TestExpectedSize(t *testing.T) {
	srv, addr := startServer(t, Config{Namespace: "NS"})
	var c Client
	id := testID(30)
	u := ChunkURL(addr, id)
	data := bytes.Repeat([]byte("0123456789"), 1000)
	if _, err := c.Put(ctx, u, testMeta(id), bytes.NewReader(data), -1); err != nil {
		t.Fatal(err)
	}
	path := srv.chunkPath(id)
	if err := chunk.SetAttrs(path, []chunk.Attr{{Name: chunk.AttrSize, Value: "999"}}); err != nil {
		t.Fatal(err)
	}
	read := func(body io.ReadCloser, _ *chunk.Meta, err error) ([]byte, error) {
		if err != nil {
			return nil, err
		}
		defer body.Close()
		return io.ReadAll(body)
	}
	if got, err := read(c.Get(ctx, u, 0, -1)); err != nil || len(got) != 999 {
		t.Errorf("GET without expectation: %d bytes, %v; want the attribute's 999", len(got), err)
	}
	if got, err := read(c.GetSized(ctx, u, int64(len(data)))); err != nil || !bytes.Equal(got, data) {
		t.Errorf("GET expecting %d bytes: %d bytes, %v; want the whole file", len(data), len(got), err)
	}
	if got, err := read(c.GetSized(ctx, u, 999)); err != nil || !bytes.Equal(got, data[:999]) {
		t.Errorf("GET expecting 999 bytes of a file of %d: %d bytes, %v; want the first 999",
			len(data), len(got), err)
	}
	req, _ := http.NewRequest(http.MethodHead, u, nil)
	req.Header.Set(HdrChunkSize, "999")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK ||
		resp.Header.Get(HdrFileSize) != fmt.Sprint(len(data)) {
		t.Errorf("HEAD expecting 999 bytes of a file of %d: %v %v, want 200 and the file size",
			len(data), resp, err)
	}
	if err := os.Truncate(path, 5000); err != nil {
		t.Fatal(err)
	}
	head := func(size string) int {
		req, _ := http.NewRequest(http.MethodHead, u, nil)
		req.Header.Set(HdrChunkSize, size)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := head(fmt.Sprint(len(data))); code != http.StatusPreconditionFailed {
		t.Errorf("HEAD of a truncated file expecting %d bytes: %d, want 412", len(data), code)
	}
	if code := head("5000"); code != http.StatusOK {
		t.Errorf("HEAD expecting the file's size: %d, want 200", code)
	}
	for _, bad := range []string{"-1", "+5000", "5e3"} {
		if code := head(bad); code != http.StatusBadRequest {
			t.Errorf("HEAD expecting %q bytes: %d, want 400", bad, code)
		}
	}
	if err := chunk.RemoveAttr(path, chunk.AttrSize); err != nil {
		t.Fatal(err)
	}
	m, err := c.Head(ctx, u, false)
	if err != nil || m.HasSize {
		t.Errorf("HEAD of a chunk without a size attribute: %+v %v, want no size", m, err)
	}
}

// TestSplitChunkURL accepts http://host/<chunk id> only.
func TestSplitChunkURL(t *testing.T) {
	id := testID(1)
	host, got, err := SplitChunkURL("http://rawx-1/" + strings.ToLower(id))
	if err != nil || host != "rawx-1" || got != id {
		t.Errorf("canonical form: %q %q %v", host, got, err)
	}
	for _, bad := range []string{"http://rawx-1/" + id + "?x=1", "http://rawx-1/" + id + "#f",
		"http://u@rawx-1/" + id, "http:///" + id, "http://rawx-1/" + id + "/", "http://rawx-1/XYZ"} {
		if _, _, err := SplitChunkURL(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestLinkAndPost(t *testing.T) {
	srv, addr := startServer(t, Config{Namespace: "NS", ServiceID: "rawx-1"})
	var c Client
	src, dst := testID(30), testID(31)
	data := []byte("shared data")
	if _, err := c.Put(ctx, ChunkURL(addr, src), testMeta(src), bytes.NewReader(data), -1); err != nil {
		t.Fatal(err)
	}
	fp := chunk.Fullpath{Account: "acct", Container: "ctr", Path: "copy", Version: 2, ContentID: "ABCD"}
	if err := c.Link(ctx, ChunkURL(addr, src), ChunkURL("rawx-1", dst), fp); err != nil {
		t.Fatal(err)
	}
	if err := c.Link(ctx, ChunkURL(addr, src), ChunkURL(addr, dst), fp); !errors.Is(err, ErrExists) {
		t.Errorf("second link: %v", err)
	}
	if err := c.Link(ctx, ChunkURL(addr, src), ChunkURL("other:1", testID(32)), fp); err == nil {
		t.Error("link to another service accepted")
	}
	err := c.Link(ctx, ChunkURL(addr, testID(33)), ChunkURL(addr, testID(34)), fp)
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("link of a missing chunk: %v", err)
	}
	s1, _ := os.Stat(srv.chunkPath(src))
	s2, _ := os.Stat(srv.chunkPath(dst))
	if !os.SameFile(s1, s2) {
		t.Fatal("the copy is not a hard link")
	}
	m, _ := chunk.ReadFile(srv.chunkPath(dst))
	if m.Fullpath != fp || m.Links[src] == "" {
		t.Errorf("copy metadata %+v", m)
	}

	// Deleting the source keeps the copy and removes only the source's key.
	if err := c.Delete(ctx, ChunkURL(addr, src)); err != nil {
		t.Fatal(err)
	}
	m, _ = chunk.ReadFile(srv.chunkPath(dst))
	if m.Fullpath != fp || len(m.Links) != 0 {
		t.Errorf("after deleting the source: %+v", m)
	}

	if err := c.SetProperties(ctx, ChunkURL(addr, dst), map[string]string{"tier": "cold"}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Head(ctx, ChunkURL(addr, dst), false)
	if err != nil || got.Extra["Tier"] != "cold" {
		t.Errorf("properties after POST: %+v, %v", got, err)
	}
	// A flag that is not a boolean is refused, with the properties.
	req, _ := http.NewRequest("POST", ChunkURL(addr, dst), nil)
	req.Header.Set(HdrNonOptimal, "maybe")
	req.Header.Set("X-Oio-Ext-Tier", "hot")
	if resp := send(t, &c, req); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("POST with %s: maybe: %d, want 400", HdrNonOptimal, resp.StatusCode)
	}
	if got, _ := c.Head(ctx, ChunkURL(addr, dst), false); got == nil || got.Extra["Tier"] != "cold" {
		t.Errorf("properties after a refused POST: %+v", got)
	}
	req, _ = http.NewRequest("POST", ChunkURL(addr, dst), nil)
	req.Header.Set(HdrNonOptimal, "true")
	for i, want := range []int{200, 409} {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("non-optimal POST %d: %d, want %d", i, resp.StatusCode, want)
		}
	}
	links, _ := filepath.Glob(filepath.Join(srv.cfg.Volume, NonOptimalDir, dst[:3], dst+".0.*"))
	if len(links) != 1 {
		t.Fatalf("non-optimal links %v", links)
	}
	target, _ := filepath.EvalSymlinks(links[0])
	if target != srv.chunkPath(dst) {
		t.Errorf("non-optimal link points at %s", target)
	}
}

func TestVolumeIdentity(t *testing.T) {
	vol := filepath.Join(t.TempDir(), "vol")
	os.Mkdir(vol, 0o755)
	srv, err := New(Config{Volume: vol, Namespace: "NS", Addr: "127.0.0.1:1", ServiceID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Volume: vol, Namespace: "NS", Addr: "127.0.0.1:1", ServiceID: "a"}); err == nil {
		t.Error("two servers on one volume")
	}
	srv.Close()
	for name, cfg := range map[string]Config{
		"other namespace": {Volume: vol, Namespace: "NS2", Addr: "127.0.0.1:1", ServiceID: "a"},
		"other id":        {Volume: vol, Namespace: "NS", Addr: "127.0.0.1:1", ServiceID: "b"},
	} {
		if _, err := New(cfg); !errors.Is(err, chunk.ErrVolumeMismatch) {
			t.Errorf("%s: %v, want ErrVolumeMismatch", name, err)
		}
	}
	id, _ := chunk.CheckVolume(vol)
	if id != (chunk.VolumeIdentity{Namespace: "NS", Type: "rawx", ServiceID: "a"}) {
		t.Errorf("identity changed: %+v", id)
	}
}

// TestLayoutMismatchIsRefused: a server whose hash width or depth is not
// the one the volume's chunk directories were made with refuses to start,
// instead of missing every chunk and writing some a second time.
func TestLayoutMismatchIsRefused(t *testing.T) {
	vol := filepath.Join(t.TempDir(), "vol")
	os.Mkdir(vol, 0o755)
	cfg := Config{Volume: vol, Namespace: "NS", Addr: "127.0.0.1:1", ServiceID: "a"}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	id := "F" + testID(1)[1:]
	os.MkdirAll(filepath.Join(vol, id[:3]), 0o755)
	if err := os.WriteFile(filepath.Join(vol, id[:3], id), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Empty hash directories, sorted before the chunk's, prove nothing.
	for _, d := range []string{"000", "0A1", "E00"} {
		os.Mkdir(filepath.Join(vol, d), 0o755)
	}
	for _, l := range []chunk.Layout{{Width: 2, Depth: 1}, {Width: 3, Depth: 2}, {Width: 3, Depth: 0},
		{Width: 4, Depth: 1}} {
		cfg.Layout = l
		if _, err := New(cfg); !errors.Is(err, errLayoutMismatch) {
			t.Errorf("width %d depth %d on a volume of width 3 depth 1: %v", l.Width, l.Depth, err)
		}
	}
	cfg.Layout = chunk.Layout{Width: 3, Depth: 1}
	srv, err = New(cfg)
	if err != nil {
		t.Fatalf("the volume's own layout: %v", err)
	}
	srv.Close()

	// A chunk file at the root is misplaced when a chunk where the layout
	// puts them proves it (the listing names it), and refused alone, as
	// in a flat volume.
	if err := os.WriteFile(filepath.Join(vol, id), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if srv, err = New(cfg); err != nil {
		t.Fatalf("a stray chunk at the root of a volume of the server's layout: %v", err)
	}
	srv.Close()
	if err := os.RemoveAll(filepath.Join(vol, id[:3])); err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg); !errors.Is(err, errLayoutMismatch) {
		t.Errorf("a volume whose only chunk is at its root, at depth 1: %v", err)
	}
}

func TestListPages(t *testing.T) {
	_, addr := startServer(t, Config{Namespace: "NS"})
	var c Client
	want := map[string]bool{}
	for i := 0; i < 60; i++ {
		id := testID(100 + i)
		want[id] = true
		if _, err := c.Put(ctx, ChunkURL(addr, id), testMeta(id), strings.NewReader("x"), -1); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]bool{}
	marker, pages := "", 0
	for {
		page, err := c.List(ctx, "http://"+addr, marker, 7)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, ch := range page.Chunks {
			if got[ch.ChunkID] {
				t.Errorf("%s listed twice", ch.ChunkID)
			}
			got[ch.ChunkID] = true
		}
		if !page.IsTruncated {
			break
		}
		marker = page.Marker
	}
	if diff := cmp.Diff(want, got); diff != "" || pages < 5 {
		t.Errorf("listing in %d pages (-want +got):\n%s", pages, diff)
	}
}

// TestListLeavesOutMisplaced copies chunk files into directories that are
// not their ids': one that holds chunks and one that holds none, and into
// the right one under a lowercase name, which no request by id finds. The
// listing stays in id order, without them, and names them by their paths,
// each once, whatever the pages.
func TestListLeavesOutMisplaced(t *testing.T) {
	vol := filepath.Join(t.TempDir(), "vol")
	_, addr := startServer(t, Config{Namespace: "NS", Volume: vol})
	var c Client
	var ids []string
	for i := 0; i < 12; i++ {
		id := testID(300 + i)
		ids = append(ids, id)
		if _, err := c.Put(ctx, ChunkURL(addr, id), testMeta(id), strings.NewReader("x"), -1); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(ids)
	first, last := ids[0], ids[len(ids)-1]
	data, err := os.ReadFile(filepath.Join(vol, first[:3], first))
	if err != nil {
		t.Fatal(err)
	}
	empty := "FFF"
	if last[:3] == empty {
		empty = "FFE"
	}
	os.MkdirAll(filepath.Join(vol, empty), 0o755)
	wantMisplaced := []string{last[:3] + "/" + first, empty + "/" + first, last,
		first[:3] + "/" + strings.ToLower(first)}
	slices.Sort(wantMisplaced)
	for _, p := range wantMisplaced {
		if err := os.WriteFile(filepath.Join(vol, filepath.FromSlash(p)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, size := range []int{1, 5, 1000} {
		var got, misplaced []string
		marker := ""
		for {
			page, err := c.List(ctx, "http://"+addr, marker, size)
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range page.Chunks {
				got = append(got, ch.ChunkID)
			}
			misplaced = append(misplaced, page.Misplaced...)
			if !page.IsTruncated {
				break
			}
			marker = page.Marker
		}
		if diff := cmp.Diff(ids, got); diff != "" {
			t.Errorf("pages of %d: chunks (-want +got):\n%s", size, diff)
		}
		slices.Sort(misplaced)
		if diff := cmp.Diff(wantMisplaced, misplaced); diff != "" {
			t.Errorf("pages of %d: misplaced (-want +got):\n%s", size, diff)
		}
	}
}

func TestStatAndMetrics(t *testing.T) {
	_, addr := startServer(t, Config{Namespace: "NS"})
	var c Client
	id := testID(200)
	c.Put(ctx, ChunkURL(addr, id), testMeta(id), strings.NewReader("hello"), -1)
	c.Head(ctx, ChunkURL(addr, testID(201)), false)
	for path, wants := range map[string][]string{
		"/stat": {"counter req.hits.put 1\n", "counter rep.hits.404 1\n", "counter rep.bread 5\n"},
		"/metrics": {`gridkeep_rawx_requests_total{code="201",route="put"} 1`,
			"gridkeep_rawx_received_bytes_total 5"},
	} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, w := range wants {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s lacks %q", path, w)
			}
		}
	}
}

func TestLastModifiedParses(t *testing.T) {
	_, addr := startServer(t, Config{Namespace: "NS"})
	id := testID(300)
	var c Client
	before := time.Now().Add(-2 * time.Second)
	if _, err := c.Put(ctx, ChunkURL(addr, id), testMeta(id), strings.NewReader("x"), -1); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Head(ChunkURL(addr, id))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	v := resp.Header.Get("Last-Modified")
	mt, err := ParseLastModified(v)
	if err != nil || mt.Before(before) || mt.After(time.Now().Add(2*time.Second)) {
		t.Errorf("Last-Modified %q parsed as %v, %v", v, mt, err)
	}
	if gmt, err := ParseLastModified("Fri, 04 Dec 2026 15:52:01 GMT"); err != nil || gmt.Hour() != 15 {
		t.Errorf("GMT form: %v, %v", gmt, err)
	}
}

func TestVolumeInsideAnotherIsRefused(t *testing.T) {
	srv, _ := startServer(t, Config{Namespace: "NS"})
	inner := filepath.Join(srv.cfg.Volume, "ABC")
	os.MkdirAll(inner, 0o755)
	_, err := New(Config{Volume: inner, Namespace: "NS", Addr: "127.0.0.1:1"})
	if !errors.Is(err, chunk.ErrVolumeMismatch) {
		t.Fatalf("a volume inside a volume: %v", err)
	}
	if id, _ := chunk.ReadVolume(inner); id != (chunk.VolumeIdentity{}) {
		t.Errorf("the inner directory was tagged: %+v", id)
	}
}

// A chunk URL naming a service id instead of an address (a chunk server
// the directory could not resolve) fails at once: no request, no name
// lookup of the id.
func TestClientRefusesHostWithoutPort(t *testing.T) {
	var hosts []string
	c := &Client{HTTP: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		hosts = append(hosts, r.URL.Host)
		return nil, errors.New("sent")
	})}}
	ctx := context.Background()
	url := ChunkURL("rawx-3", strings.Repeat("A", 64))
	_, err1 := c.Head(ctx, url, false)
	_, _, err2 := c.Get(ctx, url, 0, -1)
	err3 := c.Delete(ctx, url)
	for i, err := range []error{err1, err2, err3} {
		if !errors.Is(err, ErrNoAddress) {
			t.Errorf("call %d: %v, want ErrNoAddress", i, err)
		}
	}
	if len(hosts) != 0 {
		t.Errorf("requests sent to %q", hosts)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A volume moved away while the server runs is not written to, nor is a
// new tree made at its path: chunk requests fail with 503 until the volume
// is back.
func TestMovedVolumeIsRefused(t *testing.T) {
	srv, addr := startServer(t, Config{Namespace: "NS", ServiceID: "rawx-1"},
		func(s *Server) { s.volCheck.every = 0 })
	var c Client
	data := []byte("moved")
	put := func(n int) error {
		id := testID(n)
		_, err := c.Put(ctx, ChunkURL(addr, id), testMeta(id), bytes.NewReader(data), int64(len(data)))
		return err
	}
	if err := put(1); err != nil {
		t.Fatal(err)
	}
	vol := srv.cfg.Volume
	if err := os.Rename(vol, vol+".away"); err != nil {
		t.Fatal(err)
	}
	err := put(2)
	if err == nil || !strings.Contains(err.Error(), "503") ||
		!strings.Contains(err.Error(), "put the volume back") || strings.Contains(err.Error(), vol) {
		t.Errorf("put to a moved volume: %v, want 503 saying the volume is gone, not where", err)
	}
	if _, _, err := c.Get(ctx, ChunkURL(addr, testID(1)), 0, -1); err == nil {
		t.Error("get from a moved volume succeeded")
	}
	if _, err := os.Stat(vol); !os.IsNotExist(err) {
		t.Errorf("a directory was made at the moved volume's path: %v", err)
	}
	if err := os.Rename(vol+".away", vol); err != nil {
		t.Fatal(err)
	}
	if err := put(2); err != nil {
		t.Errorf("put once the volume is back: %v", err)
	}
}

// A chunk directory removed while the server runs is made again by the
// next upload into it.
func TestRemovedChunkDirIsMadeAgain(t *testing.T) {
	srv, addr := startServer(t, Config{Namespace: "NS", ServiceID: "rawx-1"})
	var c Client
	data := []byte("again")
	first := testID(1)
	second := first[:3] + strings.Repeat("0", len(first)-3) // same directory
	for i, id := range []string{first, second} {
		if i == 1 {
			if err := os.RemoveAll(filepath.Join(srv.cfg.Volume, first[:3])); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.Put(ctx, ChunkURL(addr, id), testMeta(id), bytes.NewReader(data),
			int64(len(data))); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
}

// TestTrailerContradictingHeader: a chunked upload whose trailer gives
// another chunk hash or size than its headers is refused, whichever is
// right; a trailer agreeing with the headers, or completing them, is not.
func TestTrailerContradictingHeader(t *testing.T) {
	_, addr := startServer(t, Config{Namespace: "NS"})
	data := []byte("trailer data")
	good, bad := blake3Hex(data), blake3Hex([]byte("other"))
	var c Client
	for i, tc := range []struct {
		header, trailer http.Header
		want            int
	}{
		{http.Header{HdrChunkHash: {bad}}, http.Header{HdrChunkHash: {good}}, 400},
		{http.Header{HdrChunkHash: {good}}, http.Header{HdrChunkHash: {bad}}, 400},
		{http.Header{HdrChunkSize: {"3"}}, http.Header{HdrChunkSize: {strconv.Itoa(len(data))}}, 400},
		{http.Header{HdrChunkHash: {good}}, http.Header{HdrChunkHash: {strings.ToLower(good)}}, 201},
		{http.Header{}, http.Header{HdrChunkHash: {good}}, 201},
	} {
		id := testID(40 + i)
		req, _ := http.NewRequest("PUT", ChunkURL(addr, id), io.NopCloser(bytes.NewReader(data)))
		req.ContentLength = -1
		setPutHeaders(req.Header, testMeta(id))
		for k, v := range tc.header {
			req.Header[k] = v
		}
		req.Trailer = tc.trailer
		resp := send(t, &c, req)
		if resp.StatusCode != tc.want {
			t.Errorf("headers %v, trailer %v: status %d, want %d", tc.header, tc.trailer,
				resp.StatusCode, tc.want)
		}
	}
}

// TestAttributeTooLarge: an attribute larger than the filesystem takes
// (ext4 keeps a file's attributes in one block) answers 413, not the 507 of
// a full disk, and the chunk keeps its attributes, including those the same
// request would have changed.
func TestAttributeTooLarge(t *testing.T) {
	srv, addr := startServer(t, Config{Namespace: "NS"})
	big := strings.Repeat("x", 6000)
	probe := filepath.Join(srv.cfg.Volume, "probe")
	if err := os.WriteFile(probe, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Setxattr(probe, "user.probe", []byte(big), 0); !errors.Is(err, syscall.ENOSPC) {
		t.Skipf("this filesystem answers %v to an attribute of 6000 bytes", err)
	}
	var c Client
	id := testID(60)
	if _, err := c.Put(ctx, ChunkURL(addr, id), testMeta(id), strings.NewReader("data"), 4); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", ChunkURL(addr, id), nil)
	req.Header.Set("X-Oio-Ext-Kept", "earlier")
	if resp := send(t, &c, req); resp.StatusCode != http.StatusOK {
		t.Fatalf("POST of a property: %d", resp.StatusCode)
	}
	before, err := chunk.ReadAttrs(srv.chunkPath(id))
	if err != nil {
		t.Fatal(err)
	}
	// Properties are written in the order of their names, so the two small
	// ones go before the big one and must be undone.
	req, _ = http.NewRequest("POST", ChunkURL(addr, id), nil)
	req.Header.Set("X-Oio-Ext-Added", "new")
	req.Header.Set("X-Oio-Ext-Kept", "replaced")
	req.Header.Set("X-Oio-Ext-Zbig", big)
	resp := send(t, &c, req)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("POST of an attribute of 6000 bytes: status %d, want 413", resp.StatusCode)
	}
	after, _ := chunk.ReadAttrs(srv.chunkPath(id))
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("attributes changed (-before +after):\n%s", diff)
	}
}

// send sends req with c and returns the reply, its body closed.
func send(t *testing.T, c *Client, req *http.Request) *http.Response {
	t.Helper()
	resp, err := c.do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestNotRegularFiles: a name in the volume that is not a regular file is
// not a chunk, and is left alone. A symbolic link is not followed, whether
// it leads out of the volume or to a chunk, on the way or at the end, and
// a named pipe does not block the request.
func TestNotRegularFiles(t *testing.T) {
	srv, addr := startServer(t, Config{Namespace: "NS"})
	var c Client
	real := testID(70)
	if _, err := c.Put(ctx, ChunkURL(addr, real), testMeta(real), strings.NewReader("data"), 4); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(outside, []byte("not for clients"), 0o600)
	realBefore, _ := chunk.ReadAttrs(srv.chunkPath(real))

	toOutside, toChunk, pipe := testID(71), testID(72), testID(73)
	for id, make := range map[string]func(string) error{
		toOutside: func(p string) error { return os.Symlink(outside, p) },
		toChunk:   func(p string) error { return os.Symlink(srv.chunkPath(real), p) },
		pipe:      func(p string) error { return syscall.Mkfifo(p, 0o644) },
	} {
		p := srv.chunkPath(id)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := make(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{toOutside, toChunk, pipe} {
		url := ChunkURL(addr, id)
		if _, err := c.Head(ctx, url, false); !errors.Is(err, ErrNotFound) {
			t.Errorf("HEAD of %s: %v, want not found", id, err)
		}
		req, _ := http.NewRequest("GET", url, nil)
		if resp := send(t, &c, req); resp.StatusCode != http.StatusNotFound ||
			resp.Header.Get("X-Error") == "" {
			t.Errorf("GET of %s: %d %q, want 404 with a reason", id, resp.StatusCode,
				resp.Header.Get("X-Error"))
		}
		if err := c.SetProperties(ctx, url, map[string]string{"k": "v"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("POST on %s: %v, want not found", id, err)
		}
		err := c.Link(ctx, url, ChunkURL(addr, testID(74)), testMeta(real).Fullpath)
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("COPY of %s: %v, want not found", id, err)
		}
		if err := c.Delete(ctx, url); !errors.Is(err, ErrNotFound) {
			t.Errorf("DELETE of %s: %v, want not found", id, err)
		}
		if _, err := os.Lstat(srv.chunkPath(id)); err != nil {
			t.Errorf("%s removed by DELETE: %v", id, err)
		}
	}

	// A chunk reached through a linked hash directory is not served either.
	elsewhere := t.TempDir()
	behind := "F0F" + testID(75)[3:]
	if err := os.WriteFile(filepath.Join(elsewhere, behind), []byte("not for clients"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(srv.cfg.Volume, "F0F")); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", ChunkURL(addr, behind), nil)
	if resp := send(t, &c, req); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET through a linked directory: %d, want 404", resp.StatusCode)
	}
	if err := c.Delete(ctx, ChunkURL(addr, behind)); !errors.Is(err, ErrNotFound) {
		t.Errorf("DELETE through a linked directory: %v, want not found", err)
	}
	if _, err := os.Stat(filepath.Join(elsewhere, behind)); err != nil {
		t.Errorf("the file behind the linked directory: %v", err)
	}
	// Nor is one written there, by PUT or COPY: no read could follow it.
	put, copied := "F0F"+testID(76)[3:], "F0F"+testID(77)[3:]
	_, err := c.Put(ctx, ChunkURL(addr, put), testMeta(put), strings.NewReader("data"), 4)
	if !errors.Is(err, ErrServerError) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("PUT through a linked directory: %v, want a 500 that says why", err)
	}
	err = c.Link(ctx, ChunkURL(addr, real), ChunkURL(addr, copied), testMeta(copied).Fullpath)
	if !errors.Is(err, ErrServerError) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("COPY into a linked directory: %v, want a 500 that says why", err)
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 1 {
		t.Errorf("files written behind the linked directory: %v", entries)
	}
	// A file where a chunk directory should be says so too.
	if err := os.WriteFile(filepath.Join(srv.cfg.Volume, "E0E"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	put = "E0E" + testID(78)[3:]
	_, err = c.Put(ctx, ChunkURL(addr, put), testMeta(put), strings.NewReader("data"), 4)
	if !errors.Is(err, ErrServerError) || !strings.Contains(err.Error(), "E0E is not a directory of the volume") {
		t.Errorf("PUT under a file: %v, want a 500 that says why", err)
	}
	if got, _ := os.ReadFile(outside); string(got) != "not for clients" {
		t.Errorf("the file outside the volume became %q", got)
	}
	after, _ := chunk.ReadAttrs(srv.chunkPath(real))
	if diff := cmp.Diff(realBefore, after); diff != "" {
		t.Errorf("the linked chunk's attributes (the COPY source's) changed (-before +after):\n%s", diff)
	}
	if _, err := c.Head(ctx, ChunkURL(addr, real), true); err != nil {
		t.Errorf("the linked chunk: %v", err)
	}
}
