package integrity_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/integrity"
	"github.com/gridkeep/gridkeep/internal/integrity/integritytest"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/object"
	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

// TestChunkChecksKeepIrreparable deletes every copy of a position of one
// object and one copy of a position of another: a check of the chunks by
// URL, of their volumes or of the error file of a full check must say
// irreparable of the first object's copies only, as the full check does.
func TestChunkChecksKeepIrreparable(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(16)
	two := f.ObjectsOf("TWOCOPIES")
	lost, damaged := integritytest.CopiesAt(two[0], "0"), integritytest.CopiesAt(two[1], "0")[:1]
	for _, c := range append(slices.Clone(lost), damaged...) {
		if err := os.Remove(f.Path(c)); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]bool{damaged[0].URL: false}
	for _, c := range lost {
		want[c.URL] = true
	}
	verify := func(name string, res map[integritytest.Item]integrity.Result) {
		t.Helper()
		for u, irreparable := range want {
			r, ok := res[integritytest.Item{Kind: integrity.KindChunk, Item: u}]
			if !ok {
				t.Errorf("%s: %s not reported", name, u)
			} else if r.Irreparable != irreparable {
				t.Errorf("%s: %s irreparable %v, want %v (%v)", name, u, r.Irreparable,
					irreparable, r.Errors)
			}
		}
	}

	var errorFile bytes.Buffer
	opts := integrity.Options{OrphanMinAge: -1, ErrorFile: &errorFile}
	_, res, _ := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, integrity.Target{})
	verify("full check", res)
	targets, err := integrity.ReadTargets(&errorFile)
	if err != nil {
		t.Fatal(err)
	}
	opts.ErrorFile = nil
	_, res, _ = integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, targets...)
	verify("error file", res)

	var chunks, volumes []integrity.Target
	for u := range want {
		chunks = append(chunks, integrity.Target{Chunk: u})
	}
	for _, r := range f.NS.Rawx {
		volumes = append(volumes, integrity.Target{Volume: r.ServiceID})
	}
	for _, tc := range []struct {
		name    string
		targets []integrity.Target
	}{{"chunks by URL", chunks}, {"volumes", volumes}} {
		_, res, _ = integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, tc.targets...)
		verify(tc.name, res)
	}
}

// TestErrorFilePositionChecksTheObject feeds the checker an error file
// line naming a metachunk position, as written for a missing copy: it
// checks that object.
func TestErrorFilePositionChecksTheObject(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(8)
	n := f.Objects[5]
	o := f.Locate(n)
	var line bytes.Buffer
	if err := integrity.WriteErrorLine(&line, &integrity.Result{Kind: integrity.KindChunk,
		Target: integrity.Target{Account: n.Account, Container: n.Container, Object: o.Name,
			Version: o.Version, Chunk: "1"}}); err != nil {
		t.Fatal(err)
	}
	text := line.String()
	targets, err := integrity.ReadTargets(&line)
	if err != nil {
		t.Fatal(err)
	}
	bad, res, st := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, integrity.Options{}, targets...)
	for _, it := range bad {
		t.Errorf("%s %s: %v %v", it.Kind, it.Item, res[it].Errors, res[it].Failed)
	}
	if st.Objects.Checked != 1 || st.Chunks.Checked != int64(len(o.Chunks)) {
		t.Errorf("line %q: counted %+v", text, st)
	}
}

// TestVolumeFindsMissingRecordOfRecentChunk deletes the reverse index
// record of a chunk written a minute ago, younger than the orphan minimum
// age: a volume check must report it missing from the index.
func TestVolumeFindsMissingRecordOfRecentChunk(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(8)
	n := f.Objects[2]
	c := f.Locate(n).Chunks[0]
	f.Unindex(n, c)
	then := time.Now().Add(-time.Minute)
	if err := os.Chtimes(f.Path(c), then, then); err != nil {
		t.Fatal(err)
	}
	bad, res, _ := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, integrity.Options{},
		integrity.Target{Volume: c.Host()})
	it := integritytest.ChunkItem(c)
	if !slices.Equal(bad, []integritytest.Item{it}) ||
		!slices.Equal(res[it].Errors, []string{"Missing from reverse index"}) {
		t.Errorf("findings %v, %s: %v", bad, c.URL, res[it].Errors)
	}
}

