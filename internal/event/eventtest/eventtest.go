// Package eventtest is the conformance suite every event.Bus passes, and
// helpers for tests that use a bus.
package eventtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gridkeep/gridkeep/internal/event"
)

// Open returns a bus whose storage is named by dir, an empty directory the
// suite creates. Two buses opened with the same dir, one after the other
// is closed, must see the same events and consumer groups; buses opened
// with different dirs must not see each other's. The suite closes every
// bus itself, sometimes twice: Close must be idempotent. Buses must
// redeliver a failed event after the group's Backoff, which the suite
// keeps short.
type Open func(t *testing.T, dir string) event.Bus

// Run runs the conformance suite against the buses open returns.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		run  func(*testing.T, Open)
	}{
		{"RoundTrip", testRoundTrip},
		{"OrderPerType", testOrderPerType},
		{"TypeFilter", testTypeFilter},
		{"Redelivery", testRedelivery},
		{"MaxAttempts", testMaxAttempts},
		{"SharedGroup", testSharedGroup},
		{"SeparateGroups", testSeparateGroups},
		{"Durability", testDurability},
		{"ResumeGroup", testResumeGroup},
		{"CancelStops", testCancelStops},
		{"CloseStops", testCloseStops},
		{"BadInput", testBadInput},
		{"Batches", testBatches},
		{"BatchFailures", testBatchFailures},
		{"PublishBatch", testPublishBatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, open) })
	}
}

// suiteTimeout keeps a broken bus from hanging the suite; it is a guard,
// not a measurement.
const suiteTimeout = 30 * time.Second

// fastRetry is the backoff of the suite's groups.
var fastRetry = event.Backoff{Initial: time.Millisecond, Max: 10 * time.Millisecond}

// openBus opens a bus on dir and closes it when the test ends.
func openBus(t *testing.T, open Open, dir string) event.Bus {
	t.Helper()
	b := open(t, dir)
	t.Cleanup(func() { b.Close() })
	return b
}

// testContext returns a context that ends with the test or the guard.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), suiteTimeout)
	t.Cleanup(cancel)
	return ctx
}

// Sample returns events of varied shapes: a chunk server event without
// url, content events with url, shard, parts and replication data, a
// container event and an event with null data.
func Sample() []event.Event {
	part, parts := 0, 1
	chunk, _ := json.Marshal(event.ChunkData{
		VolumeID: "127.0.0.1:6004", VolumeServiceID: "rawx-1",
		FullPath:    "AUTH_demo/bucket/obj%2Fa/1700000000000000/5D0AB1A64C6A05006A5E3AD9A6D7F0A7",
		ContainerID: "8D4A4F8C5BC5B7C1B0C5D1F2E3A4B5C6D7E8F90112233445566778899AABBCC",
		ContentPath: "obj/a", ContentVersion: "1700000000000000",
		ChunkID:       "C4F8E3A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D",
		ChunkPosition: "0", ChunkHash: "9E107D9D372BB6826BD81D3542A419D6", ChunkSize: "1048576",
	})
	return []event.Event{
		{Type: event.ChunkNew, When: 1700000000000001, RequestID: "req-1", Data: chunk},
		{Type: event.ContentNew, When: 1700000000000002, Origin: "aws-cli/2",
			URL: &event.URL{NS: "OPENIO", Account: "AUTH_demo", User: "bucket",
				ID:   "8D4A4F8C5BC5B7C1B0C5D1F2E3A4B5C6D7E8F90112233445566778899AABBCC",
				Path: "obj/é ü", Content: "5D0AB1A64C6A05006A5E3AD9A6D7F0A7",
				Version: "1700000000000000",
				Shard:   &event.URL{Account: ".shards_AUTH_demo", User: "bucket-0", ID: "AB12"}},
			Part: &part, Parts: &parts,
			Data: json.RawMessage(`[{"type":"aliases","name":"obj/é ü","version":1700000000000000,` +
				`"ctime":1700000000,"mtime":1700000000,"deleted":false,"header":"5D0A"}]`),
			Repli: json.RawMessage(`{"destinations":"dst-bucket","replicator_id":"r1"}`)},
		{Type: event.ContainerState, When: 1700000000000003,
			URL:  &event.URL{NS: "OPENIO", Account: "AUTH_demo", User: "bucket"},
			Data: json.RawMessage(`{"bytes-count":10,"object-count":1,"bytes-details":{"SINGLE":10}}`)},
		{Type: event.XcuteTasks, When: 1700000000000004, Data: json.RawMessage(`null`)},
	}
}

