package object

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gridkeep/gridkeep/internal/meta"
)

// BenchConfig describes an object-level load run: Concurrency workers
// putting or getting objects of Size bytes, back to back, for Warmup then
// Duration.
type BenchConfig struct {
	Op          string // "put" or "get"
	Account     string // default "bench"
	Container   string // default "bench"
	Size        int64
	Concurrency int
	Warmup      time.Duration
	Duration    time.Duration
	Policy      string // storage policy of the objects; "" is the container's
	Objects     int    // objects written first for get; 0 means 4 per worker
}

// BenchResult is what a run measured, warmup excluded.
type BenchResult struct {
	Elapsed  time.Duration
	OK       int64
	Errors   int64
	Bytes    int64
	P50, P99 time.Duration
	Max      time.Duration
	LastErr  error
}

// OpsPerSec returns successful operations per second.
func (r *BenchResult) OpsPerSec() float64 { return float64(r.OK) / r.Elapsed.Seconds() }

// MBPerSec returns object bytes per second, in 10^6 bytes.
func (r *BenchResult) MBPerSec() float64 { return float64(r.Bytes) / 1e6 / r.Elapsed.Seconds() }

// ErrBenchConfig is wrapped by the errors of Bench that a BenchConfig
// causes; its other errors are failures to write the objects a get run
// reads.
var ErrBenchConfig = errors.New("bench")

func (cfg *BenchConfig) validate() error {
	if cfg.Account == "" {
		cfg.Account = "bench"
	}
	if cfg.Container == "" {
		cfg.Container = "bench"
	}
	if cfg.Objects <= 0 {
		cfg.Objects = 4 * cfg.Concurrency
	}
	switch {
	case cfg.Op != "put" && cfg.Op != "get":
		return fmt.Errorf("%w: operation %q: want put or get", ErrBenchConfig, cfg.Op)
	case cfg.Size < 0 || cfg.Size > 1<<34:
		return fmt.Errorf("%w: size %d out of range", ErrBenchConfig, cfg.Size)
	case cfg.Concurrency < 1 || cfg.Concurrency > 1024:
		return fmt.Errorf("%w: concurrency %d: want 1 to 1024", ErrBenchConfig, cfg.Concurrency)
	case cfg.Duration <= 0:
		return fmt.Errorf("%w: duration %v: must be positive", ErrBenchConfig, cfg.Duration)
	case cfg.Warmup < 0:
		return fmt.Errorf("%w: warmup %v: must not be negative", ErrBenchConfig, cfg.Warmup)
	}
	return nil
}

// benchReachTimeout bounds the check, made before any load, that the
// directory answers.
var benchReachTimeout = 5 * time.Second

// Bench runs cfg against the namespace of c. Objects are named
// bench-<run>-<n> so that runs do not collide. Before any load, the
// directory must answer one request within 5 s, on a route of the
// client's namespace: one that does not fails Bench at once (one that
// serves another namespace with ErrBenchConfig), rather than every
// operation of the run.
func (c *Client) Bench(ctx context.Context, cfg BenchConfig) (*BenchResult, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := c.reachDir(ctx); err != nil {
		return nil, err
	}
	data := make([]byte, cfg.Size)
	rand.Read(data)
	run := time.Now().UnixNano()
	name := func(i int64) Name {
		return Name{cfg.Account, cfg.Container, fmt.Sprintf("bench-%d-%d", run, i)}
	}
	put := func(ctx context.Context, i int64) error {
		_, err := c.Put(ctx, name(i), bytes.NewReader(data), PutOptions{Size: cfg.Size,
			SizeKnown: true, Policy: cfg.Policy})
		return err
	}
	// The first puts (a get run's objects, or one before a put run) tell
	// a configuration the namespace refuses (an unknown policy, a bad
	// name), which would fail every operation of the run, from a
	// namespace that fails, which a put run measures failing.
	var err error
	if cfg.Op == "get" {
		err = c.fill(ctx, cfg, put)
	} else if err = put(ctx, 0); !errors.Is(err, meta.ErrInvalid) {
		err = nil
	}
	if errors.Is(err, meta.ErrInvalid) {
		return nil, fmt.Errorf("%w: %w", ErrBenchConfig, err)
	}
	if err != nil {
		return nil, err
	}
	op := put
	if cfg.Op == "get" {
		op = func(ctx context.Context, i int64) error {
			_, err := c.Get(ctx, name(i%int64(cfg.Objects)), 0, io.Discard)
			return err
		}
	}
	return drive(ctx, cfg, op)
}

