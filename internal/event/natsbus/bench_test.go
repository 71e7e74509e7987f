package natsbus

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/event/eventtest"
)

func benchBus(b *testing.B, srv ServerOptions) *Bus {
	b.Helper()
	srv.Dir = b.TempDir()
	bus, err := Open(b.Context(), srv, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bus.Close() })
	return bus
}

// BenchmarkPublish measures durable publications, one at a time, on the
// embedded server.
func BenchmarkPublish(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts ServerOptions
	}{{"default", ServerOptions{}}, {"sync-always", ServerOptions{SyncAlways: true}}} {
		b.Run(bc.name, func(b *testing.B) {
			bus := benchBus(b, bc.opts)
			ev := eventtest.Sample()[0]
			b.ReportAllocs()
			for b.Loop() {
				if err := bus.Publish(b.Context(), ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkConsume measures the delivery and acknowledgement of events
// already published, by one member.
func BenchmarkConsume(b *testing.B) {
	bus := benchBus(b, ServerOptions{})
	ev := eventtest.Sample()[0]
	for range b.N {
		if err := bus.Publish(b.Context(), ev); err != nil {
			b.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	var n atomic.Int64
	done := make(chan struct{})
	b.ResetTimer()
	go bus.Consume(ctx, event.Group{Name: "bench"}, func(context.Context, event.Event) error {
		if n.Add(1) == int64(b.N) {
			close(done)
		}
		return nil
	})
	<-done
}
