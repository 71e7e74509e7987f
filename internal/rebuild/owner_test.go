package rebuild_test

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/integrity"
	"github.com/gridkeep/gridkeep/internal/integrity/integritytest"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/rdir"
	"github.com/gridkeep/gridkeep/internal/rebuild"
)

// TestListedChunkWithFalseFullpathIsKept gives the only copy of a SINGLE
// object a fullpath attribute naming an object that does not exist,
// removes its reverse index record and makes it old: nothing on the
// volume names its owner, but the directory lists it. A volume check must
// not call it an orphan, and no rebuild of it, from the check's file or by
// URL, may delete it; it is rebuilt (its attributes are wrong) and the
// object still reads.
func TestListedChunkWithFalseFullpathIsKept(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(8)
	o := f.ObjectsOf("SINGLE")[0]
	c := o.Chunks[0]
	ctr := f.ContainerOf(o)
	fp := chunk.Fullpath{Account: integritytest.Account, Container: ctr, Path: "no such object",
		Version: o.Version, ContentID: strings.Repeat("0", 31) + "1"}
	f.SetAttr(c, chunk.AttrFullpathPrefix+c.ID(), fp.String())
	rc, err := rdir.NewClient(f.NS.RdirURL, rdir.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Delete(f.Ctx, c.Host(), []rdir.ChunkRef{{
		ContainerID: chunk.ContainerID(integritytest.Account, ctr), ChunkID: c.ID()}}); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-3 * time.Hour)
	if err := os.Chtimes(f.Path(c), old, old); err != nil {
		t.Fatal(err)
	}

	var file bytes.Buffer
	opts := integrity.Options{RebuildFile: &file}
	_, res, _ := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, integrity.Target{Volume: c.Host()})
	r := res[integritytest.ChunkItem(c)]
	if slices.ContainsFunc(r.Errors, func(e string) bool { return strings.HasPrefix(e, "Orphan") }) ||
		!slices.ContainsFunc(r.Errors, func(e string) bool { return strings.Contains(e, "fullpath") }) {
		t.Errorf("volume check of %s: %q, want its fullpath named wrong, not an orphan", c.URL, r.Errors)
	}
	entries, err := integrity.ReadRebuildEntries(&file)
	if err != nil {
		t.Fatal(err)
	}
	entries = append(entries, integrity.RebuildEntry{Chunk: c.URL})
	for _, e := range entries {
		rb, err := rebuild.New(f.NS.ProxyURL, rebuild.Options{})
		if err != nil {
			t.Fatal(err)
		}
		res := rb.Rebuild(f.Ctx, e)
		if res.Outcome == rebuild.OrphanRemoved || res.Outcome == rebuild.ExtraRemoved ||
			res.Outcome == rebuild.Failed {
			t.Errorf("%s: %s (%s)", e.Chunk, res.Line(), res.Detail)
		}
	}
	checkClean(t, f, "after the rebuilds")
}

