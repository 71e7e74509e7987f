package convert

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/parallel"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

// feed yields the chunk files of a pass.
type feed func(yield func(item, error) bool)

// errStop ends a walk early.
var errStop = errors.New("stop")

// WalkWindow is how many chunk files a run sorts by inode at a time (see
// chunk.WalkByInode). The walk holds two windows of paths, about 120 bytes
// a file: 240 MB at most, for volumes of over a million chunks.
const WalkWindow = 1 << 20

// mainFeed walks the volume, or reads Options.Input.
func (c *Converter) mainFeed() feed {
	if c.o.Input != nil {
		return c.inputFeed()
	}
	return func(yield func(item, error) bool) {
		err := chunk.WalkByInode(c.o.Volume, WalkWindow, c.unreadableDir, func(f chunk.File) error {
			rel, _ := filepath.Rel(c.o.Volume, f.Path)
			if !yield(item{path: f.Path, rel: rel, id: filepath.Base(f.Path), walked: true}, nil) {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			yield(item{}, fmt.Errorf("walk volume: %w", err))
		}
	}
}

// unreadableDir reports a directory of the volume that could not be read,
// or a symbolic link standing for a chunk or a chunk directory, as failed:
// the chunks they hold or lead to are left as they are, and the run goes
// on.
func (c *Converter) unreadableDir(dir string, err error) {
	p := &plan{item: item{path: dir}, res: Result{Path: dir}}
	if errors.Is(err, chunk.ErrSymlink) {
		c.finish(p.fail(symlinkError(err)))
		return
	}
	c.finish(p.fail(fmt.Errorf("directory not read, its chunks left as they are: %w", err)))
}

// inputFeed turns the paths of Options.Input into items. A path outside
// the volume is an item that will be reported as failed, a path not named
// like a chunk one reported as NotChunk; an error reading the input stops
// the pass.
func (c *Converter) inputFeed() feed {
	return func(yield func(item, error) bool) {
		for path, err := range c.inputPaths {
			if !yield(c.inputItem(path), err) || err != nil {
				return
			}
		}
	}
}

// inputPaths yields the paths of Options.Input, absolute and clean, each
// once: a path listed again (in another spelling too, "a//b" for "a/b")
// is skipped, as visiting it again would count its chunk twice. The set
// of paths seen grows with the input, about a hundred bytes a path: 100 MB
// for a list of a million chunks, about what the walk of a volume holds
// in one window (see WalkWindow).
func (c *Converter) inputPaths(yield func(string, error) bool) {
	seen := map[string]struct{}{}
	for path, err := range c.o.Input {
		if err == nil {
			if !filepath.IsAbs(path) {
				path = filepath.Join(c.o.Volume, path)
			}
			path = filepath.Clean(path)
			if _, ok := seen[path]; ok {
				continue
			}
			seen[path] = struct{}{}
		}
		if !yield(path, err) || err != nil {
			return
		}
	}
}

// inputItem makes the item of path, absolute and clean.
func (c *Converter) inputItem(path string) item {
	it := item{path: path, id: filepath.Base(path)}
	// The directories on the way may be symbolic links: the file is where
	// they lead, which must be inside the volume too.
	dir, err := filepath.EvalSymlinks(filepath.Dir(path))
	if err != nil {
		it.err = fmt.Errorf("chunk %s: %w", path, err)
		return it
	}
	if resolved := filepath.Join(dir, it.id); !inside(c.o.Volume, resolved) {
		it.err = fmt.Errorf("%s is not inside the volume %s", path, c.o.Volume)
	} else {
		it.path = resolved
		it.rel, _ = filepath.Rel(c.o.Volume, resolved)
	}
	return it
}

func sliceFeed(items []item) feed {
	return func(yield func(item, error) bool) {
		for _, it := range items {
			if !yield(it, nil) {
				return
			}
		}
	}
}

// pass plans the chunks of feed with Options.Concurrency workers and
// commits them in batches. It returns the items that must be visited
// again: deferred ones (another name of their inode was in flight) and
// those whose owner must come from the reverse index.
func (c *Converter) pass(ctx context.Context, f feed, first bool) (deferred, needRdir []item,
	err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	items := make(chan item, 4*c.o.Concurrency)
	plans := make(chan *plan, 4*c.o.Concurrency)
	var feedErr error
	go func() {
		defer close(items)
		feedErr = c.feedItems(ctx, f, first, items)
	}()
	var wg sync.WaitGroup
	for range c.o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range items {
				plans <- c.prepare(ctx, it)
			}
		}()
	}
	go func() { wg.Wait(); close(plans) }()

	batches := make(chan []*plan, 1)
	commitErr := make(chan error, 1)
	go func() { commitErr <- c.commitAll(batches, cancel) }()
	deferred, needRdir = c.collect(plans, batches)
	err = <-commitErr
	if err == nil {
		err = feedErr
	}
	if err == nil {
		err = ctx.Err()
	}
	return deferred, needRdir, err
}

