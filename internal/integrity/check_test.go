package integrity_test

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/integrity"
	"github.com/gridkeep/gridkeep/internal/integrity/integritytest"
	"github.com/gridkeep/gridkeep/internal/object"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

// TestCheckReportsExactlyTheDamage checks a clean namespace, breaks it in
// every way of the acceptance scenario, and checks that a full check
// reports the damaged items and nothing else.
func TestCheckReportsExactlyTheDamage(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(80)
	opts := integrity.Options{Checksum: true, OrphanMinAge: -1, Concurrency: 8}

	bad, _, st := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, integrity.Target{})
	if len(bad) != 0 {
		t.Fatalf("clean namespace: %d findings: %v", len(bad), bad)
	}
	if st.Objects.Checked != 80 || st.Containers.Checked != 4 || st.Accounts.Checked != 1 ||
		st.Volumes.Checked != 4 {
		t.Errorf("clean namespace: counted %+v", st)
	}

	d := f.Break()
	var errorFile bytes.Buffer
	opts.ErrorFile = &errorFile
	got, results, st := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, integrity.Target{})
	opts.ErrorFile = nil
	if diff := cmp.Diff(d.Want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
		for _, it := range got {
			t.Logf("%s %s: %v", it.Kind, it.Item, results[it].Errors)
		}
	}
	for _, it := range d.Irreparable {
		if r := results[it]; !r.Irreparable {
			t.Errorf("%s %s not reported irreparable", it.Kind, it.Item)
		}
	}
	if st.Problems() != int64(len(d.Want)) || st.Orphans != 1 {
		t.Errorf("counters: %+v", st)
	}

	// The error file, fed back, names the same items; with confirmations
	// they are checked twice and still reported.
	targets, err := integrity.ReadTargets(&errorFile)
	if err != nil {
		t.Fatal(err)
	}
	opts.Confirmations = 1
	got, _, _ = integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, targets...)
	if diff := cmp.Diff(d.Want, got); diff != "" {
		t.Errorf("findings from the error file (-want +got):\n%s", diff)
	}
	opts.Confirmations = 0

	// Without checksums, the flipped bytes go unseen.
	opts.Checksum = false
	got, _, _ = integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, integrity.Target{})
	if diff := cmp.Diff(d.WithoutHashOnly(), got); diff != "" {
		t.Errorf("findings without checksums (-want +got):\n%s", diff)
	}
}

// TestVolumeFindings checks volumes whose reverse index lacks a record of
// a chunk and holds records of chunks that do not exist (sorting first,
// in the middle and last); each must be found by a volume walk with
// confirmations, and again from the error file, whatever the page sizes
// of the walk.
func TestVolumeFindings(t *testing.T) {
	for _, pages := range [][2]int{{1000, 10000}, {3, 2}, {1, 7}} {
		t.Run(fmt.Sprintf("pages %d and %d", pages[0], pages[1]), func(t *testing.T) {
			defer integrity.SetVolumePages(pages[0], pages[1])()
			testVolumeFindings(t)
		})
	}
}

