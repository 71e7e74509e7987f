package natsbus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/jsonx"
	"github.com/gridkeep/gridkeep/internal/tick"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Headers of a dead letter; its data is the event as it was published.
const (
	HeaderGroup    = "Gridkeep-Dead-Group"    // the consumer group that gave up
	HeaderSubject  = "Gridkeep-Dead-Subject"  // the subject the event was published on
	HeaderSequence = "Gridkeep-Dead-Sequence" // its sequence number in the event stream
	HeaderAttempts = "Gridkeep-Dead-Attempts" // deliveries made
	HeaderError    = "Gridkeep-Dead-Error"    // the last handler error
)

// msgResuming is logged when a member subscribes again after a failure.
const msgResuming = "event consumer interrupted; resuming"

// ackTimeout bounds acknowledgements and dead-letter publications, which
// run even when the member is stopping.
const ackTimeout = 5 * time.Second

// gatherWait is how long a member batching events lets them gather after
// the first before handing them to its handler, unless the batch fills
// first. Under a steady flow of events this makes batches of many events
// for a little delay; an event that comes alone waits that long too.
const gatherWait = 10 * time.Millisecond

// Consume runs one member of the durable JetStream consumer named g.Name.
// The consumer is created on first use and updated to g afterwards.
// Events fetched ahead of the handler are handed back to the group when
// the member stops.
func (b *Bus) Consume(ctx context.Context, g event.Group, h event.Handler) error {
	return b.run(ctx, g, 1, func(ctx context.Context, evs []event.Event) error {
		return h(ctx, evs[0])
	})
}

// ConsumeBatch is Consume with batches of at most max events; see
// event.BatchConsumer. The member fetches at least max events ahead.
func (b *Bus) ConsumeBatch(ctx context.Context, g event.Group, max int, h event.BatchHandler) error {
	if max < 1 {
		return fmt.Errorf("consume %s: batch size %d is below 1", g.Name, max)
	}
	return b.run(ctx, g, max, h)
}

// run runs a member of g handing at most max events at a time to h.
func (b *Bus) run(ctx context.Context, g event.Group, max int, h event.BatchHandler) error {
	if err := g.Validate(); err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	if !b.addMember() {
		return event.ErrClosed
	}
	defer b.members.Done()
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-b.done:
			cancel()
		case <-mctx.Done():
		}
	}()

	err := b.consume(mctx, &member{bus: b, group: g, max: max, handler: h})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if b.isClosed() {
		return event.ErrClosed
	}
	return fmt.Errorf("consume %s: %w", g.Name, err)
}

// addMember counts a new member, unless the bus is closed.
func (b *Bus) addMember() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.members.Add(1)
	return true
}

// resumeBackoff spaces out the subscriptions of a member whose
// subscription keeps failing.
var resumeBackoff = event.Backoff{Initial: 100 * time.Millisecond, Max: 5 * time.Second}

// consume fetches and handles events until ctx is done or a failure that
// subscribing again cannot cure. When the subscription fails for a reason
// that passes (no heartbeat after the process or the server stalled, a
// lost connection, the consumer deleted under it) the member logs it,
// waits a little and subscribes again, creating the consumer again if it
// is gone. No event is lost: those not acknowledged are delivered again.
func (b *Bus) consume(ctx context.Context, m *member) error {
	failures := 0
	for {
		handled, err := b.subscription(ctx, m)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if b.lasting(err) {
			return err
		}
		if handled > 0 {
			failures = 0
		}
		failures++
		wait := resumeBackoff.Delay(failures)
		b.opts.Logger.Warn(msgResuming, "group", m.group.Name, "retry_in", wait, "error", err)
		if !event.Sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

// subscription subscribes to the consumer of m's group and handles events
// until the subscription fails or ctx is done. It returns how many events
// it handled and why it stopped.
func (b *Bus) subscription(ctx context.Context, m *member) (handled int, err error) {
	cons, err := b.consumer(ctx, m.group)
	if err != nil {
		return 0, err
	}
	it, err := cons.Messages(b.pullOptions(m.max)...)
	if err != nil {
		return 0, fmt.Errorf("fetch: %w", err)
	}
	defer handBack(it)
	batch := make([]jetstream.Msg, 0, m.max)
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return handled, fmt.Errorf("fetch: %w", err)
		}
		batch = append(batch[:0], msg)
		var stop error // a failure met while gathering, reported once the batch is handled
		deadline := time.Now().Add(gatherWait)
		for len(batch) < m.max {
			wait := time.Until(deadline)
			if wait <= 0 {
				break
			}
			msg, err := it.Next(jetstream.NextMaxWait(wait))
			if err != nil {
				if !errors.Is(err, nats.ErrTimeout) {
					stop = err
				}
				break
			}
			batch = append(batch, msg)
		}
		m.handle(ctx, batch)
		handled += len(batch)
		if stop != nil {
			return handled, fmt.Errorf("fetch: %w", stop)
		}
	}
}

