package event_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/event/eventtest"
	"github.com/gridkeep/gridkeep/internal/event/natsbus"
)

// fast is the backoff of the tests' publishers.
var fast = event.Backoff{Initial: time.Millisecond, Max: 20 * time.Millisecond}

// publishAll hands evs to p and fails the test on error.
func publishAll(t *testing.T, p event.Publisher, evs []event.Event) {
	t.Helper()
	for _, ev := range evs {
		if err := p.Publish(ev); err != nil {
			t.Fatalf("publish %s: %v", eventtest.Key(ev), err)
		}
	}
}

func TestAsyncPublishes(t *testing.T) {
	ctx := testContext(t)
	bus := &batchCounter{BatchPublisher: openBus(t)}
	p := event.NewAsyncPublisher(bus, event.AsyncOptions{})
	var _ event.Publisher = p
	evs := eventtest.Numbered(event.ChunkNew, 100)
	publishAll(t, p, evs)
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}

	c := collect(t, ctx, bus, "async")
	c.WaitFor(t, ctx, evs)
	checkOrder(t, c)
	want := event.AsyncStats{Published: 100}
	if got := p.Stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
	if err := p.Publish(evs[0]); !errors.Is(err, event.ErrClosed) {
		t.Errorf("Publish after Close returned %v, want ErrClosed", err)
	}
	// Events queued while a batch is out go in the next batch together.
	bus.mu.Lock()
	defer bus.mu.Unlock()
	total, largest := 0, 0
	for _, n := range bus.sizes {
		total, largest = total+n, max(largest, n)
	}
	if total != len(evs) || largest < 2 {
		t.Errorf("batches of %v events: want 100 in all, some together", bus.sizes)
	}
}

func TestAsyncRetriesWhileBusDown(t *testing.T) {
	ctx := testContext(t)
	bus := openBus(t)
	faulty := eventtest.NewFaultyBus(bus)
	faulty.SetDown(true)
	p := event.NewAsyncPublisher(faulty, event.AsyncOptions{Backoff: fast})
	evs := eventtest.Numbered(event.ChunkDeleted, 20)
	publishAll(t, p, evs)
	for p.Stats().Retried < 3 {
		if !sleep(ctx, time.Millisecond) {
			t.Fatal("publisher did not retry")
		}
	}
	faulty.SetDown(false)
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}

	c := collect(t, ctx, bus, "async-down")
	c.WaitFor(t, ctx, evs)
	checkOrder(t, c)
	st := p.Stats()
	if st.Published != 20 || st.Retried < 3 || st.Dropped != 0 || st.Pending != 0 {
		t.Errorf("stats %+v, want 20 published, 3 or more retried, none dropped or pending", st)
	}
}