// collect sorts the plans: chunks to visit again, chunks to commit (sent
// in batches, see batchFull and maxBatchAge), chunks whose outcome is
// known. It closes batches.
func (c *Converter) collect(plans <-chan *plan, batches chan<- []*plan) (deferred,
	needRdir []item) {
	var batch []*plan
	var started time.Time
	tick := time.NewTicker(maxBatchAge / 4)
	defer tick.Stop()
	for {
		var p *plan
		select {
		case p = <-plans:
		case <-tick.C:
			if len(batch) > 0 && time.Since(started) >= maxBatchAge {
				batches <- batch
				batch = nil
			}
			continue
		}
		if p == nil {
			break // plans closed
		}
		switch {
		case p.cut:
			if p.claimed {
				c.claims.release(p.ino)
			}
		case p.deferred:
			deferred = append(deferred, p.item)
		case p.needRdir:
			c.claims.release(p.ino)
			needRdir = append(needRdir, p.item)
		case p.res.Outcome == Converted && !c.o.DryRun:
			if len(batch) == 0 {
				started = time.Now()
			}
			if batch = append(batch, p); c.batchFull(len(batch), time.Since(started)) {
				batches <- batch
				batch = nil
			}
		default:
			c.finish(p)
		}
	}
	if len(batch) > 0 {
		batches <- batch
	}
	close(batches)
	return deferred, needRdir
}

// maxBatchAge is how long a batch may wait for more chunks: a slowly paced
// run commits what it has done at least this often, instead of holding
// Options.BatchSize chunks (minutes at a few chunks per second) that a
// kill would make it do again.
const maxBatchAge = 2 * time.Second

// maxBatchFactor bounds batches to this many times Options.BatchSize.
const maxBatchFactor = 16

// batchFull reports whether a batch of n chunks, filled in elapsed, is
// complete: it has Options.BatchSize chunks and, when the volume's last
// sync took longer, as many as the planners make in two syncs (up to
// maxBatchFactor times BatchSize), so that the sync of one batch is over
// before the next is ready and never holds the planners up. On a
// filesystem that other work keeps busy a sync can take a second.
func (c *Converter) batchFull(n int, elapsed time.Duration) bool {
	if n < c.o.BatchSize {
		return false
	}
	if n >= maxBatchFactor*c.o.BatchSize || elapsed <= 0 {
		return true
	}
	perSync := 2 * float64(n) * float64(c.lastSync.Load()) / float64(elapsed)
	return float64(n) >= perSync
}

// feedItems sends the items of f, pacing them if it is the first pass:
// the chunks visited again in later passes were counted in the first.
func (c *Converter) feedItems(ctx context.Context, f feed, paced bool, out chan<- item) error {
	var err error
	f(func(it item, ferr error) bool {
		if ferr != nil {
			err = ferr
			return false
		}
		if paced {
			if err = c.pacer.Wait(ctx, 1, 0); err != nil {
				return false
			}
		}
		select {
		case out <- it:
			return true
		case <-ctx.Done():
			err = ctx.Err()
			return false
		}
	})
	return err
}

// prepare plans one chunk.
func (c *Converter) prepare(ctx context.Context, it item) *plan {
	if it.err != nil {
		p := &plan{item: it, res: Result{Path: it.path}}
		return p.fail(it.err)
	}
	if !chunk.IsID(it.id) {
		return notChunk(it)
	}
	p := c.planChunk(ctx, it)
	p.cut = p.res.Outcome == Failed && ctx.Err() != nil
	return p
}

// notChunk reports an item whose name is not a chunk id, or not the
// uppercase one a chunk server looks for: a chunk file named in lowercase
// is as good as lost to its chunk server. An input line may name a
// directory, which is said first, whatever its name.
func notChunk(it item) *plan {
	why := "the name is not a chunk id"
	var st unix.Stat_t
	if !it.walked && unix.Lstat(it.path, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
		why = "a directory"
	} else if upper, err := chunk.NormalizeID(it.id); err == nil {
		why = "the name is not in uppercase, and the chunk server looks for chunk files by their " +
			"uppercase names: it looks for this one as " + upper
	}
	return &plan{item: it, res: Result{Path: it.path, Outcome: NotChunk,
		Err: errors.New("not a chunk: " + why)}}
}

