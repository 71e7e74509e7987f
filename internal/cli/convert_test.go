package cli

import (
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
