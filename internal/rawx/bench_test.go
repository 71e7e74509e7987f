package rawx

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkPutHandler measures the server's own work for a 4 KiB upload,
// without the network: headers, file, hash, attributes, rename.
func BenchmarkPutHandler(b *testing.B) {
	vol := filepath.Join(b.TempDir(), "vol")
	os.Mkdir(vol, 0o755)
	srv, err := New(Config{Volume: vol, Namespace: "NS", Addr: "127.0.0.1:1"})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	data := make([]byte, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := testID(i)
		req := httptest.NewRequest("PUT", "/"+id, bytes.NewReader(data))
		req.Host = "127.0.0.1:1"
		setPutHeaders(req.Header, testMeta(id))
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != http.StatusCreated {
			b.Fatalf("status %d: %s", w.Code, w.Header().Get("X-Error"))
		}
	}
}

// BenchmarkGetHandler measures a 4 KiB read without the network.
func BenchmarkGetHandler(b *testing.B) {
	vol := filepath.Join(b.TempDir(), "vol")
	os.Mkdir(vol, 0o755)
	srv, err := New(Config{Volume: vol, Namespace: "NS", Addr: "127.0.0.1:1"})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	id := testID(0)
	req := httptest.NewRequest("PUT", "/"+id, bytes.NewReader(make([]byte, 4096)))
	req.Host = "127.0.0.1:1"
	setPutHeaders(req.Header, testMeta(id))
	srv.ServeHTTP(httptest.NewRecorder(), req)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("GET", "/"+id, nil)
		req.Host = "127.0.0.1:1"
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != http.StatusOK || w.Body.Len() != 4096 {
			b.Fatalf("status %d", w.Code)
		}
	}
}
