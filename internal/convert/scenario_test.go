package convert_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/cli"
	"github.com/gridkeep/gridkeep/internal/convert"
	"github.com/gridkeep/gridkeep/internal/convert/converttest"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/object"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

// cliEnv makes the test binary run the gridkeep command line instead of
// the tests, so that a test can run convert as a process and kill it.
const cliEnv = "GRIDKEEP_CONVERT_TEST_CLI"

// Environment of the acceptance scenario: its size (default 4,000 chunks,
// for CI) and how many of them are written through the chunk server
// (default 1,000: each takes milliseconds on a busy disk; the others are
// written in the same format straight to the volume, and registered in the
// directory and the reverse index). scripts/convert-scenario.sh runs it at
// full size, every chunk through the chunk server.
const (
	scenarioChunksEnv = "GRIDKEEP_CONVERT_SCENARIO_CHUNKS"
	scenarioPutEnv    = "GRIDKEEP_CONVERT_SCENARIO_PUT_CHUNKS"
)

func TestMain(m *testing.M) {
	// Every server of the tests is on loopback and named by its address: a
	// name that is not, were a test or the command line to dial one, fails
	// here instead of being looked up.
	net.DefaultResolver = &net.Resolver{PreferGo: true,
		Dial: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("the tests look no name up")
		}}
	if os.Getenv(cliEnv) != "" {
		os.Exit(cli.Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// expectation is what a chunk file must look like after conversion: the
// owner of every id of its inode, or nil for an orphan left untouched.
type expectation map[string]converttest.Owner

// scenario is a volume filled through a namespace, then turned into a mix
// of every legacy era, links, orphans and chunks that lost their fullpath.
type scenario struct {
	*env
	want  map[string]expectation // by chunk path
	kinds map[string]int         // how many chunks of each kind
}

// minScenarioChunks is the smallest volume the scenario builds: enough
// chunks for every legacy era, links, orphans and lost fullpaths.
const minScenarioChunks = 100

// TestScenario is the acceptance test of the converter: a volume of
// legacy chunks of every kind, a dry run that changes nothing, a run killed
// at a random moment, a run that finishes, and the backups restoring the
// original attributes exactly.
func TestScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a volume of thousands of chunks")
	}
	size := 4000
	if s := os.Getenv(scenarioChunksEnv); s != "" {
		var err error
		if size, err = strconv.Atoi(s); err != nil || size < minScenarioChunks {
			t.Fatalf("%s=%q: want a number of chunks, at least %d", scenarioChunksEnv, s, minScenarioChunks)
		}
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("%d chunks, seed %d", size, seed)
	rng := mrand.New(mrand.NewPCG(seed, 1))
	sc := &scenario{env: newEnv(t), want: map[string]expectation{}, kinds: map[string]int{}}
	start := time.Now()
	sc.build(t, size, rng)
	t.Logf("volume built in %s: %v", time.Since(start).Round(time.Millisecond), sc.kinds)

	before, err := converttest.Snapshot(sc.vol, true)
	must(t, err)
	backups := t.TempDir()
	args := []string{"convert", "--volume", sc.vol, "--proxy", sc.ns.ProxyURL, "--backup-dir", backups,
		"--json", "--report-interval", "0"}

	// A dry run changes nothing and writes no backup.
	code, out := sc.cli(t, append(args, "--dry-run", "--chunks-per-second", "0")...)
	sc.checkSummary(t, code, out, true)
	after, err := converttest.Snapshot(sc.vol, true)
	must(t, err)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Fatalf("the dry run changed the volume:\n%.2000s", diff)
	}
	if n := countFiles(t, backups); n != 0 {
		t.Fatalf("the dry run wrote %d backups", n)
	}

	t.Logf("dry run checked at %s", time.Since(start).Round(time.Millisecond))

	// A run killed at a random moment, then a run to the end.
	sc.killedRun(t, args, backups, size, rng)
	code, out = sc.cli(t, append(args, "--chunks-per-second", "0")...)
	sc.checkSummary(t, code, out, false)
	t.Logf("converted at %s", time.Since(start).Round(time.Millisecond))
	sc.check(t, before)
	sc.integrity(t)
	t.Logf("checked at %s", time.Since(start).Round(time.Millisecond))

	// A third run finds nothing to do.
	code, out = sc.cli(t, append(args, "--chunks-per-second", "0")...)
	if s := lastSummary(t, out); s.Converted != 0 || code != cli.ExitUnconverted {
		t.Errorf("third run: exit %d, %+v", code, s)
	}

	sc.restore(t, backups)
	after, err = converttest.Snapshot(sc.vol, true)
	must(t, err)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("restoring the backups did not give the original volume back:\n%.4000s", diff)
	}
	t.Logf("restored at %s", time.Since(start).Round(time.Millisecond))
}

