package integrity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gridkeep/gridkeep/cache"
	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/httpclient"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/pace"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

// Defaults of Options.
const (
	DefaultDepth        = 4
	DefaultConcurrency  = 30
	DefaultCacheSize    = cache.DefaultCapacity
	DefaultOrphanMinAge = time.Hour
)

// TargetOnly, as Options.Depth, checks the targets and no level below.
const TargetOnly = -1

// Publisher is where broken-object events go; event.Bus is one.
type Publisher interface {
	Publish(ctx context.Context, ev event.Event) error
}

// Options tune a Checker. The zero value checks everything below each
// target, 30 items at once, with no pacing and no output but the counters.
type Options struct {
	// Depth is how many levels below each target are checked (account,
	// container, object, chunk); 0 means DefaultDepth, TargetOnly none.
	// The parents of a target are always checked for its membership in
	// their listings.
	Depth int
	// Concurrency bounds the items checked at once; 0 means
	// DefaultConcurrency.
	Concurrency int
	// Attempts is how many times a directory or chunk server request is
	// tried before its failure counts; 0 means 1.
	Attempts int
	// Checksum makes chunk servers re-read and re-hash each chunk.
	Checksum bool
	// Confirmations is how many more times a problem must be seen before
	// it is reported, and TimeInError how long it must have lasted. A
	// problem that clears meanwhile is forgotten; once reported, it is
	// reported at each sighting until it clears (see Daemon).
	Confirmations int
	TimeInError   time.Duration
	// OrphanMinAge is how old a chunk no object owns must be to count as
	// an orphan, so that chunks of uploads in progress are left alone;
	// 0 means DefaultOrphanMinAge, a negative value no minimum.
	OrphanMinAge time.Duration
	// Pacer paces the checks (items are checked items, bytes the chunk
	// data re-hashed); nil means no pacing.
	Pacer *pace.Pacer
	// Report receives every reported result, one call at a time.
	Report func(Result)
	// ErrorFile receives a line per finding and RebuildFile a line per
	// chunk finding, in OpenIO's formats (see WriteErrorLine and
	// WriteRebuildLine).
	ErrorFile   io.Writer
	RebuildFile io.Writer
	// Events receives a storage.content.broken event per chunk finding,
	// for the rebuilder. Namespace names the namespace in them; "" means
	// meta.DefaultNamespace.
	Events    Publisher
	Namespace string
	// CacheSize bounds the listing and metadata caches, in entries each;
	// 0 means DefaultCacheSize.
	CacheSize int
	// HTTPClient talks to chunk servers; nil means one over
	// rawx.DefaultTransport.
	HTTPClient *http.Client
	// Now is the clock of confirmations; nil means time.Now.
	Now func() time.Time
}

