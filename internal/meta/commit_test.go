package meta_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
)

// layoutChunk is a commit body entry at position pos, on chunk server
// rawx-<copy>, holding size bytes.
func layoutChunk(path, pos string, copy int, size int) string {
	id := meta.ChunkID(chunk.ContainerID("myaccount", "mycontainer"), path, 0, pos, "SINGLE")
	return `{"url": "http://rawx-` + itoa(int64(copy)) + `/` + id + `", "pos": "` + pos +
		`", "size": ` + itoa(int64(size)) + `, "hash": "0123456789ABCDEF0123456789ABCDEF"}`
}

// commitBody is a content/create body listing entries, given as
// position:copy:size.
func commitBody(path string, entries ...string) string {
	var chunks []string
	for _, e := range entries {
		f := strings.Split(e, ":")
		copy, _ := strconv.Atoi(f[1])
		size, _ := strconv.Atoi(f[2])
		chunks = append(chunks, layoutChunk(path, f[0], copy, size))
	}
	return `{"chunks": [` + strings.Join(chunks, ", ") + `], "properties": {}}`
}

// TestCommitRefusesUnreadableLayouts: content/create refuses, with a 400
// in OpenIO's error body and changing nothing, a chunk list that cannot
// be read back as the object it commits, whether the name is new or holds
// a previous version; it takes the layouts of readable objects.
func TestCommitRefusesUnreadableLayouts(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.put("o", map[string]string{"k": "v"})
	h.drain()
	before, err := h.client.Locate(h.ctx, "myaccount", "mycontainer", "o", 0)
	if err != nil {
		t.Fatal(err)
	}
	const ec = "ec/algo=liberasurecode_rs_vand,k=6,m=3"
	tests := []struct {
		name    string
		length  string
		entries []string
		method  string // chunk method; the namespace's default when empty
	}{
		{"no chunks for 3 bytes", "3", nil, ""},
		{"no chunks, size from the chunks, then a gap", "", []string{"1:1:3"}, ""},
		{"a gap between metachunks", "2", []string{"0:1:1", "2:1:1"}, ""},
		{"no metachunk 0", "1", []string{"1:1:1"}, ""},
		{"copies of one position differ in size", "3", []string{"0:1:3", "0:2:2"}, ""},
		{"copies differ in a later metachunk", "6", []string{"0:1:3", "0:2:3", "1:1:3", "1:2:2"}, ""},
		{"sizes short of the length", "10", []string{"0:1:3", "1:1:3"}, ""},
		{"sizes over the length", "5", []string{"0:1:3", "1:1:3"}, ""},
		{"one position spelled two ways, sizes differ", "3", []string{"1:1:2", "01:2:3",
			"0:1:1"}, ""},
		{"replicated and erasure-coded positions mixed", "3", []string{"0:1:3", "1.0:1:3"}, ""},
		{"a gap between erasure-coded metachunks", "9", []string{"0.0:1:3", "2.0:1:3"}, ec},
		{"fragment copies differ in size", "9", []string{"0.0:1:3", "0.0:2:4"}, ec},
		{"erasure-coded positions, replicated chunk method", "3", []string{"0.0:1:3"}, ""},
		{"erasure-coded chunk method, replicated positions", "3", []string{"0:1:3"}, ec},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"o", "new"} {
				hdr := map[string]string{}
				if tc.length != "" {
					hdr["X-Oio-Content-Meta-Length"] = tc.length
				}
				if tc.method != "" {
					hdr["X-Oio-Content-Meta-Chunk-Method"] = tc.method
				}
				r := h.proxy("POST", "content/create", ref(path), hdr,
					commitBody(path, tc.entries...)).want(t, path, http.StatusBadRequest)
				if code := r.oioCode(t); code != 400 {
					t.Errorf("%s: oio code %d, want 400", path, code)
				}
			}
			after, err := h.client.Locate(h.ctx, "myaccount", "mycontainer", "o", 0)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("previous version changed (-before +after):\n%s", diff)
			}
			_, err = h.client.Locate(h.ctx, "myaccount", "mycontainer", "new", 0)
			if !errors.Is(err, meta.ErrNoSuchObject) {
				t.Errorf("new object after a refused commit: %v, want %v", err,
					meta.ErrNoSuchObject)
			}
			if evs := h.drain(); len(evs) != 0 {
				t.Errorf("refused commits announced %+v", evs)
			}
		})
	}

	good := []struct {
		name    string
		length  string
		entries []string
		method  string
	}{
		{"no chunks for 0 bytes", "0", nil, ""},
		{"one empty chunk for 0 bytes", "0", []string{"0:1:0"}, ""},
		{"copies listed out of order", "5", []string{"1:1:2", "0:2:3", "1:2:2", "0:1:3"}, ""},
		{"size from the chunks", "", []string{"0:1:3", "0:2:3", "1:1:1"}, ""},
		{"erasure-coded fragments", "5", []string{"0.0:1:3", "0.1:2:3", "1.0:1:1", "1.2:3:1"}, ec},
	}
	for i, tc := range good {
		hdr := map[string]string{}
		if tc.length != "" {
			hdr["X-Oio-Content-Meta-Length"] = tc.length
		}
		if tc.method != "" {
			hdr["X-Oio-Content-Meta-Chunk-Method"] = tc.method
		}
		path := "good" + itoa(int64(i))
		h.proxy("POST", "content/create", ref(path), hdr, commitBody(path, tc.entries...)).
			want(t, tc.name, http.StatusNoContent)
	}
}
