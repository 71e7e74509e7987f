package loadgen

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/rawx"
)

// serve runs h on a new loopback listener until the test ends and returns
// the server's base URL and address.
func serve(t *testing.T, ln net.Listener, hs *http.Server) string {
	t.Helper()
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String()
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func startNull(t *testing.T) (string, *NullServer) {
	t.Helper()
	ln := listen(t)
	s := &NullServer{Addr: ln.Addr().String()}
	return serve(t, ln, s.HTTPServer()), s
}

func startRawx(t *testing.T) string {
	t.Helper()
	url, _ := startRawxOn(t)
	return url
}

// startRawxOn starts a chunk server and returns its URL and volume.
func startRawxOn(t *testing.T) (string, string) {
	t.Helper()
	srv, ln, dir := newRawx(t)
	return serve(t, ln, srv.HTTPServer()), dir
}

// newRawx makes a chunk server on a new volume, and the listener it is to
// serve on, and returns them with the volume.
func newRawx(t *testing.T) (*rawx.Server, net.Listener, string) {
	t.Helper()
	ln := listen(t)
	dir := filepath.Join(t.TempDir(), "vol")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	srv, err := rawx.New(rawx.Config{Volume: dir, Addr: ln.Addr().String(), Namespace: "OPENIO"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, ln, dir
}

// quick returns a short run of op against url.
func quick(url string, op Op) Config {
	return Config{URL: url, Op: op, Size: 4 << 10, Concurrency: 4,
		Duration: 100 * time.Millisecond, Warmup: 10 * time.Millisecond, Objects: 8}
}

// checkClean asserts that a run succeeded entirely and is self-consistent.
func checkClean(t *testing.T, res *Result, err error, cfg Config) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.ErrorCount() != 0 || len(res.Errors) != 0 {
		t.Fatalf("%d ok, %d failed %v; want only successes", res.OK, res.ErrorCount(), res.Errors)
	}
	if res.Bytes != res.OK*cfg.Size {
		t.Errorf("bytes %d, want %d requests × %d", res.Bytes, res.OK, cfg.Size)
	}
	l := res.Latency
	if !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max && l.Mean <= l.Max) {
		t.Errorf("latencies out of order: %+v", l)
	}
	if res.Connections < 1 || res.Connections > int64(cfg.Concurrency) {
		t.Errorf("%d connections for %d workers: keep-alive broken", res.Connections, cfg.Concurrency)
	}
	wantObjects := cfg.Objects
	if cfg.Op == OpPut {
		wantObjects = 0
	}
	if res.Objects != wantObjects {
		t.Errorf("pool of %d chunks, want %d", res.Objects, wantObjects)
	}
}

func TestRunEachOp(t *testing.T) {
	servers := map[string]func(*testing.T) string{
		"null": func(t *testing.T) string { u, _ := startNull(t); return u },
		"rawx": startRawx,
	}
	for name, start := range servers {
		for _, op := range []Op{OpPut, OpGet, OpHeadCheck} {
			t.Run(name+"/"+string(op), func(t *testing.T) {
				cfg := quick(start(t), op)
				res, err := Run(context.Background(), cfg)
				checkClean(t, res, err, cfg)
			})
		}
	}
}

// TestRunRemovesItsChunks: the chunks a run uploads are gone after it,
// unless it was asked to keep them.
func TestRunRemovesItsChunks(t *testing.T) {
	for _, op := range []Op{OpPut, OpGet} {
		for _, keep := range []bool{false, true} {
			url, vol := startRawxOn(t)
			cfg := quick(url, op)
			cfg.Keep = keep
			res, err := Run(context.Background(), cfg)
			checkClean(t, res, err, cfg)
			left := countChunks(t, vol)
			uploaded := res.Removed + int64(left)
			switch {
			case keep && (left == 0 || res.Removed != 0 || !res.Kept):
				t.Errorf("%s, keep: %d chunks left, %d removed, kept %v", op, left, res.Removed,
					res.Kept)
			case !keep && (left != 0 || res.Removed == 0 || res.NotRemoved != 0 || res.Kept):
				t.Errorf("%s: %d chunks left, %d removed, %d not, kept %v", op, left, res.Removed,
					res.NotRemoved, res.Kept)
			case op == OpPut && uploaded < res.OK, op == OpGet && uploaded != int64(cfg.Objects):
				t.Errorf("%s, keep %v: %d chunks uploaded, %d ok", op, keep, uploaded, res.OK)
			}
		}
	}
}

// TestRunRemovesFailedUploads: the clean-up deletes the chunks the server
// said it stored, and those it stored while failing the upload (a 5xx
// status, a reply cut short); it sends no delete for the uploads it
// refused with a 4xx status, which stored nothing.
func TestRunRemovesFailedUploads(t *testing.T) {
	srv, ln, dir := newRawx(t)
	var puts, deletes atomic.Int64
	hs := srv.HTTPServer()
	h := hs.Handler
	hs.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			deletes.Add(1)
		}
		if r.Method != http.MethodPut {
			h.ServeHTTP(w, r)
			return
		}
		switch puts.Add(1) % 4 {
		case 1:
			r.Header.Del(hdrFullPath) // refused with 400, not stored
			h.ServeHTTP(w, r)
		case 2:
			h.ServeHTTP(httptest.NewRecorder(), r) // stored, then a failure
			w.WriteHeader(http.StatusInternalServerError)
		case 3:
			h.ServeHTTP(httptest.NewRecorder(), r) // stored, then half a reply
			cutReply(t, w)
		default:
			h.ServeHTTP(w, r)
		}
	})
	cfg := quick(serve(t, ln, hs), OpPut)
	// The measure ends when every request allowed is answered: none is
	// cut, and each kind of upload comes 50 times.
	cfg.Warmup, cfg.Duration, cfg.MaxRequests, cfg.Concurrency = 0, time.Hour, 200, 1
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 50 || res.Errors["400"] != 50 || res.Errors["500"] != 50 ||
		res.Errors[ErrTransport] != 50 {
		t.Fatalf("%d ok, errors %v; want 50 of each kind", res.OK, res.Errors)
	}
	want := Cleanup{Removed: 150, RemovedUnacknowledged: 100}
	// The uploads refused with 400 stored nothing: no delete is sent for them.
	if left := countChunks(t, dir); left != 0 || res.Cleanup != want || deletes.Load() != 150 {
		t.Errorf("%d chunks left, %+v after %d deletes; want none left, %+v after 150", left,
			res.Cleanup, deletes.Load(), want)
	}
}

