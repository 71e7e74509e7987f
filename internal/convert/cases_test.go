package convert_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/cli"
	"github.com/gridkeep/gridkeep/internal/convert"
	"github.com/gridkeep/gridkeep/internal/convert/converttest"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

// The tests of this file follow the functional tests of OpenIO's converter
// case by case (each converts one chunk and checks the outcome, the owner
// of every id of the inode, and that legacy keys are gone or untouched),
// plus the cases OpenIO did not test.

// TestConvertLegacyChunk: a chunk of each legacy era is converted to the
// current format with its owner's fullpath.
func TestConvertLegacyChunk(t *testing.T) {
	e := newEnv(t)
	for _, era := range converttest.Eras {
		t.Run(era.String(), func(t *testing.T) {
			o := e.put("legacy-"+era.String(), "dir/obj "+era.String(), 3*testChunkSize)
			for i, p := range o.paths {
				must(t, converttest.ToEra(p, o.ids[i], era, o.owner))
			}
			s, res := e.run(convert.Options{}, o.paths...)
			wantObjectConverted(t, o, s, res)
		})
	}
}

// TestConvertCases converts one chunk per case of legacy metadata that is
// wrong or incomplete in a way the directory makes up for.
func TestConvertCases(t *testing.T) {
	e := newEnv(t)
	wrongID := "0123456789ABCDEF0123456789ABCDEF"
	cases := []struct {
		name   string
		legacy func(o *obj, id string) converttest.Legacy
	}{
		{"already current", nil},
		{"wrong path", func(o *obj, id string) converttest.Legacy {
			w := o.owner
			w.Path += "+"
			return converttest.ForEra(converttest.EraGrid, id, w)
		}},
		{"wrong content id", func(o *obj, id string) converttest.Legacy {
			w := o.owner
			w.ContentID = wrongID
			return converttest.ForEra(converttest.EraGrid, id, w)
		}},
		{"old fullpath", func(o *obj, id string) converttest.Legacy {
			return converttest.ForEra(converttest.EraHashed, id, o.owner)
		}},
		{"old fullpath and wrong path", func(o *obj, id string) converttest.Legacy {
			l := converttest.ForEra(converttest.EraHashed, id, o.owner)
			l.Grid.Path += "+"
			return l
		}},
		{"wrong old fullpath", func(o *obj, id string) converttest.Legacy {
			// The entry names the latest version ("None"), the grid keys
			// the right one.
			l := converttest.ForEra(converttest.EraGrid, id, o.owner)
			none := o.owner.Old()
			none.Version = "None"
			l.Entries, l.Marker = append(l.Entries, none), "4.0"
			return l
		}},
		{"missing content path", func(o *obj, id string) converttest.Legacy {
			l := converttest.ForEra(converttest.EraHashed, id, o.owner)
			l.Omit = []string{chunk.AttrLegacyPath}
			return l
		}},
		{"missing old fullpath and content path", func(o *obj, id string) converttest.Legacy {
			l := converttest.ForEra(converttest.EraGrid, id, o.owner)
			l.Omit = []string{chunk.AttrLegacyPath}
			return l
		}},
		{"missing content id", func(o *obj, id string) converttest.Legacy {
			l := converttest.ForEra(converttest.EraGrid, id, o.owner)
			l.Omit = []string{chunk.AttrLegacyContentID}
			return l
		}},
		{"lowercase grid.chunk.id", func(o *obj, id string) converttest.Legacy {
			return converttest.ForEra(converttest.EraGrid, lower(id), o.owner)
		}},
		{"2017-era name with escaped fields", func(o *obj, id string) converttest.Legacy {
			l := converttest.ForEra(converttest.EraGrid, id, o.owner)
			l.RawNamed, l.Marker = []string{o.owner.Old().String()}, "4.0"
			return l
		}},
		{"new fullpath in an oio entry", func(o *obj, id string) converttest.Legacy {
			l := converttest.ForEra(converttest.EraGrid, id, o.owner)
			l.RawEntries = []string{o.owner.Fullpath().String()}
			return l
		}},
		{"special characters", nil},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := "obj " + strconv.Itoa(i)
			switch tc.name {
			case "special characters":
				path = "dir/ü +%2F~\"quoted\"=x"
			case "2017-era name with escaped fields":
				path = "sp ace+plus\nline"
			}
			o := e.put("cases", path, testChunkSize)
			p, id := o.paths[0], o.ids[0]
			want := convert.Current
			if tc.legacy != nil {
				must(t, converttest.Apply(p, tc.legacy(o, id), id))
				want = convert.Converted
			} else if tc.name == "special characters" {
				must(t, converttest.ToEra(p, id, converttest.EraHashed, o.owner))
				want = convert.Converted
			}
			before := mustStat(t, p)
			_, res := e.run(convert.Options{}, p)
			wantOutcome(t, res, p, want)
			wantOwners(t, p, map[string]converttest.Owner{id: o.owner})
			if after := mustStat(t, p); after.Data != before.Data {
				t.Errorf("data changed")
			}
		})
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// TestConvertVersions: chunks of two versions of one object, current and
// legacy, each get the fullpath of their own version.
func TestConvertVersions(t *testing.T) {
	e := newEnv(t)
	_, err := e.dir.ContainerCreate(e.ctx, "acct", "versioned", map[string]string{},
		map[string]string{meta.SysPolicyVersion: "2"})
	must(t, err)
	v1 := e.put("versioned", "obj", testChunkSize)
	v2 := e.put("versioned", "obj", testChunkSize)
	if v1.Version == v2.Version {
		t.Fatal("same version twice")
	}
	for _, legacy := range []bool{false, true} {
		t.Run("legacy="+strconv.FormatBool(legacy), func(t *testing.T) {
			want := convert.Current
			if legacy {
				must(t, converttest.ToEra(v1.paths[0], v1.ids[0], converttest.EraGrid, v1.owner))
				must(t, converttest.ToEra(v2.paths[0], v2.ids[0], converttest.EraHashed, v2.owner))
				want = convert.Converted
			}
			_, res := e.run(convert.Options{}, v1.paths[0], v2.paths[0])
			wantOutcome(t, res, v1.paths[0], want)
			wantOutcome(t, res, v2.paths[0], want)
			wantOwners(t, v1.paths[0], map[string]converttest.Owner{v1.ids[0]: v1.owner})
			wantOwners(t, v2.paths[0], map[string]converttest.Owner{v2.ids[0]: v2.owner})
		})
	}
}

