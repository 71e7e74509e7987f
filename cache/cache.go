package cache

import (
	"hash/maphash"
	"math"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Cache is a bounded map from K to V that is safe for concurrent use. Reads
// take no lock and never allocate. A large cache is split by key hash into
// shards, each with its own share of the capacity, policy and mutex; writes
// take their shard's mutex, except overwrites written in place, which lock
// one stripe of keys (see Set). Use New to make one.
type Cache[K comparable, V any] struct {
	shards    []shard[K, V]
	shardMask uint64
	seed      maphash.Seed
	// stringKeys is set when K is string: maphash.String hashes a
	// string faster than maphash.Comparable, which goes through the
	// type's generic hash function.
	stringKeys bool
	stripes    *stripes
	kind       valueKind
	capacity   int
	clock      Clock
	system     bool      // clock is the system clock, read with time.Since
	base       time.Time // the system clock at New, with its monotonic reading
	baseNano   int64     // the cache time at base
	ttl        time.Duration
	onRemove   func(K, V, Reason)
	touch      bool // the policy wants hit counts
	record     bool // count hits and misses
	stats      counters
	loads      loads[K, V]
}

// shard is a part of the cache, with its own table and policy.
type shard[K comparable, V any] struct {
	table    table[K, V]
	_        [64]byte   // keeps the table, which every Get reads, off the mutex's line
	mu       sync.Mutex // held by writers that link or unlink nodes
	policy   policy[K, V]
	expiring bool // some entry ever had a deadline
	size     atomic.Int64
	// evictions and expirations are counted by shard, so that writers
	// on different cores do not share the counters' cache line.
	evictions, expirations atomic.Uint64
	errs                   map[K]failure // load errors remembered for Options.ErrorTTL
	_                      [64]byte      // keeps the next shard's mutex off this cache line
}

// Sharding: a TinyLFU cache of at least twice minShardCapacity entries is
// split in up to maxShards shards of at least minShardCapacity entries, so
// that writers on several cores rarely wait for each other. Smaller shards
// would lose hit ratio: each shard's policy sees only its share of the keys.
// A FIFO cache is never split, so that its order is exact.
const (
	minShardCapacity = 1024
	maxShards        = 16
)

func shardCount(capacity int, p Policy) int {
	n := 1
	for p != FIFO && n < maxShards && capacity/(2*n) >= minShardCapacity {
		n *= 2
	}
	return n
}

// New returns an empty cache configured by o, or an error if o is invalid:
// a negative Capacity or one above MaxCapacity, a negative TTL or ErrorTTL,
// or an unknown Policy.
func New[K comparable, V any](o Options[K, V]) (*Cache[K, V], error) {
	o, err := o.validate()
	if err != nil {
		return nil, err
	}
	n := shardCount(o.Capacity, o.Policy)
	c := &Cache[K, V]{
		shards:     make([]shard[K, V], n),
		shardMask:  uint64(n - 1),
		seed:       maphash.MakeSeed(),
		stringKeys: reflect.TypeFor[K]() == reflect.TypeFor[string](),
		stripes:    new(stripes),
		kind:       kindOf[V](),
		capacity:   o.Capacity,
		clock:      o.Clock,
		system:     o.Clock == Clock(systemClock{}),
		ttl:        o.TTL,
		onRemove:   o.OnRemove,
		record:     o.RecordStats,
		touch:      o.Policy == TinyLFU,
	}
	for i := range c.shards {
		s := &c.shards[i]
		capacity := o.Capacity / n
		if i < o.Capacity%n {
			capacity++
		}
		s.table.init(min(capacity, 1024), capacity, c.stripes)
		if o.Policy == FIFO {
			s.policy = &fifo[K, V]{capacity: capacity}
		} else {
			s.policy = newTinyLFU(capacity, &s.table)
		}
	}
	c.base = time.Now()
	c.baseNano = cacheTime(c.base.UnixNano())
	c.loads.errTTL = o.ErrorTTL
	return c, nil
}

// locate returns the shard of key and the hash by which the shard knows it.
// Shards are chosen by the high half of the key's hash and use the low half,
// which their nodes keep.
func (c *Cache[K, V]) locate(key K) (*shard[K, V], uint64) {
	var h uint64
	if c.stringKeys {
		h = maphash.String(c.seed, *(*string)(unsafe.Pointer(&key)))
	} else {
		h = maphash.Comparable(c.seed, key)
	}
	return &c.shards[(h>>32)&c.shardMask], h & 0xffffffff
}

// now returns the time on the cache clock (see cacheTime). The system
// clock is read with time.Since, which reads only the monotonic clock, at
// half the cost of time.Now.
func (c *Cache[K, V]) now() int64 {
	if c.system {
		return c.baseNano + int64(time.Since(c.base))
	}
	t := c.clock.Now()
	switch {
	case t.Before(earliest):
		t = earliest
	case t.After(latest):
		t = latest
	}
	return cacheTime(t.UnixNano())
}

// earliest and latest are the first and last times the cache clock tells
// apart; a clock reading outside them reads as the nearest one.
var (
	earliest = time.Unix(0, math.MinInt64)
	latest   = time.Unix(0, math.MaxInt64-2)
)

// cacheTime returns the cache time of a time given in nanoseconds since
// 1970, as time.Time.UnixNano gives it: the same, plus one from 1970 on, so
// that the cache time is never zero, which means "no deadline".
func cacheTime(unixNano int64) int64 {
	if unixNano >= 0 {
		return unixNano + 1
	}
	return unixNano
}

// deadline returns the cache time ttl after now, or the last time there is
// if that is later. ttl must not be negative.
func deadline(now int64, ttl time.Duration) int64 {
	t := now // back to nanoseconds since 1970
	if t > 0 {
		t--
	}
	if t > 0 && int64(ttl) > math.MaxInt64-1-t {
		return math.MaxInt64
	}
	return cacheTime(t + int64(ttl))
}

// Get returns the value stored under key and whether there was one. An entry
// whose time to live has run out is never returned.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	s, h := c.locate(key)
	n := s.table.find(key, h)
	if n == nil {
		return c.miss(h)
	}
	// The deadline is read before the value; see expiredNow.
	if exp := n.exp.Load(); exp != 0 && c.now() >= exp {
		c.expire(s, n, h)
		return c.miss(h)
	}
	if c.touch {
		n.touch()
	}
	if c.record {
		c.stats.hits[h%counterStripes].n.Add(1)
	}
	return n.value(c.kind), true
}

