package cache

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// loads tracks the loader calls in flight. The errors remembered for
// Options.ErrorTTL are kept by the shards (shard.errs), under the mutex that
// every store of a new entry holds already.
type loads[K comparable, V any] struct {
	mu      sync.Mutex
	flights map[K]*flight[V]
	errTTL  time.Duration
}

type flight[V any] struct {
	done    chan struct{}
	val     V
	err     error
	waiters atomic.Int32
	// cut is set when the context of the caller that started the load had
	// ended by the time the loader returned.
	cut bool
}

// failure is a load error remembered until exp, on the cache clock.
type failure struct {
	err error
	exp int64
}

// GetOrLoad returns the value stored under key. On a miss it calls load
// once, stores the value it returns and hands it to every caller that asked
// for the key meanwhile; those callers wait for it, or for their own ctx to
// end. The caller that started the load returns when the loader does, so a
// loader should give up when its context ends. The loader receives a
// context derived from that of the caller that started it; if it fails
// after that context ended, whatever its error, the waiters whose own
// context is live start a load of their own. An error returned while that
// context is live (a timeout of the loader's own included) is the answer of
// every waiter. An error from load is returned, with the zero value, and
// not stored, unless Options.ErrorTTL says to remember it. A loader that
// panics makes its caller panic, and one that ends its goroutine
// (runtime.Goexit) ends its caller's; their waiters get an error. The value
// loaded is stored when the loader returns, over any Set or Delete of the
// key made while it ran. A key unequal to itself (a NaN in it) is never
// found again, as in a Go map: each call for it loads on its own, and its
// errors are not remembered.
//
// A loader must not ask for its own key, directly or through the loader of
// another key: it would wait for itself. If it asks with the context it
// received, or one derived from it, GetOrLoad returns an error at once
// instead; with another context the call waits until that context ends,
// forever if it never does. A call for the key made with the loader's
// context while the loader runs gets that error even from a goroutine the
// loader does not wait for.
//
// GetOrLoad panics if load is nil, even when key is present, so that the
// mistake shows before the first miss.
func (c *Cache[K, V]) GetOrLoad(ctx context.Context, key K,
	load func(ctx context.Context, key K) (V, error)) (V, error) {
	if load == nil {
		panic("cache: GetOrLoad called with a nil loader")
	}
	if v, ok := c.Get(key); ok {
		return v, nil
	}
	for {
		v, err, retry := c.loadOnce(ctx, key, load)
		if !retry {
			return v, err
		}
	}
}

// loadOnce joins or starts the load of key. It asks for a retry when the
// load it waited for failed after its starter's context ended.
func (c *Cache[K, V]) loadOnce(ctx context.Context, key K,
	load func(context.Context, K) (V, error)) (v V, err error, retry bool) {
	if key != key {
		f := &flight[V]{done: make(chan struct{})}
		c.run(ctx, key, load, f)
		v, err = f.result()
		return v, err, false
	}
	l := &c.loads
	l.mu.Lock()
	if f, ok := l.flights[key]; ok {
		l.mu.Unlock()
		return c.wait(ctx, f)
	}
	if v, ok := c.peek(key); ok {
		l.mu.Unlock()
		return v, nil, false
	}
	if err := c.rememberedError(key); err != nil {
		l.mu.Unlock()
		return v, err, false
	}
	f := &flight[V]{done: make(chan struct{})}
	if l.flights == nil {
		l.flights = make(map[K]*flight[V])
	}
	l.flights[key] = f
	l.mu.Unlock()

	c.run(ctx, key, load, f)
	v, err = f.result()
	return v, err, false
}

// result returns the flight's value and error, the zero value with an
// error.
func (f *flight[V]) result() (V, error) {
	if f.err != nil {
		var zero V
		return zero, f.err
	}
	return f.val, nil
}

// wait waits for the end of f, or of ctx. It asks for a retry when f failed
// after its starter's context ended. A ctx that f's loader received,
// or one derived from it, says that the caller is the loader or a call it
// waits for: waiting would never end, and wait fails at once.
func (c *Cache[K, V]) wait(ctx context.Context, f *flight[V]) (v V, err error, retry bool) {
	if ctx.Value(f) != nil {
		return v, errLoadCycle, false
	}
	f.waiters.Add(1)
	defer f.waiters.Add(-1)
	select {
	case <-f.done:
	case <-ctx.Done():
		return v, ctx.Err(), false
	}
	if f.err != nil && f.cut && ctx.Err() == nil {
		return v, nil, true
	}
	v, err = f.result()
	return v, err, false
}

// remembered reports whether the failure of f is one Options.ErrorTTL
// remembers: an error the loader returned while its caller's context was
// live, not one that wraps a context's end (a timeout may not last), nor a
// panic or a Goexit, which are the loader's own faults.
func (f *flight[V]) remembered() bool {
	return !f.cut && !errors.Is(f.err, context.Canceled) && !errors.Is(f.err, context.DeadlineExceeded) &&
		!errors.Is(f.err, errLoaderPanicked) && !errors.Is(f.err, errLoaderExited)
}