// TestOverlongCopyIsRebuilt appends bytes to one copy of a two-copy
// chunk: its data no longer matches the directory's size, so a rebuild by
// URL replaces it rather than calling it healthy.
func TestOverlongCopyIsRebuilt(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(8)
	c := f.ObjectsOf("TWOCOPIES")[0].Chunks[0]
	integritytest.Append(t, f.Path(c), "garbage")
	rb, err := rebuild.New(f.NS.ProxyURL, rebuild.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res := rb.Rebuild(f.Ctx, integrity.RebuildEntry{Chunk: c.URL}); res.Outcome != rebuild.Rebuilt {
		t.Errorf("%s (%s), want rebuilt", res.Line(), res.Detail)
	}
	checkClean(t, f, "after the rebuild")
}

// TestTakenTargetsArePassedOver puts corrupt unlisted copies, under the
// chunk id of a lost copy, on every chunk server without a copy: the
// rebuild passes them over, rebuilds the lost copy where it was, and a
// second pass removes the corrupt copies as extra ones.
func TestTakenTargetsArePassedOver(t *testing.T) {
	f := integritytest.Start(t, 5)
	f.Populate(8)
	o := f.ObjectsOf("TWOCOPIES")[0]
	lost := integritytest.CopiesAt(o, "0")[0]
	for _, s := range f.Spares(o, "0") {
		cp := f.CopyFile(lost, s.ServiceID)
		integritytest.Flip(t, f.Path(cp))
	}
	if err := os.Remove(f.Path(lost)); err != nil {
		t.Fatal(err)
	}
	rb, err := rebuild.New(f.NS.ProxyURL, rebuild.Options{OrphanMinAge: -1})
	if err != nil {
		t.Fatal(err)
	}
	if res := rb.Rebuild(f.Ctx, integrity.RebuildEntry{Chunk: lost.URL}); res.Outcome != rebuild.Rebuilt {
		t.Errorf("%s (%s), want rebuilt", res.Line(), res.Detail)
	}
	entries, _ := checkEntries(t, f)
	if st := rebuildAll(t, f, entries); st.Extras != int64(len(f.Spares(o, "0"))) || !st.OK() {
		t.Errorf("second pass: %+v, want the corrupt copies removed", st)
	}
	checkClean(t, f, "after the second pass")
}

// TestChunkListedByAnotherObjectIsKept points both entries of object X at
// the chunk files of object Y, in the directory's database: rebuilding X
// (from its own files, unlisted now) must never delete Y's files, which Y
// still lists, and both objects read afterwards.
func TestChunkListedByAnotherObjectIsKept(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(24)
	two := onePosition(t, f, 2)
	x, y := two[0], two[1]
	pointAt(f, x, y)
	entries, _ := checkEntries(t, f)
	rebuildAll(t, f, entries)
	wantFiles(t, f, y.Chunks)
	f.ReadAll(nil)
}

// TestOverlongCopiesAreASource appends bytes to both copies of a two-copy
// chunk: its data is intact in both, so the check calls nothing
// irreparable, the object reads, and the rebuild replaces both copies.
func TestOverlongCopiesAreASource(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(8)
	o := f.ObjectsOf("TWOCOPIES")[0]
	for _, c := range integritytest.CopiesAt(o, "0") {
		integritytest.Append(t, f.Path(c), "EXTRA")
	}
	f.ReadAll(nil)
	opts := integrity.Options{Checksum: true, OrphanMinAge: -1}
	if _, _, st := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, integrity.Target{}); st.Irreparable != 0 {
		t.Errorf("check: %d irreparable", st.Irreparable)
	}
	entries, _ := checkEntries(t, f)
	if st := rebuildAll(t, f, entries); st.Rebuilt != 2 || !st.OK() {
		t.Errorf("rebuild: %+v, want both copies rebuilt", st)
	}
	checkClean(t, f, "after the rebuild")
}

// TestDeleteKeepsChunksOtherObjectsList points both entries of object X
// at object Y's chunk files, in the directory's database, then deletes X:
// the content cleaner must keep Y's files, which Y still lists.
func TestDeleteKeepsChunksOtherObjectsList(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(24)
	three := onePosition(t, f, 3)
	x, y, z := three[0], three[1], three[2]
	pointAt(f, x, y)
	for _, o := range []*meta.Object{x, z} {
		if _, err := f.Dir.ContentDelete(f.Ctx, integritytest.Account, f.ContainerOf(o), o.Name,
			0); err != nil {
			t.Fatal(err)
		}
	}
	// z's chunks, which nothing else lists, go: once they have, the
	// cleaner has handled x's event too.
	deadline := time.Now().Add(time.Minute)
	for _, c := range z.Chunks {
		for _, err := os.Stat(f.Path(c)); err == nil; _, err = os.Stat(f.Path(c)) {
			if time.Now().After(deadline) {
				t.Fatalf("the chunks of a deleted object stay: %s", c.URL)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	time.Sleep(500 * time.Millisecond)
	wantFiles(t, f, y.Chunks)
	f.ReadAll([]integritytest.Item{integritytest.ObjectItem(x, f.ContainerOf(x)),
		integritytest.ObjectItem(z, f.ContainerOf(z))})
}

// wantFiles fails the test for each chunk whose file is gone.
func wantFiles(t *testing.T, f *integritytest.Fixture, chunks []meta.Chunk) {
	t.Helper()
	for _, c := range chunks {
		if _, err := os.Stat(f.Path(c)); err != nil {
			t.Errorf("a listed file is gone: %v", err)
		}
	}
}
