package convert_test

import (
	"sync"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/convert"
)

// TestReportFigures: passes counts the chunks since the previous report;
// chunks, errors, total time and the rate (chunks over total time) are of
// the whole run, in the DONE report as in a RUN report.
func TestReportFigures(t *testing.T) {
	e := newEnv(t)
	paths := e.putCurrent("figures", 3)
	start := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	var mu sync.Mutex
	now, visited := start, 0
	var reports []convert.Report
	var c *convert.Converter
	o := convert.Options{Volume: e.vol, Dir: e.dir, NoBackup: true, Input: inputOf(paths),
		Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return now
		},
		OnReport: func(r convert.Report) {
			mu.Lock()
			defer mu.Unlock()
			reports = append(reports, r)
		},
		OnResult: func(convert.Result) {
			// Two chunks in 2 s, a RUN report, then the last one in 8 s.
			mu.Lock()
			visited++
			n := visited
			now = now.Add(map[int]time.Duration{1: time.Second, 2: time.Second, 3: 8 * time.Second}[n])
			mu.Unlock()
			if n == 2 {
				c.ReportNow()
			}
		}}
	var err error
	if c, err = convert.New(o); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(e.ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reports) != 2 {
		t.Fatalf("reports %+v; want one RUN report, then the DONE report", reports)
	}
	run, done := reports[0], reports[1]
	if run.Final || run.TotalTime != 2*time.Second || run.Passes != run.Chunks ||
		run.Rate != float64(run.Chunks)/2 {
		t.Errorf("RUN report %+v; want the figures of its first 2 s", run)
	}
	if !done.Final || done.Chunks != 3 || done.Passes != 3-run.Chunks || done.TotalTime != 10*time.Second ||
		done.Rate != 0.3 {
		t.Errorf("DONE report %+v; want 3 chunks in 10 s, 0.3/s, passes since the RUN report", done)
	}
}
