package integrity_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/integrity"
	"github.com/gridkeep/gridkeep/internal/integrity/integritytest"
	"github.com/gridkeep/gridkeep/internal/pace"
)

// pacedRun runs a paced check of the whole namespace behind proxy, calls
// stop once it has run for a while, and returns every result reported,
// what was written to the error and rebuild files, and the run's outcome.
func pacedRun(t *testing.T, ctx context.Context, proxy string,
	stop func()) ([]integrity.Result, string, integrity.Stats, error) {
	t.Helper()
	var mu sync.Mutex
	var results []integrity.Result
	var files bytes.Buffer
	opts := integrity.Options{OrphanMinAge: -1, Concurrency: 4, ErrorFile: &files,
		RebuildFile: &files, Pacer: pace.New(pace.Rates{ItemsPerSecond: 40}),
		Report: func(r integrity.Result) {
			mu.Lock()
			results = append(results, r)
			mu.Unlock()
		}}
	c, err := integrity.New(proxy, opts)
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	time.AfterFunc(700*time.Millisecond, func() { stop(); close(stopped) })
	st, err := c.Run(ctx, []integrity.Target{{}})
	<-stopped
	mu.Lock()
	defer mu.Unlock()
	return results, files.String(), st, err
}

// TestInterruptedCheckReportsNoFindings interrupts a paced check of a
// healthy namespace: the items it cut short are not findings, and nothing
// reaches the error and rebuild files.
func TestInterruptedCheckReportsNoFindings(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(40)
	ctx, cancel := context.WithCancel(f.Ctx)
	defer cancel()
	results, files, st, err := pacedRun(t, ctx, f.NS.ProxyURL, cancel)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("run error %v, want context.Canceled", err)
	}
	for _, r := range results {
		if !r.OK() {
			t.Errorf("%s %s reported after the interruption: %v %v (irreparable %v)", r.Kind,
				r.Item(), r.Errors, r.Failed, r.Irreparable)
		}
	}
	if files != "" {
		t.Errorf("written to the error and rebuild files:\n%s", files)
	}
	if !st.Interrupted || st.Problems() != 0 || st.Irreparable != 0 {
		t.Errorf("counters %+v", st)
	}
}

// TestUnreachableDirectoryIsNoFinding stops the directory, then the whole
// namespace, during a paced check: the items that could no longer be
// checked are failed checks, neither findings nor irreparable, and are not
// written to the error and rebuild files.
func TestUnreachableDirectoryIsNoFinding(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(40)
	target, err := url.Parse(f.NS.ProxyURL)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
	defer front.Close()
	results, files, st, err := pacedRun(t, f.Ctx, front.URL, func() {
		front.Close()
		f.NS.Close()
	})
	if err != nil {
		t.Fatalf("run error %v", err)
	}
	failed := 0
	for _, r := range results {
		if r.Finding() || r.Irreparable {
			t.Errorf("%s %s is a finding: %v (irreparable %v)", r.Kind, r.Item(), r.Errors,
				r.Irreparable)
		}
		if len(r.Failed) > 0 {
			failed++
		}
	}
	if files != "" {
		t.Errorf("written to the error and rebuild files:\n%s", files)
	}
	if failed == 0 || st.Failed != int64(failed) || st.Problems() != 0 || st.Interrupted {
		t.Errorf("%d failed results; counters %+v", failed, st)
	}
}

// TestDepthAboveChunksChecksObjects checks healthy objects with depths
// that stop before their chunks: each is checked against the directory's
// chunk list and is OK.
func TestDepthAboveChunksChecksObjects(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(16)
	for _, tc := range []struct {
		name   string
		depth  int
		target integrity.Target
	}{
		{"account, depth 2", 2, integrity.Target{Account: integritytest.Account}},
		{"container, depth 1", 1, integrity.Target{Account: integritytest.Account,
			Container: "ctr-1"}},
		{"whole namespace, depth 2", 2, integrity.Target{}},
	} {
		bad, res, st := integritytest.Check(t, f.Ctx, f.NS.ProxyURL,
			integrity.Options{Depth: tc.depth, OrphanMinAge: -1}, tc.target)
		if len(bad) != 0 {
			t.Errorf("%s: findings on a healthy namespace:", tc.name)
			for _, it := range bad {
				t.Logf("%s %s: %v", it.Kind, it.Item, res[it].Errors)
			}
		}
		if st.Objects.Checked == 0 || st.Chunks.Checked != 0 && tc.target.Account != "" {
			t.Errorf("%s: counted %+v", tc.name, st)
		}
	}
}
