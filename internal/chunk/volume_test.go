package chunk

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// CheckVolume says what is wrong with a path that is no volume.
func TestCheckVolumeSaysWhy(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		file:                          "volume " + file + ": not a directory",
		dir:                           "volume " + dir + " has no complete identity",
		filepath.Join(dir, "missing"): "no such file or directory",
	} {
		if _, err := CheckVolume(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckVolume(%s) = %v, want %q", path, err, want)
		}
	}
}