// build fills the volume with about size chunks and rewrites them.
func (sc *scenario) build(t *testing.T, size int, rng *mrand.Rand) {
	const perObject = 10
	put := min(size, 1000)
	if s := os.Getenv(scenarioPutEnv); s != "" {
		put, _ = strconv.Atoi(s)
		put = min(put, size)
	}
	t0 := time.Now()
	objs := sc.putMany(t, "scenario", put/perObject, perObject)
	t.Logf("put %d objects in %s", len(objs), time.Since(t0))
	objs = append(objs, sc.writeMany(t, "scenario", len(objs), (size-put)/perObject, perObject,
		objs[0].paths[0])...)
	t.Logf("wrote %d objects in %s", len(objs), time.Since(t0))
	var links []*obj
	var ids []string
	for i := range max(len(objs)/50, 1) { // every container checkDirectory lists
		links = append(links, sc.linkNoWait(objs[i], "scenario-links", objs[i].name.Path+".link"))
		ids = append(ids, links[i].ids...)
	}
	_, err := sc.dir.ContainerCreate(sc.ctx, "acct", "scenario-versions", map[string]string{},
		map[string]string{meta.SysPolicyVersion: "3"})
	must(t, err)
	var versions []*obj
	for i := 0; i < 10; i++ {
		for v := 0; v < 2; v++ {
			o := sc.putNoWait("scenario-versions", "obj"+strconv.Itoa(i), 2*testChunkSize)
			versions = append(versions, o)
			ids = append(ids, o.ids...)
		}
	}
	sc.waitIndexed(ids...)
	t.Logf("links and versions made in %s", time.Since(t0))
	for _, o := range objs[len(links):] {
		sc.legacy(t, o, true, rng)
	}
	for i, o := range versions {
		sc.legacy(t, o, i%2 == 1, rng)
	}
	for i, l := range links {
		sc.legacyLink(t, objs[i], l, i)
	}
	sc.orphans(t, size/100+3)
}

// putMany writes n objects of per chunks each, concurrently.
func (sc *scenario) putMany(t *testing.T, container string, n, per int) []*obj {
	objs := make([]*obj, n)
	var wg sync.WaitGroup
	var next sync.Mutex
	i := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				j := i
				i++
				next.Unlock()
				if j >= n || t.Failed() {
					return
				}
				name := fmt.Sprintf("dir %d/obj%06d", j%7, j)
				objs[j] = sc.putQuiet(t, container, name, per*testChunkSize)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	var ids []string
	for _, o := range objs {
		ids = append(ids, o.ids...)
	}
	sc.waitIndexed(ids...)
	return objs
}

// writeMany writes n objects of per chunks each straight to the volume,
// numbered from first, in the format of the chunk server's chunk at like,
// and registers them in the directory and the reverse index.
func (sc *scenario) writeMany(t *testing.T, container string, first, n, per int,
	like string) []*obj {
	tmpl, err := chunk.ReadFile(like)
	must(t, err)
	cid := chunk.ContainerID("acct", container)
	var objs []*obj
	var recs []rdir.Record
	for i := first; i < first+n; i++ {
		name := object.Name{Account: "acct", Container: container, Path: fmt.Sprintf("dir %d/obj%06d", i%7, i)}
		o := &meta.Object{Name: name.Path, Version: time.Now().UnixMicro(), ContentID: meta.NewContentID(),
			Policy: tmpl.StoragePolicy, ChunkMethod: tmpl.ChunkMethod}
		fp := chunk.Fullpath{Account: "acct", Container: container, Path: name.Path, Version: o.Version,
			ContentID: o.ContentID}
		whole := md5.New()
		for pos := range per {
			m := *tmpl
			m.ChunkID = meta.ChunkID(cid, name.Path, o.Version, strconv.Itoa(pos), o.Policy)
			m.Fullpath, m.FullpathRaw, m.Position = fp, fp.String(), strconv.Itoa(pos)
			data := make([]byte, testChunkSize)
			rand.Read(data)
			whole.Write(data)
			h := chunk.NewHash(chunk.AlgoForHash(tmpl.Hash))
			h.Write(data)
			m.Hash = strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
			_, err := converttest.WriteChunk(sc.vol, m.ChunkID, data, m.Attrs())
			must(t, err)
			o.Chunks = append(o.Chunks, meta.Chunk{URL: "http://" + sc.volID + "/" + m.ChunkID,
				RealURL: "http://" + sc.ns.Rawx[0].Addr + "/" + m.ChunkID, Pos: m.Position,
				Size: testChunkSize, Hash: m.Hash})
			recs = append(recs, rdir.Record{ContainerID: cid, ChunkID: m.ChunkID, ContentID: o.ContentID,
				Path: name.Path, Version: o.Version, Mtime: time.Now().Unix()})
		}
		o.Size, o.Hash = int64(per*testChunkSize), strings.ToUpper(hex.EncodeToString(whole.Sum(nil)))
		_, err := sc.dir.ContainerCreate(sc.ctx, "acct", container, nil, nil)
		must(t, err)
		_, err = sc.dir.ContentCreate(sc.ctx, "acct", container, o)
		must(t, err)
		loc, err := sc.dir.Locate(sc.ctx, "acct", container, name.Path, o.Version)
		must(t, err)
		objs = append(objs, sc.objOf(name, loc))
	}
	must(t, sc.rdir.Push(sc.ctx, sc.volID, recs))
	return objs
}

