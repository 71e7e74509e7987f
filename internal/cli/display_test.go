package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rivo/uniseg"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/integrity"
	"github.com/gridkeep/gridkeep/internal/meta"
)

func TestVisible(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"photos/2024/a b.jpg", "photos/2024/a b.jpg"},
		{"été/日本", "été/日本"},
		{"a\nb", `a\nb`},
		{"a\r\tb", `a\r\tb`},
		{"\x1b[31mred", `\x1b[31mred`},
		{"\x00\x07\x7f", `\x00\a\x7f`},
		{"bad\xff\xfe", `bad\xff\xfe`},
		{"c1\u009b2J", `c1\u009b2J`},
		{"rtl\u202eexe.txt", `rtl\u202eexe.txt`},
		{`a\nb`, `a\\nb`}, // a real backslash stays distinct from an escape
		{"\uFFFD", "\uFFFD"},
	} {
		if got := visible(tt.in); got != tt.want {
			t.Errorf("visible(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got, want := visibleMessage(`name "a\nb"`+"\x1b"), `name "a\nb"\x1b`; got != want {
		t.Errorf("visibleMessage = %q, want %q", got, want)
	}
}

// hasRawControl reports whether s holds a control byte other than the
// newlines that end rows, or bytes that are not UTF-8.
func hasRawControl(s string) bool {
	for _, r := range s {
		if r == '\n' {
			continue
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\uFFFD' {
			return true
		}
	}
	return false
}

func TestTextOutputsEscapeControlCharacters(t *testing.T) {
	const evil = "evil\nfake  1  2\x1b[2J\x7f\xff"
	const shown = `evil\nfake  1  2\x1b[2J\x7f\xff`
	o := &meta.Object{Name: evil, Version: 7, ContentID: "C1", Hash: "AB", Policy: "SINGLE",
		MimeType: "text/\a", Properties: map[string]string{"k\tey": "v\r\x1b]0;t\a"},
		Chunks: []meta.Chunk{{URL: "http://rawx-1/ID\n", RealURL: "http://127.0.0.1:1/ID", Pos: "0\n1",
			Hash: "H\x1b"}}}
	checkOut := func(what, out string, want ...string) {
		t.Helper()
		if hasRawControl(out) {
			t.Errorf("%s prints a raw control character:\n%q", what, out)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s does not show %s:\n%s", what, w, out)
			}
		}
	}

	var b bytes.Buffer
	printStat(&b, o)
	checkOut("stat", b.String(), shown, `text/\a`, `property k\tey`, `v\r\x1b]0;t\a`)
	b.Reset()
	printLocate(&b, o)
	checkOut("locate", b.String(), `0\n1`, `H\x1b`)
	if n := strings.Count(b.String(), "\n"); n != 2 {
		t.Errorf("locate of one chunk printed %d lines:\n%s", n, b.String())
	}

	b.Reset()
	pr := &checkPrinter{out: &b}
	pr.result(integrity.Result{Kind: integrity.KindObject,
		Target: integrity.Target{Account: "a", Container: "c", Object: evil},
		Errors: []string{"chunk \x1b[1mgone\n"}})
	checkOut("check", b.String(), "a/c/"+shown, `chunk \x1b[1mgone\n`)
	if n := strings.Count(b.String(), "\n"); n != 2 {
		t.Errorf("check printed %d lines for one item:\n%s", n, b.String())
	}
	b.Reset()
	pr = &checkPrinter{out: &b, asJSON: true}
	pr.result(integrity.Result{Kind: integrity.KindObject,
		Target: integrity.Target{Account: "a", Container: "c", Object: "evil\nname"}})
	var row struct{ Item string }
	if err := json.Unmarshal(b.Bytes(), &row); err != nil || !strings.HasSuffix(row.Item, "evil\nname") {
		t.Errorf("check --json must keep the exact name: %v %q", err, b.String())
	}
}

func TestChunkInspectEscapesControlCharacters(t *testing.T) {
	dir := t.TempDir()
	id := strings.Repeat("AB", 32)
	path := filepath.Join(dir, id)
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := chunk.SetAttrs(path, []chunk.Attr{
		{Name: chunk.AttrFullpathPrefix + id, Value: "acct/ctr/evil%0A%1B%5B2Jrow/1/AB12"},
		{Name: chunk.AttrPosition, Value: "0"}, {Name: chunk.AttrSize, Value: "1"},
		{Name: chunk.AttrChunkMethod, Value: "plain/nb_copy=1"},
		{Name: chunk.AttrStoragePolicy, Value: "SINGLE\x1b[31m"},
		{Name: chunk.AttrExtPrefix + "note", Value: "a\nb"},
	})
	if err != nil {
		t.Skipf("no user extended attributes here: %v", err)
	}
	var b bytes.Buffer
	inspectChunks(&b, []string{path}, chunk.DefaultLayout, false, false)
	out := b.String()
	if hasRawControl(out) {
		t.Errorf("chunk inspect prints a raw control character:\n%q", out)
	}
	for _, w := range []string{`SINGLE\x1b[31m`, `note=a\nb`} {
		if !strings.Contains(out, w) {
			t.Errorf("chunk inspect does not show %s:\n%s", w, out)
		}
	}
}

