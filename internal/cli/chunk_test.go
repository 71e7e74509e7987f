package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

func TestChunkInspectSaysHashMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), strings.Repeat("CD", 32))
	if err := os.WriteFile(path, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := chunk.SetAttrs(path, []chunk.Attr{
		{Name: chunk.AttrFullpathPrefix + strings.Repeat("CD", 32), Value: "acct/ctr/obj/1/AB12"},
		{Name: chunk.AttrPosition, Value: "0"}, {Name: chunk.AttrSize, Value: "4"},
		{Name: chunk.AttrChunkMethod, Value: "plain/nb_copy=1"},
		{Name: chunk.AttrStoragePolicy, Value: "SINGLE"},
	})
	if err != nil {
		t.Skipf("no user extended attributes here: %v", err)
	}
	for _, args := range [][]string{{path}, {"--check-hash", path}} {
		out, code := run(t, "", append([]string{"chunk", "inspect"}, args...)...)
		if code != ExitFail || !strings.Contains(out, "missing hash attribute") {
			t.Errorf("inspect %v of a chunk without hash: exit %d, want %d and why:\n%s", args, code,
				ExitFail, out)
		}
	}
	out, _ := run(t, "", "chunk", "inspect", "--check-hash", "--json", path)
	if !strings.Contains(out, `"problems":["missing hash attribute`) {
		t.Errorf("--json does not list the missing hash:\n%s", out)
	}
}

// TestChunkInspectLegacyJSON: the legacy keys come out in snake_case like
// every other field, and those absent are left out.
func TestChunkInspectLegacyJSON(t *testing.T) {
	id := strings.Repeat("AB", 32)
	path := filepath.Join(t.TempDir(), id)
	if err := os.WriteFile(path, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := chunk.SetAttrs(path, []chunk.Attr{
		{Name: chunk.AttrLegacyChunkID, Value: id},
		{Name: chunk.AttrLegacyContainer, Value: strings.Repeat("01", 32)},
		{Name: chunk.AttrLegacyPath, Value: "obj"},
		{Name: chunk.AttrPosition, Value: "0"},
	})
	if err != nil {
		t.Skipf("no user extended attributes here: %v", err)
	}
	out, _ := run(t, "", "chunk", "inspect", "--json", path)
	var got struct {
		Legacy map[string]any `json:"legacy"`
	}
	line, _, _ := strings.Cut(out, "\n") // the error message follows
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	want := map[string]any{"chunk_id": id, "container_id": strings.Repeat("01", 32), "path": "obj"}
	if diff := cmp.Diff(want, got.Legacy); diff != "" {
		t.Errorf("legacy keys (-want +got):\n%s", diff)
	}
}

func TestChunkInspectEmptyDirectory(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "ABC"), 0o755)
	out, code := run(t, "", "chunk", "inspect", dir)
	if code != ExitFail || !strings.Contains(out, "no chunk file under "+dir) {
		t.Errorf("inspect of a directory without chunks: exit %d:\n%s", code, out)
	}
}