// putQuiet is put for other goroutines than the test's: it reports with
// Error, not Fatal.
func (sc *scenario) putQuiet(t *testing.T, container, path string, size int) *obj {
	n := object.Name{Account: "acct", Container: container, Path: path}
	data := make([]byte, size)
	rand.Read(data)
	_, err := sc.oc.Put(sc.ctx, n, bytes.NewReader(data), object.PutOptions{Size: int64(size),
		SizeKnown: true, Policy: "SINGLE"})
	if err == nil {
		var loc *meta.Object
		if loc, err = sc.dir.Locate(sc.ctx, n.Account, n.Container, n.Path, 0); err == nil {
			return sc.objOf(n, loc)
		}
	}
	t.Error(err)
	return nil
}

// legacy rewrites the chunks of o, one kind per chunk. latest says o is
// the latest version of its object.
func (sc *scenario) legacy(t *testing.T, o *obj, latest bool, rng *mrand.Rand) {
	for i, p := range o.paths {
		id := o.ids[i]
		sc.want[p] = expectation{id: o.owner}
		kind := rng.IntN(11)
		var l converttest.Legacy
		drop := []string{id}
		switch kind {
		case 0:
			sc.kinds["current"]++
			continue
		case 1, 2, 3, 4:
			era := converttest.Eras[kind-1]
			sc.kinds[era.String()]++
			l = converttest.ForEra(era, id, o.owner)
		case 5:
			sc.kinds["mixed"]++
			l, drop = converttest.ForEra(converttest.EraHashed, id, o.owner), nil
		case 6:
			sc.kinds["wrong path"]++
			w := o.owner
			w.Path += ".wrong"
			l = converttest.ForEra(converttest.EraGrid, id, w)
		case 7:
			sc.kinds["wrong content id"]++
			w := o.owner
			w.ContentID = "0123456789ABCDEF0123456789ABCDEF"
			l = converttest.ForEra(converttest.EraHashed, id, w)
		case 8:
			sc.kinds["old fullpath naming the latest"]++
			l = converttest.ForEra(converttest.EraGrid, id, o.owner)
			none := o.owner.Old()
			none.Version = "None"
			if latest {
				l.Entries = append(l.Entries, none)
			}
		case 9:
			sc.kinds["missing content path"]++
			l = converttest.ForEra(converttest.EraHashed, id, o.owner)
			l.Omit = []string{chunk.AttrLegacyPath}
		case 10:
			sc.kinds["lost fullpath"]++
		}
		must(t, converttest.Apply(p, l, drop...))
	}
}

// legacyLink rewrites a linked pair of chunks as legacy servers left them.
func (sc *scenario) legacyLink(t *testing.T, o, l *obj, k int) {
	for i, p := range o.paths {
		owners := expectation{o.ids[i]: o.owner, l.ids[i]: l.owner}
		sc.want[p], sc.want[l.paths[i]] = owners, owners
		var leg converttest.Legacy
		switch k % 3 {
		case 0:
			sc.kinds["link, current"]++
			continue
		case 1:
			sc.kinds["link, hashed entries"]++
			leg = converttest.ForEra(converttest.EraHashed, o.ids[i], o.owner)
			leg.Entries = append(leg.Entries, l.owner.Old())
		case 2:
			sc.kinds["link, grid keys only"]++
			leg = converttest.ForEra(converttest.EraGrid, o.ids[i], o.owner)
		}
		must(t, converttest.Apply(p, leg, o.ids[i], l.ids[i]))
	}
}

