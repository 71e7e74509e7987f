package cache

import (
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestOptionsValidation(t *testing.T) {
	tests := []struct {
		name string
		o    Options[string, int]
	}{
		{"negative capacity", Options[string, int]{Capacity: -1}},
		{"capacity too large", Options[string, int]{Capacity: MaxCapacity + 1}},
		{"negative ttl", Options[string, int]{TTL: -time.Second}},
		{"negative error ttl", Options[string, int]{ErrorTTL: -time.Second}},
		{"unknown policy", Options[string, int]{Policy: Policy(7)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.o); err == nil {
				t.Errorf("New(%+v) returned no error", tt.o)
			}
		})
	}
	if _, err := New(Options[string, int]{Capacity: -1}); !errors.Is(err, errNegative) {
		t.Errorf("negative capacity error = %v, want errNegative", err)
	}
}

func TestZeroOptions(t *testing.T) {
	c := mustNew(t, Options[string, int]{})
	if c.Capacity() != DefaultCapacity {
		t.Errorf("Capacity() = %d, want %d", c.Capacity(), DefaultCapacity)
	}
	c.Set("a", 1)
	wantGet(t, c, "a", 1, true)
}

func TestSetGetDelete(t *testing.T) {
	for _, p := range []Policy{TinyLFU, FIFO} {
		t.Run(p.String(), func(t *testing.T) {
			c := mustNew(t, Options[string, int]{Capacity: 100, Policy: p})
			wantGet(t, c, "a", 0, false)
			c.Set("a", 1)
			wantGet(t, c, "a", 1, true)
			c.Set("a", 2)
			wantGet(t, c, "a", 2, true)
			if c.Len() != 1 {
				t.Errorf("Len() = %d, want 1", c.Len())
			}
			if !c.Delete("a") {
				t.Error("Delete(a) = false")
			}
			wantGet(t, c, "a", 0, false)
			if c.Len() != 0 {
				t.Errorf("Len() = %d, want 0", c.Len())
			}
		})
	}
}

// TestSizeBound fills caches of several capacities, sharded or not, far
// beyond their size and checks that no more than Capacity entries are ever
// held, that the cache ends full, and that every entry that left was
// reported.
func TestSizeBound(t *testing.T) {
	for _, p := range []Policy{TinyLFU, FIFO} {
		for _, capacity := range []int{1, 2, 7, 100, 1000, 2 * minShardCapacity, 40000} {
			t.Run(p.String()+"/"+strconv.Itoa(capacity), func(t *testing.T) {
				r := &recorder{}
				c := mustNew(t, Options[string, int]{
					Capacity: capacity, Policy: p, OnRemove: r.onRemove,
				})
				n := max(5000, 10*capacity)
				for i := range n {
					c.Set(strconv.Itoa(i%(3*capacity+5)), i)
					if c.Len() > capacity {
						t.Fatalf("Len() = %d after %d sets, capacity %d",
							c.Len(), i+1, capacity)
					}
				}
				if c.Len() != capacity {
					t.Errorf("Len() = %d at the end, want %d", c.Len(), capacity)
				}
				replaced := r.count(Replaced)
				if got := n - replaced - r.count(Evicted); got != c.Len() {
					t.Errorf("sets - replaced - evicted = %d, Len() = %d", got, c.Len())
				}
				if got := c.Stats().Evictions; got != uint64(r.count(Evicted)) {
					t.Errorf("Stats().Evictions = %d, callbacks saw %d", got, r.count(Evicted))
				}
			})
		}
	}
}

// TestTinyLFUKeepsHotKeys checks that a few frequently read keys survive a
// stream of keys read once, which a FIFO or LRU cache would not manage.
func TestTinyLFUKeepsHotKeys(t *testing.T) {
	c := mustNew(t, Options[string, int]{Capacity: 100})
	hot := []string{"h1", "h2", "h3", "h4", "h5"}
	for i := range 20000 {
		k := hot[i%len(hot)]
		if i%2 == 1 {
			k = "cold" + strconv.Itoa(i)
		}
		if _, ok := c.Get(k); !ok {
			c.Set(k, i)
		}
	}
	for _, k := range hot {
		if _, ok := c.Get(k); !ok {
			t.Errorf("hot key %s was evicted", k)
		}
	}
}

func TestClear(t *testing.T) {
	r := &recorder{}
	c := mustNew(t, Options[string, int]{Capacity: 10, OnRemove: r.onRemove})
	for i := range 5 {
		c.Set(strconv.Itoa(i), i)
	}
	c.Clear()
	if c.Len() != 0 {
		t.Errorf("Len() = %d after Clear", c.Len())
	}
	if got := r.count(Cleared); got != 5 {
		t.Errorf("Cleared callbacks = %d, want 5", got)
	}
	wantGet(t, c, "1", 0, false)
	c.Set("1", 1)
	wantGet(t, c, "1", 1, true)
}

func TestStats(t *testing.T) {
	c := mustNew(t, Options[string, int]{Capacity: 2, RecordStats: true})
	c.Set("a", 1)
	c.Get("a")
	c.Get("a")
	c.Get("b")
	s := c.Stats()
	if s.Hits != 2 || s.Misses != 1 {
		t.Errorf("Hits, Misses = %d, %d; want 2, 1", s.Hits, s.Misses)
	}
	if r := s.HitRatio(); r < 0.66 || r > 0.67 {
		t.Errorf("HitRatio() = %v, want 2/3", r)
	}
	quiet := mustNew(t, Options[string, int]{Capacity: 2})
	quiet.Get("a")
	if s := quiet.Stats(); s.Misses != 0 {
		t.Errorf("Misses counted without RecordStats: %d", s.Misses)
	}
}