// reachDir checks that the directory answers and serves the namespace.
func (c *Client) reachDir(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, benchReachTimeout)
	defer cancel()
	err := c.Dir.CheckNamespace(ctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, meta.ErrInvalid):
		return fmt.Errorf("%w: %w", ErrBenchConfig, err)
	default:
		return fmt.Errorf("bench: %w", meta.FirstContact(err))
	}
}

// fill writes the objects a get run reads.
func (c *Client) fill(ctx context.Context, cfg BenchConfig, put func(context.Context, int64) error) error {
	var next atomic.Int64
	errs := make([]error, cfg.Concurrency)
	var wg sync.WaitGroup
	for w := range cfg.Concurrency {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(cfg.Objects) && errs[w] == nil; i = next.Add(1) - 1 {
				errs[w] = put(ctx, i)
			}
		})
	}
	wg.Wait()
	failed := 0
	var first error
	for _, err := range errs {
		if err != nil {
			failed++
			first = cmp.Or(first, err)
		}
	}
	if first != nil {
		return fmt.Errorf("bench: write the objects to read: %d of %d workers failed, the first: %w",
			failed, cfg.Concurrency, first)
	}
	return nil
}

// drive runs op back to back on every worker and measures after warmup. A
// run whose ctx ends during the measure returns what it measured until
// then, with ctx's error; one whose ctx ends before returns no result.
func drive(ctx context.Context, cfg BenchConfig, op func(context.Context, int64) error) (*BenchResult, error) {
	var next atomic.Int64
	var measuring, stop atomic.Bool
	samples := make([][]time.Duration, cfg.Concurrency)
	fails := make([]int64, cfg.Concurrency)
	var lastErr atomic.Pointer[error]
	var wg sync.WaitGroup
	for w := range cfg.Concurrency {
		wg.Go(func() {
			failures := 0 // in a row
			for !stop.Load() && ctx.Err() == nil {
				t0 := time.Now()
				err := op(ctx, next.Add(1)-1)
				// Operations count when they complete inside the measure.
				if err != nil {
					lastErr.Store(&err) // the warmup's too: a run may measure nothing else
				}
				switch {
				case !measuring.Load() || stop.Load():
				case err != nil:
					fails[w]++
				default:
					samples[w] = append(samples[w], time.Since(t0))
				}
				if err == nil {
					failures = 0
					continue
				}
				// A namespace that fails everything is not hammered: each
				// failure in a row doubles the pause, 10 ms to 1 s.
				failures++
				sleep(ctx, min(10*time.Millisecond<<min(failures-1, 7), time.Second))
			}
		})
	}
	sleep(ctx, cfg.Warmup)
	if ctx.Err() != nil {
		stop.Store(true)
		wg.Wait()
		return nil, ctx.Err() // interrupted before the measure
	}
	measuring.Store(true)
	start := time.Now()
	sleep(ctx, cfg.Duration)
	stop.Store(true)
	elapsed := time.Since(start)
	wg.Wait()
	return summarize(samples, fails, elapsed, cfg.Size, lastErr.Load()), ctx.Err()
}

func summarize(samples [][]time.Duration, fails []int64, elapsed time.Duration, size int64,
	lastErr *error) *BenchResult {
	var all []time.Duration
	r := &BenchResult{Elapsed: elapsed}
	for w := range samples {
		all = append(all, samples[w]...)
		r.Errors += fails[w]
	}
	if lastErr != nil {
		r.LastErr = *lastErr
	}
	r.OK = int64(len(all))
	r.Bytes = r.OK * size
	if len(all) > 0 {
		slices.Sort(all)
		r.P50 = all[len(all)*50/100]
		r.P99 = all[min(len(all)-1, len(all)*99/100)]
		r.Max = all[len(all)-1]
	}
	return r
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