// commitAll commits batches in order, in three stages that overlap: the
// backup and new keys of a batch are written while the volume syncs those
// of the batch before, and legacy keys are removed from the batch before
// that. After a failure it commits nothing more, reports the remaining
// chunks as failed, and stops the pass.
func (c *Converter) commitAll(batches <-chan []*plan, stop func()) error {
	var failed atomic.Pointer[error]
	fail := func(err error) {
		if err != nil && failed.CompareAndSwap(nil, &err) {
			stop()
		}
	}
	stopped := func() error {
		if p := failed.Load(); p != nil {
			return *p
		}
		return nil
	}
	set := make(chan []*plan, 1)
	synced := make(chan []*plan, 1)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // sync
		defer wg.Done()
		defer close(synced)
		for b := range set {
			if stopped() == nil {
				fail(c.sync(c.volFd, "volume"))
			}
			synced <- b
		}
	}()
	go func() { // remove
		defer wg.Done()
		for b := range synced {
			err := stopped()
			if err == nil {
				c.removeLegacy(b)
			}
			c.finishBatch(b, err)
		}
	}()
	for b := range batches {
		if stopped() == nil {
			fail(c.backupAndSet(b))
		}
		set <- b
	}
	close(set)
	wg.Wait()
	return stopped()
}

// finishBatch records the outcomes of a batch; err, if set, stopped it.
func (c *Converter) finishBatch(b []*plan, err error) {
	for _, p := range b {
		if err != nil && p.res.Outcome == Converted {
			p.fail(fmt.Errorf("not converted: %w", err))
		}
		c.finish(p)
	}
}

// backupAndSet writes a batch's backup and makes it durable, then sets the
// new keys the planners have not set.
func (c *Converter) backupAndSet(b []*plan) error {
	if c.backups != nil {
		if err := c.backups.write(b); err != nil {
			return err
		}
	}
	c.wrote.Store(true)
	c.parallel(b, func(p *plan) {
		if p.setEarly {
			return
		}
		if err := chunk.SetAttrs(p.path, p.set); err != nil {
			undoSet(p, func(at []chunk.Attr) error { return chunk.SetAttrs(p.path, at) },
				func(name string) error { return chunk.RemoveAttr(p.path, name) })
			p.fail(c.setError(err))
		}
	})
	return nil
}

// removeLegacy removes the legacy keys of a batch whose new keys are
// durable.
func (c *Converter) removeLegacy(b []*plan) {
	c.parallel(b, func(p *plan) {
		if p.res.Outcome != Converted || len(p.remove) == 0 {
			return
		}
		fd, err := openChunk(p.path, p.ino)
		if err != nil {
			p.fail(err)
			return
		}
		defer unix.Close(fd)
		a := fdAttrs.Get().(*chunk.FdAttrs)
		defer fdAttrs.Put(a)
		for _, name := range p.remove {
			if err := a.Remove(fd, name); err != nil {
				p.fail(fmt.Errorf("remove from %s: %w", p.path, err))
				return
			}
		}
	})
}

// parallel calls f on every plan of b with Options.Concurrency goroutines.
func (c *Converter) parallel(b []*plan, f func(*plan)) {
	parallel.For(len(b), c.o.Concurrency, func(i int) { f(b[i]) })
}

// attachRecords scans the reverse index of the volume once and gives each
// item its records (none when the chunk is not indexed). If the scan fails,
// the items are reported as failed and none is returned.
func (c *Converter) attachRecords(ctx context.Context, items []item) ([]item, error) {
	want := make(map[string]int, len(items))
	for i, it := range items {
		want[it.id] = i
		items[i].recs = []rdir.Record{}
	}
	var scanErr error
	for r, err := range rdir.All(ctx, c.o.Rdir, c.vol.ServiceID, rdir.ListOptions{Limit: rdir.MaxLimit}) {
		if err != nil {
			scanErr = err
			break
		}
		if i, ok := want[strings.ToUpper(r.ChunkID)]; ok {
			items[i].recs = append(items[i].recs, r)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if scanErr == nil {
		return items, nil
	}
	for _, it := range items {
		p := &plan{item: it, res: Result{Path: it.path, ChunkID: it.id}}
		c.finish(p.fail(fmt.Errorf("scan the reverse index: %w", scanErr)))
	}
	return nil, nil
}
