package event_test

import (
	"context"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/event/eventtest"
	"github.com/gridkeep/gridkeep/internal/event/natsbus"
)

// testContext ends with the test, or after a guard against hangs.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// openBus starts an embedded NATS bus on a fresh directory.
func openBus(t *testing.T) *natsbus.Bus {
	t.Helper()
	b, err := natsbus.Open(testContext(t), natsbus.ServerOptions{Dir: t.TempDir()},
		natsbus.Options{AckWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// collect consumes every event of b into a collector, in group name.
func collect(t *testing.T, ctx context.Context, b event.Bus, name string) *eventtest.Collector {
	c := eventtest.NewCollector()
	eventtest.Member(t, ctx, b, event.Group{Name: name}, c.Handler())
	return c
}

// checkOrder checks that the events of c, made by eventtest.Numbered, come
// in increasing order, repeats allowed.
func checkOrder(t *testing.T, c *eventtest.Collector) {
	t.Helper()
	last := -1
	for _, ev := range c.Events() {
		n := eventtest.Number(ev)
		if n < last {
			t.Fatalf("event %d handled after event %d", n, last)
		}
		last = n
	}
}
