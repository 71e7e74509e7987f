// Package impl wraps each cache under test behind one small interface, so
// that the benchmarks and the simulator drive them all the same way.
package impl

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/maypok86/otter/v2"

	"github.com/gridkeep/gridkeep/cache"
)

// Cache is what every implementation offers the harness.
type Cache interface {
	Get(key string) (int, bool)
	Set(key string, value int)
	// SetTTL stores with a time to live; implementations with one fixed
	// TTL ignore ttl.
	SetTTL(key string, value int, ttl time.Duration)
}

// Config says how to build an implementation.
type Config struct {
	Capacity int
	// TTL is the fixed time to live of implementations that only have
	// one, and zero for no expiry.
	TTL time.Duration
	// Clock, when set, replaces the system clock where the implementation
	// allows it; others emulate expiry with deadlines kept in the value.
	Clock *FakeClock
	// Exact asks for the best-case hit-ratio configuration: otter drains its
	// buffers synchronously and ristretto waits after every Set.
	Exact bool
}

// Names lists the implementations in the order reports show them.
var Names = []string{"gridkeep", "gridkeep-fifo", "otter", "ristretto", "lru", "2q", "lru-expirable"}

// New builds the named implementation.
func New(name string, cfg Config) (Cache, error) {
	switch name {
	case "gridkeep", "gridkeep-fifo":
		return newOurs(cfg, name == "gridkeep-fifo")
	case "otter":
		return newOtter(cfg)
	case "ristretto":
		return newRistretto(cfg)
	case "lru", "2q":
		return newLRU(cfg, name == "2q")
	case "lru-expirable":
		if cfg.Clock != nil {
			return nil, fmt.Errorf("%s: no fake clock", name)
		}
		return &expirableLRU{c: expirable.NewLRU[string, int](cfg.Capacity, nil, cfg.TTL)}, nil
	}
	return nil, fmt.Errorf("unknown implementation %q", name)
}

// FakeClock is a manually advanced clock for the simulator.
type FakeClock struct {
	nanos atomic.Int64
}

// Advance moves the clock forward.
func (c *FakeClock) Advance(d time.Duration) { c.nanos.Add(int64(d)) }

// Now returns the clock's time.
func (c *FakeClock) Now() time.Time { return time.Unix(0, c.nanos.Load()) }

// NowNano returns the clock's time in nanoseconds.
func (c *FakeClock) NowNano() int64 { return c.nanos.Load() }

// Tick returns no ticks.
func (c *FakeClock) Tick(time.Duration) <-chan time.Time { return nil }

type ours struct {
	c *cache.Cache[string, int]
}

func newOurs(cfg Config, fifo bool) (Cache, error) {
	o := cache.Options[string, int]{Capacity: cfg.Capacity, TTL: cfg.TTL}
	if fifo {
		o.Policy = cache.FIFO
	}
	if cfg.Clock != nil {
		o.Clock = cfg.Clock
	}
	c, err := cache.New(o)
	return &ours{c: c}, err
}

func (o *ours) Get(k string) (int, bool)                  { return o.c.Get(k) }
func (o *ours) Set(k string, v int)                       { o.c.Set(k, v) }
func (o *ours) SetTTL(k string, v int, ttl time.Duration) { o.c.SetWithTTL(k, v, ttl) }

// ttlValue carries a per-entry time to live into otter's expiry calculator.
type ttlValue struct {
	v   int
	ttl time.Duration
}

type otterCache struct {
	c *otter.Cache[string, ttlValue]
}

func newOtter(cfg Config) (Cache, error) {
	o := &otter.Options[string, ttlValue]{MaximumSize: cfg.Capacity, InitialCapacity: cfg.Capacity}
	if cfg.Exact {
		o.Executor = func(fn func()) { fn() }
	}
	if cfg.Clock != nil {
		o.Clock = cfg.Clock
	}
	if cfg.TTL > 0 || cfg.Clock != nil {
		o.ExpiryCalculator = otter.ExpiryWritingFunc(func(e otter.Entry[string, ttlValue]) time.Duration {
			return e.Value.ttl
		})
	}
	c, err := otter.New(o)
	return &otterCache{c: c}, err
}

