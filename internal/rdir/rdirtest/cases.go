package rdirtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

func testCreateIdempotent(t *testing.T, s rdir.Store) {
	ctx := context.Background()
	setup(t, s, Recs(0, 3, 2, 100))
	if err := s.CreateVolume(ctx, vol); err != nil {
		t.Fatalf("second CreateVolume: %v", err)
	}
	if got := fetchAll(t, s, rdir.ListOptions{}); len(got) != 3 {
		t.Errorf("records after a second create = %d, want 3", len(got))
	}
}

func testUnknownVolume(t *testing.T, s rdir.Store) {
	ctx := context.Background()
	setup(t, s, Recs(0, 1, 1, 100))
	const other = "127.0.0.1:6202"
	ref := rdir.ChunkRef{ContainerID: CID(0), ChunkID: ChunkID(0)}
	calls := map[string]func() error{
		"Push":            func() error { return s.Push(ctx, other, Recs(0, 1, 1, 100)) },
		"Push none":       func() error { return s.Push(ctx, other, nil) },
		"Delete":          func() error { return s.Delete(ctx, other, []rdir.ChunkRef{ref}) },
		"Fetch":           func() error { _, err := s.Fetch(ctx, other, rdir.ListOptions{}); return err },
		"Status":          func() error { _, err := s.Status(ctx, other, rdir.ListOptions{}); return err },
		"IncidentDate":    func() error { _, err := s.IncidentDate(ctx, other); return err },
		"SetIncidentDate": func() error { return s.SetIncidentDate(ctx, other, 5) },
		"Lock":            func() error { return s.Lock(ctx, other, "me") },
		"Unlock":          func() error { return s.Unlock(ctx, other) },
		"Show":            func() error { _, err := s.Show(ctx, other); return err },
		"Clear": func() error {
			_, err := s.Clear(ctx, other, rdir.ClearOptions{All: true})
			return err
		},
	}
	for name, call := range calls {
		wantErr(t, name, call(), rdir.ErrNoVolume)
	}
	if _, err := s.Fetch(ctx, other, rdir.ListOptions{}); err == nil {
		t.Error("a failed call created the volume")
	}
}

func testInvalidVolumeID(t *testing.T, s rdir.Store) {
	ctx := context.Background()
	for _, v := range []string{"", "a\nb", strings.Repeat("v", rdir.MaxVolumeLen+1)} {
		wantErr(t, fmt.Sprintf("CreateVolume(%q)", v), s.CreateVolume(ctx, v), rdir.ErrInvalid)
		wantErr(t, fmt.Sprintf("Push(%q)", v), s.Push(ctx, v, Recs(0, 1, 1, 1)), rdir.ErrInvalid)
	}
}

func testRoundTrip(t *testing.T, s rdir.Store) {
	recs := Recs(0, 20, 3, 1700000000)
	lower := make([]rdir.Record, len(recs))
	for i, r := range recs {
		r.ContainerID = strings.ToLower(r.ContainerID)
		r.ChunkID = strings.ToLower(r.ChunkID)
		r.ContentID = strings.ToLower(r.ContentID)
		lower[i] = r
	}
	setup(t, s, lower)
	page := fetch(t, s, rdir.ListOptions{})
	diffRecords(t, "fetched records", Sorted(recs), page.Records)
	if page.Truncated || page.Marker != "" {
		t.Errorf("page truncated=%v marker=%q, want false and empty", page.Truncated, page.Marker)
	}
}

func testPushReplaces(t *testing.T, s rdir.Store) {
	first := Rec(1, 7, 100)
	setup(t, s, []rdir.Record{first})
	second := first
	second.ContentID, second.Path, second.Version, second.Mtime = "ABCDEF", "moved", 42, 200
	for range 2 {
		if err := s.Push(context.Background(), vol, []rdir.Record{second}); err != nil {
			t.Fatal(err)
		}
	}
	diffRecords(t, "records", []rdir.Record{second}, fetchAll(t, s, rdir.ListOptions{}))
}

