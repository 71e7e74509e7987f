package cache

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestKindOf(t *testing.T) {
	type pair struct{ a, b int32 }
	type withPointer struct {
		n int32
		p *int
	}
	for _, tc := range []struct {
		name string
		got  valueKind
		want valueKind
	}{
		{"int", kindOf[int](), word64Value},
		{"float64", kindOf[float64](), word64Value},
		{"pair", kindOf[pair](), word64Value},
		{"[2]int32", kindOf[[2]int32](), word64Value},
		{"int32", kindOf[int32](), word32Value},
		{"bool", kindOf[bool](), inlineValue},
		{"[3]int32", kindOf[[3]int32](), inlineValue},
		{"*int", kindOf[*int](), pointerValue},
		{"map", kindOf[map[string]int](), pointerValue},
		{"func", kindOf[func()](), pointerValue},
		{"chan", kindOf[chan int](), pointerValue},
		{"string", kindOf[string](), inlineValue},
		{"[]byte", kindOf[[]byte](), inlineValue},
		{"any", kindOf[any](), inlineValue},
		{"withPointer", kindOf[withPointer](), inlineValue},
		{"struct{}", kindOf[struct{}](), emptyValue},
	} {
		if tc.got != tc.want {
			t.Errorf("kindOf[%s]() = %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}

// TestUpdateDoesNotAllocate checks that overwriting a present key whose
// value fits in a word allocates nothing, with or without a time to live.
func TestUpdateDoesNotAllocate(t *testing.T) {
	for _, p := range []Policy{TinyLFU, FIFO} {
		c, keys := filled(t, Options[string, int]{Capacity: 1000, Policy: p, TTL: time.Hour}, 1000)
		i := 0
		allocs := testing.AllocsPerRun(1000, func() {
			c.Set(keys[i%len(keys)], i)
			i++
		})
		if allocs != 0 {
			t.Errorf("%v: Set on a present key allocates %v times per call", p, allocs)
		}
		wantGet(t, c, keys[0], 1000, true) // the warm-up call and 1000 runs

		v := new(int)
		pc, err := New(Options[string, *int]{Capacity: 10, Policy: p})
		if err != nil {
			t.Fatal(err)
		}
		pc.Set("k", v)
		if allocs := testing.AllocsPerRun(1000, func() { pc.Set("k", v) }); allocs != 0 {
			t.Errorf("%v: Set of a pointer on a present key allocates %v times per call", p, allocs)
		}
	}
}

// TestOverwriteDeadlines checks the deadline an overwrite leaves, whether
// it is written in place (later or equal) or by a new entry (earlier).
func TestOverwriteDeadlines(t *testing.T) {
	clock := newFakeClock()
	r := &recorder{}
	c := mustNew(t, Options[string, int]{Capacity: 10, Clock: clock, OnRemove: r.onRemove})
	c.SetWithTTL("later", 1, 10*time.Second)
	c.SetWithTTL("later", 2, 20*time.Second)
	c.SetWithTTL("earlier", 1, 20*time.Second)
	c.SetWithTTL("earlier", 2, 10*time.Second)
	c.SetWithTTL("dropped", 1, 10*time.Second)
	c.Set("dropped", 2)
	c.Set("added", 1)
	c.SetWithTTL("added", 2, 10*time.Second)
	clock.Advance(15 * time.Second)
	wantGet(t, c, "later", 2, true)
	wantGet(t, c, "earlier", 0, false)
	wantGet(t, c, "dropped", 2, true)
	wantGet(t, c, "added", 0, false)
	clock.Advance(10 * time.Second)
	wantGet(t, c, "later", 0, false)
	wantGet(t, c, "dropped", 2, true)

	want := map[removal]int{
		{"later", 1, Replaced}: 1, {"earlier", 1, Replaced}: 1, {"dropped", 1, Replaced}: 1,
		{"added", 1, Replaced}: 1, {"earlier", 2, Expired}: 1, {"added", 2, Expired}: 1,
		{"later", 2, Expired}: 1,
	}
	got := map[removal]int{}
	for _, s := range r.take() {
		got[s]++
	}
	if len(got) != len(want) {
		t.Errorf("removals = %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("removal %v seen %d times, want %d", k, got[k], n)
		}
	}
}

// TestStressAccounting stores distinct values from several goroutines, with
// overwrites written in place (int and pointer values) or by new entries
// (string values), deletions, expiry and evictions, and checks that every
// value stored is reported removed exactly once when the cache is cleared,
// and that a read never returns another key's value.
func TestStressAccounting(t *testing.T) {
	for _, p := range []Policy{TinyLFU, FIFO} {
		t.Run("int/"+p.String(), func(t *testing.T) {
			accounting(t, p, func(id int64) int64 { return id }, func(v int64) int64 { return v })
		})
		t.Run("pointer/"+p.String(), func(t *testing.T) {
			accounting(t, p, func(id int64) *int64 { return &id }, func(v *int64) int64 { return *v })
		})
		t.Run("string/"+p.String(), func(t *testing.T) {
			accounting(t, p, func(id int64) string { return strconv.FormatInt(id, 10) },
				func(v string) int64 { id, _ := strconv.ParseInt(v, 10, 64); return id })
		})
	}
}

func accounting[V any](t *testing.T, p Policy, value func(int64) V, id func(V) int64) {
	const capacity, keys, goroutines, ops = 64, 100, 4, 20000
	// A value's id is seq*keys + key, seq counting the Sets from 1.
	clock := newFakeClock()
	stored := make([]atomic.Bool, goroutines*ops+1)
	reports := make([]atomic.Int32, goroutines*ops+1)
	c, err := New(Options[int, V]{
		Capacity: capacity, Policy: p, Clock: clock,
		OnRemove: func(_ int, v V, _ Reason) { reports[id(v)/keys].Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	workers(goroutines, ops, func(w, i int, x uint64) bool {
		k, dice, seq := int(x>>33)%keys, int(x>>50)%100, w*ops+i+1
		switch {
		case dice < 50:
			if got, ok := c.Get(k); ok && id(got)%keys != int64(k) {
				t.Errorf("Get(%d) returned a value stored under key %d", k, id(got)%keys)
				return false
			}
		case dice < 97:
			v := value(int64(seq)*keys + int64(k))
			if dice < 70 {
				c.Set(k, v)
			} else {
				c.SetWithTTL(k, v, time.Duration(1+dice%5)*time.Millisecond)
			}
			stored[seq].Store(true)
		case dice < 99:
			c.Delete(k)
		default:
			clock.Advance(time.Millisecond)
		}
		return true
	})
	c.Clear()
	for seq := range reports {
		want := int32(0)
		if stored[seq].Load() {
			want = 1
		}
		if n := reports[seq].Load(); n != want {
			t.Fatalf("value %d (stored: %v) reported removed %d times", seq, stored[seq].Load(), n)
		}
	}
}

// TestExpiryRacesOverwrite has readers find the entry of a key expired
// while a writer overwrites it in place, alternately with no deadline and
// with a short one, and a clock that keeps moving: a value must never be
// removed as expired if it has no deadline or before its deadline.
func TestExpiryRacesOverwrite(t *testing.T) {
	for _, p := range []Policy{TinyLFU, FIFO} {
		t.Run(p.String(), func(t *testing.T) {
			const sets, ttl = 100_000, time.Millisecond
			clock := newFakeClock()
			earliest := make([]atomic.Int64, sets) // the soonest a value may expire; 0: never
			var early atomic.Int64
			c, err := New(Options[string, int]{
				Capacity: 10, Policy: p, Clock: clock,
				OnRemove: func(_ string, v int, r Reason) {
					e := earliest[v].Load()
					if r == Expired && (e == 0 || clock.Now().UnixNano() < e) {
						early.Add(1)
					}
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			var done atomic.Bool
			var wg sync.WaitGroup
			for range 2 {
				wg.Go(func() {
					for !done.Load() {
						clock.Advance(ttl / 4)
						c.Get("k")
					}
				})
			}
			for v := range sets {
				if v%2 == 0 {
					c.Set("k", v)
					continue
				}
				earliest[v].Store(clock.Now().Add(ttl).UnixNano())
				c.SetWithTTL("k", v, ttl)
			}
			done.Store(true)
			wg.Wait()
			if n := early.Load(); n != 0 {
				t.Errorf("%d values removed as expired without a deadline or before it", n)
			}
		})
	}
}
