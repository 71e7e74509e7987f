package convert_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/convert"
	"github.com/gridkeep/gridkeep/internal/pace"
)

// paceChunks is the number of chunks of the pacing tests: at one chunk per
// second, many more seconds than the deadline of a run that must finish.
const paceChunks = 40

// putCurrent writes objects holding n current-format chunks in all and
// returns their paths. Current chunks are reported as soon as they are
// visited, not when a batch is committed, which lets a test see a run go.
func (e *env) putCurrent(container string, n int) []string {
	e.t.Helper()
	var paths []string
	for i := 0; len(paths) < n; i++ {
		o := e.put(container, "obj"+strconv.Itoa(i), min(4, n-len(paths))*testChunkSize)
		paths = append(paths, o.paths...)
	}
	return paths
}

// TestPaceChangesWhileRunning: a run paced at one chunk per second is
// raised once its first chunk is visited, and visits the rest before a
// deadline that the first pace could not have met; unraised, it does not.
func TestPaceChangesWhileRunning(t *testing.T) {
	e := newEnv(t)
	paths := e.putCurrent("paced", paceChunks)
	for _, tc := range []struct {
		name     string
		raise    func(c *convert.Converter, p *pace.Pacer)
		deadline time.Duration
	}{
		// Without the raise the run needs paceChunks seconds: generous.
		{"SetChunksPerSecond", func(c *convert.Converter, _ *pace.Pacer) { c.SetChunksPerSecond(0) },
			paceChunks / 2 * time.Second},
		{"the pacer's owner", func(_ *convert.Converter, p *pace.Pacer) {
			p.SetRates(pace.Rates{ItemsPerSecond: 10000})
		}, paceChunks / 2 * time.Second},
		// The pacer is in force: the same run not raised is cut short.
		{"not raised", nil, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := pace.New(pace.Rates{ItemsPerSecond: 1})
			var c *convert.Converter
			var once sync.Once
			visited := make(chan struct{})
			o := convert.Options{Volume: e.vol, Dir: e.dir, NoBackup: true, Pacer: p,
				Input: inputOf(paths), OnResult: func(convert.Result) {
					once.Do(func() {
						if tc.raise != nil {
							tc.raise(c, p)
						}
						close(visited)
					})
				}}
			var err error
			if c, err = convert.New(o); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(e.ctx, tc.deadline)
			defer cancel()
			s, err := c.Run(ctx)
			select {
			case <-visited:
			default:
				t.Fatal("no chunk visited")
			}
			cutShort := errors.Is(err, context.DeadlineExceeded) && s.Current < paceChunks
			if tc.raise == nil && !cutShort {
				t.Errorf("not raised: %v, %d of %d chunks visited; want it cut short", err,
					s.Current, paceChunks)
			}
			if tc.raise != nil && (err != nil || s.Current != paceChunks) {
				t.Errorf("run: %v, %d of %d chunks visited", err, s.Current, paceChunks)
			}
		})
	}
}

// TestPacerOrChunksPerSecond: a converter takes one pace, not two.
func TestPacerOrChunksPerSecond(t *testing.T) {
	e := newEnv(t)
	_, err := convert.New(convert.Options{Volume: e.vol, Dir: e.dir, NoBackup: true, ChunksPerSecond: 5,
		Pacer: pace.New(pace.Rates{ItemsPerSecond: 5})})
	if err == nil {
		t.Error("New took both ChunksPerSecond and a Pacer")
	}
}

// TestReportNow: a report asked for while the run goes on is a RUN report
// of the chunks visited so far; none is sent before Run nor after its final
// report.
func TestReportNow(t *testing.T) {
	e := newEnv(t)
	paths := e.putCurrent("reported", 3)
	var mu sync.Mutex
	var reports []convert.Report
	var c *convert.Converter
	visited := 0
	o := convert.Options{Volume: e.vol, Dir: e.dir, NoBackup: true, Input: inputOf(paths),
		OnReport: func(r convert.Report) {
			mu.Lock()
			reports = append(reports, r)
			mu.Unlock()
		},
		OnResult: func(convert.Result) {
			if visited++; visited == 2 {
				c.ReportNow()
			}
		}}
	var err error
	if c, err = convert.New(o); err != nil {
		t.Fatal(err)
	}
	c.ReportNow()
	if _, err := c.Run(e.ctx); err != nil {
		t.Fatal(err)
	}
	c.ReportNow()
	mu.Lock()
	defer mu.Unlock()
	if len(reports) != 2 || reports[0].Final || reports[0].Chunks < 1 || !reports[1].Final ||
		reports[1].Chunks != 3 {
		t.Errorf("reports %+v; want one RUN report, then the DONE report of 3 chunks", reports)
	}
}

// inputOf lists paths as Options.Input.
func inputOf(paths []string) func(func(string, error) bool) {
	return func(yield func(string, error) bool) {
		for _, p := range paths {
			if !yield(p, nil) {
				return
			}
		}
	}
}
