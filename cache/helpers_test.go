package cache

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// removal is one call of OnRemove.
type removal struct {
	key    string
	value  int
	reason Reason
}

// recorder collects OnRemove calls.
type recorder struct {
	mu   sync.Mutex
	seen []removal
}

func (r *recorder) onRemove(k string, v int, reason Reason) {
	r.mu.Lock()
	r.seen = append(r.seen, removal{k, v, reason})
	r.mu.Unlock()
}

func (r *recorder) take() []removal {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.seen
	r.seen = nil
	return s
}

func (r *recorder) count(reason Reason) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.seen {
		if s.reason == reason {
			n++
		}
	}
	return n
}

// workers runs n goroutines of ops steps each and waits for them. A step
// gets its worker's number, its own number and a pseudo-random number from
// the worker's sequence; it stops its worker by returning false.
func workers(n, ops int, step func(w, i int, x uint64) bool) {
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() {
			x := uint64(w + 1)
			for i := range ops {
				x = x*6364136223846793005 + 1442695040888963407
				if !step(w, i, x) {
					return
				}
			}
		})
	}
	wg.Wait()
}

// filled returns a cache made with o and holding n keys, "key-I" for I
// from 0, each with I as its value, and the keys.
func filled(t testing.TB, o Options[string, int], n int) (*Cache[string, int], []string) {
	t.Helper()
	c := mustNew(t, o)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "key-" + strconv.Itoa(i)
		c.Set(keys[i], i)
	}
	return c, keys
}

func mustNew(t testing.TB, o Options[string, int]) *Cache[string, int] {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatalf("New(%+v): %v", o, err)
	}
	return c
}

func wantGet(t *testing.T, c *Cache[string, int], key string, want int, wantOK bool) {
	t.Helper()
	got, ok := c.Get(key)
	if ok != wantOK || got != want {
		t.Errorf("Get(%q) = %d, %v; want %d, %v", key, got, ok, want, wantOK)
	}
}
