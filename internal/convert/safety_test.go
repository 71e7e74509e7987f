package convert_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/cli"
	"github.com/gridkeep/gridkeep/internal/convert"
	"github.com/gridkeep/gridkeep/internal/convert/converttest"
	"github.com/gridkeep/gridkeep/internal/meta"
)

// TestInputThroughSymlinkedDirectory: a listed path that a symbolic link
// inside the volume leads out of it is refused, and the file there is left
// as it was; a volume named through a link works, and so do paths that
// name it through the link.
func TestInputThroughSymlinkedDirectory(t *testing.T) {
	e := newEnv(t)
	o := e.put("symlinks", "obj", 2*testChunkSize)
	for i, p := range o.paths {
		must(t, converttest.ToEra(p, o.ids[i], converttest.EraGrid, o.owner))
	}
	outside := t.TempDir()
	stray := filepath.Join(outside, o.ids[0])
	attrs, err := chunk.ReadAttrs(o.paths[0])
	must(t, err)
	must(t, os.WriteFile(stray, nil, 0o644))
	must(t, chunk.SetAttrs(stray, attrs))
	must(t, os.Symlink(outside, filepath.Join(e.vol, "escape")))

	_, res := e.run(convert.Options{}, filepath.Join("escape", o.ids[0]))
	wantOutcome(t, res, filepath.Join(e.vol, "escape", o.ids[0]), convert.Failed)
	after, err := chunk.ReadAttrs(stray)
	must(t, err)
	if diff := cmp.Diff(attrs, after); diff != "" {
		t.Errorf("the file outside the volume changed (-before +after):\n%s", diff)
	}

	link := filepath.Join(t.TempDir(), "vol-link")
	must(t, os.Symlink(e.vol, link))
	rel, _ := filepath.Rel(e.vol, o.paths[1])
	c, err := convert.New(convert.Options{Volume: link, Dir: e.dir, NoBackup: true,
		Input: func(yield func(string, error) bool) { yield(filepath.Join(link, rel), nil) }})
	must(t, err)
	s, err := c.Run(e.ctx)
	if err != nil || s.Converted != 1 {
		t.Errorf("volume named through a link: %+v, %v", s, err)
	}
	wantOwners(t, o.paths[1], map[string]converttest.Owner{o.ids[1]: o.owner})

	// A backup directory inside the volume, named through a link, is
	// refused too.
	if _, err := convert.New(convert.Options{Volume: e.vol, Dir: e.dir,
		BackupDir: filepath.Join(link, "backups")}); err == nil {
		t.Error("backup directory inside the volume accepted through a link")
	}
}

// TestWalkReportsSymlinks: a symbolic link standing for a chunk in the
// volume is reported as failed, not followed and not passed over: what it
// leads to is left as it was.
func TestWalkReportsSymlinks(t *testing.T) {
	e := newEnv(t)
	o := e.put("symlinks", "walked", 2*testChunkSize)
	for i, p := range o.paths {
		must(t, converttest.ToEra(p, o.ids[i], converttest.EraGrid, o.owner))
	}
	moved := filepath.Join(t.TempDir(), o.ids[0])
	must(t, os.Rename(o.paths[0], moved))
	must(t, os.Symlink(moved, o.paths[0]))
	before := mustStat(t, moved)

	s, res := e.run(convert.Options{})
	wantOutcome(t, res, o.paths[0], convert.Failed)
	if !errors.Is(res[o.paths[0]].Err, chunk.ErrSymlink) {
		t.Errorf("the link's error does not say it is one: %v", res[o.paths[0]].Err)
	}
	wantOutcome(t, res, o.paths[1], convert.Converted)
	if s.Failed == 0 {
		t.Errorf("summary %+v counts no failure", s)
	}
	if diff := cmp.Diff(before, mustStat(t, moved)); diff != "" {
		t.Errorf("the file behind the link changed (-before +after):\n%s", diff)
	}

	// Listed by name, the link is refused the same way.
	s, res = e.run(convert.Options{}, o.paths[0])
	wantOutcome(t, res, o.paths[0], convert.Failed)
	if !errors.Is(res[o.paths[0]].Err, chunk.ErrSymlink) || s.Failed != 1 {
		t.Errorf("listed link: %v, summary %+v", res[o.paths[0]].Err, s)
	}
	if diff := cmp.Diff(before, mustStat(t, moved)); diff != "" {
		t.Errorf("the file behind the listed link changed (-before +after):\n%s", diff)
	}
}

