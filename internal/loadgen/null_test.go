package loadgen

import (
	"bytes"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/zeebo/blake3"
)

const nullID = "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789ABCDEF"

// do sends one request to h and returns the reply and its body.
func do(t *testing.T, h http.Handler, method, path string, hdr http.Header,
	body []byte) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, "http://127.0.0.1:6299"+path, bytes.NewReader(body))
	req.Host = "127.0.0.1:6299"
	for k, v := range hdr {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	resp := w.Result()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

func nullPutHeaders() http.Header {
	n, _ := newNamer()
	return n.putHeaders(n.next())
}

func TestNullServerChunk(t *testing.T) {
	s := &NullServer{Addr: "127.0.0.1:6299"}
	body := bytes.Repeat([]byte{1}, 5000)
	resp, _ := do(t, s, http.MethodPut, "/"+nullID, nullPutHeaders(), body)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get(hdrChunkSize) != "5000" {
		t.Fatalf("PUT: %d, size %q; want 201, 5000", resp.StatusCode, resp.Header.Get(hdrChunkSize))
	}

	resp, data := do(t, s, http.MethodGet, "/"+strings.ToLower(nullID), nil, nil)
	if resp.StatusCode != http.StatusOK || len(data) != 5000 {
		t.Errorf("GET: %d with %d bytes; want 200 with 5000", resp.StatusCode, len(data))
	}
	if got := resp.Header.Get(hdrChunkID); got != strings.ToUpper(nullID) {
		t.Errorf("GET chunk id %q, want it uppercase", got)
	}

	resp, _ = do(t, s, http.MethodHead, "/"+nullID, http.Header{hdrCheckHash: {"true"}}, nil)
	sum := blake3.Sum256(make([]byte, 5000))
	want := strings.ToUpper(hex.EncodeToString(sum[:]))
	if resp.StatusCode != http.StatusOK || resp.Header.Get(hdrChunkHash) != want {
		t.Errorf("HEAD check: %d hash %q; want 200 %s", resp.StatusCode,
			resp.Header.Get(hdrChunkHash), want)
	}
	if resp.Header.Get("Content-Length") != "5000" {
		t.Errorf("HEAD Content-Length %q, want 5000", resp.Header.Get("Content-Length"))
	}

	resp, _ = do(t, s, http.MethodPut, "/"+nullID, nullPutHeaders(), body)
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("second PUT: %d, want 409", resp.StatusCode)
	}
	resp, _ = do(t, s, http.MethodDelete, "/"+nullID, nil, nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE: %d, want 204", resp.StatusCode)
	}
	resp, _ = do(t, s, http.MethodGet, "/"+nullID, nil, nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET after DELETE: %d, want 404", resp.StatusCode)
	}
}

func TestNullServerRefusals(t *testing.T) {
	s := &NullServer{Addr: "127.0.0.1:6299", MaxChunks: 1}
	missing := nullPutHeaders()
	delete(missing, hdrChunkPos)
	tests := []struct {
		name   string
		method string
		path   string
		hdr    http.Header
		want   int
	}{
		{"missing header", http.MethodPut, "/" + nullID, missing, http.StatusBadRequest},
		{"short id", http.MethodGet, "/ABCDEF", nil, http.StatusBadRequest},
		{"not hex", http.MethodGet, "/" + strings.Repeat("G", 64), nil, http.StatusBadRequest},
		{"unknown chunk", http.MethodHead, "/" + nullID, nil, http.StatusNotFound},
		{"bad method", http.MethodPatch, "/" + nullID, nil, http.StatusMethodNotAllowed},
		{"first chunk", http.MethodPut, "//" + nullID, nullPutHeaders(), http.StatusCreated},
		{"no room", http.MethodPut, "/" + nullID[:60], nullPutHeaders(), http.StatusInsufficientStorage},
		{"info", http.MethodGet, "/info", nil, http.StatusOK},
	}
	for _, tt := range tests {
		resp, _ := do(t, s, tt.method, tt.path, tt.hdr, []byte("data"))
		if resp.StatusCode != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}

	req := httptest.NewRequest(http.MethodGet, "/info", nil)
	req.Host = "other:6299"
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != http.StatusTeapot {
		t.Errorf("foreign Host: %d, want 418", w.Code)
	}
}

func TestParseChunkKey(t *testing.T) {
	a, okA := parseChunkKey(nullID)
	b, okB := parseChunkKey(strings.ToUpper(nullID))
	c, okC := parseChunkKey(nullID[:63])
	if !okA || !okB || !okC {
		t.Fatal("valid ids refused")
	}
	if a != b {
		t.Error("the case of an id changes its key")
	}
	if a == c {
		t.Error("an id and its prefix share a key")
	}
	for _, n := range []int{23, 65} {
		id := strings.Repeat("A", n)
		if _, ok := parseChunkKey(id); ok {
			t.Errorf("id of %d digits accepted", n)
		}
	}
	if _, ok := parseChunkKey(strings.Repeat("A", 24)); !ok {
		t.Error("id of 24 digits refused")
	}
}

func TestNullServerSizes(t *testing.T) {
	s := &NullServer{}
	for i, size := range []int{0, 1 << 20, 10} {
		id := strings.Repeat(strconv.Itoa(i), 64)
		resp, _ := do(t, s, http.MethodPut, "/"+id, nullPutHeaders(), make([]byte, size))
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT %d bytes: %d", size, resp.StatusCode)
		}
		if _, data := do(t, s, http.MethodGet, "/"+id, nil, nil); len(data) != size {
			t.Errorf("GET of a %d-byte chunk sent %d bytes", size, len(data))
		}
	}
}
