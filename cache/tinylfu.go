package cache

import "math"

// tinyLFU is the default policy: a small FIFO window in front of a main
// area, with a frequency sketch deciding whether an entry leaving the window
// may take the place of the main area's victim.
//
// The main area has no list of its own: its clock hand walks the hash
// table's chains, skipping the window's entries, so it costs no memory per
// entry. Hits only bump a small counter in the node (see node.touch); the
// policy folds those counters into the sketch when it meets the node, as the
// hand passes over it or when it leaves the window. That keeps the read path
// free of shared writes while the sketch still learns from hits.
//
// Frequency alone holds on to a hot set that has moved on: its keys keep
// high counts until the sketch ages, and the new hot keys are refused
// meanwhile. A main node the hand stops at and passes, because the
// candidate lost to it, is marked idle until it is read again. A candidate
// may then take an idle victim's place even if the sketch rates the victim
// higher, when a duel (see duel) finds that such victims come back less
// often than such candidates. A second duel decides
// the same for victims the hand meets for the first time, and only while
// the first one leans to eviction, so that a steady workload keeps its
// favourites.
//
// TODO(#4): keys read a few times close together and never again, and hot
// sets that fit in the cache and move often, keep far fewer hits than
// under LRU (see the package doc): the window is fixed at 1%, and a
// window that grows when recency pays, as adaptive W-TinyLFU's does, would
// be the remedy to measure.
type tinyLFU[K comparable, V any] struct {
	table  *table[K, V]
	sketch *sketch

	window []*node[K, V] // fixed-size ring; the node at i has position i+1
	wnext  int

	mainCount int // main nodes have position 0
	mainCap   int
	bucket    int         // the hand: the bucket it is in
	next      *node[K, V] // and the next node it looks at, nil at a chain's end

	// firstDeadline is no later than the deadline of any main node, so
	// that the search for an expired victim runs only when one may have
	// expired. turnDeadline is the earliest deadline met since the hand
	// last went round, which firstDeadline becomes when it goes round
	// again; both also take the deadlines of nodes joining the main area.
	firstDeadline, turnDeadline int64

	duels [2]duel // for idle victims, then for the others
	clock ghostClock
}

// expiredLookahead is how many more stops the clock hand makes, past the
// first, to find an expired victim when main nodes may have expired: an
// expired entry is worth nothing and should leave before a live one. The
// hand moves on as it does for any victim, so entries read since it last
// passed are spared, and counted, on the way.
const expiredLookahead = 8

func newTinyLFU[K comparable, V any](capacity int, t *table[K, V]) *tinyLFU[K, V] {
	w := max(1, capacity/100)
	return &tinyLFU[K, V]{
		table:         t,
		sketch:        newSketch(capacity),
		window:        make([]*node[K, V], w),
		mainCap:       capacity - w,
		firstDeadline: math.MaxInt64,
		turnDeadline:  math.MaxInt64,
		duels:         [2]duel{newDuel(capacity), newDuel(capacity)},
		clock:         newGhostClock(capacity),
	}
}

// idlePos is the position of a main node the clock hand passed, while it
// looked for a victim, and that was not read since. Other main nodes have
// position 0, and the window's nodes 1 to len(window).
const idlePos = maxPos

// inWindow reports whether n is one of the window's nodes.
func (p *tinyLFU[K, V]) inWindow(n *node[K, V]) bool {
	return uint(n.pos()-1) < uint(len(p.window))
}

func (p *tinyLFU[K, V]) add(n *node[K, V], _ uint64, now int64) *node[K, V] {
	p.clock.insertions++
	p.duels[0].inserted(n.hash, &p.clock)
	p.duels[1].inserted(n.hash, &p.clock)
	i := p.wnext
	if p.wnext++; p.wnext == len(p.window) {
		p.wnext = 0
	}
	cand := p.window[i]
	p.window[i] = n
	n.setPos(i + 1)
	if cand == nil {
		return nil
	}
	return p.admit(cand, now)
}

