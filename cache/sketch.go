package cache

// sketch is a count-min sketch of 4-bit counters that estimates how often a
// key hash was seen recently. All counters are halved, so that old
// popularity fades, every readPeriod additions of reads, or every
// additionPeriod additions of any kind, insertions included. Insertions
// advance only the second, slower clock: a scan of keys read once would
// otherwise make the sketch forget the popular keys it is there to
// remember.
//
// The four counters of a hash lie in one block of eight words, a cache line,
// one counter in each pair of words, so that counting or estimating a hash
// costs one cache miss rather than four.
type sketch struct {
	words     []uint64 // blocks of blockWords words
	blockMask uint64   // the number of blocks, a power of two, less one

	reads, additions           int
	readPeriod, additionPeriod int
}

const blockWords = 8

// The ageing periods, per entry of capacity, were chosen with the bench
// module's hit-ratio simulator: a shorter read period follows a moving hot
// set sooner but loses hits on steady skewed workloads.
const (
	readsPerEntry     = 8
	additionsPerEntry = 96
)

// newSketch returns a sketch of one word, 16 counters, per entry of
// capacity rounded up to a power of two.
func newSketch(capacity int) *sketch {
	blocks := max(nextPow2(capacity)/blockWords, 1)
	return &sketch{
		words:          make([]uint64, blocks*blockWords),
		blockMask:      uint64(blocks - 1),
		readPeriod:     readsPerEntry * max(capacity, 1),
		additionPeriod: additionsPerEntry * max(capacity, 1),
	}
}

// block returns the block of the counters of h and the 32 bits that choose
// them in it: the low bits of a mix of h choose the block and its high 32
// bits, a byte per counter, one word of the counter's pair and a nibble in
// it.
func (s *sketch) block(h uint64) (*[blockWords]uint64, uint64) {
	h += 0x9e3779b97f4a7c15
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	i := int(h&s.blockMask) * blockWords
	return (*[blockWords]uint64)(s.words[i : i+blockWords]), h >> 32
}

// counter returns the word in the block and the bit offset in it of the
// i-th counter chosen by c.
func counter(c uint64, i int) (int, uint) {
	b := c >> (8 * i)
	return 2*i + int(b&1), uint(b>>1&0xf) << 2
}

// add counts n more sightings of h, the first of which is its insertion if
// inserted is set, and returns the new estimate of h. Only the counters at
// the minimum grow (a conservative update), which keeps collisions from
// inflating estimates: every counter becomes at least the old minimum plus
// n, saturating at 15.
func (s *sketch) add(h uint64, n uint32, inserted bool) uint32 {
	blk, c := s.block(h)
	e := minCount(blk, c)
	if n == 0 || e == 15 {
		return uint32(e)
	}
	target := min(e+uint64(n), 15)
	for i := range 4 {
		w, off := counter(c, i)
		if cur := blk[w&(blockWords-1)] >> off & 0xf; cur < target {
			blk[w&(blockWords-1)] += (target - cur) << off
		}
	}
	grown := int(target - e)
	s.additions += grown
	if inserted && grown > 0 {
		grown--
	}
	s.reads += grown
	if s.reads >= s.readPeriod || s.additions >= s.additionPeriod {
		s.age()
		return uint32(minCount(blk, c))
	}
	return uint32(target)
}

// estimate returns the smallest of the counters of h.
func (s *sketch) estimate(h uint64) uint32 {
	blk, c := s.block(h)
	return uint32(minCount(blk, c))
}

// minCount returns the smallest of the counters chosen by c in blk.
func minCount(blk *[blockWords]uint64, c uint64) uint64 {
	e := uint64(15)
	for i := range 4 {
		w, off := counter(c, i)
		e = min(e, blk[w&(blockWords-1)]>>off&0xf)
	}
	return e
}

// age halves every counter.
func (s *sketch) age() {
	for i := range s.words {
		s.words[i] = (s.words[i] >> 1) & 0x7777777777777777
	}
	s.reads /= 2
	s.additions /= 2
}

func (s *sketch) reset() {
	clear(s.words)
	s.reads, s.additions = 0, 0
}
