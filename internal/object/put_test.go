package object_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/object"
	"github.com/gridkeep/gridkeep/internal/rawx"
)

// An input that holds more than the size announced (a file that grew
// while being stored) fails the put: nothing is committed and no chunk
// file is left behind.
func TestPutOfGrowingInputFails(t *testing.T) {
	ctx := context.Background()
	ns, dir, oc := startOne(t)
	n := object.Name{Account: "acct", Container: "ctr", Path: "obj"}
	_, err := oc.Put(ctx, n, strings.NewReader("some data, and more"),
		object.PutOptions{Size: 9, SizeKnown: true})
	if err == nil || !strings.Contains(err.Error(), "grew while being stored") {
		t.Fatalf("put of 19 bytes announced as 9: %v, want a failure saying the input grew", err)
	}
	if _, err := dir.Locate(ctx, n.Account, n.Container, n.Path, 0); !meta.Missing(err) {
		t.Errorf("the object was committed: %v", err)
	}
	var left []string
	chunk.WalkChunks(ns.Rawx[0].Volume, func(path string) error {
		left = append(left, path)
		return nil
	})
	if len(left) != 0 {
		t.Errorf("chunk files left: %v", left)
	}
}

// commitFunc handles the commit request of a put (content/create);
// forward sends it to the directory.
type commitFunc func(req *http.Request, forward func() (*http.Response, error)) (*http.Response, error)

// commitFault is a transport to the directory that lets a test step in
// when a put sends its commit. With down, every request after the commit
// fails too, as when the directory is lost.
type commitFault struct {
	commit commitFunc
	down   bool
	sent   *atomic.Bool
}

func (f commitFault) RoundTrip(req *http.Request) (*http.Response, error) {
	forward := func() (*http.Response, error) { return http.DefaultTransport.RoundTrip(req) }
	switch {
	case strings.HasSuffix(req.URL.Path, "/content/create"):
		f.sent.Store(true)
		return f.commit(req, forward)
	case f.down && f.sent.Load():
		return nil, errors.New("connection refused")
	}
	return forward()
}

// TestPutCommitIsNeverCutFromItsChunks: whatever becomes of the commit of
// a put (the put interrupted while the directory records it, the reply
// lost after the directory recorded it, the request lost before), the
// object is either committed whole and readable, or absent with none of
// its chunks left, and the put says which. When the directory cannot tell
// either, the chunks are kept.
func TestPutCommitIsNeverCutFromItsChunks(t *testing.T) {
	data := strings.Repeat("gridkeep ", 1000)
	lost := errors.New("connection reset")
	for _, tc := range []struct {
		name   string
		commit func(cancel func()) commitFunc
		down   bool // the directory is lost after the commit
		stored bool
	}{
		{"interrupted while recorded", func(cancel func()) commitFunc {
			return func(req *http.Request, forward func() (*http.Response, error)) (*http.Response, error) {
				resp, err := forward()
				cancel() // Ctrl-C while the reply is on its way
				if req.Context().Err() != nil {
					return nil, req.Context().Err()
				}
				return resp, err
			}
		}, false, true},
		{"reply lost", func(func()) commitFunc {
			return func(req *http.Request, forward func() (*http.Response, error)) (*http.Response, error) {
				if resp, err := forward(); err == nil {
					resp.Body.Close()
				}
				return nil, lost
			}
		}, false, true},
		{"request lost", func(func()) commitFunc {
			return func(*http.Request, func() (*http.Response, error)) (*http.Response, error) {
				return nil, lost
			}
		}, false, false},
		{"directory lost", func(func()) commitFunc {
			return func(*http.Request, func() (*http.Response, error)) (*http.Response, error) {
				return nil, lost
			}
		}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) { putThroughFault(t, data, tc.commit, tc.down, tc.stored) })
	}
}