// TestMissingCopyIsAnObjectError removes from the directory the entry of
// one copy of a position: the object is in error too, not only the
// position.
func TestMissingCopyIsAnObjectError(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(8)
	o := f.ObjectsOf("TWOCOPIES")[0]
	n := f.Objects[slices.IndexFunc(f.Objects, func(n object.Name) bool { return n.Path == o.Name })]
	c := o.Chunks[0]
	if err := f.Dir.UpdateChunk(f.Ctx, chunk.ContainerID(n.Account, n.Container),
		meta.ChunkUpdate{ContentID: o.ContentID, Old: c}); err != nil {
		t.Fatal(err)
	}
	bad, res, _ := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, integrity.Options{},
		integrity.Target{Account: n.Account, Container: n.Container, Object: n.Path})
	obj := integritytest.ObjectItem(o, n.Container)
	if !slices.Contains(bad, obj) || !slices.Contains(res[obj].Errors, "Missing chunk at position "+c.Pos) {
		t.Errorf("findings %v; object errors %v", bad, res[obj].Errors)
	}
}

// TestChecksumKeepsAttributeFindings damages the attributes of chunks
// whose data is intact (a wrong size, a wrong hash, every attribute gone)
// and flips a byte of another: a check with checksums, of the objects or
// of the chunks by URL, must report what is wrong with the attributes and
// call corrupt only the chunk whose data changed.
func TestChecksumKeepsAttributeFindings(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(16)
	two := f.ObjectsOf("TWOCOPIES")
	size, hash, bare, flipped := two[0].Chunks[0], two[1].Chunks[0], two[2].Chunks[0], two[3].Chunks[0]
	f.SetAttr(size, chunk.AttrSize, strconv.FormatInt(size.Size+6, 10))
	f.SetAttr(hash, chunk.AttrHash, strings.Repeat("0", len(hash.Hash)))
	attrs, err := chunk.ReadAttrs(f.Path(bare))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range attrs {
		if err := chunk.RemoveAttr(f.Path(bare), a.Name); err != nil {
			t.Fatal(err)
		}
	}
	integritytest.Flip(t, f.Path(flipped))
	want := map[meta.Chunk]string{size: "size attribute (", hash: "hash attribute (",
		bare: "Faulty: no fullpath attribute", flipped: "Corrupt: "}

	var objects, chunks []integrity.Target
	for _, o := range two[:4] {
		n := f.Objects[slices.IndexFunc(f.Objects, func(n object.Name) bool { return n.Path == o.Name })]
		objects = append(objects, integrity.Target{Account: n.Account, Container: n.Container,
			Object: n.Path})
		chunks = append(chunks, integrity.Target{Chunk: o.Chunks[0].URL})
	}
	opts := integrity.Options{Checksum: true, OrphanMinAge: -1}
	for _, tc := range []struct {
		name    string
		targets []integrity.Target
	}{{"objects", objects}, {"chunks by URL", chunks}} {
		_, res, _ := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, tc.targets...)
		for c, finding := range want {
			errs := res[integritytest.ChunkItem(c)].Errors
			corrupt := slices.ContainsFunc(errs, func(e string) bool {
				return strings.HasPrefix(e, "Corrupt: ")
			})
			if !slices.ContainsFunc(errs, func(e string) bool { return strings.HasPrefix(e, finding) }) ||
				corrupt != (c == flipped) {
				t.Errorf("%s: %s: %q, want %q and corrupt %v", tc.name, c.URL, errs, finding,
					c == flipped)
			}
		}
	}
}

// TestMalformedFullpath gives a listed chunk and an unlisted one with no
// reverse index record a fullpath attribute that does not parse: both
// findings must say so, quoting it.
func TestMalformedFullpath(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(8)
	const bad = "acct/ctr-0"
	want := `fullpath attribute is malformed: "` + bad + `"`
	setPath := func(chunkURL string) {
		t.Helper()
		_, id, err := rawx.SplitChunkURL(chunkURL)
		if err != nil {
			t.Fatal(err)
		}
		if err := chunk.SetAttrs(f.ChunkPath(chunkURL), []chunk.Attr{{
			Name: chunk.AttrFullpathPrefix + id, Value: bad}}); err != nil {
			t.Fatal(err)
		}
	}
	listed := f.ObjectsOf("TWOCOPIES")[0].Chunks[0]
	setPath(listed.URL)
	orphan := f.Orphan()
	setPath(orphan.Item)
	f.WaitIndexed() // the orphan's record, deleted below, must not come in after
	host, id, _ := rawx.SplitChunkURL(orphan.Item)
	rc, err := rdir.NewClient(f.NS.RdirURL, rdir.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Delete(f.Ctx, host, []rdir.ChunkRef{{
		ContainerID: chunk.ContainerID(integritytest.Account, "ctr-0"), ChunkID: id}}); err != nil {
		t.Fatal(err)
	}

	_, res, _ := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, integrity.Options{OrphanMinAge: -1},
		integrity.Target{Chunk: listed.URL}, integrity.Target{Chunk: orphan.Item})
	if errs := res[integritytest.ChunkItem(listed)].Errors; !slices.Contains(errs, want) {
		t.Errorf("listed chunk: %q, want %q", errs, want)
	}
	if errs := res[orphan].Errors; len(errs) != 1 || !strings.HasPrefix(errs[0], "Orphan: ") ||
		!strings.Contains(errs[0], want) {
		t.Errorf("unlisted chunk: %q, want an orphan with %q", errs, want)
	}
}

