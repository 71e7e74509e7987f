package metatest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gridkeep/gridkeep/internal/meta"
)

// names returns the object names and prefixes of a listing page.
func names(l *meta.ObjectList) (objects, prefixes []string) {
	for _, o := range l.Objects {
		objects = append(objects, o.Name)
	}
	return objects, l.Prefixes
}

func testListObjects(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, meta.Namespace{MaxVersions: -1})
	for _, n := range []string{"a", "b/1", "b/2", "b/c/3", "c", "d"} {
		f.put(n, 1, map[string]string{"k": n})
	}
	if _, err := f.s.DeleteObject(f.ctx, cid, "d", 0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		opts     meta.ListOptions
		objects  []string
		prefixes []string
	}{
		{"flat", meta.ListOptions{}, []string{"a", "b/1", "b/2", "b/c/3", "c"}, nil},
		{"deleted", meta.ListOptions{Deleted: true},
			[]string{"a", "b/1", "b/2", "b/c/3", "c", "d"}, nil},
		{"delimiter", meta.ListOptions{Delimiter: "/"}, []string{"a", "c"}, []string{"b/"}},
		{"prefix and delimiter", meta.ListOptions{Prefix: "b/", Delimiter: "/"},
			[]string{"b/1", "b/2"}, []string{"b/c/"}},
		{"prefix", meta.ListOptions{Prefix: "b/"}, []string{"b/1", "b/2", "b/c/3"}, nil},
		{"marker", meta.ListOptions{Marker: "b/2"}, []string{"b/c/3", "c"}, nil},
		{"end marker", meta.ListOptions{EndMarker: "b/2"}, []string{"a", "b/1"}, nil},
		{"single object", meta.ListOptions{Prefix: "b/1", EndMarker: "b/1\x01"},
			[]string{"b/1"}, nil},
		{"marker on a prefix", meta.ListOptions{Marker: "b/", Delimiter: "/"},
			[]string{"c"}, nil},
	}
	for _, tc := range tests {
		l, err := f.s.ListObjects(f.ctx, cid, tc.opts)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		objects, prefixes := names(l)
		if diff := cmp.Diff(tc.objects, objects); diff != "" {
			t.Errorf("%s: objects (-want +got):\n%s", tc.name, diff)
		}
		if diff := cmp.Diff(tc.prefixes, prefixes); diff != "" {
			t.Errorf("%s: prefixes (-want +got):\n%s", tc.name, diff)
		}
		if l.Truncated {
			t.Errorf("%s: truncated", tc.name)
		}
	}
	l, err := f.s.ListObjects(f.ctx, cid, meta.ListOptions{Prefix: "a", Properties: true,
		Chunks: true})
	if err != nil || len(l.Objects) != 1 {
		t.Fatalf("list with details: %+v, %v", l, err)
	}
	if o := l.Objects[0]; o.Properties["k"] != "a" || len(o.Chunks) != 1 {
		t.Errorf("details missing: %+v", o)
	}
	l, _ = f.s.ListObjects(f.ctx, cid, meta.ListOptions{Prefix: "a"})
	if o := l.Objects[0]; o.Properties != nil || o.Chunks != nil {
		t.Errorf("details not asked for: %+v", o)
	}
}

func testListVersions(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, meta.Namespace{MaxVersions: -1})
	a1, a2, b1 := f.put("a", 1, nil), f.put("a", 2, nil), f.put("b", 3, nil)
	res, err := f.s.DeleteObject(f.ctx, cid, "b", 0)
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		Name    string
		Version int64
		Deleted bool
	}
	all := []entry{{"a", a2.Version, false}, {"a", a1.Version, false},
		{"b", res.Version, true}, {"b", b1.Version, false}}
	var got []entry
	opts := meta.ListOptions{Versions: true, Limit: 1}
	for page := 0; page < 10; page++ {
		l, err := f.s.ListObjects(f.ctx, cid, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range l.Objects {
			got = append(got, entry{o.Name, o.Version, o.Deleted})
		}
		if !l.Truncated {
			break
		}
		opts.Marker, opts.VersionMarker = l.NextMarker, l.NextVersionMarker
	}
	if diff := cmp.Diff(all, got); diff != "" {
		t.Errorf("versions paged one by one (-want +got):\n%s", diff)
	}
}

func testListPaging(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, meta.Namespace{})
	for _, n := range []string{"a", "b/1", "b/2", "c/1", "d", "e"} {
		f.put(n, 1, nil)
	}
	want := []string{"a", "b/", "c/", "d", "e"}
	for _, limit := range []int{1, 2, 3, 5, 6} {
		var got []string
		opts := meta.ListOptions{Delimiter: "/", Limit: limit}
		for page := 0; page < 10; page++ {
			l, err := f.s.ListObjects(f.ctx, cid, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Objects)+len(l.Prefixes) > limit {
				t.Errorf("limit %d: page of %d entries", limit, len(l.Objects)+len(l.Prefixes))
			}
			got = append(got, pageEntries(l)...)
			if !l.Truncated {
				break
			}
			opts.Marker = l.NextMarker
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("limit %d (-want +got):\n%s", limit, diff)
		}
	}
}

// pageEntries merges a page's objects and prefixes in name order.
func pageEntries(l *meta.ObjectList) []string {
	objects, prefixes := names(l)
	var out []string
	for len(objects) > 0 || len(prefixes) > 0 {
		if len(prefixes) == 0 || len(objects) > 0 && objects[0] < prefixes[0] {
			out, objects = append(out, objects[0]), objects[1:]
		} else {
			out, prefixes = append(out, prefixes[0]), prefixes[1:]
		}
	}
	return out
}
