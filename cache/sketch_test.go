package cache

import "testing"

// TestSketchCountersShareABlock checks the layout the sketch relies on for
// one cache miss per hash: the four counters lie in one aligned block of
// eight words, the i-th counter in the i-th pair of words.
func TestSketchCountersShareABlock(t *testing.T) {
	s := newSketch(1 << 12)
	for h := uint64(0); h < 10000; h++ {
		blk, c := s.block(h * 0x9e3779b97f4a7c15)
		start := cap(s.words) - cap(blk[:])
		if start%blockWords != 0 {
			t.Fatalf("hash %d: block at word %d", h, start)
		}
		for i := range 4 {
			w, off := counter(c, i)
			if w/2 != i {
				t.Fatalf("hash %d: counter %d in word %d of its block", h, i, w)
			}
			if off%4 != 0 || off > 60 {
				t.Fatalf("hash %d: counter %d at bit %d", h, i, off)
			}
		}
	}
}

// TestSketchAddMany checks that adding n at once leaves the counters as n
// single additions do, and that counters saturate at 15.
func TestSketchAddMany(t *testing.T) {
	one, many := newSketch(1024), newSketch(1024) // large enough not to age
	for h := uint64(1); h <= 200; h++ {
		n := uint32(h % 7)
		for range n {
			one.add(h, 1, false)
		}
		many.add(h, n, false)
	}
	for i := range one.words {
		if one.words[i] != many.words[i] {
			t.Fatalf("word %d: %#x after single additions, %#x after batched ones",
				i, one.words[i], many.words[i])
		}
	}
	if one.additions != many.additions || one.reads != many.reads {
		t.Errorf("additions, reads: %d, %d single, %d, %d batched",
			one.additions, one.reads, many.additions, many.reads)
	}

	s := newSketch(1 << 10)
	s.add(42, 3, false)
	if got := s.estimate(42); got != 3 {
		t.Errorf("estimate after adding 3 = %d", got)
	}
	s.add(42, 100, false)
	if got := s.estimate(42); got != 15 {
		t.Errorf("estimate after adding 103 = %d, want the saturated 15", got)
	}
}

// TestSketchAgeingClocks checks when the counters are halved: after
// readsPerEntry reads per entry of capacity, insertions not counting, or
// after additionsPerEntry additions per entry of any kind.
func TestSketchAgeingClocks(t *testing.T) {
	const capacity = 64
	const hot = uint64(1)
	check := func(s *sketch, want uint32, when string) {
		t.Helper()
		if got := s.estimate(hot); got != want {
			t.Fatalf("%s: estimate = %d, want %d", when, got, want)
		}
	}

	s := newSketch(capacity)
	s.add(hot, 8, false)
	for k := range uint64(readsPerEntry * capacity) {
		s.add(1000+k, 1, true) // one-off keys: insertions only
	}
	check(s, 8, "after a scan as long as the read period")
	for k := range uint64(readsPerEntry*capacity - 8 - 1) {
		s.add(1000+k, 1, false)
	}
	check(s, 8, "one read before the read period")
	s.add(999, 1, false)
	check(s, 4, "at the read period")

	// Insertions alone fill the counters, so the hot key's estimate grows
	// by collisions; what matters is that it is halved at the period.
	s = newSketch(capacity)
	s.add(hot, 8, true) // an insertion and seven reads
	for k := uint64(1000); s.additions < additionsPerEntry*capacity-1; k++ {
		s.add(k, 1, true)
	}
	if s.reads != 7 {
		t.Fatalf("reads = %d after one insertion with seven reads and one-off keys", s.reads)
	}
	before := s.estimate(hot)
	s.add(999, 1, true)
	check(s, before/2, "at the addition period")
	if want := additionsPerEntry * capacity / 2; s.additions != want {
		t.Errorf("additions = %d after ageing, want %d", s.additions, want)
	}
}
