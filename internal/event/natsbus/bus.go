package natsbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	neturl "net/url"
	"strings"
	"sync"
	"time"

	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Options tune a Bus. The zero value works.
type Options struct {
	// Stream names the JetStream stream of events; zero means "OIO". Dead
	// letters go to the stream of the same name followed by "_DEAD".
	Stream string
	// Prefix starts every subject; zero means "oio". An event of type T is
	// published on Prefix.T and a dead letter of group G on Prefix-dead.G.
	Prefix string
	// MaxAge is how long the stream keeps an event, consumed or not; zero
	// means seven days, negative means forever.
	MaxAge time.Duration
	// MaxBytes bounds the stream; when it is full the oldest events are
	// dropped. Zero means no bound.
	MaxBytes int64
	// Replicas is the number of copies of each stream in a NATS cluster;
	// zero means one.
	Replicas int
	// AckWait is how long an event delivered to a member that stopped
	// answering (crashed, cut off) waits before going to another member,
	// and so how long the events of a member that crashed wait after a
	// restart; zero means 10 seconds. Running handlers keep their events
	// however long they take; events fetched ahead of a handler busier
	// than that may be delivered twice.
	AckWait time.Duration
	// Prefetch is the number of events a member fetches ahead of its
	// handler; zero means 16.
	Prefetch int
	// Heartbeat is how often the server tells a waiting member that its
	// subscription is alive. A member that hears nothing for two
	// heartbeats (its process or the server stalled, the network dropped
	// traffic) subscribes again. A pull that the client or the server
	// lost under load is found the same way, so the heartbeat bounds how
	// long such a member stalls. Zero means DefaultHeartbeat; otherwise it
	// must be between half a second and 30 seconds.
	Heartbeat time.Duration
	// Logger receives handler failures, dead letters and the failures of
	// subscriptions; nil discards them.
	Logger *slog.Logger
}

// withDefaults returns o with its zero fields set.
func (o Options) withDefaults() Options {
	if o.Stream == "" {
		o.Stream = "OIO"
	}
	if o.Prefix == "" {
		o.Prefix = "oio"
	}
	if o.MaxAge == 0 {
		o.MaxAge = 7 * 24 * time.Hour
	} else if o.MaxAge < 0 {
		o.MaxAge = 0
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = -1
	}
	o.Replicas = max(o.Replicas, 1)
	if o.AckWait <= 0 {
		o.AckWait = 10 * time.Second
	}
	if o.Prefetch <= 0 {
		o.Prefetch = 16
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// DefaultHeartbeat is Options.Heartbeat when it is zero: a stalled member
// subscribes again within 10 seconds. (The NATS client's own default, 15
// seconds, left the reverse index of a loaded namespace half a minute
// behind after such a stall.)
const DefaultHeartbeat = 5 * time.Second

// The bounds of Options.Heartbeat, those of the NATS client.
const (
	minHeartbeat = 500 * time.Millisecond
	maxHeartbeat = 30 * time.Second
)

// Bus is an event.Bus over NATS JetStream.
type Bus struct {
	nc   *nats.Conn
	js   jetstream.JetStream
	srv  *Server // nil unless the bus owns an embedded server
	opts Options

	mu      sync.Mutex // guards closed and adding to members
	closed  bool
	done    chan struct{} // closed by Close
	members sync.WaitGroup

	consumers sync.Mutex // one member at a time sets its group's consumer up
}

var _ event.Bus = (*Bus)(nil)

// Open starts an embedded server with srvOpts and returns a bus connected
// to it in-process. Closing the bus shuts the server down.
func Open(ctx context.Context, srvOpts ServerOptions, opts Options) (*Bus, error) {
	srv, err := StartServer(ctx, srvOpts)
	if err != nil {
		return nil, fmt.Errorf("open event bus: %w", err)
	}
	nc, err := srv.Connect()
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("open event bus: %w", err)
	}
	b, err := New(ctx, nc, opts)
	if err != nil {
		nc.Close()
		srv.Close()
		return nil, fmt.Errorf("open event bus: %w", err)
	}
	b.srv = srv
	return b, nil
}

// Dial connects to the NATS server at url and returns a bus over it. The
// connection reconnects forever unless natsOpts say otherwise; operations
// wait for it within their context.
func Dial(ctx context.Context, url string, opts Options, natsOpts ...nats.Option) (*Bus, error) {
	if err := CheckURL(url); err != nil {
		return nil, err
	}
	natsOpts = append([]nats.Option{nats.Name("gridkeep"), nats.MaxReconnects(-1)},
		natsOpts...)
	nc, err := nats.Connect(url, natsOpts...)
	if err != nil {
		return nil, fmt.Errorf("dial event bus %s: %w", url, err)
	}
	b, err := New(ctx, nc, opts)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("dial event bus %s: %w", url, err)
	}
	return b, nil
}

// CheckURL checks the server URLs of an event bus, comma-separated: each
// must name its scheme and host (nats://HOST:PORT, or tls, ws, wss). The
// NATS client would take a bare word for a host name and look it up.
func CheckURL(s string) error {
	for _, part := range strings.Split(s, ",") {
		u, err := neturl.Parse(strings.TrimSpace(part))
		if err != nil || u.Host == "" || u.Hostname() == "" {
			return fmt.Errorf("event bus URL %q: want nats://HOST:PORT", part)
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return fmt.Errorf("event bus URL %q: scheme %q, want nats, tls, ws or wss", part, u.Scheme)
		}
	}
	return nil
}