// TestChunkInspectDirectoryNamesNonChunks: a link or a pipe under a
// chunk's name in a directory searched is reported, not passed over.
func TestChunkInspectDirectoryNamesNonChunks(t *testing.T) {
	dir := t.TempDir()
	link, pipe := filepath.Join(dir, strings.Repeat("AB", 32)), filepath.Join(dir, strings.Repeat("CD", 32))
	if err := os.Symlink("/etc/hostname", link); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(pipe, 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := run(t, "", "chunk", "inspect", dir)
	if code != ExitFail || strings.Count(out, "not a regular file") != 2 ||
		!strings.Contains(out, "2 of 2 chunks") {
		t.Errorf("inspect of a directory with a link and a pipe: exit %d:\n%s", code, out)
	}
}

// newVolume returns a new empty volume directory of a chunk server.
func newVolume(t *testing.T) string {
	t.Helper()
	vol := t.TempDir()
	if err := chunk.LockVolume(vol, chunk.VolumeIdentity{Namespace: "OPENIO", Type: chunk.VolumeType,
		ServiceID: "rawx-1"}); err != nil {
		t.Skipf("no user extended attributes here: %v", err)
	}
	return vol
}

// writeChunk writes, in the chunk directory of id in vol, a file named
// name holding a consistent 4-byte chunk of id with the attributes of the
// current format, and extra ones; it returns its path.
func writeChunk(t *testing.T, vol, name, id string, extra ...chunk.Attr) string {
	t.Helper()
	path := filepath.Join(vol, id[:3], name)
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	attrs := append([]chunk.Attr{
		{Name: chunk.AttrFullpathPrefix + id, Value: "acct/ctr/obj/1/AB12"},
		{Name: chunk.AttrPosition, Value: "0"}, {Name: chunk.AttrSize, Value: "4"},
		{Name: chunk.AttrHash, Value: strings.Repeat("A", 64)},
		{Name: chunk.AttrChunkMethod, Value: "plain/nb_copy=1"},
		{Name: chunk.AttrStoragePolicy, Value: "SINGLE"},
	}, extra...)
	if err := chunk.SetAttrs(path, attrs); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestChunkInspectNamesStrayDirectories: in a volume, a directory that
// cannot be a chunk directory is named as such and makes the exit code 1,
// as a link under a chunk's name does.
func TestChunkInspectNamesStrayDirectories(t *testing.T) {
	vol := newVolume(t)
	id := "ABC" + strings.Repeat("D", 61)
	writeChunk(t, vol, id, id)
	if out, code := run(t, "", "chunk", "inspect", vol); code != 0 {
		t.Fatalf("inspect of a clean volume: exit %d:\n%s", code, out)
	}

	for _, d := range []string{"zz", "0000x", "orphans"} {
		os.Mkdir(filepath.Join(vol, d), 0o755)
	}
	out, code := run(t, "", "chunk", "inspect", vol)
	for _, d := range []string{"zz", "0000x"} {
		if !strings.Contains(out, filepath.Join(vol, d)+"\n  format          unknown\n  problem         "+
			"not a chunk directory: its name is not 3 uppercase hexadecimal digits") {
			t.Errorf("inspect does not name %s as not a chunk directory:\n%s", d, out)
		}
	}
	if code != ExitFail || strings.Contains(out, "orphans") ||
		!strings.Contains(out, "2 directories are not chunk directories of hash width 3 and depth 1") {
		t.Errorf("inspect of a volume with stray directories: exit %d, want %d:\n%s", code, ExitFail, out)
	}
	out, code = run(t, "", "chunk", "inspect", "--json", vol)
	if code != ExitFail || !strings.Contains(out, `{"path":"`+filepath.Join(vol, "zz")+`","format":"unknown",`+
		`"file_size":0,"problems":["not a chunk directory: its name is not`) {
		t.Errorf("inspect --json of a volume with stray directories: exit %d:\n%s", code, out)
	}
}

// A copy of a chunk file outside its id's directory is a problem of its
// own: no chunk server finds it there.
func TestChunkInspectNamesMisplacedChunks(t *testing.T) {
	vol := newVolume(t)
	id := "ABC" + strings.Repeat("D", 61)
	for _, p := range []string{filepath.Join("ABC", id), filepath.Join("E4A", id)} {
		os.MkdirAll(filepath.Join(vol, filepath.Dir(p)), 0o755)
		if err := os.WriteFile(filepath.Join(vol, p), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, arg := range []string{vol, filepath.Join(vol, "E4A", id)} {
		out, code := run(t, "", "chunk", "inspect", arg)
		if code != ExitFail || !strings.Contains(out, "misplaced: in E4A, not in its directory ABC") ||
			strings.Count(out, "misplaced") != 1 {
			t.Errorf("inspect %s with a misplaced chunk: exit %d:\n%s", arg, code, out)
		}
	}
}

// A chunk file named in lowercase is searched and reported, as it is when
// named on the command line: a chunk server does not find it.
func TestChunkInspectNamesLowercaseChunks(t *testing.T) {
	vol := newVolume(t)
	id := "abc" + strings.Repeat("d", 61)
	path := writeChunk(t, vol, id, strings.ToUpper(id))
	for _, arg := range []string{vol, path} {
		out, code := run(t, "", "chunk", "inspect", arg)
		if code != ExitFail || !strings.Contains(out, "not named in uppercase: a chunk server names chunks "+
			"in uppercase and looks for this one as "+strings.ToUpper(id)) ||
			!strings.Contains(out, "1 of 1 chunks have problems") {
			t.Errorf("inspect %s with a chunk named in lowercase: exit %d:\n%s", arg, code, out)
		}
	}
}

// A link (the fullpath key of another id on a chunk's inode) must be a
// hard link in the volume: one with no file, or with another file, is
// reported.
func TestChunkInspectChecksLinks(t *testing.T) {
	vol := newVolume(t)
	id, other := "ABC"+strings.Repeat("D", 61), "E4A"+strings.Repeat("B", 61)
	path := writeChunk(t, vol, id, id, chunk.Attr{Name: chunk.AttrFullpathPrefix + other,
		Value: "acct/ctr/copy/1/CD34"})
	otherPath := filepath.Join(vol, "E4A", other)
	os.Mkdir(filepath.Dir(otherPath), 0o755)
	for _, tc := range []struct {
		name string
		make func() error
		want string
	}{
		{"no file", func() error { return nil }, "link " + other + ": no chunk file E4A/" + other},
		{"another file", func() error { return os.WriteFile(otherPath, []byte("data"), 0o644) },
			"link " + other + ": the volume's E4A/" + other + " is another file"},
		{"hard link", func() error { os.Remove(otherPath); return os.Link(path, otherPath) }, ""},
	} {
		if err := tc.make(); err != nil {
			t.Fatal(err)
		}
		out, code := run(t, "", "chunk", "inspect", path)
		if tc.want == "" {
			if code != 0 || strings.Contains(out, "link "+other) {
				t.Errorf("%s: exit %d:\n%s", tc.name, code, out)
			}
			continue
		}
		if code != ExitFail || !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d, want %d and %q:\n%s", tc.name, code, ExitFail, tc.want, out)
		}
	}
}