// orphans writes n chunk files that belong to no object.
func (sc *scenario) orphans(t *testing.T, n int) {
	src, err := os.ReadFile(firstPath(sc.want))
	must(t, err)
	for i := 0; i < n; i++ {
		id := meta.ChunkID(chunk.ContainerID("acct", "gone"), "orphan"+strconv.Itoa(i), 1, "0", "SINGLE")
		gone := converttest.Owner{Account: "acct", Container: "scenario", Path: "gone" + strconv.Itoa(i),
			Version: int64(1000 + i), ContentID: fmt.Sprintf("%032X", i)}
		var attrs []chunk.Attr
		switch i % 3 {
		case 0:
			sc.kinds["orphan, object gone"]++
			attrs = legacyAttrs(id, gone)
		case 1:
			sc.kinds["orphan, link to another inode"]++
			real := firstPath(sc.want)
			attrs = legacyAttrs(filepath.Base(real), converttest.OwnerOf(mustFullpath(t, real)))
		case 2:
			sc.kinds["orphan, no owner, not indexed"]++
			attrs = legacyAttrs(id, gone)[:4]
		}
		p, err := converttest.WriteChunk(sc.vol, id, src, attrs)
		must(t, err)
		sc.want[p] = nil
	}
}

// firstPath returns the first path, in order, whose expected owner is its
// own fullpath as a current chunk: a chunk left current.
func firstPath(want map[string]expectation) string {
	var paths []string
	for p, w := range want {
		if len(w) == 1 {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		if m, err := chunk.ReadFile(p); err == nil && chunk.FormatOf(m) == chunk.FormatCurrent {
			return p
		}
	}
	return paths[0]
}

func mustFullpath(t *testing.T, path string) chunk.Fullpath {
	m, err := chunk.ReadFile(path)
	must(t, err)
	return m.Fullpath
}

// cli runs the gridkeep command line as a process and returns its exit
// code and standard output.
func (sc *scenario) cli(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), cliEnv+"=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("gridkeep %s: %v", strings.Join(args, " "), err)
	}
	t.Logf("gridkeep %s: exit %d; log: %.300s", args[0], code, lastLines(errOut.String(), 2))
	return code, out.String()
}