// cutReply sends the head of a reply announcing a body, and closes the
// connection before the body.
func cutReply(t *testing.T, w http.ResponseWriter) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	defer conn.Close()
	buf.WriteString("HTTP/1.1 201 Created\r\nContent-Length: 10\r\n\r\n")
	buf.Flush()
}

// TestRunInterruptedRemovesItsChunks: an interrupt stops the load, then
// the chunks the run stored are deleted all the same, read pool included,
// and counted, whether it comes during the measure or during the upload of
// the read pool.
func TestRunInterruptedRemovesItsChunks(t *testing.T) {
	for _, op := range []Op{OpPut, OpGet} {
		url, vol := startRawxOn(t)
		cfg := quick(url, op)
		cfg.Warmup, cfg.Duration = 0, time.Hour
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		res, err := Run(ctx, cfg)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || res == nil {
			t.Fatalf("%s: %+v, %v; want a result and the end of ctx", op, res, err)
		}
		if left := countChunks(t, vol); left != 0 || res.Kept || res.Removed == 0 || res.NotRemoved != 0 {
			t.Errorf("%s, interrupted: %d chunks left, %d removed, %d not, kept %v; want all removed",
				op, left, res.Removed, res.NotRemoved, res.Kept)
		}
	}

	// Uploads slowed down so that the interrupt comes amid the read pool.
	srv, ln, vol := newRawx(t)
	hs := srv.HTTPServer()
	h := hs.Handler
	hs.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			time.Sleep(5 * time.Millisecond)
		}
		h.ServeHTTP(w, r)
	})
	cfg := quick(serve(t, ln, hs), OpGet)
	cfg.Objects = 1000
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	res, err := Run(ctx, cfg)
	if res == nil || !errors.Is(err, context.DeadlineExceeded) ||
		!strings.Contains(err.Error(), "upload read pool") {
		t.Fatalf("interrupted pool upload: %+v, %v; want a result and the end of ctx", res, err)
	}
	if !res.PoolInterrupted || res.Objects == 0 || res.Objects >= cfg.Objects || res.Requests != 0 {
		t.Errorf("interrupted pool upload: pool interrupted %v, %d chunks, %d requests; want some "+
			"of the %d chunks, and no load", res.PoolInterrupted, res.Objects, res.Requests, cfg.Objects)
	}
	c := res.Cleanup
	if left := countChunks(t, vol); left != 0 || c.Removed-c.RemovedUnacknowledged != int64(res.Objects) ||
		c.NotRemoved != 0 || c.MaybeLeft != 0 {
		t.Errorf("interrupted pool upload: %d chunks left, %+v; want the %d of the pool removed",
			left, c, res.Objects)
	}
}

