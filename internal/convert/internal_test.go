package convert

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

// TestBatchFull: batches close at BatchSize, grow while the volume syncs
// slower than the planners fill them, and stop growing at the bound.
func TestBatchFull(t *testing.T) {
	c := &Converter{o: Options{BatchSize: 100}}
	cases := []struct {
		name     string
		n        int
		elapsed  time.Duration
		lastSync time.Duration
		want     bool
	}{
		{"below the batch size", 99, time.Second, 0, false},
		{"at the batch size, no sync yet", 100, time.Second, 0, true},
		{"syncs faster than filling", 100, time.Second, 100 * time.Millisecond, true},
		{"syncs slower than filling", 100, time.Second, time.Second, false},
		{"grown to two syncs", 150, time.Second, 500 * time.Millisecond, true},
		{"not yet two syncs", 150, time.Second, 600 * time.Millisecond, false},
		{"at the bound", 1600, time.Second, time.Hour, true},
	}
	for _, tc := range cases {
		c.lastSync.Store(int64(tc.lastSync))
		if got := c.batchFull(tc.n, tc.elapsed); got != tc.want {
			t.Errorf("%s: batchFull(%d, %s) = %v", tc.name, tc.n, tc.elapsed, got)
		}
	}
}

// TestSiblingPath: a linked chunk is looked for with the directory layout
// of the chunk at hand.
func TestSiblingPath(t *testing.T) {
	id := "0123456789ABCDEF0123456789ABCDEF"
	cases := map[string]string{
		"ABC/ABCDEF0123456789ABCDEF0123456789": "012/" + id,
		"AB/CD/ABCD0123456789ABCDEF0123456789": "01/23/" + id,
		"ABCDEF0123456789ABCDEF0123456789":     id,
	}
	for rel, want := range cases {
		got, err := siblingPath(rel, id)
		if err != nil || got != want {
			t.Errorf("siblingPath(%q) = %q, %v; want %q", rel, got, err, want)
		}
	}
	if _, err := siblingPath("ABCDEFGHIJKLMNOPQRSTUVWXYZ/X", "ABC"); err == nil {
		t.Error("an id shorter than the layout was placed")
	}
}

// TestNamedSplits: 2017-era names are read with the natural split first,
// then with the account and container taking more fields, fewest first,
// up to maxOwnerFields; the path keeps the slashes left to it.
func TestNamedSplits(t *testing.T) {
	split := func(s string) chunk.OldFullpath {
		f := strings.Split(s, "|")
		return chunk.OldFullpath{Account: f[0], Container: f[1], Path: f[2], Version: f[3]}
	}
	cases := map[string][]string{
		"acct/ctr/obj/1":    {"acct|ctr|obj|1"},
		"acct/ctr/a b+c/12": {"acct|ctr|a b+c|12"},
		"acct/ctr/dir/sub/obj/None": {"acct|ctr|dir/sub/obj|None", "acct|ctr/dir|sub/obj|None",
			"acct/ctr|dir|sub/obj|None", "acct|ctr/dir/sub|obj|None", "acct/ctr|dir/sub|obj|None",
			"acct/ctr/dir|sub|obj|None"},
		// An empty part is no split.
		"acct//obj/1":   nil,
		"acct//x/obj/1": {"acct|/x|obj|1", "acct/|x|obj|1"},
		"acct/ctr/1":    nil,
		"acct/ctr/obj/": nil,
	}
	for s, want := range cases {
		var wantSplits []chunk.OldFullpath
		for _, w := range want {
			wantSplits = append(wantSplits, split(w))
		}
		if diff := cmp.Diff(wantSplits, namedSplits(s)); diff != "" {
			t.Errorf("namedSplits(%q) (-want +got):\n%s", s, diff)
		}
	}
	deep := strings.Repeat("d/", 50) + "obj/1"
	if n := len(namedSplits(deep)); n != (maxOwnerFields-1)*maxOwnerFields/2 {
		t.Errorf("%d splits of a path 50 directories deep", n)
	}
}

// TestLegacyVersion: anything but a positive integer means the latest.
func TestLegacyVersion(t *testing.T) {
	for s, want := range map[string]int64{"1533215985187506": 1533215985187506, "None": 0,
		"": 0, "-5": 0, "0": 0} {
		if got := legacyVersion(s); got != want {
			t.Errorf("legacyVersion(%q) = %d, want %d", s, got, want)
		}
	}
}
