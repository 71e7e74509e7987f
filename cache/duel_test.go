package cache

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// replayHotSets reads keys drawn with a skew from a set of hotKeys keys,
// a new set every phaseLen requests if moving is set, setting each key
// missed, and returns the hit ratio after the first phase.
func replayHotSets(c *Cache[string, int], phases, phaseLen, hotKeys int, moving bool) float64 {
	r := rand.New(rand.NewPCG(1, 2))
	hits, reads := 0, 0
	for ph := range phases {
		prefix := "p-"
		if moving {
			prefix = "p" + strconv.Itoa(ph) + "-"
		}
		for range phaseLen {
			x := r.Float64()
			k := prefix + strconv.Itoa(int(x*x*x*float64(hotKeys)))
			_, ok := c.Get(k)
			if ph > 0 {
				reads++
				if ok {
					hits++
				}
			}
			if !ok {
				c.Set(k, 0)
			}
		}
	}
	return float64(hits) / float64(reads)
}

// TestTinyLFUFollowsMovingHotSet checks that the policy gives up old
// favourites when the hot set moves (a policy that never does gets 27%
// here) and keeps them while it does not (one that always does gets 55%).
func TestTinyLFUFollowsMovingHotSet(t *testing.T) {
	const capacity, phases, phaseLen, hotKeys = 1000, 6, 10_000, 4000
	c := mustNew(t, Options[string, int]{Capacity: capacity})
	if got := replayHotSets(c, phases, phaseLen, hotKeys, true); got < 0.40 {
		t.Errorf("hit ratio %.3f on a hot set that moves every %d reads, want at least 0.40", got, phaseLen)
	}
	c = mustNew(t, Options[string, int]{Capacity: capacity})
	if got := replayHotSets(c, phases, phaseLen, hotKeys, false); got < 0.58 {
		t.Errorf("hit ratio %.3f on a steady hot set, want at least 0.58", got)
	}
}

// sampledHash returns a distinct hash for each i that is in the sample of a
// duel for a shard of 4,096 entries or fewer.
func sampledHash(i int) uint32 {
	return uint32(i)<<16 | uint32(i)&(1<<sampleShift-1)
}

// TestDuelFollowsReturns feeds a duel decisions whose losers of one answer
// come back and of the other do not, and checks that it settles on the
// other answer, still exploring, and changes its mind when the workload
// does.
func TestDuelFollowsReturns(t *testing.T) {
	const capacity = 4096
	d := newDuel(capacity)
	clock := newGhostClock(capacity)
	i := 0
	// round makes n decisions; the losers of answer back come back at
	// once. It returns how many decisions evicted.
	round := func(n, back int) int {
		evictions := 0
		for range n {
			cand, victim := sampledHash(i), sampledHash(i+1)
			i += 2
			a := d.decide(cand, victim, &clock)
			clock.insertions++
			loser := cand
			if a == evicted {
				evictions++
				loser = victim
			}
			if a == back {
				d.inserted(loser, &clock)
			}
		}
		return evictions
	}
	const n = 2 * halveEvery
	// Refused candidates come back, evicted victims do not: evict, but
	// refuse once in exploreEvery decisions.
	round(n, refused)
	if got, want := n-round(n, refused), n/exploreEvery; got != want {
		t.Errorf("refused %d of %d decisions once refused candidates came back, want %d", got, n, want)
	}
	// Now evicted victims come back and refused candidates do not.
	round(n, evicted)
	if got, want := round(n, evicted), n/exploreEvery; got != want {
		t.Errorf("evicted %d of %d decisions once evicted victims came back, want %d", got, n, want)
	}
}

// TestDuelLifetime checks that a loser coming back after its lifetime, a
// key that never lost, or a loser outside the sample, does not count as a
// return.
func TestDuelLifetime(t *testing.T) {
	const capacity = 1000
	d := newDuel(capacity)
	clock := newGhostClock(capacity)
	outside := sampledHash(7) | 1<<sampleShift
	for _, h := range []uint32{sampledHash(1), sampledHash(2), outside} {
		if a := d.decide(h, sampledHash(100), &clock); a != refused {
			t.Fatalf("a new duel answered %d, want %d (refused)", a, refused)
		}
	}
	clock.insertions += 2 * capacity * 9 / 10
	d.inserted(sampledHash(1), &clock)
	d.inserted(sampledHash(3), &clock)
	d.inserted(outside, &clock)
	clock.insertions += 2 * capacity
	d.inserted(sampledHash(2), &clock)
	if d.returned != [2]int{1, 0} || d.lost != [2]int{2, 0} {
		t.Errorf("returned %v of %v lost, want 1 of 2 refused: one loser back within its lifetime, one after",
			d.returned, d.lost)
	}
}