// miss counts a miss of the key whose hash is h and returns what Get
// returns for it.
func (c *Cache[K, V]) miss(h uint64) (V, bool) {
	if c.record {
		c.stats.misses[h%counterStripes].n.Add(1)
	}
	var zero V
	return zero, false
}

// peek is Get without hit counting or statistics.
func (c *Cache[K, V]) peek(key K) (V, bool) {
	s, h := c.locate(key)
	n := s.table.find(key, h)
	if n == nil || c.expiredNow(n) {
		var zero V
		return zero, false
	}
	return n.value(c.kind), true
}

// expiredNow reports whether n's deadline has passed, reading the clock only
// if n has one. Readers load the deadline before the value: a Set that
// writes in place stores them in the other order, and only when the
// deadline does not move earlier, so a reader never returns a value past
// the deadline it was written with.
func (c *Cache[K, V]) expiredNow(n *node[K, V]) bool {
	exp := n.exp.Load()
	return exp != 0 && c.now() >= exp
}

// Set stores value under key with the default time to live of
// Options.TTL. If the cache is full, an entry chosen by the policy leaves it.
// Overwriting a present key whose value fits in one machine word allocates
// nothing (see the package documentation, Cost). Set forgets a load error
// remembered for key (see Options.ErrorTTL).
func (c *Cache[K, V]) Set(key K, value V) {
	c.set(key, value, c.ttl)
}

