package rebuild_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/integrity/integritytest"
	"github.com/gridkeep/gridkeep/internal/pace"
	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/rebuild"
)

// killer is a transport that stops working after a number of requests, as
// if the process had died there: nothing it sends afterwards arrives.
type killer struct{ left atomic.Int64 }

var errKilled = errors.New("killed")

func (k *killer) RoundTrip(req *http.Request) (*http.Response, error) {
	if k.left.Add(-1) < 0 {
		return nil, errKilled
	}
	return rawx.DefaultTransport.RoundTrip(req)
}

// TestInterruptedRebuildsConverge interrupts the rebuild of each damaged
// copy after a different number of requests, from the first to past the
// last, then reruns every entry: the namespace must end clean, with no
// orphan, no stale index record and no duplicate entry, and a further
// rebuild must find nothing to do.
func TestInterruptedRebuildsConverge(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(96)
	broken := f.BreakCopies(18)
	entries, _ := checkEntries(t, f)
	if len(entries) != len(broken) {
		t.Fatalf("%d rebuild entries for %d broken copies", len(entries), len(broken))
	}

	for i, e := range entries {
		k := &killer{}
		k.left.Store(int64(i + 1))
		rb, err := rebuild.New(f.NS.ProxyURL, rebuild.Options{OrphanMinAge: -1,
			HTTPClient: &http.Client{Transport: k}})
		if err != nil {
			t.Fatal(err)
		}
		if res := rb.Rebuild(f.Ctx, e); res.Outcome == rebuild.Rebuilt {
			t.Logf("entry %d completed within %d requests", i, i+1)
		}
	}

	st := rebuildAll(t, f, entries)
	if st.Failed != 0 || st.Irreparable != 0 {
		t.Errorf("rerun: %+v", st)
	}
	checkClean(t, f, "after the rerun")
	if st := rebuildAll(t, f, entries); st.Rebuilt+st.Orphans+st.Failed != 0 {
		t.Errorf("a third rebuild did something: %+v", st)
	}
}

// TestStoppedRunIsInterrupted stops a run that paces the bytes it copies
// while copies wait for their turn: the run must return the stop, start no
// more entries and report those under way as interrupted, on one line
// each, not as failed; a rerun then repairs everything.
func TestStoppedRunIsInterrupted(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(60)
	f.BreakCopies(12)
	entries, _ := checkEntries(t, f)
	var results []rebuild.Result
	rb, err := rebuild.New(f.NS.ProxyURL, rebuild.Options{Concurrency: 2, OrphanMinAge: -1,
		Pacer:  pace.New(pace.Rates{BytesPerSecond: 2000}),
		Report: func(r rebuild.Result) { results = append(results, r) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(f.Ctx)
	defer cancel()
	time.AfterFunc(time.Second, cancel) // as SIGINT does: a deadline would fail pacing at once
	run := rb.NewRun()
	err = run.Process(ctx, rebuild.Slice(entries))
	st := run.Stats()
	if !errors.Is(err, context.Canceled) {
		t.Errorf("the stopped run returned %v", err)
	}
	if st.Failed+st.Irreparable+st.Kept != 0 || st.Interrupted == 0 ||
		st.Processed >= int64(len(entries)) {
		t.Errorf("stopped run of %d entries: %+v, want some interrupted, none failed, some not started",
			len(entries), st)
	}
	for _, r := range results {
		if line := r.Line(); strings.Contains(line, "\n") || r.Outcome == rebuild.Interrupted && r.Err != nil {
			t.Errorf("%q", line)
		}
	}
	if st := rebuildAll(t, f, entries); st.Failed+st.Irreparable+st.Kept+st.Interrupted != 0 {
		t.Errorf("rerun: %+v", st)
	}
	if _, got := checkEntries(t, f); len(got) != 0 {
		t.Errorf("after the rerun: %v", got)
	}
}
