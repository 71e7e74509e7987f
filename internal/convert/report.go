package convert

import (
	"context"
	"sync"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/tick"
)

// countTotal counts the chunks the run will visit, for Progress.
func (c *Converter) countTotal(ctx context.Context) {
	var n int64
	if c.o.Input != nil {
		for _, err := range c.inputPaths {
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

// reports are the RUN reports of a run under way: periodic ones and those
// ReportNow asks for.
type reports struct {
	mu      sync.Mutex
	running bool  // between the start of Run and its final report
	chunks  int64 // chunks visited when the previous report was sent
}

// ReportNow sends a RUN report to Options.OnReport at once, like the
// periodic ones. It does nothing before Run starts nor once Run has sent
// its final report.
func (c *Converter) ReportNow() {
	c.reports.mu.Lock()
	defer c.reports.mu.Unlock()
	if c.reports.running {
		c.reports.chunks = c.report(false, c.reports.chunks)
	}
}

// startReports sends a RUN report every interval until the returned
// function is called; that function sends the final report.
func (c *Converter) startReports(interval time.Duration) func() {
	c.reports.mu.Lock()
	c.reports.running, c.reports.chunks = true, 0
	c.reports.mu.Unlock()
	final := func() {
		c.reports.mu.Lock()
		defer c.reports.mu.Unlock()
		c.reports.running = false
		c.report(true, c.reports.chunks)
	}
	if interval <= 0 || c.o.OnReport == nil {
		return final
	}
	stop := tick.Every(interval, c.ReportNow)
	return func() {
		stop()
		final()
	}
}

// report sends one report, given the chunks visited when the previous one
// was sent, and returns the chunks visited now. As in OpenIO's converter,
// only the passes are counted since the previous report; the other figures,
// the rate included, are of the whole run so far.
func (c *Converter) report(final bool, before int64) int64 {
	now := c.o.Now()
	s := c.summary()
	r := Report{Final: final, Volume: c.vol.ServiceID, Started: c.start,
		Passes: s.Chunks - before, Errors: s.Errors(), Chunks: s.Chunks,
		TotalTime: now.Sub(c.start)}
	if d := r.TotalTime.Seconds(); d > 0 {
		r.Rate = float64(r.Chunks) / d
	}
	if c.o.OnReport != nil {
		c.o.OnReport(r)
	}
	return s.Chunks
}
