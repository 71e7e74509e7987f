package eventtest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gridkeep/gridkeep/internal/event"
)

// batchConsumer returns b as a BatchConsumer, or skips the test.
func batchConsumer(t *testing.T, b event.Bus) event.BatchConsumer {
	bc, ok := b.(event.BatchConsumer)
	if !ok {
		t.Skip("the bus does not consume in batches")
	}
	return bc
}

// BatchMember runs b.ConsumeBatch like Member runs Consume.
func BatchMember(t testing.TB, ctx context.Context, b event.BatchConsumer, g event.Group, max int,
	h event.BatchHandler) (stop func() error) {
	return runMember(t, ctx, func(ctx context.Context) error { return b.ConsumeBatch(ctx, g, max, h) })
}

// testBatches checks that events waiting together reach the handler
// together, never more than the bound at a time, in order, each once.
func testBatches(t *testing.T, open Open) {
	ctx := testContext(t)
	bc := batchConsumer(t, openBus(t, open, t.TempDir()))
	evs := Numbered(typeA, 50)
	PublishAll(t, ctx, bc, evs)

	const bound = 8
	var mu sync.Mutex
	var sizes []int
	c := NewCollector()
	BatchMember(t, ctx, bc, event.Group{Name: "batches", Backoff: fastRetry}, bound,
		func(_ context.Context, batch []event.Event) error {
			mu.Lock()
			sizes = append(sizes, len(batch))
			mu.Unlock()
			for _, ev := range batch {
				c.Add(ev)
			}
			return nil
		})
	c.WaitFor(t, ctx, evs)

	mu.Lock()
	defer mu.Unlock()
	largest := 0
	for _, n := range sizes {
		if n < 1 || n > bound {
			t.Errorf("batch of %d events, want 1 to %d", n, bound)
		}
		largest = max(largest, n)
	}
	if largest < 2 {
		t.Errorf("batches of sizes %v: 50 waiting events never came together", sizes)
	}
	for i, ev := range c.Events() {
		if Number(ev) != i {
			t.Fatalf("event %d handled in place %d: order lost", Number(ev), i)
		}
	}
}

// testBatchFailures checks that an event that fails does not take the
// events batched with it down: they are handled, it alone is retried and
// given up after MaxAttempts.
func testBatchFailures(t *testing.T, open Open) {
	ctx := testContext(t)
	bc := batchConsumer(t, openBus(t, open, t.TempDir()))
	evs := Numbered(typeA, 20)
	poison := Key(evs[7])
	PublishAll(t, ctx, bc, evs)

	var alone atomic.Int32 // calls with the poison event alone
	var mixed atomic.Int32 // calls with the poison event and others
	givenUp := make(chan struct{})
	c := NewCollector()
	g := event.Group{Name: "batch-poison", MaxAttempts: 3, Backoff: fastRetry}
	stop := BatchMember(t, ctx, bc, g, 64, func(_ context.Context, batch []event.Event) error {
		for _, ev := range batch {
			if Key(ev) != poison {
				continue
			}
			if len(batch) == 1 {
				if alone.Add(1) == int32(g.MaxAttempts) {
					close(givenUp)
				}
			} else {
				mixed.Add(1)
			}
			return errors.New("permanent failure")
		}
		for _, ev := range batch {
			c.Add(ev)
		}
		return nil
	})
	others := append(append([]event.Event(nil), evs[:7]...), evs[8:]...)
	c.WaitFor(t, ctx, others)
	select {
	case <-givenUp:
	case <-ctx.Done():
		t.Fatalf("poison event handled alone %d times, want MaxAttempts = %d", alone.Load(), g.MaxAttempts)
	}

	// Once the poison event is given up, later events flow again, and a
	// member starting later sees neither it nor those acknowledged.
	more := Numbered(typeB, 3)
	PublishAll(t, ctx, bc, more)
	c.WaitFor(t, ctx, more)
	stopClean(t, stop)
	if got := alone.Load(); got != int32(g.MaxAttempts) {
		t.Errorf("poison event handled alone %d times, want MaxAttempts = %d", got, g.MaxAttempts)
	}
	if mixed.Load() == 0 {
		t.Errorf("the poison event was never batched with others: the test proves nothing")
	}
	for _, ev := range others {
		if n := c.Count(Key(ev)); n != 1 {
			t.Errorf("event %s handled %d times, want once", Key(ev), n)
		}
	}
	late := NewCollector()
	BatchMember(t, ctx, bc, g, 64, func(_ context.Context, batch []event.Event) error {
		for _, ev := range batch {
			late.Add(ev)
		}
		return nil
	})
	last := Numbered(typeB, 5)[4:]
	PublishAll(t, ctx, bc, last)
	late.WaitFor(t, ctx, last)
	if got := late.Events(); len(got) != 1 {
		t.Errorf("a new member received %d events, want only the one published for it", len(got))
	}
}

// testPublishBatch checks that a batch is stored in order, and that a bad
// event stops it where it stands.
func testPublishBatch(t *testing.T, open Open) {
	ctx := testContext(t)
	b := openBus(t, open, t.TempDir())
	bp, ok := b.(event.BatchPublisher)
	if !ok {
		t.Skip("the bus does not publish in batches")
	}
	evs := Numbered(typeA, 30)
	if n, err := bp.PublishBatch(ctx, evs); n != len(evs) || err != nil {
		t.Fatalf("PublishBatch = %d, %v; want %d, nil", n, err, len(evs))
	}
	bad := Numbered(typeA, 33)[30:]
	bad[1].Type = "bad type"
	if n, err := bp.PublishBatch(ctx, bad); n != 1 || err == nil {
		t.Fatalf("PublishBatch with a bad second event = %d, %v; want 1 and an error", n, err)
	}

	c := NewCollector()
	Member(t, ctx, b, event.Group{Name: "published"}, c.Handler())
	want := append(evs, bad[0])
	c.WaitFor(t, ctx, want)
	got := c.Events()
	for i, ev := range want {
		if Key(got[i]) != Key(ev) {
			t.Fatalf("event %d is %s, want %s", i, Key(got[i]), Key(ev))
		}
	}
}
