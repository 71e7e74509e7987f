package cache

import (
	"sync"
	"sync/atomic"
	"time"
)

// Cache is a bounded map from K to V that is safe for concurrent use. Reads
// take no lock and never allocate; writes take one mutex, except overwrites
// written in place, which lock one stripe of keys (see Set). Use New to make
// one.
type Cache[K comparable, V any] struct {
	table    *table[K, V]
	kind     valueKind
	capacity int
	clock    Clock
	base     time.Time
	ttl      time.Duration
	onRemove func(K, V, Reason)
	touch    bool // the policy wants hit counts
	record   bool // count hits and misses
	stats    counters
	loads    loads[K, V]

	mu       sync.Mutex
	policy   policy[K, V]
	expiring bool // some entry ever had a deadline
	size     atomic.Int64
}

// New returns an empty cache configured by o, or an error if o is invalid.
func New[K comparable, V any](o Options[K, V]) (*Cache[K, V], error) {
	o, err := o.validate()
	if err != nil {
		return nil, err
	}
	c := &Cache[K, V]{
		table:    newTable[K, V](min(o.Capacity, 1024), o.Capacity),
		kind:     kindOf[V](),
		capacity: o.Capacity,
		clock:    o.Clock,
		ttl:      o.TTL,
		onRemove: o.OnRemove,
		record:   o.RecordStats,
		touch:    o.Policy == TinyLFU,
	}
	c.base = c.clock.Now()
	c.loads.errTTL = o.ErrorTTL
	c.policy = c.newPolicy(o.Policy)
	return c, nil
}

func (c *Cache[K, V]) newPolicy(p Policy) policy[K, V] {
	if p == FIFO {
		return &fifo[K, V]{capacity: c.capacity}
	}
	return newTinyLFU(c.capacity, c.table)
}

// now returns the time on the cache clock, in nanoseconds since New. It is
// always positive, so that zero can mean "no deadline".
func (c *Cache[K, V]) now() int64 {
	return int64(c.clock.Now().Sub(c.base)) + 1
}

// Get returns the value stored under key and whether there was one. An entry
// whose time to live has run out is never returned.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	h := c.table.hash(key)
	n := c.table.find(key, h)
	if n != nil && c.expiredNow(n) {
		c.expire(n, h)
		n = nil
	}
	if n == nil {
		if c.record {
			c.stats.misses[h%counterStripes].n.Add(1)
		}
		var zero V
		return zero, false
	}
	if c.touch {
		n.touch()
	}
	if c.record {
		c.stats.hits[h%counterStripes].n.Add(1)
	}
	return n.value(c.kind), true
}

