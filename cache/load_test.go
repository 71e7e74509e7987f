package cache

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestGetOrLoadSingleFlight(t *testing.T) {
	c := mustNew(t, Options[string, int]{Capacity: 10})
	var calls atomic.Int32
	release := make(chan struct{})
	started := make(chan struct{})
	load := func(ctx context.Context, k string) (int, error) {
		if calls.Add(1) == 1 {
			close(started)
		}
		<-release
		return 42, nil
	}

	const callers = 20
	results := make([]int, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	wg.Go(func() { results[0], errs[0] = c.GetOrLoad(context.Background(), "k", load) })
	<-started
	for i := 1; i < callers; i++ {
		wg.Go(func() { results[i], errs[i] = c.GetOrLoad(context.Background(), "k", load) })
	}
	waitFor(t, func() bool { return waiters(c, "k") == callers-1 })
	close(release)
	wg.Wait()

	if n := calls.Load(); n != 1 {
		t.Errorf("loader ran %d times, want 1", n)
	}
	for i := range callers {
		if results[i] != 42 || errs[i] != nil {
			t.Errorf("caller %d got %d, %v", i, results[i], errs[i])
		}
	}
	wantGet(t, c, "k", 42, true)
	if s := c.Stats(); s.Loads != 1 {
		t.Errorf("Stats().Loads = %d, want 1", s.Loads)
	}
}

// waiters counts the callers blocked on the load of key.
func waiters(c *Cache[string, int], key string) int {
	c.loads.mu.Lock()
	defer c.loads.mu.Unlock()
	if f, ok := c.loads.flights[key]; ok {
		return int(f.waiters.Load())
	}
	return 0
}

// waitFor polls cond until it holds; it never asserts on time.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		time.Sleep(time.Millisecond)
	}
}

func TestGetOrLoadErrorsNotCached(t *testing.T) {
	c := mustNew(t, Options[string, int]{Capacity: 10})
	boom := errors.New("boom")
	calls := 0
	load := func(context.Context, string) (int, error) {
		calls++
		return 0, boom
	}
	for range 3 {
		if _, err := c.GetOrLoad(context.Background(), "k", load); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
	}
	if calls != 3 {
		t.Errorf("loader ran %d times, want 3", calls)
	}
	if c.Len() != 0 {
		t.Errorf("Len() = %d, want 0", c.Len())
	}
	if s := c.Stats(); s.LoadErrors != 3 {
		t.Errorf("LoadErrors = %d, want 3", s.LoadErrors)
	}
}

func TestGetOrLoadErrorTTL(t *testing.T) {
	clock := newFakeClock()
	c := mustNew(t, Options[string, int]{Capacity: 10, ErrorTTL: time.Second, Clock: clock})
	load, calls, boom := failsOnce()
	for range 2 {
		if _, err := c.GetOrLoad(context.Background(), "k", load); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
	}
	if *calls != 1 {
		t.Fatalf("loader ran %d times while its error was remembered", *calls)
	}
	clock.Advance(time.Second)
	if v, err := c.GetOrLoad(context.Background(), "k", load); v != 7 || err != nil {
		t.Errorf("after ErrorTTL got %d, %v; want 7, nil", v, err)
	}
}

// TestErrorMemoryForgetsOldestFirst fills the error memory of a cache of 8
// entries, one failing key a second, then fails one key more: the two
// oldest errors are forgotten, a quarter of the room, and the others kept.
func TestErrorMemoryForgetsOldestFirst(t *testing.T) {
	clock := newFakeClock()
	c := mustNew(t, Options[string, int]{Capacity: 8, ErrorTTL: time.Hour, Clock: clock})
	boom := errors.New("boom")
	fail := func(context.Context, string) (int, error) { return 0, boom }
	for i := range 9 {
		if _, err := c.GetOrLoad(context.Background(), strconv.Itoa(i), fail); !errors.Is(err, boom) {
			t.Fatalf("key %d: err = %v, want boom", i, err)
		}
		clock.Advance(time.Second)
	}
	var remembered []int
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 9 {
		loaded := false
		c.GetOrLoad(ended, strconv.Itoa(i), func(ctx context.Context, _ string) (int, error) {
			loaded = true
			return 0, ctx.Err() // its caller's context ended: not remembered, not stored
		})
		if !loaded {
			remembered = append(remembered, i)
		}
	}
	if want := []int{2, 3, 4, 5, 6, 7, 8}; !slices.Equal(remembered, want) {
		t.Errorf("errors remembered for keys %v, want %v", remembered, want)
	}
}

