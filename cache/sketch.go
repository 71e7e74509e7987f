package cache

// sketch is a count-min sketch of 4-bit counters that estimates how often a
// key hash was seen recently. Every sampleSize additions all counters are
// halved, so old popularity fades.
type sketch struct {
	words      []uint64
	mask       uint64
	additions  int
	sampleSize int
}

func newSketch(capacity int) *sketch {
	size := max(nextPow2(capacity), 8)
	return &sketch{
		words:      make([]uint64, size),
		mask:       uint64(size - 1),
		sampleSize: 40 * max(capacity, 1),
	}
}

// position returns the word and bit offset of the i-th counter of h.
func (s *sketch) position(h uint64, i int) (int, uint) {
	h += uint64(i+1) * 0x9e3779b97f4a7c15
	h ^= h >> 31
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 29
	return int(h & s.mask), uint(h>>60) << 2
}

// add counts n more sightings of h. Only the counters at the minimum grow
// (a conservative update), which keeps collisions from inflating estimates.
func (s *sketch) add(h uint64, n uint32) {
	var w [4]int
	var off [4]uint
	for i := range 4 {
		w[i], off[i] = s.position(h, i)
	}
	for ; n > 0; n-- {
		e := uint64(15)
		for i := range 4 {
			e = min(e, (s.words[w[i]]>>off[i])&0xf)
		}
		if e == 15 {
			return
		}
		for i := range 4 {
			if (s.words[w[i]]>>off[i])&0xf == e {
				s.words[w[i]] += 1 << off[i]
			}
		}
		s.additions++
		if s.additions >= s.sampleSize {
			s.age()
		}
	}
}

// estimate returns the smallest of the counters of h.
func (s *sketch) estimate(h uint64) uint32 {
	e := uint32(15)
	for i := range 4 {
		w, off := s.position(h, i)
		e = min(e, uint32(s.words[w]>>off)&0xf)
	}
	return e
}

// age halves every counter.
func (s *sketch) age() {
	for i := range s.words {
		s.words[i] = (s.words[i] >> 1) & 0x7777777777777777
	}
	s.additions /= 2
}

func (s *sketch) reset() {
	clear(s.words)
	s.additions = 0
}
