package cache

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// table is a chained hash table whose chains readers walk without a lock.
// Writers hold their shard's mutex. Growing the table copies every node into
// new chains and publishes the new bucket array, so a reader that still
// walks the old one sees a consistent, if stale, picture.
//
// A node leaves the table only while its stripe, chosen by its hash, is
// locked. That lets a Set write a new value into a node in place holding
// the stripe alone: the node it finds under the stripe stays in the table
// until the write is done.
type table[K comparable, V any] struct {
	cur     atomic.Pointer[buckets[K, V]]
	initial int
	maxSize int
	stripes *stripes // shared by the tables of a cache's shards
}

// stripes are the mutexes of the keys' stripes; writes in place to keys of
// different stripes do not wait for each other.
type stripes [64]struct {
	sync.Mutex
	_ [64 - unsafe.Sizeof(sync.Mutex{})]byte // alone on its cache line
}

// of returns the stripe of the keys that hash to h.
func (s *stripes) of(h uint64) *sync.Mutex {
	return &s[(h>>16)%uint64(len(s))].Mutex
}

type buckets[K comparable, V any] struct {
	slots []atomic.Pointer[node[K, V]]
	n     uint64 // len(slots)
}

// slot returns the chain of the keys whose hash, a 32-bit value, is h. The
// hash scaled to the number of slots picks it, which lets the array have
// any size.
func (b *buckets[K, V]) slot(h uint64) *atomic.Pointer[node[K, V]] {
	return &b.slots[h*b.n>>32]
}

// init makes t an empty table for capacity entries, starting with room for
// initial. The array doubles whenever chains grow longer than one half on
// average, up to seven eighths of a slot per entry: at that size a longer
// chain costs a lookup less than the memory of more slots would.
func (t *table[K, V]) init(initial, capacity int, s *stripes) {
	t.initial, t.maxSize, t.stripes = initial, max(capacity-capacity/8, 1), s
	t.resetLocked()
}

func newBuckets[K comparable, V any](size int) *buckets[K, V] {
	return &buckets[K, V]{slots: make([]atomic.Pointer[node[K, V]], size), n: uint64(size)}
}

// find returns the node holding key, whose hash is h, or nil. Comparing the
// hashes first spares reading the keys of the other nodes of the chain.
func (t *table[K, V]) find(key K, h uint64) *node[K, V] {
	b := t.cur.Load()
	for n := b.slot(h).Load(); n != nil; n = n.next.Load() {
		if n.hash == uint32(h) && n.key == key {
			return n
		}
	}
	return nil
}

// insertLocked links n, whose key is absent, at the head of its chain.
func (t *table[K, V]) insertLocked(n *node[K, V], h uint64) {
	b := t.cur.Load()
	head := b.slot(h)
	n.next.Store(head.Load())
	head.Store(n)
}

// replaceLocked puts n in the place of old, which holds the same key.
func (t *table[K, V]) replaceLocked(old, n *node[K, V], h uint64) {
	s := t.stripes.of(h)
	s.Lock()
	n.next.Store(old.next.Load())
	t.linkTo(old, h).Store(n)
	s.Unlock()
}

// removeLocked unlinks n, whose key hashes to h.
func (t *table[K, V]) removeLocked(n *node[K, V], h uint64) {
	s := t.stripes.of(h)
	s.Lock()
	t.unlink(n, h)
	s.Unlock()
}

// unlink unlinks n, whose key hashes to h; the caller holds n's stripe.
func (t *table[K, V]) unlink(n *node[K, V], h uint64) {
	t.linkTo(n, h).Store(n.next.Load())
}

// lockStripes locks every stripe, for a change that takes every node out.
func (t *table[K, V]) lockStripes() {
	for i := range t.stripes {
		t.stripes[i].Lock()
	}
}

func (t *table[K, V]) unlockStripes() {
	for i := range t.stripes {
		t.stripes[i].Unlock()
	}
}

// linkTo returns the pointer that currently points at n, which must be
// linked.
func (t *table[K, V]) linkTo(n *node[K, V], h uint64) *atomic.Pointer[node[K, V]] {
	b := t.cur.Load()
	p := b.slot(h)
	for cur := p.Load(); cur != n; cur = p.Load() {
		p = &cur.next
	}
	return p
}

// needsGrowth reports whether count entries overload the bucket array.
func (t *table[K, V]) needsGrowth(count int) bool {
	n := len(t.cur.Load().slots)
	return 2*count > n && n < t.maxSize
}

// growLocked doubles the bucket array, up to its largest size, calling
// moved for every node copied into the new chains.
func (t *table[K, V]) growLocked(moved func(old, n *node[K, V])) {
	t.lockStripes()
	defer t.unlockStripes()
	b := t.cur.Load()
	nb := newBuckets[K, V](min(len(b.slots)*2, t.maxSize))
	for i := range b.slots {
		for n := b.slots[i].Load(); n != nil; n = n.next.Load() {
			c := newNode(n.key, n.val, uint64(n.hash), n.exp.Load())
			c.meta.Store(n.meta.Load())
			head := nb.slot(uint64(c.hash))
			c.next.Store(head.Load())
			head.Store(c)
			moved(n, c)
		}
	}
	t.cur.Store(nb)
}

// resetLocked empties the table and shrinks it to its initial size.
func (t *table[K, V]) resetLocked() {
	t.lockStripes()
	defer t.unlockStripes()
	t.cur.Store(newBuckets[K, V](min(t.initial, t.maxSize)))
}

func nextPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}