func TestGetOrLoadWaiterContext(t *testing.T) {
	c := mustNew(t, Options[string, int]{Capacity: 10})
	release := make(chan struct{})
	started := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.GetOrLoad(context.Background(), "k", func(context.Context, string) (int, error) {
			close(started)
			<-release
			return 1, nil
		})
	}()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.GetOrLoad(ctx, "k", func(context.Context, string) (int, error) {
		t.Error("the waiter called its loader")
		return 2, nil
	}); !errors.Is(err, context.Canceled) {
		t.Errorf("waiter err = %v, want context.Canceled", err)
	}
	close(release)
	<-done
}

// TestGetOrLoadStarterCanceled checks that a waiter whose own context is
// alive loads again when the load it joined failed from its starter's
// cancellation.
func TestGetOrLoadStarterCanceled(t *testing.T) {
	c := mustNew(t, Options[string, int]{Capacity: 10})
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		c.GetOrLoad(ctx, "k", func(ctx context.Context, _ string) (int, error) {
			close(started)
			<-ctx.Done()
			return 0, ctx.Err()
		})
	})
	<-started
	var v int
	var err error
	wg.Go(func() {
		v, err = c.GetOrLoad(context.Background(), "k", func(context.Context, string) (int, error) {
			return 5, nil
		})
	})
	waitFor(t, func() bool { return waiters(c, "k") == 1 })
	cancel()
	wg.Wait()
	if v != 5 || err != nil {
		t.Errorf("waiter got %d, %v; want 5, nil", v, err)
	}
}

// TestGetOrLoadPanic checks that a loader's panic reaches its caller, is
// counted as a failed load, and leaves the key loadable, even with
// ErrorTTL: a panic is not remembered as an answer about the key.
func TestGetOrLoadPanic(t *testing.T) {
	c := mustNew(t, Options[string, int]{Capacity: 10, ErrorTTL: time.Hour})
	defer func() {
		if r := recover(); r != "kaboom" {
			t.Errorf("recovered %v, want kaboom", r)
		}
		if s := c.Stats(); s.Loads != 0 || s.LoadErrors != 1 {
			t.Errorf("after the panic, Loads, LoadErrors = %d, %d; want 0, 1", s.Loads, s.LoadErrors)
		}
		if _, err := c.GetOrLoad(context.Background(), "k", func(context.Context, string) (int, error) {
			return 3, nil
		}); err != nil {
			t.Errorf("load after panic: %v", err)
		}
	}()
	c.GetOrLoad(context.Background(), "k", func(context.Context, string) (int, error) {
		panic("kaboom")
	})
}

// TestGetOrLoadNilLoader checks that a nil loader panics with a message
// naming the call, whether the key is present or not.
func TestGetOrLoadNilLoader(t *testing.T) {
	c := mustNew(t, Options[string, int]{Capacity: 10})
	c.Set("present", 1)
	const want = "cache: GetOrLoad called with a nil loader"
	for _, key := range []string{"missing", "present"} {
		func() {
			defer func() {
				if r := recover(); r != want {
					t.Errorf("GetOrLoad(%q, nil) panicked with %v, want %q", key, r, want)
				}
			}()
			c.GetOrLoad(context.Background(), key, nil)
		}()
	}
}

// TestGetOrLoadOwnKey checks that a loader asking, with its context, for
// the key it loads, directly or through the load of another key, gets an
// error instead of waiting for itself.
func TestGetOrLoadOwnKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		next map[string]string // the key each loader asks for
	}{
		{"directly", map[string]string{"a": "a"}},
		{"through another key", map[string]string{"a": "b", "b": "a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustNew(t, Options[string, int]{Capacity: 10})
			var load func(ctx context.Context, key string) (int, error)
			load = func(ctx context.Context, key string) (int, error) {
				return c.GetOrLoad(ctx, tc.next[key], load)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := c.GetOrLoad(ctx, "a", load)
				done <- err
			}()
			var err error
			waitFor(t, func() bool {
				select {
				case err = <-done:
					return true
				default:
					return waiters(c, "a") > 0
				}
			})
			if waiters(c, "a") > 0 {
				t.Error("the load of a waits for itself")
				cancel()
				err = <-done
			}
			if !errors.Is(err, errLoadCycle) {
				t.Errorf("err = %v, want %v", err, errLoadCycle)
			}
		})
	}
}

