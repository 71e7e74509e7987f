package natsbus

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/event/eventtest"
)

// TestMemberResumesAfterStall stalls the connection of a member, as a
// paused process or a frozen network would, until its subscription fails
// for want of heartbeats. The member must subscribe again by itself and
// handle the events published before, during and after the stall.
func TestMemberResumesAfterStall(t *testing.T) {
	ctx := testContext(t)
	srv := startServer(t, ServerOptions{Dir: t.TempDir()})
	pub := connectBus(t, ctx, srv, testOptions)

	g := &gate{}
	interrupted := make(chan struct{}, 1)
	opts := testOptions
	opts.Heartbeat = 500 * time.Millisecond
	opts.Logger = slog.New(signalHandler{msg: msgResuming, c: interrupted})
	b := connectBus(t, ctx, srv, opts, nats.InProcessServer(stallingServer{srv.ns, g}))
	t.Cleanup(g.open) // before the bus closes, so that it can

	evs := eventtest.Numbered(event.ChunkNew, 15)
	before, during, after := evs[:5], evs[5:10], evs[10:]
	c := eventtest.NewCollector()
	mctx, stop := liveMember(t, ctx, b, event.Group{Name: "stalled"}, c.Handler())
	eventtest.PublishAll(t, ctx, pub, before)
	c.WaitFor(t, mctx, before)

	g.shut()
	eventtest.PublishAll(t, ctx, pub, during)
	select {
	case <-interrupted:
	case <-mctx.Done():
		t.Fatal("member stopped during the stall")
	}
	g.open()
	eventtest.PublishAll(t, ctx, pub, after)
	c.WaitFor(t, mctx, append(during, after...))
	stop()
}

// TestMemberResumesAfterConsumerDeleted deletes the consumer of a group
// under its member: the member must create it again and go on.
func TestMemberResumesAfterConsumerDeleted(t *testing.T) {
	ctx := testContext(t)
	b := openBus(t, ctx)
	evs := eventtest.Numbered(event.ChunkDeleted, 10)
	before, after := evs[:5], evs[5:]
	c := eventtest.NewCollector()
	mctx, stop := liveMember(t, ctx, b, event.Group{Name: "deleted"}, c.Handler())
	eventtest.PublishAll(t, ctx, b, before)
	c.WaitFor(t, mctx, before)

	if err := b.js.DeleteConsumer(ctx, b.opts.Stream, "deleted"); err != nil {
		t.Fatal(err)
	}
	eventtest.PublishAll(t, ctx, b, after)
	c.WaitFor(t, mctx, after)
	stop()
}

// connectBus returns a bus over a new in-process connection to srv, closed
// when the test ends.
func connectBus(t *testing.T, ctx context.Context, srv *Server, opts Options,
	natsOpts ...nats.Option) *Bus {
	t.Helper()
	nc, err := srv.Connect(natsOpts...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(ctx, nc, opts)
	if err != nil {
		nc.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// liveMember runs a member of g on b. The returned context ends, and the
// test fails, if Consume returns before stop is called; stop ends the
// member and fails the test unless it returned because of that.
func liveMember(t *testing.T, ctx context.Context, b *Bus, g event.Group,
	h event.Handler) (context.Context, func()) {
	mctx, cancel := context.WithCancel(ctx)
	var stopping bool
	var mu sync.Mutex
	done := make(chan error, 1)
	go func() {
		err := b.Consume(mctx, g, h)
		mu.Lock()
		if !stopping {
			t.Errorf("member of %s stopped: %v", g.Name, err)
		}
		mu.Unlock()
		cancel()
		done <- err
	}()
	stop := func() {
		mu.Lock()
		stopping = true
		mu.Unlock()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("member of %s returned %v, want context.Canceled", g.Name, err)
		}
	}
	t.Cleanup(func() {
		mu.Lock()
		stopping = true
		mu.Unlock()
		cancel()
	})
	return mctx, stop
}

// gate holds what stalled connections read while it is shut. The zero
// gate is open.
type gate struct {
	mu     sync.Mutex
	closed chan struct{} // nil while open; closed when it opens again
}

// pass waits until g is open.
func (g *gate) pass() {
	g.mu.Lock()
	c := g.closed
	g.mu.Unlock()
	if c != nil {
		<-c
	}
}

func (g *gate) shut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed == nil {
		g.closed = make(chan struct{})
	}
}

func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed != nil {
		close(g.closed)
		g.closed = nil
	}
}

// stallingServer gives in-process connections to a server whose replies
// wait while the gate is shut, as if the server or the network stalled.
type stallingServer struct {
	ns   *server.Server
	gate *gate
}

func (s stallingServer) InProcessConn() (net.Conn, error) {
	conn, err := s.ns.InProcessConn()
	if err != nil {
		return nil, err
	}
	return stallingConn{conn, s.gate}, nil
}

type stallingConn struct {
	net.Conn
	gate *gate
}

// Read holds what it read until the gate opens.
func (c stallingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.gate.pass()
	return n, err
}

// signalHandler is a slog handler that signals c, without blocking, each
// time a record with message msg is logged.
type signalHandler struct {
	msg string
	c   chan<- struct{}
}

func (h signalHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h signalHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		select {
		case h.c <- struct{}{}:
		default:
		}
	}
	return nil
}

func (h signalHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h signalHandler) WithGroup(string) slog.Handler      { return h }

// TestMemberStopsWhenStreamDeleted: a member whose event stream is gone
// stops with an error instead of trying again forever.
func TestMemberStopsWhenStreamDeleted(t *testing.T) {
	ctx := testContext(t)
	b := openBus(t, ctx)
	evs := eventtest.Numbered(event.ChunkNew, 1)
	eventtest.PublishAll(t, ctx, b, evs)
	c := eventtest.NewCollector()
	errc := make(chan error, 1)
	go func() { errc <- b.Consume(ctx, event.Group{Name: "orphan"}, c.Handler()) }()
	c.WaitFor(t, ctx, evs)

	if err := b.js.DeleteStream(ctx, b.opts.Stream); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("member of a deleted stream returned %v, want a stream-not-found error", err)
		}
	case <-ctx.Done():
		t.Fatal("member of a deleted stream still running")
	}
}
