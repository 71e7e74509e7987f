package event

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// OutboxRecord is an event waiting in an outbox, with the id the outbox
// gave it. Ids grow in the order the events were written.
type OutboxRecord struct {
	ID    int64
	Event Event
}

// Outbox is the table of events written in the same transaction as the
// changes they announce. The sqloutbox package implements it over
// database/sql.
type Outbox interface {
	// Pending returns up to limit waiting records, lowest id first.
	Pending(ctx context.Context, limit int) ([]OutboxRecord, error)
	// Done removes the records with the given ids; unknown ids are ignored.
	Done(ctx context.Context, ids []int64) error
}

// RelayOptions tune a Relay. The zero value works.
type RelayOptions struct {
	// Batch is the number of records read at a time; zero means 100.
	Batch int
	// Poll is how long the relay sleeps when the outbox is empty and
	// nobody calls Notify; zero means one second.
	Poll time.Duration
	// Gather is how long the relay lets events gather after a flush that
	// found work, before the next: under a steady flow of events it then
	// reads, publishes and removes them in batches rather than one or two
	// at a time, for that much more delay. An event written after a quiet
	// time still goes out at once. Zero means DefaultGather; a negative
	// value none.
	Gather time.Duration
	// Backoff spaces out retries after a failure to read the outbox or to
	// publish.
	Backoff Backoff
	// Logger receives failures; nil discards them.
	Logger *slog.Logger
}

// Relay moves the events of an outbox to a bus, in id order: it publishes
// each pending event, then removes the published ones from the outbox. A
// crash between the two only publishes some events again, which consumers
// tolerate since they are idempotent. Run one relay per outbox: two would
// publish every event twice.
type Relay struct {
	out  Outbox
	bus  Bus
	opts RelayOptions
	log  *slog.Logger
	wake chan struct{}
}

// DefaultGather is RelayOptions.Gather when zero.
const DefaultGather = 5 * time.Millisecond

// doneTimeout bounds the removal of published records once the relay is
// stopping.
const doneTimeout = 5 * time.Second

// NewRelay returns a relay from out to bus. It does nothing until Run.
func NewRelay(out Outbox, bus Bus, opts RelayOptions) *Relay {
	if opts.Batch <= 0 {
		opts.Batch = 100
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.Gather == 0 {
		opts.Gather = DefaultGather
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Relay{out: out, bus: bus, opts: opts, log: log, wake: make(chan struct{}, 1)}
}

// Notify wakes the relay up, for instance right after a transaction that
// wrote to the outbox commits. It never blocks; calls made while the relay
// is busy are merged into one.
func (r *Relay) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run relays events until ctx is done, then returns ctx.Err(). Failures are
// logged and retried after the backoff.
func (r *Relay) Run(ctx context.Context) error {
	failures := 0
	for {
		n, err := r.Flush(ctx)
		var wait time.Duration
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			failures++
			wait = r.opts.Backoff.Delay(failures)
			r.log.Warn("event relay failed", "error", err, "retry_in", wait)
		case n > 0:
			failures = 0
			if r.opts.Gather > 0 && !Sleep(ctx, r.opts.Gather) {
				return ctx.Err()
			}
			continue
		default:
			failures = 0
			wait = r.opts.Poll
		}
		if err := r.sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// sleep waits for d, a Notify or the end of ctx, whichever comes first.
func (r *Relay) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-r.wake:
	case <-t.C:
	}
	return nil
}

// Flush relays the events pending now and returns how many it published.
// It stops at the first failure.
func (r *Relay) Flush(ctx context.Context) (int, error) {
	total := 0
	for {
		recs, err := r.out.Pending(ctx, r.opts.Batch)
		if err != nil {
			return total, fmt.Errorf("relay: read outbox: %w", err)
		}
		if len(recs) == 0 {
			return total, nil
		}
		n, err := r.relay(ctx, recs)
		total += n
		if err != nil || len(recs) < r.opts.Batch {
			return total, err // a short read took every event pending
		}
	}
}

// relay publishes recs in order and removes from the outbox those that
// were published, even when a later one fails.
func (r *Relay) relay(ctx context.Context, recs []OutboxRecord) (int, error) {
	evs := make([]Event, len(recs))
	for i, rec := range recs {
		evs[i] = rec.Event
	}
	n, err := PublishAll(ctx, r.bus, evs)
	var pubErr error
	if n < len(recs) {
		pubErr = fmt.Errorf("relay: publish outbox record %d: %w", recs[n].ID, err)
	}
	if n == 0 {
		return 0, pubErr
	}
	ids := make([]int64, n)
	for i, rec := range recs[:n] {
		ids[i] = rec.ID
	}
	// The events are out: record it even when ctx ended meanwhile, so a
	// stop does not publish them again.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), doneTimeout)
	defer cancel()
	if err := r.out.Done(dctx, ids); err != nil {
		return 0, fmt.Errorf("relay: mark %d outbox records done: %w", len(ids), err)
	}
	return n, pubErr
}
