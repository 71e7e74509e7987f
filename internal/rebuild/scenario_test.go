package rebuild_test

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gridkeep/gridkeep/internal/integrity"
	"github.com/gridkeep/gridkeep/internal/integrity/integritytest"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/rebuild"
)

// TestScenario is the acceptance scenario at test size: a namespace broken
// in every way, a check that reports exactly the damage, a rebuild from
// its rebuild file that repairs all but the irreparable object, a second
// check that finds only that object, and a second rebuild that has
// nothing left to do.
func TestScenario(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(120)
	d := f.Break()
	checkOpts := integrity.Options{Checksum: true, OrphanMinAge: -1, Concurrency: 8}

	var rebuildFile bytes.Buffer
	checkOpts.RebuildFile = &rebuildFile
	got, _, _ := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, checkOpts, integrity.Target{})
	if diff := cmp.Diff(d.Want, got); diff != "" {
		t.Fatalf("first check (-want +got):\n%s", diff)
	}
	entries, err := integrity.ReadRebuildEntries(bytes.NewReader(rebuildFile.Bytes()))
	if err != nil {
		t.Fatal(err)
	}

	st := rebuildAll(t, f, entries)
	irreparable := 0
	for _, it := range d.Irreparable {
		if it.Kind == integrity.KindChunk {
			irreparable++
		}
	}
	if st.Irreparable != int64(irreparable) || st.Failed != 0 || st.Rebuilt != 5 ||
		st.Orphans != 1 {
		t.Errorf("rebuild: %+v, want %d irreparable, 5 rebuilt, 1 orphan removed", st,
			irreparable)
	}

	checkOpts.RebuildFile = nil
	got, _, _ = integritytest.Check(t, f.Ctx, f.NS.ProxyURL, checkOpts, integrity.Target{})
	if diff := cmp.Diff(integritytest.Sorted(d.Irreparable), got); diff != "" {
		t.Errorf("check after the rebuild (-want +got):\n%s", diff)
	}
	f.ReadAll(d.Irreparable)

	st = rebuildAll(t, f, entries)
	if st.Rebuilt != 0 || st.Orphans != 0 || st.Failed != 0 ||
		st.Healthy+st.Irreparable != st.Processed {
		t.Errorf("second rebuild did something: %+v", st)
	}
}

// checkEntries checks the whole namespace with checksums and returns the
// entries it writes for the rebuilder, and what it found bad.
func checkEntries(t *testing.T, f *integritytest.Fixture) ([]integrity.RebuildEntry,
	[]integritytest.Item) {
	t.Helper()
	var file bytes.Buffer
	opts := integrity.Options{Checksum: true, OrphanMinAge: -1, RebuildFile: &file}
	bad, _, _ := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, integrity.Target{})
	entries, err := integrity.ReadRebuildEntries(&file)
	if err != nil {
		t.Fatal(err)
	}
	return entries, bad
}

// rebuildAll rebuilds entries and returns the counters.
func rebuildAll(t *testing.T, f *integritytest.Fixture,
	entries []integrity.RebuildEntry) rebuild.Stats {
	t.Helper()
	_, st := runEntries(t, f, rebuild.Options{Concurrency: 4, OrphanMinAge: -1}, entries)
	return st
}

// runEntries rebuilds entries with opts and returns each result, logged,
// and the counters.
func runEntries(t *testing.T, f *integritytest.Fixture, opts rebuild.Options,
	entries []integrity.RebuildEntry) ([]rebuild.Result, rebuild.Stats) {
	t.Helper()
	var mu sync.Mutex
	var got []rebuild.Result
	opts.Report = func(r rebuild.Result) {
		t.Log(r.Line())
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
	}
	rb, err := rebuild.New(f.NS.ProxyURL, opts)
	if err != nil {
		t.Fatal(err)
	}
	run := rb.NewRun()
	if err := run.Process(f.Ctx, rebuild.Slice(entries)); err != nil {
		t.Fatal(err)
	}
	return got, run.Stats()
}

// checkClean checks the whole namespace with checksums, failing the test
// for every item in error (when says at what point), then reads every
// object back.
func checkClean(t *testing.T, f *integritytest.Fixture, when string) {
	t.Helper()
	f.WaitIndexed() // the index follows the chunk servers' events
	opts := integrity.Options{Checksum: true, OrphanMinAge: -1}
	got, res, _ := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, integrity.Target{})
	for _, it := range got {
		t.Errorf("%s: %s %s: %v", when, it.Kind, it.Item, res[it].Errors)
	}
	f.ReadAll(nil)
}

// checkFindsUnlisted checks the whole namespace with checksums: nothing
// may be irreparable, and object o's errors must name the unlisted copy
// at chunkURL as one that verifies.
func checkFindsUnlisted(t *testing.T, f *integritytest.Fixture, o *meta.Object, chunkURL string) {
	t.Helper()
	opts := integrity.Options{Checksum: true, OrphanMinAge: -1}
	_, res, st := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, integrity.Target{})
	obj := res[integritytest.ObjectItem(o, f.ContainerOf(o))]
	named := func(e string) bool { return strings.HasPrefix(e, "Unlisted copy "+chunkURL) }
	if st.Irreparable != 0 || !slices.ContainsFunc(obj.Errors, named) {
		t.Errorf("check: %d irreparable, object errors %q: want the unlisted copy %s named",
			st.Irreparable, obj.Errors, chunkURL)
	}
}

// onePosition returns n TWOCOPIES objects of the fixture that hold one
// metachunk, failing the test if it has fewer.
func onePosition(t *testing.T, f *integritytest.Fixture, n int) []*meta.Object {
	t.Helper()
	var out []*meta.Object
	for _, o := range f.ObjectsOf("TWOCOPIES") {
		if len(o.Chunks) == 2 {
			out = append(out, o)
		}
	}
	if len(out) < n {
		t.Fatalf("%d one-position TWOCOPIES objects, want %d", len(out), n)
	}
	return out[:n]
}

// pointAt rewrites, in the directory's database, the entries of object x
// to name the chunk files of object y, position by position.
func pointAt(f *integritytest.Fixture, x, y *meta.Object) {
	for i := range x.Chunks {
		f.SetEntryURL(x, f.ContainerOf(x), x.Chunks[i].URL, y.Chunks[i].URL)
	}
}
