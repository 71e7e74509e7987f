package meta_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/meta/sqlstore"
)

// BenchmarkCommitHandler measures the directory's own work for the commit
// of a one-metachunk object with three copies, without the network:
// request parsing, the transaction and its event, the reply. The parallel
// case runs as many commits at once as GOMAXPROCS times -cpu.
func BenchmarkCommitHandler(b *testing.B) {
	for _, par := range []int{1, 8} {
		b.Run(fmt.Sprintf("writers=%d", par), func(b *testing.B) {
			srv := benchServer(b)
			var seq atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(par)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					benchCommit(b, srv, seq.Add(1))
				}
			})
		})
	}
}

func benchServer(b *testing.B) http.Handler {
	store, err := sqlstore.Open(context.Background(), filepath.Join(b.TempDir(), "meta.db"),
		sqlstore.Options{SyncNormal: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	if _, err := store.CreateContainer(context.Background(), meta.ContainerSpec{
		Account: "myaccount", Name: "mycontainer"}); err != nil {
		b.Fatal(err)
	}
	srv, err := meta.NewServer(store, meta.ServerOptions{Registry: meta.NewRegistry(meta.RegistryOptions{})})
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

func benchCommit(b *testing.B, srv http.Handler, n int64) {
	name := fmt.Sprintf("o%09d", n)
	id := meta.ChunkID("C", name, 1, "0", "THREECOPIES")
	var body strings.Builder
	body.WriteString(`{"chunks": [`)
	for i := range 3 {
		if i > 0 {
			body.WriteString(",")
		}
		fmt.Fprintf(&body, `{"url": "http://rawx-%d/%s", "pos": "0", "size": 4096,`+
			` "hash": "00112233445566778899AABBCCDDEEFF"}`, i+1, id)
	}
	body.WriteString(`]}`)
	q := url.Values{"acct": {"myaccount"}, "ref": {"mycontainer"}, "path": {name}}
	req := httptest.NewRequest("POST", "/v3.0/OPENIO/content/create?"+q.Encode(),
		strings.NewReader(body.String()))
	req.Header.Set("X-Oio-Content-Meta-Length", "4096")
	req.Header.Set("X-Oio-Content-Meta-Policy", "THREECOPIES")
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	if w.Code != http.StatusNoContent {
		b.Fatalf("commit: status %d: %s", w.Code, w.Body)
	}
}