// TestRunRemovesAbandonedUploads: an upload the server stored but had not
// answered when the run was interrupted, or when the measure ended, is
// deleted too.
func TestRunRemovesAbandonedUploads(t *testing.T) {
	for _, interrupt := range []bool{true, false} {
		srv, ln, vol := newRawx(t)
		hs := srv.HTTPServer()
		h := hs.Handler
		hs.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPut {
				h.ServeHTTP(w, r)
				return
			}
			h.ServeHTTP(httptest.NewRecorder(), r) // stored, and the reply held back
			<-r.Context().Done()
		})
		cfg := quick(serve(t, ln, hs), OpPut)
		cfg.Warmup, cfg.Duration = 0, 200*time.Millisecond
		// Not interrupted, the run ends with its measure, which no request
		// was answered in.
		ctx, cancel := context.WithCancel(context.Background())
		wantErr := ErrNoReply
		if interrupt {
			cfg.Duration, wantErr = time.Hour, context.DeadlineExceeded
			ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
		}
		res, err := Run(ctx, cfg)
		cancel()
		if res == nil || !errors.Is(err, wantErr) {
			t.Fatalf("interrupted %v: %+v, %v; want a result and %v", interrupt, res, err, wantErr)
		}
		n := int64(cfg.Concurrency)
		want := Cleanup{Removed: n, RemovedUnacknowledged: n}
		if left := countChunks(t, vol); left != 0 || res.Cleanup != want || res.OK != 0 || res.Cut != n {
			t.Errorf("interrupted %v: %d chunks left, %+v, %d ok, %d cut; want the %d uploads in "+
				"flight cut and removed", interrupt, left, res.Cleanup, res.OK, res.Cut, n)
		}
	}
}

func countChunks(t *testing.T, vol string) int {
	t.Helper()
	n := 0
	err := chunk.WalkChunks(vol, func(string) error { n++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRunCountsServerErrors(t *testing.T) {
	servers := map[string]func(*testing.T) string{
		"null": func(t *testing.T) string { u, _ := startNull(t); return u },
		"rawx": startRawx,
	}
	for name, start := range servers {
		t.Run(name, func(t *testing.T) {
			cfg := quick(start(t), OpPut)
			cfg.mutate = func(req *http.Request) { delete(req.Header, hdrFullPath) }
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Requests == 0 || res.OK != 0 || res.Errors["400"] != res.Requests {
				t.Errorf("%d requests, %d ok, errors %v; want every request to fail with 400",
					res.Requests, res.OK, res.Errors)
			}
			if res.Bytes != 0 || res.ErrorRate() != 1 {
				t.Errorf("bytes %d, error rate %g; want 0 and 1", res.Bytes, res.ErrorRate())
			}
		})
	}
}

func TestRunStoppedServer(t *testing.T) {
	ln := listen(t)
	url := "http://" + ln.Addr().String()
	ln.Close()

	for _, op := range []Op{OpPut, OpGet} {
		res, err := Run(context.Background(), quick(url, op))
		if err == nil || !strings.Contains(err.Error(), "cannot reach the server") || res != nil {
			t.Errorf("%s against a stopped server: %v, %+v; want it refused before any request", op,
				err, res)
		}
	}
}

// TestRunSilentServer: a server that accepts connections and never
// replies, or closes them unanswered, stops the run before it starts,
// instead of a run of requests that all fail (or of a read pool that never
// uploads).
func TestRunSilentServer(t *testing.T) {
	defer func(d time.Duration) { reachTimeout = d }(reachTimeout)
	reachTimeout = 200 * time.Millisecond
	for _, answer := range []string{"never", "close"} {
		ln := listen(t)
		t.Cleanup(func() { ln.Close() })
		go func() {
			var conns []net.Conn // held open, never answered
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				if answer == "close" {
					io.CopyN(io.Discard, c, 1)
					c.Close()
					continue
				}
				conns = append(conns, c)
			}
		}()
		for _, op := range []Op{OpPut, OpGet} {
			// Only a bound for a run that would not stop: no timing is checked.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			cfg := quick("http://"+ln.Addr().String(), op)
			res, err := Run(ctx, cfg)
			cancel()
			if err == nil || !strings.Contains(err.Error(), "no HTTP reply to GET /info") || res != nil {
				t.Errorf("%s against a server that answers %s: %v, %+v; want it refused before "+
					"any request", op, answer, err, res)
			}
		}
	}
}

// TestRunServerHangs: a server that answers the reach check, then no
// request of the run, ends the run when its time is up, with ErrNoReply,
// instead of waiting for the requests in flight; the upload of a read
// pool gives up the same way after poolStall, and the deletion of the
// uploads cut after removeStall.
func TestRunServerHangs(t *testing.T) {
	ln := listen(t)
	hang := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/info" {
			return
		}
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { close(hang); srv.Close() })

	defer func(pool, remove time.Duration) { poolStall, removeStall = pool, remove }(poolStall,
		removeStall)
	poolStall, removeStall = 200*time.Millisecond, 200*time.Millisecond
	for _, op := range []Op{OpPut, OpGet} {
		// Only a bound for a run that would wait for ever: no timing is
		// checked.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cfg := quick("http://"+ln.Addr().String(), op)
		_, err := Run(ctx, cfg)
		cancel()
		if !errors.Is(err, ErrNoReply) {
			t.Errorf("%s against a server that answers nothing: %v, want %v", op, err, ErrNoReply)
		}
	}
}

