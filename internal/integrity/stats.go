package integrity

import (
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"
)

// LevelStats count the reported items of one level.
type LevelStats struct {
	Checked  int64 // items reported, OK or not
	Errors   int64 // items reported with errors
	NotFound int64 // items the directory or a chunk server does not have
}

// Stats summarize a pass so far. Expected counts the objects the account
// listings announced; it may still grow while Estimated is true.
type Stats struct {
	Accounts    LevelStats
	Containers  LevelStats
	Objects     LevelStats
	Chunks      LevelStats
	Volumes     LevelStats // volume walks (errors: the walk could not be made, misplaced files)
	Orphans     int64      // chunks no object owns
	Irreparable int64      // findings no surviving copy can repair
	Bytes       int64      // chunk data re-hashed by chunk servers (--checksum)
	// Failed counts the items that could not be checked, or not wholly
	// (directory unreachable); they are no findings.
	Failed int64
	// Interrupted says that the run ended before the pass did: the items
	// whose check it cut short are neither counted nor reported.
	Interrupted bool
	Expected    int64
	Estimated   bool
	Delayed     int // findings waiting for confirmation
	Elapsed     time.Duration
}

// Problems returns the number of findings reported: items with errors of
// any kind, listing mismatches and orphans included.
func (s Stats) Problems() int64 {
	return s.Accounts.Errors + s.Containers.Errors + s.Objects.Errors + s.Chunks.Errors +
		s.Volumes.Errors
}

// WriteText writes the summary report: per level the items checked and
// what was wrong, then orphans, irreparable findings, bytes and rates, the
// problems, and the checks that failed or were interrupted.
func (s Stats) WriteText(w io.Writer) error {
	var b strings.Builder
	b.WriteString("\nReport\n")
	for _, l := range []struct {
		name string
		ls   LevelStats
	}{{"Accounts", s.Accounts}, {"Containers", s.Containers}, {"Objects", s.Objects},
		{"Chunks", s.Chunks}, {"Volumes", s.Volumes}} {
		if l.name == "Volumes" && l.ls.Checked == 0 {
			continue
		}
		fmt.Fprintf(&b, "%-18s: %d\n", l.name+" checked", l.ls.Checked)
		if l.ls.Errors > 0 {
			fmt.Fprintf(&b, "%-18s: %d\n", l.name+" in error", l.ls.Errors)
		}
		if l.ls.NotFound > 0 {
			fmt.Fprintf(&b, "%-18s: %d\n", "Missing "+strings.ToLower(l.name), l.ls.NotFound)
		}
	}
	fmt.Fprintf(&b, "%-18s: %d\n", "Orphan chunks", s.Orphans)
	fmt.Fprintf(&b, "%-18s: %d\n", "Irreparable", s.Irreparable)
	if s.Delayed > 0 {
		fmt.Fprintf(&b, "%-18s: %d\n", "Awaiting confirm", s.Delayed)
	}
	if s.Bytes > 0 {
		fmt.Fprintf(&b, "%-18s: %d\n", "Bytes hashed", s.Bytes)
	}
	secs := max(s.Elapsed.Seconds(), 1e-9)
	fmt.Fprintf(&b, "%-18s: %s (%.0f chunks/s, %.0f objects/s)\n", "Elapsed",
		s.Elapsed.Round(time.Millisecond), float64(s.Chunks.Checked)/secs,
		float64(s.Objects.Checked)/secs)
	fmt.Fprintf(&b, "%-18s: %d\n", "Problems", s.Problems())
	if s.Failed > 0 {
		fmt.Fprintf(&b, "%-18s: %d (not findings: the check of these could not be made)\n",
			"Checks failed", s.Failed)
	}
	if s.Interrupted {
		fmt.Fprintf(&b, "%-18s: interrupted before the end; items not reached are not counted\n",
			"Status")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// levelCounters are the live counters of one level.
type levelCounters struct{ checked, errors, notFound atomic.Int64 }

func (l *levelCounters) load() LevelStats {
	return LevelStats{Checked: l.checked.Load(), Errors: l.errors.Load(),
		NotFound: l.notFound.Load()}
}

// counters are the live counters of a checker, updated from many
// goroutines.
type counters struct {
	levels      [5]levelCounters
	orphans     atomic.Int64
	irreparable atomic.Int64
	bytes       atomic.Int64
	failed      atomic.Int64
	interrupted atomic.Bool
	expected    atomic.Int64
	listing     atomic.Int64 // account listings in progress or to come
	start       atomic.Int64 // unix nanoseconds
}

func levelIndex(k Kind) int {
	switch k {
	case KindAccount:
		return 0
	case KindContainer:
		return 1
	case KindObject:
		return 2
	case KindVolume:
		return 4
	}
	return 3
}

// count records a reported result. An item that could not be checked
// counts as failed only.
func (c *counters) count(r *Result) {
	if len(r.Failed) > 0 {
		c.failed.Add(1)
		if !r.Finding() {
			return
		}
	}
	l := &c.levels[levelIndex(r.Kind)]
	l.checked.Add(1)
	if !r.Finding() {
		return
	}
	l.errors.Add(1)
	if r.Irreparable {
		c.irreparable.Add(1)
	}
	for _, e := range r.Errors {
		switch {
		case strings.HasPrefix(e, notFoundPrefix):
			l.notFound.Add(1)
		case strings.HasPrefix(e, orphanPrefix):
			c.orphans.Add(1)
		}
	}
}

func (c *counters) reset() {
	for i := range c.levels {
		c.levels[i] = levelCounters{}
	}
	c.orphans.Store(0)
	c.irreparable.Store(0)
	c.bytes.Store(0)
	c.failed.Store(0)
	c.interrupted.Store(false)
	c.expected.Store(0)
	c.listing.Store(0)
	c.start.Store(time.Now().UnixNano())
}

func (c *counters) snapshot() Stats {
	s := Stats{Orphans: c.orphans.Load(), Irreparable: c.irreparable.Load(),
		Bytes: c.bytes.Load(), Failed: c.failed.Load(), Interrupted: c.interrupted.Load(),
		Expected: c.expected.Load(), Estimated: c.listing.Load() > 0,
		Elapsed: time.Since(time.Unix(0, c.start.Load()))}
	for i, l := range []*LevelStats{&s.Accounts, &s.Containers, &s.Objects, &s.Chunks,
		&s.Volumes} {
		*l = c.levels[i].load()
	}
	return s
}