// badRecords are records every store refuses.
func badRecords() map[string]rdir.Record {
	good := Rec(0, 999, 100)
	bad := map[string]func(*rdir.Record){
		"short container id":   func(r *rdir.Record) { r.ContainerID = r.ContainerID[:63] },
		"non-hex container id": func(r *rdir.Record) { r.ContainerID = "G" + r.ContainerID[1:] },
		"empty chunk id":       func(r *rdir.Record) { r.ChunkID = "" },
		"short chunk id":       func(r *rdir.Record) { r.ChunkID = r.ChunkID[:23] },
		"non-hex chunk id":     func(r *rdir.Record) { r.ChunkID = r.ChunkID[:30] + "/../" + r.ChunkID[34:] },
		"empty content id":     func(r *rdir.Record) { r.ContentID = "" },
		"non-hex content id":   func(r *rdir.Record) { r.ContentID = "content" },
		"empty path":           func(r *rdir.Record) { r.Path = "" },
		"long path":            func(r *rdir.Record) { r.Path = strings.Repeat("p", rdir.MaxPathLen+1) },
		"negative mtime":       func(r *rdir.Record) { r.Mtime = -1 },
	}
	recs := make(map[string]rdir.Record, len(bad))
	for name, spoil := range bad {
		r := good
		spoil(&r)
		recs[name] = r
	}
	return recs
}

func testPushInvalid(t *testing.T, s rdir.Store) {
	before := Recs(0, 2, 1, 100)
	setup(t, s, before)
	for name, bad := range badRecords() {
		batch := []rdir.Record{Rec(1, 50, 100), bad}
		wantErr(t, name, s.Push(context.Background(), vol, batch), rdir.ErrInvalid)
	}
	diffRecords(t, "records after refused pushes", Sorted(before), fetchAll(t, s, rdir.ListOptions{}))
}

func testDelete(t *testing.T, s rdir.Store) {
	ctx := context.Background()
	recs := Recs(0, 4, 2, 100)
	setup(t, s, recs)
	refs := []rdir.ChunkRef{
		{ContainerID: recs[0].ContainerID, ChunkID: recs[0].ChunkID},
		{ContainerID: strings.ToLower(recs[1].ContainerID), ChunkID: strings.ToLower(recs[1].ChunkID)},
		{ContainerID: CID(9), ChunkID: ChunkID(9)}, // never pushed
	}
	for range 2 {
		if err := s.Delete(ctx, vol, refs); err != nil {
			t.Fatalf("Delete: %v", err)
		}
	}
	diffRecords(t, "records after delete", Sorted(recs[2:]), fetchAll(t, s, rdir.ListOptions{}))
	if err := s.Delete(ctx, vol, nil); err != nil {
		t.Errorf("Delete of nothing: %v", err)
	}
}

func testDeleteInvalid(t *testing.T, s rdir.Store) {
	recs := Recs(0, 3, 1, 100)
	setup(t, s, recs)
	refs := []rdir.ChunkRef{
		{ContainerID: recs[0].ContainerID, ChunkID: recs[0].ChunkID},
		{ContainerID: recs[1].ContainerID, ChunkID: "not-hex"},
	}
	wantErr(t, "Delete with a bad id", s.Delete(context.Background(), vol, refs), rdir.ErrInvalid)
	diffRecords(t, "records after a refused delete", Sorted(recs), fetchAll(t, s, rdir.ListOptions{}))
}