// TestUnparsableSize gives chunks size attributes that do not parse: a
// check of their objects, and of each chunk by URL, must quote the stored
// value and say that it does not parse, not report the size as missing.
func TestUnparsableSize(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(8)
	two := f.ObjectsOf("TWOCOPIES")
	leadingZero := "0" + strconv.FormatInt(two[1].Chunks[0].Size, 10)
	for i, v := range []string{"abc", leadingZero} {
		o := two[i]
		c := o.Chunks[0]
		f.SetAttr(c, chunk.AttrSize, v)
		want := fmt.Sprintf("size attribute %q does not parse (the directory's size: %d)", v, c.Size)
		for _, target := range []integrity.Target{{Chunk: c.URL}, {Account: integritytest.Account,
			Container: f.ContainerOf(o), Object: o.Name}} {
			_, res, _ := integritytest.Check(t, f.Ctx, f.NS.ProxyURL,
				integrity.Options{OrphanMinAge: -1}, target)
			if errs := res[integritytest.ChunkItem(c)].Errors; !slices.Contains(errs, want) {
				t.Errorf("check %+v: %q, want %q", target, errs, want)
			}
		}
	}
}

// TestWrongAttributesAreNotLostData deletes one copy of a two-copy
// position and gives the other a wrong hash attribute, its data intact: a
// check with checksums, of the object or of the chunks by URL, must not
// call the position irreparable, and one without must say that no copy
// was verified rather than that the data is lost.
func TestWrongAttributesAreNotLostData(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(16)
	o := f.ObjectsOf("TWOCOPIES")[0]
	cs := integritytest.CopiesAt(o, "0")
	gone, wrong := cs[0], cs[1]
	if err := os.Remove(f.Path(gone)); err != nil {
		t.Fatal(err)
	}
	f.SetAttr(wrong, chunk.AttrHash, strings.Repeat("0", len(wrong.Hash)))
	item := integritytest.ObjectItem(o, f.ContainerOf(o))
	object := integrity.Target{Account: integritytest.Account, Container: f.ContainerOf(o),
		Object: o.Name}
	chunks := []integrity.Target{{Chunk: gone.URL}, {Chunk: wrong.URL}}
	for _, tc := range []struct {
		name     string
		checksum bool
		targets  []integrity.Target
	}{{"object, checksums", true, []integrity.Target{object}}, {"object", false, []integrity.Target{object}},
		{"chunks by URL, checksums", true, chunks}, {"chunks by URL", false, chunks}} {
		opts := integrity.Options{Checksum: tc.checksum, OrphanMinAge: -1}
		_, res, st := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, tc.targets...)
		for _, c := range cs {
			if r, ok := res[integritytest.ChunkItem(c)]; !ok || r.Irreparable {
				t.Errorf("%s: %s reported %v, irreparable %v: %q", tc.name, c.URL, ok, r.Irreparable,
					r.Errors)
			}
		}
		if st.Irreparable != 0 {
			t.Errorf("%s: %d irreparable findings, want none", tc.name, st.Irreparable)
		}
		if len(tc.targets) > 1 {
			continue
		}
		errs := res[item].Errors
		unverified := slices.ContainsFunc(errs, func(e string) bool {
			return strings.HasPrefix(e, "No copy verified at position 0")
		})
		if res[item].Irreparable || unverified == tc.checksum {
			t.Errorf("%s: object irreparable %v: %q", tc.name, res[item].Irreparable, errs)
		}
	}
}

