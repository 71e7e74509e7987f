package event

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// ErrBacklogFull is returned by AsyncPublisher.Publish when its backlog
// holds Capacity events already and no room came in time (see
// AsyncOptions.FullWait): the event is dropped and counted.
var ErrBacklogFull = errors.New("event: publish backlog full")

// AsyncOptions tune an AsyncPublisher. The zero value works.
type AsyncOptions struct {
	// Capacity is the number of events the backlog holds; zero means
	// 10000. Each event takes about a kilobyte.
	Capacity int
	// Backoff spaces out the attempts to publish an event the bus refused.
	Backoff Backoff
	// Timeout bounds one attempt to publish; zero means ten seconds.
	Timeout time.Duration
	// FullWait bounds how long Publish waits for room in a full backlog
	// while the bus is taking events (the events at the head of the
	// backlog moved within busMoving): a burst slows its senders down
	// instead of losing events. A bus that holds the head up is down, and
	// Publish drops at once. Zero means five seconds; a negative value, no
	// wait.
	FullWait time.Duration
	// Logger receives failures; nil discards them.
	Logger *slog.Logger
}

// AsyncStats counts what an AsyncPublisher did with its events.
type AsyncStats struct {
	Published uint64 // events the bus accepted
	Retried   uint64 // failed attempts that were retried
	Dropped   uint64 // events refused by a full backlog or lost at Close
	Pending   int    // events in the backlog or being published
}

// AsyncPublisher is the Publisher of services that cannot wait for the bus,
// such as chunk servers: Publish queues the event in a bounded in-memory
// backlog and returns at once (a full backlog makes it wait while the bus
// is taking events: see AsyncOptions.FullWait), and a goroutine publishes
// the backlog to the bus in order, several events at a time when the bus
// can, retrying from the first event the bus refused until it takes them
// all.
//
// The backlog lives in memory: events queued but not yet published are lost
// if the process dies. Services whose events must survive a crash write
// them to an outbox instead (see Relay).
type AsyncPublisher struct {
	bus  Bus
	opts AsyncOptions
	log  *slog.Logger

	mu      sync.RWMutex // guards closed and sends on queue
	closed  bool
	queue   chan Event
	abort   chan struct{} // closed when Close gives up flushing
	stopped chan struct{} // closed when the goroutine returns

	published, retried, dropped atomic.Uint64
	inFlight                    atomic.Int64
	// lastMoved is when the events at the head of the backlog last moved,
	// in Unix nanoseconds: taken from it as a batch, or by the bus.
	lastMoved atomic.Int64
}

// busMoving is how recently the events at the head of the backlog must
// have moved for Publish to wait for room in a full backlog.
const busMoving = time.Second