// TestConvertLinks: hard-linked chunks (shallow copies) get a fullpath for
// every name of the inode, whichever name is converted first.
func TestConvertLinks(t *testing.T) {
	e := newEnv(t)
	t.Run("current links", func(t *testing.T) {
		o := e.put("links", "current", testChunkSize)
		l := e.link(o, "links", "current.link")
		_, res := e.run(convert.Options{}, o.paths[0], l.paths[0])
		wantOutcome(t, res, o.paths[0], convert.Current)
		wantOutcome(t, res, l.paths[0], convert.Current)
	})
	// 2017-11 era: the grid keys describe the original chunk, an "oio:"
	// entry (here with the version "None") describes the copy.
	for _, first := range []string{"original", "link"} {
		t.Run("legacy links, "+first+" first", func(t *testing.T) {
			o := e.put("links", "old "+first, testChunkSize)
			l := e.link(o, "links", "old "+first+".link")
			entry := l.owner.Old()
			entry.Version = "None"
			leg := converttest.ForEra(converttest.EraGrid, o.ids[0], o.owner)
			leg.Entries, leg.Marker = []chunk.OldFullpath{entry}, "4.0"
			must(t, converttest.Apply(o.paths[0], leg, o.ids[0], l.ids[0]))
			p := o.paths[0]
			if first == "link" {
				p = l.paths[0]
			}
			s, res := e.run(convert.Options{}, p)
			wantOutcome(t, res, p, convert.Converted)
			owners := map[string]converttest.Owner{o.ids[0]: o.owner, l.ids[0]: l.owner}
			wantOwners(t, o.paths[0], owners)
			wantOwners(t, l.paths[0], owners)
			if s.Errors() != 0 {
				t.Errorf("summary %+v", s)
			}
		})
	}
	// Before 2017-06 a copy added nothing: the copy's own owner is only in
	// the reverse index. The copy is visited first: it resolves the
	// original's owner, then waits for the reverse-index scan, while the
	// original is converted.
	t.Run("oldest links recovered from rdir", func(t *testing.T) {
		o := e.put("links", "oldest", testChunkSize)
		l := e.link(o, "links", "oldest.link")
		must(t, converttest.Apply(o.paths[0], converttest.ForEra(converttest.EraGrid, o.ids[0], o.owner),
			o.ids[0], l.ids[0]))
		s, res := e.run(convert.Options{}, l.paths[0], o.paths[0])
		owners := map[string]converttest.Owner{o.ids[0]: o.owner, l.ids[0]: l.owner}
		wantOwners(t, o.paths[0], owners)
		if !res[l.paths[0]].Recovered || s.Recovered != 1 || s.Converted != 2 || s.Errors() != 0 {
			t.Errorf("summary %+v, link result %+v", s, res[l.paths[0]])
		}
	})
	// A legacy copy was itself copied onto its own path: the copy's version
	// and name are gone, the "oio:" entry naming its latest version leads
	// to the newest copy.
	t.Run("legacy link with a link on the same object", func(t *testing.T) {
		o := e.put("links", "same", testChunkSize)
		l := e.link(o, "links", "same.link")
		entry := l.owner.Old()
		entry.Version = "None"
		leg := converttest.ForEra(converttest.EraGrid, o.ids[0], o.owner)
		leg.Entries, leg.Marker = []chunk.OldFullpath{entry}, "4.0"
		must(t, converttest.Apply(o.paths[0], leg, o.ids[0], l.ids[0]))
		l2 := e.link(l, "links", "same.link")
		if err := os.Remove(l.paths[0]); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		// One at a time, so that the first path given is the one converted
		// and the second, on the same inode, is found current.
		s, res := e.run(convert.Options{Concurrency: 1}, o.paths[0], l2.paths[0])
		wantOutcome(t, res, o.paths[0], convert.Converted)
		owners := map[string]converttest.Owner{o.ids[0]: o.owner, l2.ids[0]: l2.owner}
		wantOwners(t, o.paths[0], owners)
		wantOwners(t, l2.paths[0], owners)
		if s.Errors() != 0 {
			t.Errorf("summary %+v", s)
		}
	})
	t.Run("both names in one run", func(t *testing.T) {
		o := e.put("links", "both", testChunkSize)
		l := e.link(o, "links", "both.link")
		leg := converttest.ForEra(converttest.EraHashed, o.ids[0], o.owner)
		leg.Entries = append(leg.Entries, l.owner.Old())
		must(t, converttest.Apply(o.paths[0], leg, o.ids[0], l.ids[0]))
		s, _ := e.run(convert.Options{}, o.paths[0], l.paths[0])
		wantOwners(t, o.paths[0], map[string]converttest.Owner{o.ids[0]: o.owner, l.ids[0]: l.owner})
		if s.Converted != 1 || s.Current != 1 || s.Errors() != 0 {
			t.Errorf("summary %+v", s)
		}
	})
}