// lasting reports whether err stops a member for good: the connection is
// closed and will not come back, the event stream is gone, or the server
// or the client refuses the group's consumer or subscription as invalid.
func (b *Bus) lasting(err error) bool {
	var apiErr *jetstream.APIError
	switch {
	case b.nc.IsClosed():
		return true
	case errors.Is(err, jetstream.ErrInvalidOption), errors.Is(err, jetstream.ErrStreamNotFound):
		return true
	case errors.As(err, &apiErr):
		return apiErr.Code == 400 // bad request
	}
	return false
}

// pullOptions returns the options of the subscription of a member handing
// at most batch events at a time to its handler.
func (b *Bus) pullOptions(batch int) []jetstream.PullMessagesOpt {
	opts := []jetstream.PullMessagesOpt{jetstream.PullMaxMessages(max(b.opts.Prefetch, batch))}
	// A pull request must last at least two heartbeats.
	hb := b.opts.Heartbeat
	return append(opts, jetstream.PullHeartbeat(hb), jetstream.PullExpiry(max(30*time.Second, 2*hb)))
}

// consumer returns the durable consumer of g, created or updated only
// when it is missing or differs from g. Members of a group starting
// together each updated the consumer, and a member could then wait for
// events that never came: no update while another pulls, unless the group
// changed.
func (b *Bus) consumer(ctx context.Context, g event.Group) (jetstream.Consumer, error) {
	b.consumers.Lock()
	defer b.consumers.Unlock()
	want := b.consumerConfig(g)
	cons, err := b.js.Consumer(ctx, b.opts.Stream, g.Name)
	if err == nil && sameConsumer(cons.CachedInfo().Config, want) {
		return cons, nil
	}
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("look up consumer: %w", err)
	}
	cons, err = b.js.CreateOrUpdateConsumer(ctx, b.opts.Stream, want)
	if err != nil {
		return nil, fmt.Errorf("create consumer: %w", err)
	}
	return cons, nil
}

// sameConsumer reports whether the consumer configuration have, as the
// server describes it, is want in every field consumerConfig sets.
func sameConsumer(have, want jetstream.ConsumerConfig) bool {
	return have.Durable == want.Durable && have.DeliverPolicy == want.DeliverPolicy &&
		have.AckPolicy == want.AckPolicy && have.AckWait == want.AckWait &&
		have.MaxDeliver == want.MaxDeliver && have.FilterSubject == want.FilterSubject &&
		slices.Equal(have.FilterSubjects, want.FilterSubjects)
}

// consumerConfig returns the durable consumer of g.
func (b *Bus) consumerConfig(g event.Group) jetstream.ConsumerConfig {
	cfg := jetstream.ConsumerConfig{
		Durable:       g.Name,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       b.opts.AckWait,
		MaxDeliver:    -1, // the member counts attempts and dead-letters
	}
	types := slices.Compact(slices.Sorted(slices.Values(g.Types)))
	switch len(types) {
	case 0:
		cfg.FilterSubject = b.opts.Prefix + ".>"
	case 1:
		cfg.FilterSubject = b.Subject(types[0])
	default:
		for _, t := range types {
			cfg.FilterSubjects = append(cfg.FilterSubjects, b.Subject(t))
		}
	}
	return cfg
}

// handBack stops fetching and gives the events fetched but not handled
// back to the group at once, instead of after AckWait.
func handBack(it jetstream.MessagesContext) {
	it.Drain()
	for {
		msg, err := it.Next(jetstream.NextMaxWait(ackTimeout))
		if err != nil {
			return
		}
		_ = msg.Nak() // if lost, the event comes back after AckWait
	}
}

// member handles the events of one group member.
type member struct {
	bus     *Bus
	group   event.Group
	max     int // events handed to the handler at a time
	handler event.BatchHandler
}

