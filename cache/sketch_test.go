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
	one, many := newSketch(64), newSketch(64)
	for h := uint64(1); h <= 200; h++ {
		n := uint32(h % 7)
		for range n {
			one.add(h, 1)
		}
		many.add(h, n)
	}
	for i := range one.words {
		if one.words[i] != many.words[i] {
			t.Fatalf("word %d: %#x after single additions, %#x after batched ones",
				i, one.words[i], many.words[i])
		}
	}
	if one.additions != many.additions {
		t.Errorf("additions: %d single, %d batched", one.additions, many.additions)
	}

	s := newSketch(1 << 10)
	s.add(42, 3)
	if got := s.estimate(42); got != 3 {
		t.Errorf("estimate after adding 3 = %d", got)
	}
	s.add(42, 100)
	if got := s.estimate(42); got != 15 {
		t.Errorf("estimate after adding 103 = %d, want the saturated 15", got)
	}
}
