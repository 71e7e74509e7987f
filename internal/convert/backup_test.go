package convert_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/convert"
	"github.com/gridkeep/gridkeep/internal/convert/converttest"
)

// TestDumpRoundTrip: WriteDump escapes any name and value so that
// setfattr --restore gives them back byte for byte, and ParseDump reads
// what it wrote.
func TestDumpRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	must(t, os.WriteFile(path, nil, 0o644))
	attrs := []chunk.Attr{
		{Name: "user.plain", Value: "acct/ctr/a%2Fb/1/ABC"},
		{Name: "user.oio:acct/c t/p=\"q\"\\/None", Value: ""},
		{Name: "user.bytes", Value: "a\"b\\c\nd\x00e\xffé\r"},
	}
	var b strings.Builder
	w := bufio.NewWriter(&b)
	convert.WriteDump(w, path, attrs)
	must(t, w.Flush())
	parsed, err := convert.ParseDump(b.String())
	must(t, err)
	if diff := cmp.Diff(map[string][]chunk.Attr{path: attrs}, parsed); diff != "" {
		t.Errorf("ParseDump (-want +got):\n%s", diff)
	}
	restore(t, b.String())
	got, err := chunk.ReadAttrs(path)
	must(t, err)
	if diff := cmp.Diff(asMap(attrs), asMap(got)); diff != "" {
		t.Errorf("after setfattr --restore (-want +got):\n%s", diff)
	}
}

// restore runs setfattr --restore on a dump.
func restore(t testing.TB, dump string) {
	t.Helper()
	if _, err := exec.LookPath("setfattr"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("setfattr is missing: ./scripts/test.sh installs the attr package")
		}
		t.Skip("setfattr is missing: ./scripts/test.sh installs the attr package")
	}
	cmd := exec.Command("setfattr", "--restore=-")
	cmd.Stdin = strings.NewReader(dump)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("setfattr --restore: %v: %s", err, out)
	}
}

func asMap(attrs []chunk.Attr) map[string]string {
	m := map[string]string{}
	for _, a := range attrs {
		m[a.Name] = a.Value
	}
	return m
}

// TestBackupRestore: the backup of each converted chunk gives back its
// original attributes with setfattr --restore, once the keys the
// conversion added are removed; chunks left as they were have none.
func TestBackupRestore(t *testing.T) {
	e := newEnv(t)
	o := e.put("backup", "obj", 4*testChunkSize)
	for i, era := range converttest.Eras {
		must(t, converttest.ToEra(o.paths[i], o.ids[i], era, o.owner))
	}
	before, err := converttest.Snapshot(e.vol, true)
	must(t, err)
	s, _ := e.run(convert.Options{}, o.paths...)
	if s.Converted != 4 {
		t.Fatalf("summary %+v", s)
	}
	dump, err := os.ReadFile(filepath.Join(s.BackupDir, "batch-000001.txt"))
	must(t, err)
	parsed, err := convert.ParseDump(string(dump))
	must(t, err)
	if len(parsed) != len(o.paths) {
		t.Errorf("the backup names %d files, want %d", len(parsed), len(o.paths))
	}
	for _, p := range o.paths {
		if !strings.Contains(string(dump), "# file: "+p+"\n") {
			t.Errorf("no backup of %s", p)
		}
		must(t, converttest.RemoveAll(p))
	}
	restore(t, string(dump))
	after, err := converttest.Snapshot(e.vol, true)
	must(t, err)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("restored volume differs (-before +after):\n%s", diff)
	}
}

// TestDryRun: a dry run reports the changes a run would make and writes
// nothing at all, not even a backup directory.
func TestDryRun(t *testing.T) {
	e := newEnv(t)
	o := e.put("dryrun", "obj", 3*testChunkSize)
	must(t, converttest.ToEra(o.paths[0], o.ids[0], converttest.EraHashed, o.owner))
	must(t, chunk.RemoveAttr(o.paths[1], chunk.AttrFullpathPrefix+o.ids[1]))
	before, err := converttest.Snapshot(e.vol, true)
	must(t, err)
	backups := t.TempDir()
	s, res := e.run(convert.Options{DryRun: true, BackupDir: backups})
	after, err := converttest.Snapshot(e.vol, true)
	must(t, err)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("dry run changed the volume (-before +after):\n%s", diff)
	}
	if n := countFiles(t, backups); n != 0 || s.BackupDir != "" {
		t.Errorf("dry run wrote %d backups in %q", n, s.BackupDir)
	}
	if s.Converted != 2 || s.Current != 1 || s.Recovered != 1 {
		t.Errorf("summary %+v", s)
	}
	r := res[o.paths[0]]
	wantSet := []chunk.Attr{
		{Name: chunk.AttrFullpathPrefix + o.ids[0], Value: o.owner.Fullpath().String()},
		{Name: chunk.AttrOioVersion, Value: "4.2"},
	}
	if diff := cmp.Diff(wantSet, r.Set); diff != "" {
		t.Errorf("planned set (-want +got):\n%s", diff)
	}
	if len(r.Remove) != 6 {
		t.Errorf("planned removal of %v, want 5 grid keys and 1 entry", r.Remove)
	}
}

// TestHalfConverted: a chunk left by a killed run with its new keys and
// its legacy keys is finished by the next run; a converted chunk is
// recognised as current.
func TestHalfConverted(t *testing.T) {
	e := newEnv(t)
	o := e.put("half", "obj", 2*testChunkSize)
	for i, p := range o.paths {
		// Legacy keys back on a current chunk: the state between the two
		// syncs of a batch.
		must(t, converttest.Apply(p, converttest.ForEra(converttest.EraHashed, o.ids[i], o.owner)))
	}
	must(t, chunk.SetAttrs(o.paths[1], []chunk.Attr{{Name: chunk.AttrOioVersion, Value: "4.2"}}))
	s, res := e.run(convert.Options{NoBackup: true}, o.paths...)
	for i, p := range o.paths {
		wantOutcome(t, res, p, convert.Converted)
		if res[p].Format != chunk.FormatMixed {
			t.Errorf("format %s, want mixed", res[p].Format)
		}
		if len(res[p].Set) > 1 || (i == 1 && len(res[p].Set) != 0) {
			t.Errorf("%s: set %v again", p, res[p].Set)
		}
		wantOwners(t, p, map[string]converttest.Owner{o.ids[i]: o.owner})
	}
	if s.BackupDir != "" {
		t.Errorf("backups written with NoBackup: %s", s.BackupDir)
	}
	s, res = e.run(convert.Options{NoBackup: true}, o.paths...)
	if s.Current != 2 || s.Converted != 0 {
		t.Errorf("second run: %+v", s)
	}
}
