package eventtest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gridkeep/gridkeep/internal/event"
)

const (
	typeA = "test.order.a"
	typeB = "test.order.b"
)

func testRoundTrip(t *testing.T, open Open) {
	ctx := testContext(t)
	b := openBus(t, open, t.TempDir())
	want := Sample()
	PublishAll(t, ctx, b, want)

	c := NewCollector()
	Member(t, ctx, b, event.Group{Name: "roundtrip"}, c.Handler())
	c.WaitFor(t, ctx, want)
	got := map[string]event.Event{}
	for _, ev := range c.Events() {
		got[Key(ev)] = ev
	}
	for _, w := range want {
		if d := JSONDiff(w, got[Key(w)]); d != "" {
			t.Errorf("event %s changed on the bus (-published +consumed):\n%s", w.Type, d)
		}
	}
}

func testOrderPerType(t *testing.T, open Open) {
	ctx := testContext(t)
	b := openBus(t, open, t.TempDir())
	const n = 40
	as, bs := Numbered(typeA, n), Numbered(typeB, n)
	for i := range n {
		PublishAll(t, ctx, b, []event.Event{as[i], bs[i]})
	}

	c := NewCollector()
	Member(t, ctx, b, event.Group{Name: "order"}, c.Handler())
	c.WaitFor(t, ctx, append(as, bs...))
	seq := map[string][]int{}
	for _, ev := range c.Events() {
		seq[ev.Type] = append(seq[ev.Type], Number(ev))
	}
	for _, typ := range []string{typeA, typeB} {
		for i, got := range seq[typ] {
			if got != i {
				t.Fatalf("type %s: event %d handled at position %d; order: %v", typ, got, i, seq[typ])
			}
		}
	}
}

func testTypeFilter(t *testing.T, open Open) {
	ctx := testContext(t)
	b := openBus(t, open, t.TempDir())
	as, bs := Numbered(typeA, 10), Numbered(typeB, 10)
	for i := range as {
		PublishAll(t, ctx, b, []event.Event{bs[i], as[i]})
	}

	c := NewCollector()
	Member(t, ctx, b, event.Group{Name: "filter", Types: []string{typeA}}, c.Handler())
	c.WaitFor(t, ctx, as)
	for _, ev := range c.Events() {
		if ev.Type != typeA {
			t.Errorf("group of %s received %s", typeA, Key(ev))
		}
	}
}

func testRedelivery(t *testing.T, open Open) {
	ctx := testContext(t)
	b := openBus(t, open, t.TempDir())
	evs := Numbered(typeA, 5)
	PublishAll(t, ctx, b, evs)

	flaky := Key(evs[2])
	var attempts atomic.Int32
	c := NewCollector()
	h := func(ctx context.Context, ev event.Event) error {
		if Key(ev) == flaky && attempts.Add(1) <= 2 {
			return errors.New("transient failure")
		}
		c.Add(ev)
		return nil
	}
	g := event.Group{Name: "redeliver", MaxAttempts: 5, Backoff: fastRetry}
	Member(t, ctx, b, g, h)
	c.WaitFor(t, ctx, evs)
	if got := attempts.Load(); got != 3 {
		t.Errorf("failing event delivered %d times, want 3 (two failures, one success)", got)
	}
	if got := c.Count(flaky); got != 1 {
		t.Errorf("failing event handled successfully %d times, want 1", got)
	}
}

func testMaxAttempts(t *testing.T, open Open) {
	ctx := testContext(t)
	b := openBus(t, open, t.TempDir())
	evs := Numbered(typeA, 3)
	poison := Key(evs[0])
	var attempts atomic.Int32
	third := make(chan struct{})
	c := NewCollector()
	h := func(ctx context.Context, ev event.Event) error {
		if Key(ev) != poison {
			c.Add(ev)
			return nil
		}
		if attempts.Add(1) == 3 {
			close(third)
		}
		return errors.New("permanent failure")
	}
	g := event.Group{Name: "poison", MaxAttempts: 3, Backoff: fastRetry}
	stop := Member(t, ctx, b, g, h)
	PublishAll(t, ctx, b, evs[:1])
	select {
	case <-third:
	case <-ctx.Done():
		t.Fatalf("failing event delivered %d times, want 3", attempts.Load())
	}

	// The group moves on, and a member starting later does not see the
	// event either.
	PublishAll(t, ctx, b, evs[1:2])
	c.WaitFor(t, ctx, evs[1:2])
	stopClean(t, stop)
	Member(t, ctx, b, g, h)
	PublishAll(t, ctx, b, evs[2:])
	c.WaitFor(t, ctx, evs[2:])
	if got := attempts.Load(); got != 3 {
		t.Errorf("failing event delivered %d times, want MaxAttempts = 3", got)
	}
}

func testSharedGroup(t *testing.T, open Open) {
	ctx := testContext(t)
	b := openBus(t, open, t.TempDir())
	evs := Numbered(typeA, 100)
	PublishAll(t, ctx, b, evs)

	// Each member holds its first event until the other one has received
	// one too: a bus that gives everything to one member never finishes.
	c := NewCollector()
	got := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	var once [2]sync.Once
	member := func(me int) event.Handler {
		return func(ctx context.Context, ev event.Event) error {
			once[me].Do(func() { close(got[me]) })
			select {
			case <-got[1-me]:
			case <-ctx.Done():
				return ctx.Err()
			}
			c.Add(ev)
			return nil
		}
	}
	g := event.Group{Name: "shared"}
	Member(t, ctx, b, g, member(0))
	Member(t, ctx, b, g, member(1))
	c.WaitFor(t, ctx, evs)
	for i, ch := range got {
		select {
		case <-ch:
		default:
			t.Errorf("member %d received no event", i)
		}
	}
}