// TestRunServerStalls: a server that stops answering amid the measure
// does not stretch it: the requests in flight when it ends are cut, in
// neither the successes nor the failures, and the rates are over the
// measured time.
func TestRunServerStalls(t *testing.T) {
	for _, op := range []Op{OpPut, OpGet} {
		srv, ln, vol := newRawx(t)
		hs := srv.HTTPServer()
		h := hs.Handler
		var measured atomic.Int64
		hs.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isLoad(r, op) && measured.Add(1) > 50 {
				<-r.Context().Done() // stalled until the client gives up
				return
			}
			h.ServeHTTP(w, r)
		})
		cfg := quick(serve(t, ln, hs), op)
		cfg.Warmup, cfg.Duration = 0, time.Second
		start := time.Now()
		res, err := Run(context.Background(), cfg)
		took := time.Since(start)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		// Generous bounds: the measure was about a second, not the
		// 20 s of the test's time-out.
		if res.Elapsed < cfg.Duration || res.Elapsed > cfg.Duration+2*time.Second ||
			took > cfg.Duration+10*time.Second {
			t.Errorf("%s: %s measured, run over in %s, for a --duration of %s", op, res.Elapsed,
				took, cfg.Duration)
		}
		if res.OK != 50 || res.ErrorCount() != 0 || res.Cut != int64(cfg.Concurrency) {
			t.Errorf("%s: %d ok, %d failed %v, %d cut; want 50 ok, none failed, %d cut", op,
				res.OK, res.ErrorCount(), res.Errors, res.Cut, cfg.Concurrency)
		}
		if want := 50 / res.Elapsed.Seconds(); res.ReqPerSec() != want || res.Latency.Max > res.Elapsed {
			t.Errorf("%s: %g req/s, max latency %s; want %g over the measure", op, res.ReqPerSec(),
				res.Latency.Max, want)
		}
		if left := countChunks(t, vol); left != 0 || res.NotRemoved != 0 || res.MaybeLeft != 0 ||
			res.RemovedUnacknowledged != 0 {
			t.Errorf("%s: %d chunks left, %+v; want every chunk stored removed, and the ids of "+
				"the uploads cut (never stored) no error", op, left, res.Cleanup)
		}
	}
}

// isLoad reports whether r is a request of the load of a run of op, not
// its reach check, the upload of its read pool or its deletes.
func isLoad(r *http.Request, op Op) bool {
	switch r.Method {
	case http.MethodPut:
		return op == OpPut
	case http.MethodDelete:
		return false
	}
	return r.URL.Path != "/info"
}

