package rebuild_test

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/integrity"
	"github.com/gridkeep/gridkeep/internal/integrity/integritytest"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/object"
	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/rebuild"
)

// TestChunkByURLListedIsNeverDeleted names by URL the only copy of an
// object whose fullpath attribute is unreadable, or names another live
// object, and which is older than the orphan age: the reverse index knows
// its owner, which lists it, so it is not an orphan. Its data is intact:
// it is replaced by a copy made from it, and the object still reads.
func TestChunkByURLListedIsNeverDeleted(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(12)
	singles := f.ObjectsOf("SINGLE")
	other := f.Locate(f.Objects[0])
	fp := chunk.Fullpath{Account: integritytest.Account, Container: f.Objects[0].Container,
		Path: other.Name, Version: other.Version, ContentID: other.ContentID}
	for i, value := range []string{"garbage", fp.String()} {
		c := singles[i].Chunks[0]
		path := f.Path(c)
		if err := chunk.SetAttrs(path, []chunk.Attr{{Name: chunk.AttrFullpathPrefix + c.ID(),
			Value: value}}); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-2 * time.Hour)
		if err := os.Chtimes(path, old, old); err != nil {
			t.Fatal(err)
		}
		rb, err := rebuild.New(f.NS.ProxyURL, rebuild.Options{})
		if err != nil {
			t.Fatal(err)
		}
		res := rb.Rebuild(f.Ctx, integrity.RebuildEntry{Chunk: c.URL})
		t.Log(res.Line(), res.Detail)
		if res.Outcome != rebuild.Rebuilt {
			t.Errorf("fullpath %q: %s %v, want rebuilt from the copy itself", value, res.Outcome,
				res.Err)
		}
		if res.Entry.ContentID != singles[i].ContentID {
			t.Errorf("fullpath %q: the entry is %+v, want the owner %s", value, res.Entry,
				singles[i].Name)
		}
	}
	f.ReadAll(nil)
}

// TestUnlistedCopyOfLiveObjectIsKept moves the directory entry of a copy
// to a chunk server without it, and deletes the other listed copy: the
// real copy is then unlisted, and the only one. The check must not call
// the position lost; the rebuild of its findings must keep the copy and
// record it in place of the lost entry, saying so rather than counting a
// rebuild, and make the second copy from it: a second pass has nothing to
// do.
func TestUnlistedCopyOfLiveObjectIsKept(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(12)
	o := f.ObjectsOf("TWOCOPIES")[0]
	copies := integritytest.CopiesAt(o, "0")
	good, other := copies[0], copies[1]
	f.MoveEntry(o, f.ContainerOf(o), good)
	if err := os.Remove(f.Path(other)); err != nil {
		t.Fatal(err)
	}

	for pass := range 2 {
		if pass == 0 {
			opts := integrity.Options{Checksum: true, OrphanMinAge: -1}
			_, res, st := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, integrity.Target{})
			if st.Irreparable != 0 || len(res) == 0 {
				t.Errorf("the check finds %d items, %d irreparable, while an unlisted copy "+
					"verifies: %+v", len(res), st.Irreparable, res)
			}
		}
		entries, _ := checkEntries(t, f)
		st := rebuildAll(t, f, entries)
		if _, err := os.Stat(f.Path(good)); err != nil {
			t.Fatalf("pass %d: the only good copy is gone: %v (%+v)", pass, err, st)
		}
		if want := [2]int64{1 - int64(pass), 1 - int64(pass)}; st.Orphans+st.Extras != 0 ||
			[2]int64{st.Recorded, st.Rebuilt} != want {
			t.Errorf("pass %d: %+v, want %d recorded in place, %d rebuilt, nothing removed", pass,
				st, want[0], want[1])
		}
	}
	checkClean(t, f, "after the rebuilds")
}