// TestDirectoryFailureIsNotOrphan: when the directory cannot answer (it
// fails, or something else answers in its place with a bare 404), a chunk
// whose owner only the reverse index knows is failed, not an orphan, and
// is left as it was.
func TestDirectoryFailureIsNotOrphan(t *testing.T) {
	e := newEnv(t)
	o := e.put("dirfail", "obj", testChunkSize)
	e.waitIndexed(o.ids...)
	must(t, chunk.RemoveAttr(o.paths[0], chunk.AttrFullpathPrefix+o.ids[0]))
	before := mustStat(t, o.paths[0])
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusNotFound} {
		down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "not the directory", status)
		}))
		defer down.Close()
		dir, err := meta.NewClient(down.URL, meta.ClientOptions{})
		must(t, err)
		s, res := e.run(convert.Options{Dir: dir, NoBackup: true}, o.paths[0])
		wantOutcome(t, res, o.paths[0], convert.Failed)
		if s.Orphans != 0 {
			t.Errorf("%d: summary %+v: orphans reported while the directory was away", status, s)
		}
		if diff := cmp.Diff(before, mustStat(t, o.paths[0])); diff != "" {
			t.Errorf("%d: chunk changed (-before +after):\n%s", status, diff)
		}
	}
}

// TestDirectoryDownStopsTheRun: a run whose directory fails every request
// stops early with an error (exit 1: run again), instead of failing every
// remaining chunk of the volume one by one; nothing is changed.
func TestDirectoryDownStopsTheRun(t *testing.T) {
	e := newEnv(t)
	const n = 200
	o := e.put("dirdown", "obj", n*testChunkSize)
	for i, p := range o.paths {
		must(t, converttest.Apply(p, converttest.ForEra(converttest.EraGrid, o.ids[i], o.owner), o.ids[i]))
	}
	before, err := converttest.Snapshot(e.vol, true)
	must(t, err)
	// Down for everything, or for all but the container's names, which a
	// run memoizes before its directory goes down.
	real, err := url.Parse(e.ns.ProxyURL)
	must(t, err)
	for _, namesAnswered := range []bool{false, true} {
		proxy := httputil.NewSingleHostReverseProxy(real)
		down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if namesAnswered && strings.HasSuffix(r.URL.Path, "/reference/show") {
				proxy.ServeHTTP(w, r)
				return
			}
			http.Error(w, "down", http.StatusServiceUnavailable)
		}))
		dir, err := meta.NewClient(down.URL, meta.ClientOptions{})
		must(t, err)
		s, _, err := e.tryRun(convert.Options{Dir: dir}, o.paths...)
		down.Close()
		if err == nil || !strings.Contains(err.Error(), "the directory failed too many questions in a row") {
			t.Fatalf("names answered %v: run error %v, want the directory failing", namesAnswered, err)
		}
		if s.Chunks >= n || s.Converted != 0 {
			t.Errorf("names answered %v: summary %+v: the run went on", namesAnswered, s)
		}
		after, err := converttest.Snapshot(e.vol, true)
		must(t, err)
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("names answered %v: the volume changed:\n%s", namesAnswered, diff)
		}
	}
}