func testVolumesSeparate(t *testing.T, s rdir.Store) {
	ctx := context.Background()
	const other = "rawx-2"
	setup(t, s, Recs(0, 3, 1, 100))
	if err := s.CreateVolume(ctx, other); err != nil {
		t.Fatal(err)
	}
	same := Rec(0, 0, 100)
	same.Path = "other volume"
	if err := s.Push(ctx, other, []rdir.Record{same}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetIncidentDate(ctx, other, 50); err != nil {
		t.Fatal(err)
	}
	if got := fetchAll(t, s, rdir.ListOptions{}); len(got) != 3 || got[0].Path == "other volume" {
		t.Errorf("volume %s sees the other volume's records: %+v", vol, got)
	}
	if d, err := s.IncidentDate(ctx, vol); err != nil || d != 0 {
		t.Errorf("IncidentDate(%s) = %d, %v; want 0", vol, d, err)
	}
}

func testPaging(t *testing.T, s rdir.Store) {
	recs := Recs(0, 2500, 7, 100)
	setup(t, s, recs)
	want := Sorted(recs)
	opts := rdir.ListOptions{Limit: 1000}
	var got []rdir.Record
	for i, size := range []int{1000, 1000, 500} {
		page := fetch(t, s, opts)
		last := i == 2
		if len(page.Records) != size || page.Truncated == last {
			t.Fatalf("page %d: %d records, truncated %v; want %d, %v",
				i, len(page.Records), page.Truncated, size, !last)
		}
		if !last && page.Marker != page.Records[size-1].Key() {
			t.Errorf("page %d marker %q, want its last key", i, page.Marker)
		}
		got = append(got, page.Records...)
		opts.Marker = page.Marker
	}
	diffRecords(t, "records over the pages", want, got)
	diffRecords(t, "records from All", want, fetchAll(t, s, rdir.ListOptions{Limit: 1000}))
}

func testLimitBounds(t *testing.T, s rdir.Store) {
	recs := Recs(0, rdir.MaxLimit+1, 5, 100)
	setup(t, s, recs)
	tests := []struct {
		limit, want int
	}{
		{0, rdir.DefaultLimit}, {-3, rdir.DefaultLimit}, {7, 7},
		{rdir.MaxLimit, rdir.MaxLimit}, {rdir.MaxLimit * 10, rdir.MaxLimit},
	}
	for _, tt := range tests {
		page := fetch(t, s, rdir.ListOptions{Limit: tt.limit})
		if len(page.Records) != tt.want || !page.Truncated {
			t.Errorf("Limit %d: %d records, truncated %v; want %d, true",
				tt.limit, len(page.Records), page.Truncated, tt.want)
		}
	}
	exact := fetch(t, s, rdir.ListOptions{Limit: 1, Marker: Sorted(recs)[len(recs)-2].Key()})
	if len(exact.Records) != 1 || exact.Truncated || exact.Marker != "" {
		t.Errorf("page of exactly the last record: %d records, truncated %v, marker %q",
			len(exact.Records), exact.Truncated, exact.Marker)
	}
}

func testMarkerEdges(t *testing.T, s rdir.Store) {
	recs := Sorted(Recs(0, 30, 3, 100))
	setup(t, s, recs)
	k := func(i int) string { return recs[i].Key() }
	firstCID := recs[0].ContainerID
	nFirst := countPrefix(recs, firstCID)
	tests := []struct {
		name   string
		marker string
		want   []rdir.Record
	}{
		{"empty", "", recs},
		{"existing key is excluded", k(4), recs[5:]},
		{"lowercase key", strings.ToLower(k(4)), recs[5:]},
		{"between keys", k(9) + "0", recs[10:]},
		{"before every key", "0", recs},
		{"last key", k(len(recs) - 1), nil},
		{"after every key", strings.Repeat("F", 64) + "|" + strings.Repeat("F", 64), nil},
		{"whole container id", firstCID, recs},
		{"container id and separator", firstCID + "|", recs},
		{"past a container", firstCID + "}", recs[nFirst:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fetchAll(t, s, rdir.ListOptions{Marker: tt.marker, Limit: 4})
			diffRecords(t, "records", tt.want, got)
		})
	}
}

func countPrefix(recs []rdir.Record, prefix string) int {
	n := 0
	for _, r := range recs {
		if strings.HasPrefix(r.Key(), prefix) {
			n++
		}
	}
	return n
}

func filterPrefix(recs []rdir.Record, prefix, marker string) []rdir.Record {
	var out []rdir.Record
	for _, r := range recs {
		if strings.HasPrefix(r.Key(), prefix) && r.Key() > marker {
			out = append(out, r)
		}
	}
	return out
}

func testPrefixEdges(t *testing.T, s rdir.Store) {
	recs := Sorted(Recs(0, 60, 12, 100))
	setup(t, s, recs)
	cid := recs[len(recs)/2].ContainerID
	inside := filterPrefix(recs, cid, "")
	short := cid[:1]
	tests := []struct {
		name, prefix, marker string
	}{
		{"container", cid, ""},
		{"lowercase container", strings.ToLower(cid), ""},
		{"first digit", short, ""},
		{"container and chunk prefix", inside[0].Key()[:66], ""},
		{"marker before the prefix", cid, recs[0].Key()},
		{"marker inside the prefix", cid, inside[1].Key()},
		{"marker after the prefix", cid, recs[len(recs)-1].Key()},
		{"no match", strings.Repeat("F", 64), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := strings.ToUpper(tt.prefix)
			want := filterPrefix(recs, p, strings.ToUpper(tt.marker))
			if tt.name != "no match" && tt.name != "marker after the prefix" && len(want) == 0 {
				t.Fatal("test data selects nothing")
			}
			got := fetchAll(t, s, rdir.ListOptions{Prefix: tt.prefix, Marker: tt.marker, Limit: 2})
			diffRecords(t, "records", want, got)
		})
	}
	for _, bad := range []string{"XYZ", cid + "|zz", cid[:10] + "|"} {
		_, err := s.Fetch(context.Background(), vol, rdir.ListOptions{Prefix: bad})
		wantErr(t, fmt.Sprintf("Fetch(prefix %q)", bad), err, rdir.ErrInvalid)
	}
}

