package convert_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gridkeep/gridkeep/internal/cli"
	"github.com/gridkeep/gridkeep/internal/convert"
	"github.com/gridkeep/gridkeep/internal/convert/converttest"
)

// TestCommandLineUsage: bad arguments exit with code 2 and change nothing.
func TestCommandLineUsage(t *testing.T) {
	e := newEnv(t)
	o := e.put("usage", "obj", testChunkSize)
	must(t, converttest.ToEra(o.paths[0], o.ids[0], converttest.EraGrid, o.owner))
	before, err := converttest.Snapshot(e.vol, true)
	must(t, err)
	sc := &scenario{env: e}
	notVolume := t.TempDir()
	for _, args := range [][]string{
		{},
		{"--volume", notVolume},
		{"--volume", e.vol, "--backup-dir", filepath.Join(e.vol, "backups")},
		{"--volume", e.vol, "--chunks-per-second", "-1"},
		{"--volume", e.vol, "--concurrency", "0"},
		{"--volume", e.vol, "--input-file", filepath.Join(notVolume, "missing")},
		{"--volume", e.vol, "--no-such-flag"},
	} {
		code, _ := sc.cli(t, append([]string{"convert", "--proxy", e.ns.ProxyURL}, args...)...)
		if code != cli.ExitUsage {
			t.Errorf("convert %v: exit %d, want %d", args, code, cli.ExitUsage)
		}
	}
	after, err := converttest.Snapshot(e.vol, true)
	must(t, err)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("the volume changed:\n%s", diff)
	}
}

// TestCommandLineInputFile: --input-file lists chunks relative to the
// volume, skipping blank and # lines; names that are not chunk ids and
// paths outside the volume are reported, and the exit code says some
// chunks were left.
func TestCommandLineInputFile(t *testing.T) {
	e := newEnv(t)
	o := e.put("input", "obj", 3*testChunkSize)
	for i, p := range o.paths[:2] {
		must(t, converttest.ToEra(p, o.ids[i], converttest.EraHashed, o.owner))
	}
	rel0, _ := filepath.Rel(e.vol, o.paths[0])
	list := strings.Join([]string{"# chunks to convert", "", rel0, "  " + o.paths[1] + "  ",
		"not-a-chunk", "../outside/" + o.ids[2]}, "\n")
	input := filepath.Join(t.TempDir(), "list")
	must(t, os.WriteFile(input, []byte(list), 0o644))
	sc := &scenario{env: e}
	code, out := sc.cli(t, "convert", "--volume", e.vol, "--proxy", e.ns.ProxyURL, "--input-file", input,
		"--json", "--chunks-per-second", "0", "--backup-dir", t.TempDir())
	if code != cli.ExitUnconverted {
		t.Errorf("exit %d, want %d", code, cli.ExitUnconverted)
	}
	var outcomes []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct {
			Type    string `json:"type"`
			Outcome string `json:"outcome"`
			Path    string `json:"path"`
		}
		must(t, json.Unmarshal([]byte(line), &r))
		if r.Type == "chunk" {
			outcomes = append(outcomes, r.Outcome+" "+filepath.Base(r.Path))
		}
	}
	// Chunks are converted concurrently: lines come in any order.
	slices.Sort(outcomes)
	want := []string{"failed " + o.ids[2], "not-a-chunk not-a-chunk"}
	if diff := cmp.Diff(want, outcomes); diff != "" {
		t.Errorf("chunk lines (-want +got):\n%s", diff)
	}
	if s := lastSummary(t, out); s.Converted != 2 || s.Failed != 1 || s.NotChunks != 1 {
		t.Errorf("summary %+v", s)
	}
	wantOwners(t, o.paths[0], map[string]converttest.Owner{o.ids[0]: o.owner})
	wantOwners(t, o.paths[1], map[string]converttest.Owner{o.ids[1]: o.owner})
}

// TestReportLine: the report line has the fields of OpenIO's converter.
func TestReportLine(t *testing.T) {
	start := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	r := convert.Report{Volume: "rawx-1", Started: start, Passes: 120, Errors: 3, Chunks: 400,
		Rate: 12.5, TotalTime: 32 * time.Second}
	want := "RUN  rawx-1 started=2024-05-06T07:08:09Z passes=120 errors=3 chunks=400 12.50/s " +
		"total_time=32.00 (converter: 99.25%)"
	if got := r.Line(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	r.Final = true
	if got := r.Line(); !strings.HasPrefix(got, "DONE rawx-1 ") {
		t.Errorf("final report %q", got)
	}
}