// New returns a bus over nc, creating or updating its streams. The bus
// owns nc and closes it on Close.
func New(ctx context.Context, nc *nats.Conn, opts Options) (*Bus, error) {
	if hb := opts.Heartbeat; hb != 0 && (hb < minHeartbeat || hb > maxHeartbeat) {
		return nil, fmt.Errorf("event bus: heartbeat %v: want %v to %v", hb, minHeartbeat, maxHeartbeat)
	}
	// Events published in a batch wait for their acknowledgement as long as
	// one published alone does (the client's default, 5 seconds).
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("event bus: %w", err)
	}
	b := &Bus{nc: nc, js: js, opts: opts.withDefaults(), done: make(chan struct{})}
	if err := b.createStreams(ctx); err != nil {
		return nil, fmt.Errorf("event bus: %w", err)
	}
	return b, nil
}

// createStreams creates the event and dead-letter streams, or updates
// their limits when they exist.
func (b *Bus) createStreams(ctx context.Context) error {
	for _, cfg := range []jetstream.StreamConfig{
		b.streamConfig(b.opts.Stream, b.opts.Prefix+".>"),
		b.streamConfig(b.deadStream(), b.opts.Prefix+"-dead.>"),
	} {
		if _, err := b.js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("create stream %s: %w", cfg.Name, err)
		}
	}
	return nil
}

// streamConfig returns the configuration of a stream of events.
func (b *Bus) streamConfig(name, subjects string) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:      name,
		Subjects:  []string{subjects},
		Retention: jetstream.LimitsPolicy,
		Storage:   jetstream.FileStorage,
		MaxAge:    b.opts.MaxAge,
		MaxBytes:  b.opts.MaxBytes,
		Discard:   jetstream.DiscardOld,
		Replicas:  b.opts.Replicas,
	}
}

func (b *Bus) deadStream() string { return b.opts.Stream + "_DEAD" }

// Subject returns the subject events of type typ are published on.
func (b *Bus) Subject(typ string) string { return b.opts.Prefix + "." + typ }

// DeadSubject returns the subject dead letters of group are published on.
func (b *Bus) DeadSubject(group string) string { return b.opts.Prefix + "-dead." + group }

// URL returns the client address of the embedded server the bus owns, or
// "" when it owns none or that server does not listen.
func (b *Bus) URL() string {
	if b.srv == nil {
		return ""
	}
	return b.srv.URL()
}

// Publish stores ev in the event stream and waits for the server to
// acknowledge it.
func (b *Bus) Publish(ctx context.Context, ev event.Event) error {
	data, err := b.encode(ev)
	if err != nil {
		return err
	}
	_, err = b.js.Publish(ctx, b.Subject(ev.Type), data, jetstream.WithExpectStream(b.opts.Stream))
	if err != nil {
		return b.closedOr(fmt.Errorf("publish %s: %w", ev.Type, err))
	}
	return nil
}

// PublishBatch sends every event of evs before waiting for the server to
// acknowledge them; see event.BatchPublisher.
func (b *Bus) PublishBatch(ctx context.Context, evs []event.Event) (int, error) {
	acks := make([]jetstream.PubAckFuture, 0, len(evs))
	var sendErr error
	for _, ev := range evs {
		data, err := b.encode(ev)
		if err != nil {
			sendErr = err
			break
		}
		ack, err := b.js.PublishAsync(b.Subject(ev.Type), data, jetstream.WithExpectStream(b.opts.Stream))
		if err != nil {
			sendErr = b.closedOr(fmt.Errorf("publish %s: %w", ev.Type, err))
			break
		}
		acks = append(acks, ack)
	}
	for i, ack := range acks {
		select {
		case <-ack.Ok():
		case err := <-ack.Err():
			return i, b.closedOr(fmt.Errorf("publish %s: %w", evs[i].Type, err))
		case <-ctx.Done():
			return i, fmt.Errorf("publish %s: %w", evs[i].Type, ctx.Err())
		}
	}
	return len(acks), sendErr
}

// encode returns the data of ev's message, or why ev cannot be published.
func (b *Bus) encode(ev event.Event) ([]byte, error) {
	if err := event.CheckType(ev.Type); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", ev.Type, err)
	}
	if b.isClosed() {
		return nil, event.ErrClosed
	}
	return data, nil
}

// Close stops the members of every group, waits for their handlers, then
// closes the connection and the embedded server if the bus owns one.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	close(b.done)
	b.mu.Unlock()

	b.members.Wait()
	err := b.nc.FlushTimeout(5 * time.Second)
	if errors.Is(err, nats.ErrConnectionClosed) {
		err = nil
	}
	b.nc.Close()
	if b.srv != nil {
		err = errors.Join(err, b.srv.Close())
	}
	if err != nil {
		return fmt.Errorf("close event bus: %w", err)
	}
	return nil
}

func (b *Bus) isClosed() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// closedOr returns event.ErrClosed if the bus was closed, else err.
func (b *Bus) closedOr(err error) error {
	if b.isClosed() {
		return event.ErrClosed
	}
	return err
}
