package cache

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// item records the key it was stored under and, once the Set that stored
// it has returned, a time by which it must have expired (0 for never).
type item struct {
	key      int
	deadline atomic.Int64
}

// TestConcurrentStress runs every operation from several goroutines on a
// small cache and checks, throughout, that values belong to their key, that
// no expired value is read, and that the size bound holds; at the end it
// checks that every entry stored is either still there or was reported
// removed.
func TestConcurrentStress(t *testing.T) {
	for _, p := range []Policy{TinyLFU, FIFO} {
		t.Run(p.String(), func(t *testing.T) { stress(t, p) })
	}
}

func stress(t *testing.T, p Policy) {
	const capacity, keys, goroutines, ops = 64, 200, 4, 20000
	clock := newFakeClock()
	var removed, replaced atomic.Int64
	c, err := New(Options[string, *item]{
		Capacity: capacity, Policy: p, Clock: clock,
		OnRemove: func(_ string, _ *item, r Reason) {
			if r == Replaced {
				replaced.Add(1)
			} else {
				removed.Add(1)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, keys)
	for i := range names {
		names[i] = strconv.Itoa(i)
	}

	var sets atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 2000 {
			clock.Advance(time.Millisecond)
			time.Sleep(10 * time.Microsecond)
		}
	})
	workers(goroutines, ops, func(w, i int, x uint64) bool {
		k := int(x>>33) % keys
		if err := stressOp(c, clock, names, k, int(x>>50)%100, &sets); err != "" {
			t.Errorf("worker %d op %d: %s", w, i, err)
			return false
		}
		if n := c.Len(); n > capacity {
			t.Errorf("Len() = %d > capacity", n)
			return false
		}
		return true
	})
	wg.Wait()

	stored := sets.Load() + int64(c.Stats().Loads)
	if got := stored - replaced.Load() - removed.Load(); got != int64(c.Len()) {
		t.Errorf("stored %d - replaced %d - removed %d = %d, but Len() = %d",
			stored, replaced.Load(), removed.Load(), got, c.Len())
	}
}

// stressOp performs one random operation and returns what went wrong.
func stressOp(c *Cache[string, *item], clock *fakeClock, names []string, k, dice int,
	sets *atomic.Int64) string {
	key := names[k]
	now := clock.Now()
	switch {
	case dice < 60:
		if v, ok := c.Get(key); ok {
			return checkItem(key, k, v, now)
		}
	case dice < 80:
		ttl := time.Duration(1+dice%10) * time.Millisecond
		it := &item{key: k}
		c.SetWithTTL(key, it, ttl)
		it.deadline.Store(clock.Now().Add(ttl).UnixNano())
		sets.Add(1)
	case dice < 85:
		c.Set(key, &item{key: k})
		sets.Add(1)
	case dice < 95:
		v, err := c.GetOrLoad(context.Background(), key, func(context.Context, string) (*item, error) {
			return &item{key: k}, nil
		})
		if err != nil {
			return "GetOrLoad: " + err.Error()
		}
		return checkItem(key, k, v, now)
	case dice < 99:
		c.Delete(key)
	default:
		c.Clear()
	}
	return ""
}

func checkItem(key string, k int, v *item, before time.Time) string {
	if v.key != k {
		return "Get(" + key + ") returned the value of key " + strconv.Itoa(v.key)
	}
	if d := v.deadline.Load(); d != 0 && before.UnixNano() >= d {
		return "Get(" + key + ") returned an expired value"
	}
	return ""
}
