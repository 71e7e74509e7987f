package cache

import "math/bits"

// duel settles one kind of admission that the sketch alone would refuse: a
// candidate the sketch rates no higher than the victim, against a victim
// that has not been read lately. Either answer can be a mistake. Evicting
// the victim is one if the victim comes back soon; refusing the candidate is
// one if the candidate does.
//
// So the duel remembers the losers of its decisions in a ghost table, one
// table per answer, and counts how many come back, as misses, within a
// lifetime of twice the shard's capacity in insertions. It evicts when
// evicted victims come back less than three quarters as often as refused
// candidates: a victim the sketch rates higher is worth more when it does
// come back. It remembers only the losers whose hash falls in a sample, so
// that small tables hold a lifetime's worth and most insertions need not
// look at them. Where the other answer's loser is in the sample, it gives
// that answer once in exploreEvery times, so that both rates stay measured;
// and it halves its counts every halveEvery losers, so that it follows the
// workload.
//
// On a skewed, steady workload an old favourite comes back and the duel
// refuses; when the hot set moves, the old favourites never come back and
// the new keys do, and the duel evicts.
type duel struct {
	ghosts     [2][]uint32 // by answer; a key's tag and the tick it lost at
	lost       [2]int      // losers remembered, by answer
	returned   [2]int      // losers that came back within the lifetime
	chances    int         // decisions that could explore
	remembered int         // losers remembered since the duel began
	sampleMask uint32      // of a hash's bits from sampleShift
}

// The answers, indexes of duel's arrays.
const (
	refused = 0 // the candidate was refused; it is the loser
	evicted = 1 // the victim was evicted
)

const (
	exploreEvery = 64
	halveEvery   = 2048
	maxGhosts    = 512 // per table
	sampleShift  = 9   // past the bits that index the largest table
)

// ghostClock counts a shard's insertions in ticks of a 16-bit wrapping clock
// on which a ghost's lifetime is 128 to 255 ticks.
type ghostClock struct {
	insertions uint32
	shift      uint
	lifetime   uint32 // in ticks
}

func newGhostClock(capacity int) ghostClock {
	life := uint32(2 * max(capacity, 1))
	shift := uint(max(bits.Len32(life)-8, 0))
	return ghostClock{shift: shift, lifetime: life >> shift}
}

func (c *ghostClock) tick() uint32 { return c.insertions >> c.shift & 0xffff }

// newDuel returns a duel for a shard of the given capacity: tables of an
// eighth of it, and a sample small enough that one lifetime of losers, at
// most one per insertion, fits in them.
func newDuel(capacity int) duel {
	n := min(max(nextPow2(capacity/8), 16), maxGhosts)
	return duel{
		ghosts:     [2][]uint32{make([]uint32, n), make([]uint32, n)},
		sampleMask: uint32(max(nextPow2(2*capacity)/n, 1) - 1),
	}
}

func (d *duel) reset() {
	clear(d.ghosts[refused])
	clear(d.ghosts[evicted])
	d.lost, d.returned, d.chances, d.remembered = [2]int{}, [2]int{}, 0, 0
}

// sampled reports whether a loser of hash h is remembered.
func (d *duel) sampled(h uint32) bool {
	return h>>sampleShift&d.sampleMask == 0
}

// favoursEviction reports whether evicted victims come back less than three
// quarters as often as refused candidates.
func (d *duel) favoursEviction() bool {
	return 4*d.returned[evicted]*d.lost[refused] < 3*d.returned[refused]*d.lost[evicted]
}

// decide answers a decision between a candidate and a victim of the given
// hashes, and remembers the loser if it is in the sample.
func (d *duel) decide(cand, victim uint32, c *ghostClock) int {
	answer, other := refused, victim
	if d.favoursEviction() {
		answer, other = evicted, cand
	}
	if d.sampled(other) {
		if d.chances++; d.chances%exploreEvery == 0 {
			answer = evicted - answer
		}
	}
	loser := cand
	if answer == evicted {
		loser = victim
	}
	if d.sampled(loser) {
		g := d.ghosts[answer]
		g[loser&uint32(len(g)-1)] = loser&0xffff0000 | c.tick()
		d.lost[answer]++
		if d.remembered++; d.remembered%halveEvery == 0 {
			for i := range d.lost {
				d.lost[i] /= 2
				d.returned[i] /= 2
			}
		}
	}
	return answer
}

// inserted counts h, the hash of a key being inserted, among the losers
// that came back if it is one.
func (d *duel) inserted(h uint32, c *ghostClock) {
	if !d.sampled(h) {
		return
	}
	for a, g := range d.ghosts {
		i := h & uint32(len(g)-1)
		e := g[i]
		if e == 0 || e&0xffff0000 != h&0xffff0000 {
			continue
		}
		g[i] = 0
		if (c.tick()-e)&0xffff <= c.lifetime {
			d.returned[a]++
		}
	}
}
