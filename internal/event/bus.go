package event

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrClosed is returned by the operations of a bus or publisher that has
// been closed.
var ErrClosed = errors.New("event: closed")

// Bus carries events between services. A bus is safe for concurrent use.
//
// Delivery is at least once: an event published once may be handled more
// than once (after a crash, a lost acknowledgement or a redelivery), so
// every handler must be idempotent. See the package documentation for the
// guarantees in full.
//
// TODO(#3): a beanstalkd backend for existing OpenIO deployments, which
// publish to the tube "oio"; beanstalkd has no consumer groups, so it will
// need one tube per group and a fan-out from "oio".
type Bus interface {
	// Publish stores ev in the stream of its type. When it returns nil the
	// event is durable: it survives a restart of the bus and will reach
	// every consumer group. ev.Type must pass CheckType.
	Publish(ctx context.Context, ev Event) error

	// Consume runs one member of the durable consumer group g, calling h
	// for each event of g.Types, one event at a time, until ctx is done
	// or the bus is closed. It blocks; it returns ctx.Err() when ctx is
	// done, ErrClosed when the bus is closed, or the error that stopped
	// it. Several members of one group, in one process or many, share the
	// events of the group; each group receives every event. All members
	// of a group must be given the same Group.
	Consume(ctx context.Context, g Group, h Handler) error

	// Close stops the running members of every group, waits for their
	// handlers to return and releases the bus. Events not yet handled
	// stay in their streams for the next member.
	Close() error
}

// Handler handles one event delivered to a consumer group. Returning nil
// acknowledges the event; returning an error makes the bus deliver it
// again later, after the group's backoff, until Group.MaxAttempts
// deliveries have failed. ctx is done when the member is stopping.
type Handler func(ctx context.Context, ev Event) error

// BatchHandler handles events delivered to a consumer group together, in
// the order they were delivered. Returning nil acknowledges them all.
type BatchHandler func(ctx context.Context, evs []Event) error

// BatchConsumer is a Bus whose members can hand events to their handler
// several at a time, so that the handler pays once per batch for what it
// would pay per event (a transaction, a round trip).
type BatchConsumer interface {
	Bus
	// ConsumeBatch is Consume with batches: h receives the events waiting
	// for the member when it is called, at most max of them, without
	// waiting for more. When h fails on a batch of several events, the
	// member hands them to h again one at a time, so that only the events
	// that fail alone are delivered again, count attempts and become dead
	// letters, as with Consume.
	ConsumeBatch(ctx context.Context, g Group, max int, h BatchHandler) error
}

// BatchPublisher is a Bus that publishes several events with one wait for
// their storage.
type BatchPublisher interface {
	Bus
	// PublishBatch publishes evs as Publish does, in order, and returns
	// how many of them, from the first, are stored. When that is fewer than
	// len(evs), err says why; events after the first failure may be stored
	// too, and publishing them again only repeats them.
	PublishBatch(ctx context.Context, evs []Event) (int, error)
}

// PublishAll publishes evs in order on b, with one wait for them all when
// b is a BatchPublisher and one event after the other otherwise, and
// returns how many of them, from the first, are stored, and why the others
// are not.
func PublishAll(ctx context.Context, b Bus, evs []Event) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if bp, ok := b.(BatchPublisher); ok {
		return bp.PublishBatch(ctx, evs)
	}
	for i, ev := range evs {
		if err := ctx.Err(); err != nil {
			return i, err
		}
		if err := b.Publish(ctx, ev); err != nil {
			return i, err
		}
	}
	return len(evs), nil
}

// DefaultMaxAttempts is the number of deliveries of an event to a group
// whose handler keeps failing, when Group.MaxAttempts is zero.
const DefaultMaxAttempts = 5

// Group describes a durable consumer group. The bus remembers, per group,
// which events were acknowledged, across restarts; a group seen for the
// first time starts from the oldest event the bus still keeps.
type Group struct {
	// Name identifies the group: 1 to 64 letters, digits, '-' or '_'.
	Name string
	// Types are the event types the group receives; empty means all.
	Types []string
	// MaxAttempts bounds the deliveries of an event whose handler fails.
	// When the last one fails the event becomes a dead letter (where it
	// goes depends on the backend) and the group moves on. Zero means
	// DefaultMaxAttempts. A delivery cut short by a crash counts too.
	MaxAttempts int
	// Backoff spaces out the deliveries of an event whose handler fails.
	Backoff Backoff
}

// Attempts returns the bound on deliveries of one event, defaults applied.
func (g Group) Attempts() int {
	if g.MaxAttempts <= 0 {
		return DefaultMaxAttempts
	}
	return g.MaxAttempts
}

// Validate reports whether g can be used to consume.
func (g Group) Validate() error {
	if !isName(g.Name, 64) {
		return fmt.Errorf("event: bad group name %q: want 1 to 64 letters, digits, '-' or '_'",
			g.Name)
	}
	for _, t := range g.Types {
		if err := CheckType(t); err != nil {
			return fmt.Errorf("group %s: %w", g.Name, err)
		}
	}
	return nil
}

// CheckType reports whether t can be used as an event type on a bus: one
// or more tokens of letters, digits, '-' or '_', joined by dots, as in
// "storage.chunk.new". Backends map the dots onto their own hierarchy.
func CheckType(t string) error {
	if len(t) == 0 || len(t) > 200 {
		return fmt.Errorf("event: bad type %q: want 1 to 200 characters", t)
	}
	start := 0
	for i := 0; i <= len(t); i++ {
		if i < len(t) && t[i] != '.' {
			continue
		}
		if !isName(t[start:i], len(t)) {
			return fmt.Errorf("event: bad type %q: want dot-separated tokens of "+
				"letters, digits, '-' or '_'", t)
		}
		start = i + 1
	}
	return nil
}

// isName reports whether s is 1 to max letters, digits, '-' or '_'.
func isName(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}

// Backoff spaces out retries: the first retry waits Initial, each later one
// twice as long as the one before, never more than Max. The zero value
// waits 1s, then 2s, 4s and so on up to one minute.
type Backoff struct {
	Initial time.Duration // zero means one second
	Max     time.Duration // zero means one minute
}

// Delay returns how long to wait before retry number n, counted from 1.
func (b Backoff) Delay(n int) time.Duration {
	d, max := b.Initial, b.Max
	if d <= 0 {
		d = time.Second
	}
	if max <= 0 {
		max = time.Minute
	}
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}