// NewAsyncPublisher returns a publisher to bus and starts its goroutine.
// Close it to stop the goroutine; the bus stays open.
func NewAsyncPublisher(bus Bus, opts AsyncOptions) *AsyncPublisher {
	if opts.Capacity <= 0 {
		opts.Capacity = 10000
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.FullWait == 0 {
		opts.FullWait = 5 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &AsyncPublisher{bus: bus, opts: opts, log: log,
		queue: make(chan Event, opts.Capacity),
		abort: make(chan struct{}), stopped: make(chan struct{})}
	p.lastMoved.Store(time.Now().UnixNano()) // a new publisher is not held up
	go p.run()
	return p
}

// Publish queues ev and returns without waiting for the bus, unless the
// backlog is full: then it waits for room while the bus is taking events,
// up to AsyncOptions.FullWait. It returns ErrBacklogFull when no room came,
// ErrClosed after Close, or an error when ev.Type is not valid; in all
// these cases ev is not published and the caller may count or log it. A
// nil error does not mean the event is durable yet.
func (p *AsyncPublisher) Publish(ev Event) error {
	if err := CheckType(ev.Type); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	p.mu.RLock()
	defer p.mu.RUnlock() // Close waits for the senders waiting for room
	if p.closed {
		return ErrClosed
	}
	select {
	case p.queue <- ev:
		return nil
	default:
	}
	if p.opts.FullWait > 0 && time.Since(time.Unix(0, p.lastMoved.Load())) < busMoving {
		t := time.NewTimer(p.opts.FullWait)
		defer t.Stop()
		select {
		case p.queue <- ev:
			return nil
		case <-t.C:
		}
	}
	p.dropped.Add(1)
	return ErrBacklogFull
}

// Stats returns the counters so far; they only grow, except Pending.
func (p *AsyncPublisher) Stats() AsyncStats {
	return AsyncStats{
		Published: p.published.Load(),
		Retried:   p.retried.Load(),
		Dropped:   p.dropped.Load(),
		Pending:   len(p.queue) + int(p.inFlight.Load()),
	}
}

// Close stops accepting events and waits until the backlog is published or
// ctx is done. In the latter case the events left are dropped, counted, and
// Close returns an error saying how many.
func (p *AsyncPublisher) Close(ctx context.Context) error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.queue)
	}
	p.mu.Unlock()

	select {
	case <-p.stopped:
		return nil
	case <-ctx.Done():
	}
	before := p.dropped.Load()
	p.abortOnce()
	<-p.stopped
	return fmt.Errorf("close publisher: %d events dropped: %w", p.dropped.Load()-before, ctx.Err())
}

// abortOnce closes p.abort if no one did.
func (p *AsyncPublisher) abortOnce() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.abort:
	default:
		close(p.abort)
	}
}

// asyncBatch bounds the events an AsyncPublisher publishes at a time.
const asyncBatch = 256

// run publishes the backlog until it is closed and empty, taking at a time
// the events queued. Once Close gives up, every attempt fails at once and
// the events left count as dropped.
func (p *AsyncPublisher) run() {
	defer close(p.stopped)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-p.abort:
			cancel()
		case <-ctx.Done():
		}
	}()
	batch := make([]Event, 0, asyncBatch)
	for ev := range p.queue {
		p.lastMoved.Store(time.Now().UnixNano())
		batch = p.takeQueued(append(batch[:0], ev))
		p.inFlight.Add(int64(len(batch)))
		p.deliver(ctx, batch)
	}
}

// takeQueued appends to batch the events queued now, without waiting, up
// to asyncBatch in all.
func (p *AsyncPublisher) takeQueued(batch []Event) []Event {
	for len(batch) < asyncBatch {
		select {
		case ev, ok := <-p.queue:
			if !ok {
				return batch
			}
			batch = append(batch, ev)
		default:
			return batch
		}
	}
	return batch
}

// deliver publishes evs, retrying from the first event the bus refused,
// until all are published or ctx ends, when those left count as dropped.
func (p *AsyncPublisher) deliver(ctx context.Context, evs []Event) {
	defer func() {
		p.dropped.Add(uint64(len(evs)))
		p.inFlight.Add(-int64(len(evs)))
	}()
	for attempt := 1; ; attempt++ {
		n, err := p.publishOnce(ctx, evs)
		if n > 0 {
			p.lastMoved.Store(time.Now().UnixNano())
		}
		p.published.Add(uint64(n))
		p.inFlight.Add(-int64(n))
		evs = evs[n:]
		if err == nil || ctx.Err() != nil {
			return
		}
		if n > 0 {
			attempt = 1
		}
		p.retried.Add(1)
		wait := p.opts.Backoff.Delay(attempt)
		p.log.Warn("publish event failed", "event_type", evs[0].Type, "attempt", attempt,
			"retry_in", wait, "error", err)
		if !Sleep(ctx, wait) {
			return
		}
	}
}

// publishOnce makes one attempt at publishing evs, bounded by the
// publisher's timeout, and returns how many, from the first, the bus took.
func (p *AsyncPublisher) publishOnce(ctx context.Context, evs []Event) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	return PublishAll(ctx, p.bus, evs)
}

// Sleep waits for d and reports whether ctx was still live at the end: the
// pause of the retry loops of publishers and consumers.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