// killedRun starts a paced conversion and kills it at a random moment once
// it has begun to commit its first batch.
func (sc *scenario) killedRun(t *testing.T, args []string, backups string, size int, rng *mrand.Rand) {
	cmd := exec.Command(os.Args[0], append(args, "--chunks-per-second", strconv.Itoa(size/4))...)
	cmd.Env = append(os.Environ(), cliEnv+"=1")
	must(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for countFiles(t, backups) == 0 {
		select {
		case <-exited:
			t.Fatal("the run ended before it was killed")
		case <-time.After(10 * time.Millisecond):
		}
	}
	delay := time.Duration(rng.IntN(1500)) * time.Millisecond
	select {
	case <-exited:
		t.Fatalf("the run ended before it was killed, %s after its first backup", delay)
	case <-time.After(delay):
	}
	must(t, cmd.Process.Signal(syscall.SIGKILL))
	<-exited
	counts := map[chunk.Format]int{}
	for p := range sc.want {
		if in := chunk.Inspect(p, false); in.Meta != nil {
			counts[in.Format]++
		}
	}
	t.Logf("killed %s after its first backup: formats on the volume %v", delay, counts)
}

// checkSummary checks the last line of a run's output.
func (sc *scenario) checkSummary(t *testing.T, code int, out string, dryRun bool) {
	t.Helper()
	s := lastSummary(t, out)
	orphans := 0
	for _, w := range sc.want {
		if w == nil {
			orphans++
		}
	}
	if code != cli.ExitUnconverted || s.Orphans != int64(orphans) || s.Failed != 0 ||
		s.Chunks != int64(len(sc.want)) || s.DryRun != dryRun {
		t.Fatalf("exit %d, summary %+v; want exit 3, %d chunks, %d orphans", code, s, len(sc.want),
			orphans)
	}
}

// lastSummary decodes the summary line of a JSON output.
func lastSummary(t *testing.T, out string) convert.Summary {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var s struct {
		Type string `json:"type"`
		convert.Summary
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil || s.Type != "summary" {
		t.Fatalf("no summary at the end of the output: %v: %.500s", err, lines[len(lines)-1])
	}
	return s.Summary
}

// check verifies every chunk against its expectation and the original
// snapshot: converted chunks are current with the right owners, orphans
// are untouched, and no data changed.
func (sc *scenario) check(t *testing.T, before map[string]converttest.File) {
	t.Helper()
	bad := 0
	for p, w := range sc.want {
		got, err := converttest.Stat(p, true)
		must(t, err)
		switch {
		case got.Data != before[p].Data || got.Inode != before[p].Inode:
			t.Errorf("%s: data or inode changed", p)
		case w == nil && !cmp.Equal(got, before[p]):
			t.Errorf("orphan %s changed: %s", p, cmp.Diff(before[p], got))
		case w != nil:
			ft := &countingT{TB: t}
			wantOwners(ft, p, w)
			if in := chunk.Inspect(p, false); len(in.Problems) > 0 {
				t.Errorf("%s: %v", p, in.Problems)
			}
			if ft.failed {
				bad++
			}
		}
		if bad > 20 {
			t.Fatal("too many failures")
		}
	}
	sc.checkDirectory(t)
}

// checkDirectory checks that every chunk the directory lists on the volume
// names, in its fullpath, the object that lists it.
func (sc *scenario) checkDirectory(t *testing.T) {
	t.Helper()
	for _, ctr := range []string{"scenario", "scenario-links", "scenario-versions"} {
		for o, err := range sc.dir.Objects(sc.ctx, "acct", ctr, meta.ListOptions{Versions: true}) {
			must(t, err)
			loc, err := sc.dir.Locate(sc.ctx, "acct", ctr, o.Name, o.Version)
			must(t, err)
			for _, c := range loc.Chunks {
				m, err := chunk.ReadFile(converttest.ChunkPath(sc.vol, c.ID()))
				if err != nil || m.Fullpath.ContentID != loc.ContentID || m.Fullpath.Path != o.Name ||
					m.Fullpath.Version != loc.Version || m.Fullpath.Container != ctr {
					t.Errorf("chunk %s of %s/%s: %+v, %v", c.ID(), ctr, o.Name, m, err)
				}
			}
		}
	}
}

// integrity runs `gridkeep check --all` on the namespace and expects no
// finding but the orphans the scenario planted.
func (sc *scenario) integrity(t *testing.T) {
	t.Helper()
	orphans := map[string]bool{}
	for p, w := range sc.want {
		if w == nil {
			orphans[filepath.Base(p)] = true
		}
	}
	code, out := sc.cli(t, "check", "--all", "--json", "--proxy", sc.ns.ProxyURL,
		"--orphan-min-age", "0")
	found, items := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct {
			Item   string   `json:"item"`
			Status string   `json:"status"`
			Errors []string `json:"errors"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("check output %q: %v", line, err)
		}
		items++
		if r.Status == "OK" {
			continue
		}
		if id := r.Item[strings.LastIndexByte(r.Item, '/')+1:]; orphans[id] {
			found++
			continue
		}
		t.Errorf("gridkeep check: %s: %v", r.Item, r.Errors)
	}
	if found < len(orphans) || code == 0 {
		t.Errorf("gridkeep check exited %d with %d findings on the %d orphans", code, found,
			len(orphans))
	}
	t.Logf("gridkeep check: %d items, %d findings, all on orphans", items, found)
}

// countingT records whether a check failed, and reports through TB.
type countingT struct {
	testing.TB
	failed bool
}

func (c *countingT) Errorf(format string, args ...any) {
	c.failed = true
	c.TB.Errorf(format, args...)
}

// restore applies, for each inode, the oldest backup of any of its names,
// after removing every attribute, with one setfattr --restore.
func (sc *scenario) restore(t *testing.T, root string) {
	t.Helper()
	runs, err := filepath.Glob(filepath.Join(root, "backup_*"))
	must(t, err)
	sort.Strings(runs) // same volume id: oldest start time first
	chosen := map[uint64]string{}
	var dump strings.Builder
	w := bufio.NewWriter(&dump)
	for _, run := range runs {
		batches, err := filepath.Glob(filepath.Join(run, "batch-*.txt"))
		must(t, err)
		sort.Strings(batches)
		for _, batch := range batches {
			text, err := os.ReadFile(batch)
			must(t, err)
			parsed, err := convert.ParseDump(string(text))
			must(t, err)
			for file, attrs := range parsed {
				st, err := os.Lstat(file)
				must(t, err)
				ino := st.Sys().(*syscall.Stat_t).Ino
				if _, ok := chosen[ino]; !ok {
					chosen[ino] = file
					must(t, converttest.RemoveAll(file))
					convert.WriteDump(w, file, attrs)
				}
			}
		}
	}
	must(t, w.Flush())
	t.Logf("%d backup runs, %d inodes restored", len(runs), len(chosen))
	restore(t, dump.String())
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}
