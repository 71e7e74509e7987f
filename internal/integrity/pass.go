package integrity

import (
	"context"
	"errors"
	"hash/maphash"
	"sync"
	"time"

	"github.com/gridkeep/gridkeep/cache"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/rawx"
)

// Error prefixes that classify findings in the counters.
const (
	notFoundPrefix = "Not found: "
	orphanPrefix   = "Orphan: "
	notChunkPrefix = "Not a chunk file: "
	// misplacedPrefix starts the finding of a volume that holds a file
	// named like a chunk in another directory than its chunk id's.
	misplacedPrefix = "Misplaced chunk file: "
)

// pass is one walk over a set of targets. Account listings run in the
// goroutine that dispatches the targets, container listings in a few
// lister goroutines, and object and chunk checks in Concurrency workers
// fed by a channel; the chunk requests of one object run in parallel,
// bounded by the heads semaphore. Workers never submit work, so the
// bounded channel cannot deadlock.
type pass struct {
	c       *Checker
	ctx     context.Context
	recheck bool // only findings awaiting confirmation are reported

	jobs    chan func()
	workers sync.WaitGroup
	tasks   sync.WaitGroup
	listers chan struct{}
	heads   chan struct{}
	once    sync.Map // keys of parent items already reported
	seen    *urlSet  // chunk URLs met from the top down, for the volume walks
	// reported holds the keys of the items reported, when targets may
	// overlap (an object and one of its chunks), so that each is
	// reported once; it is bounded, so a huge pass may repeat an item.
	reported   *cache.Cache[string, struct{}]
	reportedMu sync.Mutex
}

func (c *Checker) pass(ctx context.Context, targets []Target, recheck bool) {
	n := c.opts.Concurrency
	p := &pass{c: c, ctx: ctx, recheck: recheck, jobs: make(chan func(), n),
		listers: make(chan struct{}, max(2, n/8)), heads: make(chan struct{}, n)}
	for range n {
		p.workers.Add(1)
		go p.work()
	}
	all := false
	for _, t := range targets {
		all = all || t == (Target{})
	}
	if len(targets) > 1 {
		p.reported, _ = cache.New(cache.Options[string, struct{}]{Capacity: c.opts.CacheSize,
			Policy: cache.FIFO})
	}
	if all {
		p.seen = newURLSet()
		p.walkAll()
	}
	for _, t := range targets {
		if ctx.Err() != nil {
			break
		}
		if t != (Target{}) {
			p.dispatch(t)
		}
	}
	p.tasks.Wait()
	if all && ctx.Err() == nil {
		p.walkVolumes()
		p.tasks.Wait()
	}
	close(p.jobs)
	p.workers.Wait()
}

func (p *pass) work() {
	defer p.workers.Done()
	for job := range p.jobs {
		job()
	}
}

// submit queues a job for the workers, waiting for room.
func (p *pass) submit(job func()) {
	p.tasks.Add(1)
	p.jobs <- func() {
		defer p.tasks.Done()
		job()
	}
}

// goList runs a container listing in a lister goroutine.
func (p *pass) goList(fn func()) {
	p.tasks.Add(1)
	p.listers <- struct{}{}
	go func() {
		defer func() { <-p.listers; p.tasks.Done() }()
		fn()
	}()
}

// dispatch starts the check of one target.
func (p *pass) dispatch(t Target) {
	d := p.depth(t)
	switch {
	case t.Volume != "":
		p.volume(t.Volume)
	case t.Kind() == KindAccount:
		p.account(t.Account, d)
	case t.Kind() == KindContainer:
		p.goList(func() {
			p.parentAccount(t.Account)
			p.container(t.Account, t.Container, d, false)
		})
	case t.Kind() == KindObject:
		p.submit(func() { p.objectTarget(t, d) })
	case !isURL(t.Chunk) && t.Object != "":
		// A metachunk position, or a chunk id without its server: check
		// the object, which checks every copy of every position.
		t.Chunk = ""
		d = p.depth(t)
		p.submit(func() { p.objectTarget(t, d) })
	default:
		p.submit(func() { p.chunkTarget(t, nil, true) })
	}
}

// depth returns the levels to check below t. Re-checks for confirmation
// look at the item itself and, for an object, its chunks.
func (p *pass) depth(t Target) int {
	if p.recheck {
		if t.Kind() == KindObject {
			return 1
		}
		return 0
	}
	return max(p.c.opts.Depth, 0)
}

// emit reports a result, unless it must wait for confirmation or, in a
// re-check, concerns an item not awaiting confirmation. A result whose
// check was cut short by the end of the run is dropped.
func (p *pass) emit(r Result) {
	c := p.c
	if !r.Finding() && len(r.Failed) > 0 && p.ctx.Err() != nil {
		return // cut short by the end of the run: not checked, not reported
	}
	if p.recheck && !c.delays.pending(r.key()) {
		return
	}
	if p.reported != nil && p.duplicate(r.key()) {
		return
	}
	if !c.delays.admit(&r) {
		return
	}
	c.stats.count(&r)
	c.output(p.ctx, &r)
}

