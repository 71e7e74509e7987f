package natsbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/event/eventtest"
)

// testOptions keep the suite quick: an event held by a member that
// stopped without handing it back returns after a second.
var testOptions = Options{AckWait: time.Second}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestEmbeddedConformance(t *testing.T) {
	eventtest.Run(t, func(t *testing.T, dir string) event.Bus {
		b, err := Open(testContext(t), ServerOptions{Dir: dir}, testOptions)
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}

func TestDialConformance(t *testing.T) {
	var mu sync.Mutex
	servers := map[string]*Server{}
	eventtest.Run(t, func(t *testing.T, dir string) event.Bus {
		mu.Lock()
		srv := servers[dir]
		if srv == nil {
			srv = startServer(t, ServerOptions{Dir: dir, Listen: "127.0.0.1:0"})
			servers[dir] = srv
		}
		mu.Unlock()
		b, err := Dial(testContext(t), srv.URL(), testOptions)
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}

// openBus opens a bus on an embedded server of its own, closed when the
// test ends.
func openBus(t *testing.T, ctx context.Context) *Bus {
	t.Helper()
	b, err := Open(ctx, ServerOptions{Dir: t.TempDir()}, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func startServer(t *testing.T, opts ServerOptions) *Server {
	t.Helper()
	srv, err := StartServer(testContext(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func TestDeadLetter(t *testing.T) {
	ctx := testContext(t)
	b := openBus(t, ctx)
	evs := eventtest.Numbered(event.ChunkNew, 2)
	eventtest.PublishAll(t, ctx, b, evs)

	c := eventtest.NewCollector()
	h := func(ctx context.Context, ev event.Event) error {
		if eventtest.Number(ev) == 0 {
			return errors.New("cannot index\nthis chunk")
		}
		c.Add(ev)
		return nil
	}
	g := event.Group{Name: "indexer", MaxAttempts: 2,
		Backoff: event.Backoff{Initial: time.Millisecond}}
	eventtest.Member(t, ctx, b, g, h)
	c.WaitFor(t, ctx, evs[1:])

	msg := nextDeadLetter(t, ctx, b, g.Name)
	want := map[string]string{
		HeaderGroup:    "indexer",
		HeaderSubject:  "oio.storage.chunk.new",
		HeaderSequence: "1",
		HeaderAttempts: "2",
		HeaderError:    "cannot index this chunk",
	}
	for k, v := range want {
		if got := msg.Headers().Get(k); got != v {
			t.Errorf("dead letter header %s = %q, want %q", k, got, v)
		}
	}
	if msg.Subject() != "oio-dead.indexer" {
		t.Errorf("dead letter subject %q, want oio-dead.indexer", msg.Subject())
	}
	if string(msg.Data()) != mustJSON(t, evs[0]) {
		t.Errorf("dead letter data %s, want the event %s", msg.Data(), mustJSON(t, evs[0]))
	}
}

// nextDeadLetter waits for the first dead letter of group.
func nextDeadLetter(t *testing.T, ctx context.Context, b *Bus, group string) jetstream.Msg {
	t.Helper()
	cons, err := b.js.OrderedConsumer(ctx, b.deadStream(), jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{b.DeadSubject(group)}})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := cons.Next(jetstream.FetchContext(ctx))
	if err != nil {
		t.Fatalf("no dead letter: %v", err)
	}
	return msg
}

func TestSubjects(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		typ, group string
		subject    string
		dead       string
	}{
		{"default", Options{}, event.ChunkNew, "rdir", "oio.storage.chunk.new", "oio-dead.rdir"},
		{"prefix", Options{Prefix: "ns1"}, event.XcuteTasks, "x", "ns1.xcute.tasks", "ns1-dead.x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &Bus{opts: tt.opts.withDefaults()}
			if got := b.Subject(tt.typ); got != tt.subject {
				t.Errorf("Subject(%q) = %q, want %q", tt.typ, got, tt.subject)
			}
			if got := b.DeadSubject(tt.group); got != tt.dead {
				t.Errorf("DeadSubject(%q) = %q, want %q", tt.group, got, tt.dead)
			}
		})
	}
}

func TestServerOptions(t *testing.T) {
	tests := []struct {
		listen   string
		host     string
		port     int
		noListen bool
		bad      bool
	}{
		{listen: "", noListen: true},
		{listen: "127.0.0.1:0", host: "127.0.0.1", port: -1},
		{listen: ":4333", host: "127.0.0.1", port: 4333},
		{listen: "[::1]:4222", host: "::1", port: 4222},
		{listen: "127.0.0.1", bad: true},
		{listen: "127.0.0.1:http", bad: true},
		{listen: "127.0.0.1:70000", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.listen, func(t *testing.T) {
			o, err := serverOptions(ServerOptions{Dir: "d", Listen: tt.listen})
			if tt.bad {
				if err == nil {
					t.Fatalf("accepted %q", tt.listen)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.DontListen != tt.noListen || !o.DontListen && (o.Host != tt.host || o.Port != tt.port) {
				t.Errorf("got DontListen=%v host %q port %d", o.DontListen, o.Host, o.Port)
			}
		})
	}
}

func TestDirLocked(t *testing.T) {
	dir := t.TempDir()
	startServer(t, ServerOptions{Dir: dir})
	_, err := StartServer(testContext(t), ServerOptions{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second server on the same directory: %v, want an in-use error", err)
	}
}

func TestEmbeddedURL(t *testing.T) {
	ctx := testContext(t)
	b, err := Open(ctx, ServerOptions{Dir: t.TempDir()}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if u := b.URL(); u != "" {
		t.Errorf("in-process bus has URL %q, want none", u)
	}

	b2, err := Open(ctx, ServerOptions{Dir: t.TempDir(), Listen: "127.0.0.1:0"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	if u := b2.URL(); !strings.HasPrefix(u, "nats://127.0.0.1:") {
		t.Errorf("listening bus has URL %q, want nats://127.0.0.1:port", u)
	}
}

// TestClientSurvivesServerRestart stops the server under a dialed bus
// and starts it again on the same directory and port: publishing resumes
// and a member keeps consuming.
func TestClientSurvivesServerRestart(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, ServerOptions{Dir: dir, Listen: "127.0.0.1:0"})
	url := srv.URL()
	flowsAcross(t, url, "restart", func(context.Context) {
		srv.Close()
		startServer(t, ServerOptions{Dir: dir, Listen: strings.TrimPrefix(url, "nats://")})
	})
}

// flowsAcross dials the server at url, checks that a member of group gets
// events published before disrupt and after it.
func flowsAcross(t *testing.T, url, group string, disrupt func(context.Context)) {
	t.Helper()
	ctx := testContext(t)
	b, err := Dial(ctx, url, testOptions, nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	before, after := eventtest.Numbered(event.ChunkNew, 5), eventtest.Numbered(event.ChunkDeleted, 5)
	c := eventtest.NewCollector()
	eventtest.Member(t, ctx, b, event.Group{Name: group}, c.Handler())
	eventtest.PublishAll(t, ctx, b, before)
	c.WaitFor(t, ctx, before)

	disrupt(ctx)
	eventtest.PublishAll(t, ctx, b, after)
	c.WaitFor(t, ctx, after)
}

func mustJSON(t *testing.T, ev event.Event) string {
	t.Helper()
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestConsumerKeptWhenUnchanged: the server's description of a group's
// consumer matches the group, so that members use it as it is (members
// starting together used to update it each, and one of them could then
// wait for events forever); a changed group updates it.
func TestConsumerKeptWhenUnchanged(t *testing.T) {
	ctx := testContext(t)
	b := openBus(t, ctx)
	for i, types := range [][]string{nil, {"a.one"}, {"a.one", "b.two", "a.one"}} {
		g := event.Group{Name: fmt.Sprintf("kept-%d", i), Types: types}
		if _, err := b.consumer(ctx, g); err != nil {
			t.Fatal(err)
		}
		again, err := b.consumer(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		if !sameConsumer(again.CachedInfo().Config, b.consumerConfig(g)) {
			t.Errorf("types %v: the server's description %+v does not match the group's",
				types, again.CachedInfo().Config)
		}
		// A changed group changes the consumer.
		g.Types = append(g.Types, "c.three")
		changed, err := b.consumer(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		cfg := changed.CachedInfo().Config
		if !slices.Contains(append(cfg.FilterSubjects, cfg.FilterSubject), b.Subject("c.three")) {
			t.Errorf("types %v: consumer not updated to %v: %+v", types, g.Types, cfg)
		}
	}
}

func TestHeartbeatBounds(t *testing.T) {
	ctx := testContext(t)
	srv := startServer(t, ServerOptions{Dir: t.TempDir()})
	for _, tt := range []struct {
		hb time.Duration
		ok bool
	}{
		{0, true}, {minHeartbeat, true}, {maxHeartbeat, true},
		{time.Millisecond, false}, {time.Minute, false}, {-time.Second, false},
	} {
		nc, err := srv.Connect()
		if err != nil {
			t.Fatal(err)
		}
		b, err := New(ctx, nc, Options{Heartbeat: tt.hb})
		if (err == nil) != tt.ok {
			t.Errorf("New with heartbeat %v: error %v, want ok=%v", tt.hb, err, tt.ok)
		}
		if err == nil {
			b.Close()
		} else {
			nc.Close()
		}
	}
}

// TestJetStreamStartedAgain: the server stops JetStream when its disk is
// full, as here by hand; it is started again, with its stream and the
// group's consumer, and events flow as before.
func TestJetStreamStartedAgain(t *testing.T) {
	srv := startServer(t, ServerOptions{Dir: t.TempDir(), Listen: "127.0.0.1:0"})
	flowsAcross(t, srv.URL(), "full-disk", func(ctx context.Context) {
		if err := srv.ns.ShutdownJetStream(); err != nil || srv.ns.JetStreamEnabled() {
			t.Fatalf("JetStream not stopped: %v", err)
		}
		for !srv.ns.JetStreamEnabled() {
			if ctx.Err() != nil {
				t.Fatal("JetStream was not started again")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}
