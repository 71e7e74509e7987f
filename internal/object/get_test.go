package object_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/namespace"
	"github.com/gridkeep/gridkeep/internal/object"
	"github.com/gridkeep/gridkeep/internal/rawx"
)

// startOne starts a namespace of one chunk server and returns it, with
// clients of its directory and of its objects.
func startOne(t *testing.T) (*namespace.Namespace, *meta.Client, *object.Client) {
	t.Helper()
	return startOneWith(t, 0)
}

// startOneWith is startOne with a chunk size (0: the default).
func startOneWith(t *testing.T, chunkSize int64) (*namespace.Namespace, *meta.Client, *object.Client) {
	t.Helper()
	ns, err := namespace.Start(context.Background(), namespace.Options{Data: t.TempDir(), PortBase: -1,
		Rawx: 1, ChunkSize: chunkSize})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	dir, err := meta.NewClient(ns.ProxyURL, meta.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ns, dir, &object.Client{Dir: dir, Rawx: &rawx.Client{}}
}

// TestGetDamagedChunkShowsHashesAlike: the hash a damaged copy's data
// gives is written in uppercase, as the hash the directory holds.
func TestGetDamagedChunkShowsHashesAlike(t *testing.T) {
	ctx := context.Background()
	ns, _, oc := startOne(t)
	n := object.Name{Account: "acct", Container: "ctr", Path: "obj"}
	o, err := oc.Put(ctx, n, strings.NewReader("some data"), object.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := o.Chunks[0].URL[strings.LastIndexByte(o.Chunks[0].URL, '/')+1:]
	path := filepath.Join(ns.Rawx[0].Volume, chunk.DefaultLayout.Path(id))
	if err := os.WriteFile(path, []byte("Some data"), 0o644); err != nil {
		t.Fatal(err)
	}

	_, err = oc.Get(ctx, n, 0, io.Discard)
	if !errors.Is(err, object.ErrIncomplete) {
		t.Fatalf("get of a damaged object: %v, want ErrIncomplete", err)
	}
	m := regexp.MustCompile(`data hashes to (\w+), (\w+) expected`).FindStringSubmatch(err.Error())
	if m == nil || m[1] != strings.ToUpper(m[1]) || m[2] != strings.ToUpper(o.Chunks[0].Hash) {
		t.Errorf("get of a damaged object: %v; want the computed and the stored hash, uppercase", err)
	}
}

// deletingWriter deletes the object being read, with its chunk files (as
// the event agent does a moment later), once its first bytes are written.
type deletingWriter struct {
	bytes.Buffer
	del func()
}

func (w *deletingWriter) Write(p []byte) (int, error) {
	if w.del != nil {
		w.del()
		w.del = nil
	}
	return w.Buffer.Write(p)
}

// TestGetOfObjectDeletedMeanwhile: an object deleted while it is read is
// told as such, not as lost copies to rebuild.
func TestGetOfObjectDeletedMeanwhile(t *testing.T) {
	ctx := context.Background()
	ns, dir, oc := startOneWith(t, 64<<10)
	n := object.Name{Account: "acct", Container: "ctr", Path: "obj"}
	data := bytes.Repeat([]byte("deleted "), 3*64<<10/8) // three metachunks
	if _, err := oc.Put(ctx, n, bytes.NewReader(data), object.PutOptions{Size: int64(len(data)),
		SizeKnown: true}); err != nil {
		t.Fatal(err)
	}
	w := &deletingWriter{del: func() {
		if _, err := dir.ContentDelete(ctx, n.Account, n.Container, n.Path, 0); err != nil {
			t.Error(err)
		}
		chunk.WalkChunks(ns.Rawx[0].Volume, os.Remove)
	}}
	_, err := oc.Get(ctx, n, 0, w)
	if !errors.Is(err, object.ErrGone) || errors.Is(err, object.ErrIncomplete) {
		t.Errorf("get of an object deleted meanwhile: %v, want it said so", err)
	}
}
