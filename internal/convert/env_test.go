package convert_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/convert"
	"github.com/gridkeep/gridkeep/internal/convert/converttest"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/namespace"
	"github.com/gridkeep/gridkeep/internal/object"
	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

// testChunkSize is the metachunk size of test namespaces: small, so that
// small objects have several chunks.
const testChunkSize = 4096

// env is a running namespace with one chunk server, whose volume the tests
// convert.
type env struct {
	t     testing.TB
	ctx   context.Context
	ns    *namespace.Namespace
	dir   *meta.Client
	oc    *object.Client
	rdir  *rdir.Client
	vol   string
	volID string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	ns, err := namespace.Start(ctx, namespace.Options{Data: t.TempDir(), PortBase: -1, Rawx: 1,
		ChunkSize: testChunkSize})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	// Keep enough idle connections for concurrent puts (the default
	// transport keeps two per host).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	hc := &http.Client{Transport: tr, Timeout: time.Minute}
	dir, err := meta.NewClient(ns.ProxyURL, meta.ClientOptions{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rdir.NewClient(ns.RdirURL, rdir.ClientOptions{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: ctx, ns: ns, dir: dir, rdir: rc,
		oc:  &object.Client{Dir: dir, Rawx: &rawx.Client{HTTP: hc}},
		vol: ns.Rawx[0].Volume, volID: ns.Rawx[0].ServiceID}
}

// obj is an object written for a test, with its chunk files.
type obj struct {
	*meta.Object
	name  object.Name
	owner converttest.Owner
	paths []string // chunk files, in position order
	ids   []string
}

// put writes an object of size bytes and waits until the reverse index
// knows its chunks.
func (e *env) put(container, path string, size int) *obj {
	e.t.Helper()
	o := e.putNoWait(container, path, size)
	e.waitIndexed(o.ids...)
	return o
}

func (e *env) putNoWait(container, path string, size int) *obj {
	e.t.Helper()
	return e.putNamed(object.Name{Account: "acct", Container: container, Path: path}, size)
}

// putNamed writes an object of size bytes under any name, without waiting
// for the reverse index.
func (e *env) putNamed(n object.Name, size int) *obj {
	e.t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	if _, err := e.oc.Put(e.ctx, n, bytes.NewReader(data), object.PutOptions{Size: int64(size),
		SizeKnown: true, Policy: "SINGLE"}); err != nil {
		e.t.Fatal(err)
	}
	loc, err := e.dir.Locate(e.ctx, n.Account, n.Container, n.Path, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.objOf(n, loc)
}

func (e *env) objOf(n object.Name, loc *meta.Object) *obj {
	o := &obj{Object: loc, name: n, owner: converttest.Owner{Account: n.Account,
		Container: n.Container, Path: n.Path, Version: loc.Version, ContentID: loc.ContentID}}
	for _, c := range loc.Chunks {
		o.ids = append(o.ids, c.ID())
		o.paths = append(o.paths, converttest.ChunkPath(e.vol, c.ID()))
	}
	return o
}

// link makes object path in container a shallow copy of src: its chunks
// are hard links of src's, made by the chunk server, and indexed.
func (e *env) link(src *obj, container, path string) *obj {
	e.t.Helper()
	o := e.linkNoWait(src, container, path)
	e.waitIndexed(o.ids...)
	return o
}

func (e *env) linkNoWait(src *obj, container, path string) *obj {
	e.t.Helper()
	n := object.Name{Account: "acct", Container: container, Path: path}
	version := time.Now().UnixMicro()
	cid := chunk.ContainerID(n.Account, n.Container)
	dst := &meta.Object{Name: path, Version: version, ContentID: meta.NewContentID(),
		Policy: src.Policy, ChunkMethod: src.ChunkMethod, Size: src.Size, Hash: src.Hash}
	fp := chunk.Fullpath{Account: n.Account, Container: n.Container, Path: path, Version: version,
		ContentID: dst.ContentID}
	rc := e.oc.Rawx
	for _, c := range src.Chunks {
		id := meta.ChunkID(cid, path, version, c.Pos, src.Policy)
		base := strings.TrimSuffix(c.RealURL, c.ID())
		if err := rc.Link(e.ctx, c.RealURL, base+id, fp); err != nil {
			e.t.Fatal(err)
		}
		dst.Chunks = append(dst.Chunks, meta.Chunk{URL: "http://" + c.Host() + "/" + id,
			RealURL: base + id, Pos: c.Pos, Size: c.Size, Hash: c.Hash})
	}
	if _, err := e.dir.ContainerCreate(e.ctx, n.Account, n.Container, nil, nil); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.dir.ContentCreate(e.ctx, n.Account, n.Container, dst); err != nil {
		e.t.Fatal(err)
	}
	loc, err := e.dir.Locate(e.ctx, n.Account, n.Container, path, version)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.objOf(n, loc)
}

// waitIndexed waits until the reverse index of the volume lists ids.
func (e *env) waitIndexed(ids ...string) {
	e.t.Helper()
	for {
		have := map[string]bool{}
		for r, err := range rdir.All(e.ctx, e.rdir, e.volID, rdir.ListOptions{Limit: rdir.MaxLimit}) {
			if err != nil {
				break
			}
			have[r.ChunkID] = true
		}
		missing := 0
		for _, id := range ids {
			if !have[id] {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		if e.ctx.Err() != nil {
			e.t.Fatalf("%d chunks never indexed", missing)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// run converts the given chunk files (all of the volume if none) and
// returns the summary and the results by path.
func (e *env) run(opts convert.Options, paths ...string) (convert.Summary, map[string]convert.Result) {
	e.t.Helper()
	s, res, err := e.tryRun(opts, paths...)
	if err != nil {
		e.t.Fatal(err)
	}
	return s, res
}

func (e *env) tryRun(opts convert.Options, paths ...string) (convert.Summary,
	map[string]convert.Result, error) {
	e.t.Helper()
	opts.Volume = e.vol
	if opts.Dir == nil {
		opts.Dir = e.dir
	}
	if opts.Rdir == nil {
		opts.Rdir = e.rdir
	}
	if opts.BackupDir == "" && !opts.NoBackup {
		opts.BackupDir = e.t.TempDir()
	}
	if len(paths) > 0 {
		opts.Input = func(yield func(string, error) bool) {
			for _, p := range paths {
				if !yield(p, nil) {
					return
				}
			}
		}
	}
	var mu sync.Mutex
	res := map[string]convert.Result{}
	opts.OnResult = func(r convert.Result) {
		mu.Lock()
		res[r.Path] = r
		mu.Unlock()
	}
	c, err := convert.New(opts)
	if err != nil {
		e.t.Fatal(err)
	}
	s, err := c.Run(e.ctx)
	return s, res, err
}

// wantOwners checks that the chunk file at path is in the current format
// and that each id has the fullpath of its owner.
func wantOwners(t testing.TB, path string, owners map[string]converttest.Owner) {
	t.Helper()
	m, err := chunk.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if f := chunk.FormatOf(m); f != chunk.FormatCurrent {
		t.Errorf("%s: format %s, want current", filepath.Base(path), f)
	}
	attrs, _ := chunk.ReadAttrs(path)
	for _, a := range attrs {
		if strings.HasPrefix(a.Name, chunk.AttrOldFullpathPfx) ||
			a.Name == chunk.AttrOioVersion && a.Value != "4.2" {
			t.Errorf("%s: %s=%q left", filepath.Base(path), a.Name, a.Value)
		}
	}
	got := map[string]chunk.Fullpath{}
	if m.FullpathRaw != "" {
		got[m.ChunkID] = m.Fullpath
	}
	for id, raw := range m.Links {
		fp, err := chunk.ParseFullpath(raw)
		if err != nil {
			t.Errorf("%s: link %s: %v", path, id, err)
		}
		got[id] = fp
	}
	for id, o := range owners {
		if got[id] != o.Fullpath() {
			t.Errorf("%s: fullpath of %s is %+v, want %+v", filepath.Base(path), id, got[id], o.Fullpath())
		}
	}
}

// wantObjectConverted checks that a run converted every chunk of o, each
// with the fullpath of o, and nothing else.
func wantObjectConverted(t testing.TB, o *obj, s convert.Summary, res map[string]convert.Result) {
	t.Helper()
	for i, p := range o.paths {
		wantOutcome(t, res, p, convert.Converted)
		wantOwners(t, p, map[string]converttest.Owner{o.ids[i]: o.owner})
	}
	if s.Converted != int64(len(o.paths)) || s.Errors() != 0 {
		t.Errorf("summary %+v, want %d converted and no error", s, len(o.paths))
	}
}

// wantOutcome checks the outcome of a chunk.
func wantOutcome(t testing.TB, res map[string]convert.Result, path string, want convert.Outcome) {
	t.Helper()
	r, ok := res[path]
	if !ok {
		t.Fatalf("no result for %s", path)
	}
	if r.Outcome != want {
		t.Fatalf("%s: outcome %s (%v), want %s", filepath.Base(path), r.Outcome, r.Err, want)
	}
}

// mustStat snapshots one file.
func mustStat(t testing.TB, path string) converttest.File {
	t.Helper()
	f, err := converttest.Stat(path, true)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var errNotGone = errors.New("still there")

// waitGone waits until path no longer exists.
func (e *env) waitGone(path string) {
	e.t.Helper()
	for {
		_, err := os.Lstat(path)
		if errors.Is(err, os.ErrNotExist) {
			return
		}
		if e.ctx.Err() != nil {
			e.t.Fatal(fmt.Errorf("%s: %w", path, errNotGone))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
