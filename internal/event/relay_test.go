package event_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/event/eventtest"
	"github.com/gridkeep/gridkeep/internal/event/sqloutbox"
)

// store is a small database whose changes announce themselves through an
// outbox, as the directory does.
type store struct {
	db  *sql.DB
	out *sqloutbox.Outbox
}

func openStore(t *testing.T) *store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := sql.Open("sqlite", "file:"+path+
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	out, err := sqloutbox.New(db, sqloutbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := out.CreateTable(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE changes (n INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return &store{db: db, out: out}
}

// change records change n of ev and its event in one transaction, which
// commits or rolls back.
func (s *store) change(t *testing.T, ev event.Event, commit bool) {
	t.Helper()
	tx, err := s.db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO changes (n) VALUES (?)`, eventtest.Number(ev)); err != nil {
		t.Fatal(err)
	}
	if err := s.out.Insert(t.Context(), tx, ev); err != nil {
		t.Fatal(err)
	}
	if commit {
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
}

// pending returns the number of records left in the outbox.
func (s *store) pending(t *testing.T) int {
	t.Helper()
	recs, err := s.out.Pending(t.Context(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

// waitEmpty waits until a running relay has emptied the outbox.
func (s *store) waitEmpty(t *testing.T, ctx context.Context) {
	t.Helper()
	for {
		n := s.pending(t)
		if n == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d records left in the outbox", n)
		case <-time.After(time.Millisecond):
		}
	}
}

// runRelay runs r until the returned stop is called; stop returns what Run
// returned.
func runRelay(ctx context.Context, r *event.Relay) (stop func() error) {
	ctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- r.Run(ctx) }()
	return func() error {
		cancel()
		return <-errc
	}
}

// waitRelay waits for Run to return by itself.
func waitRelay(t *testing.T, ctx context.Context, errc <-chan error) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		t.Fatal("relay still running")
		return nil
	}
}

func TestRelayDeliversCommitted(t *testing.T) {
	ctx := testContext(t)
	s, bus := openStore(t), openBus(t)
	evs := eventtest.Numbered(event.ContentNew, 50)
	for _, ev := range evs[:20] {
		s.change(t, ev, true)
	}
	s.change(t, eventtest.Numbered(event.ContentDeleted, 1)[0], false)

	r := event.NewRelay(s.out, bus, event.RelayOptions{Batch: 7})
	stop := runRelay(ctx, r)
	for _, ev := range evs[20:] {
		s.change(t, ev, true)
		r.Notify()
	}
	c := collect(t, ctx, bus, "relayed")
	c.WaitFor(t, ctx, evs)
	s.waitEmpty(t, ctx)
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}

	checkOrder(t, c)
	for _, ev := range c.Events() {
		if ev.Type == event.ContentDeleted {
			t.Errorf("event of a rolled-back transaction relayed")
		}
	}
}

// crashingOutbox plays a relay killed after publishing and before
// recording it: Done stops the relay and records nothing.
type crashingOutbox struct {
	event.Outbox
	kill context.CancelFunc
}

func (o crashingOutbox) Done(context.Context, []int64) error {
	o.kill()
	return errors.New("killed")
}

func TestRelayCrashBetweenPublishAndDone(t *testing.T) {
	ctx := testContext(t)
	s, bus := openStore(t), openBus(t)
	evs := eventtest.Numbered(event.ChunkNew, 40)
	for _, ev := range evs[:30] {
		s.change(t, ev, true)
	}

	rctx, kill := context.WithCancel(ctx)
	r := event.NewRelay(crashingOutbox{s.out, kill}, bus, event.RelayOptions{Batch: 10})
	if err := r.Run(rctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("killed relay returned %v", err)
	}
	if n := s.pending(t); n != 30 {
		t.Fatalf("%d records in the outbox after the kill, want all 30", n)
	}

	// Changes keep committing while no relay runs; a new relay catches up.
	for _, ev := range evs[30:] {
		s.change(t, ev, true)
	}
	stop := runRelay(ctx, event.NewRelay(s.out, bus, event.RelayOptions{Batch: 10}))
	c := collect(t, ctx, bus, "after-crash")
	c.WaitFor(t, ctx, evs)
	s.waitEmpty(t, ctx)
	stop()
	for i, ev := range evs {
		want := 1
		if i < 10 {
			want = 2 // the batch published before the kill, and again after
		}
		if n := c.Count(eventtest.Key(ev)); n != want {
			t.Errorf("event %d delivered %d times, want %d", i, n, want)
		}
	}
}

// TestRelayStopAfterPublish stops the relay in the middle of a batch: what
// it published is recorded as done, the rest is published by the next
// relay, and nothing is published twice.
func TestRelayStopAfterPublish(t *testing.T) {
	ctx := testContext(t)
	s, bus := openStore(t), openBus(t)
	evs := eventtest.Numbered(event.ChunkDeleted, 20)
	for _, ev := range evs {
		s.change(t, ev, true)
	}

	faulty := eventtest.NewFaultyBus(bus)
	rctx, cancel := context.WithCancel(ctx)
	faulty.AfterPublish(func(n int) {
		if n == 5 {
			cancel()
		}
	})
	r := event.NewRelay(s.out, faulty, event.RelayOptions{Batch: 100})
	if err := r.Run(rctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped relay returned %v", err)
	}
	if n := s.pending(t); n <= 0 || n >= 20 {
		t.Fatalf("%d records left after a stop mid-batch, want some but not all", n)
	}

	stop := runRelay(ctx, event.NewRelay(s.out, bus, event.RelayOptions{}))
	c := collect(t, ctx, bus, "after-stop")
	c.WaitFor(t, ctx, evs)
	s.waitEmpty(t, ctx)
	stop()
	checkOrder(t, c)
	for i, ev := range evs {
		if n := c.Count(eventtest.Key(ev)); n != 1 {
			t.Errorf("event %d delivered %d times, want 1", i, n)
		}
	}
}

func TestRelayRetriesPublishFailures(t *testing.T) {
	ctx := testContext(t)
	s, bus := openStore(t), openBus(t)
	evs := eventtest.Numbered(event.ContainerState, 30)
	for _, ev := range evs {
		s.change(t, ev, true)
	}
	faulty := eventtest.NewFaultyBus(bus)
	faulty.FailNext(3)

	r := event.NewRelay(s.out, faulty, event.RelayOptions{Batch: 4,
		Backoff: event.Backoff{Initial: time.Millisecond}})
	stop := runRelay(ctx, r)
	c := collect(t, ctx, bus, "retried")
	c.WaitFor(t, ctx, evs)
	s.waitEmpty(t, ctx)
	stop()

	checkOrder(t, c)
	if got := faulty.Attempts(); got != len(evs)+3 {
		t.Errorf("%d publish attempts, want %d events + 3 failures", got, len(evs))
	}
}

// TestRelayNotify checks that Notify wakes a relay that would otherwise
// sleep for an hour.
func TestRelayNotify(t *testing.T) {
	ctx := testContext(t)
	s, bus := openStore(t), openBus(t)
	r := event.NewRelay(s.out, bus, event.RelayOptions{Poll: time.Hour})
	errc := make(chan error, 1)
	rctx, cancel := context.WithCancel(ctx)
	go func() { errc <- r.Run(rctx) }()
	c := collect(t, ctx, bus, "notified")

	evs := eventtest.Numbered(event.ContentUpdate, 3)
	for _, ev := range evs {
		s.change(t, ev, true)
		r.Notify()
		c.WaitFor(t, ctx, []event.Event{ev})
	}
	cancel()
	if err := waitRelay(t, ctx, errc); !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
}

func TestRelayFlush(t *testing.T) {
	ctx := testContext(t)
	s, bus := openStore(t), openBus(t)
	evs := eventtest.Numbered(event.ContentNew, 12)
	for _, ev := range evs {
		s.change(t, ev, true)
	}
	n, err := event.NewRelay(s.out, bus, event.RelayOptions{Batch: 5}).Flush(ctx)
	if err != nil || n != len(evs) {
		t.Fatalf("Flush = %d, %v; want %d, nil", n, err, len(evs))
	}
	if left := s.pending(t); left != 0 {
		t.Errorf("%d records left after Flush", left)
	}
	collect(t, ctx, bus, "flushed").WaitFor(t, ctx, evs)
}

// batchCounter is a bus that records the size of each batch published.
type batchCounter struct {
	event.BatchPublisher
	mu    sync.Mutex
	sizes []int
}

func (b *batchCounter) PublishBatch(ctx context.Context, evs []event.Event) (int, error) {
	b.mu.Lock()
	b.sizes = append(b.sizes, len(evs))
	b.mu.Unlock()
	return b.BatchPublisher.PublishBatch(ctx, evs)
}

// An event after a quiet time goes out at once; the events written while
// the relay lets them gather go out together.
func TestRelayGathers(t *testing.T) {
	ctx := testContext(t)
	s := openStore(t)
	bus := &batchCounter{BatchPublisher: openBus(t)}
	r := event.NewRelay(s.out, bus, event.RelayOptions{Poll: time.Hour, Gather: 500 * time.Millisecond})
	stop := runRelay(ctx, r)
	c := collect(t, ctx, bus, "gathered")

	evs := eventtest.Numbered(event.ContentNew, 11)
	s.change(t, evs[0], true)
	r.Notify()
	c.WaitFor(t, ctx, evs[:1])
	for _, ev := range evs[1:] {
		s.change(t, ev, true)
		r.Notify()
	}
	c.WaitFor(t, ctx, evs)
	stop()
	checkOrder(t, c)

	bus.mu.Lock()
	defer bus.mu.Unlock()
	// Ten quick changes fit in the gathering time, unless the machine
	// stalls: then they may take one more batch, never one each.
	if len(bus.sizes) < 2 || bus.sizes[0] != 1 || len(bus.sizes) > 3 {
		t.Errorf("batches of %v events, want 1, then the next 10 together", bus.sizes)
	}
}
