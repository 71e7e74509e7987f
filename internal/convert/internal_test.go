package convert

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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

// TestSplitNamedFullpath: 2017-era names keep the slashes of the path.
func TestSplitNamedFullpath(t *testing.T) {
	type parts struct{ Acct, Ctr, Path, Version string }
	cases := map[string]*parts{
		"acct/ctr/obj/1":            {"acct", "ctr", "obj", "1"},
		"acct/ctr/dir/sub/obj/None": {"acct", "ctr", "dir/sub/obj", "None"},
		"acct/ctr/a b+c/12":         {"acct", "ctr", "a b+c", "12"},
		"acct/ctr/1":                nil,
		"acct//obj/1":               nil,
	}
	for s, want := range cases {
		a, c, p, v, ok := splitNamedFullpath(s)
		var got *parts
		if ok {
			got = &parts{a, c, p, v}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("splitNamedFullpath(%q) (-want +got):\n%s", s, diff)
		}
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
