package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gridkeep/gridkeep/internal/tick"
)

// ErrNoReply says the server answered no request of the run.
var ErrNoReply = errors.New("the server does not answer")

// Result is what a run measured. Counts, bytes, latencies and CPU times
// cover the measured requests only: those sent after the warmup that ended
// before the measure did.
type Result struct {
	Op          Op
	URL         string
	Size        int64 // chunk size, bytes
	Concurrency int
	Warmup      time.Duration
	Elapsed     time.Duration // wall time of the measure
	Objects     int           // chunks uploaded before a read run
	// PoolInterrupted says the upload of the read pool was interrupted:
	// Objects counts the chunks uploaded until then, and no load was sent.
	PoolInterrupted bool
	Requests        int64 // measured requests, successful or not
	OK              int64 // successful measured requests
	// Cut counts the requests, warmup included, still in flight when the
	// measure ended or the run was interrupted: they were cancelled, and
	// are in no other figure.
	Cut int64
	// Bytes counts the chunk data of successful requests: sent (put),
	// received (get), or re-read and hashed by the server (head-check).
	Bytes  int64
	Errors map[string]int64 // failed requests by HTTP status or error class
	// Latency is computed over successful requests only.
	Latency Latencies
	// Connections counts the TCP connections opened, preparation and warmup
	// included: keep-alive works when it does not exceed Concurrency.
	Connections int64
	ServerPID   int           // 0 when the server CPU was not measured
	ServerCPU   time.Duration // user+system CPU time of ServerPID
	ClientCPU   time.Duration // user+system CPU time of this process
	// Cleanup is what the deletion of the run's chunks after the measure,
	// interrupted or not, came to; Kept says they were left on purpose
	// (Config.Keep).
	Cleanup
	Kept bool
}

// ErrorCount returns the number of failed measured requests.
func (r *Result) ErrorCount() int64 { return r.Requests - r.OK }

// ErrorRate returns the fraction of measured requests that failed, or 0
// when none was measured.
func (r *Result) ErrorRate() float64 {
	if r.Requests == 0 {
		return 0
	}
	return float64(r.ErrorCount()) / float64(r.Requests)
}

// ReqPerSec returns the successful requests per second.
func (r *Result) ReqPerSec() float64 { return perSecond(float64(r.OK), r.Elapsed) }

// MBPerSec returns the chunk data rate in megabytes (10^6 bytes) per second.
func (r *Result) MBPerSec() float64 { return perSecond(float64(r.Bytes)/1e6, r.Elapsed) }

// ServerCPUPerRequest returns the server CPU time per measured request,
// or 0 when it was not measured.
func (r *Result) ServerCPUPerRequest() time.Duration { return perRequest(r.ServerCPU, r.Requests) }

// ClientCPUPerRequest returns this process's CPU time per measured request.
func (r *Result) ClientCPUPerRequest() time.Duration { return perRequest(r.ClientCPU, r.Requests) }

func perSecond(x float64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return x / d.Seconds()
}

func perRequest(d time.Duration, n int64) time.Duration {
	if n == 0 {
		return 0
	}
	return d / time.Duration(n)
}

// Run validates cfg, checks that the server answers one request (GET
// /info, within 5 s), uploads the read pool when the operation needs one,
// then sends load for cfg.Warmup plus cfg.Duration and returns what was
// measured. The measure ends on time: the requests still in flight then
// are cancelled and counted as cut, whatever the server does. Invalid
// settings and a server that refuses the connection or does not answer
// are reported before any load is sent; a server lost during the run
// counts as failed requests. If ctx ends early, Run returns what it
// measured so far with ctx's error, the requests in flight cut: during the
// upload of the read pool, a Result that says so; before any request, no
// Result.
//
// Unless cfg.Keep, the chunks of the run are then deleted, read pool
// included, even when ctx ended early (an interrupt stops the load, not the
// clean-up), and even when the read pool could not be uploaded whole. Every
// id the run uploaded to is deleted, that of an upload that failed or was
// cut too, since the server may have stored it all the same, but not one
// the server refused with a 4xx status. The deletion
// gives up when the server answers none of its requests for 30 s; the
// chunks left are counted (see Cleanup).
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r, err := newRunner(cfg)
	if err != nil {
		return nil, err
	}
	defer r.client.CloseIdleConnections()
	if err := r.reach(ctx); err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, ctx.Err() // nothing sent, nothing to report or delete
	}
	if cfg.Op != OpPut {
		if err := r.prepare(ctx); err != nil {
			return r.abortPool(ctx, err)
		}
	}
	res, err := r.run(ctx)
	if cfg.Keep {
		res.Kept = true
	} else {
		res.Cleanup = r.removeAll(ctx)
	}
	return res, err
}

