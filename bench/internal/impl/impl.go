// Package impl wraps each cache under test behind one small interface, so
// that the benchmarks and the simulator drive them all the same way.
package impl

import (
	"errors"
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

// Names lists the implementations in the order reports show them. SIEVE
// and S3-FIFO are single-goroutine references for the simulator only.
var Names = []string{"gridkeep", "gridkeep-fifo", "otter", "ristretto", "lru", "2q", "lru-expirable", "sieve", "s3fifo"}

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
	case "sieve", "s3fifo":
		if cfg.Clock != nil {
			return nil, fmt.Errorf("%s has no expiry: %w", name, ErrUnsupported)
		}
		if name == "sieve" {
			return newSieve(cfg.Capacity), nil
		}
		return newS3FIFO(cfg.Capacity), nil
	case "lru-expirable":
		if cfg.Clock != nil {
			return nil, fmt.Errorf("%s takes no fake clock: %w", name, ErrUnsupported)
		}
		return expirableLRU{c: expirable.NewLRU[string, int](cfg.Capacity, nil, cfg.TTL)}, nil
	}
	return nil, fmt.Errorf("unknown implementation %q", name)
}

// ErrUnsupported is returned for a configuration an implementation cannot
// provide.
var ErrUnsupported = errors.New("unsupported")

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

// Wait lets ristretto apply its buffered writes; the others have none.
func Wait(c Cache) {
	if r, ok := c.(ristrettoCache); ok {
		r.c.Wait()
	}
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

// newOtter returns otter with int values, or, when a fake clock drives
// per-entry lifetimes, with values that carry their time to live into
// otter's expiry calculator.
func newOtter(cfg Config) (Cache, error) {
	if cfg.Clock != nil {
		return newOtterTTL(cfg)
	}
	o := &otter.Options[string, int]{MaximumSize: cfg.Capacity, InitialCapacity: cfg.Capacity}
	if cfg.Exact {
		o.Executor = func(fn func()) { fn() }
	}
	if cfg.TTL > 0 {
		o.ExpiryCalculator = otter.ExpiryWriting[string, int](cfg.TTL)
	}
	c, err := otter.New(o)
	return otterCache{c}, err
}

type otterCache struct {
	c *otter.Cache[string, int]
}

func (o otterCache) Get(k string) (int, bool)                { return o.c.GetIfPresent(k) }
func (o otterCache) Set(k string, v int)                     { o.c.Set(k, v) }
func (o otterCache) SetTTL(k string, v int, _ time.Duration) { o.c.Set(k, v) }

type ttlValue struct {
	v   int
	ttl time.Duration
}

type otterTTL struct {
	c *otter.Cache[string, ttlValue]
}

func newOtterTTL(cfg Config) (Cache, error) {
	o := &otter.Options[string, ttlValue]{
		MaximumSize: cfg.Capacity, InitialCapacity: cfg.Capacity, Clock: cfg.Clock,
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, ttlValue]) time.Duration {
			return e.Value.ttl
		}),
	}
	if cfg.Exact {
		o.Executor = func(fn func()) { fn() }
	}
	c, err := otter.New(o)
	return otterTTL{c}, err
}

func (o otterTTL) Get(k string) (int, bool) {
	v, ok := o.c.GetIfPresent(k)
	return v.v, ok
}

func (o otterTTL) Set(k string, v int) { o.c.Set(k, ttlValue{v: v, ttl: time.Hour}) }

func (o otterTTL) SetTTL(k string, v int, ttl time.Duration) {
	o.c.Set(k, ttlValue{v: v, ttl: ttl})
}

func newRistretto(cfg Config) (Cache, error) {
	if cfg.Clock != nil {
		c, err := newRistrettoCache[deadline](cfg)
		return emulated{get: c.Get, set: func(k string, v deadline) { c.Set(k, v, 1); waitIf(c, cfg) },
			del: c.Del, clock: cfg.Clock}, err
	}
	c, err := newRistrettoCache[int](cfg)
	return ristrettoCache{c: c, ttl: cfg.TTL, wait: cfg.Exact}, err
}