// duplicate reports whether an item was reported already, and records it.
func (p *pass) duplicate(key string) bool {
	p.reportedMu.Lock()
	defer p.reportedMu.Unlock()
	if _, dup := p.reported.Get(key); dup {
		return true
	}
	p.reported.Set(key, struct{}{})
	return false
}

// emitOnce reports a parent item once per pass.
func (p *pass) emitOnce(r Result) {
	if _, dup := p.once.LoadOrStore(r.key(), true); !dup {
		p.emit(r)
	}
}

// output hands a reported result to the report callback and, when it is
// a finding, to the files and the bus, one result at a time. The first
// write error is kept.
func (c *Checker) output(ctx context.Context, r *Result) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	if c.opts.Report != nil {
		c.opts.Report(*r)
	}
	if !r.Finding() {
		return
	}
	c.keep(func() error {
		if c.opts.ErrorFile == nil {
			return nil
		}
		return WriteErrorLine(c.opts.ErrorFile, r)
	})
	if r.Kind != KindChunk {
		return
	}
	c.keep(func() error {
		if c.opts.RebuildFile == nil {
			return nil
		}
		return WriteRebuildLine(c.opts.RebuildFile, r)
	})
	c.keep(func() error {
		if c.opts.Events == nil {
			return nil
		}
		ev, err := BrokenEvent(c.opts.Namespace, r)
		if err == nil {
			err = c.opts.Events.Publish(ctx, ev)
		}
		return err
	})
}

// keep runs an output step and remembers its first failure; the caller
// holds outMu.
func (c *Checker) keep(fn func() error) {
	if err := fn(); err != nil && c.outErr == nil {
		c.outErr = err
	}
}

// retry runs a request up to Attempts times while it fails for a reason
// that may pass: not for an item that does not exist or a request refused.
func (p *pass) retry(fn func() error) error {
	var err error
	for i := range p.c.opts.Attempts {
		if i > 0 {
			select {
			case <-p.ctx.Done():
				return err
			case <-time.After(time.Duration(i) * 100 * time.Millisecond):
			}
		}
		if err = fn(); err == nil || definitive(err) {
			return err
		}
	}
	return err
}

func definitive(err error) bool {
	for _, e := range []error{meta.ErrNoSuchAccount, meta.ErrNoSuchContainer,
		meta.ErrNoSuchObject, meta.ErrInvalid, rawx.ErrBadRequest, context.Canceled} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// lookupError sorts a failed directory request: a missing item is a
// finding ("Not found"); any other failure means that the item could not
// be checked, which is no finding.
func lookupError(r *Result, what string, err error) {
	if meta.Missing(err) {
		r.Errors = append(r.Errors, notFoundPrefix+err.Error())
		return
	}
	r.fail(what, err)
}

// serviceError sorts the failure of a request made at a chunk server or a
// reverse index at time at. It is a finding about that service
// ("Unavailable") when the directory still answers; when the run ended or
// the directory does not answer either, the item could not be checked.
func (p *pass) serviceError(r *Result, what string, err error, at time.Time) {
	if p.cutShort(err, at) {
		r.fail(what, err)
		return
	}
	msg := "Unavailable: " + err.Error()
	if what != "" {
		msg = "Unavailable: " + what + ": " + err.Error()
	}
	r.Errors = append(r.Errors, msg)
}

// cutShort reports whether a request made at time at failed because the
// run ended or the directory stopped answering, rather than because of
// the service asked.
func (p *pass) cutShort(err error, at time.Time) bool {
	var se *rawx.StatusError
	switch {
	case p.ctx.Err() != nil || errors.Is(err, context.Canceled):
		return true
	case errors.As(err, &se) || errors.Is(err, meta.ErrNoSuchService):
		return false // the service, or the directory, answered
	}
	return !p.c.dirAnswers(p.ctx, at)
}

// urlSet is a set of chunk URLs safe for concurrent use. A check of the
// whole namespace keeps every chunk URL it met until its volume walks
// end, so a URL is kept as a 128-bit hash of it: 36 to 53 bytes a chunk
// with the map's own, against 116 to 133 for the URLs themselves (a
// million and more entries, measured). Two URLs of a hundred million meet
// with a probability under 10^-22, and a URL taken for another is only a
// chunk the volume walk skips.
type urlSet struct {
	seeds  [2]maphash.Seed
	shards [16]struct {
		sync.Mutex
		m map[[2]uint64]struct{}
	}
}

func newURLSet() *urlSet {
	s := &urlSet{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
	for i := range s.shards {
		s.shards[i].m = map[[2]uint64]struct{}{}
	}
	return s
}

func (s *urlSet) key(u string) [2]uint64 {
	return [2]uint64{maphash.String(s.seeds[0], u), maphash.String(s.seeds[1], u)}
}

func (s *urlSet) add(u string) {
	k := s.key(u)
	sh := &s.shards[k[0]%uint64(len(s.shards))]
	sh.Lock()
	sh.m[k] = struct{}{}
	sh.Unlock()
}

func (s *urlSet) has(u string) bool {
	if s == nil {
		return false
	}
	k := s.key(u)
	sh := &s.shards[k[0]%uint64(len(s.shards))]
	sh.Lock()
	defer sh.Unlock()
	_, ok := sh.m[k]
	return ok
}
