package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/pace"
)

// writeControl writes a control file with the modification time mtime, so
// that each version differs from the last whatever the clock's resolution.
func writeControl(t *testing.T, path, content string, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// testPacing returns the pacing of a job counting units, its control file
// holding content, and what it writes on standard error.
func testPacing(t *testing.T, units paceUnits, content string) (*pacing, *bytes.Buffer, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "control")
	writeControl(t, path, content, time.Now().Add(-time.Hour))
	p, err := newPacing(pace.Rates{ItemsPerSecond: 30}, path, units)
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	p.stderr = &stderr
	return p, &stderr, path
}

// TestControlFileErrorSaidOncePerVersion reads a control file again and
// again, as the periodic reload does: an error in it is said once for each
// version of the file, the pace staying as it was meanwhile, and the pace a
// good version sets is said once.
func TestControlFileErrorSaidOncePerVersion(t *testing.T) {
	p, stderr, path := testPacing(t, convertPace, "chunks-per-second 5\n")
	start := time.Now().Add(-time.Hour)
	for i, step := range []struct {
		content, want string
		rate          float64
	}{
		{"chunks-per-second inf\n", `"inf" is not a rate: want a finite rate`, 5},
		{"chunks-per-second ten\n", `"ten" is not a rate`, 5},
		{"chunks-per-second  ten\n", `"ten" is not a rate`, 5},
		{"chunks-per-second 7\n", "gridkeep: pace now 7 chunks/s", 7},
		// Empty, as while a file is rewritten: nothing said, nothing changed.
		{"", "", 7},
		// Keys left out take the flags' values.
		{"# no pace here\n", "gridkeep: pace now 30 chunks/s", 30},
	} {
		writeControl(t, path, step.content, start.Add(time.Duration(i+1)*time.Minute))
		stderr.Reset()
		for range 3 {
			p.reloadLogged()
		}
		lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
		if step.want == "" && stderr.Len() > 0 {
			t.Errorf("%q read 3 times: said %q, want nothing", step.content, stderr.String())
		} else if step.want != "" && (len(lines) != 1 || !strings.Contains(lines[0], step.want)) {
			t.Errorf("%q read 3 times: said %q, want %q once", step.content, stderr.String(), step.want)
		}
		if got := p.pacer.Rates(); got != (pace.Rates{ItemsPerSecond: step.rate}) {
			t.Errorf("after %q: pace %+v, want %g items per second", step.content, got, step.rate)
		}
	}
}

// TestPaceMessageNamesTheJobsUnits: the message saying the new pace counts
// what the job counts, as its flags do.
func TestPaceMessageNamesTheJobsUnits(t *testing.T) {
	for _, tc := range []struct {
		job     string
		units   paceUnits
		content string
		want    string
	}{
		{"convert", convertPace, "chunks-per-second 7\n", "gridkeep: pace now 7 chunks/s\n"},
		{"rebuild", rebuildPace, "chunks-per-second 7\nbytes-per-second 1000\n",
			"gridkeep: pace now 7 chunks/s, 1000 bytes/s\n"},
		{"check", checkPace, "items-per-second 7\nbytes-per-second 1000\n",
			"gridkeep: pace now 7 items/s, 1000 bytes/s\n"},
		{"check unpaced", checkPace, "items-per-second 0\nbytes-per-second 1000\n",
			"gridkeep: pace now no limit on items, 1000 bytes/s\n"},
	} {
		t.Run(tc.job, func(t *testing.T) {
			p, stderr, path := testPacing(t, tc.units, "")
			writeControl(t, path, tc.content, time.Now())
			p.reloadLogged()
			if got := stderr.String(); got != tc.want {
				t.Errorf("said %q, want %q", got, tc.want)
			}
		})
	}
}

// TestControlFileRefusesInfiniteRates: an infinite rate in a control file
// is a bad argument at the start, for every job.
func TestControlFileRefusesInfiniteRates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control")
	for _, units := range []paceUnits{checkPace, rebuildPace, convertPace} {
		for _, content := range []string{units.items + "-per-second inf\n", "items-per-second 1e400\n"} {
			writeControl(t, path, content, time.Now())
			_, err := newPacing(pace.Rates{}, path, units)
			if exitCode(err) != ExitUsage || !strings.Contains(err.Error(), "--control-file") ||
				!strings.Contains(err.Error(), "want a finite rate") {
				t.Errorf("%s job, control file %q: error %v, want a usage error naming "+
					"--control-file and what a rate must be", units.items, content, err)
			}
		}
	}
}
