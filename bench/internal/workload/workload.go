// Package workload makes the deterministic key traces shared by the
// throughput benchmarks and the hit-ratio simulator.
package workload

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// Key returns the 16-byte key of item i.
func Key(i int) string {
	return fmt.Sprintf("key:%012d", i)
}

// Keys returns the keys of items 0 to n-1.
func Keys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = Key(i)
	}
	return keys
}

// Zipf draws item ranks with probability proportional to 1/(rank+1)^s, for
// any s > 0, by inverting the cumulative distribution.
type Zipf struct {
	cdf []float64
}

// NewZipf returns a sampler over n items.
func NewZipf(n int, s float64) *Zipf {
	cdf := make([]float64, n)
	sum := 0.0
	for i := range cdf {
		sum += 1 / math.Pow(float64(i+1), s)
		cdf[i] = sum
	}
	for i := range cdf {
		cdf[i] /= sum
	}
	return &Zipf{cdf: cdf}
}

// Rank maps a uniform number in [0, 1) to a rank.
func (z *Zipf) Rank(u float64) int {
	return sort.SearchFloat64s(z.cdf, u)
}

// Rand returns a generator seeded with seed.
func Rand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x5eed))
}

// ZipfTrace returns length item ids drawn from a Zipf(s) distribution over n
// items, scrambled by a random permutation so that popular items are spread
// over the key space.
func ZipfTrace(n int, s float64, length int, seed uint64) []int {
	r := Rand(seed)
	z := NewZipf(n, s)
	perm := r.Perm(n)
	trace := make([]int, length)
	for i := range trace {
		trace[i] = perm[z.Rank(r.Float64())]
	}
	return trace
}