// Numbered returns n events of type typ whose data is {"n": i}, i from 0.
func Numbered(typ string, n int) []event.Event {
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i] = event.Event{Type: typ, When: int64(1700000000000000 + i),
			Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))}
	}
	return evs
}

// Number returns the n of an event made by Numbered, or -1.
func Number(ev event.Event) int {
	var d struct{ N *int }
	if json.Unmarshal(ev.Data, &d) != nil || d.N == nil {
		return -1
	}
	return *d.N
}

// Key identifies an event made by Numbered or Sample for collecting.
func Key(ev event.Event) string { return fmt.Sprintf("%s/%d/%d", ev.Type, ev.When, Number(ev)) }

// PublishAll publishes evs in order and fails the test on error.
func PublishAll(t testing.TB, ctx context.Context, b event.Bus, evs []event.Event) {
	t.Helper()
	for _, ev := range evs {
		if err := b.Publish(ctx, ev); err != nil {
			t.Fatalf("publish %s: %v", Key(ev), err)
		}
	}
}

// JSONDiff returns the difference between the JSON forms of two events,
// compared as JSON values, or "" when they are equal.
func JSONDiff(want, got event.Event) string {
	return cmp.Diff(jsonValue(want), jsonValue(got))
}

func jsonValue(ev event.Event) any {
	data, err := json.Marshal(ev)
	if err != nil {
		return "marshal: " + err.Error()
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return "unmarshal: " + err.Error()
	}
	return v
}

// Collector gathers the events handled by consumers, safe for concurrent
// use.
type Collector struct {
	mu     sync.Mutex
	events []event.Event
	seen   map[string]int
	change chan struct{}
}

// NewCollector returns an empty collector.
func NewCollector() *Collector {
	return &Collector{seen: map[string]int{}, change: make(chan struct{})}
}

// Handler returns a handler that records each event and acknowledges it.
func (c *Collector) Handler() event.Handler {
	return func(_ context.Context, ev event.Event) error {
		c.Add(ev)
		return nil
	}
}

// Add records ev.
func (c *Collector) Add(ev event.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, ev)
	c.seen[Key(ev)]++
	close(c.change)
	c.change = make(chan struct{})
}

// Events returns the events recorded so far, in handling order.
func (c *Collector) Events() []event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]event.Event(nil), c.events...)
}

// Count returns how many times the event of key was recorded.
func (c *Collector) Count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[key]
}

// WaitFor waits until every event of evs has been recorded at least once,
// and fails the test if ctx ends first.
func (c *Collector) WaitFor(t testing.TB, ctx context.Context, evs []event.Event) {
	t.Helper()
	for {
		c.mu.Lock()
		missing := 0
		for _, ev := range evs {
			if c.seen[Key(ev)] == 0 {
				missing++
			}
		}
		change := c.change
		c.mu.Unlock()
		if missing == 0 {
			return
		}
		select {
		case <-change:
		case <-ctx.Done():
			t.Fatalf("%d of %d events not delivered: %v", missing, len(evs), ctx.Err())
		}
	}
}

// Member runs b.Consume in a goroutine until the test ends or the returned
// stop function is called; stop waits for Consume to return and returns
// its error.
func Member(t testing.TB, ctx context.Context, b event.Bus, g event.Group,
	h event.Handler) (stop func() error) {
	return runMember(t, ctx, func(ctx context.Context) error { return b.Consume(ctx, g, h) })
}

// runMember runs consume in a goroutine until the test ends or the returned
// stop function is called; stop cancels consume's context, waits for it to
// return and returns its error.
func runMember(t testing.TB, ctx context.Context, consume func(context.Context) error) (stop func() error) {
	ctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- consume(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-errc
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// stopClean stops a member and fails the test unless it returned because
// of the cancellation.
func stopClean(t *testing.T, stop func() error) {
	t.Helper()
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Consume returned %v, want context.Canceled", err)
	}
}