// TestConvertOrphans: chunks that cannot be shown to belong to an object
// are reported and left exactly as they were.
func TestConvertOrphans(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name  string
		setup func(t *testing.T) (path string, also []string)
	}{
		{"link on the same object", func(t *testing.T) (string, []string) {
			// The original object was replaced by a copy at the same
			// path: the copy's inode still carries the grid keys of the
			// original chunk, which is gone.
			o := e.put("orphans", "same", testChunkSize)
			must(t, converttest.ToEra(o.paths[0], o.ids[0], converttest.EraGrid, o.owner))
			l := e.link(o, "orphans", "same")
			if _, err := e.dir.Locate(e.ctx, "acct", "orphans", "same", o.Version); !errors.Is(err,
				meta.ErrNoSuchObject) {
				t.Fatalf("the original version is still there: %v", err)
			}
			// The content cleaner deletes the original name; do not wait.
			if err := os.Remove(o.paths[0]); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			return l.paths[0], nil
		}},
		{"object gone", func(t *testing.T) (string, []string) {
			gone := converttest.Owner{Account: "acct", Container: "orphans", Path: "never",
				Version: 1, ContentID: "00112233445566778899AABBCCDDEEFF"}
			id := meta.ChunkID(chunk.ContainerID("acct", "orphans"), "never", 1, "0", "SINGLE")
			p, err := converttest.WriteChunk(e.vol, id, []byte("data"), legacyAttrs(id, gone))
			must(t, err)
			return p, nil
		}},
		{"link to a file that is not the same inode", func(t *testing.T) (string, []string) {
			o := e.put("orphans", "copy", testChunkSize)
			id := meta.ChunkID(chunk.ContainerID("acct", "orphans"), "copy", 2, "0", "SINGLE")
			data, _ := os.ReadFile(o.paths[0])
			p, err := converttest.WriteChunk(e.vol, id, data, legacyAttrs(o.ids[0], o.owner))
			must(t, err)
			return p, nil
		}},
		{"orphan name sharing an inode", func(t *testing.T) (string, []string) {
			// The original is fine, the copy's object is gone: neither
			// name is converted, as they share their attributes.
			o := e.put("orphans", "shared", testChunkSize)
			l := e.link(o, "orphans", "shared.link")
			leg := converttest.ForEra(converttest.EraHashed, o.ids[0], o.owner)
			leg.Entries = append(leg.Entries, chunk.OldFullpath{Account: "acct", Container: "orphans",
				Path: "deleted", Version: "1"})
			must(t, converttest.Apply(o.paths[0], leg, o.ids[0], l.ids[0]))
			return o.paths[0], []string{l.paths[0]}
		}},
		{"missing fullpath, not indexed", func(t *testing.T) (string, []string) {
			o := e.put("orphans", "unindexed", testChunkSize)
			must(t, e.rdir.Delete(e.ctx, e.volID, []rdir.ChunkRef{{
				ContainerID: chunk.ContainerID("acct", "orphans"), ChunkID: o.ids[0]}}))
			must(t, chunk.RemoveAttr(o.paths[0], chunk.AttrFullpathPrefix+o.ids[0]))
			return o.paths[0], nil
		}},
		{"missing fullpath, unreferenced", func(t *testing.T) (string, []string) {
			// Indexed as part of an object that does not list it.
			o := e.put("orphans", "unreferenced", testChunkSize)
			id := meta.ChunkID(chunk.ContainerID("acct", "orphans"), "unreferenced", 3, "0", "SINGLE")
			data, _ := os.ReadFile(o.paths[0])
			attrs, _ := chunk.ReadAttrs(o.paths[0])
			var kept []chunk.Attr
			for _, a := range attrs {
				if a.Name != chunk.AttrFullpathPrefix+o.ids[0] {
					kept = append(kept, a)
				}
			}
			p, err := converttest.WriteChunk(e.vol, id, data, kept)
			must(t, err)
			must(t, e.rdir.Push(e.ctx, e.volID, []rdir.Record{{ContainerID: chunk.ContainerID("acct",
				"orphans"), ChunkID: id, ContentID: o.ContentID, Path: o.Name, Version: o.Version}}))
			return p, nil
		}},
		{"fullpath of no object, grid keys of an object not listing it", func(t *testing.T) (string,
			[]string) {
			o := e.put("orphans", "half", testChunkSize)
			id := meta.ChunkID(chunk.ContainerID("acct", "orphans"), "half", 4, "0", "SINGLE")
			attrs := append(legacyAttrs(id, o.owner), chunk.Attr{Name: chunk.AttrOioVersion, Value: "4.0"},
				chunk.Attr{Name: chunk.AttrFullpathPrefix + id, Value: nowhere.Fullpath().String()})
			p, err := converttest.WriteChunk(e.vol, id, []byte("data"), attrs)
			must(t, err)
			return p, nil
		}},
		{"fullpath of no object, version marker 4.0", func(t *testing.T) (string, []string) {
			id := meta.ChunkID(chunk.ContainerID("acct", "orphans"), "marker", 1, "0", "SINGLE")
			attrs := append(legacyAttrs(id, nowhere)[:4], chunk.Attr{Name: chunk.AttrOioVersion,
				Value: "4.0"}, chunk.Attr{Name: chunk.AttrFullpathPrefix + id,
				Value: nowhere.Fullpath().String()})
			p, err := converttest.WriteChunk(e.vol, id, []byte("data"), attrs)
			must(t, err)
			return p, nil
		}},
		{"link fullpath of no object", func(t *testing.T) (string, []string) {
			// The grid keys name the chunk's owner, a fullpath key a name
			// of the inode whose object is gone.
			o := e.put("orphans", "gone link", testChunkSize)
			id := meta.ChunkID(chunk.ContainerID("acct", "orphans"), "gone link", 5, "0", "SINGLE")
			link := converttest.ChunkPath(e.vol, id)
			must(t, os.MkdirAll(filepath.Dir(link), 0o755))
			must(t, os.Link(o.paths[0], link))
			must(t, converttest.ToEra(o.paths[0], o.ids[0], converttest.EraGrid, o.owner))
			must(t, chunk.SetAttrs(o.paths[0], []chunk.Attr{{Name: chunk.AttrFullpathPrefix + id,
				Value: nowhere.Fullpath().String()}}))
			return o.paths[0], []string{link}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, also := tc.setup(t)
			paths := append([]string{p}, also...)
			before := map[string]converttest.File{}
			for _, q := range paths {
				before[q] = mustStat(t, q)
			}
			backups := t.TempDir()
			s, res := e.run(convert.Options{BackupDir: backups}, paths...)
			for _, q := range paths {
				wantOutcome(t, res, q, convert.Orphan)
				if !errors.Is(res[q].Err, convert.ErrOrphan) {
					t.Errorf("%s: error %v is not an orphan error", q, res[q].Err)
				}
				if diff := cmp.Diff(before[q], mustStat(t, q)); diff != "" {
					t.Errorf("orphan changed (-before +after):\n%s", diff)
				}
			}
			if s.Orphans != int64(len(paths)) || s.BackupDir != "" { // nothing changed, no backups
				t.Errorf("summary %+v", s)
			}
			if made, _ := os.ReadDir(backups); len(made) != 0 {
				t.Errorf("backup directory %s made by a run that changed nothing", made[0].Name())
			}
		})
	}
}

