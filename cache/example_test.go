package cache_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gridkeep/gridkeep/cache"
)

func Example() {
	names, err := cache.New(cache.Options[string, string]{Capacity: 10_000})
	if err != nil {
		panic(err)
	}
	names.Set("8C5A1B2F", "photos")
	if name, ok := names.Get("8C5A1B2F"); ok {
		fmt.Println(name)
	}
	_, ok := names.Get("unknown")
	fmt.Println(ok)
	// Output:
	// photos
	// false
}

// The FIFO policy behaves like OpenIO's CacheDict; an OnRemove callback that
// closes evicted and cleared values plays the part of ClosingCacheDict.
func Example_cacheDict() {
	jobs, _ := cache.New(cache.Options[string, string]{
		Capacity: 2,
		Policy:   cache.FIFO,
		OnRemove: func(id, job string, r cache.Reason) {
			if r == cache.Evicted || r == cache.Cleared {
				fmt.Println("close", job, "("+r.String()+")")
			}
		},
	})
	jobs.Set("a", "job-a")
	jobs.Set("b", "job-b")
	jobs.Get("a")          // reads do not refresh
	jobs.Set("a", "job-a") // overwriting keeps the place
	jobs.Set("c", "job-c") // evicts the oldest insert: a
	jobs.Clear()           // closes the rest, oldest first
	// Output:
	// close job-a (evicted)
	// close job-b (cleared)
	// close job-c (cleared)
}

func ExampleCache_GetOrLoad() {
	flags, _ := cache.New(cache.Options[string, bool]{TTL: 30 * time.Second})
	lookup := func(ctx context.Context, bucket string) (bool, error) {
		fmt.Println("asking the account service about", bucket)
		return true, nil
	}
	for range 3 {
		enabled, err := flags.GetOrLoad(context.Background(), "photos", lookup)
		fmt.Println(enabled, err)
	}
	// Output:
	// asking the account service about photos
	// true <nil>
	// true <nil>
	// true <nil>
}

// manualClock is a Clock for the example below.
type manualClock struct{ now time.Time }

func (c *manualClock) Now() time.Time { return c.now }

func ExampleCache_SetWithTTL() {
	clock := &manualClock{now: time.Unix(0, 0)}
	c, _ := cache.New(cache.Options[string, int]{Clock: clock})
	c.SetWithTTL("session", 1, time.Minute)
	clock.now = clock.now.Add(59 * time.Second)
	_, ok := c.Get("session")
	fmt.Println(ok)
	clock.now = clock.now.Add(time.Second)
	_, ok = c.Get("session")
	fmt.Println(ok)
	// Output:
	// true
	// false
}

func ExampleCache_Stats() {
	c, _ := cache.New(cache.Options[int, int]{Capacity: 2, RecordStats: true})
	for i := range 3 {
		c.Set(i, i)
	}
	c.Get(2)
	c.Get(7)
	s := c.Stats()
	fmt.Println(s.Hits, s.Misses, s.Evictions, c.Len(), c.Capacity())
	// Output: 1 1 1 2 2
}