func (o *otterCache) Get(k string) (int, bool) {
	v, ok := o.c.GetIfPresent(k)
	return v.v, ok
}

func (o *otterCache) Set(k string, v int) { o.c.Set(k, ttlValue{v: v, ttl: time.Hour}) }

func (o *otterCache) SetTTL(k string, v int, ttl time.Duration) {
	o.c.Set(k, ttlValue{v: v, ttl: ttl})
}

// deadline is a value with an expiry time, for implementations whose clock
// cannot be faked.
type deadline struct {
	v   int
	exp int64
}

type ristrettoCache struct {
	c     *ristretto.Cache[string, deadline]
	ttl   time.Duration
	clock *FakeClock
	wait  bool
}

func newRistretto(cfg Config) (Cache, error) {
	c, err := ristretto.NewCache(&ristretto.Config[string, deadline]{
		NumCounters:        int64(10 * cfg.Capacity),
		MaxCost:            int64(cfg.Capacity),
		BufferItems:        64,
		IgnoreInternalCost: true,
	})
	return &ristrettoCache{c: c, ttl: cfg.TTL, clock: cfg.Clock, wait: cfg.Exact}, err
}

func (r *ristrettoCache) Get(k string) (int, bool) {
	v, ok := r.c.Get(k)
	if ok && r.clock != nil && v.exp != 0 && r.clock.NowNano() >= v.exp {
		r.c.Del(k)
		return 0, false
	}
	return v.v, ok
}

func (r *ristrettoCache) Set(k string, v int) { r.SetTTL(k, v, r.ttl) }

func (r *ristrettoCache) SetTTL(k string, v int, ttl time.Duration) {
	switch {
	case r.clock != nil:
		r.c.Set(k, deadline{v: v, exp: r.clock.NowNano() + int64(ttl)}, 1)
	case ttl > 0:
		r.c.SetWithTTL(k, deadline{v: v}, 1, ttl)
	default:
		r.c.Set(k, deadline{v: v}, 1)
	}
	if r.wait {
		r.c.Wait()
	}
}

// lruCache wraps golang-lru's LRU and 2Q; with a fake clock it keeps
// deadlines in the value and treats expired entries as misses.
type lruCache struct {
	get   func(string) (deadline, bool)
	add   func(string, deadline)
	del   func(string)
	clock *FakeClock
}

func newLRU(cfg Config, twoQ bool) (Cache, error) {
	l := &lruCache{clock: cfg.Clock}
	if twoQ {
		c, err := lru.New2Q[string, deadline](cfg.Capacity)
		if err != nil {
			return nil, err
		}
		l.get, l.add, l.del = c.Get, c.Add, c.Remove
		return l, nil
	}
	c, err := lru.New[string, deadline](cfg.Capacity)
	if err != nil {
		return nil, err
	}
	l.get = c.Get
	l.add = func(k string, v deadline) { c.Add(k, v) }
	l.del = func(k string) { c.Remove(k) }
	return l, nil
}

func (l *lruCache) Get(k string) (int, bool) {
	v, ok := l.get(k)
	if ok && v.exp != 0 && l.clock != nil && l.clock.NowNano() >= v.exp {
		l.del(k)
		return 0, false
	}
	return v.v, ok
}

func (l *lruCache) Set(k string, v int) { l.add(k, deadline{v: v}) }

func (l *lruCache) SetTTL(k string, v int, ttl time.Duration) {
	d := deadline{v: v}
	if l.clock != nil && ttl > 0 {
		d.exp = l.clock.NowNano() + int64(ttl)
	}
	l.add(k, d)
}

type expirableLRU struct {
	c *expirable.LRU[string, int]
}

func (e *expirableLRU) Get(k string) (int, bool)                { return e.c.Get(k) }
func (e *expirableLRU) Set(k string, v int)                     { e.c.Add(k, v) }
func (e *expirableLRU) SetTTL(k string, v int, _ time.Duration) { e.c.Add(k, v) }