// TestChunkByURLRerunConverges rebuilds a lost copy named by URL, which
// puts it back where it was, then runs the entry it reports (which names
// the owner) twice, and the URL alone once more: nothing is left to do,
// and saying so is a success. A chunk id no server has, named by URL
// alone, is gone with no owner known: that is said, and is no success.
func TestChunkByURLRerunConverges(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(8)
	c := f.ObjectsOf("TWOCOPIES")[0].Chunks[0]
	if err := os.Remove(f.Path(c)); err != nil {
		t.Fatal(err)
	}
	rb, err := rebuild.New(f.NS.ProxyURL, rebuild.Options{})
	if err != nil {
		t.Fatal(err)
	}
	first := rb.Rebuild(f.Ctx, integrity.RebuildEntry{Chunk: c.URL})
	if first.Outcome != rebuild.Rebuilt || first.Entry.ContainerID == "" || first.NewURL != c.URL {
		t.Fatalf("first run: %s %v, want rebuilt in place", first.Line(), first.Err)
	}
	for _, e := range []integrity.RebuildEntry{first.Entry, first.Entry, {Chunk: c.URL}} {
		if res := rb.Rebuild(f.Ctx, e); res.Outcome != rebuild.Healthy {
			t.Errorf("rerun: %s %v", res.Line(), res.Err)
		}
	}
	none := rawx.ChunkURL(c.Host(), "5BA11D33000000000000000000000000000000000000000000000000000000FF")
	if res := rb.Rebuild(f.Ctx, integrity.RebuildEntry{Chunk: none}); res.Outcome != rebuild.Unknown {
		t.Errorf("by URL alone: %s %v", res.Line(), res.Err)
	}
	f.ReadAll(nil)
}

