package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// loads tracks the loader calls in flight and, if asked, recent errors.
type loads[K comparable, V any] struct {
	mu      sync.Mutex
	flights map[K]*flight[V]
	errs    map[K]failure
	errTTL  time.Duration
}

type flight[V any] struct {
	done    chan struct{}
	val     V
	err     error
	waiters atomic.Int32
}

type failure struct {
	err error
	exp int64
}

// GetOrLoad returns the value stored under key. On a miss it calls load
// once, stores the value it returns and hands it to every caller that asked
// for the key meanwhile; those callers wait for it, or for their own ctx to
// end. The loader receives the context of the caller that started it; if it
// fails because that context ended, the waiters whose own context is live
// start a load of their own. An error from load is returned, with the zero
// value, and not stored, unless Options.ErrorTTL says to remember it. A
// loader that panics makes its caller panic, and one that ends its goroutine
// (runtime.Goexit) ends its caller's; their waiters get an error. The value
// loaded is stored when the loader returns, over any Set or Delete of the
// key made while it ran.
func (c *Cache[K, V]) GetOrLoad(ctx context.Context, key K,
	load func(ctx context.Context, key K) (V, error)) (V, error) {
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
// load it waited for failed only because its starter's context ended.
func (c *Cache[K, V]) loadOnce(ctx context.Context, key K,
	load func(context.Context, K) (V, error)) (v V, err error, retry bool) {
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
	if e, ok := l.errs[key]; ok {
		if e.exp > c.now() {
			l.mu.Unlock()
			return v, e.err, false
		}
		delete(l.errs, key)
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

func (c *Cache[K, V]) wait(ctx context.Context, f *flight[V]) (v V, err error, retry bool) {
	f.waiters.Add(1)
	defer f.waiters.Add(-1)
	select {
	case <-f.done:
	case <-ctx.Done():
		return v, ctx.Err(), false
	}
	if isContextErr(f.err) && ctx.Err() == nil {
		return v, nil, true
	}
	v, err = f.result()
	return v, err, false
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// errLoaderPanicked and errLoaderExited are what waiters get when the
// loader they waited for panicked or ended its goroutine.
var (
	errLoaderPanicked = errors.New("cache: loader panicked")
	errLoaderExited   = errors.New("cache: loader ended its goroutine without returning")
)

// run calls load for f, publishes the outcome and releases the waiters. The
// value is stored before the flight ends, so a caller arriving later finds
// it instead of loading again.
func (c *Cache[K, V]) run(ctx context.Context, key K,
	load func(context.Context, K) (V, error), f *flight[V]) {
	start := time.Now()
	returned := false
	defer func() {
		c.stats.loadNanos.Add(int64(time.Since(start)))
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
	f.val, f.err = load(ctx, key)
	returned = true
}

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
	if f.err != nil && l.errTTL > 0 && !isContextErr(f.err) {
		c.rememberLocked(key, f.err)
	}
	l.mu.Unlock()
	close(f.done)
}

// forget drops the error remembered for key, if any.
func (l *loads[K, V]) forget(key K) {
	if l.errTTL == 0 {
		return
	}
	l.mu.Lock()
	delete(l.errs, key)
	l.mu.Unlock()
}

// forgetAll drops every remembered error.
func (l *loads[K, V]) forgetAll() {
	if l.errTTL == 0 {
		return
	}
	l.mu.Lock()
	clear(l.errs)
	l.mu.Unlock()
}

// rememberLocked stores a load error, keeping at most Capacity of them.
func (c *Cache[K, V]) rememberLocked(key K, err error) {
	l := &c.loads
	if l.errs == nil {
		l.errs = make(map[K]failure)
	}
	if len(l.errs) >= max(c.capacity, 1) {
		now := c.now()
		for k, e := range l.errs {
			if e.exp <= now {
				delete(l.errs, k)
			}
		}
		if len(l.errs) >= max(c.capacity, 1) {
			clear(l.errs)
		}
	}
	l.errs[key] = failure{err: err, exp: deadline(c.now(), l.errTTL)}
}