// testLookup selects records by chunk id and by content id, alone and
// with a prefix, a marker, paging and a status.
func testLookup(t *testing.T, s rdir.Store) {
	recs := Recs(0, 40, 5, 100)
	// The same chunk id in a second container, and a content of three
	// chunks in one container.
	twin := Rec(3, 7, 100)
	recs = append(recs, twin)
	content := recs[10].ContentID
	for _, i := range []int{15, 20} {
		recs[i].ContentID, recs[i].ContainerID = content, recs[10].ContainerID
	}
	setup(t, s, recs)
	all := Sorted(recs)
	match := func(keep func(rdir.Record) bool) []rdir.Record {
		var out []rdir.Record
		for _, r := range all {
			if keep(r) {
				out = append(out, r)
			}
		}
		return out
	}
	id := ChunkID(7)
	tests := []struct {
		name string
		opts rdir.ListOptions
		want []rdir.Record
	}{
		{"chunk id in two containers", rdir.ListOptions{ChunkID: strings.ToLower(id)},
			match(func(r rdir.Record) bool { return r.ChunkID == id })},
		{"chunk id and container", rdir.ListOptions{ChunkID: id, Prefix: twin.ContainerID},
			[]rdir.Record{twin}},
		{"content", rdir.ListOptions{ContentID: strings.ToLower(content), Limit: 1},
			match(func(r rdir.Record) bool { return r.ContentID == content })},
		{"content after a marker", rdir.ListOptions{ContentID: content, Marker: recs[15].Key()},
			match(func(r rdir.Record) bool { return r.ContentID == content && r.Key() > recs[15].Key() })},
		{"unknown chunk id", rdir.ListOptions{ChunkID: ChunkID(1000)}, nil},
		{"chunk id of another content", rdir.ListOptions{ChunkID: id, ContentID: content}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			empty := tt.name == "unknown chunk id" || tt.name == "chunk id of another content"
			if !empty && len(tt.want) < 1 {
				t.Fatal("test data selects nothing")
			}
			diffRecords(t, "records", tt.want, fetchAll(t, s, tt.opts))
			whole := tt.opts
			whole.Limit = 0
			st, err := s.Status(context.Background(), vol, whole)
			if err != nil {
				t.Fatalf("Status: %v", err)
			}
			if st.Chunk.Total != int64(len(tt.want)) {
				t.Errorf("Status counts %d records, want %d", st.Chunk.Total, len(tt.want))
			}
		})
	}
	if got := len(match(func(r rdir.Record) bool { return r.ChunkID == id })); got != 2 {
		t.Fatalf("test data has %d records of chunk %s, want 2", got, id)
	}
	for _, bad := range []rdir.ListOptions{{ChunkID: "XYZ"}, {ChunkID: "ABC"}, {ContentID: "not hex"},
		{ContentID: strings.Repeat("A", 65)}} {
		_, err := s.Fetch(context.Background(), vol, bad)
		wantErr(t, fmt.Sprintf("Fetch(%+v)", bad), err, rdir.ErrInvalid)
	}
}