// nowhere is an owner the directory does not know.
var nowhere = converttest.Owner{Account: "acct", Container: "orphans", Path: "nosuchobj",
	Version: 1712000000000000, ContentID: "0BAD"}

// legacyAttrs returns the attributes of a legacy chunk of owner named by
// grid.chunk.id gridID.
func legacyAttrs(gridID string, o converttest.Owner) []chunk.Attr {
	return append([]chunk.Attr{
		{Name: chunk.AttrPosition, Value: "0"},
		{Name: chunk.AttrSize, Value: "4"},
		{Name: chunk.AttrChunkMethod, Value: "plain/cca=md5,nb_copy=1"},
		{Name: chunk.AttrStoragePolicy, Value: "SINGLE"},
	}, converttest.ForEra(converttest.EraGrid, gridID, o).Attrs()...)
}

// TestConvertFailures: chunks that cannot be converted for a reason other
// than being orphans are reported as failed and left as they were.
func TestConvertFailures(t *testing.T) {
	e := newEnv(t)
	t.Run("file removed", func(t *testing.T) {
		o := e.put("failures", "removed", testChunkSize)
		must(t, converttest.ToEra(o.paths[0], o.ids[0], converttest.EraGrid, o.owner))
		must(t, os.Remove(o.paths[0]))
		s, res := e.run(convert.Options{}, o.paths[0])
		wantOutcome(t, res, o.paths[0], convert.Failed)
		if s.Failed != 1 || s.Recovered != 0 {
			t.Errorf("summary %+v", s)
		}
	})
	// A legacy chunk lacking what a current one must have is not made into
	// a current chunk that is not usable.
	for _, tc := range []struct {
		name  string
		attr  string
		value string // "" removes the attribute
	}{
		{"no position", chunk.AttrPosition, ""},
		{"bad position", chunk.AttrPosition, "first"},
		{"no chunk method", chunk.AttrChunkMethod, ""},
		{"bad chunk method", chunk.AttrChunkMethod, "/nb_copy=1"},
		{"no storage policy", chunk.AttrStoragePolicy, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := e.put("failures", tc.name, testChunkSize)
			must(t, converttest.ToEra(o.paths[0], o.ids[0], converttest.EraGrid, o.owner))
			if tc.value == "" {
				must(t, chunk.RemoveAttr(o.paths[0], tc.attr))
			} else {
				must(t, chunk.SetAttrs(o.paths[0], []chunk.Attr{{Name: tc.attr, Value: tc.value}}))
			}
			before := mustStat(t, o.paths[0])
			_, res := e.run(convert.Options{}, o.paths[0])
			wantOutcome(t, res, o.paths[0], convert.Failed)
			if !errors.Is(res[o.paths[0]].Err, chunk.ErrCorrupt) {
				t.Errorf("error %v", res[o.paths[0]].Err)
			}
			if diff := cmp.Diff(before, mustStat(t, o.paths[0])); diff != "" {
				t.Errorf("changed:\n%s", diff)
			}
		})
	}
	// A fullpath key kept as it is must name the object the directory lists
	// the chunk in: a chunk the directory lists is not an orphan.
	kept := []struct {
		name  string
		value func(o *obj) string
	}{
		{"fullpath of another path", func(o *obj) string {
			w := o.owner
			w.Path += ".old"
			return w.Fullpath().String()
		}},
		{"fullpath of another content id", func(o *obj) string {
			w := o.owner
			w.ContentID = "0BAD"
			return w.Fullpath().String()
		}},
		{"link fullpath that does not parse", nil},
	}
	for i, tc := range kept {
		t.Run(tc.name, func(t *testing.T) {
			o := e.put("failures", "kept "+strconv.Itoa(i), testChunkSize)
			p, id := o.paths[0], o.ids[0]
			if tc.value != nil {
				must(t, chunk.SetAttrs(p, []chunk.Attr{{Name: chunk.AttrFullpathPrefix + id,
					Value: tc.value(o)}, {Name: chunk.AttrOioVersion, Value: "4.0"}}))
			} else {
				must(t, converttest.ToEra(p, id, converttest.EraGrid, o.owner))
				other := meta.ChunkID(chunk.ContainerID("acct", "failures"), "kept", 1, "0", "SINGLE")
				must(t, chunk.SetAttrs(p, []chunk.Attr{{Name: chunk.AttrFullpathPrefix + other,
					Value: "acct/failures/kept/1"}}))
			}
			before := mustStat(t, p)
			s, res := e.run(convert.Options{}, p)
			wantOutcome(t, res, p, convert.Failed)
			if errors.Is(res[p].Err, convert.ErrOrphan) || s.Failed != 1 {
				t.Errorf("error %v, summary %+v", res[p].Err, s)
			}
			if diff := cmp.Diff(before, mustStat(t, p)); diff != "" {
				t.Errorf("changed:\n%s", diff)
			}
		})
	}
	t.Run("not a chunk", func(t *testing.T) {
		p := filepath.Join(e.vol, "README")
		must(t, os.WriteFile(p, []byte("x"), 0o644))
		s, res := e.run(convert.Options{}, p)
		wantOutcome(t, res, p, convert.NotChunk)
		if s.NotChunks != 1 || s.Chunks != 0 {
			t.Errorf("summary %+v", s)
		}
	})
	t.Run("a directory", func(t *testing.T) {
		o := e.put("failures", "beside a directory", testChunkSize)
		chunkDir := filepath.Dir(o.paths[0])
		named := filepath.Join(chunkDir, strings.Repeat("D", 64)) // named like a chunk
		must(t, os.Mkdir(named, 0o755))
		s, res := e.run(convert.Options{}, chunkDir, named)
		for _, p := range []string{chunkDir, named} {
			wantOutcome(t, res, p, convert.NotChunk)
			if why := res[p].Reason(); why != "not a chunk: a directory" {
				t.Errorf("%s: %q", p, why)
			}
		}
		if s.NotChunks != 2 || s.Chunks != 0 {
			t.Errorf("summary %+v", s)
		}
	})
}