func newRistrettoCache[V any](cfg Config) (*ristretto.Cache[string, V], error) {
	return ristretto.NewCache(&ristretto.Config[string, V]{
		NumCounters:        int64(10 * cfg.Capacity),
		MaxCost:            int64(cfg.Capacity),
		BufferItems:        64,
		IgnoreInternalCost: true,
	})
}

func waitIf[V any](c *ristretto.Cache[string, V], cfg Config) {
	if cfg.Exact {
		c.Wait()
	}
}

type ristrettoCache struct {
	c    *ristretto.Cache[string, int]
	ttl  time.Duration
	wait bool
}

func (r ristrettoCache) Get(k string) (int, bool) { return r.c.Get(k) }

func (r ristrettoCache) Set(k string, v int) { r.SetTTL(k, v, r.ttl) }

func (r ristrettoCache) SetTTL(k string, v int, _ time.Duration) {
	if r.ttl > 0 {
		r.c.SetWithTTL(k, v, 1, r.ttl)
	} else {
		r.c.Set(k, v, 1)
	}
	if r.wait {
		r.c.Wait()
	}
}

func newLRU(cfg Config, twoQ bool) (Cache, error) {
	if cfg.Clock != nil {
		if twoQ {
			c, err := lru.New2Q[string, deadline](cfg.Capacity)
			if err != nil {
				return nil, err
			}
			return emulated{get: c.Get, set: c.Add, del: c.Remove, clock: cfg.Clock}, nil
		}
		c, err := lru.New[string, deadline](cfg.Capacity)
		if err != nil {
			return nil, err
		}
		return emulated{get: c.Get, set: func(k string, v deadline) { c.Add(k, v) },
			del: func(k string) { c.Remove(k) }, clock: cfg.Clock}, nil
	}
	if twoQ {
		c, err := lru.New2Q[string, int](cfg.Capacity)
		if err != nil {
			return nil, err
		}
		return funcs{get: c.Get, set: c.Add}, nil
	}
	c, err := lru.New[string, int](cfg.Capacity)
	if err != nil {
		return nil, err
	}
	return funcs{get: c.Get, set: func(k string, v int) { c.Add(k, v) }}, nil
}

type funcs struct {
	get func(string) (int, bool)
	set func(string, int)
}

func (f funcs) Get(k string) (int, bool)                { return f.get(k) }
func (f funcs) Set(k string, v int)                     { f.set(k, v) }
func (f funcs) SetTTL(k string, v int, _ time.Duration) { f.set(k, v) }

// deadline is a value with its expiry time on a fake clock, for caches whose
// clock cannot be replaced.
type deadline struct {
	v   int
	exp int64
}

// emulated gives per-entry expiry to a cache without it: the deadline is
// kept in the value and an expired entry read is deleted and reported as a
// miss.
type emulated struct {
	get   func(string) (deadline, bool)
	set   func(string, deadline)
	del   func(string)
	clock *FakeClock
}

func (e emulated) Get(k string) (int, bool) {
	v, ok := e.get(k)
	if ok && v.exp != 0 && e.clock.NowNano() >= v.exp {
		e.del(k)
		return 0, false
	}
	return v.v, ok
}

func (e emulated) Set(k string, v int) { e.set(k, deadline{v: v}) }

func (e emulated) SetTTL(k string, v int, ttl time.Duration) {
	e.set(k, deadline{v: v, exp: e.clock.NowNano() + int64(ttl)})
}

type expirableLRU struct {
	c *expirable.LRU[string, int]
}

func (e expirableLRU) Get(k string) (int, bool)                { return e.c.Get(k) }
func (e expirableLRU) Set(k string, v int)                     { e.c.Add(k, v) }
func (e expirableLRU) SetTTL(k string, v int, _ time.Duration) { e.c.Add(k, v) }