// testByChunk lists in chunk id order, one record a page and more, alone
// and with a prefix, after a marker, with a chunk id in two containers.
func testByChunk(t *testing.T, s rdir.Store) {
	recs := append(Recs(0, 30, 4, 100), Rec(1, 7, 100), Rec(2, 7, 100)) // chunk 7 is in container 3 too
	setup(t, s, recs)
	byChunk := slices.Clone(recs)
	slices.SortFunc(byChunk, func(a, b rdir.Record) int {
		if c := strings.Compare(a.ChunkID, b.ChunkID); c != 0 {
			return c
		}
		return strings.Compare(a.Key(), b.Key())
	})
	if slices.EqualFunc(byChunk, Sorted(recs), func(a, b rdir.Record) bool { return a == b }) {
		t.Fatal("test data lists alike in both orders")
	}
	for _, limit := range []int{1, 3, 1000} {
		got := fetchAll(t, s, rdir.ListOptions{ByChunk: true, Limit: limit})
		diffRecords(t, fmt.Sprintf("limit %d", limit), byChunk, got)
	}
	mid := byChunk[len(byChunk)/2]
	var after, inPrefix []rdir.Record
	for _, r := range byChunk {
		if rdir.After(r.Key(), mid.Key(), true) {
			after = append(after, r)
		}
		if r.ContainerID == mid.ContainerID {
			inPrefix = append(inPrefix, r)
		}
	}
	diffRecords(t, "after a marker", after,
		fetchAll(t, s, rdir.ListOptions{ByChunk: true, Marker: mid.Key(), Limit: 2}))
	diffRecords(t, "one container", inPrefix,
		fetchAll(t, s, rdir.ListOptions{ByChunk: true, Prefix: mid.ContainerID, Limit: 2}))
	_, err := s.Fetch(context.Background(), vol, rdir.ListOptions{ByChunk: true, Marker: "ABC"})
	wantErr(t, "Fetch(by chunk, marker not a key)", err, rdir.ErrInvalid)
}

func testRebuild(t *testing.T, s rdir.Store) {
	ctx := context.Background()
	const incident = 1000
	var recs []rdir.Record
	for i := range 40 {
		mtime := int64(incident - 5 + i%3*5) // 995, 1000 or 1005
		recs = append(recs, Rec(i%4, i, mtime))
	}
	setup(t, s, recs)
	if got := fetchAll(t, s, rdir.ListOptions{Rebuild: true}); len(got) != 0 {
		t.Errorf("rebuild listing without an incident date: %d records, want 0", len(got))
	}
	if err := s.SetIncidentDate(ctx, vol, incident); err != nil {
		t.Fatal(err)
	}
	var want []rdir.Record
	for _, r := range Sorted(recs) {
		if r.Mtime <= incident {
			want = append(want, r)
		}
	}
	diffRecords(t, "rebuild listing", want, fetchAll(t, s, rdir.ListOptions{Rebuild: true, Limit: 3}))
	last := fetch(t, s, rdir.ListOptions{Rebuild: true, Limit: 1, Marker: want[len(want)-2].Key()})
	if len(last.Records) != 1 || last.Truncated {
		t.Errorf("last matching record: %d records, truncated %v; want 1, false",
			len(last.Records), last.Truncated)
	}
	if n := len(fetchAll(t, s, rdir.ListOptions{})); n != len(recs) {
		t.Errorf("plain listing with an incident date: %d records, want %d", n, len(recs))
	}
}

