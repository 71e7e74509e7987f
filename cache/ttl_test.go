package cache

import (
	"strconv"
	"testing"
	"time"
)

func TestTTLNeverReturnsExpired(t *testing.T) {
	for _, p := range []Policy{TinyLFU, FIFO} {
		t.Run(p.String(), func(t *testing.T) {
			clock := newFakeClock()
			r := &recorder{}
			c := mustNew(t, Options[string, int]{
				Capacity: 10, Policy: p, TTL: time.Minute, Clock: clock, OnRemove: r.onRemove,
			})
			c.Set("a", 1)
			clock.Advance(time.Minute - time.Nanosecond)
			wantGet(t, c, "a", 1, true)
			clock.Advance(time.Nanosecond)
			wantGet(t, c, "a", 0, false)
			if got := r.take(); len(got) != 1 || got[0] != (removal{"a", 1, Expired}) {
				t.Errorf("removals = %v, want a expired", got)
			}
			if c.Len() != 0 {
				t.Errorf("Len() = %d after expiry", c.Len())
			}
		})
	}
}

func TestSetWithTTL(t *testing.T) {
	clock := newFakeClock()
	c := mustNew(t, Options[string, int]{Capacity: 10, TTL: time.Hour, Clock: clock})
	c.SetWithTTL("short", 1, time.Second)
	c.SetWithTTL("forever", 2, 0)
	c.Set("default", 3)
	clock.Advance(2 * time.Second)
	wantGet(t, c, "short", 0, false)
	wantGet(t, c, "default", 3, true)
	clock.Advance(2 * time.Hour)
	wantGet(t, c, "default", 0, false)
	wantGet(t, c, "forever", 2, true)
	if got := c.Stats().Expirations; got != 2 {
		t.Errorf("Expirations = %d, want 2", got)
	}
}

// TestTTLRandomized advances a fake clock through many entries with random
// lifetimes and checks every read against the deadline it should have.
func TestTTLRandomized(t *testing.T) {
	for _, p := range []Policy{TinyLFU, FIFO} {
		t.Run(p.String(), func(t *testing.T) {
			clock := newFakeClock()
			c := mustNew(t, Options[string, int]{Capacity: 64, Policy: p, Clock: clock})
			deadline := map[string]time.Time{}
			x := uint64(7)
			for i := range 20000 {
				x = x*6364136223846793005 + 1442695040888963407
				k := strconv.Itoa(int(x>>40) % 200)
				if v, ok := c.Get(k); ok {
					if !clock.Now().Before(deadline[k]) {
						t.Fatalf("step %d: Get(%s) = %d after its deadline", i, k, v)
					}
				} else {
					ttl := time.Duration(1+int(x>>20)%50) * time.Millisecond
					c.SetWithTTL(k, i, ttl)
					deadline[k] = clock.Now().Add(ttl)
				}
				clock.Advance(time.Duration(x>>58) * 100 * time.Microsecond)
			}
		})
	}
}

// TestExpiredEvictedFirst checks that an expired entry met by the policy
// leaves with the Expired reason.
func TestExpiredEvictedFirst(t *testing.T) {
	clock := newFakeClock()
	r := &recorder{}
	c := mustNew(t, Options[string, int]{Capacity: 2, Policy: FIFO, Clock: clock, OnRemove: r.onRemove})
	c.SetWithTTL("a", 1, time.Second)
	c.Set("b", 2)
	clock.Advance(time.Minute)
	c.Set("c", 3)
	if got := r.take(); len(got) != 1 || got[0] != (removal{"a", 1, Expired}) {
		t.Errorf("removals = %v, want a expired", got)
	}
}

func TestReplaceExpired(t *testing.T) {
	clock := newFakeClock()
	r := &recorder{}
	c := mustNew(t, Options[string, int]{Capacity: 2, Clock: clock, OnRemove: r.onRemove})
	c.SetWithTTL("a", 1, time.Second)
	clock.Advance(time.Minute)
	c.Set("a", 2)
	wantGet(t, c, "a", 2, true)
	if got := r.take(); len(got) != 1 || got[0].reason != Expired {
		t.Errorf("removals = %v, want one expired", got)
	}
	if c.Delete("missing") {
		t.Error("Delete(missing) = true")
	}
}
