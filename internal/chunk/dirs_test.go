package chunk

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// strayVolume makes, in a new directory, a volume "vol" of the default
// layout with one chunk file and directories of every kind, and beside it
// a directory "other" that is no volume. It returns the new directory.
func strayVolume(t *testing.T) string {
	t.Helper()
	top := t.TempDir()
	vol := filepath.Join(top, "vol")
	for _, d := range []string{"vol/ABC/sub/ABC", "vol/zz/ABC", "vol/0000x", "vol/abc", "vol/ABCD",
		"vol/E4A", "vol/orphans/zz", "vol/non_optimal_placement/ABC/x", "vol/lost+found", "other/zz"} {
		if err := os.MkdirAll(filepath.Join(top, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := LockVolume(vol, VolumeIdentity{Namespace: "OPENIO", Type: VolumeType,
		ServiceID: "rawx-1"}); err != nil {
		t.Skipf("no user extended attributes here: %v", err)
	}
	id := "ABC" + strings.Repeat("0", 61)
	if err := os.WriteFile(filepath.Join(vol, "ABC", id), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return top
}

// walkStrays returns what WalkIDs reports under root: the paths of chunk
// ids, and the stray directories with why, relative to top.
func walkStrays(t *testing.T, top, root string, l Layout) ([]string, map[string]string) {
	t.Helper()
	var ids []string
	strays := map[string]string{}
	rel := func(p string) string {
		r, err := filepath.Rel(top, p)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	err := WalkIDs(filepath.Join(top, root), l, func(path, _ string) error {
		ids = append(ids, rel(path))
		return nil
	}, func(dir, why string) error {
		strays[rel(dir)] = why
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids, strays
}

func TestWalkIDsStrayDirs(t *testing.T) {
	top := strayVolume(t)
	const width, below = "its name is not 3 uppercase hexadecimal digits (hash width 3)",
		"below the last level of chunk directories (hash depth 1)"
	tests := []struct {
		root   string
		layout Layout
		want   map[string]string
	}{
		// The directories of the volume are checked, what is below a
		// stray one and the other directories of its root are not, nor
		// is a directory in no volume.
		{".", DefaultLayout, map[string]string{"vol/0000x": width, "vol/abc": width, "vol/ABCD": width,
			"vol/zz": width, "vol/ABC/sub": below}},
		{"vol", DefaultLayout, map[string]string{"vol/0000x": width, "vol/abc": width,
			"vol/ABCD": width, "vol/zz": width, "vol/ABC/sub": below}},
		// A root inside a volume has its place in it.
		{"vol/ABC", DefaultLayout, map[string]string{"vol/ABC/sub": below}},
		{"vol/zz", DefaultLayout, map[string]string{"vol/zz": width}},
		{"vol/E4A", DefaultLayout, map[string]string{}},
		{"other", DefaultLayout, map[string]string{}},
		{"vol", Layout{Width: 4, Depth: 2}, map[string]string{
			"vol/0000x": "its name is not 4 uppercase hexadecimal digits (hash width 4)",
			"vol/ABC":   "its name is not 4 uppercase hexadecimal digits (hash width 4)",
			"vol/E4A":   "its name is not 4 uppercase hexadecimal digits (hash width 4)",
			"vol/abc":   "its name is not 4 uppercase hexadecimal digits (hash width 4)",
			"vol/zz":    "its name is not 4 uppercase hexadecimal digits (hash width 4)",
		}},
	}
	for _, tt := range tests {
		ids, got := walkStrays(t, top, tt.root, tt.layout)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("stray directories under %s, layout %+v (-want +got):\n%s", tt.root, tt.layout, diff)
		}
		if tt.root == "vol" && len(ids) != 1 {
			t.Errorf("chunk ids under %s: %q, want the one chunk", tt.root, ids)
		}
	}
	_, got := walkStrays(t, top, "vol", Layout{Width: 3, Depth: 0})
	if len(got) != 6 || got["vol/ABC"] != "a flat volume (hash depth 0) has no chunk directories" {
		t.Errorf("stray directories of a flat volume: %q", got)
	}
}

// walkMisplaced walks root, under top, with WalkIDs and returns what it
// says of each chunk file found, by path relative to top.
func walkMisplaced(t *testing.T, top, root string, l Layout) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := WalkIDs(filepath.Join(top, root), l, func(path, misplaced string) error {
		rel, _ := filepath.Rel(top, path)
		got[rel] = misplaced
		return nil
	}, func(string, string) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// A chunk file of a volume outside its id's directory is named misplaced,
// in or below a directory that cannot be a chunk directory too; one in a
// directory that is not checked is not.
func TestWalkIDsMisplacedChunks(t *testing.T) {
	top := strayVolume(t)
	id := "ABC" + strings.Repeat("0", 61)
	for _, p := range []string{"vol/" + id, "vol/E4A/" + id, "vol/zz/" + id, "vol/zz/ABC/" + id,
		"vol/abc/" + id, "vol/ABC/sub/" + id, "vol/orphans/zz/" + id, "other/" + id} {
		if err := os.WriteFile(filepath.Join(top, p), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{
		"vol/ABC/" + id:        "",
		"vol/" + id:            "misplaced: above the chunk directories; its directory is ABC",
		"vol/E4A/" + id:        "misplaced: in E4A, not in its directory ABC",
		"vol/zz/" + id:         "misplaced: in zz, not in its directory ABC",
		"vol/zz/ABC/" + id:     "misplaced: in zz/ABC, not in its directory ABC",
		"vol/abc/" + id:        "misplaced: in abc, not in its directory ABC",
		"vol/ABC/sub/" + id:    "misplaced: in ABC/sub, not in its directory ABC",
		"vol/orphans/zz/" + id: "", // not checked
		"other/" + id:          "", // in no volume
	}
	if diff := cmp.Diff(want, walkMisplaced(t, top, ".", DefaultLayout)); diff != "" {
		t.Errorf("misplaced chunks (-want +got):\n%s", diff)
	}
	// A root inside a volume has its place in it.
	if got := walkMisplaced(t, top, "vol/abc", DefaultLayout)["vol/abc/"+id]; got != want["vol/abc/"+id] {
		t.Errorf("chunk under a walk's root vol/abc: %q, want %q", got, want["vol/abc/"+id])
	}
	got := walkMisplaced(t, top, "vol", Layout{Width: 3, Depth: 0})
	if got["vol/"+id] != "" || got["vol/abc/"+id] != "misplaced: in abc, not at the root of the volume "+
		"(hash depth 0)" {
		t.Errorf("misplaced chunks of a flat volume: %q", got)
	}
}

// An entry named by a chunk id not in uppercase is walked too, and placed
// by its id in uppercase.
func TestWalkIDsLowercaseNames(t *testing.T) {
	top := strayVolume(t)
	id := "abc" + strings.Repeat("0", 60) + "f"
	for _, p := range []string{"vol/ABC/" + id, "vol/E4A/" + id, "vol/ABC/" + id + PendingSuffix} {
		if err := os.WriteFile(filepath.Join(top, p), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := walkMisplaced(t, top, "vol", DefaultLayout)
	want := map[string]string{
		"vol/ABC/ABC" + strings.Repeat("0", 61): "",
		"vol/ABC/" + id:                         "",
		"vol/E4A/" + id:                         "misplaced: in E4A, not in its directory ABC",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("walked entries (-want +got):\n%s", diff)
	}
}

// Misplaced places a chunk file as WalkIDs does.
func TestMisplaced(t *testing.T) {
	top := strayVolume(t)
	id := "ABC" + strings.Repeat("0", 61)
	for _, p := range []string{"vol/" + id, "vol/abc/" + id, "vol/orphans/zz/" + id, "other/" + id,
		"vol/ABC/sub/x"} {
		if err := os.WriteFile(filepath.Join(top, p), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for p, want := range map[string]string{
		"vol/ABC/" + id:        "",
		"vol/" + id:            "misplaced: above the chunk directories; its directory is ABC",
		"vol/abc/" + id:        "misplaced: in abc, not in its directory ABC",
		"vol/orphans/zz/" + id: "",
		"other/" + id:          "",
		"vol/ABC/sub/x":        "", // not named by a chunk id
	} {
		if got := DefaultLayout.Misplaced(filepath.Join(top, p)); got != want {
			t.Errorf("Misplaced(%s) = %q, want %q", p, got, want)
		}
	}
}