// putThroughFault puts data through a directory client whose commit
// request commit handles (cancel interrupts the put), and checks that the
// object is stored whole, or absent with its chunks removed, or absent
// with its chunks kept when the directory is down after the commit.
func putThroughFault(t *testing.T, data string, commit func(cancel func()) commitFunc, down, stored bool) {
	ns, dir, _ := startOne(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr := commitFault{commit: commit(cancel), down: down, sent: new(atomic.Bool)}
	faulty, err := meta.NewClient(ns.ProxyURL, meta.ClientOptions{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	n := object.Name{Account: "acct", Container: "ctr", Path: "obj"}
	_, perr := (&object.Client{Dir: faulty, Rawx: &rawx.Client{}}).Put(ctx, n, strings.NewReader(data),
		object.PutOptions{Size: int64(len(data)), SizeKnown: true})
	var got strings.Builder
	_, gerr := (&object.Client{Dir: dir, Rawx: &rawx.Client{}}).Get(context.Background(), n, 0, &got)
	files := 0
	chunk.WalkChunks(ns.Rawx[0].Volume, func(string) error { files++; return nil })
	switch {
	case stored:
		if perr != nil || gerr != nil || got.String() != data {
			t.Errorf("put: %v; get: %v, %d bytes; want the object stored whole", perr, gerr, got.Len())
		}
	case down:
		if perr == nil || !strings.Contains(perr.Error(), "chunks are kept") || !meta.Missing(gerr) ||
			files == 0 {
			t.Errorf("put: %v; get: %v; %d chunk files; want a failed put saying its chunks are kept",
				perr, gerr, files)
		}
	case perr == nil || !meta.Missing(gerr) || files != 0:
		t.Errorf("put: %v; get: %v; %d chunk files; want a failed put, no object, no chunk left",
			perr, gerr, files)
	}
}

// replyLost is a transport to the chunk servers whose uploads are stored
// but whose replies never come back.
type replyLost struct{}

func (replyLost) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || req.Method != http.MethodPut {
		return resp, err
	}
	resp.Body.Close()
	return nil, errors.New("connection reset")
}

// TestFailedPutDeletesUnansweredUploads: a put whose chunk uploads were
// stored but never answered fails, and deletes those chunks all the same.
func TestFailedPutDeletesUnansweredUploads(t *testing.T) {
	ns, dir, _ := startOne(t)
	oc := &object.Client{Dir: dir, Rawx: &rawx.Client{HTTP: &http.Client{Transport: replyLost{}}}}
	n := object.Name{Account: "acct", Container: "ctr", Path: "obj"}
	if _, err := oc.Put(context.Background(), n, strings.NewReader("data"),
		object.PutOptions{Size: 4, SizeKnown: true}); err == nil {
		t.Fatal("put succeeded with no upload answered")
	}
	files := 0
	chunk.WalkChunks(ns.Rawx[0].Volume, func(string) error { files++; return nil })
	if files != 0 {
		t.Errorf("%d chunk files left", files)
	}
}

// TestPutOfMoreMetachunksThanOnePrepare: an object of known size needing
// more metachunks than a directory places at once is placed in several
// prepares, stored whole and read back.
func TestPutOfMoreMetachunksThanOnePrepare(t *testing.T) {
	ctx := context.Background()
	const chunkSize = 64 << 10
	_, _, oc := startOneWith(t, chunkSize)
	data := make([]byte, 1025*chunkSize+1)
	for i := range data {
		data[i] = byte(i * 7)
	}
	n := object.Name{Account: "acct", Container: "ctr", Path: "big"}
	o, err := oc.Put(ctx, n, bytes.NewReader(data), object.PutOptions{Size: int64(len(data)), SizeKnown: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Chunks) != 1026 {
		t.Errorf("%d chunks, want 1026", len(o.Chunks))
	}
	var got bytes.Buffer
	if _, err := oc.Get(ctx, n, 0, &got); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Errorf("read back %d bytes (%v), want the %d written", got.Len(), err, len(data))
	}
}

// deletesFail is replyLost whose deletes fail too, as when the chunk
// server stops answering after storing.
type deletesFail struct{}

func (deletesFail) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodDelete {
		return nil, errors.New("connection refused")
	}
	return replyLost{}.RoundTrip(req)
}

// TestFailedPutSaysWhatItLeft: a failed put whose clean-up cannot delete
// the chunks it wrote says how many are left.
func TestFailedPutSaysWhatItLeft(t *testing.T) {
	ns, dir, _ := startOne(t)
	oc := &object.Client{Dir: dir, Rawx: &rawx.Client{HTTP: &http.Client{Transport: deletesFail{}}}}
	n := object.Name{Account: "acct", Container: "ctr", Path: "obj"}
	_, err := oc.Put(context.Background(), n, strings.NewReader("data"), object.PutOptions{Size: 4,
		SizeKnown: true})
	files := 0
	chunk.WalkChunks(ns.Rawx[0].Volume, func(string) error { files++; return nil })
	var left *object.LeftChunks
	if !errors.As(err, &left) || left.N != files || files == 0 ||
		!strings.Contains(err.Error(), "could not be deleted") || strings.Contains(err.Error(), "\n") {
		t.Errorf("put: %q, with %d chunk files left; want it to say they are left, on one line", err, files)
	}
}

// deletingReader yields first, has its container deleted, then yields
// second: a put read from a pipe while an operator deletes the container.
type deletingReader struct {
	first, second string
	delete        func() error
	step          int
}

func (r *deletingReader) Read(p []byte) (int, error) {
	r.step++
	switch r.step {
	case 1:
		return copy(p, r.first), nil
	case 2:
		if err := r.delete(); err != nil {
			return 0, err
		}
		return copy(p, r.second), nil
	}
	return 0, io.EOF
}

// TestPutIntoDeletedContainerFails: a container deleted while a put writes
// its chunks is not brought back by the commit (without the properties and
// policies it had); the put fails and leaves no chunk.
func TestPutIntoDeletedContainerFails(t *testing.T) {
	ctx := context.Background()
	ns, dir, oc := startOne(t)
	if _, err := dir.ContainerCreate(ctx, "acct", "ctr", map[string]string{"keep": "me"}, nil); err != nil {
		t.Fatal(err)
	}
	in := &deletingReader{first: "part1", second: "part2",
		delete: func() error { return dir.ContainerDestroy(ctx, "acct", "ctr") }}
	n := object.Name{Account: "acct", Container: "ctr", Path: "obj"}
	_, err := oc.Put(ctx, n, in, object.PutOptions{})
	if err == nil || !strings.Contains(err.Error(), "container acct/ctr was deleted") {
		t.Errorf("put into a container deleted meanwhile: %v, want a failure saying so", err)
	}
	if c, err := dir.ContainerShow(ctx, "acct", "ctr"); !meta.Missing(err) {
		t.Errorf("the container is back: %+v, %v", c, err)
	}
	files := 0
	chunk.WalkChunks(ns.Rawx[0].Volume, func(string) error { files++; return nil })
	if files != 0 {
		t.Errorf("%d chunk files left", files)
	}
}