// TestConvertMalformedCurrent: a chunk named like a current one whose
// attributes do not parse is not current: it is reported as failed, left
// as it was, and the command exits with the code of unconverted chunks.
func TestConvertMalformedCurrent(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name  string
		attrs func(o *obj) []chunk.Attr
	}{
		{"fullpath of 4 fields", func(o *obj) []chunk.Attr {
			return []chunk.Attr{{Name: chunk.AttrFullpathPrefix + o.ids[0], Value: o.owner.Old().String()}}
		}},
		{"fullpath with a bad escape", func(o *obj) []chunk.Attr {
			w := o.owner
			w.Container = "ctr"
			fp := strings.Replace(w.Fullpath().String(), "/ctr/", "/ctr%ZZ/", 1)
			return []chunk.Attr{{Name: chunk.AttrFullpathPrefix + o.ids[0], Value: fp}}
		}},
		{"link fullpath of 4 fields", func(o *obj) []chunk.Attr {
			other := meta.ChunkID(chunk.ContainerID("acct", "malformed"), "link", 1, "0", "SINGLE")
			return []chunk.Attr{{Name: chunk.AttrFullpathPrefix + other, Value: o.owner.Old().String()}}
		}},
		{"bad position", func(o *obj) []chunk.Attr {
			return []chunk.Attr{{Name: chunk.AttrPosition, Value: "first"}}
		}},
		{"empty chunk method", func(o *obj) []chunk.Attr {
			return []chunk.Attr{{Name: chunk.AttrChunkMethod, Value: ""}}
		}},
		{"empty storage policy", func(o *obj) []chunk.Attr {
			return []chunk.Attr{{Name: chunk.AttrStoragePolicy, Value: ""}}
		}},
	}
	var paths []string
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := e.put("malformed", "obj "+strconv.Itoa(i), testChunkSize)
			p := o.paths[0]
			must(t, chunk.SetAttrs(p, tc.attrs(o)))
			paths = append(paths, p)
			before := mustStat(t, p)
			s, res := e.run(convert.Options{}, p)
			wantOutcome(t, res, p, convert.Failed)
			if !errors.Is(res[p].Err, chunk.ErrCorrupt) || s.Failed != 1 {
				t.Errorf("error %v, summary %+v", res[p].Err, s)
			}
			if diff := cmp.Diff(before, mustStat(t, p)); diff != "" {
				t.Errorf("changed:\n%s", diff)
			}
		})
	}
	input := filepath.Join(t.TempDir(), "list")
	must(t, os.WriteFile(input, []byte(strings.Join(paths, "\n")), 0o644))
	sc := &scenario{env: e}
	code, _ := sc.cli(t, "convert", "--volume", e.vol, "--proxy", e.ns.ProxyURL, "--input-file", input,
		"--chunks-per-second", "0", "--backup-dir", t.TempDir())
	if code != cli.ExitUnconverted {
		t.Errorf("exit %d, want %d", code, cli.ExitUnconverted)
	}
}