// TestCallbackMayUseCache checks that OnRemove runs without the cache's lock
// held.
func TestCallbackMayUseCache(t *testing.T) {
	var c *Cache[string, int]
	c = mustNew(t, Options[string, int]{Capacity: 1, OnRemove: func(k string, v int, r Reason) {
		if r == Evicted && k == "a" {
			c.Set("from-callback", v)
		}
	}})
	c.Set("a", 1)
	c.Set("b", 2)
	wantGet(t, c, "from-callback", 1, true)
	if c.Len() != 1 {
		t.Errorf("Len() = %d, want 1", c.Len())
	}
}

func TestGetDoesNotAllocate(t *testing.T) {
	for _, p := range []Policy{TinyLFU, FIFO} {
		c, keys := filled(t, Options[string, int]{Capacity: 1000, Policy: p}, 1000)
		i := 0
		allocs := testing.AllocsPerRun(1000, func() {
			c.Get(keys[i%len(keys)])
			i++
		})
		if allocs != 0 {
			t.Errorf("%v: Get allocates %v times per call", p, allocs)
		}
	}
}

func TestShardCount(t *testing.T) {
	for _, tc := range []struct {
		capacity int
		policy   Policy
		want     int
	}{
		{1, TinyLFU, 1},
		{2*minShardCapacity - 1, TinyLFU, 1},
		{2 * minShardCapacity, TinyLFU, 2},
		{DefaultCapacity, TinyLFU, maxShards},
		{MaxCapacity, TinyLFU, maxShards},
		{DefaultCapacity, FIFO, 1},
	} {
		if got := shardCount(tc.capacity, tc.policy); got != tc.want {
			t.Errorf("shardCount(%d, %v) = %d, want %d", tc.capacity, tc.policy, got, tc.want)
		}
	}
}

func TestStrings(t *testing.T) {
	if got := FIFO.String(); got != "fifo" {
		t.Errorf("FIFO.String() = %q", got)
	}
	if got := Expired.String(); got != "expired" {
		t.Errorf("Expired.String() = %q", got)
	}
	if got := Reason(42).String(); got != "Reason(42)" {
		t.Errorf("Reason(42).String() = %q", got)
	}
}

// TestGrowth fills caches large enough that the hash tables grow several
// times while another goroutine reads, and checks that no entry is lost and
// that FIFO order survives the copies. The TinyLFU cache, split in shards,
// has room to spare: a shard may fill up before the whole cache does.
func TestGrowth(t *testing.T) {
	for _, p := range []Policy{TinyLFU, FIFO} {
		t.Run(p.String(), func(t *testing.T) {
			const n = 20000
			r := &recorder{}
			capacity := n
			if p == TinyLFU {
				capacity = 2 * n
			}
			c := mustNew(t, Options[string, int]{Capacity: capacity, Policy: p, OnRemove: r.onRemove})
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := range n {
					if v, ok := c.Get(strconv.Itoa(i)); ok && v != i {
						t.Errorf("Get(%d) = %d during growth", i, v)
						return
					}
				}
			}()
			for i := range n {
				c.Set(strconv.Itoa(i), i)
			}
			<-done
			for i := range n {
				wantGet(t, c, strconv.Itoa(i), i, true)
			}
			if p != FIFO {
				return
			}
			for i := n; i < n+10; i++ {
				c.Set(strconv.Itoa(i), i)
			}
			want := make([]removal, 10)
			for i := range want {
				want[i] = removal{strconv.Itoa(i), i, Evicted}
			}
			if got := r.take(); !slices.Equal(got, want) {
				t.Errorf("evicted %v, want the ten oldest", got)
			}
		})
	}
}

// TestTinyLFUHandSurvivesRemovals mixes inserts and deletes on small caches
// whose few buckets hold long chains, so that the clock hand often rests
// next to entries that are then removed; the hand must never reach an entry
// that is no longer in the table.
func TestTinyLFUHandSurvivesRemovals(t *testing.T) {
	for capacity := 2; capacity <= 12; capacity++ {
		c := mustNew(t, Options[string, int]{Capacity: capacity})
		x := uint64(capacity)
		for i := range 200000 {
			x = x*6364136223846793005 + 1442695040888963407
			k := strconv.Itoa(int(x>>40) % (3 * capacity))
			if x>>62 == 0 {
				c.Delete(k)
			} else {
				c.Set(k, i)
			}
			if c.Len() > capacity {
				t.Fatalf("Len() = %d > %d", c.Len(), capacity)
			}
		}
	}
}

// TestTableSize checks the bucket array's bounds: chains average at most
// one half while it may grow, and it never exceeds seven eighths of a slot
// per entry of capacity.
func TestTableSize(t *testing.T) {
	c := mustNew(t, Options[string, int]{Capacity: 1 << 14, Policy: FIFO})
	slots := func() int { return len(c.shards[0].table.cur.Load().slots) }
	for i := range 3000 {
		c.Set(strconv.Itoa(i), i)
	}
	if got := slots(); got < 2*3000 {
		t.Errorf("%d slots for 3000 entries, want at least 6000", got)
	}
	for i := range 1 << 15 {
		c.Set(strconv.Itoa(i), i)
	}
	if got, limit := slots(), (1<<14)-(1<<14)/8; got > limit {
		t.Errorf("%d slots for a full cache of %d, want at most %d", got, 1<<14, limit)
	}
}