func (o *Options) withDefaults() {
	if o.Depth == 0 {
		o.Depth = DefaultDepth
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Attempts <= 0 {
		o.Attempts = 1
	}
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.OrphanMinAge == 0 {
		o.OrphanMinAge = DefaultOrphanMinAge
	}
	if o.Namespace == "" {
		o.Namespace = meta.DefaultNamespace
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Checker checks namespace items against their parents' listings, their
// copies and their chunk servers, and reports what is wrong (see the
// package documentation). One Checker runs one pass at a time.
type Checker struct {
	opts     Options
	proxyURL string
	dirHTTP  *http.Client
	dir      *meta.Client
	resolve  *Resolver
	probe    *Prober

	members  *cache.Cache[memberKey, listed]        // listing memberships
	versions *cache.Cache[objectKey, []meta.Object] // versions of one name
	objects  *cache.Cache[contentKey, *meta.Object] // located objects
	rdirs    *cache.Cache[string, *rdir.Client]     // by volume
	// containerNames maps container ids to account and container names.
	containerNames *cache.Cache[string, [2]string]

	delays *delays
	stats  counters
	outMu  sync.Mutex
	outErr error

	// pingMu guards the last answer of the directory to dirAnswers.
	pingMu sync.Mutex
	pinged time.Time
	pingOK bool
}

// New returns a checker of the namespace whose directory API is at
// proxyURL ("http://host:port").
func New(proxyURL string, opts Options) (*Checker, error) {
	opts.withDefaults()
	if opts.Confirmations < 0 || opts.TimeInError < 0 {
		return nil, errors.New("integrity: negative confirmations or time in error")
	}
	hc := httpclient.Client(60 * time.Second)
	dir, err := meta.NewClient(proxyURL, meta.ClientOptions{Namespace: opts.Namespace,
		HTTPClient: hc})
	if err != nil {
		return nil, fmt.Errorf("integrity: %w", err)
	}
	c := &Checker{opts: opts, proxyURL: strings.TrimSuffix(proxyURL, "/"), dirHTTP: hc,
		dir: dir, resolve: NewResolver(dir),
		delays: newDelays(opts.Confirmations, opts.TimeInError, opts.Now)}
	c.probe = NewProber(c.resolve, opts.HTTPClient)
	if c.members, err = cache.New(cache.Options[memberKey, listed]{
		Capacity: opts.CacheSize}); err != nil {
		return nil, fmt.Errorf("integrity: %w", err)
	}
	if c.versions, err = cache.New(cache.Options[objectKey, []meta.Object]{
		Capacity: opts.CacheSize}); err != nil {
		return nil, fmt.Errorf("integrity: %w", err)
	}
	if c.objects, err = cache.New(cache.Options[contentKey, *meta.Object]{
		Capacity: opts.CacheSize}); err != nil {
		return nil, fmt.Errorf("integrity: %w", err)
	}
	if c.rdirs, err = cache.New(cache.Options[string, *rdir.Client]{Capacity: 1024}); err != nil {
		return nil, fmt.Errorf("integrity: %w", err)
	}
	if c.containerNames, err = cache.New(cache.Options[string, [2]string]{
		Capacity: opts.CacheSize}); err != nil {
		return nil, fmt.Errorf("integrity: %w", err)
	}
	c.stats.reset()
	return c, nil
}

// Stats returns the counters of the pass in progress or last finished.
func (c *Checker) Stats() Stats {
	s := c.stats.snapshot()
	s.Delayed = c.delays.len()
	return s
}

// Ping checks that the directory answers, so that a caller can tell a
// check that could not run from one that found problems.
func (c *Checker) Ping(ctx context.Context) error {
	if _, err := c.resolve.Services(ctx); err != nil {
		return meta.FirstContact(err)
	}
	return nil
}

// ResolveTargets returns targets with every chunk URL's host written as
// the directory writes it, a service id (see Resolver.ServiceID), and
// checks that every chunk and volume named is on a registered chunk
// server. An address
// or volume the directory does not know fails with meta.ErrNoSuchService.
func (c *Checker) ResolveTargets(ctx context.Context, targets []Target) ([]Target, error) {
	out := slices.Clone(targets)
	for i, t := range out {
		switch {
		case t.Volume != "" && t.Volume != "*":
			id, err := c.resolve.RegisteredID(ctx, t.Volume)
			if err != nil {
				return nil, fmt.Errorf("volume %s: %w", t.Volume, err)
			}
			out[i].Volume = id
		case isURL(t.Chunk):
			u, err := c.resolve.RegisteredChunkURL(ctx, t.Chunk)
			if err != nil {
				return nil, err
			}
			out[i].Chunk = u
		}
	}
	return out, nil
}

// dirAnswers reports whether the directory answers a request sent after
// time since; requests sent at once share one answer.
func (c *Checker) dirAnswers(ctx context.Context, since time.Time) bool {
	c.pingMu.Lock()
	defer c.pingMu.Unlock()
	if !c.pinged.Before(since) {
		return c.pingOK
	}
	c.pinged = time.Now()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := c.resolve.Services(ctx)
	c.pingOK = err == nil
	return c.pingOK
}

// Run checks the targets once (a zero Target means the whole namespace:
// every account, then every chunk server's volume), then checks again the
// findings awaiting confirmation until each is reported or cleared. It
// returns the pass's counters; its error is not nil only when ctx ended
// or an output could not be written. The items whose check ctx cut short
// are not reported; Stats.Interrupted says so.
func (c *Checker) Run(ctx context.Context, targets []Target) (Stats, error) {
	c.stats.reset()
	c.clearCaches()
	c.pass(ctx, targets, false)
	for ctx.Err() == nil && c.delays.len() > 0 {
		if err := c.sleep(ctx, c.delays.wait()); err != nil {
			break
		}
		c.pass(ctx, c.delays.targets(), true)
	}
	c.delays.dropConfirmed()
	c.stats.interrupted.Store(ctx.Err() != nil)
	return c.Stats(), c.finish(ctx)
}

// Daemon runs passes over the targets until ctx is done, pausing between
// them; findings awaiting confirmation carry over from one pass to the
// next. A confirmed finding is reported at every pass while it persists;
// a finding, confirmed or not, is forgotten when its item checks OK or is
// not met in a pass. done is called after each pass with its counters.
func (c *Checker) Daemon(ctx context.Context, targets []Target, pause time.Duration,
	done func(Stats)) error {
	for ctx.Err() == nil {
		c.stats.reset()
		c.clearCaches()
		c.delays.startPass()
		c.pass(ctx, targets, false)
		c.delays.endPass()
		c.stats.interrupted.Store(ctx.Err() != nil)
		if done != nil {
			done(c.Stats())
		}
		if err := c.writeErr(); err != nil {
			return err
		}
		if c.sleep(ctx, pause) != nil {
			break
		}
	}
	return nil
}

func (c *Checker) finish(ctx context.Context) error {
	if err := c.writeErr(); err != nil {
		return err
	}
	return ctx.Err()
}

func (c *Checker) writeErr() error {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	return c.outErr
}

func (c *Checker) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// clearCaches empties the caches that hold something, so that a pass
// sees the namespace as it is now.
func (c *Checker) clearCaches() {
	for _, cl := range []interface {
		Len() int
		Clear()
	}{c.members, c.versions, c.objects, c.containerNames} {
		if cl.Len() > 0 {
			cl.Clear()
		}
	}
}