func testSeparateGroups(t *testing.T, open Open) {
	ctx := testContext(t)
	b := openBus(t, open, t.TempDir())
	evs := append(Numbered(typeA, 20), Numbered(typeB, 20)...)
	PublishAll(t, ctx, b, evs)

	c1, c2 := NewCollector(), NewCollector()
	Member(t, ctx, b, event.Group{Name: "first"}, c1.Handler())
	Member(t, ctx, b, event.Group{Name: "second"}, c2.Handler())
	c1.WaitFor(t, ctx, evs)
	c2.WaitFor(t, ctx, evs)
}

func testDurability(t *testing.T, open Open) {
	ctx := testContext(t)
	dir := t.TempDir()
	b := openBus(t, open, dir)
	want := append(Sample(), Numbered(typeA, 20)...)
	PublishAll(t, ctx, b, want)
	if err := b.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	b = openBus(t, open, dir)
	c := NewCollector()
	Member(t, ctx, b, event.Group{Name: "late"}, c.Handler())
	c.WaitFor(t, ctx, want)
	got := map[string]event.Event{}
	for _, ev := range c.Events() {
		got[Key(ev)] = ev
	}
	for _, w := range want {
		if d := JSONDiff(w, got[Key(w)]); d != "" {
			t.Errorf("event %s changed across reopen (-published +consumed):\n%s", Key(w), d)
		}
	}
}

func testResumeGroup(t *testing.T, open Open) {
	ctx := testContext(t)
	dir := t.TempDir()
	b := openBus(t, open, dir)
	before, after := Numbered(typeA, 10), Numbered(typeB, 10)
	PublishAll(t, ctx, b, before)
	c1 := NewCollector()
	g := event.Group{Name: "resume"}
	stop := Member(t, ctx, b, g, c1.Handler())
	c1.WaitFor(t, ctx, before)
	stopClean(t, stop)
	if err := b.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	b = openBus(t, open, dir)
	PublishAll(t, ctx, b, after)
	c2 := NewCollector()
	Member(t, ctx, b, g, c2.Handler())
	c2.WaitFor(t, ctx, after)
	for _, ev := range before {
		if n := c2.Count(Key(ev)); n != 0 {
			t.Errorf("acknowledged event %s delivered again after reopen", Key(ev))
		}
	}
}

func testCancelStops(t *testing.T, open Open) {
	ctx := testContext(t)
	b := openBus(t, open, t.TempDir())
	first, second := Numbered(typeA, 5), Numbered(typeB, 5)
	PublishAll(t, ctx, b, first)
	g := event.Group{Name: "cancel"}
	c1 := NewCollector()
	stop := Member(t, ctx, b, g, c1.Handler())
	c1.WaitFor(t, ctx, first)
	stopClean(t, stop)
	handled := len(c1.Events())

	PublishAll(t, ctx, b, second)
	c2 := NewCollector()
	Member(t, ctx, b, g, c2.Handler())
	c2.WaitFor(t, ctx, second)
	if n := len(c1.Events()); n != handled {
		t.Errorf("stopped member handled %d more events", n-handled)
	}
}

func testCloseStops(t *testing.T, open Open) {
	ctx := testContext(t)
	b := openBus(t, open, t.TempDir())
	evs := Numbered(typeA, 3)
	PublishAll(t, ctx, b, evs)
	c := NewCollector()
	errc := make(chan error, 1)
	go func() { errc <- b.Consume(ctx, event.Group{Name: "closing"}, c.Handler()) }()
	c.WaitFor(t, ctx, evs)

	if err := b.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, event.ErrClosed) {
			t.Errorf("Consume on a closed bus returned %v, want ErrClosed", err)
		}
	case <-ctx.Done():
		t.Fatal("Consume still running after Close")
	}
	if err := b.Publish(ctx, evs[0]); !errors.Is(err, event.ErrClosed) {
		t.Errorf("Publish after Close returned %v, want ErrClosed", err)
	}
	err := b.Consume(ctx, event.Group{Name: "closing"}, c.Handler())
	if !errors.Is(err, event.ErrClosed) {
		t.Errorf("Consume after Close returned %v, want ErrClosed", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func testBadInput(t *testing.T, open Open) {
	ctx := testContext(t)
	b := openBus(t, open, t.TempDir())
	for _, typ := range []string{"", "storage..new", "storage.chunk.*", "a b", "oio.>"} {
		if err := b.Publish(ctx, event.Event{Type: typ}); err == nil {
			t.Errorf("Publish accepted type %q", typ)
		}
	}
	noop := func(context.Context, event.Event) error { return nil }
	for _, g := range []event.Group{
		{Name: ""}, {Name: "a.b"}, {Name: "a b"}, {Name: "ok", Types: []string{"bad*"}},
	} {
		if err := b.Consume(ctx, g, noop); err == nil || errors.Is(err, context.Canceled) {
			t.Errorf("Consume accepted group %+v: %v", g, err)
		}
	}
}