// TestTargetChunkIsNeverOverwritten loses a copy of a three-copy object on
// four chunk servers, and puts another chunk under the same id on the only
// server without a copy, the first target: the rebuild must leave that
// chunk alone and put the copy elsewhere.
func TestTargetChunkIsNeverOverwritten(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(8)
	o := f.ObjectsOf("THREECOPIES")[0]
	c := o.Chunks[0]
	var planted string
	data := []byte("someone else's data")
	for _, r := range f.Spares(o, c.Pos) {
		planted = rawx.ChunkURL(r.ServiceID, c.ID())
		m := &chunk.Meta{Fullpath: chunk.Fullpath{Account: integritytest.Account,
			Container: "elsewhere", Path: "another", Version: 1, ContentID: "0123456789ABCDEF"},
			Position: "0", ChunkMethod: "plain/cca=blake3,nb_copy=1", StoragePolicy: "SINGLE"}
		if _, err := (&rawx.Client{}).Put(f.Ctx, rawx.ChunkURL(r.Addr, c.ID()), m,
			bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(f.Path(c)); err != nil {
		t.Fatal(err)
	}
	rb, err := rebuild.New(f.NS.ProxyURL, rebuild.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := rb.Rebuild(f.Ctx, integrity.RebuildEntry{Chunk: c.URL})
	t.Log(res.Line(), res.Detail)
	if got, err := os.ReadFile(f.ChunkPath(planted)); err != nil || !bytes.Equal(got, data) {
		t.Errorf("the chunk at the target was replaced (%d bytes, %v)", len(got), err)
	}
	if res.Outcome != rebuild.Rebuilt || res.NewURL == planted {
		t.Errorf("rebuild: %s %v, want rebuilt elsewhere", res.Outcome, res.Err)
	}
	f.ReadAll(nil)
}

// TestExtraCopyRemovedSaysSo leaves a verified copy of a healthy object's
// chunk, under the same chunk id, on a chunk server the directory does
// not list it on: the rebuild deletes it as an extra copy, naming the
// object and the listed copy, not as an orphan no object lists.
func TestExtraCopyRemovedSaysSo(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(8)
	o := f.ObjectsOf("TWOCOPIES")[0]
	c := o.Chunks[0]
	var extra string
	for _, r := range f.Spares(o, c.Pos) {
		extra = rawx.ChunkURL(r.ServiceID, c.ID())
		fp := chunk.Fullpath{Account: integritytest.Account, Container: f.ContainerOf(o),
			Path: o.Name, Version: o.Version, ContentID: o.ContentID}
		m := &chunk.Meta{Fullpath: fp, Position: c.Pos, Hash: c.Hash, ChunkMethod: o.ChunkMethod,
			StoragePolicy: o.Policy}
		data, err := os.ReadFile(f.Path(c))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := (&rawx.Client{}).Put(f.Ctx, rawx.ChunkURL(r.Addr, c.ID()), m,
			bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
		break
	}
	rb, err := rebuild.New(f.NS.ProxyURL, rebuild.Options{OrphanMinAge: -1})
	if err != nil {
		t.Fatal(err)
	}
	res := rb.Rebuild(f.Ctx, integrity.RebuildEntry{Chunk: extra})
	t.Log(res.Line(), res.Detail)
	if res.Outcome != rebuild.ExtraRemoved || !strings.Contains(res.Detail, o.Name) ||
		!strings.Contains(res.Detail, c.URL) {
		t.Errorf("%s (%s), want %q naming %s and %s", res.Line(), res.Detail, rebuild.ExtraRemoved,
			o.Name, c.URL)
	}
	if _, err := os.Stat(f.ChunkPath(extra)); !os.IsNotExist(err) {
		t.Errorf("the extra copy is still there: %v", err)
	}
	f.ReadAll(nil)
}

// TestGoneListedChunkByURLIsRepaired moves the directory entry of a copy
// to a chunk server that has neither the chunk nor a reverse index record
// of it, and names it by URL alone: nothing on the volume says whose it
// is, but the directory lists it, so it is repaired (the real copy,
// unlisted, recorded in its place, or a new copy made) and the run ends
// well; a check and rebuild then leave the namespace clean.
func TestGoneListedChunkByURLIsRepaired(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(8)
	o := f.ObjectsOf("TWOCOPIES")[0]
	moved := f.MoveEntry(o, f.ContainerOf(o), o.Chunks[0])
	got, st := runEntries(t, f, rebuild.Options{}, []integrity.RebuildEntry{{Chunk: moved.URL}})
	if len(got) != 1 || got[0].Outcome != rebuild.Recorded &&
		got[0].Outcome != rebuild.Rebuilt || !st.OK() {
		t.Errorf("%v: %+v, want the copy repaired and the run OK", got, st)
	}
	f.ReadAll(nil)
	// The real copy, if another was made, is an extra one now.
	entries, _ := checkEntries(t, f)
	if st := rebuildAll(t, f, entries); !st.OK() {
		t.Errorf("second pass: %+v", st)
	}
	checkClean(t, f, "after the second pass")
}

// TestEntryMovedToAnEmptyServerIsRebuiltThere moves the directory entry
// of a copy of a two-copy object, on three chunk servers, to the server
// without a copy, leaving the data where it was, and rebuilds the lost
// entry as the check's rebuild file names it: the copy is put back where
// the directory lists it, the data where it was is left untouched, as an
// extra copy that the next check and rebuild remove.
func TestEntryMovedToAnEmptyServerIsRebuiltThere(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(8)
	o := f.ObjectsOf("TWOCOPIES")[0]
	c := o.Chunks[0]
	before, err := os.Stat(f.Path(c))
	if err != nil {
		t.Fatal(err)
	}
	moved := f.MoveEntry(o, f.ContainerOf(o), c)
	e := integrity.RebuildEntry{ContainerID: chunk.ContainerID(integritytest.Account, f.ContainerOf(o)),
		ContentID: o.ContentID, Path: o.Name, Version: o.Version, Chunk: moved.URL}
	got, st := runEntries(t, f, rebuild.Options{}, []integrity.RebuildEntry{e})
	if len(got) != 1 || got[0].Outcome != rebuild.Rebuilt || got[0].NewURL != moved.URL ||
		st.Rebuilt != 1 || st.Bytes != c.Size {
		t.Errorf("%v: %+v, want %s rebuilt in place", got, st, moved.URL)
	}
	if after, err := os.Stat(f.Path(c)); err != nil || !os.SameFile(before, after) ||
		!after.ModTime().Equal(before.ModTime()) {
		t.Errorf("the data where it was is rewritten or lost (%v)", err)
	}
	f.ReadAll(nil)
	entries, _ := checkEntries(t, f)
	if rs := rebuildAll(t, f, entries); rs.Extras != 1 || !rs.OK() {
		t.Errorf("second pass: %+v, want the copy left where it was removed as an extra", rs)
	}
	checkClean(t, f, "after the second pass")
}

// refusedUpdates is a transport through which every directory update of
// an object's chunks fails, as when the directory is briefly unavailable.
type refusedUpdates struct{}

func (refusedUpdates) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/container/raw_update") {
		return nil, errors.New("directory unavailable")
	}
	return rawx.DefaultTransport.RoundTrip(req)
}

// TestCopyFoundAtTargetSurvivesAFailedUpdate damages a copy of a two-copy
// object on four chunk servers and leaves a verified copy of it, under
// its chunk id, on both servers that hold none: the rebuild finds one at
// its target and, when the directory then fails to record it, fails
// without deleting it, as it was not this rebuild's to delete. Once the
// directory answers again, a rerun records it in place of the damaged one.
func TestCopyFoundAtTargetSurvivesAFailedUpdate(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(8)
	o := f.ObjectsOf("TWOCOPIES")[0]
	c := o.Chunks[0]
	var found []meta.Chunk
	for _, r := range f.Spares(o, c.Pos) {
		found = append(found, f.CopyFile(c, r.ServiceID))
	}
	flipFirstByte(t, f.Path(c))
	e := integrity.RebuildEntry{ContainerID: chunk.ContainerID(integritytest.Account, f.ContainerOf(o)),
		ContentID: o.ContentID, Path: o.Name, Version: o.Version, Chunk: c.URL}
	rb, err := rebuild.New(f.NS.ProxyURL, rebuild.Options{OrphanMinAge: -1,
		HTTPClient: &http.Client{Transport: refusedUpdates{}}})
	if err != nil {
		t.Fatal(err)
	}
	res := rb.Rebuild(f.Ctx, e)
	t.Log(res.Line())
	if res.Outcome != rebuild.Failed {
		t.Errorf("with the directory refusing updates: %s, want failed", res.Outcome)
	}
	for _, cp := range found {
		if _, err := os.Stat(f.ChunkPath(cp.URL)); err != nil {
			t.Errorf("the copy %s, there before the rebuild, is gone: %v", cp.URL, err)
		}
	}
	got, st := runEntries(t, f, rebuild.Options{OrphanMinAge: -1}, []integrity.RebuildEntry{e})
	if len(got) != 1 || got[0].Outcome != rebuild.Recorded || st.Bytes != 0 {
		t.Errorf("rerun: %v, want a copy there recorded in place", got)
	}
	f.ReadAll(nil)
}

// TestUnlistedCopyUnderAnotherID points the directory entry of a copy at
// a chunk id no server holds and deletes the other copy: the real copy is
// unlisted under its own id, found through the reverse index by content.
// The check reports it and does not call the position lost; the rebuild
// records it and copies it; the namespace is then clean.
func TestUnlistedCopyUnderAnotherID(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(12)
	o := f.ObjectsOf("TWOCOPIES")[0]
	ctr := f.ContainerOf(o)
	copies := integritytest.CopiesAt(o, "0")
	good, other := copies[0], copies[1]
	spare := f.Spares(o, "0")[0]
	lost := meta.Chunk{URL: rawx.ChunkURL(spare.ServiceID, strings.Repeat("AB", 32)), Pos: good.Pos,
		Size: good.Size, Hash: good.Hash}
	if err := f.Dir.UpdateChunk(f.Ctx, chunk.ContainerID(integritytest.Account, ctr),
		meta.ChunkUpdate{ContentID: o.ContentID, Old: good, New: lost}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(f.Path(other)); err != nil {
		t.Fatal(err)
	}

	checkFindsUnlisted(t, f, o, good.URL)
	entries, _ := checkEntries(t, f)
	if rs := rebuildAll(t, f, entries); rs.Recorded < 1 || rs.Irreparable+rs.Failed != 0 {
		t.Errorf("rebuild: %+v, want the unlisted copy recorded", rs)
	}
	if _, err := os.Stat(f.Path(good)); err != nil {
		t.Fatalf("the only good copy is gone: %v", err)
	}
	checkClean(t, f, "after the rebuild")
}

// TestSurplusCopiesAreRemoved records a third copy of a TWOCOPIES chunk:
// the check reports the position, the rebuild removes one copy from the
// directory and its volume, and the namespace is then clean. A dry run
// before changes nothing.
func TestSurplusCopiesAreRemoved(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(12)
	o := f.ObjectsOf("TWOCOPIES")[0]
	ctr := f.ContainerOf(o)
	dup := f.Duplicate(o, ctr, integritytest.CopiesAt(o, "0")[0])

	entries, bad := checkEntries(t, f)
	pos := integritytest.Item{Kind: integrity.KindChunk,
		Item: "position 0 of " + integritytest.ObjectItem(o, ctr).Item}
	if !slices.Contains(bad, pos) {
		t.Errorf("check reports %v, want the position %v", bad, pos)
	}
	dry, err := rebuild.New(f.NS.ProxyURL, rebuild.Options{DryRun: true, OrphanMinAge: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if res := dry.Rebuild(f.Ctx, e); res.Outcome == rebuild.ExtraRemoved {
			t.Errorf("dry run removed: %s", res.Line())
		}
	}
	name := object.Name{Account: integritytest.Account, Container: ctr, Path: o.Name}
	if got := len(integritytest.CopiesAt(f.Locate(name), "0")); got != 3 {
		t.Fatalf("after the dry run the position has %d copies, want 3", got)
	}

	st := rebuildAll(t, f, entries)
	if st.Extras != 1 || st.Failed+st.Kept+st.Irreparable != 0 {
		t.Errorf("rebuild: %+v, want one extra copy removed", st)
	}
	left := integritytest.CopiesAt(f.Locate(name), "0")
	if len(left) != 2 {
		t.Fatalf("after the rebuild the position has %d copies, want 2", len(left))
	}
	for _, c := range left {
		if _, err := os.Stat(f.Path(c)); err != nil {
			t.Errorf("a kept copy is gone: %v", err)
		}
	}
	removed := dup
	for _, c := range append(integritytest.CopiesAt(o, "0"), dup) {
		if !slices.ContainsFunc(left, func(l meta.Chunk) bool { return l.URL == c.URL }) {
			removed = c
		}
	}
	if _, err := os.Stat(f.Path(removed)); !os.IsNotExist(err) {
		t.Errorf("the removed copy %s is still on its volume: %v", removed.URL, err)
	}
	checkClean(t, f, "after the rebuild")
}

// TestChunkNamedByAddressIsTheListedCopy names the only copy of a SINGLE
// object, old enough to be an orphan, by its chunk server's address
// instead of its service id, as locate prints it, and by its service id
// in capitals with a lowercase chunk id: it is the copy the directory
// lists, healthy, and stays.
func TestChunkNamedByAddressIsTheListedCopy(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(8)
	c := f.ObjectsOf("SINGLE")[0].Chunks[0]
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(f.Path(c), old, old); err != nil {
		t.Fatal(err)
	}
	byAddr := rawx.ChunkURL(f.Addr(c.Host()), c.ID())
	forms := []string{byAddr, rawx.ChunkURL(strings.ToUpper(c.Host()), strings.ToLower(c.ID()))}
	for _, dry := range []bool{true, false} {
		rb, err := rebuild.New(f.NS.ProxyURL, rebuild.Options{DryRun: dry})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range forms {
			res := rb.Rebuild(f.Ctx, integrity.RebuildEntry{Chunk: u})
			if res.Outcome != rebuild.Healthy {
				t.Errorf("dry run %v: %s: %s %v, want healthy", dry, u, res.Outcome, res.Err)
			}
		}
	}
	if _, err := os.Stat(f.Path(c)); err != nil {
		t.Fatalf("the only copy is gone: %v", err)
	}
	f.ReadAll(nil)
}

// TestYoungOrphanIsKept names by URL a chunk uploaded just now and never
// committed: under the orphan minimum age its upload may be running, so
// it is kept, said the same way in a dry run and a real one.
func TestYoungOrphanIsKept(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(4)
	orphan := f.Orphan()
	for _, dry := range []bool{true, false} {
		rb, err := rebuild.New(f.NS.ProxyURL, rebuild.Options{DryRun: dry})
		if err != nil {
			t.Fatal(err)
		}
		res := rb.Rebuild(f.Ctx, integrity.RebuildEntry{Chunk: orphan.Item})
		if res.Outcome != rebuild.Kept || !strings.Contains(res.Detail, "orphan minimum age") {
			t.Errorf("dry run %v: %s (%s), want kept for its age", dry, res.Line(), res.Detail)
		}
	}
	if _, err := os.Stat(f.ChunkPath(orphan.Item)); err != nil {
		t.Fatalf("the young orphan is gone: %v", err)
	}
}

// TestCorruptListedCopiesAndVerifiedUnlistedCopy copies the chunk file of
// a copy of a two-copy object, with its attributes, to a chunk server the
// directory does not list it on, then damages one byte of both listed
// copies (same size, attributes intact). The check, of the object or of
// everything, says the unlisted copy verifies and marks nothing
// irreparable. The rebuild of its file, one entry at a time or several at
// once, must then record that copy and replace the damaged ones from it
// rather than give up on listed copies that only look healthy, and never
// touch the good copy; a dry run before plans as much, and a second
// rebuild has nothing left to do.
func TestCorruptListedCopiesAndVerifiedUnlistedCopy(t *testing.T) {
	for _, tc := range []struct {
		name        string
		object      bool // check the object alone, not the whole namespace
		concurrency int
	}{
		{"object check, one at a time", true, 1},
		{"namespace check, four at once", false, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := integritytest.Start(t, 4)
			f.Populate(12)
			var o *meta.Object
			for _, x := range onePosition(t, f, 2) {
				if o == nil || x.Chunks[0].Size > o.Chunks[0].Size {
					o = x
				}
			}
			copies := integritytest.CopiesAt(o, "0")
			good := f.CopyFile(copies[0], f.Spares(o, "0")[0].ServiceID)
			before, err := os.Stat(f.ChunkPath(good.URL))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range copies {
				integritytest.Flip(t, f.Path(c))
			}

			checkFindsUnlisted(t, f, o, good.URL)
			target := integrity.Target{}
			if tc.object {
				target = integrity.Target{Account: integritytest.Account, Container: f.ContainerOf(o),
					Object: o.Name}
			}
			var file bytes.Buffer
			opts := integrity.Options{Checksum: true, OrphanMinAge: -1, RebuildFile: &file}
			integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, target)
			entries, err := integrity.ReadRebuildEntries(&file)
			if err != nil {
				t.Fatal(err)
			}
			_, dry := runEntries(t, f, rebuild.Options{DryRun: true, Concurrency: tc.concurrency,
				OrphanMinAge: -1}, entries)
			if dry.Irreparable+dry.Failed != 0 || dry.Planned == 0 {
				t.Errorf("dry run: %+v, want the repairs planned", dry)
			}
			for pass := range 2 {
				_, st := runEntries(t, f, rebuild.Options{Concurrency: tc.concurrency,
					OrphanMinAge: -1}, entries)
				switch {
				case !st.OK() || st.Irreparable+st.Failed+st.Kept != 0:
					t.Errorf("pass %d: %+v, want every entry repaired", pass, st)
				case pass == 0 && st.Recorded < 1:
					t.Errorf("pass %d: %+v, want the unlisted copy recorded", pass, st)
				case pass == 1 && st.Recorded+st.Rebuilt+st.Orphans+st.Extras != 0:
					t.Errorf("pass %d: %+v, want nothing left to do", pass, st)
				}
				after, err := os.Stat(f.ChunkPath(good.URL))
				if err != nil || !os.SameFile(before, after) ||
					!after.ModTime().Equal(before.ModTime()) {
					t.Fatalf("pass %d: the verified unlisted copy was rewritten or removed (%v)",
						pass, err)
				}
			}
			checkClean(t, f, "after the rebuilds")
		})
	}
}

// flipFirstByte damages the data of the chunk file at path, leaving its
// size and attributes as they were.
func flipFirstByte(t *testing.T, path string) {
	t.Helper()
	fh, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	b := make([]byte, 1)
	if _, err := fh.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := fh.WriteAt(b, 0); err != nil {
		t.Fatal(err)
	}
}

// wrongAttr is a damage to one attribute of a chunk file: value, or the
// attribute removed when value is empty. The fullpath attribute is named
// by its prefix alone.
type wrongAttr struct{ name, attr, value string }

// set applies the damage to the file of c.
func (w wrongAttr) set(t *testing.T, f *integritytest.Fixture, c meta.Chunk) {
	t.Helper()
	attr := w.attr
	if attr == chunk.AttrFullpathPrefix {
		attr += c.ID()
	}
	if w.value == "" {
		if err := chunk.RemoveAttr(f.ChunkPath(c.URL), attr); err != nil {
			t.Fatal(err)
		}
		return
	}
	f.SetAttr(c, attr, w.value)
}

// loseToUnlistedCopies copies, as cp -a would (no index record), the
// first chunk of a SINGLE object per damage to a chunk server without it,
// damages that attribute of the copy, and deletes the listed chunk: the
// data survives in the unlisted copy alone. It returns the lost chunks
// and their unlisted copies, in the order of damages.
func loseToUnlistedCopies(t *testing.T, f *integritytest.Fixture,
	damages []wrongAttr) (objects []*meta.Object, lost, copies []meta.Chunk) {
	t.Helper()
	singles := f.ObjectsOf("SINGLE")
	if len(singles) < len(damages) {
		t.Fatalf("%d SINGLE objects for %d damages", len(singles), len(damages))
	}
	for i, d := range damages {
		o := singles[i]
		c := o.Chunks[0]
		cp := f.CopyFile(c, f.Spares(o, c.Pos)[0].ServiceID)
		d.set(t, f, cp)
		remove(t, f.Path(c))
		objects, lost, copies = append(objects, o), append(lost, c), append(copies, cp)
	}
	return objects, lost, copies
}

// rebuildLost rebuilds each of lost by URL with opts, and returns the
// results in order.
func rebuildLost(t *testing.T, f *integritytest.Fixture, opts rebuild.Options,
	lost []meta.Chunk) []rebuild.Result {
	t.Helper()
	rb, err := rebuild.New(f.NS.ProxyURL, opts)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]rebuild.Result, len(lost))
	for i, c := range lost {
		out[i] = rb.Rebuild(f.Ctx, integrity.RebuildEntry{Chunk: c.URL})
		t.Log(out[i].Line(), out[i].Detail)
	}
	return out
}