// TestRunServerLost: a server that stops answering during the run makes
// failed requests, counted as transport errors.
func TestRunServerLost(t *testing.T) {
	ln := listen(t)
	var served atomic.Int64
	srv := &http.Server{}
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
		if served.Add(1) == 50 {
			go srv.Close()
		}
	})
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	cfg := quick("http://"+ln.Addr().String(), OpPut)
	cfg.Warmup = 0
	cfg.MaxRequests = 100_000
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.Errors[ErrTransport] == 0 {
		t.Errorf("%d ok, errors %v; want some ok, then transport errors", res.OK, res.Errors)
	}
	// The workers pause between failed connections instead of retrying
	// thousands of times in the run's 100 ms: 4 each at the most, 8 allowed.
	if n := res.Errors[ErrTransport]; n > 8*int64(cfg.Concurrency) {
		t.Errorf("%d transport errors from %d workers in %s: no pause between them", n, cfg.Concurrency,
			cfg.Duration)
	}
}

// TestRunWrongHost: a chunk server that refuses the Host header (418)
// stops the run before any load, and nothing is stored or left behind.
func TestRunWrongHost(t *testing.T) {
	url := startRawx(t)
	for _, op := range []Op{OpGet, OpPut} {
		cfg := quick(url, op)
		cfg.Host = "elsewhere:6201"
		res, err := Run(context.Background(), cfg)
		if err == nil || !strings.Contains(err.Error(), `refuses the Host "elsewhere:6201" (418)`) ||
			res != nil {
			t.Errorf("%s with a Host the server does not answer to: %v, %+v", op, err, res)
		}
	}
}

// TestRunNotAChunkServer: a server that answers GET /info with an error
// (another HTTP service, such as a namespace's directory) stops the run
// before any load.
func TestRunNotAChunkServer(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	for _, op := range []Op{OpGet, OpPut} {
		res, err := Run(context.Background(), quick(srv.URL, op))
		if err == nil || !strings.Contains(err.Error(), `answers GET /info with "404 Not Found"`) ||
			res != nil {
			t.Errorf("%s against a server that is not a chunk server: %v, %+v", op, err, res)
		}
	}
	if n := requests.Load(); n != 2 {
		t.Errorf("%d requests sent, want the 2 checks only", n)
	}
}

func TestRunBounds(t *testing.T) {
	url, null := startNull(t)
	cfg := quick(url, OpPut)
	cfg.Warmup = time.Hour
	cfg.Duration = time.Hour
	cfg.MaxRequests = 20
	cfg.Keep = true
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Every request allowed was sent during the warmup: none is measured.
	if res.Requests != 0 || res.Bytes != 0 {
		t.Errorf("%d requests, %d bytes measured; want none after the warmup", res.Requests, res.Bytes)
	}
	null.mu.RLock()
	n := len(null.sizes)
	null.mu.RUnlock()
	if n != 20 {
		t.Errorf("server received %d chunks, want 20", n)
	}
}

// TestRunCancelled: a run cancelled before it starts sends nothing and
// has nothing to report; one cancelled amid the load reports what it
// measured, the requests in flight cut and not counted as failures.
func TestRunCancelled(t *testing.T) {
	url, null := startNull(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cfg := quick(url, OpPut)
	cfg.Duration = time.Hour
	res, err := Run(ctx, cfg)
	null.mu.RLock()
	sent := len(null.sizes)
	null.mu.RUnlock()
	if !errors.Is(err, context.Canceled) || res != nil || sent != 0 {
		t.Errorf("cancelled before the run: %+v, %v, %d chunks sent; want no result, "+
			"context.Canceled and nothing sent", res, err, sent)
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	res, err = Run(ctx, cfg)
	if !errors.Is(err, context.Canceled) || res == nil {
		t.Fatalf("cancelled amid the run: %+v, %v; want a result and context.Canceled", res, err)
	}
	if res.OK == 0 || res.ErrorCount() != 0 || res.Cut > int64(cfg.Concurrency) {
		t.Errorf("cancelled amid the run: %d ok, %d failed %v, %d cut; want the requests in "+
			"flight cut, none failed", res.OK, res.ErrorCount(), res.Errors, res.Cut)
	}
}

func TestRunServerCPU(t *testing.T) {
	url, _ := startNull(t)
	cfg := quick(url, OpPut)
	cfg.ServerPID = os.Getpid() // the server runs in this process
	res, err := Run(context.Background(), cfg)
	checkClean(t, res, err, cfg)
	if res.ServerPID != cfg.ServerPID || res.ServerCPU < 0 {
		t.Errorf("server pid %d cpu %v", res.ServerPID, res.ServerCPU)
	}

	cfg.ServerPID = 1 << 30 // above the kernel's pid limit
	if _, err := Run(context.Background(), cfg); err == nil {
		t.Error("a missing server process was accepted")
	}
}
