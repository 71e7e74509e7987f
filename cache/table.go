package cache

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"unsafe"
)

// table is a chained hash table whose chains readers walk without a lock.
// Writers hold Cache.mu. Growing the table copies every node into new chains
// and publishes the new bucket array, so a reader that still walks the old
// one sees a consistent, if stale, picture.
//
// A node leaves the table only while its stripe, chosen by its hash, is
// locked. That lets a Set write a new value into a node in place holding
// the stripe alone: the node it finds under the stripe stays in the table
// until the write is done.
type table[K comparable, V any] struct {
	seed    maphash.Seed
	cur     atomic.Pointer[buckets[K, V]]
	initial int
	maxSize int
	stripes [stripeCount]stripe
}

// stripeCount is how many stripes a table has; writes in place to keys of
// different stripes do not wait for each other.
const stripeCount = 64

// stripe is a mutex alone on its cache line.
type stripe struct {
	sync.Mutex
	_ [64 - unsafe.Sizeof(sync.Mutex{})]byte
}

type buckets[K comparable, V any] struct {
	slots []atomic.Pointer[node[K, V]]
	mask  uint64
}

func newTable[K comparable, V any](initial, capacity int) *table[K, V] {
	t := &table[K, V]{seed: maphash.MakeSeed(), initial: initial, maxSize: max(nextPow2(capacity)/2, 1)}
	t.resetLocked()
	return t
}

func newBuckets[K comparable, V any](size int) *buckets[K, V] {
	return &buckets[K, V]{slots: make([]atomic.Pointer[node[K, V]], size), mask: uint64(size - 1)}
}

// hash returns the hash of key. Only its low 32 bits are used, so that
// nodes can keep them.
func (t *table[K, V]) hash(key K) uint64 {
	return maphash.Comparable(t.seed, key) & 0xffffffff
}

// find returns the node holding key, whose hash is h, or nil. Comparing the
// hashes first spares reading the keys of the other nodes of the chain.
func (t *table[K, V]) find(key K, h uint64) *node[K, V] {
	b := t.cur.Load()
	for n := b.slots[h&b.mask].Load(); n != nil; n = n.next.Load() {
		if n.hash == uint32(h) && n.key == key {
			return n
		}
	}
	return nil
}

// insertLocked links n, whose key is absent, at the head of its chain.
func (t *table[K, V]) insertLocked(n *node[K, V], h uint64) {
	b := t.cur.Load()
	head := &b.slots[h&b.mask]
	n.next.Store(head.Load())
	head.Store(n)
}

// replaceLocked puts n in the place of old, which holds the same key.
func (t *table[K, V]) replaceLocked(old, n *node[K, V], h uint64) {
	s := t.stripe(h)
	s.Lock()
	n.next.Store(old.next.Load())
	t.linkTo(old, h).Store(n)
	s.Unlock()
}

// removeLocked unlinks n, whose key hashes to h.
func (t *table[K, V]) removeLocked(n *node[K, V], h uint64) {
	s := t.stripe(h)
	s.Lock()
	t.linkTo(n, h).Store(n.next.Load())
	s.Unlock()
}

// stripe returns the stripe of the keys that hash to h.
func (t *table[K, V]) stripe(h uint64) *stripe {
	return &t.stripes[(h>>16)%stripeCount]
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
	p := &b.slots[h&b.mask]
	for cur := p.Load(); cur != n; cur = p.Load() {
		p = &cur.next
	}
	return p
}

// needsGrowth reports whether count entries overload the bucket array.
func (t *table[K, V]) needsGrowth(count int) bool {
	n := len(t.cur.Load().slots)
	return count > n && n < t.maxSize
}

// growLocked doubles the bucket array, calling moved for every node copied
// into the new chains.
func (t *table[K, V]) growLocked(moved func(old, n *node[K, V])) {
	t.lockStripes()
	defer t.unlockStripes()
	b := t.cur.Load()
	nb := newBuckets[K, V](len(b.slots) * 2)
	for i := range b.slots {
		for n := b.slots[i].Load(); n != nil; n = n.next.Load() {
			c := newNode(n.key, n.val, uint64(n.hash), n.exp.Load())
			c.meta.Store(n.meta.Load())
			head := &nb.slots[uint64(c.hash)&nb.mask]
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
	t.cur.Store(newBuckets[K, V](min(nextPow2(t.initial), t.maxSize)))
}

func nextPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}