func TestListingsEscapeControlCharacters(t *testing.T) {
	proxy := startNamespace(t)
	const evil = "evil\nfake  9  9  2000-01-01T00:00:00Z  \x1b[2J"
	const shown = `evil\nfake  9  9  2000-01-01T00:00:00Z  \x1b[2J`
	if out, code := runOn(t, proxy, "", "container", "create", "acct/ctr",
		"--property", "note=a\nb\x1b]0;x\a"); code != 0 {
		t.Fatalf("container create: exit %d: %s", code, out)
	}
	if out, code := runOn(t, proxy, "x", "put", "acct/ctr/"+evil, "-",
		"--property", "k=v\r\x7f"); code != 0 {
		t.Fatalf("put: exit %d: %s", code, out)
	}
	for _, tt := range []struct {
		args  []string
		want  string
		lines int
	}{
		{[]string{"put", "acct/ctr/" + evil, "-", "--property", "k=v\r\x7f"}, "stored acct/ctr/" + shown, 1},
		{[]string{"ls", "acct/ctr"}, shown, 2},
		{[]string{"ls", "acct/ctr", "--versions"}, shown, 2},
		{[]string{"stat", "acct/ctr/" + evil}, `v\r\x7f`, 0},
		{[]string{"locate", "acct/ctr/" + evil}, "rawx-", 2},
		{[]string{"container", "show", "acct/ctr"}, `a\nb\x1b]0;x\a`, 0},
		{[]string{"get", "acct/ctr/" + evil, "--version", "1"}, "acct/ctr/" + shown, 1},
	} {
		out, _ := runOn(t, proxy, "x", tt.args...)
		if hasRawControl(out) || !strings.Contains(out, tt.want) {
			t.Errorf("%q: want %s, escaped:\n%s", tt.args, tt.want, out)
		}
		if n := strings.Count(out, "\n"); tt.lines > 0 && n != tt.lines {
			t.Errorf("%q: %d lines, want %d:\n%s", tt.args, n, tt.lines, out)
		}
	}
	out, _ := runOn(t, proxy, "", "ls", "acct/ctr", "--json")
	if !strings.Contains(out, `"name":"evil\nfake  9  9  2000-01-01T00:00:00Z  \u001b[2J"`) {
		t.Errorf("ls --json must keep the exact name:\n%s", out)
	}
}

func TestErrorLineIsEscaped(t *testing.T) {
	var b bytes.Buffer
	printError(&b, errors.New("get a/b/c\nd\x1b[2J: no such object"))
	if got, want := b.String(), "gridkeep: get a/b/c\\nd\\x1b[2J: no such object\n"; got != want {
		t.Errorf("printError wrote %q, want %q", got, want)
	}
	b.Reset()
	printError(&b, fmt.Errorf("object %q: no such object", "a\nb"))
	if got, want := b.String(), `gridkeep: object "a\nb": no such object`+"\n"; got != want {
		t.Errorf("printError wrote %q, want %q: a name quoted already must not be escaped twice", got, want)
	}
}

// TestListingAlignsWideNames lists objects and containers whose names mix
// ASCII with wide characters (two terminal columns each) and an accented
// letter written with a combining mark (none): the column after the name
// starts at the same terminal column on every line.
func TestListingAlignsWideNames(t *testing.T) {
	proxy := startNamespace(t)
	names := []string{"a", "数据备份", "e\u0301te", "ファイル名.txt"}
	for _, n := range names {
		if out, code := runOn(t, proxy, "x", "put", "acct/"+n+"/"+n, "-"); code != 0 {
			t.Fatalf("put %s: exit %d: %s", n, code, out)
		}
	}
	for _, args := range [][]string{{"ls", "acct"}, {"ls", "acct/数据备份"}, {"ls", "acct/a"}} {
		out, code := runOn(t, proxy, "", args...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, out)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		second := -1
		for _, line := range lines {
			name, _, _ := strings.Cut(line, "  ")
			rest := strings.TrimLeft(line[len(name):], " ")
			col := uniseg.StringWidth(line[:len(line)-len(rest)])
			if second >= 0 && col != second {
				t.Errorf("%q: second column at %d on %q, %d above:\n%s", args, col, line, second, out)
			}
			second = col
		}
	}
}
