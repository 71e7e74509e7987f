package cache

// tinyLFU is the default policy: a small FIFO window in front of a CLOCK
// main area, with a frequency sketch deciding whether an entry leaving the
// window may take the place of the main area's victim.
//
// Hits only bump a small counter in the node (see node.touch). The policy
// folds those counters into the sketch when it meets the node: as the clock
// hand passes over it, or when it leaves the window. That keeps the read path
// free of shared writes while the sketch still learns from hits.
type tinyLFU[K comparable, V any] struct {
	hash   func(K) uint64
	sketch *sketch

	window []*node[K, V] // fixed-size ring; slot -1-i
	wnext  int

	main    []*node[K, V] // grows up to mainCap; slot i
	mainCap int
	hand    int
	free    []int32 // slots of main emptied by removals
}

func newTinyLFU[K comparable, V any](capacity int, hash func(K) uint64) *tinyLFU[K, V] {
	w := max(1, capacity/100)
	return &tinyLFU[K, V]{
		hash:    hash,
		sketch:  newSketch(capacity),
		window:  make([]*node[K, V], w),
		mainCap: capacity - w,
	}
}

func (p *tinyLFU[K, V]) add(n *node[K, V], h uint64, now int64) *node[K, V] {
	p.sketch.add(h, 1)
	i := p.wnext
	p.wnext = (p.wnext + 1) % len(p.window)
	cand := p.window[i]
	p.window[i] = n
	n.slot = int32(-1 - i)
	if cand == nil {
		return nil
	}
	return p.admit(cand, now)
}

// admit offers cand, which just left the window, to the main area, and
// returns the node that leaves the cache.
func (p *tinyLFU[K, V]) admit(cand *node[K, V], now int64) *node[K, V] {
	ch := p.hash(cand.key)
	p.sketch.add(ch, cand.freq.Swap(0))
	if cand.expired(now) || p.mainCap == 0 {
		return cand
	}
	if k := len(p.free); k > 0 {
		cand.slot = p.free[k-1]
		p.free = p.free[:k-1]
		p.main[cand.slot] = cand
		return nil
	}
	if len(p.main) < p.mainCap {
		cand.slot = int32(len(p.main))
		p.main = append(p.main, cand)
		return nil
	}
	i, victim := p.pickVictim(now)
	if !victim.expired(now) && p.sketch.estimate(ch) <= p.sketch.estimate(p.hash(victim.key)) {
		return cand
	}
	p.main[i] = cand
	cand.slot = int32(i)
	return victim
}

// victimSamples is how many unreferenced main nodes the policy compares to
// pick the least frequent as the victim.
const victimSamples = 4

// pickVictim returns the least frequent of the next few nodes the clock hand
// stops at, or the first expired one.
func (p *tinyLFU[K, V]) pickVictim(now int64) (int, *node[K, V]) {
	best, victim := -1, (*node[K, V])(nil)
	bestFreq := uint32(0)
	for range victimSamples {
		i, n := p.sweep(now)
		if n.expired(now) {
			return i, n
		}
		est := p.sketch.estimate(p.hash(n.key))
		if victim == nil || est < bestFreq {
			best, victim, bestFreq = i, n, est
		}
	}
	return best, victim
}

// sweep advances the clock hand of the full main area to the first expired
// node or node not hit since the hand last passed, folding hit counts into
// the sketch on the way. It returns that slot and its node.
func (p *tinyLFU[K, V]) sweep(now int64) (int, *node[K, V]) {
	for {
		i := p.hand
		p.hand++
		if p.hand == len(p.main) {
			p.hand = 0
		}
		n := p.main[i]
		if n.expired(now) || n.freq.Load() == 0 {
			return i, n
		}
		p.sketch.add(p.hash(n.key), n.freq.Swap(0))
	}
}

func (p *tinyLFU[K, V]) replace(old, n *node[K, V]) {
	n.slot = old.slot
	p.set(n.slot, n)
}

func (p *tinyLFU[K, V]) remove(n *node[K, V]) {
	p.set(n.slot, nil)
	if n.slot >= 0 {
		p.free = append(p.free, n.slot)
	}
}

func (p *tinyLFU[K, V]) set(slot int32, n *node[K, V]) {
	if slot < 0 {
		p.window[-1-slot] = n
	} else {
		p.main[slot] = n
	}
}

func (p *tinyLFU[K, V]) drain(f func(n *node[K, V])) {
	main, window := p.main, p.window
	p.main, p.hand, p.free = nil, 0, nil
	p.window = make([]*node[K, V], len(window))
	p.wnext = 0
	p.sketch.reset()
	for _, n := range main {
		if n != nil {
			f(n)
		}
	}
	for _, n := range window {
		if n != nil {
			f(n)
		}
	}
}