// handle runs the handler on the events of msgs, then acknowledges,
// redelivers or dead-letters each. When the handler fails on several
// events, it runs again on each alone, so that the events it handles are
// not delivered again with those it fails on.
func (m *member) handle(ctx context.Context, msgs []jetstream.Msg) {
	evs := make([]event.Event, 0, len(msgs))
	kept := msgs[:0]
	for _, msg := range msgs {
		var ev event.Event
		if err := jsonx.Unmarshal(msg.Data(), &ev); err != nil {
			m.deadLetter(ctx, msg, attempt(msg), fmt.Errorf("decode event: %w", err))
			continue
		}
		evs = append(evs, ev)
		kept = append(kept, msg)
	}
	if len(kept) == 0 {
		return
	}
	err := m.call(ctx, kept, evs)
	if err == nil || len(kept) == 1 || ctx.Err() != nil {
		m.settle(ctx, kept, evs, err)
		return
	}
	for i := range kept {
		one, ev := kept[i:i+1], evs[i:i+1]
		m.settle(ctx, one, ev, m.call(ctx, one, ev))
	}
}

// attempt returns the number of the delivery of msg, counted from 1.
func attempt(msg jetstream.Msg) int {
	if md, err := msg.Metadata(); err == nil {
		return int(md.NumDelivered)
	}
	return 1
}

// settle acknowledges msgs if the handler returned nil on them, and
// otherwise delivers each again later or, after its last attempt, makes it
// a dead letter.
func (m *member) settle(ctx context.Context, msgs []jetstream.Msg, evs []event.Event, err error) {
	if err == nil {
		m.ack(ctx, msgs, evs)
		return
	}
	for i, msg := range msgs {
		switch n := attempt(msg); {
		case ctx.Err() != nil:
			_ = msg.Nak() // stopping: let another member retry now
		case n >= m.group.Attempts():
			m.deadLetter(ctx, msg, n, err)
		default:
			wait := m.group.Backoff.Delay(n)
			m.bus.opts.Logger.Warn("event handler failed", "group", m.group.Name,
				"event_type", evs[i].Type, "attempt", n, "retry_in", wait, "error", err)
			_ = msg.NakWithDelay(wait) // if lost, the event comes back after AckWait
		}
	}
}

// call runs the handler, telling the server every third of AckWait that
// the events are still being worked on.
func (m *member) call(ctx context.Context, msgs []jetstream.Msg, evs []event.Event) error {
	defer tick.Every(m.bus.opts.AckWait/3, func() {
		for _, msg := range msgs {
			_ = msg.InProgress()
		}
	})()
	return m.handler(ctx, evs)
}

// ack acknowledges msgs and waits for the server to record them, so that a
// member starting next does not see the events again. The server records
// the acknowledgements of a connection in order: waiting for the last
// waits for them all.
func (m *member) ack(ctx context.Context, msgs []jetstream.Msg, evs []event.Event) {
	warn := func(ev event.Event, err error) {
		m.bus.opts.Logger.Warn("event ack failed; it will be delivered again",
			"group", m.group.Name, "event_type", ev.Type, "error", err)
	}
	last := len(msgs) - 1
	for i, msg := range msgs[:last] {
		if err := msg.Ack(); err != nil {
			warn(evs[i], err)
		}
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	defer cancel()
	if err := msgs[last].DoubleAck(actx); err != nil {
		warn(evs[last], err)
	}
}

// deadLetter copies msg to the dead-letter subject of the group, then
// tells the server never to deliver it to the group again. If the copy
// fails the event is delivered again later.
func (m *member) deadLetter(ctx context.Context, msg jetstream.Msg, attempt int, cause error) {
	log := m.bus.opts.Logger.With("group", m.group.Name, "subject", msg.Subject(),
		"attempt", attempt, "error", cause)
	dead := nats.NewMsg(m.bus.DeadSubject(m.group.Name))
	dead.Data = msg.Data()
	dead.Header.Set(HeaderGroup, m.group.Name)
	dead.Header.Set(HeaderSubject, msg.Subject())
	dead.Header.Set(HeaderAttempts, strconv.Itoa(attempt))
	dead.Header.Set(HeaderError, oneLine(cause.Error()))
	if md, err := msg.Metadata(); err == nil {
		dead.Header.Set(HeaderSequence, strconv.FormatUint(md.Sequence.Stream, 10))
	}

	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	defer cancel()
	_, err := m.bus.js.PublishMsg(pctx, dead, jetstream.WithExpectStream(m.bus.deadStream()))
	if err != nil {
		log.Error("event dead letter failed; it will be delivered again", "cause", err)
		_ = msg.NakWithDelay(m.group.Backoff.Delay(attempt))
		return
	}
	if err := msg.Term(); err != nil && !errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
		log.Warn("event dead letter not acknowledged; it may be delivered again", "cause", err)
	}
	log.Warn("event given up: dead letter stored", "dead_subject", dead.Subject)
}

// oneLine makes s fit in a header value: one line, at most 1000 bytes.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
	if len(s) > 1000 {
		s = s[:1000]
	}
	return s
}
