package rebuild_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/integrity"
	"github.com/gridkeep/gridkeep/internal/integrity/integritytest"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/rawx"
)

// TestEntriesSpelledOtherwise writes directory entries the way an
// operator or an import may: a copy's URL with its chunk server's address
// (then that copy is lost), a chunk id in lowercase (then lost), and a
// second entry naming the same file as another copy of its position (then
// the other file is lost). The check names each problem once, by the
// canonical URL, and none as healthy; one rebuild pass repairs them all,
// never deleting the listed file; the namespace is then clean and every
// object reads.
func TestEntriesSpelledOtherwise(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(24)
	three := onePosition(t, f, 3)
	byAddr, lower, twice := three[0], three[1], three[2]

	c := byAddr.Chunks[0]
	f.SetEntryURL(byAddr, f.ContainerOf(byAddr), c.URL, rawx.ChunkURL(f.Addr(c.Host()), c.ID()))
	remove(t, f.Path(c))

	c = lower.Chunks[0]
	f.SetEntryURL(lower, f.ContainerOf(lower), c.URL, rawx.ChunkURL(c.Host(), strings.ToLower(c.ID())))
	remove(t, f.Path(c))

	kept, gone := twice.Chunks[0], twice.Chunks[1]
	f.SetEntryURL(twice, f.ContainerOf(twice), gone.URL, rawx.ChunkURL(f.Addr(kept.Host()), kept.ID()))
	remove(t, f.Path(gone))

	opts := integrity.Options{Checksum: true, OrphanMinAge: -1}
	_, res, st := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, integrity.Target{})
	for _, want := range []struct {
		item integritytest.Item
		text string
	}{
		{integritytest.ChunkItem(byAddr.Chunks[0]), "Not found"},
		{integritytest.ChunkItem(lower.Chunks[0]), "Not found"},
		{integritytest.Item{Kind: integrity.KindChunk,
			Item: "position 0 of " + integritytest.ObjectItem(twice, f.ContainerOf(twice)).Item},
			"is listed twice"},
	} {
		r, ok := res[want.item]
		has := func(e string) bool { return strings.Contains(e, want.text) }
		if !ok || !slices.ContainsFunc(r.Errors, has) {
			t.Errorf("check: %s: %q, want %q", want.item.Item, r.Errors, want.text)
		}
	}
	if st.Irreparable != 0 {
		t.Errorf("check: %d irreparable", st.Irreparable)
	}

	entries, _ := checkEntries(t, f)
	if rs := rebuildAll(t, f, entries); rs.Failed+rs.Irreparable+rs.Kept+rs.Unknown != 0 {
		t.Errorf("rebuild: %+v", rs)
	}
	if _, err := os.Stat(f.Path(kept)); err != nil {
		t.Fatalf("the file two entries named is gone: %v", err)
	}
	checkClean(t, f, "after the rebuild")
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// TestUnindexedCopyWithWrongSize copies a chunk file to a server without
// a copy of its position, as cp -a would (no index record), gives the
// copy a wrong size attribute, and deletes both listed copies: the data
// survives in the copy alone. The check finds it and calls nothing
// irreparable; the rebuild repairs the object from it; the namespace is
// then clean.
func TestUnindexedCopyWithWrongSize(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(24)
	var o *meta.Object
	for _, c := range f.ObjectsOf("TWOCOPIES") {
		if len(c.Chunks) == 2 && c.Chunks[0].Size > 1 {
			o = c
			break
		}
	}
	if o == nil {
		t.Fatal("no one-position TWOCOPIES object of two bytes or more")
	}
	spare := f.Spares(o, "0")[0].ServiceID
	survivor := f.CopyFile(o.Chunks[0], spare)
	f.SetAttr(survivor, chunk.AttrSize, "1")
	remove(t, f.Path(o.Chunks[0]))
	remove(t, f.Path(o.Chunks[1]))

	checkFindsUnlisted(t, f, o, survivor.URL)
	entries, _ := checkEntries(t, f)
	if rs := rebuildAll(t, f, entries); rs.Failed+rs.Irreparable+rs.Kept+rs.Unknown != 0 {
		t.Errorf("rebuild: %+v", rs)
	}
	checkClean(t, f, "after the rebuild")
}