// TestSizeSeenWithoutChecksum truncates one copy, removes the size
// attribute of another and appends bytes to a third: a check without
// checksums reports all three, in a check of the namespace and of each
// chunk by URL, the truncated one as corrupt, the overlong one as holding
// trailing bytes; nothing else is reported as a chunk.
func TestSizeSeenWithoutChecksum(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(16)
	var big []meta.Chunk
	for _, o := range f.ObjectsOf("TWOCOPIES") {
		if c := o.Chunks[0]; c.Size >= 2 {
			big = append(big, c) // one chunk of each object
		}
	}
	if len(big) < 2 {
		t.Fatal("the fixture has too few chunks of two bytes or more")
	}
	if len(big) < 3 {
		t.Fatal("the fixture has too few chunks of two bytes or more")
	}
	truncated, unsized, overlong := big[0], big[1], big[2]
	integritytest.Append(t, f.Path(overlong), "trailing")
	if err := os.Truncate(f.Path(truncated), truncated.Size/2); err != nil {
		t.Fatal(err)
	}
	if err := chunk.RemoveAttr(f.Path(unsized), chunk.AttrSize); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{truncated.URL: "Corrupt", unsized.URL: "size attribute (none)",
		overlong.URL: "trailing bytes"}
	opts := integrity.Options{OrphanMinAge: -1}
	targets := []integrity.Target{{}, {Chunk: truncated.URL}, {Chunk: unsized.URL},
		{Chunk: overlong.URL}}
	for _, target := range targets {
		items, res, _ := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, target)
		for u, text := range want {
			if target.Chunk != "" && target.Chunk != u {
				continue
			}
			r, ok := res[integritytest.Item{Kind: integrity.KindChunk, Item: u}]
			has := func(e string) bool { return strings.Contains(e, text) }
			if !ok || !slices.ContainsFunc(r.Errors, has) {
				t.Errorf("check %+v: %s: %v, want %q", target, u, r.Errors, text)
			}
		}
		for _, it := range items {
			if _, ok := want[it.Item]; it.Kind == integrity.KindChunk && !ok {
				t.Errorf("check %+v: %s reported: %v", target, it.Item, res[it].Errors)
			}
		}
		if target.Chunk == "" {
			// The objects' rows tell what is wrong with their copies.
			for u, text := range map[string]string{overlong.URL: "trailing bytes",
				truncated.URL: "Corrupt"} {
				named := false
				for it, r := range res {
					for _, e := range r.Errors {
						if it.Kind == integrity.KindObject && strings.Contains(e, u) {
							named = strings.Contains(e, text)
						}
					}
				}
				if !named {
					t.Errorf("the object of %s does not say %q of its copy", u, text)
				}
			}
		}
	}
}

// TestChunkMethodCompared gives one copy the chunk method of another
// policy and checksum: the check reports that copy, and only it.
func TestChunkMethodCompared(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(8)
	o := f.ObjectsOf("THREECOPIES")[0]
	c := o.Chunks[0]
	f.SetAttr(c, chunk.AttrChunkMethod, "plain/cca=md5,nb_copy=3")
	_, res, _ := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, integrity.Options{OrphanMinAge: -1},
		integrity.Target{})
	r := res[integritytest.ChunkItem(c)]
	for _, want := range []string{"chunk method attribute (plain/cca=md5,nb_copy=3) differs",
		"does not fit the checksum algorithm md5"} {
		if !slices.ContainsFunc(r.Errors, func(e string) bool { return strings.Contains(e, want) }) {
			t.Errorf("%s: %q, want %q", c.URL, r.Errors, want)
		}
	}
	for it, r := range res {
		if it.Kind == integrity.KindChunk && it.Item != c.URL {
			t.Errorf("%s reported: %v", it.Item, r.Errors)
		}
	}
}

// TestVolumeFindsWhatIsNotAChunk: a link and a pipe under chunk names in a
// volume are findings of its walk, and nothing else is.
func TestVolumeFindsWhatIsNotAChunk(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(4)
	c := f.Locate(f.Objects[0]).Chunks[0]
	dir := filepath.Dir(f.Path(c))
	link, pipe := c.ID()[:3]+strings.Repeat("1", 61), c.ID()[:3]+strings.Repeat("2", 61)
	if err := os.Symlink(f.Path(c), filepath.Join(dir, link)); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, pipe), 0o644); err != nil {
		t.Fatal(err)
	}
	bad, res, _ := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, integrity.Options{OrphanMinAge: -1},
		integrity.Target{Volume: c.Host()})
	want := integritytest.Sorted([]integritytest.Item{
		{Kind: integrity.KindChunk, Item: "http://" + c.Host() + "/" + link},
		{Kind: integrity.KindChunk, Item: "http://" + c.Host() + "/" + pipe}})
	if diff := cmp.Diff(want, bad); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	for _, it := range bad {
		if errs := res[it].Errors; len(errs) != 1 || !strings.Contains(errs[0], "Not a chunk file") {
			t.Errorf("%s: %q", it.Item, errs)
		}
	}
}

