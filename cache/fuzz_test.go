package cache

import (
	"slices"
	"strconv"
	"testing"
	"time"
)

// model is the reference the fuzz test holds the cache to: the entries it
// must hold, in insertion order, and their deadlines. Entries leave the model
// only when the cache reports their removal, so every read can be checked
// exactly.
type model struct {
	order    []string
	vals     map[string]int
	deadline map[string]time.Time
}

// set stores v under k at now. A live entry keeps its place in the order;
// an expired one is absent, so the new one goes to the end.
func (m *model) set(k string, v int, deadline, now time.Time) {
	if _, live := m.live(k, now); !live {
		m.drop(k)
		m.order = append(m.order, k)
	}
	m.vals[k] = v
	m.deadline[k] = deadline
}

func (m *model) drop(k string) {
	delete(m.vals, k)
	delete(m.deadline, k)
	m.order = slices.DeleteFunc(m.order, func(s string) bool { return s == k })
}

func (m *model) live(k string, now time.Time) (int, bool) {
	v, ok := m.vals[k]
	if !ok {
		return 0, false
	}
	if d := m.deadline[k]; !d.IsZero() && !now.Before(d) {
		return 0, false
	}
	return v, true
}

// FuzzCache drives a cache with a byte-coded sequence of operations and
// checks each result against the model. With the FIFO policy it also checks
// that every eviction takes the oldest entry.
func FuzzCache(f *testing.F) {
	f.Add([]byte{3, 0, 16, 32, 48, 64, 1, 17, 2, 18, 80, 96, 5, 6, 7})
	f.Add([]byte{1, 0, 0, 1, 16, 17, 4, 20, 36, 0, 52, 1, 3})
	f.Add([]byte{0x83, 0x10, 0x20, 0x35, 0x46, 0x57, 0x61, 0x72, 0x83, 0x94, 0xa5, 0x16, 0x27, 0x38, 0x49})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) == 0 {
			return
		}
		policy := Policy(ops[0] >> 7)
		capacity := 1 + int(ops[0]&7)
		fuzzRun(t, policy, capacity, ops[1:])
	})
}

func fuzzRun(t *testing.T, policy Policy, capacity int, ops []byte) {
	clock := newFakeClock()
	m := &model{vals: map[string]int{}, deadline: map[string]time.Time{}}
	var setting string // the key being overwritten, whose old value may leave expired
	c := mustNew(t, Options[string, int]{
		Capacity: capacity, Policy: policy, Clock: clock,
		OnRemove: func(k string, v int, r Reason) {
			if r == Replaced || r == Expired && k == setting && m.vals[k] != v {
				return
			}
			if policy == FIFO && r == Evicted && m.order[0] != k {
				t.Fatalf("evicted %s, oldest is %s", k, m.order[0])
			}
			if r == Evicted && len(m.vals) < capacity {
				t.Fatalf("evicted %s with %d of %d entries", k, len(m.vals), capacity)
			}
			if want, ok := m.vals[k]; !ok || want != v {
				t.Fatalf("removed %s=%d (%v), model has %d, %v", k, v, r, want, ok)
			}
			m.drop(k)
		},
	})
	for i, op := range ops {
		k := strconv.Itoa(int(op>>4) % 10)
		now := clock.Now()
		switch op & 7 {
		case 0, 1:
			got, ok := c.Get(k)
			if want, wantOK := m.live(k, now); got != want || ok != wantOK {
				t.Fatalf("op %d: Get(%s) = %d, %v; model %d, %v", i, k, got, ok, want, wantOK)
			}
		case 2, 3:
			m.set(k, i, time.Time{}, now)
			setting = k
			c.Set(k, i)
		case 4:
			ttl := time.Duration(1+op>>4) * time.Second
			m.set(k, i, now.Add(ttl), now)
			setting = k
			c.SetWithTTL(k, i, ttl)
		case 5:
			_, want := m.live(k, now)
			if got := c.Delete(k); got != want {
				t.Fatalf("op %d: Delete(%s) = %v, model %v", i, k, got, want)
			}
		case 6:
			clock.Advance(time.Duration(op>>4) * time.Second)
		case 7:
			if op>>4 == 0 {
				c.Clear()
			}
		}
		setting = ""
		if c.Len() != len(m.vals) {
			t.Fatalf("op %d: Len() = %d, model holds %d", i, c.Len(), len(m.vals))
		}
	}
}

// TestFuzzSeeds replays longer pseudo-random sequences than the seed corpus.
func TestFuzzSeeds(t *testing.T) {
	for _, p := range []Policy{TinyLFU, FIFO} {
		for capacity := 1; capacity <= 8; capacity++ {
			ops := make([]byte, 3000)
			x := uint64(capacity)*7919 + uint64(p)
			for i := range ops {
				x = x*6364136223846793005 + 1442695040888963407
				ops[i] = byte(x >> 56)
			}
			fuzzRun(t, p, capacity, ops)
		}
	}
}