// abortPool deletes the chunks of a read pool whose upload failed with err,
// and returns what Run does then. An interrupted upload that sent anything
// gives a Result, with the figures there are: the chunks uploaded, the
// connections, the deletion. Any other failure gives an error that counts
// the chunks deleted.
func (r *runner) abortPool(ctx context.Context, err error) (*Result, error) {
	c := r.removeAll(ctx)
	if ctx.Err() != nil && r.names.issued() > 0 {
		res := r.result(&tally{}, snapshot{}, snapshot{})
		res.PoolInterrupted, res.Cleanup = true, c
		return res, fmt.Errorf("upload read pool: %w", ctx.Err())
	}
	if c != (Cleanup{}) {
		err = fmt.Errorf("%w (chunks uploaded: %s)", err, c.summary())
	}
	return nil, err
}

// runner holds the state shared by the workers of one run.
type runner struct {
	cfg    Config
	base   string
	host   string
	client *http.Client
	names  *namer
	body   []byte   // upload data, shared and read-only
	pool   []string // chunk ids read by get and head-check

	dials   atomic.Int64
	issued  atomic.Int64 // requests started, warmup included
	replies atomic.Int64 // requests answered, whatever the status
	stored  storedSet    // chunks the server said it stored (201)
	stop    atomic.Bool
	t0      time.Time
	from    atomic.Int64 // nanoseconds after t0 when the measure began
	until   atomic.Int64 // nanoseconds after t0 when the measure ended

	// unanswered are the uploads whose reply never came, failed or cut:
	// the server may have stored them, or be storing them yet.
	unanswered storedSet
	// refused are the uploads the server answered with a 4xx status: it
	// stored nothing, and there is nothing to delete.
	refused storedSet
}

func newRunner(cfg Config) (*runner, error) {
	names, err := newNamer()
	if err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, base: cfg.baseURL(), host: cfg.hostHeader(), names: names}
	r.client = r.newClient()
	if cfg.Op == OpPut || cfg.Objects > 0 {
		r.body = newBody(cfg.Size)
	}
	return r, nil
}

// newClient returns a client with one keep-alive HTTP/1.1 connection per
// worker, no proxy, no compression and no redirects. It counts dials.
func (r *runner) newClient() *http.Client {
	n := r.cfg.Concurrency
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			r.dials.Add(1)
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        n,
		MaxIdleConnsPerHost: n,
		MaxConnsPerHost:     n,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		// Headers and a small body leave in one write; large bodies
		// bypass the buffer.
		WriteBufferSize: 64 << 10,
		ReadBufferSize:  64 << 10,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// reachTimeout bounds each step of the reach check: the connection, then
// the reply.
var reachTimeout = 5 * time.Second

// reach checks that the server answers as a chunk server: it opens one
// connection, sends GET /info on it and reads the head of the reply, which
// must be a success (2xx), each step within reachTimeout. A server that refuses
// connections, accepts them and never replies (a port of another program,
// a hung server), or answers /info with an error (another HTTP service)
// would otherwise make nothing but failed requests for the whole run, and
// a read pool that never uploads. An ended ctx is left for the run to
// report.
func (r *runner) reach(ctx context.Context) error {
	u, _ := url.Parse(r.base)
	d := net.Dialer{Timeout: reachTimeout}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("cannot reach the server: %w", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(reachTimeout))
	defer context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })()
	req := r.newRequest(context.Background(), http.MethodGet, "info", nil)
	req.Close = true
	if err = req.Write(conn); err == nil {
		var resp *http.Response
		if resp, err = http.ReadResponse(bufio.NewReader(conn), req); err == nil {
			resp.Body.Close()
			switch {
			case resp.StatusCode == http.StatusTeapot:
				// A chunk server's answer to a Host that does not name it.
				return fmt.Errorf("the server refuses the Host %q (418): --host must be its "+
					"service id or its address", req.Host)
			case resp.StatusCode < 200 || resp.StatusCode > 299:
				return fmt.Errorf("the server answers GET /info with %q: is it a chunk server?",
					resp.Status)
			}
		}
	}
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("cannot reach the server: no HTTP reply to GET /info within %s "+
			"(is it a chunk server?): %w", reachTimeout, err)
	}
	return nil
}

