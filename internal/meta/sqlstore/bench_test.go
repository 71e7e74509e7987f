package sqlstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/meta/sqlstore"
)

func benchStore(b *testing.B, syncNormal bool) (meta.Store, string) {
	s, err := sqlstore.Open(context.Background(), filepath.Join(b.TempDir(), "meta.db"),
		sqlstore.Options{SyncNormal: syncNormal})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if _, err := s.CreateContainer(context.Background(), meta.ContainerSpec{Account: "a",
		Name: "c"}); err != nil {
		b.Fatal(err)
	}
	return s, chunk.ContainerID("a", "c")
}

// benchObject is an object of one metachunk with three copies.
func benchObject(name string) *meta.Object {
	id := meta.ChunkID("C", name, 1, "0", "THREECOPIES")
	o := &meta.Object{Name: name, Size: 100, Policy: "THREECOPIES",
		Properties: map[string]string{"k": "v"}}
	for i := range 3 {
		o.Chunks = append(o.Chunks, meta.Chunk{URL: fmt.Sprintf("http://rawx-%d/%s", i, id),
			Pos: "0", Size: 100, Hash: "00112233445566778899AABBCCDDEEFF"})
	}
	return o
}

func BenchmarkPutObject(b *testing.B) {
	for _, sync := range []string{"full", "normal"} {
		b.Run("sync="+sync, func(b *testing.B) {
			s, cid := benchStore(b, sync == "normal")
			ctx := context.Background()
			b.ResetTimer()
			for i := range b.N {
				if _, err := s.PutObject(ctx, cid, benchObject(fmt.Sprintf("o%09d", i))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func fill(b *testing.B, s meta.Store, cid string, n int) {
	ctx := context.Background()
	for i := range n {
		if _, err := s.PutObject(ctx, cid, benchObject(fmt.Sprintf("o%09d", i))); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLocate(b *testing.B) {
	s, cid := benchStore(b, true)
	fill(b, s, cid, 1000)
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if _, err := s.Object(ctx, cid, meta.ObjectQuery{Name: fmt.Sprintf("o%09d",
				i%1000)}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkList1000(b *testing.B) {
	s, cid := benchStore(b, true)
	fill(b, s, cid, 5000)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		l, err := s.ListObjects(ctx, cid, meta.ListOptions{Limit: 1000})
		if err != nil || len(l.Objects) != 1000 {
			b.Fatal(err)
		}
	}
}

// BenchmarkContainer reads a container with a user and a system property,
// as every prepare does.
func BenchmarkContainer(b *testing.B) {
	s, _ := benchStore(b, true)
	ctx := context.Background()
	if _, err := s.CreateContainer(ctx, meta.ContainerSpec{Account: "a", Name: "p",
		Properties: map[string]string{"k": "v"},
		System:     map[string]string{"sys.m2.policy.version": "-1"}}); err != nil {
		b.Fatal(err)
	}
	cid := chunk.ContainerID("a", "p")
	b.ReportAllocs()
	for b.Loop() {
		c, err := s.Container(ctx, cid)
		if err != nil || c.Properties["k"] != "v" {
			b.Fatal(c, err)
		}
	}
}
