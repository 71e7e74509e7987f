// Package sim replays deterministic key traces against a cache, one request
// at a time, and measures the hit ratio: each request is a Get, followed by
// a Set when it misses.
package sim

import (
	"fmt"
	"time"

	"github.com/gridkeep/gridkeep/bench/internal/impl"
	"github.com/gridkeep/gridkeep/bench/internal/workload"
)

// Request is one access: an item id and, for expiring workloads, the time to
// live of the value stored on a miss.
type Request struct {
	Item int
	TTL  time.Duration
}

// Workload is a named trace with the cache capacity it is replayed at.
type Workload struct {
	Name     string
	Capacity int
	// Tick is how far the fake clock moves per request; zero means no
	// clock.
	Tick time.Duration
	// Trace builds the requests; scale shrinks their number for quick runs.
	Trace func(scale float64) []Request
}

// Workloads returns the standard set.
func Workloads() []Workload {
	zipf := func(n int, s float64, length int, seed uint64) func(float64) []Request {
		return func(scale float64) []Request {
			return items(workload.ZipfTrace(n, s, scaled(length, scale), seed))
		}
	}
	return []Workload{
		{Name: "zipf0.99", Capacity: 1000, Trace: zipf(1_000_000, 0.99, 3_000_000, 1)},
		{Name: "zipf0.99", Capacity: 10_000, Trace: zipf(1_000_000, 0.99, 3_000_000, 1)},
		{Name: "zipf0.99", Capacity: 100_000, Trace: zipf(1_000_000, 0.99, 3_000_000, 1)},
		{Name: "zipf0.8", Capacity: 10_000, Trace: zipf(1_000_000, 0.8, 3_000_000, 2)},
		{Name: "scan", Capacity: 10_000, Trace: scanMix},
		{Name: "loop", Capacity: 10_000, Trace: loop},
		{Name: "shift", Capacity: 10_000, Trace: shifting},
		{Name: "ttl", Capacity: 10_000, Tick: 100 * time.Microsecond, Trace: expiring},
	}
}

func scaled(n int, scale float64) int {
	return max(1, int(float64(n)*scale))
}

func items(ids []int) []Request {
	reqs := make([]Request, len(ids))
	for i, id := range ids {
		reqs[i].Item = id
	}
	return reqs
}

// scanMix interleaves blocks of 10,000 Zipf(0.99) requests over 100,000 hot
// items with scans of 20,000 items that are never seen again.
func scanMix(scale float64) []Request {
	const hotItems, hotBlock, scanBlock = 100_000, 10_000, 20_000
	blocks := scaled(100, scale)
	hot := workload.ZipfTrace(hotItems, 0.99, blocks*hotBlock, 3)
	reqs := make([]Request, 0, blocks*(hotBlock+scanBlock))
	cold := hotItems
	for b := range blocks {
		reqs = append(reqs, items(hot[b*hotBlock:(b+1)*hotBlock])...)
		for range scanBlock {
			reqs = append(reqs, Request{Item: cold})
			cold++
		}
	}
	return reqs
}

// loop cycles through 12,000 items in order.
func loop(scale float64) []Request {
	const n = 12_000
	reqs := make([]Request, scaled(100*n, scale))
	for i := range reqs {
		reqs[i].Item = i % n
	}
	return reqs
}

// shifting draws Zipf(0.99) ranks over a million items and maps them through
// a new permutation every 250,000 requests, so the hot set moves.
func shifting(scale float64) []Request {
	const n, phase = 1_000_000, 250_000
	r := workload.Rand(4)
	z := workload.NewZipf(n, 0.99)
	reqs := make([]Request, scaled(3_000_000, scale))
	var perm []int
	for i := range reqs {
		if i%phase == 0 {
			perm = r.Perm(n)
		}
		reqs[i].Item = perm[z.Rank(r.Float64())]
	}
	return reqs
}

// expiring is Zipf(0.99) over 100,000 items where each stored value lives
// between 1 and 60 seconds.
func expiring(scale float64) []Request {
	reqs := items(workload.ZipfTrace(100_000, 0.99, scaled(3_000_000, scale), 5))
	r := workload.Rand(6)
	for i := range reqs {
		reqs[i].TTL = time.Duration(1+r.IntN(60)) * time.Second
	}
	return reqs
}

// Run replays reqs against the named implementation and returns the hit
// ratio in percent.
func Run(name string, w Workload, reqs []Request, keys []string) (float64, error) {
	cfg := impl.Config{Capacity: w.Capacity, Exact: true}
	if w.Tick > 0 {
		cfg.Clock = &impl.FakeClock{}
	}
	c, err := impl.New(name, cfg)
	if err != nil {
		return 0, fmt.Errorf("%s on %s: %w", name, w.Name, err)
	}
	hits := 0
	for _, r := range reqs {
		if cfg.Clock != nil {
			cfg.Clock.Advance(w.Tick)
		}
		key := keyOf(keys, r.Item)
		if _, ok := c.Get(key); ok {
			hits++
			continue
		}
		if r.TTL > 0 {
			c.SetTTL(key, r.Item, r.TTL)
		} else {
			c.Set(key, r.Item)
		}
	}
	return 100 * float64(hits) / float64(len(reqs)), nil
}

func keyOf(keys []string, id int) string {
	if id < len(keys) {
		return keys[id]
	}
	return workload.Key(id)
}