// TestGetOrLoadErrorZeroValue checks that an error comes with the zero
// value, whatever the loader returned with it, for its caller and waiters.
func TestGetOrLoadErrorZeroValue(t *testing.T) {
	c := mustNew(t, Options[string, int]{Capacity: 10})
	boom := errors.New("boom")
	release := make(chan struct{})
	load := func(context.Context, string) (int, error) {
		<-release
		return 5, boom
	}
	var wg sync.WaitGroup
	var waiter int
	var waiterErr error
	wg.Go(func() { waiter, waiterErr = c.GetOrLoad(context.Background(), "k", load) })
	waitFor(t, func() bool { return loading(c, "k") })
	wg.Go(func() {
		waitFor(t, func() bool { return waiters(c, "k") == 1 })
		close(release)
	})
	v, err := c.GetOrLoad(context.Background(), "k", load)
	wg.Wait()
	if v != 0 || !errors.Is(err, boom) || waiter != 0 || !errors.Is(waiterErr, boom) {
		t.Errorf("got %d, %v and %d, %v; want 0, boom twice", v, err, waiter, waiterErr)
	}
}

// loading reports whether a load of key is running.
func loading(c *Cache[string, int], key string) bool {
	c.loads.mu.Lock()
	defer c.loads.mu.Unlock()
	_, ok := c.loads.flights[key]
	return ok
}

// TestGetOrLoadGoexit checks that a loader that ends its goroutine, as
// t.FailNow does, stores nothing and gives its waiters an error, which
// ErrorTTL does not remember.
func TestGetOrLoadGoexit(t *testing.T) {
	c := mustNew(t, Options[string, int]{Capacity: 10, ErrorTTL: time.Hour})
	release := make(chan struct{})
	load := func(context.Context, string) (int, error) {
		<-release
		runtime.Goexit()
		return 1, nil
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		c.GetOrLoad(context.Background(), "k", load)
		t.Error("GetOrLoad returned to a caller whose loader ended its goroutine")
	})
	waitFor(t, func() bool { return loading(c, "k") })
	var v int
	var err error
	wg.Go(func() { v, err = c.GetOrLoad(context.Background(), "k", load) })
	waitFor(t, func() bool { return waiters(c, "k") == 1 })
	close(release)
	wg.Wait()
	if v != 0 || !errors.Is(err, errLoaderExited) {
		t.Errorf("waiter got %d, %v; want 0, %v", v, err, errLoaderExited)
	}
	wantGet(t, c, "k", 0, false)
	if s := c.Stats(); s.Loads != 0 || s.LoadErrors != 1 {
		t.Errorf("Loads, LoadErrors = %d, %d; want 0, 1", s.Loads, s.LoadErrors)
	}
	if v, err := c.GetOrLoad(context.Background(), "k", func(context.Context, string) (int, error) {
		return 3, nil
	}); v != 3 || err != nil {
		t.Errorf("load after the Goexit: %d, %v; want 3, nil", v, err)
	}
}

// TestInvalidationForgetsErrors checks that Delete and Clear forget the
// load errors remembered with ErrorTTL.
func TestInvalidationForgetsErrors(t *testing.T) {
	for _, name := range []string{"Delete", "Clear"} {
		c := mustNew(t, Options[string, int]{Capacity: 10, ErrorTTL: time.Hour})
		load, _, boom := failsOnce()
		if _, err := c.GetOrLoad(context.Background(), "k", load); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
		if name == "Delete" {
			c.Delete("k")
		} else {
			c.Clear()
		}
		if v, err := c.GetOrLoad(context.Background(), "k", load); v != 7 || err != nil {
			t.Errorf("after %s: got %d, %v; want 7, nil", name, v, err)
		}
	}
}