// prepare uploads the read pool with cfg.Concurrency workers. On failure,
// the pool holds the chunks uploaded until then.
func (r *runner) prepare(ctx context.Context) error {
	uctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := r.watchReplies(cancel, poolStall+time.Duration(r.cfg.Size/poolSlowRate)*time.Second,
		"upload")
	defer stop()
	r.pool = make([]string, r.cfg.Objects)
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	for range r.cfg.Concurrency {
		wg.Go(func() {
			for failed.Load() == nil && uctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(len(r.pool)) {
					return
				}
				name, err := r.upload(uctx)
				if err != nil {
					if errors.Is(err, errNoAnswer) {
						r.unanswered.add(name.seq)
					}
					failed.CompareAndSwap(nil, &err)
					return
				}
				r.pool[i] = name.id
			}
		})
	}
	wg.Wait()
	if failed.Load() == nil && uctx.Err() == nil {
		return nil
	}
	r.pool = slices.DeleteFunc(r.pool, func(id string) bool { return id == "" })
	if cause := context.Cause(uctx); errors.Is(cause, ErrNoReply) {
		return fmt.Errorf("upload read pool: %w", cause)
	}
	if p := failed.Load(); p != nil {
		return fmt.Errorf("upload read pool: %w", *p)
	}
	return fmt.Errorf("upload read pool: %w", context.Cause(uctx))
}

// The read pool upload gives up when the server answers none of its
// uploads for poolStall plus one second per poolSlowRate bytes of a chunk,
// and the deletion of the chunks stored when it answers none of its
// deletes for removeStall.
var (
	poolStall    = 30 * time.Second
	poolSlowRate = int64(10 << 20)
	removeStall  = 30 * time.Second
)

// watchReplies calls cancel with ErrNoReply when no request has been
// answered for limit, and returns the function that stops watching. what
// names the requests in the error.
func (r *runner) watchReplies(cancel context.CancelCauseFunc, limit time.Duration,
	what string) (stop func()) {
	last, since := r.replies.Load(), time.Now()
	return tick.Every(min(limit/10, time.Second), func() {
		now := time.Now()
		if n := r.replies.Load(); n != last {
			last, since = n, now
		} else if now.Sub(since) >= limit {
			cancel(fmt.Errorf("%w: no %s answered in %s", ErrNoReply, what, limit)) // the first cause stays
		}
	})
}

// refusedIf records the upload of name as refused when its reply's status
// is a 4xx one.
func (r *runner) refusedIf(name chunkName, status int) {
	if status >= 400 && status < 500 {
		r.refused.add(name.seq)
	}
}

// upload sends one chunk of the read pool and returns its name, stored or
// not.
func (r *runner) upload(ctx context.Context) (chunkName, error) {
	name := r.names.next()
	resp, err := r.send(r.putRequest(ctx, name))
	if err != nil {
		return name, fmt.Errorf("put %s: %w: %w", name.id, errNoAnswer, err)
	}
	r.replies.Add(1)
	if resp.StatusCode != http.StatusCreated {
		r.refusedIf(name, resp.StatusCode)
		return name, fmt.Errorf("put %s: status %d %s", name.id, resp.StatusCode,
			resp.Header.Get("X-Error"))
	}
	r.stored.add(name.seq)
	return name, nil
}

// errNoAnswer marks the failure of a request that got no reply.
var errNoAnswer = errors.New("no reply")

