package cache

import "sync/atomic"

// node is one entry. Its key, value and deadline never change after the node
// is published, so readers need no lock; a Set on a present key publishes a
// new node in its place. Only freq is written by readers, and slot is owned
// by the policy under Cache.mu.
type node[K comparable, V any] struct {
	key  K
	val  V
	next atomic.Pointer[node[K, V]]
	exp  int64 // deadline on the cache clock; 0 means never
	slot int32
	freq atomic.Uint32
}

// expired reports whether the node's deadline has passed at now.
func (n *node[K, V]) expired(now int64) bool {
	return n.exp != 0 && now >= n.exp
}

// maxFreq bounds the hit counter of a node, so that a hot entry stops
// writing to its node after a few reads.
const maxFreq = 15

// touch records a hit, writing only when the counter is below its bound.
func (n *node[K, V]) touch() {
	if f := n.freq.Load(); f < maxFreq {
		n.freq.Store(f + 1)
	}
}