// TestStoreForgetsError checks that storing a value under a key forgets the
// load error remembered for it, so that the error does not come back once
// the value has left.
func TestStoreForgetsError(t *testing.T) {
	evict := func(c *Cache[string, int], _ *fakeClock) {
		for i := range 2 * c.Capacity() {
			c.Set("other-"+strconv.Itoa(i), i)
		}
	}
	expire := func(_ *Cache[string, int], clock *fakeClock) { clock.Advance(time.Second) }
	set := func(c *Cache[string, int]) { c.Set("k", 42) }
	setTTL := func(c *Cache[string, int]) { c.SetWithTTL("k", 42, time.Second) }
	for _, tc := range []struct {
		name  string
		o     Options[string, int]
		store func(c *Cache[string, int])
		leave func(c *Cache[string, int], clock *fakeClock)
	}{
		{"Set, evicted", Options[string, int]{Capacity: 4, Policy: FIFO}, set, evict},
		{"SetWithTTL, evicted", Options[string, int]{Capacity: 4, Policy: FIFO}, setTTL, evict},
		{"SetWithTTL, expired", Options[string, int]{Capacity: 4, Policy: FIFO}, setTTL, expire},
		{"Set with TTL, expired", Options[string, int]{Capacity: 4, TTL: time.Second}, set, expire},
		{"sharded, SetWithTTL, expired", Options[string, int]{Capacity: 1 << 14}, setTTL, expire},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			tc.o.ErrorTTL, tc.o.Clock = time.Minute, clock
			c := mustNew(t, tc.o)
			load, calls, boom := failsOnce()
			if _, err := c.GetOrLoad(context.Background(), "k", load); !errors.Is(err, boom) {
				t.Fatalf("err = %v, want boom", err)
			}
			tc.store(c)
			if v, err := c.GetOrLoad(context.Background(), "k", load); v != 42 || err != nil {
				t.Fatalf("after the store: got %d, %v; want 42, nil", v, err)
			}
			tc.leave(c, clock)
			if v, err := c.GetOrLoad(context.Background(), "k", load); v != 7 || err != nil || *calls != 2 {
				t.Errorf("after the value left: got %d, %v from %d loader calls; want 7, nil from 2",
					v, err, *calls)
			}
		})
	}
}

