package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
