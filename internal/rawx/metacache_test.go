package rawx

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

// settled makes every file's change time look old enough to remember its
// metadata, as on a chunk written more than settleTime ago.
func settled(s *Server) {
	s.metas.now = func() time.Time { return time.Now().Add(time.Hour) }
}

// metaLoads returns how many metadata loads the server counted as hits
// and as misses, from /metrics.
func metaLoads(t *testing.T, addr string) (hits, misses int) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	count := func(result string) int {
		re := regexp.MustCompile(`gridkeep_rawx_meta_cache_total\{result="` + result + `"\} (\d+)`)
		m := re.FindSubmatch(b)
		if m == nil {
			t.Fatalf("/metrics has no %s count", result)
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	return count("hit"), count("miss")
}

// color reads the chunk's "Color" property through GET and through HEAD;
// both must agree.
func color(t *testing.T, c *Client, url string) string {
	t.Helper()
	body, m, err := c.Get(ctx, url, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	body.Close()
	h, err := c.Head(ctx, url, false)
	if err != nil {
		t.Fatal(err)
	}
	if h.Extra["Color"] != m.Extra["Color"] {
		t.Fatalf("GET says %q, HEAD says %q", m.Extra["Color"], h.Extra["Color"])
	}
	return m.Extra["Color"]
}

func TestMetaCacheFollowsEveryChange(t *testing.T) {
	srv, addr := startServer(t, Config{Namespace: "NS", ServiceID: "rawx-1"}, settled)
	var c Client
	id := testID(300)
	url := ChunkURL(addr, id)
	m := testMeta(id)
	m.Extra = map[string]string{"Color": "blue"}
	if _, err := c.Put(ctx, url, m, bytes.NewReader([]byte("first")), -1); err != nil {
		t.Fatal(err)
	}
	if got := color(t, &c, url); got != "blue" {
		t.Fatalf("color %q", got)
	}
	if got := color(t, &c, url); got != "blue" {
		t.Fatalf("color %q", got)
	}
	if hits, misses := metaLoads(t, addr); hits != 3 || misses != 1 {
		t.Fatalf("%d hits, %d misses; want 3 and 1", hits, misses)
	}

	// A change made behind the server's back, as setfattr or a conversion
	// makes it, is seen at once.
	path := srv.chunkPath(id)
	if err := chunk.SetAttrs(path, []chunk.Attr{{Name: chunk.AttrExtPrefix + "Color", Value: "red"}}); err != nil {
		t.Fatal(err)
	}
	if got := color(t, &c, url); got != "red" {
		t.Errorf("after an outside change: color %q", got)
	}
	// So are the server's own changes, and the data of a replaced file.
	if err := c.SetProperties(ctx, url, map[string]string{"Color": "green"}); err != nil {
		t.Fatal(err)
	}
	if got := color(t, &c, url); got != "green" {
		t.Errorf("after POST: color %q", got)
	}
	other := testID(301)
	if err := c.Link(ctx, url, ChunkURL(addr, other), chunk.Fullpath{Account: "a", Container: "c",
		Path: "copy", Version: 1, ContentID: "AB"}); err != nil {
		t.Fatal(err)
	}
	if got := color(t, &c, ChunkURL(addr, other)); got != "green" {
		t.Errorf("the copy's color %q", got)
	}
	if err := c.Delete(ctx, url); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Head(ctx, url, false); err == nil {
		t.Error("a deleted chunk is still served")
	}
	if got, err := c.Head(ctx, ChunkURL(addr, other), false); err != nil || got.Fullpath.Path != "copy" {
		t.Errorf("the copy after deleting its source: %+v, %v", got, err)
	}
	m.Extra = map[string]string{"Color": "violet"}
	if _, err := c.Put(ctx, url, m, bytes.NewReader([]byte("second data")), -1); err != nil {
		t.Fatal(err)
	}
	body, got, err := c.Get(ctx, url, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(body)
	body.Close()
	if string(data) != "second data" || got.Extra["Color"] != "violet" || got.Size != 11 {
		t.Errorf("after a new PUT: %q, %+v", data, got)
	}
	// Truncating a file changes its size, and the size served follows.
	if err := os.Truncate(path, 6); err != nil {
		t.Fatal(err)
	}
	got, err = c.Head(ctx, url, true)
	if err == nil {
		t.Errorf("a truncated chunk passes the hash check: %+v", got)
	}
}

func TestMetaCacheWaitsForChangesToSettle(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		setup []func(*Server)
		hits  int
	}{
		// A file changed less than settleTime ago could change again with
		// the same change time: nothing is remembered yet.
		{"fresh file", Config{Namespace: "NS"}, nil, 0},
		{"cache off", Config{Namespace: "NS", MetaCache: -1}, []func(*Server){settled}, 0},
		{"settled file", Config{Namespace: "NS"}, []func(*Server){settled}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, addr := startServer(t, tc.cfg, tc.setup...)
			var c Client
			id := testID(310)
			url := ChunkURL(addr, id)
			if _, err := c.Put(ctx, url, testMeta(id), bytes.NewReader([]byte("x")), -1); err != nil {
				t.Fatal(err)
			}
			for range 5 {
				if _, err := c.Head(ctx, url, false); err != nil {
					t.Fatal(err)
				}
			}
			if hits, misses := metaLoads(t, addr); hits != tc.hits || hits+misses != 5 {
				t.Errorf("%d hits, %d misses; want %d hits of 5", hits, misses, tc.hits)
			}
		})
	}
}