// peek is Get without hit counting or statistics.
func (c *Cache[K, V]) peek(key K) (V, bool) {
	n := c.table.find(key, c.table.hash(key))
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
// nothing (see the package documentation, Cost).
func (c *Cache[K, V]) Set(key K, value V) {
	c.set(key, value, c.ttl)
}

// SetWithTTL stores value under key; the entry stops being readable after
// ttl. A ttl of zero or less means the entry does not expire.
func (c *Cache[K, V]) SetWithTTL(key K, value V, ttl time.Duration) {
	c.set(key, value, max(ttl, 0))
}

func (c *Cache[K, V]) set(key K, value V, ttl time.Duration) {
	h := c.table.hash(key)
	var exp int64
	if ttl > 0 {
		exp = c.now() + int64(ttl)
	}
	if c.kind != inlineValue && c.setInPlace(key, value, h, exp) {
		return
	}

	n := newNode(key, value, h, exp)
	c.mu.Lock()
	now := c.nowLocked(exp)
	gone, reason := c.table.find(key, h), Replaced
	if gone != nil {
		n.meta.Store(gone.hits())
		c.table.replaceLocked(gone, n, h)
		c.policy.replace(gone, n)
	} else {
		gone, reason = c.insertLocked(n, h, now), Evicted
	}
	c.mu.Unlock()

	if gone != nil && gone.expired(now) {
		reason = Expired
	}
	c.removed(gone, reason)
}

func newNode[K comparable, V any](key K, value V, h uint64, exp int64) *node[K, V] {
	n := &node[K, V]{val: value, key: key, hash: uint32(h)}
	n.exp.Store(exp)
	return n
}

// setInPlace writes value and its deadline exp into the node of key, whose
// hash is h, and reports whether it could: the key must be present, its
// entry live, and the deadline must not move earlier (see expiredNow). It
// holds the key's stripe, not c.mu, so writes to different keys go on in
// parallel. The value's kind must not be inlineValue.
func (c *Cache[K, V]) setInPlace(key K, value V, h uint64, exp int64) bool {
	if c.table.find(key, h) == nil {
		return false
	}
	s := c.table.stripe(h)
	s.Lock()
	n := c.table.find(key, h)
	if n == nil || c.expiredNow(n) || !later(exp, n.exp.Load()) {
		s.Unlock()
		return false
	}
	old := n.swapValue(c.kind, value)
	n.exp.Store(exp)
	s.Unlock()
	c.notify(key, old, Replaced)
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
func (c *Cache[K, V]) nowLocked(exp int64) int64 {
	if exp != 0 {
		c.expiring = true
	}
	if !c.expiring {
		return 0
	}
	return c.now()
}

// insertLocked adds n, whose key is absent, and returns the entry that had
// to leave, if any.
func (c *Cache[K, V]) insertLocked(n *node[K, V], h uint64, now int64) *node[K, V] {
	c.table.insertLocked(n, h)
	victim := c.policy.add(n, h, now)
	if victim != nil {
		c.table.removeLocked(victim, uint64(victim.hash))
	} else {
		c.size.Add(1)
	}
	if c.table.needsGrowth(int(c.size.Load())) {
		c.table.growLocked(c.policy.replace)
	}
	return victim
}

// Delete removes the entry stored under key, and reports whether there was
// one that had not expired.
func (c *Cache[K, V]) Delete(key K) bool {
	h := c.table.hash(key)
	c.mu.Lock()
	n := c.table.find(key, h)
	if n != nil {
		c.unlinkLocked(n, h)
	}
	expired := n != nil && c.expiredNow(n)
	c.mu.Unlock()

	if expired {
		c.removed(n, Expired)
		return false
	}
	c.removed(n, Deleted)
	return n != nil
}

// expire removes n, found expired by a reader, unless a writer got there
// first: it removed n, or wrote a later deadline into it.
func (c *Cache[K, V]) expire(n *node[K, V], h uint64) {
	c.mu.Lock()
	current := c.table.find(n.key, h) == n && c.expiredNow(n)
	if current {
		c.unlinkLocked(n, h)
	}
	c.mu.Unlock()
	if current {
		c.removed(n, Expired)
	}
}

func (c *Cache[K, V]) unlinkLocked(n *node[K, V], h uint64) {
	c.table.removeLocked(n, h)
	c.policy.remove(n)
	c.size.Add(-1)
}

// Clear removes every entry. With the FIFO policy the removal callback sees
// them oldest first.
func (c *Cache[K, V]) Clear() {
	var all []*node[K, V]
	c.mu.Lock()
	c.policy.drain(func(n *node[K, V]) { all = append(all, n) })
	c.table.resetLocked()
	c.size.Store(0)
	var now int64
	if c.expiring {
		now = c.now()
	}
	c.mu.Unlock()

	for _, n := range all {
		if n.expired(now) {
			c.removed(n, Expired)
		} else {
			c.removed(n, Cleared)
		}
	}
}

// removed counts the removal of n, which is no longer linked, and tells
// the callback. It must be called without c.mu held.
func (c *Cache[K, V]) removed(n *node[K, V], r Reason) {
	if n != nil {
		c.notify(n.key, n.value(c.kind), r)
	}
}

// notify counts the removal of the value val of key and tells the callback.
// It must be called without c.mu held.
func (c *Cache[K, V]) notify(key K, val V, r Reason) {
	switch r {
	case Evicted:
		c.stats.evictions.Add(1)
	case Expired:
		c.stats.expirations.Add(1)
	}
	if c.onRemove != nil {
		c.onRemove(key, val, r)
	}
}

// Len returns the number of entries, counting expired ones not yet removed.
func (c *Cache[K, V]) Len() int {
	return int(c.size.Load())
}

// Capacity returns the most entries the cache holds.
func (c *Cache[K, V]) Capacity() int {
	return c.capacity
}

// Stats returns a snapshot of the cache's counters.
func (c *Cache[K, V]) Stats() Stats {
	return c.stats.snapshot()
}