func testStatus(t *testing.T, s rdir.Store) {
	ctx := context.Background()
	recs := append(Recs(0, 9, 3, 100), Recs(9, 6, 3, 300)...)
	setup(t, s, recs)
	want := rdir.Status{Chunk: rdir.Counts{Total: 15}, Containers: map[string]rdir.Counts{
		CID(0): {Total: 5}, CID(1): {Total: 5}, CID(2): {Total: 5}}}
	checkStatus(t, "without incident", s, rdir.ListOptions{}, want)

	if err := s.SetIncidentDate(ctx, vol, 200); err != nil {
		t.Fatal(err)
	}
	want = rdir.Status{Chunk: rdir.Counts{Total: 15, ToRebuild: 9}, IncidentDate: 200,
		Containers: map[string]rdir.Counts{
			CID(0): {Total: 5, ToRebuild: 3}, CID(1): {Total: 5, ToRebuild: 3},
			CID(2): {Total: 5, ToRebuild: 3}}}
	checkStatus(t, "with incident", s, rdir.ListOptions{Rebuild: true}, want)
	checkStatus(t, "in pages of 4", s, rdir.ListOptions{Limit: 4}, want)

	one := rdir.Status{Chunk: rdir.Counts{Total: 5, ToRebuild: 3}, IncidentDate: 200,
		Containers: map[string]rdir.Counts{CID(1): {Total: 5, ToRebuild: 3}}}
	checkStatus(t, "one container", s, rdir.ListOptions{Prefix: CID(1)}, one)

	page, err := s.Status(ctx, vol, rdir.ListOptions{Limit: 4})
	if err != nil {
		t.Fatal(err)
	}
	first := Sorted(recs)[3].Key()
	if page.Chunk.Total != 4 || !page.Truncated || page.Marker != first {
		t.Errorf("status page of 4: total %d, truncated %v, marker %q; want 4, true, %q",
			page.Chunk.Total, page.Truncated, page.Marker, first)
	}
}

func checkStatus(t *testing.T, what string, s rdir.Store, opts rdir.ListOptions, want rdir.Status) {
	t.Helper()
	got, err := rdir.FullStatus(context.Background(), s, vol, opts)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: status (-want +got):\n%s", what, diff)
	}
}

func testIncidentDate(t *testing.T, s rdir.Store) {
	ctx := context.Background()
	setup(t, s, nil)
	for _, date := range []int64{0, 1700000000, 0} {
		if err := s.SetIncidentDate(ctx, vol, date); err != nil {
			t.Fatal(err)
		}
		got, err := s.IncidentDate(ctx, vol)
		if err != nil || got != date {
			t.Errorf("IncidentDate after setting %d = %d, %v", date, got, err)
		}
	}
	wantErr(t, "negative date", s.SetIncidentDate(ctx, vol, -1), rdir.ErrInvalid)
}

func testLock(t *testing.T, s rdir.Store) {
	ctx := context.Background()
	setup(t, s, nil)
	steps := []struct {
		what string
		do   func() error
		want error
	}{
		{"unlock when unlocked", func() error { return s.Unlock(ctx, vol) }, nil},
		{"lock by a", func() error { return s.Lock(ctx, vol, "a") }, nil},
		{"lock by a again", func() error { return s.Lock(ctx, vol, "a") }, nil},
		{"lock by b", func() error { return s.Lock(ctx, vol, "b") }, rdir.ErrLocked},
		{"lock by nobody", func() error { return s.Lock(ctx, vol, "") }, rdir.ErrInvalid},
		{"show", func() error { return wantShow(ctx, s, rdir.Admin{Lock: "a"}) }, nil},
		{"unlock", func() error { return s.Unlock(ctx, vol) }, nil},
		{"lock by b after unlock", func() error { return s.Lock(ctx, vol, "b") }, nil},
		{"show b", func() error { return wantShow(ctx, s, rdir.Admin{Lock: "b"}) }, nil},
	}
	for _, st := range steps {
		if err := st.do(); !errors.Is(err, st.want) || (st.want == nil && err != nil) {
			t.Fatalf("%s: %v, want %v", st.what, err, st.want)
		}
	}
}

