package cache

// sketch is a count-min sketch of 4-bit counters that estimates how often a
// key hash was seen recently. Every sampleSize additions all counters are
// halved, so old popularity fades.
//
// The four counters of a hash lie in one block of eight words, a cache line,
// one counter in each pair of words, so that counting or estimating a hash
// costs one cache miss rather than four.
type sketch struct {
	words      []uint64 // blocks of blockWords words
	blockMask  uint64   // the number of blocks, a power of two, less one
	additions  int
	sampleSize int
}

const blockWords = 8

// newSketch returns a sketch of one word, 16 counters, per entry of
// capacity rounded up to a power of two.
func newSketch(capacity int) *sketch {
	blocks := max(nextPow2(capacity)/blockWords, 1)
	return &sketch{
		words:      make([]uint64, blocks*blockWords),
		blockMask:  uint64(blocks - 1),
		sampleSize: 40 * max(capacity, 1),
	}
}

// counters returns the word and bit offset of each of the four counters of h.
// The low bits of a mix of h choose the block and its high 32 bits choose, a
// byte per counter, one word of the counter's pair and a nibble in it.
func (s *sketch) counters(h uint64) (w [4]int, off [4]uint) {
	h += 0x9e3779b97f4a7c15
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	base := int(h&s.blockMask) * blockWords
	for i := range 4 {
		b := h >> (32 + 8*i)
		w[i] = base + 2*i + int(b&1)
		off[i] = uint(b>>1&0xf) << 2
	}
	return w, off
}

// add counts n more sightings of h. Only the counters at the minimum grow
// (a conservative update), which keeps collisions from inflating estimates:
// every counter becomes at least the old minimum plus n, saturating at 15.
func (s *sketch) add(h uint64, n uint32) {
	if n == 0 {
		return
	}
	w, off := s.counters(h)
	e := s.min(&w, &off)
	if e == 15 {
		return
	}
	target := uint64(min(e+n, 15))
	for i := range 4 {
		if c := (s.words[w[i]] >> off[i]) & 0xf; c < target {
			s.words[w[i]] += (target - c) << off[i]
		}
	}
	s.additions += int(target) - int(e)
	if s.additions >= s.sampleSize {
		s.age()
	}
}

// estimate returns the smallest of the counters of h.
func (s *sketch) estimate(h uint64) uint32 {
	w, off := s.counters(h)
	return s.min(&w, &off)
}

func (s *sketch) min(w *[4]int, off *[4]uint) uint32 {
	e := uint32(15)
	for i := range 4 {
		e = min(e, uint32(s.words[w[i]]>>off[i])&0xf)
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