// send sends req outside the measure and reads its reply whole; the reply's
// body is closed.
func (r *runner) send(req *http.Request) (*http.Response, error) {
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, err
}

// run sends load for the warmup and the measure and gathers the figures.
// The measure ends after cfg.Duration, when ctx ends or when the workers
// have sent every request allowed; the requests in flight then are
// cancelled, so that a server that stalls cannot stretch the measure.
func (r *runner) run(ctx context.Context) (*Result, error) {
	loadCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.t0 = time.Now()
	r.from.Store(math.MaxInt64)
	r.until.Store(math.MaxInt64)
	var before snapshot
	var err error
	if r.cfg.Warmup == 0 {
		before, err = r.beginMeasure()
	}
	tallies := make([]*tally, r.cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range tallies {
		tallies[i] = &tally{}
		wg.Go(func() { r.worker(loadCtx, tallies[i]) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	if r.cfg.Warmup > 0 {
		sleep(ctx, done, r.cfg.Warmup)
		before, err = r.beginMeasure()
	}
	if err == nil {
		sleep(ctx, done, r.cfg.Duration)
	}
	after, aerr := r.endMeasure()
	cancel()
	<-done
	if err == nil {
		err = aerr
	}
	if r.replies.Load() == 0 && ctx.Err() == nil && err == nil {
		// A server that answered the reach check, then nothing.
		err = fmt.Errorf("%w: no reply to any request within %s (or --duration is too short for "+
			"a request of this --size)", ErrNoReply, after.at.Sub(r.t0).Round(time.Millisecond))
	}
	res := r.result(merge(tallies), before, after)
	if err == nil {
		err = ctx.Err()
	}
	return res, err
}

// beginMeasure takes the snapshot the figures start from and makes the
// requests sent from now on count.
func (r *runner) beginMeasure() (snapshot, error) {
	s, err := r.snapshot()
	r.from.Store(int64(s.at.Sub(r.t0)))
	return s, err
}

// endMeasure takes the snapshot the figures end at, makes the requests
// that end from now on count as cut, and stops the workers from starting
// more.
func (r *runner) endMeasure() (snapshot, error) {
	s, err := r.snapshot()
	r.until.Store(int64(s.at.Sub(r.t0)))
	r.stop.Store(true)
	return s, err
}

// sleep waits for d, for ctx to end or for done to close.
func sleep(ctx context.Context, done <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-done:
	}
}

// snapshot is the clock and CPU counters at one instant.
type snapshot struct {
	at     time.Time
	server time.Duration
	client time.Duration
}

func (r *runner) snapshot() (snapshot, error) {
	s := snapshot{at: time.Now(), client: selfCPU()}
	if r.cfg.ServerPID > 0 {
		var err error
		if s.server, err = procCPU(r.cfg.ServerPID); err != nil {
			return s, err
		}
	}
	return s, nil
}

func (r *runner) result(t *tally, before, after snapshot) *Result {
	res := &Result{
		Op: r.cfg.Op, URL: r.cfg.URL, Size: r.cfg.Size, Concurrency: r.cfg.Concurrency,
		Warmup: r.cfg.Warmup, Elapsed: after.at.Sub(before.at), Objects: len(r.pool),
		OK: t.ok, Cut: t.cut, Bytes: t.bytes, Errors: t.errors, Latency: summarize(t.samples),
		Connections: r.dials.Load(), ServerPID: r.cfg.ServerPID,
		ServerCPU: after.server - before.server, ClientCPU: after.client - before.client,
	}
	res.Requests = res.OK
	for _, n := range t.errors {
		res.Requests += n
	}
	return res
}

// worker sends requests one after the other until the run stops or ctx
// ends. A request still in flight when ctx ends, or that ends after the
// measure, is cut: not the server's fault, it counts in no other figure.
// One that failed before is counted. After a request with no reply (a server gone or refusing
// connections) the worker pauses, 10 ms doubling to 1 s while no reply
// comes, instead of reconnecting in a tight loop.
func (r *runner) worker(ctx context.Context, t *tally) {
	buf := make([]byte, 64<<10)
	var pause time.Duration
	for ctx.Err() == nil && r.take() {
		start := time.Now()
		class, n, put := r.once(ctx, buf)
		lat := time.Since(start)
		if class == ErrTransport && r.cfg.Op == OpPut {
			r.unanswered.add(put.seq)
		}
		if r.cutShort(ctx, class, start.Add(lat)) {
			t.cut++
			return
		}
		if class != ErrTransport {
			r.replies.Add(1)
			pause = 0
		} else {
			pause = min(max(2*pause, 10*time.Millisecond), time.Second)
			sleep(ctx, nil, pause)
		}
		if start.Sub(r.t0) < time.Duration(r.from.Load()) {
			continue // warmup
		}
		if class != "" {
			t.failure(class)
			continue
		}
		t.success(lat, n)
	}
}

// cutShort reports whether a request that ended at end with the error
// class given was cut by the end of the load: it got no reply once ctx
// ended, or it ended after the measure, whatever its outcome.
func (r *runner) cutShort(ctx context.Context, class string, end time.Time) bool {
	return (class == ErrTransport && ctx.Err() != nil) ||
		end.Sub(r.t0) > time.Duration(r.until.Load())
}

// take reports whether another request may start.
func (r *runner) take() bool {
	if r.stop.Load() {
		return false
	}
	if r.issued.Add(1) > r.cfg.MaxRequests {
		r.stop.Store(true)
		return false
	}
	return true
}

// once sends one request and reads its whole reply. It returns the error
// class of a failure ("" on success), the chunk bytes it accounts for and
// the chunk a put uploads.
func (r *runner) once(ctx context.Context, buf []byte) (string, int64, chunkName) {
	req, name := r.request(ctx)
	resp, err := r.client.Do(req)
	if err != nil {
		return ErrTransport, 0, name
	}
	n, err := drain(resp.Body, buf)
	resp.Body.Close()
	switch {
	case err != nil:
		return ErrTransport, 0, name
	case resp.StatusCode != r.wantStatus():
		if r.cfg.Op == OpPut {
			r.refusedIf(name, resp.StatusCode)
		}
		return statusClass(resp.StatusCode), 0, name
	case r.cfg.Op == OpPut:
		r.stored.add(name.seq)
	case r.cfg.Op == OpGet && n != r.cfg.Size:
		return ErrShortBody, 0, name
	}
	return "", r.cfg.Size, name
}

// drain reads body to its end through buf and returns its length.
func drain(body io.Reader, buf []byte) (int64, error) {
	var n int64
	for {
		k, err := body.Read(buf)
		n += int64(k)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

func (r *runner) wantStatus() int {
	if r.cfg.Op == OpPut {
		return http.StatusCreated
	}
	return http.StatusOK
}

// request builds the next request of the run's operation, and returns
// with it the chunk a put uploads (none for a read).
func (r *runner) request(ctx context.Context) (*http.Request, chunkName) {
	var req *http.Request
	var name chunkName
	switch r.cfg.Op {
	case OpPut:
		name = r.names.next()
		req = r.putRequest(ctx, name)
	case OpGet:
		req = r.readRequest(ctx, http.MethodGet)
	case OpHeadCheck:
		req = r.readRequest(ctx, http.MethodHead)
		req.Header[hdrCheckHash] = []string{"true"}
	}
	if r.cfg.mutate != nil {
		r.cfg.mutate(req)
	}
	return req, name
}

func (r *runner) putRequest(ctx context.Context, name chunkName) *http.Request {
	req := r.newRequest(ctx, http.MethodPut, name.id, bytes.NewReader(r.body))
	req.Header = r.names.putHeaders(name)
	return req
}

// readRequest targets a chunk of the pool picked at random.
func (r *runner) readRequest(ctx context.Context, method string) *http.Request {
	return r.newRequest(ctx, method, r.pool[rand.IntN(len(r.pool))], nil)
}

func (r *runner) newRequest(ctx context.Context, method, id string, body io.Reader) *http.Request {
	req, err := http.NewRequestWithContext(ctx, method, r.base+"/"+id, body)
	if err != nil {
		// The base URL was validated and ids are hex: this cannot fail.
		panic(fmt.Sprintf("loadgen: build request: %v", err))
	}
	req.Host = r.host
	return req
}
