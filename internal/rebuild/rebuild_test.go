package rebuild_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/event/natsbus"
	"github.com/gridkeep/gridkeep/internal/integrity"
	"github.com/gridkeep/gridkeep/internal/integrity/integritytest"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/object"
	"github.com/gridkeep/gridkeep/internal/rebuild"
)

// TestDryRunChangesNothing plans the repairs of a broken namespace and
// checks that the namespace is as broken afterwards.
func TestDryRunChangesNothing(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(60)
	broken := f.BreakCopies(6)
	entries, before := checkEntries(t, f)
	rb, err := rebuild.New(f.NS.ProxyURL, rebuild.Options{DryRun: true, OrphanMinAge: -1})
	if err != nil {
		t.Fatal(err)
	}
	run := rb.NewRun()
	if err := run.Process(f.Ctx, rebuild.Slice(entries)); err != nil {
		t.Fatal(err)
	}
	if st := run.Stats(); st.Planned != int64(len(broken)) || st.Rebuilt != 0 {
		t.Errorf("dry run: %+v, want %d planned", st, len(broken))
	}
	_, after := checkEntries(t, f)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("findings changed by a dry run (-before +after):\n%s", diff)
	}
}

// TestRebuildLostVolume empties a volume and rebuilds everything its
// reverse index lists: only the chunks of single-copy objects stay lost.
func TestRebuildLostVolume(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(60)
	lost := f.NS.Rawx[1]
	single := map[string]bool{}
	for _, n := range f.Objects {
		o := f.Locate(n)
		for _, c := range o.Chunks {
			if c.Host() == lost.ServiceID && o.Policy == "SINGLE" {
				single[c.URL] = true
			}
		}
	}
	if err := chunk.WalkChunks(lost.Volume, os.Remove); err != nil {
		t.Fatal(err)
	}

	st, total := rebuildVolume(t, f, rebuild.Options{Concurrency: 4}, lost.ServiceID)
	if st.Processed != total || st.Irreparable != int64(len(single)) || st.Failed != 0 ||
		st.Rebuilt+st.Irreparable != total {
		t.Errorf("rebuild of %d entries: %+v, want %d irreparable", total, st, len(single))
	}

	got, _, _ := integritytest.Check(t, f.Ctx, f.NS.ProxyURL,
		integrity.Options{OrphanMinAge: -1}, integrity.Target{})
	for _, it := range got {
		if it.Kind == integrity.KindChunk && !single[it.Item] {
			t.Errorf("after the volume rebuild: %s %s", it.Kind, it.Item)
		}
	}
}

// rebuildVolume rebuilds everything the reverse index of volume lists,
// the volume lost, with opts, and returns the run's figures and the
// number of entries.
func rebuildVolume(t testing.TB, f *integritytest.Fixture, opts rebuild.Options,
	volume string) (rebuild.Stats, int64) {
	t.Helper()
	opts.LostVolumes = []string{volume}
	rb, err := rebuild.New(f.NS.ProxyURL, opts)
	if err != nil {
		t.Fatal(err)
	}
	entries, total, err := rb.VolumeEntries(f.Ctx, volume)
	if err != nil {
		t.Fatal(err)
	}
	run := rb.NewRun()
	if err := run.Process(f.Ctx, entries); err != nil {
		t.Fatal(err)
	}
	return run.Stats(), total
}

