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

// reportEvery sends a RUN report every interval until the returned
// function is called; that function returns the mark of the last report.
func (c *Converter) reportEvery(interval time.Duration) func() reportMark {
	var mu sync.Mutex
	last := reportMark{at: c.start}
	if interval <= 0 || c.o.OnReport == nil {
		return func() reportMark { return last }
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
				mu.Lock()
				last = c.report(false, last)
				mu.Unlock()
			}
		}
	}()
	return func() reportMark {
		close(done)
		<-stopped
		return last
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
