package convert

import (
	"context"
	"sync"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

// countTotal counts the chunks the run will visit, for Progress.
func (c *Converter) countTotal(ctx context.Context) {
	var n int64
	if c.o.Input != nil {
		for _, err := range c.o.Input {
			if err != nil || ctx.Err() != nil {
				return
			}
			n++
		}
		c.total.Store(n)
		return
	}
	err := chunk.WalkChunks(c.o.Volume, func(string) error {
		n++
		return ctx.Err()
	})
	if err == nil {
		c.total.Store(n)
	}
}

// reportMark is what the previous report said.
type reportMark struct {
	at     time.Time
	chunks int64
}

// reports are the RUN reports of a run under way: periodic ones and those
// ReportNow asks for, each covering the time since the one before.
type reports struct {
	mu      sync.Mutex
	running bool // between the start of Run and its final report
	mark    reportMark
}

// ReportNow sends a RUN report to Options.OnReport at once, like the
// periodic ones: it covers the time since the previous report. It does
// nothing before Run starts nor once Run has sent its final report.
func (c *Converter) ReportNow() {
	c.reports.mu.Lock()
	defer c.reports.mu.Unlock()
	if c.reports.running {
		c.reports.mark = c.report(false, c.reports.mark)
	}
}

// startReports sends a RUN report every interval until the returned
// function is called; that function sends the final report.
func (c *Converter) startReports(interval time.Duration) func() {
	c.reports.mu.Lock()
	c.reports.running, c.reports.mark = true, reportMark{at: c.start}
	c.reports.mu.Unlock()
	final := func() {
		c.reports.mu.Lock()
		defer c.reports.mu.Unlock()
		c.reports.running = false
		c.report(true, c.reports.mark)
	}
	if interval <= 0 || c.o.OnReport == nil {
		return final
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				c.ReportNow()
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		final()
	}
}

// report sends one report covering the time since mark, and returns the
// new mark.
func (c *Converter) report(final bool, mark reportMark) reportMark {
	now := c.o.Now()
	s := c.summary()
	r := Report{Final: final, Volume: c.vol.ServiceID, Started: c.start,
		Passes: s.Chunks - mark.chunks, Errors: s.Errors(), Chunks: s.Chunks,
		TotalTime: now.Sub(c.start)}
	if d := now.Sub(mark.at).Seconds(); d > 0 {
		r.Rate = float64(r.Passes) / d
	}
	if c.o.OnReport != nil {
		c.o.OnReport(r)
	}
	return reportMark{at: now, chunks: s.Chunks}
}