// SetWithTTL stores value under key; the entry stops being readable after
// ttl. A ttl of zero or less means the entry does not expire. Like Set, it
// forgets a load error remembered for key.
func (c *Cache[K, V]) SetWithTTL(key K, value V, ttl time.Duration) {
	c.set(key, value, max(ttl, 0))
}

func (c *Cache[K, V]) set(key K, value V, ttl time.Duration) {
	s, h := c.locate(key)
	var exp int64
	if ttl > 0 {
		exp = deadline(c.now(), ttl)
	}
	if c.kind != inlineValue && c.setInPlace(s, key, value, h, exp) {
		return
	}

	n := newNode(key, value, h, exp)
	s.mu.Lock()
	now := c.nowLocked(s, exp)
	gone, reason := s.table.find(key, h), Replaced
	var old *node[K, V]
	if gone != nil && gone.expired(now) {
		// An expired entry is absent: the new one is inserted, as for a
		// missing key, instead of taking the old one's place.
		s.unlinkLocked(gone, h)
		old, gone = gone, nil
	}
	if gone != nil {
		n.meta.Store(gone.hits())
		s.table.replaceLocked(gone, n, h)
		s.policy.replace(gone, n)
	} else {
		gone, reason = s.insertLocked(n, h, now), Evicted
	}
	s.forgetErrorLocked(key)
	s.mu.Unlock()

	c.removed(s, old, Expired)
	c.removed(s, gone, c.expiredOr(gone, now, reason))
}

// expiredOr returns Expired if n, which is no longer linked, has expired at
// now, and r otherwise.
func (c *Cache[K, V]) expiredOr(n *node[K, V], now int64, r Reason) Reason {
	if n != nil && n.expired(now) {
		return Expired
	}
	return r
}

func newNode[K comparable, V any](key K, value V, h uint64, exp int64) *node[K, V] {
	n := &node[K, V]{val: value, key: key, hash: uint32(h)}
	n.exp.Store(exp)
	return n
}

// setInPlace writes value and its deadline exp into the node of key, whose
// hash is h, and reports whether it could: the key must be present, its
// entry live, and the deadline must not move earlier (see expiredNow). It
// holds the key's stripe, not the shard's mutex, so writes to different
// keys go on in parallel. The value's kind must not be inlineValue.
func (c *Cache[K, V]) setInPlace(s *shard[K, V], key K, value V, h uint64, exp int64) bool {
	if s.table.find(key, h) == nil {
		return false
	}
	st := c.stripes.of(h)
	st.Lock()
	n := s.table.find(key, h)
	if n == nil {
		st.Unlock()
		return false
	}
	cur := n.exp.Load() // only holders of the stripe change it
	if cur != 0 && c.now() >= cur || !later(exp, cur) {
		st.Unlock()
		return false
	}
	old := n.swapValue(c.kind, value)
	if cur != exp {
		n.exp.Store(exp)
	}
	st.Unlock()
	c.notify(s, key, old, Replaced)
	return true
}

// later reports whether the deadline exp is not before cur; zero is no
// deadline, later than any.
func later(exp, cur int64) bool {
	return exp == 0 || cur != 0 && exp >= cur
}

// nowLocked returns the cache time if any entry may carry a deadline, and
// zero (before every deadline) otherwise, sparing the clock read. exp is the
// deadline of the entry being written.
func (c *Cache[K, V]) nowLocked(s *shard[K, V], exp int64) int64 {
	if exp != 0 {
		s.expiring = true
	}
	if !s.expiring {
		return 0
	}
	return c.now()
}

// insertLocked adds n, whose key is absent, and returns the entry that had
// to leave, if any.
func (s *shard[K, V]) insertLocked(n *node[K, V], h uint64, now int64) *node[K, V] {
	s.table.insertLocked(n, h)
	victim := s.policy.add(n, h, now)
	if victim != nil {
		s.table.removeLocked(victim, uint64(victim.hash))
	} else {
		s.size.Add(1)
	}
	if s.table.needsGrowth(int(s.size.Load())) {
		s.table.growLocked(s.policy.replace)
	}
	return victim
}

