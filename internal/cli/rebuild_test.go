package cli

import (
	"strings"
	"testing"
)

// TestRebuildRefusesBadTargets: an unknown volume, a chunk on an unknown
// server or address and a negative orphan age are usage errors, said as
// such, before anything is done.
func TestRebuildRefusesBadTargets(t *testing.T) {
	proxy := startNamespace(t)
	chunkURL := "http://rawx-1/5BA11D33000000000000000000000000000000000000000000000000000000FF"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"rebuild", "--volume", "rawx-99"}, "no such service"},
		{[]string{"rebuild", "--chunk", strings.Replace(chunkURL, "rawx-1", "rawx-99", 1)},
			"no such service"},
		{[]string{"rebuild", "--chunk", strings.Replace(chunkURL, "rawx-1", "127.0.0.1:1", 1)},
			"no chunk server is registered at 127.0.0.1:1"},
		{[]string{"check", "volume", "rawx-99"}, "no such service"},
		{[]string{"check", "chunk", strings.Replace(chunkURL, "rawx-1", "rawx-99", 1)}, "no such service"},
		{[]string{"rebuild", "--chunk", chunkURL, "--bytes-per-second", "NaN"}, "finite rate"},
		{[]string{"check", "--all", "--items-per-second", "+Inf"}, "finite rate"},
		{[]string{"convert", "--volume", t.TempDir(), "--chunks-per-second", "NaN"}, "finite rate"},
		{[]string{"convert", "--volume", t.TempDir(), "--chunks-per-second", "Inf"}, "finite rate"},
		{[]string{"rebuild", "--chunk", chunkURL, "--chunks-per-second", "inf"}, "finite rate"},
		{[]string{"check", "--all", "--bytes-per-second", "-1"}, "finite rate"},
		{[]string{"rebuild", "--chunk", chunkURL, "--proxy", "notaurl"}, "bad service URL"},
		{[]string{"ls", "acct", "--proxy", "notaurl"}, "notaurl"},
		{[]string{"check", "chunk", strings.Replace(chunkURL, "rawx-1", "127.0.0.1:1", 1)},
			"no chunk server is registered at 127.0.0.1:1"},
		{[]string{"rebuild", "--chunk", chunkURL, "--orphan-min-age", "-1h"}, "negative"},
		{[]string{"check", "--all", "--orphan-min-age", "-1h"}, "negative"},
	} {
		out, code := runOn(t, proxy, "", c.args...)
		if code != ExitUsage || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d, want %d and %q: %s", c.args, code, ExitUsage, c.want, out)
		}
	}
}

// TestVolumeNamedOtherwise: a volume named in capitals is the registered
// chunk server of that id, for check and rebuild alike.
func TestVolumeNamedOtherwise(t *testing.T) {
	proxy := startNamespace(t)
	for _, args := range [][]string{{"check", "volume", "RAWX-1"},
		{"rebuild", "--volume", "RAWX-1", "--dry-run"}} {
		if out, code := runOn(t, proxy, "", args...); code != 0 {
			t.Errorf("%v: exit %d:\n%s", args, code, out)
		}
	}
}
