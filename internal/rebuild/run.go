package rebuild

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gridkeep/gridkeep/internal/agent"
	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/integrity"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

// Stats count what a run did so far. Expected is the number of entries to
// process when known (a volume's reverse index count), else 0.
type Stats struct {
	Processed   int64
	Rebuilt     int64
	Bytes       int64
	Healthy     int64
	Reindexed   int64 // healthy copies whose reverse index record was added
	Orphans     int64 // orphan chunks deleted
	Extras      int64 // unlisted extra copies of healthy objects deleted
	Recorded    int64 // unlisted copies recorded in place of lost ones
	Kept        int64 // unlisted chunks left in place
	Unknown     int64 // chunks gone whose owner is unknown
	Irreparable int64
	Planned     int64
	Failed      int64
	Interrupted int64 // entries cut short by the end of the run
	Expected    int64
	Elapsed     time.Duration
}

// OK reports whether every entry ended well: no failure, nothing
// irreparable, no unlisted chunk kept, no owner unknown and nothing
// interrupted.
func (s Stats) OK() bool {
	return s.Failed == 0 && s.Irreparable == 0 && s.Kept == 0 && s.Unknown == 0 &&
		s.Interrupted == 0
}

// WriteText writes the summary of a run.
func (s Stats) WriteText(w io.Writer) error {
	secs := max(s.Elapsed.Seconds(), 1e-9)
	var b strings.Builder
	fmt.Fprintf(&b, "\nReport\n%-20s: %d\n", "Entries", s.Processed)
	fmt.Fprintf(&b, "%-20s: %d (%d bytes, %.1f MB/s)\n", "Rebuilt", s.Rebuilt, s.Bytes,
		float64(s.Bytes)/secs/1e6)
	for _, c := range []struct {
		label string
		n     int64
	}{
		{"Recorded in place", s.Recorded}, {"Healthy", s.Healthy}, {"Reindexed", s.Reindexed},
		{"Orphans removed", s.Orphans}, {"Extra copies removed", s.Extras}, {"Kept", s.Kept},
		{"Owner unknown", s.Unknown}, {"Irreparable", s.Irreparable}, {"Planned", s.Planned},
		{"Failed", s.Failed}, {"Interrupted", s.Interrupted},
	} {
		fmt.Fprintf(&b, "%-20s: %d\n", c.label, c.n)
	}
	fmt.Fprintf(&b, "%-20s: %s (%.0f entries/s)\n", "Elapsed", s.Elapsed.Round(time.Millisecond),
		float64(s.Processed)/secs)
	_, err := io.WriteString(w, b.String())
	return err
}

// counters are the live Stats of a run.
type counters struct {
	processed, rebuilt, recorded, bytes, healthy, reindexed, orphans, extras atomic.Int64
	kept, unknown, irreparable, planned, failed, interrupted, expected       atomic.Int64
	start                                                                    time.Time
}

func (c *counters) add(res Result) {
	c.processed.Add(1)
	c.bytes.Add(res.Bytes)
	switch res.Outcome {
	case Rebuilt:
		c.rebuilt.Add(1)
	case Healthy:
		c.healthy.Add(1)
	case Reindexed:
		c.reindexed.Add(1)
	case Recorded:
		c.recorded.Add(1)
	case OrphanRemoved:
		c.orphans.Add(1)
	case ExtraRemoved:
		c.extras.Add(1)
	case Kept:
		c.kept.Add(1)
	case Unknown:
		c.unknown.Add(1)
	case Irreparable:
		c.irreparable.Add(1)
	case Planned:
		c.planned.Add(1)
	case Interrupted:
		c.interrupted.Add(1)
	default:
		c.failed.Add(1)
	}
}

func (c *counters) snapshot() Stats {
	return Stats{Processed: c.processed.Load(), Rebuilt: c.rebuilt.Load(),
		Recorded: c.recorded.Load(), Bytes: c.bytes.Load(), Healthy: c.healthy.Load(),
		Reindexed: c.reindexed.Load(), Orphans: c.orphans.Load(), Extras: c.extras.Load(), Kept: c.kept.Load(),
		Unknown: c.unknown.Load(), Irreparable: c.irreparable.Load(), Planned: c.planned.Load(),
		Failed: c.failed.Load(), Interrupted: c.interrupted.Load(), Expected: c.expected.Load(),
		Elapsed: time.Since(c.start)}
}

// Run is one pass of a Rebuilder over a stream of entries. Stats may be
// read while it runs.
type Run struct {
	r     *Rebuilder
	stats counters
}

// NewRun returns a run of r.
func (r *Rebuilder) NewRun() *Run { return &Run{r: r, stats: counters{start: time.Now()}} }

// Stats returns the counters so far.
func (run *Run) Stats() Stats { return run.stats.snapshot() }

// SetExpected records how many entries the run will see, for progress.
func (run *Run) SetExpected(n int64) { run.stats.expected.Store(n) }

// Process rebuilds every entry of entries with Options.Concurrency workers,
// paced, reporting each result. It stops early when ctx is done or
// entries yields an error, which it returns: once ctx is done, no entry is
// started, those under way end Interrupted, and ctx's error is returned
// unless every entry was finished.
func (run *Run) Process(ctx context.Context, entries iter.Seq2[integrity.RebuildEntry, error]) error {
	r := run.r
	jobs := make(chan integrity.RebuildEntry)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range r.opts.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range jobs {
				res := r.Rebuild(ctx, e)
				run.stats.add(res)
				if r.opts.Report != nil {
					mu.Lock()
					r.opts.Report(res)
					mu.Unlock()
				}
			}
		}()
	}
	var err error
	for e, ierr := range entries {
		if ierr != nil {
			err = ierr
			break
		}
		if err = r.opts.Pacer.Wait(ctx, 1, 0); err != nil {
			break
		}
		if err = ctx.Err(); err != nil {
			break
		}
		select {
		case jobs <- e:
			continue
		case <-ctx.Done():
		}
		err = ctx.Err()
		break
	}
	close(jobs)
	wg.Wait()
	if err == nil && run.stats.interrupted.Load() > 0 {
		err = ctx.Err()
	}
	return err
}