// Delete removes the entry stored under key, and reports whether there was
// one that had not expired. An expired entry is removed all the same, and
// reported to OnRemove with the Expired reason. Delete also forgets a load
// error remembered for key (see Options.ErrorTTL).
func (c *Cache[K, V]) Delete(key K) bool {
	s, h := c.locate(key)
	s.mu.Lock()
	s.forgetErrorLocked(key)
	n := s.table.find(key, h)
	if n != nil {
		s.unlinkLocked(n, h)
	}
	expired := n != nil && c.expiredNow(n)
	s.mu.Unlock()

	if expired {
		c.removed(s, n, Expired)
		return false
	}
	c.removed(s, n, Deleted)
	return n != nil
}

// expire removes n, found expired by a reader, unless a writer got there
// first: it removed n, or wrote a later deadline into it. The key's stripe
// is held from the check to the removal, so that no Set writes a later
// deadline into n in between.
func (c *Cache[K, V]) expire(s *shard[K, V], n *node[K, V], h uint64) {
	s.mu.Lock()
	st := c.stripes.of(h)
	st.Lock()
	current := s.table.find(n.key, h) == n && c.expiredNow(n)
	if current {
		s.table.unlink(n, h)
	}
	st.Unlock()
	if current {
		s.forgetLocked(n)
	}
	s.mu.Unlock()
	if current {
		c.removed(s, n, Expired)
	}
}

func (s *shard[K, V]) unlinkLocked(n *node[K, V], h uint64) {
	s.table.removeLocked(n, h)
	s.forgetLocked(n)
}

// forgetLocked drops n, just unlinked from the table, from the policy and
// the count.
func (s *shard[K, V]) forgetLocked(n *node[K, V]) {
	s.policy.remove(n)
	s.size.Add(-1)
}

// Clear removes every entry and forgets the load errors remembered. The
// removal callback sees each entry with the Cleared reason, or Expired if
// its time to live had run out; with the FIFO policy, oldest first.
func (c *Cache[K, V]) Clear() {
	for i := range c.shards {
		c.clear(&c.shards[i])
	}
}

func (c *Cache[K, V]) clear(s *shard[K, V]) {
	var all []*node[K, V]
	s.mu.Lock()
	s.policy.drain(func(n *node[K, V]) { all = append(all, n) })
	s.table.resetLocked()
	s.size.Store(0)
	clear(s.errs)
	var now int64
	if s.expiring {
		now = c.now()
	}
	s.mu.Unlock()

	for _, n := range all {
		c.removed(s, n, c.expiredOr(n, now, Cleared))
	}
}

// removed counts the removal of n, which is no longer linked, from shard
// s and tells the callback. It must be called without a shard's mutex held.
func (c *Cache[K, V]) removed(s *shard[K, V], n *node[K, V], r Reason) {
	if n != nil {
		c.notify(s, n.key, n.value(c.kind), r)
	}
}

// notify counts the removal of the value val of key, from shard s, and
// tells the callback. It must be called without a shard's mutex held.
func (c *Cache[K, V]) notify(s *shard[K, V], key K, val V, r Reason) {
	switch r {
	case Evicted:
		s.evictions.Add(1)
	case Expired:
		s.expirations.Add(1)
	}
	if c.onRemove != nil {
		c.onRemove(key, val, r)
	}
}

// Len returns the number of entries, counting expired ones not yet removed.
func (c *Cache[K, V]) Len() int {
	n := int64(0)
	for i := range c.shards {
		n += c.shards[i].size.Load()
	}
	return int(n)
}

// Capacity returns the most entries the cache holds.
func (c *Cache[K, V]) Capacity() int {
	return c.capacity
}

// Stats returns a snapshot of the cache's counters.
func (c *Cache[K, V]) Stats() Stats {
	st := c.stats.snapshot()
	for i := range c.shards {
		st.Evictions += c.shards[i].evictions.Load()
		st.Expirations += c.shards[i].expirations.Load()
	}
	return st
}