// admit offers cand, which just left the window, to the main area, and
// returns the node that leaves the cache.
func (p *tinyLFU[K, V]) admit(cand *node[K, V], now int64) *node[K, V] {
	est := p.sketch.add(uint64(cand.hash), 1+cand.takeHits(), true) // its insertion and its hits
	if cand.expired(now) || p.mainCap == 0 {
		p.release(cand)
		return cand
	}
	if p.mainCount < p.mainCap {
		p.joinMain(cand)
		p.mainCount++
		return nil
	}
	if est <= 1 && now == 0 {
		// Seen once, at its insertion, in a shard where nothing
		// expires (now is 0): it would lose to any victim the sketch
		// has not forgotten, and looking for one costs more than the
		// rare admission gains.
		p.release(cand)
		return cand
	}
	// The victim is the next main node the clock hand stops at. Taking the
	// less frequent of the next two instead gained under a tenth of a
	// point of hit ratio on skewed workloads (one on a moving hot set)
	// and cost 6% of the cache-aside throughput in the bench module.
	victim := p.sweep(now)
	expired := victim.expired(now)
	for i := 0; !expired && now >= p.firstDeadline && i < expiredLookahead; i++ {
		if n := p.sweep(now); n.expired(now) {
			victim, expired = n, true
		}
	}
	if !expired && est <= p.sketch.estimate(uint64(victim.hash)) && !p.evictStale(cand, victim) {
		if victim.pos() != idlePos {
			victim.setPos(idlePos)
		}
		p.release(cand)
		return cand
	}
	p.release(victim)
	p.joinMain(cand)
	return victim
}

// evictStale reports whether victim, which the sketch rates at least as
// highly as cand, should leave all the same, as the duel in charge decides.
func (p *tinyLFU[K, V]) evictStale(cand, victim *node[K, V]) bool {
	d := &p.duels[0]
	if victim.pos() != idlePos {
		if !d.favoursEviction() {
			return false
		}
		d = &p.duels[1]
	}
	return d.decide(cand.hash, victim.hash, &p.clock) == evicted
}

// joinMain moves n to the main area.
func (p *tinyLFU[K, V]) joinMain(n *node[K, V]) {
	n.setPos(0)
	p.noteDeadline(n)
}

// noteDeadline takes the deadline of n, a main node, into firstDeadline and
// turnDeadline.
func (p *tinyLFU[K, V]) noteDeadline(n *node[K, V]) {
	if exp := n.exp.Load(); exp != 0 {
		p.firstDeadline = min(p.firstDeadline, exp)
		p.turnDeadline = min(p.turnDeadline, exp)
	}
}

// sweep advances the clock hand to the next main node that has expired or
// was not hit since the hand last passed, folding hit counts into the
// sketch on the way and clearing the idle mark of the nodes hit. The main
// area must not be empty.
func (p *tinyLFU[K, V]) sweep(now int64) *node[K, V] {
	for {
		n := p.next
		if n == nil {
			b := p.table.cur.Load()
			if p.bucket++; p.bucket >= len(b.slots) {
				p.bucket = 0
				p.firstDeadline, p.turnDeadline = p.turnDeadline, math.MaxInt64
			}
			p.next = b.slots[p.bucket].Load()
			continue
		}
		p.next = n.next.Load()
		if p.inWindow(n) {
			continue
		}
		exp := n.exp.Load()
		if exp != 0 {
			p.turnDeadline = min(p.turnDeadline, exp)
		}
		if exp != 0 && now >= exp || n.hits() == 0 {
			return n
		}
		p.sketch.add(uint64(n.hash), n.takeHits(), false)
		if n.pos() == idlePos {
			n.setPos(0)
		}
	}
}

func (p *tinyLFU[K, V]) replace(old, n *node[K, V]) {
	n.setPos(old.pos())
	if p.inWindow(n) {
		p.window[n.pos()-1] = n
	} else {
		p.noteDeadline(n)
	}
	if p.next == old {
		p.next = n
	}
}

func (p *tinyLFU[K, V]) remove(n *node[K, V]) {
	if p.inWindow(n) {
		p.window[n.pos()-1] = nil
	} else {
		p.mainCount--
	}
	p.release(n)
}

// release moves the clock hand off n, which is about to be unlinked from
// the table, so that the hand only ever rests on a linked node.
func (p *tinyLFU[K, V]) release(n *node[K, V]) {
	if p.next == n {
		p.next = n.next.Load()
	}
}

func (p *tinyLFU[K, V]) drain(f func(n *node[K, V])) {
	b := p.table.cur.Load()
	p.window = make([]*node[K, V], len(p.window))
	p.wnext, p.mainCount, p.next = 0, 0, nil
	p.firstDeadline, p.turnDeadline = math.MaxInt64, math.MaxInt64
	p.sketch.reset()
	p.duels[0].reset()
	p.duels[1].reset()
	p.clock.insertions = 0
	for i := range b.slots {
		for n := b.slots[i].Load(); n != nil; n = n.next.Load() {
			f(n)
		}
	}
}
