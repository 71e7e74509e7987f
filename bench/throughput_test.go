package bench

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/bench/internal/impl"
	"github.com/gridkeep/gridkeep/bench/internal/workload"
)

// traceLen is the length of every precomputed trace; a power of two so that
// goroutines wrap around it with a mask.
const traceLen = 1 << 20

// hotCapacity is the capacity of the hot-set workloads, all of whose keys
// fit in the cache.
const hotCapacity = 1 << 15

// asideCapacity and asideKeys shape the cache-aside workloads, which evict.
const (
	asideCapacity = 1 << 14
	asideKeys     = 1 << 18
)

// ttl is the lifetime of every entry in the workloads with expiry: long
// enough that nothing expires during a run, so they measure its cost only.
const ttl = time.Hour

type workloadSpec struct {
	name   string
	writes int // writes per 100 operations (hot set only)
	aside  bool
	ttl    bool
}

var workloads = []workloadSpec{
	{name: "r100", writes: 0},
	{name: "r75w25", writes: 25},
	{name: "r50w50", writes: 50},
	{name: "w100", writes: 100},
	{name: "aside", aside: true},
	{name: "ttl-r75w25", writes: 25, ttl: true},
	{name: "ttl-aside", aside: true, ttl: true},
}

// implsFor lists the implementations a workload runs: golang-lru's LRU and
// 2Q have no expiry, and its expirable LRU has nothing else.
func implsFor(w workloadSpec) []string {
	if w.ttl {
		return []string{"gridkeep", "gridkeep-fifo", "otter", "ristretto", "lru-expirable"}
	}
	return []string{"gridkeep", "gridkeep-fifo", "otter", "ristretto", "lru", "2q"}
}

// BenchmarkThroughput measures operations per second of every
// implementation on every workload, with all goroutines sharing one cache.
// Sub-benchmarks are named <workload>/impl=<name>.
func BenchmarkThroughput(b *testing.B) {
	hotKeys := workload.Keys(hotCapacity / 3)
	hotTrace := steps(hotKeys, workload.ZipfTrace(len(hotKeys), 0.99, traceLen, 11))
	asideKeys := workload.Keys(asideKeys)
	asideTrace := steps(asideKeys, workload.ZipfTrace(len(asideKeys), 0.99, traceLen, 12))
	for _, w := range workloads {
		for _, name := range implsFor(w) {
			b.Run(w.name+"/impl="+name, func(b *testing.B) {
				if w.aside {
					benchAside(b, name, w, asideTrace)
				} else {
					benchHot(b, name, w, hotKeys, hotTrace)
				}
			})
		}
	}
}

// step is one request of a trace: the key and the value a write stores.
// Traces hold the keys themselves, in request order, so that a benchmark
// reads them sequentially and spends its time in the cache under test.
type step struct {
	key   string
	value int
}

// steps turns a trace of item numbers into the steps that request them.
func steps(keys []string, ids []int) []step {
	trace := make([]step, len(ids))
	for i, id := range ids {
		trace[i] = step{keys[id], id}
	}
	return trace
}

func newCache(b *testing.B, name string, capacity int, w workloadSpec) impl.Cache {
	cfg := impl.Config{Capacity: capacity}
	if w.ttl {
		cfg.TTL = ttl
	}
	c, err := impl.New(name, cfg)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// benchHot reads and updates keys that are all resident. The op mix is a
// fixed pattern over the trace index: of every 100 operations, the first
// w.writes are updates.
func benchHot(b *testing.B, name string, w workloadSpec, keys []string, trace []step) {
	c := newCache(b, name, hotCapacity, w)
	for i, k := range keys {
		c.Set(k, i)
	}
	impl.Wait(c)
	settle()
	var offsets atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := offsets.Add(1) * 0x9e3779b97f4a7c15
		for pb.Next() {
			s := &trace[i&(traceLen-1)]
			if int(i%100) < w.writes {
				c.Set(s.key, s.value)
			} else {
				c.Get(s.key)
			}
			i++
		}
	})
	reportRate(b)
}

// benchAside reads through the cache, storing on a miss, over a key space
// much larger than the cache, after warming it with a quarter of the trace.
// The one-iteration run that the testing package starts with, and that CI's
// -benchtime 1x stops at, skips the warm-up.
func benchAside(b *testing.B, name string, w workloadSpec, trace []step) {
	c := newCache(b, name, asideCapacity, w)
	for _, s := range trace[:traceLen/4] {
		if b.N == 1 {
			break
		}
		if _, ok := c.Get(s.key); !ok {
			c.Set(s.key, s.value)
		}
	}
	impl.Wait(c)
	settle()
	var offsets, hits atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := offsets.Add(1) * 0x9e3779b97f4a7c15
		var n, h uint64
		for pb.Next() {
			s := &trace[i&(traceLen-1)]
			if _, ok := c.Get(s.key); ok {
				h++
			} else {
				c.Set(s.key, s.value)
			}
			i++
			n++
		}
		hits.Add(h)
	})
	reportRate(b)
	b.ReportMetric(100*float64(hits.Load())/float64(b.N), "hit%")
}

// settle collects the garbage of the set-up and of earlier benchmarks
// (traces and caches of tens of megabytes), so that no collection started
// before the timer runs alongside the measured loop.
func settle() {
	runtime.GC()
}

func reportRate(b *testing.B) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s/1e6, "Mops/s")
	}
}
