package cli

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/namespace"
	"github.com/gridkeep/gridkeep/internal/rdir"
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

// TestRebuildUnservedVolume: the copies of a volume that no chunk server
// serves any more (a start with fewer chunk servers) are rebuilt elsewhere
// from its reverse index by --volume; check then finds nothing amiss and
// every object reads back whole.
func TestRebuildUnservedVolume(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	opts := namespace.Options{Data: data, PortBase: -1, ChunkSize: 1 << 20, Rawx: 3}
	ns, err := namespace.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	content := bytes.Repeat([]byte("unserved "), 300_000) // three metachunks
	for i := range 4 {
		if out, code := run(t, string(content), "put", "--policy", "TWOCOPIES", fmt.Sprintf("acct/c/o%d", i),
			"-", "--proxy", ns.ProxyURL); code != 0 {
			t.Fatalf("put: exit %d: %s", code, out)
		}
	}
	lost := 0
	chunk.WalkChunks(filepath.Join(data, "rawx-3"), func(string) error { lost++; return nil })
	rc, err := rdir.NewClient(ns.RdirURL, rdir.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		// The reverse index is fed by events: wait until it lists every copy.
		page, err := rc.Fetch(ctx, "rawx-3", rdir.ListOptions{Limit: 1000})
		if err == nil && len(page.Records) == lost {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the reverse index of rawx-3 never caught up: %d records of %d chunks, %v",
				len(page.Records), lost, err)
		}
	}
	ns.Close()
	opts.Rawx = 2
	if ns, err = namespace.Start(ctx, opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	out, code := run(t, "", "rebuild", "--volume", "rawx-3", "--proxy", ns.ProxyURL)
	if rebuilt := strings.Count(out, " rebuilt to http://rawx-"); code != 0 || lost == 0 || rebuilt != lost {
		t.Fatalf("rebuild --volume of an unserved volume: exit %d, %d copies rebuilt, want 0 and %d:\n%s",
			code, rebuilt, lost, out)
	}
	if out, code := run(t, "", "check", "--all", "--proxy", ns.ProxyURL); code != 0 {
		t.Errorf("check after the rebuild: exit %d:\n%s", code, out)
	}
	for i := range 4 {
		if out, code := run(t, "", "get", fmt.Sprintf("acct/c/o%d", i), "--proxy", ns.ProxyURL); code != 0 ||
			out != string(content) {
			t.Errorf("get o%d: exit %d, %d bytes", i, code, len(out))
		}
	}
}
