package cache

import (
	"sync/atomic"
	"time"
)

// Stats are counters since the cache was made. Hits and Misses stay zero
// unless Options.RecordStats is set; GetOrLoad counts one of them for each
// caller, its waiters included. A loader call that panics or ends its
// goroutine counts as a load error: it failed, and its waiters get an error.
type Stats struct {
	Hits        uint64
	Misses      uint64
	Evictions   uint64        // entries removed because the cache was full
	Expirations uint64        // entries removed because their time to live ran out
	Loads       uint64        // loader calls that returned a value and no error
	LoadErrors  uint64        // loader calls that failed: an error, a panic or a Goexit
	LoadTime    time.Duration // time spent in loader calls, in total
}

// HitRatio returns Hits / (Hits + Misses), or 0 before any counted read.
func (s Stats) HitRatio() float64 {
	if s.Hits+s.Misses == 0 {
		return 0
	}
	return float64(s.Hits) / float64(s.Hits+s.Misses)
}

// counterStripes spreads hit and miss counting over several cache lines so
// that readers of different keys rarely write the same line.
const counterStripes = 8

type paddedCounter struct {
	n atomic.Uint64
	_ [56]byte
}

type counters struct {
	hits, misses [counterStripes]paddedCounter

	// The fields below are counted by loaders; shards count evictions
	// and expirations.
	loads, loadErrors atomic.Uint64
	loadNanos         atomic.Int64
}

func (c *counters) snapshot() Stats {
	var s Stats
	for i := range counterStripes {
		s.Hits += c.hits[i].n.Load()
		s.Misses += c.misses[i].n.Load()
	}
	s.Loads = c.loads.Load()
	s.LoadErrors = c.loadErrors.Load()
	s.LoadTime = time.Duration(c.loadNanos.Load())
	return s
}