// TestAsyncServerRestart stops the NATS server under a dialed bus and
// starts it again on the same directory and port: events queued meanwhile
// all arrive.
func TestAsyncServerRestart(t *testing.T) {
	ctx := testContext(t)
	dir := t.TempDir()
	srv, err := natsbus.StartServer(ctx, natsbus.ServerOptions{Dir: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	url := srv.URL()
	bus, err := natsbus.Dial(ctx, url, natsbus.Options{}, nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()

	p := event.NewAsyncPublisher(bus, event.AsyncOptions{Backoff: fast,
		Timeout: 200 * time.Millisecond})
	before, after := eventtest.Numbered(event.ChunkNew, 5), eventtest.Numbered(event.ChunkDeleted, 5)
	publishAll(t, p, before)
	for p.Stats().Published < 5 {
		if !sleep(ctx, time.Millisecond) {
			t.Fatal("events not published")
		}
	}
	srv.Close()
	publishAll(t, p, after)
	srv, err = natsbus.StartServer(ctx, natsbus.ServerOptions{Dir: dir,
		Listen: strings.TrimPrefix(url, "nats://")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	c := collect(t, ctx, bus, "restarted")
	c.WaitFor(t, ctx, append(before, after...))
	if st := p.Stats(); st.Published != 10 || st.Dropped != 0 {
		t.Errorf("stats %+v, want 10 published, none dropped", st)
	}
}

// gateBus holds every publication until released, or until its context
// ends, and says when one starts waiting.
type gateBus struct {
	event.Bus
	waiting chan struct{}
	open    chan struct{}
}

func newGateBus(b event.Bus) *gateBus {
	return &gateBus{Bus: b, waiting: make(chan struct{}, 100), open: make(chan struct{})}
}

func (g *gateBus) Publish(ctx context.Context, ev event.Event) error {
	g.waiting <- struct{}{}
	select {
	case <-g.open:
		return g.Bus.Publish(ctx, ev)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestAsyncBacklogFull(t *testing.T) {
	ctx := testContext(t)
	bus := openBus(t)
	gate := newGateBus(bus)
	// A bus that holds events up is down: a full backlog drops at once,
	// without waiting FullWait.
	p := event.NewAsyncPublisher(gate, event.AsyncOptions{Capacity: 2, Timeout: time.Hour,
		FullWait: time.Hour})
	evs := eventtest.Numbered(event.ChunkNew, 4)
	publishAll(t, p, evs[:1])
	<-gate.waiting // the first event left the backlog
	publishAll(t, p, evs[1:3])
	time.Sleep(1200 * time.Millisecond) // the bus has held the first event for longer than a second
	if err := p.Publish(evs[3]); !errors.Is(err, event.ErrBacklogFull) {
		t.Fatalf("Publish to a full backlog returned %v, want ErrBacklogFull", err)
	}
	if st := p.Stats(); st.Dropped != 1 || st.Pending != 3 {
		t.Errorf("stats %+v with a full backlog, want 1 dropped, 3 pending", st)
	}

	close(gate.open)
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	collect(t, ctx, bus, "backlog").WaitFor(t, ctx, evs[:3])
	if st := p.Stats(); st.Published != 3 || st.Dropped != 1 {
		t.Errorf("stats %+v, want 3 published, 1 dropped", st)
	}
}

// slowBus takes events one at a time, each after a pause.
type slowBus struct {
	event.Bus
	pause time.Duration
}

func (b slowBus) Publish(ctx context.Context, ev event.Event) error {
	time.Sleep(b.pause)
	return b.Bus.Publish(ctx, ev)
}

// A burst larger than the backlog, to a bus slower than the sender but
// taking events, slows the sender down and loses nothing.
func TestAsyncFullBacklogWaitsForAMovingBus(t *testing.T) {
	ctx := testContext(t)
	bus := openBus(t)
	p := event.NewAsyncPublisher(slowBus{Bus: bus, pause: time.Millisecond},
		event.AsyncOptions{Capacity: 4})
	evs := eventtest.Numbered(event.ChunkNew, 200)
	publishAll(t, p, evs)
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	collect(t, ctx, bus, "burst").WaitFor(t, ctx, evs)
	if st := p.Stats(); st.Published != 200 || st.Dropped != 0 {
		t.Errorf("stats %+v, want 200 published, none dropped", st)
	}
}

func TestAsyncCloseDeadline(t *testing.T) {
	bus := openBus(t)
	gate := newGateBus(bus) // never opens: the bus hangs
	p := event.NewAsyncPublisher(gate, event.AsyncOptions{Timeout: time.Hour})
	publishAll(t, p, eventtest.Numbered(event.ChunkNew, 4))
	<-gate.waiting

	ctx, cancel := context.WithCancel(t.Context())
	cancel() // no time left to flush
	err := p.Close(ctx)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "4 events dropped") {
		t.Errorf("Close with no time left returned %v, want 4 events dropped", err)
	}
	if st := p.Stats(); st.Dropped != 4 || st.Published != 0 || st.Pending != 0 {
		t.Errorf("stats %+v, want 4 dropped", st)
	}
}

func TestAsyncRejectsBadType(t *testing.T) {
	p := event.NewAsyncPublisher(openBus(t), event.AsyncOptions{})
	defer p.Close(t.Context())
	if err := p.Publish(event.Event{Type: "bad type"}); err == nil {
		t.Error("Publish accepted an event type the bus refuses")
	}
}

// sleep waits for d and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
