package cache

import "sync/atomic"

// node is one entry. Its key and hash never change after the node is
// published, so readers need no lock. A Set on a present key writes the new
// value and deadline into the node when the value fits in a word that can be
// written atomically (see valueKind) and the deadline does not move earlier;
// otherwise it publishes a new node in the key's place.
//
// The meta word is shared by readers and the policy. Its low bits count
// hits, up to maxHits, so that a hot entry stops writing to its node after a
// few reads; readers bump the count with a compare-and-swap and give up if
// it fails. The high bits hold the entry's position in the policy, written
// under the shard's mutex.
type node[K comparable, V any] struct {
	val  V // first, so that a word-sized value is aligned
	key  K
	next atomic.Pointer[node[K, V]]
	exp  atomic.Int64 // deadline on the cache clock; 0 means never
	hash uint32       // low half of the key's hash
	meta atomic.Uint32
}

const (
	hitBits = 4
	hitMask = 1<<hitBits - 1
	maxHits = hitMask

	// maxPos bounds the positions a policy may store in a node, and so
	// MaxCapacity.
	maxPos = 1<<(32-hitBits) - 1
)

// The FIFO queue holds up to four positions per entry.
var _ [maxPos - 4*MaxCapacity]struct{}

// expired reports whether the node's deadline has passed at now.
func (n *node[K, V]) expired(now int64) bool {
	exp := n.exp.Load()
	return exp != 0 && now >= exp
}

// touch records a hit, writing only when the count is below its bound.
func (n *node[K, V]) touch() {
	if m := n.meta.Load(); m&hitMask < maxHits {
		n.meta.CompareAndSwap(m, m+1)
	}
}

// hits returns the hits counted since the policy last took them.
func (n *node[K, V]) hits() uint32 {
	return n.meta.Load() & hitMask
}

// takeHits returns the hits counted and resets the count.
func (n *node[K, V]) takeHits() uint32 {
	for {
		m := n.meta.Load()
		if n.meta.CompareAndSwap(m, m&^hitMask) {
			return m & hitMask
		}
	}
}

// pos returns the position the policy gave the node.
func (n *node[K, V]) pos() int {
	return int(n.meta.Load() >> hitBits)
}

// setPos records the node's position in the policy, keeping its hits.
func (n *node[K, V]) setPos(p int) {
	for {
		m := n.meta.Load()
		if n.meta.CompareAndSwap(m, m&hitMask|uint32(p)<<hitBits) {
			return
		}
	}
}