func wantShow(ctx context.Context, s rdir.Store, want rdir.Admin) error {
	got, err := s.Show(ctx, vol)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("Show = %+v, want %+v", got, want)
	}
	return nil
}

func testClear(t *testing.T, s rdir.Store) {
	const incident = 200
	old, recent := Recs(0, 5, 2, 100), Recs(5, 4, 2, 300)
	all := append(append([]rdir.Record{}, old...), recent...)
	tests := []struct {
		name     string
		opts     rdir.ClearOptions
		incident int64
		remain   []rdir.Record
	}{
		{"incident only", rdir.ClearOptions{}, incident, all},
		{"repair", rdir.ClearOptions{Repair: true}, incident, all},
		{"before incident", rdir.ClearOptions{BeforeIncident: true}, incident, recent},
		{"before no incident", rdir.ClearOptions{BeforeIncident: true}, 0, all},
		{"all", rdir.ClearOptions{All: true, BeforeIncident: true}, incident, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			v := fmt.Sprintf("clear-%d", i)
			mustSetupVolume(t, s, v, all, tt.incident)
			res, err := s.Clear(ctx, v, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			want := rdir.ClearResult{Removed: int64(len(all) - len(tt.remain))}
			if res != want {
				t.Errorf("Clear = %+v, want %+v", res, want)
			}
			checkVolume(t, s, v, Sorted(tt.remain), rdir.Admin{})
		})
	}
}

func mustSetupVolume(t *testing.T, s rdir.Store, v string, recs []rdir.Record, incident int64) {
	t.Helper()
	ctx := context.Background()
	if err := s.CreateVolume(ctx, v); err != nil {
		t.Fatal(err)
	}
	if err := s.Push(ctx, v, recs); err != nil {
		t.Fatal(err)
	}
	if err := s.SetIncidentDate(ctx, v, incident); err != nil {
		t.Fatal(err)
	}
}

func checkVolume(t *testing.T, s rdir.Store, v string, want []rdir.Record, admin rdir.Admin) {
	t.Helper()
	var got []rdir.Record
	for r, err := range rdir.All(context.Background(), s, v, rdir.ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	diffRecords(t, "records of "+v, want, got)
	a, err := s.Show(context.Background(), v)
	if err != nil {
		t.Fatal(err)
	}
	if a != admin {
		t.Errorf("Show(%s) = %+v, want %+v", v, a, admin)
	}
}

func testClearLocked(t *testing.T, s rdir.Store) {
	ctx := context.Background()
	recs := Recs(0, 4, 2, 100)
	mustSetupVolume(t, s, vol, recs, 200)
	if err := s.Lock(ctx, vol, "rebuilder"); err != nil {
		t.Fatal(err)
	}
	_, err := s.Clear(ctx, vol, rdir.ClearOptions{All: true})
	wantErr(t, "Clear of a volume locked by another", err, rdir.ErrLocked)
	checkVolume(t, s, vol, Sorted(recs), rdir.Admin{Lock: "rebuilder", IncidentDate: 200})

	if err := s.Unlock(ctx, vol); err != nil {
		t.Fatal(err)
	}
	if err := s.Lock(ctx, vol, rdir.ClearLockOwner); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Clear(ctx, vol, rdir.ClearOptions{}); err != nil {
		t.Fatalf("Clear of a volume locked as %s: %v", rdir.ClearLockOwner, err)
	}
	checkVolume(t, s, vol, Sorted(recs), rdir.Admin{})
}

func testConcurrentPushes(t *testing.T, s rdir.Store) {
	setup(t, s, nil)
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				n := w*each + i
				errs <- s.Push(context.Background(), vol, []rdir.Record{Rec(n%5, n, 100)})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := len(fetchAll(t, s, rdir.ListOptions{})); n != workers*each {
		t.Errorf("records after concurrent pushes = %d, want %d", n, workers*each)
	}
}