// errLoaderPanicked and errLoaderExited are what waiters get when the
// loader they waited for panicked or ended its goroutine. errLoadCycle is
// what a loader gets when it asks, with its context, for a key whose load
// waits for it, its own or one whose loader called it.
var (
	errLoaderPanicked = errors.New("cache: loader panicked")
	errLoaderExited   = errors.New("cache: loader ended its goroutine without returning")
	errLoadCycle      = errors.New("cache: GetOrLoad called by the loader it would wait for")
)

// run calls load for f, publishes the outcome and releases the waiters. The
// value is stored before the flight ends, so a caller arriving later finds
// it instead of loading again. The loader's context carries f, under f
// itself as the key, for wait to recognize the loader's own calls; being
// distinct per load, the keys of nested loads all stay visible.
func (c *Cache[K, V]) run(ctx context.Context, key K,
	load func(context.Context, K) (V, error), f *flight[V]) {
	start := time.Now()
	returned := false
	defer func() {
		c.stats.loadNanos.Add(int64(time.Since(start)))
		f.cut = ctx.Err() != nil
		r := recover()
		switch {
		case r != nil:
			f.err = fmt.Errorf("%w: %v", errLoaderPanicked, r)
		case !returned:
			f.err = errLoaderExited
		}
		c.finish(key, f)
		if r != nil {
			panic(r)
		}
	}()
	f.val, f.err = load(context.WithValue(ctx, f, f), key)
	returned = true
}

// finish counts the outcome of f, stores its value or remembers its error,
// and ends the flight.
func (c *Cache[K, V]) finish(key K, f *flight[V]) {
	if f.err == nil {
		c.stats.loads.Add(1)
		c.Set(key, f.val)
	} else {
		c.stats.loadErrors.Add(1)
	}

	l := &c.loads
	l.mu.Lock()
	delete(l.flights, key)
	if f.err != nil && l.errTTL > 0 && f.remembered() && key == key {
		c.remember(key, f.err)
	}
	l.mu.Unlock()
	close(f.done)
}

// rememberedError returns the error of a failed load of key remembered for
// Options.ErrorTTL, or nil if there is none or it has expired.
func (c *Cache[K, V]) rememberedError(key K) error {
	if c.loads.errTTL == 0 {
		return nil
	}
	s, _ := c.locate(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.errs[key]
	if ok && e.exp <= c.now() {
		delete(s.errs, key)
		return nil
	}
	return e.err
}

// remember keeps err, from a failed load of key, for Options.ErrorTTL,
// unless the key has an entry, such as a value stored while the loader ran.
// An error is thus remembered only for a key without an entry; the store
// that links the key's next entry forgets it under the same mutex (see set),
// and stores in place need that entry. Hence any store made after the error
// was remembered forgets it.
func (c *Cache[K, V]) remember(key K, err error) {
	s, h := c.locate(key)
	s.mu.Lock()
	if s.table.find(key, h) == nil {
		c.rememberLocked(s, key, err)
	}
	s.mu.Unlock()
}

// rememberLocked stores a load error in s, keeping at most the shard's share
// of the capacity of them (see makeRoomLocked).
func (c *Cache[K, V]) rememberLocked(s *shard[K, V], key K, err error) {
	limit := max(c.capacity/len(c.shards), 1)
	if s.errs == nil {
		s.errs = make(map[K]failure)
	}
	now := c.now()
	if _, ok := s.errs[key]; !ok && len(s.errs) >= limit {
		makeRoomLocked(s.errs, now, limit)
	}
	s.errs[key] = failure{err: err, exp: deadline(now, c.loads.errTTL)}
}

// makeRoomLocked drops from errs, which holds limit errors, the expired ones
// and then the oldest, until a quarter of the room is free. The errors
// share one time to live, so the oldest have the earliest deadlines. As a
// call frees a quarter of the room, its sort costs O(log limit) per error
// remembered, on average.
func makeRoomLocked[K comparable](errs map[K]failure, now int64, limit int) {
	for k, e := range errs {
		if e.exp <= now {
			delete(errs, k)
		}
	}
	keep := limit - max(limit/4, 1)
	if len(errs) <= keep {
		return
	}
	type aged struct {
		key K
		exp int64
	}
	all := make([]aged, 0, len(errs))
	for k, e := range errs {
		all = append(all, aged{k, e.exp})
	}
	slices.SortFunc(all, func(a, b aged) int { return cmp.Compare(a.exp, b.exp) })
	for _, a := range all[:len(all)-keep] {
		delete(errs, a.key)
	}
}

// forgetErrorLocked drops the load error remembered for key, if any. When
// the shard remembers none, as in a cache without Options.ErrorTTL, it costs
// one length test.
func (s *shard[K, V]) forgetErrorLocked(key K) {
	if len(s.errs) != 0 {
		delete(s.errs, key)
	}
}
