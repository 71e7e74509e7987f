package cache

import (
	"context"
	"errors"
	"math"
	"slices"
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
	c, r := expiredFirst(t)
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

// TestLongestTTL checks that the longest time to live there is, per entry,
// by default or for errors, does not wrap around into the past.
func TestLongestTTL(t *testing.T) {
	clock := newFakeClock()
	c := mustNew(t, Options[string, int]{
		Capacity: 10, Clock: clock, TTL: math.MaxInt64, ErrorTTL: math.MaxInt64,
	})
	clock.Advance(time.Hour)
	c.SetWithTTL("per entry", 1, math.MaxInt64)
	c.Set("default", 2)
	calls := 0
	failing := func(context.Context, string) (int, error) {
		calls++
		return 0, errors.New("no such container")
	}
	for range 2 {
		if _, err := c.GetOrLoad(context.Background(), "error", failing); err == nil {
			t.Fatal("GetOrLoad: no error")
		}
	}
	clock.Advance(100 * 365 * 24 * time.Hour)
	wantGet(t, c, "per entry", 1, true)
	wantGet(t, c, "default", 2, true)
	if calls != 1 {
		t.Errorf("the loader ran %d times, want once: the error was not remembered", calls)
	}
}

// TestClockAnyTime checks that entries expire on time, to the nanosecond,
// whatever the clock read when the cache was made and reads now: set back
// or forward by years, from the zero time.Time (year 1), at 1970 where the
// cache time skips zero, and near the ends of what it counts.
func TestClockAnyTime(t *testing.T) {
	year := 24 * 365 * time.Hour
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		atNew, at time.Time
	}{
		{"set back an hour", start, start.Add(-time.Hour)},
		{"set back a year", start, start.Add(-year)},
		{"set back 150 years", start, start.Add(-150 * year)},
		{"set forward 200 years", start, start.Add(200 * year)},
		{"zero at New, then 2025", time.Time{}, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)},
		{"across 1970", start, time.Unix(0, -int64(30*time.Second))},
		{"in 1678", start, time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"in 2261", start, time.Date(2261, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		clock := newFakeClock()
		clock.Set(tc.atNew)
		r := &recorder{}
		c := mustNew(t, Options[string, int]{Capacity: 10, Clock: clock, OnRemove: r.onRemove})
		clock.Set(tc.at)
		c.SetWithTTL("k", 1, time.Minute)
		clock.Advance(time.Minute - time.Nanosecond)
		if _, ok := c.Get("k"); !ok {
			t.Errorf("%s: not readable a nanosecond before its deadline", tc.name)
			continue
		}
		clock.Advance(time.Nanosecond)
		if _, ok := c.Get("k"); ok {
			t.Errorf("%s: readable at its deadline", tc.name)
		}
		if got := r.take(); len(got) != 1 || got[0] != (removal{"k", 1, Expired}) {
			t.Errorf("%s: removals = %v, want k expired", tc.name, got)
		}
	}
}

// TestClockBeyondItsSpan checks that a clock reading before 1678 or after
// 2262 reads as that end: time stands still there, so an entry neither
// expires nor is lost, and expires once the clock comes back.
func TestClockBeyondItsSpan(t *testing.T) {
	for _, at := range []time.Time{{}, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		clock := newFakeClock()
		c := mustNew(t, Options[string, int]{Capacity: 10, Clock: clock})
		clock.Set(at)
		c.SetWithTTL("k", 1, time.Minute)
		clock.Advance(time.Hour)
		if _, ok := c.Get("k"); !ok {
			t.Errorf("clock at %v: entry lost while time stands still", at)
		}
		clock.Set(newFakeClock().now)
		if _, ok := c.Get("k"); ok && at.Year() < 2000 {
			t.Errorf("clock back from %v to 2026: entry still readable", at)
		}
	}
}

// TestSetOverExpiredInserts checks that a Set over an expired entry inserts
// the new one at the end of the FIFO order, as for a missing key.
func TestSetOverExpiredInserts(t *testing.T) {
	c, r := expiredFirst(t)
	c.Set("a", 3)
	c.Set("c", 4)
	wantGet(t, c, "a", 3, true)
	wantGet(t, c, "b", 0, false)
	want := []removal{{"a", 1, Expired}, {"b", 2, Evicted}}
	if got := r.take(); !slices.Equal(got, want) {
		t.Errorf("removals = %v, want %v", got, want)
	}
}

// expiredFirst returns a full FIFO cache of two entries whose oldest, a=1,
// has expired and whose newest, b=2, has not, and the recorder of its
// removals.
func expiredFirst(t *testing.T) (*Cache[string, int], *recorder) {
	clock := newFakeClock()
	r := &recorder{}
	c := mustNew(t, Options[string, int]{Capacity: 2, Policy: FIFO, Clock: clock, OnRemove: r.onRemove})
	c.SetWithTTL("a", 1, time.Second)
	c.Set("b", 2)
	clock.Advance(time.Minute)
	return c, r
}

// TestNewKeysReplaceExpired checks that in a full TinyLFU cache whose
// entries have all expired, keys written once each take their place: the
// policy looks past the first entry its clock hand stops at for an expired
// one, rather than turn new keys away while expired entries hold the room.
// (Without that look, a tenth of the new keys were turned away.)
func TestNewKeysReplaceExpired(t *testing.T) {
	const capacity = 1000
	clock := newFakeClock()
	c := mustNew(t, Options[string, int]{Capacity: capacity, TTL: time.Minute, Clock: clock})
	for k := range capacity {
		c.Set(strconv.Itoa(k), k)
	}
	clock.Advance(time.Hour)
	for k := capacity; k < 2*capacity; k++ {
		c.SetWithTTL(strconv.Itoa(k), k, 0)
	}
	present := 0
	for k := capacity; k < 2*capacity; k++ {
		if _, ok := c.Get(strconv.Itoa(k)); ok {
			present++
		}
	}
	t.Logf("%d of %d new keys present", present, capacity)
	if present < capacity*98/100 {
		t.Errorf("%d of %d new keys present after the old ones expired, want at least 98%%",
			present, capacity)
	}
}