// TestVolumeNamesMisplacedChunkFiles copies a chunk file into a directory
// of its volume that holds other chunks and into one that holds none,
// neither of them its id's, and into its own under a lowercase name, which
// no request by id finds: the walk of the volume goes on past them,
// finds nothing wrong with the chunks, and its own result names each copy
// by its path. The error file names the volume, and the rebuild file
// nothing.
func TestVolumeNamesMisplacedChunkFiles(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(8)
	c := f.Locate(f.Objects[0]).Chunks[0]
	vol := f.Volume(c.Host())
	other := ""
	for _, n := range f.Objects {
		for _, o := range f.Locate(n).Chunks {
			if o.Host() == c.Host() && o.ID()[:3] != c.ID()[:3] {
				other = o.ID()[:3]
			}
		}
	}
	if other == "" {
		t.Fatal("no chunk of another directory on", c.Host())
	}
	empty := "FFF"
	if c.ID()[:3] == empty {
		empty = "000"
	}
	data, err := os.ReadFile(f.Path(c))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(vol, empty), 0o755)
	var want []string
	for _, rel := range []string{other + "/" + c.ID(), empty + "/" + c.ID(),
		c.ID()[:3] + "/" + strings.ToLower(c.ID())} {
		if err := os.WriteFile(filepath.Join(vol, filepath.FromSlash(rel)), data, 0o644); err != nil {
			t.Fatal(err)
		}
		why := ""
		if strings.HasSuffix(rel, strings.ToLower(c.ID())) {
			why = " (not named in uppercase: requests by chunk id look for the uppercase name)"
		}
		want = append(want, "Misplaced chunk file: "+c.Host()+": "+rel+why)
	}
	slices.Sort(want)
	var errFile, rebuildFile bytes.Buffer
	bad, res, _ := integritytest.Check(t, f.Ctx, f.NS.ProxyURL,
		integrity.Options{ErrorFile: &errFile, RebuildFile: &rebuildFile}, integrity.Target{Volume: c.Host()})
	it := integritytest.Item{Kind: integrity.KindVolume, Item: c.Host()}
	if diff := cmp.Diff([]integritytest.Item{it}, bad); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, res[it].Errors); diff != "" {
		t.Errorf("volume errors (-want +got):\n%s", diff)
	}
	if got := errFile.String(); got != "volume="+c.Host()+"\n" {
		t.Errorf("error file %q", got)
	}
	if rebuildFile.Len() != 0 {
		t.Errorf("rebuild file %q", rebuildFile.String())
	}
	r := res[it]
	js, err := r.MarshalJSON()
	if err != nil || !strings.Contains(string(js), `"status":"error"`) ||
		!strings.Contains(string(js), strconv.Quote(want[0])) {
		t.Errorf("JSON %s, %v", js, err)
	}
}

// TestUnlistedCopyWithAnotherPosition copies the only chunk of a SINGLE
// object, as cp -a would, to a chunk server without it, gives the copy
// another position attribute, then deletes the listed chunk: the data
// survives in the unlisted copy, usable whatever its attributes say. A
// check of the object, or of the lost chunk by URL, with checksums or
// without (unlisted copies are re-hashed either way), calls nothing
// irreparable, and the object names the copy as one that verifies.
func TestUnlistedCopyWithAnotherPosition(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(8)
	o := f.ObjectsOf("SINGLE")[0]
	c := o.Chunks[0]
	cp := f.CopyFile(c, f.Spares(o, c.Pos)[0].ServiceID)
	f.SetAttr(cp, chunk.AttrPosition, "1")
	if err := os.Remove(f.Path(c)); err != nil {
		t.Fatal(err)
	}
	ctr := f.ContainerOf(o)
	objItem := integritytest.ObjectItem(o, ctr)
	for _, checksum := range []bool{false, true} {
		for _, target := range []integrity.Target{
			{Account: integritytest.Account, Container: ctr, Object: o.Name},
			{Chunk: c.URL},
		} {
			opts := integrity.Options{Checksum: checksum, OrphanMinAge: -1}
			_, res, st := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, target)
			if st.Irreparable != 0 || res[integritytest.ChunkItem(c)].Irreparable {
				t.Errorf("checksum %v, %+v: %d irreparable, want none", checksum, target,
					st.Irreparable)
			}
			named := func(e string) bool { return strings.HasPrefix(e, "Unlisted copy "+cp.URL) }
			if r, ok := res[objItem]; ok && !slices.ContainsFunc(r.Errors, named) {
				t.Errorf("checksum %v: object errors %q, want the unlisted copy %s named", checksum,
					r.Errors, cp.URL)
			}
		}
	}
}