func testVolumeFindings(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(40)
	rc, err := rdir.NewClient(f.NS.RdirURL, rdir.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	o := f.Locate(f.Objects[1])
	c := o.Chunks[0]
	cid := chunk.ContainerID(f.Objects[1].Account, f.Objects[1].Container)
	if err := rc.Delete(f.Ctx, c.Host(), []rdir.ChunkRef{{ContainerID: cid,
		ChunkID: c.ID()}}); err != nil {
		t.Fatal(err)
	}
	want := []integritytest.Item{integritytest.ChunkItem(c)}
	for _, bogus := range []string{strings.Repeat("00", 32), strings.Repeat("AB", 32),
		strings.Repeat("FF", 32)} {
		if err := rc.Push(f.Ctx, "rawx-2", []rdir.Record{{ContainerID: cid, ChunkID: bogus,
			ContentID: o.ContentID, Path: o.Name, Version: o.Version}}); err != nil {
			t.Fatal(err)
		}
		want = append(want, integritytest.Item{Kind: integrity.KindChunk, Item: "http://rawx-2/" + bogus})
	}
	want = integritytest.Sorted(want)

	var errorFile bytes.Buffer
	opts := integrity.Options{OrphanMinAge: -1, Confirmations: 1, ErrorFile: &errorFile}
	got, res, _ := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts,
		integrity.Target{Volume: "rawx-1"}, integrity.Target{Volume: "rawx-2"},
		integrity.Target{Volume: "rawx-3"})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("volume findings (-want +got):\n%s", diff)
		for _, it := range got {
			t.Logf("%s %s: %v", it.Kind, it.Item, res[it].Errors)
		}
	}
	targets, err := integrity.ReadTargets(&errorFile)
	if err != nil {
		t.Fatal(err)
	}
	opts.ErrorFile = nil
	got, _, _ = integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, targets...)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings from the error file (-want +got):\n%s", diff)
	}
}

// TestOrphanAge checks that an unowned chunk counts as an orphan only once
// older than the minimum age, read from its chunk server's reply.
func TestOrphanAge(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(8)
	orphan := f.Orphan()
	target := integrity.Target{Chunk: orphan.Item}
	got, _, _ := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, integrity.Options{}, target)
	if len(got) != 0 {
		t.Errorf("a fresh unowned chunk reported: %v", got)
	}
	old := time.Now().Add(-2 * integrity.DefaultOrphanMinAge)
	if err := os.Chtimes(f.ChunkPath(orphan.Item), old, old); err != nil {
		t.Fatal(err)
	}
	got, res, _ := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, integrity.Options{}, target)
	if diff := cmp.Diff([]integritytest.Item{orphan}, got); diff != "" {
		t.Errorf("an old unowned chunk (-want +got):\n%s", diff)
	}
	if r := res[orphan]; len(r.Errors) != 1 || !strings.HasPrefix(r.Errors[0], "Orphan: ") {
		t.Errorf("orphan finding %v", r.Errors)
	}
}

// TestBytesHashedAreTheBytesHashed checks an object with --checksum while
// its copies are damaged: a copy of the right size whose data is wrong was
// hashed whole and counts, a truncated one, which its chunk server refuses
// before hashing, does not. Without --checksum the truncated copy is said
// short, not said to fail a hash.
func TestBytesHashedAreTheBytesHashed(t *testing.T) {
	f := integritytest.Start(t, 3)
	name := object.Name{Account: integritytest.Account, Container: "hashed", Path: "obj"}
	f.Write(1, func(int) object.Name { return name }, func(int) (int, string) { return 100000, "TWOCOPIES" })
	o := f.Locate(name)
	var total int64
	for _, c := range o.Chunks {
		total += c.Size
	}
	target := integrity.Target{Account: name.Account, Container: name.Container, Object: name.Path}
	opts := integrity.Options{Checksum: true, OrphanMinAge: -1}
	check := func(what string, want int64) {
		t.Helper()
		if _, _, st := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, target); st.Bytes != want {
			t.Errorf("%s: %d bytes hashed, want %d", what, st.Bytes, want)
		}
	}
	check("intact", total)

	flipped := o.Chunks[0]
	fh, err := os.OpenFile(f.Path(flipped), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fh.WriteAt([]byte("not the data"), 0); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	check("a copy overwritten in place", total)

	truncated := o.Chunks[len(o.Chunks)-1]
	if err := os.Truncate(f.Path(truncated), 10); err != nil {
		t.Fatal(err)
	}
	check("a copy truncated too", total-truncated.Size)

	// Without checksums only sizes are checked, and the finding says so.
	opts.Checksum = false
	_, results, _ := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, target)
	var findings []string
	for _, r := range results {
		findings = append(findings, r.Errors...)
	}
	if !slices.Contains(findings, "Corrupt: the file holds less data than its size in the directory") {
		t.Errorf("without checksums, findings %q: want the truncated copy said short", findings)
	}
}
