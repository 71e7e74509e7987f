package convert_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gridkeep/gridkeep/internal/convert"
	"github.com/gridkeep/gridkeep/internal/convert/converttest"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/object"
)

// TestConvertNamedSlashes: a 2017-era "oio:<account>/<container>/<path>/
// <version>" name was written unescaped, so a "/" in the account or the
// container reads as a split of the path; the split whose object holds this
// very chunk is found, and the chunk converted.
func TestConvertNamedSlashes(t *testing.T) {
	e := newEnv(t)
	// The natural split of the names of acct / split/y / ... leads to this
	// container, which holds an object at one of the paths they read.
	decoy := e.putNamed(object.Name{Account: "acct", Container: "split", Path: "y/decoy"},
		testChunkSize)
	e.waitIndexed(decoy.ids...)
	cases := []struct {
		name      string
		n         object.Name
		namedOnly bool // no grid keys: the name alone says the owner
	}{
		{"account with a slash", object.Name{Account: "acct/x", Container: "c", Path: "dir/obj"}, false},
		{"container with a slash", object.Name{Account: "acct", Container: "split/y", Path: "obj"}, false},
		{"container with a slash, natural split names another object",
			object.Name{Account: "acct", Container: "split/y", Path: "decoy"}, false},
		{"both with slashes", object.Name{Account: "a/b", Container: "c/d/e", Path: "p/q"}, false},
		{"account with a slash, no grid keys", object.Name{Account: "acct/z", Container: "c",
			Path: "obj"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := e.putNamed(tc.n, 2*testChunkSize)
			e.waitIndexed(o.ids...)
			for i, p := range o.paths {
				l := converttest.ForEra(converttest.EraNamed, o.ids[i], o.owner)
				if tc.namedOnly {
					l = converttest.Legacy{Named: l.Named, Marker: l.Marker}
				}
				must(t, converttest.Apply(p, l, o.ids[i]))
			}
			s, res := e.run(convert.Options{}, o.paths...)
			wantObjectConverted(t, o, s, res)
		})
	}
}

// TestConvertNamedNoSplit: a 2017-era name that no split leads to an
// object holding this chunk makes it an orphan, left untouched, and the
// error says which splits were tried.
func TestConvertNamedNoSplit(t *testing.T) {
	e := newEnv(t)
	o := e.putNamed(object.Name{Account: "acct/x", Container: "c", Path: "obj"}, testChunkSize)
	e.waitIndexed(o.ids...)
	p, id := o.paths[0], o.ids[0]
	l := converttest.ForEra(converttest.EraGrid, id, o.owner)
	gone := o.owner
	gone.Path = "dir/gone"
	l.Named, l.Marker = []converttest.Owner{gone}, "4.0"
	must(t, converttest.Apply(p, l, id))
	before := mustStat(t, p)
	s, res := e.run(convert.Options{}, p)
	wantOutcome(t, res, p, convert.Orphan)
	if diff := cmp.Diff(before, mustStat(t, p)); diff != "" {
		t.Errorf("the orphan changed (-before +after):\n%s", diff)
	}
	for _, split := range []string{`"acct" container "x"`, `"acct/x" container "c"`,
		`"acct/x/c" container "dir"`} {
		if !strings.Contains(res[p].Reason(), split) {
			t.Errorf("the error does not name the split %s: %s", split, res[p].Reason())
		}
	}
	if s.Orphans != 1 || countFiles(t, s.BackupDir) != 0 {
		t.Errorf("summary %+v", s)
	}
}

// TestConvertNamedSplitsMemoized: the directory is asked about each split
// of a 2017-era name once in a run, whatever the number of chunks of the
// object, and about a container that does not exist once, whatever the
// number of objects whose names it is a split of.
func TestConvertNamedSplitsMemoized(t *testing.T) {
	e := newEnv(t)
	var paths []string
	for _, name := range []string{"obj1", "obj2"} {
		o := e.putNamed(object.Name{Account: "acct/m", Container: "c", Path: name}, 2*testChunkSize)
		e.waitIndexed(o.ids...)
		for i, p := range o.paths {
			l := converttest.ForEra(converttest.EraNamed, o.ids[i], o.owner)
			must(t, converttest.Apply(p, converttest.Legacy{Named: l.Named, Marker: l.Marker}, o.ids[i]))
		}
		paths = append(paths, o.paths...)
	}
	counter := &locateCounter{next: http.DefaultTransport}
	dir, err := meta.NewClient(e.ns.ProxyURL, meta.ClientOptions{HTTPClient: &http.Client{
		Transport: counter}})
	must(t, err)
	// One chunk at a time: concurrent questions would be merged anyway.
	s, _ := e.run(convert.Options{Dir: dir, Concurrency: 1}, paths...)
	if s.Converted != 4 || s.Errors() != 0 {
		t.Errorf("summary %+v", s)
	}
	// For obj1: acct / m / c/obj1 and acct / m/c / obj1, containers that
	// do not exist, then acct/m / c / obj1, the owner. For obj2: its owner.
	if n := counter.byName.Load(); n != 4 {
		t.Errorf("%d locate requests by name, want 4", n)
	}
}

// locateCounter counts the directory's locate requests by name.
type locateCounter struct {
	next   http.RoundTripper
	byName atomic.Int64
}

func (c *locateCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/content/locate") && r.URL.Query().Has("path") {
		c.byName.Add(1)
	}
	return c.next.RoundTrip(r)
}