// TestErrorNotRememberedOverValue checks that a load error is not remembered
// when a value was stored under the key while the loader ran: the error
// would come back once that value left.
func TestErrorNotRememberedOverValue(t *testing.T) {
	c := mustNew(t, Options[string, int]{Capacity: 4, Policy: FIFO, ErrorTTL: time.Minute})
	boom := errors.New("boom")
	_, err := c.GetOrLoad(context.Background(), "k", func(context.Context, string) (int, error) {
		c.Set("k", 42)
		return 0, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	wantGet(t, c, "k", 42, true)
	c.Set("a", 1)
	c.Set("b", 2)
	c.Set("c", 3)
	c.Set("d", 4)
	wantGet(t, c, "k", 0, false)
	if v, err := c.GetOrLoad(context.Background(), "k", func(context.Context, string) (int, error) {
		return 7, nil
	}); v != 7 || err != nil {
		t.Errorf("after the value left: got %d, %v; want 7, nil", v, err)
	}
}

// failsOnce returns a loader that fails with the error it also returns on
// its first call and loads 7 after, and the count of its calls.
func failsOnce() (func(context.Context, string) (int, error), *int, error) {
	boom := errors.New("boom")
	calls := new(int)
	return func(context.Context, string) (int, error) {
		*calls++
		if *calls == 1 {
			return 0, boom
		}
		return 7, nil
	}, calls, boom
}

// TestConcurrentErrorTTL runs loads that often fail, sets, deletes and
// clears of a few keys from several goroutines, then checks that a Set of
// each key forgets whatever error the mix left remembered for it.
func TestConcurrentErrorTTL(t *testing.T) {
	const keys = 16
	c := mustNew(t, Options[string, int]{Capacity: 8, Policy: FIFO, ErrorTTL: time.Hour})
	boom := errors.New("boom")
	workers(4, 5000, func(_, _ int, x uint64) bool {
		key := strconv.Itoa(int(x>>33) % keys)
		switch dice := int(x>>50) % 100; {
		case dice < 60:
			c.GetOrLoad(context.Background(), key, func(context.Context, string) (int, error) {
				if dice%3 == 0 {
					return 1, nil
				}
				return 0, boom
			})
		case dice < 90:
			c.Set(key, 2)
		case dice < 99:
			c.Delete(key)
		default:
			c.Clear()
		}
		return true
	})

	for k := range keys {
		c.Set(strconv.Itoa(k), 3)
	}
	for i := range 2 * c.Capacity() {
		c.Set("other-"+strconv.Itoa(i), i)
	}
	load := func(context.Context, string) (int, error) { return 4, nil }
	for k := range keys {
		if v, err := c.GetOrLoad(context.Background(), strconv.Itoa(k), load); v != 4 || err != nil {
			t.Errorf("key %d: got %d, %v; want 4, nil", k, v, err)
		}
	}
}

// A loader's own timeout, returned while its caller's context is live, is
// the answer of every caller waiting for it: it is not mistaken for the end
// of the caller's context. Like any error wrapping a context's end, it is
// not remembered.
func TestLoaderTimeoutAnswersEveryWaiter(t *testing.T) {
	c := mustNew(t, Options[string, int]{Capacity: 10, ErrorTTL: time.Hour})
	var calls atomic.Int32
	release := make(chan struct{})
	load := func(context.Context, string) (int, error) {
		calls.Add(1)
		<-release
		return 0, fmt.Errorf("backend: %w", context.DeadlineExceeded)
	}
	const callers = 8
	errs := make(chan error, callers)
	for range callers {
		go func() {
			_, err := c.GetOrLoad(context.Background(), "k", load)
			errs <- err
		}()
	}
	waitFor(t, func() bool { return waiters(c, "k") == callers-1 })
	close(release)
	for range callers {
		if err := <-errs; !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want the loader's timeout", err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("the loader ran %d times for %d callers, want once", n, callers)
	}
	if v, err := c.GetOrLoad(context.Background(), "k", func(context.Context, string) (int, error) {
		return 7, nil
	}); v != 7 || err != nil {
		t.Errorf("after: %d, %v; want a new load: a timeout is not remembered", v, err)
	}
}

// When the caller that started a load is cancelled, the waiters whose
// context is live load again, whatever error the loader returned.
func TestWaitersLoadAgainWhenStarterEnds(t *testing.T) {
	c := mustNew(t, Options[string, int]{Capacity: 10})
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	var calls atomic.Int32
	first := make(chan error, 1)
	go func() {
		_, err := c.GetOrLoad(ctx, "k", func(context.Context, string) (int, error) {
			calls.Add(1)
			<-release
			return 0, errors.New("connection closed")
		})
		first <- err
	}()
	waitFor(t, func() bool { return loading(c, "k") })
	waiter := make(chan int, 1)
	go func() {
		v, _ := c.GetOrLoad(context.Background(), "k", func(context.Context, string) (int, error) {
			calls.Add(1)
			return 42, nil
		})
		waiter <- v
	}()
	waitFor(t, func() bool { return waiters(c, "k") == 1 })
	cancel()
	close(release)
	if err := <-first; err == nil || err.Error() != "connection closed" {
		t.Errorf("the starter got %v, want its loader's error", err)
	}
	if v := <-waiter; v != 42 || calls.Load() != 2 {
		t.Errorf("the waiter got %d after %d loads, want 42 after 2", v, calls.Load())
	}
}

// Keys unequal to themselves (NaN) are never found again, as in a Go map:
// their loads leave nothing behind, in flight or remembered.
func TestNaNKeyLoadsLeaveNothing(t *testing.T) {
	c, err := New(Options[float64, int]{Capacity: 16, ErrorTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	for i := range 1000 {
		c.GetOrLoad(context.Background(), math.NaN(), func(context.Context, float64) (int, error) {
			calls++
			if i%2 == 0 {
				return 0, errors.New("boom")
			}
			return i, nil
		})
	}
	remembered := 0
	for i := range c.shards {
		remembered += len(c.shards[i].errs)
	}
	if calls != 1000 || len(c.loads.flights) != 0 || remembered != 0 || c.Len() > 16 {
		t.Errorf("%d loads, %d flights, %d errors remembered, %d entries; want 1000, 0, 0 and at most 16",
			calls, len(c.loads.flights), remembered, c.Len())
	}
}
