package integrity

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestErrorFileRoundTrip(t *testing.T) {
	url := "http://rawx-1/0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
	tests := []struct {
		name string
		r    Result
		line string
		want Target
	}{
		{"account", Result{Kind: KindAccount, Target: Target{Account: "a"}},
			"a\n", Target{Account: "a"}},
		{"object with a space", Result{Kind: KindObject, Target: Target{Account: "a",
			Container: "c", Object: "dir/my obj", Version: 42}},
			"a c \"dir/my obj\" 42\n",
			Target{Account: "a", Container: "c", Object: "dir/my obj", Version: 42}},
		{"chunk", Result{Kind: KindChunk, Target: Target{Account: "a", Container: "c",
			Object: "o", Version: 7, ContentID: "AB", Chunk: url}},
			"a c o 7 " + url + "\n",
			Target{Account: "a", Container: "c", Object: "o", Version: 7, Chunk: url}},
		{"missing copy, irreparable", Result{Kind: KindChunk, Irreparable: true,
			Target: Target{Account: "a", Container: "c", Object: "o", Version: 7, Chunk: "3"}},
			"#IRREPARABLE a c o 7 3\n",
			Target{Account: "a", Container: "c", Object: "o", Version: 7, Chunk: "3"}},
		{"orphan without owner", Result{Kind: KindChunk, Target: Target{Chunk: url}},
			url + "\n", Target{Chunk: url}},
		{"volume", Result{Kind: KindVolume, Target: Target{Volume: "rawx-2"}},
			"volume=rawx-2\n", Target{Volume: "rawx-2"}},
		{"object with a newline and quotes", Result{Kind: KindObject, Target: Target{Account: "a",
			Container: "c", Object: "p|q\n\"r\"", Version: 9}},
			"a c \"p|q\n\"\"r\"\"\" 9\n",
			Target{Account: "a", Container: "c", Object: "p|q\n\"r\"", Version: 9}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteErrorLine(&b, &tc.r); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.line {
				t.Errorf("line %q, want %q", b.String(), tc.line)
			}
			got, err := ReadTargets(&b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]Target{tc.want}, got); diff != "" {
				t.Errorf("read back (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadTargetsRejectsBadLines(t *testing.T) {
	for _, line := range []string{"a c o notaversion", "a b c d e f", "a c o 1 2 3"} {
		if _, err := ReadTargets(strings.NewReader(line + "\n")); err == nil {
			t.Errorf("%q: no error", line)
		}
	}
	got, err := ReadTargets(strings.NewReader("\n# a comment\n  \n"))
	if err != nil || len(got) != 0 {
		t.Errorf("comments and blanks: %v %v", got, err)
	}
}

func TestRebuildFileRoundTrip(t *testing.T) {
	cid := strings.Repeat("AB", 32)
	url := "http://rawx-1/" + strings.Repeat("CD", 32)
	results := []Result{
		{Kind: KindChunk, Target: Target{ContainerID: cid, ContentID: "EF", Object: "a|b c/d",
			Version: 12, Chunk: url}},
		{Kind: KindChunk, Irreparable: true, Target: Target{Account: "acct", Container: "ctr",
			ContentID: "EF", Object: "o", Version: 12, Chunk: "0"}},
	}
	var b bytes.Buffer
	for i := range results {
		if err := WriteRebuildLine(&b, &results[i]); err != nil {
			t.Fatal(err)
		}
	}
	b.WriteString("# skipped\n\n")
	got, err := ReadRebuildEntries(&b)
	if err != nil {
		t.Fatal(err)
	}
	want := []RebuildEntry{
		{ContainerID: cid, ContentID: "EF", Path: "a|b c/d", Version: 12, Chunk: url},
		{ContainerID: results[1].Target.CID(), ContentID: "EF", Path: "o", Version: 12,
			Chunk: "0", Irreparable: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
	// A line as OpenIO's checker writes it, path raw.
	e, err := ParseRebuildLine(cid + "|ef|dir/o|12|" + url)
	if err != nil || e.Path != "dir/o" || e.ContentID != "EF" || e.Version != 12 {
		t.Errorf("OpenIO line: %+v %v", e, err)
	}
	if _, err := ParseRebuildLine("a|b|c"); err == nil {
		t.Error("short line accepted")
	}
	// Entries no rebuild can act on are refused when the file is read, so
	// that the file is refused whole before anything is done.
	for line, want := range map[string]string{
		cid + "|ef|o|12|http://rawx-4/../../meta.db": "not http://host/<chunk id>",
		"CID|ef|o|12|" + url:                         `container id "CID" is not 64 hexadecimal digits`,
		cid + "|xyz|o|12|" + url:                     `content id "XYZ" is not hexadecimal`,
		cid + "|ef|o|-3|" + url:                      `version "-3": not a positive number`,
		cid + "|ef|o|12|zero":                        `"zero" is neither a chunk URL nor a metachunk position`,
		"|||12|0":                                    "position 0 without the container id",
	} {
		if _, err := ParseRebuildLine(line); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error saying %q", line, err, want)
		}
	}
	if e, err := ParseRebuildLine("||||" + url); err != nil || e.Chunk != url {
		t.Errorf("a chunk URL alone: %+v, %v", e, err)
	}
}

func TestBrokenEventRoundTrip(t *testing.T) {
	r := Result{Kind: KindChunk, Irreparable: true, Target: Target{Account: "a",
		Container: "c", Object: "o", Version: 5, ContentID: "AB", Chunk: "http://rawx-1/00"}}
	ev, err := BrokenEvent("NS", &r)
	if err != nil {
		t.Fatal(err)
	}
	if ev.URL.ID != r.Target.CID() || ev.URL.Version != "5" || ev.URL.NS != "NS" {
		t.Errorf("event url %+v", ev.URL)
	}
	got, err := ParseBroken(ev)
	if err != nil {
		t.Fatal(err)
	}
	want := []RebuildEntry{{ContainerID: r.Target.CID(), ContentID: "AB", Path: "o",
		Version: 5, Chunk: "http://rawx-1/00", Irreparable: true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

// TestOverlongLineSaysSo: a line over the bound is named, in both files.
func TestOverlongLineSaysSo(t *testing.T) {
	long := strings.Repeat("x", 2<<20) + "\n"
	if _, err := ReadTargets(strings.NewReader("acct ctr obj\n" + long)); err == nil ||
		!strings.Contains(err.Error(), "line 2: longer than") {
		t.Errorf("error file: %v", err)
	}
	if _, err := ReadRebuildEntries(strings.NewReader("# a comment\n" + long)); err == nil ||
		!strings.Contains(err.Error(), "line 2: longer than") {
		t.Errorf("rebuild file: %v", err)
	}
}

// TestJSONLinesHaveEveryKey: every --json line carries the keys the help
// lists, lists empty rather than absent, whatever the status.
func TestJSONLinesHaveEveryKey(t *testing.T) {
	for _, r := range []Result{
		{Kind: KindAccount, Target: Target{Account: "a"}},
		{Kind: KindAccount, Target: Target{Account: "a"}, Errors: []string{"bad"}},
		{Kind: KindAccount, Target: Target{Account: "a"}, Failed: []string{"no answer"}},
	} {
		line, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"type", "item", "status", "errors", "check_failed", "irreparable"} {
			if _, ok := got[key]; !ok {
				t.Errorf("%s: no %q", line, key)
			}
		}
	}
}