// TestOneRunAtATime: a second run on a volume being converted is refused
// before it writes anything, makes its backup directory or says it is
// converting; a dry run is not refused.
func TestOneRunAtATime(t *testing.T) {
	e := newEnv(t)
	o := e.put("busy", "obj", 4*testChunkSize)
	for i, p := range o.paths {
		must(t, converttest.Apply(p, converttest.ForEra(converttest.EraGrid, o.ids[i], o.owner), o.ids[i]))
	}
	slow, err := convert.New(convert.Options{Volume: e.vol, Dir: e.dir, NoBackup: true, ChunksPerSecond: 1})
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, err := slow.Run(ctx); done <- err }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for ; slow.Progress().Done == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first run did not start")
		}
	}
	backups := filepath.Join(t.TempDir(), "backups")
	s, _, err := e.tryRun(convert.Options{BackupDir: backups})
	if _, serr := os.Stat(backups); !errors.Is(err, convert.ErrBusy) || s.Chunks != 0 ||
		!errors.Is(serr, os.ErrNotExist) {
		t.Errorf("second run: %v, %+v; its backup directory: %v", err, s, serr)
	}
	code, _, stderr := cliRun(t, "convert", "--volume", e.vol, "--proxy", e.ns.ProxyURL,
		"--backup-dir", backups)
	if _, serr := os.Stat(backups); code != cli.ExitUsage || strings.Contains(stderr, "msg=converting") ||
		!errors.Is(serr, os.ErrNotExist) {
		t.Errorf("second run of the command: exit %d, want %d; its backup directory: %v; log:\n%s",
			code, cli.ExitUsage, serr, stderr)
	}
	if _, _, err := e.tryRun(convert.Options{DryRun: true}); err != nil {
		t.Errorf("dry run: %v", err)
	}
}

// TestInterruptedChunksNotReported: a chunk whose planning the end of the
// run cuts off (here, waiting for the directory) is not reported as a
// failure: it was not visited, and the next run visits it.
func TestInterruptedChunksNotReported(t *testing.T) {
	e := newEnv(t)
	o := e.put("cut", "obj", testChunkSize)
	must(t, converttest.ToEra(o.paths[0], o.ids[0], converttest.EraGrid, o.owner))
	asked := make(chan struct{}, 1)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case asked <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	}))
	defer hang.Close()
	dir, err := meta.NewClient(hang.URL, meta.ClientOptions{})
	must(t, err)
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	var results []convert.Result
	c, err := convert.New(convert.Options{Volume: e.vol, Dir: dir, NoBackup: true,
		OnResult: func(r convert.Result) { results = append(results, r) }})
	must(t, err)
	done := make(chan error, 1)
	go func() { _, err := c.Run(ctx); done <- err }()
	<-asked
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("run error %v, want canceled", err)
	}
	if p := c.Progress(); p.Done != 0 || p.Errors != 0 || len(results) != 0 {
		t.Errorf("progress %+v, results %+v: the cut chunk was reported", p, results)
	}
}

// TestSlowRunCommitsAsItGoes: a run paced at a few chunks per second
// commits what it converted every few seconds, not once a whole batch is
// planned (minutes at that pace, lost to a kill).
func TestSlowRunCommitsAsItGoes(t *testing.T) {
	e := newEnv(t)
	o := e.put("slow", "obj", 100*testChunkSize) // 50 s at 2 chunks/s
	for i, p := range o.paths {
		must(t, converttest.ToEra(p, o.ids[i], converttest.EraGrid, o.owner))
	}
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	converted := make(chan string, len(o.paths))
	c, err := convert.New(convert.Options{Volume: e.vol, Dir: e.dir, NoBackup: true, ChunksPerSecond: 2,
		OnResult: func(r convert.Result) {
			if r.Outcome == convert.Converted {
				converted <- r.Path
			}
		}})
	must(t, err)
	done := make(chan error, 1)
	go func() { _, err := c.Run(ctx); done <- err }()
	select {
	case p := <-converted:
		wantOwners(t, p, nil) // current format on disk already
	case err := <-done:
		t.Fatalf("run ended first: %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("nothing committed after 15 s at 2 chunks/s")
	}
	cancel()
	<-done
}