// TestConvertAttrsDoNotFit: a chunk whose new key does not fit beside its
// legacy ones (ext4 keeps the attributes of a file in one block, and says
// ENOSPC though the disk has room) is failed, saying so, and left as it
// was, whether the new key is written before or after the backup.
func TestConvertAttrsDoNotFit(t *testing.T) {
	e := newEnv(t)
	// Every "%" of the path takes three bytes in the new fullpath: 3 kB,
	// which fits on a chunk alone but not beside the legacy keys.
	o := e.put("fit", strings.Repeat("%", 1000), testChunkSize)
	p, id := o.paths[0], o.ids[0]
	must(t, chunk.RemoveAttr(p, chunk.AttrFullpathPrefix+id))
	must(t, converttest.Apply(p, converttest.ForEra(converttest.EraGrid, id, o.owner)))
	before := mustStat(t, p)
	for _, noBackup := range []bool{true, false} {
		t.Run("no backup "+strconv.FormatBool(noBackup), func(t *testing.T) {
			s, res := e.run(convert.Options{NoBackup: noBackup}, p)
			if res[p].Outcome == convert.Converted {
				t.Skip("this filesystem holds the attributes of a file however large")
			}
			wantOutcome(t, res, p, convert.Failed)
			why := res[p].Reason()
			if !strings.Contains(why, "attributes do not fit on the filesystem in the current format") ||
				!strings.Contains(why, "left as it was") || s.Failed != 1 {
				t.Errorf("reason %q, summary %+v", why, s)
			}
			if diff := cmp.Diff(before, mustStat(t, p)); diff != "" {
				t.Errorf("changed:\n%s", diff)
			}
		})
	}
	input := filepath.Join(t.TempDir(), "list")
	must(t, os.WriteFile(input, []byte(p), 0o644))
	code, _ := (&scenario{env: e}).cli(t, "convert", "--volume", e.vol, "--proxy", e.ns.ProxyURL,
		"--input-file", input, "--chunks-per-second", "0", "--backup-dir", t.TempDir())
	if code != cli.ExitUnconverted {
		t.Errorf("exit %d, want %d", code, cli.ExitUnconverted)
	}
}

// TestRecoverMissingFullpath: a current chunk that lost its fullpath key
// gets it back from the reverse index and the directory.
func TestRecoverMissingFullpath(t *testing.T) {
	e := newEnv(t)
	o := e.put("recover", "obj", 2*testChunkSize)
	for _, p := range o.paths[:1] {
		id := filepath.Base(p)
		must(t, chunk.RemoveAttr(p, chunk.AttrFullpathPrefix+id))
	}
	before := mustStat(t, o.paths[0])
	s, res := e.run(convert.Options{}, o.paths...)
	wantOutcome(t, res, o.paths[0], convert.Converted)
	wantOutcome(t, res, o.paths[1], convert.Current)
	wantOwners(t, o.paths[0], map[string]converttest.Owner{o.ids[0]: o.owner})
	if !res[o.paths[0]].Recovered || s.Recovered != 1 {
		t.Errorf("not reported as recovered: %+v", s)
	}
	if after := mustStat(t, o.paths[0]); after.Data != before.Data {
		t.Error("data changed")
	}
}

func countFiles(t testing.TB, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}