// Slice yields the entries of a slice.
func Slice(entries []integrity.RebuildEntry) iter.Seq2[integrity.RebuildEntry, error] {
	return func(yield func(integrity.RebuildEntry, error) bool) {
		for _, e := range entries {
			if !yield(e, nil) {
				return
			}
		}
	}
}

// VolumeEntries yields an entry for every chunk the reverse index says the
// volume of chunk server svc holds, and returns their number (0 if it
// could not be counted). Rebuild them with svc in Options.LostVolumes so
// that copies on a server that does not answer count as lost. The volume
// may be one no chunk server serves any more, if its reverse index is
// kept; another that the directory does not know fails with
// meta.ErrNoSuchService.
func (r *Rebuilder) VolumeEntries(ctx context.Context, svc string) (
	iter.Seq2[integrity.RebuildEntry, error], int64, error) {
	svcs, err := r.services.get(ctx)
	if err != nil {
		return nil, 0, err
	}
	registered := slices.ContainsFunc(svcs, func(s meta.Service) bool { return s.ID == svc })
	unknown := fmt.Errorf("volume %s: %w (and its reverse index has no records)", svc, meta.ErrNoSuchService)
	rc, err := r.rdirFor(ctx, svc)
	switch {
	case err != nil && !registered:
		return nil, 0, unknown
	case err != nil:
		return nil, 0, err
	}
	st, err := rdir.FullStatus(ctx, rc, svc, rdir.ListOptions{})
	switch {
	case errors.Is(err, rdir.ErrNoVolume) && !registered:
		return nil, 0, unknown
	case errors.Is(err, rdir.ErrNoVolume):
		return Slice(nil), 0, nil // nothing was ever indexed on this volume
	case err != nil:
		return nil, 0, fmt.Errorf("reverse index of %s: %w", svc, err)
	}
	seq := func(yield func(integrity.RebuildEntry, error) bool) {
		for rec, err := range rdir.All(ctx, rc, svc, rdir.ListOptions{Limit: rdir.MaxLimit}) {
			e := integrity.RebuildEntry{ContainerID: rec.ContainerID, ContentID: rec.ContentID,
				Path: rec.Path, Version: rec.Version, Chunk: rawx.ChunkURL(svc, rec.ChunkID)}
			if !yield(e, err) || err != nil {
				return
			}
		}
	}
	return seq, st.Chunk.Total, nil
}

// VolumeID returns the service id of a registered chunk server named by
// its id (in any case) or its address. Another id is returned as it is,
// for VolumeEntries to look for in the reverse index; another address
// fails with meta.ErrNoSuchService.
func (r *Rebuilder) VolumeID(ctx context.Context, name string) (string, error) {
	id, err := r.resolve.RegisteredID(ctx, name)
	if errors.Is(err, meta.ErrNoSuchService) && !strings.Contains(name, ":") {
		return name, nil // maybe a volume no chunk server serves any more: see VolumeEntries
	}
	if err != nil {
		return "", fmt.Errorf("volume %s: %w", name, err)
	}
	return id, nil
}

// Step returns the agent step that rebuilds what storage.content.broken
// events announce. Irreparable entries are acknowledged and skipped;
// entries that fail are retried by the bus.
func Step(r *Rebuilder) agent.Step {
	return agent.Step{
		Name:    "rebuilder",
		Types:   []string{event.ContentBroken},
		Workers: 2,
		Handle: func(ctx context.Context, ev event.Event) error {
			entries, err := integrity.ParseBroken(ev)
			if err != nil {
				return nil // a malformed event cannot become valid by retrying
			}
			var errs []error
			for _, e := range entries {
				switch res := r.Rebuild(ctx, e); res.Outcome {
				case Failed:
					errs = append(errs, fmt.Errorf("rebuild %s: %w", e.Chunk, res.Err))
				case Interrupted:
					errs = append(errs, fmt.Errorf("rebuild %s: %w", e.Chunk, ctx.Err()))
				}
			}
			return errors.Join(errs...)
		},
	}
}

// Line returns the result as OpenIO's rebuilder prints an entry, followed
// by the outcome: "cid|content|path|version|chunk outcome[: detail]". The
// path is percent-encoded as in the rebuild file, so that a "|" in it
// cannot be taken for a separator.
func (res Result) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", res.Entry.Fields(), res.Outcome)
	switch {
	case res.Err != nil:
		b.WriteString(": " + res.ErrorText())
	case res.NewURL != "":
		b.WriteString(" to " + res.NewURL)
	}
	return b.String()
}

// ErrorText returns Err on one line, "" without one: the lines of an error
// joining several are separated by "; ".
func (res Result) ErrorText() string {
	if res.Err == nil {
		return ""
	}
	return oneLine(res.Err)
}

// oneLine returns the text of err on one line: the lines of an error
// joining several are separated by "; ".
func oneLine(err error) string {
	return strings.ReplaceAll(strings.Trim(err.Error(), "\n"), "\n", "; ")
}