// TestUnlistedCopyWithWrongAttributes loses the only listed copy of SINGLE
// objects whose data survives in an unlisted copy with a wrong attribute:
// another position, none, another policy. An unlisted copy is usable
// whatever its attributes say, its position among them: the check names
// each one as verifying and calls nothing irreparable, and rebuilding
// each lost copy by URL repairs it from the unlisted one.
func TestUnlistedCopyWithWrongAttributes(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(24)
	damages := []wrongAttr{
		{"another position", chunk.AttrPosition, "1"},
		{"no position", chunk.AttrPosition, ""},
		{"another policy", chunk.AttrStoragePolicy, "THREECOPIES"},
	}
	objects, lost, copies := loseToUnlistedCopies(t, f, damages)

	opts := integrity.Options{Checksum: true, OrphanMinAge: -1}
	_, res, st := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, integrity.Target{})
	if st.Irreparable != 0 {
		t.Errorf("check: %d irreparable, want none", st.Irreparable)
	}
	for i, d := range damages {
		obj := res[integritytest.ObjectItem(objects[i], f.ContainerOf(objects[i]))]
		named := func(e string) bool { return strings.HasPrefix(e, "Unlisted copy "+copies[i].URL) }
		if obj.Irreparable || !slices.ContainsFunc(obj.Errors, named) {
			t.Errorf("%s: check: irreparable %v, object errors %q: want the unlisted copy %s named",
				d.name, obj.Irreparable, obj.Errors, copies[i].URL)
		}
	}

	for i, res := range rebuildLost(t, f, rebuild.Options{}, lost) {
		d := damages[i]
		if res.Outcome != rebuild.Recorded && res.Outcome != rebuild.Rebuilt {
			t.Errorf("%s: %s %v, want repaired from %s", d.name, res.Outcome, res.Err, copies[i].URL)
		}
	}
	f.ReadAll(nil)
}

