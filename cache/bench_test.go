package cache

import (
	"strconv"
	"testing"
)

func benchCache(b *testing.B, p Policy, n int) (*Cache[string, int], []string) {
	c := mustNew(b, Options[string, int]{Capacity: n, Policy: p})
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(1_000_000_000+i)
		c.Set(keys[i], i)
	}
	return c, keys
}

func BenchmarkGet(b *testing.B) {
	for _, p := range []Policy{TinyLFU, FIFO} {
		b.Run(p.String(), func(b *testing.B) {
			c, keys := benchCache(b, p, 1<<14)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					c.Get(keys[i&(len(keys)-1)])
					i++
				}
			})
		})
	}
}

func BenchmarkSetUpdate(b *testing.B) {
	c, keys := benchCache(b, TinyLFU, 1<<14)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Set(keys[i&(len(keys)-1)], i)
		i++
	}
}

func BenchmarkSetEvict(b *testing.B) {
	c, _ := benchCache(b, TinyLFU, 1<<14)
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = "new:" + strconv.Itoa(1_000_000_000+i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Set(keys[i&(len(keys)-1)], i)
		i++
	}
}
