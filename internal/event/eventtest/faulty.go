package eventtest

import (
	"context"
	"errors"
	"sync"

	"github.com/gridkeep/gridkeep/internal/event"
)

// ErrInjected is the error of a publication FaultyBus made fail.
var ErrInjected = errors.New("eventtest: injected bus failure")

// FaultyBus wraps a real bus and makes its publications fail on demand,
// to play an outage of the bus. Consuming and closing go to the real bus.
type FaultyBus struct {
	event.Bus

	mu        sync.Mutex
	failNext  int
	down      bool
	attempts  int
	published int
	afterEach func(n int) // called after publication n succeeded
}

// NewFaultyBus wraps b.
func NewFaultyBus(b event.Bus) *FaultyBus { return &FaultyBus{Bus: b} }

// FailNext makes the next n publications fail.
func (f *FaultyBus) FailNext(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext = n
}

// SetDown makes every publication fail while down is true.
func (f *FaultyBus) SetDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// AfterPublish sets a function called with the count of successful
// publications after each one.
func (f *FaultyBus) AfterPublish(fn func(n int)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.afterEach = fn
}

// Attempts returns the number of calls to Publish so far.
func (f *FaultyBus) Attempts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts
}

// Publish fails with ErrInjected when told to, else publishes on the real
// bus.
func (f *FaultyBus) Publish(ctx context.Context, ev event.Event) error {
	f.mu.Lock()
	f.attempts++
	fail := f.down || f.failNext > 0
	if f.failNext > 0 {
		f.failNext--
	}
	f.mu.Unlock()
	if fail {
		return ErrInjected
	}
	if err := f.Bus.Publish(ctx, ev); err != nil {
		return err
	}
	f.mu.Lock()
	f.published++
	n, fn := f.published, f.afterEach
	f.mu.Unlock()
	if fn != nil {
		fn(n)
	}
	return nil
}
