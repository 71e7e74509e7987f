package cli

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/gridkeep/gridkeep/internal/convert"
)

// TestConvertHelpNamesRunLock: --help says where the run lock is, since
// runs exclude each other only when they share it.
func TestConvertHelpNamesRunLock(t *testing.T) {
	out, code := run(t, "", "convert", "--help")
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{"$TMPDIR", "/tmp", "gridkeep-convert-<device>-<inode>.lock"} {
		if code != 0 || !strings.Contains(flat, want) {
			t.Errorf("convert --help: exit %d, does not say %q:\n%s", code, want, out)
		}
	}
}

// A missing --input-file is named as such, before the directory is asked
// anything.
func TestConvertNamesMissingInputFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.txt")
	out, code := run(t, "", "convert", "--volume", newVolume(t), "--input-file", missing,
		"--proxy", "http://127.0.0.1:1")
	if want := "--input-file: open " + missing + ": no such file or directory"; code != ExitUsage ||
		!strings.Contains(out, want) {
		t.Errorf("convert --input-file %s: exit %d, want %d and %q:\n%s", missing, code, ExitUsage, want, out)
	}
}

// A --volume that is a file is named as such, not as a volume without an
// identity.
func TestConvertNamesVolumeNotDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "AFILE")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := run(t, "", "convert", "--volume", file, "--proxy", "http://127.0.0.1:1")
	if want := "--volume: volume " + file + ": not a directory"; code != ExitUsage || !strings.Contains(out, want) {
		t.Errorf("convert --volume %s: exit %d, want %d and %q:\n%s", file, code, ExitUsage, want, out)
	}
}

// TestConvertProgressBar: the bar gives its rate per second from its first
// frame on, and is taken off the terminal before the final report line,
// for good: the line starts a line of its own and nothing is drawn after.
func TestConvertProgressBar(t *testing.T) {
	var term bytes.Buffer
	p := &convertPrinter{out: io.Discard, log: slog.New(slog.NewTextHandler(&term, nil)),
		barDesc: "convert rawx-1"}
	var pg convert.Progress
	p.live.bar = newCountBar(&term, -1, "convert rawx-1")
	p.live.draw = func(bar *progressbar.ProgressBar, elapsed time.Duration) { p.drawLocked(bar, pg, elapsed) }
	draw := func(at convert.Progress, elapsed time.Duration) { pg = at; p.live.redraw(elapsed) }
	draw(convert.Progress{}, 0)
	if first := term.String(); !strings.Contains(first, "0.0 chunks/s") || strings.Contains(first, "/hr") {
		t.Errorf("first frame %q, want a rate of 0.0 chunks/s", first)
	}
	draw(convert.Progress{Done: 3}, time.Second)
	p.report(convert.Report{Final: true, Volume: "rawx-1", Chunks: 3})
	draw(convert.Progress{Done: 3}, 2*time.Second)
	out := term.String()
	i := strings.Index(out, "time=")
	if i < 0 || !strings.HasSuffix(out[:i], "\r") || !strings.HasSuffix(out, "\n") ||
		!strings.Contains(out[i:], "DONE rawx-1") {
		t.Errorf("the final report does not start a cleared line, or is not the last thing written: %q", out)
	}
}
