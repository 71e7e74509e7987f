package rdir_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/gridkeep/gridkeep/internal/rdir"
	"github.com/gridkeep/gridkeep/internal/rdir/rdirtest"
)

// benchStores are the stores the benchmarks run on: SQLite directly, and
// the client through the HTTP handler to the same kind of store.
func benchStores(b *testing.B) map[string]rdir.Store {
	sqlite := func() *rdir.SQLiteStore {
		s, err := rdir.OpenSQLite(context.Background(), b.TempDir()+"/rdir.db", sqliteOptions)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}
	srv := httptest.NewServer(rdir.NewHandler(sqlite(), rdir.HandlerOptions{}))
	b.Cleanup(srv.Close)
	c, err := rdir.NewClient(srv.URL, rdir.ClientOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return map[string]rdir.Store{"sqlite": sqlite(), "http": c}
}

func BenchmarkPushOne(b *testing.B) {
	for name, s := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			if err := s.CreateVolume(ctx, testVol); err != nil {
				b.Fatal(err)
			}
			for i := 0; b.Loop(); i++ {
				if err := s.Push(ctx, testVol, []rdir.Record{rdirtest.Rec(i%50, i, 100)}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFetchPage reads pages of 1000 records of a 10,000-record volume.
func BenchmarkFetchPage(b *testing.B) {
	for name, s := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			if err := s.CreateVolume(ctx, testVol); err != nil {
				b.Fatal(err)
			}
			if err := s.Push(ctx, testVol, rdirtest.Recs(0, 10000, 50, 100)); err != nil {
				b.Fatal(err)
			}
			opts := rdir.ListOptions{Limit: 1000}
			for b.Loop() {
				page, err := s.Fetch(ctx, testVol, opts)
				if err != nil {
					b.Fatal(err)
				}
				opts.Marker = page.Marker
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/record")
		})
	}
}