// TestStepRebuildsBrokenEvents publishes a check's findings to the
// namespace's bus, whose agent runs the rebuild step, and waits until a
// check finds nothing.
func TestStepRebuildsBrokenEvents(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(60)
	f.BreakCopies(3)
	bus, err := natsbus.Dial(f.Ctx, f.NS.NATSURL, natsbus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	opts := integrity.Options{Checksum: true, OrphanMinAge: -1, Events: bus}
	integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, integrity.Target{})
	opts.Events = nil
	ctx, cancel := context.WithTimeout(f.Ctx, 2*time.Minute)
	defer cancel()
	for {
		got, _, _ := integritytest.Check(t, ctx, f.NS.ProxyURL, opts, integrity.Target{})
		if len(got) == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("never rebuilt: %v", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDryRunVerifiesSources loses one copy of a two-copy object and
// corrupts the other: a dry run must say the copy is irreparable, as the
// real run does, not plan a copy from corrupt data.
func TestDryRunVerifiesSources(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(8)
	var o *meta.Object
	for _, n := range f.Objects {
		if o = f.Locate(n); o.Policy == "TWOCOPIES" && o.Size > 0 {
			break
		}
	}
	lost, corrupt := o.Chunks[0], o.Chunks[1]
	if err := os.Remove(f.Path(lost)); err != nil {
		t.Fatal(err)
	}
	integritytest.Flip(t, f.Path(corrupt))
	for _, dry := range []bool{true, false} {
		rb, err := rebuild.New(f.NS.ProxyURL, rebuild.Options{DryRun: dry})
		if err != nil {
			t.Fatal(err)
		}
		if res := rb.Rebuild(f.Ctx, integrity.RebuildEntry{Chunk: lost.URL}); res.Outcome !=
			rebuild.Irreparable {
			t.Errorf("dry run %v: %s %v, want irreparable", dry, res.Outcome, res.Err)
		}
	}
}

// TestLineQuotesPath: a "|" in a path must not read as a field separator.
func TestLineQuotesPath(t *testing.T) {
	cid, id := chunk.ContainerID("acct", "ctr"), strings.Repeat("AB", 32)
	res := rebuild.Result{Entry: integrity.RebuildEntry{ContainerID: cid, ContentID: "C",
		Path: "a|b c", Version: 1, Chunk: "http://rawx-1/" + id}, Outcome: rebuild.Healthy}
	line := res.Line()
	e, err := integrity.ParseRebuildLine(strings.Fields(line)[0])
	if err != nil || e.Path != "a|b c" {
		t.Errorf("line %q reads back as %+v, %v", line, e, err)
	}
	// An entry without a version is printed back without one.
	res = rebuild.Result{Entry: integrity.RebuildEntry{Chunk: "http://rawx-1/ID"}, Outcome: rebuild.Healthy}
	if line, want := res.Line(), "||||http://rawx-1/ID healthy"; line != want {
		t.Errorf("line %q, want %q", line, want)
	}
}

// TestWrongAttributesAreASource deletes one copy of a two-copy position of
// four objects and damages an attribute of the other copy, its data
// intact: a wrong hash, a size too small or too large, no size. The
// objects still read; naming both copies by URL, in either order, rebuilds
// both, from the copy whose data matches the directory, and leaves
// nothing to find.
func TestWrongAttributesAreASource(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(24)
	rb, err := rebuild.New(f.NS.ProxyURL, rebuild.Options{})
	if err != nil {
		t.Fatal(err)
	}
	damages := []struct{ name, value string }{
		{chunk.AttrHash, ""}, {chunk.AttrSize, "1"}, {chunk.AttrSize, "99999999"}, {chunk.AttrSize, ""},
	}
	var objects []*meta.Object
	for _, o := range f.ObjectsOf("TWOCOPIES") {
		if o.Chunks[0].Size >= 2 {
			objects = append(objects, o)
		}
	}
	if len(objects) < len(damages) {
		t.Fatalf("%d objects for %d damages", len(objects), len(damages))
	}
	var pairs [][]meta.Chunk
	for i, d := range damages {
		cs := integritytest.CopiesAt(objects[i], "0")
		gone, wrong := cs[0], cs[1]
		if err := os.Remove(f.Path(gone)); err != nil {
			t.Fatal(err)
		}
		switch {
		case d.name == chunk.AttrHash:
			f.SetAttr(wrong, d.name, strings.Repeat("0", len(wrong.Hash)))
		case d.value == "":
			if err := chunk.RemoveAttr(f.Path(wrong), d.name); err != nil {
				t.Fatal(err)
			}
		default:
			f.SetAttr(wrong, d.name, d.value)
		}
		order := []meta.Chunk{gone, wrong}
		if i%2 == 1 {
			order = []meta.Chunk{wrong, gone}
		}
		pairs = append(pairs, order)
	}
	f.ReadAll(nil)
	for i, order := range pairs {
		for _, c := range order {
			res := rb.Rebuild(f.Ctx, integrity.RebuildEntry{Chunk: c.URL})
			t.Log(res.Line(), res.Detail)
			if res.Outcome != rebuild.Rebuilt {
				t.Errorf("%s %q: %s: %s %v, want rebuilt", damages[i].name, damages[i].value, c.URL,
					res.Outcome, res.Err)
			}
		}
	}
	checkClean(t, f, "after the rebuild")
}

// locateCounter counts the requests that locate an object, on their way
// to the directory.
type locateCounter struct{ n atomic.Int64 }

func (c *locateCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/content/locate") {
		c.n.Add(1)
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestLargeObjectLocatedOnce loses every copy one volume holds of an
// object of many metachunks: the rebuild locates the object once for all
// its entries, following its own updates of the object's chunks, instead
// of once or more for each, which made a volume of large objects
// quadratic to rebuild; the object then reads back whole.
func TestLargeObjectLocatedOnce(t *testing.T) {
	f := integritytest.StartSized(t, 3, 64<<10)
	name := object.Name{Account: integritytest.Account, Container: "big", Path: "many-metachunks"}
	f.Write(1, func(int) object.Name { return name },
		func(int) (int, string) { return 40 * 64 << 10, "TWOCOPIES" })
	f.WaitIndexed()
	lost := f.NS.Rawx[2]
	if err := chunk.WalkChunks(lost.Volume, os.Remove); err != nil {
		t.Fatal(err)
	}
	counter := &locateCounter{}
	st, total := rebuildVolume(t, f, rebuild.Options{HTTPClient: &http.Client{Transport: counter}},
		lost.ServiceID)
	if total < 10 || st.Rebuilt != total {
		t.Fatalf("rebuild of %d entries: %+v, want every one rebuilt", total, st)
	}
	if n := counter.n.Load(); n > 2 {
		t.Errorf("the object was located %d times for %d entries, want once", n, total)
	}
	f.ReadAll(nil)
}

// TestRebuildReindexesHealthyCopy deletes the reverse index record of a
// healthy chunk: a dry run plans to add it back, and a run adds it and says
// so, after which a check finds nothing wrong.
func TestRebuildReindexesHealthyCopy(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(8)
	n := f.Objects[2]
	c := f.Locate(n).Chunks[0]
	f.Unindex(n, c)
	entries, bad := checkEntries(t, f)
	if len(entries) != 1 || entries[0].Chunk != c.URL {
		t.Fatalf("check found %v, wrote rebuild entries %+v; want one entry for %s", bad, entries, c.URL)
	}
	if _, st := runEntries(t, f, rebuild.Options{DryRun: true, OrphanMinAge: -1}, entries); st.Planned != 1 {
		t.Errorf("dry run: %+v, want 1 planned", st)
	}
	res, st := runEntries(t, f, rebuild.Options{OrphanMinAge: -1}, entries)
	if st.Reindexed != 1 || st.Healthy != 0 || res[0].Outcome != rebuild.Reindexed {
		t.Errorf("run: %+v, outcome %q; want 1 reindexed", st, res[0].Outcome)
	}
	if entries, bad := checkEntries(t, f); len(entries) != 0 || len(bad) != 0 {
		t.Errorf("after the run, check found %v and wrote %+v", bad, entries)
	}
}