// TestRecordedCopyWithWrongAttributesIsReplaced loses the only listed copy
// of SINGLE objects whose data survives in an unlisted copy with a wrong
// attribute: another policy, no fullpath, another position. A dry run
// plans to record the unlisted copy, then replace it. Rebuilding each lost
// copy by URL, once, does so: the namespace is then clean, the data never
// having been without a listed copy.
func TestRecordedCopyWithWrongAttributesIsReplaced(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(24)
	damages := []wrongAttr{
		{"another policy", chunk.AttrStoragePolicy, "THREECOPIES"},
		{"no fullpath", chunk.AttrFullpathPrefix, ""},
		{"another position", chunk.AttrPosition, "1"},
	}
	objects, lost, copies := loseToUnlistedCopies(t, f, damages)
	for i, res := range rebuildLost(t, f, rebuild.Options{DryRun: true}, lost) {
		d := damages[i]
		if res.Outcome != rebuild.Planned || !strings.Contains(res.Detail, "then replace it") {
			t.Errorf("%s: dry run: %s (%s), want the copy recorded then replaced", d.name,
				res.Line(), res.Detail)
		}
	}
	for i, res := range rebuildLost(t, f, rebuild.Options{}, lost) {
		d := damages[i]
		if res.Outcome != rebuild.Rebuilt || res.NewURL == copies[i].URL {
			t.Errorf("%s: %s to %s %v, want %s recorded then replaced", d.name, res.Outcome,
				res.NewURL, res.Err, copies[i].URL)
		}
		name := object.Name{Account: integritytest.Account, Container: f.ContainerOf(objects[i]),
			Path: objects[i].Name}
		if now := integritytest.CopiesAt(f.Locate(name), "0"); len(now) != 1 ||
			now[0].URL != res.NewURL {
			t.Errorf("%s: the object lists %v at position 0, want %s", d.name, now, res.NewURL)
		}
	}
	checkClean(t, f, "after one rebuild")
}
