package cache

import (
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
