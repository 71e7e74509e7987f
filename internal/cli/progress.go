package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/gridkeep/gridkeep/internal/tick"
)

// stderrIsTerminal reports whether progress can be drawn for a person.
func stderrIsTerminal() bool { return term.IsTerminal(int(os.Stderr.Fd())) }

// byteProgress draws a transfer bar on standard error when it is a
// terminal. total < 0 means unknown (a spinner with a byte count).
type byteProgress struct {
	mu  sync.Mutex
	bar *progressbar.ProgressBar
}

func newByteProgress(total int64, desc string, enabled bool) *byteProgress {
	if !enabled || !stderrIsTerminal() {
		return &byteProgress{}
	}
	return &byteProgress{bar: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionClearOnFinish(),
	)}
}

// Add records n more bytes moved. Safe for concurrent use.
func (p *byteProgress) Add(n int64) {
	if p.bar == nil {
		return
	}
	p.mu.Lock()
	p.bar.Add64(n)
	p.mu.Unlock()
}

// Done removes the bar.
func (p *byteProgress) Done() {
	if p.bar != nil {
		p.bar.Finish()
	}
}

// barRedraw is how often the count bars of long runs are brought up to
// date.
const barRedraw = 200 * time.Millisecond

// newCountBar returns a bar on w (standard error) that counts up to max;
// max < 0 means not known yet (a spinner with a count). Its description
// gives the rate (see perSecond): the bar's own rate changes its unit to
// per minute or per hour while it is low, as it is on the first frame.
func newCountBar(w io.Writer, max int64, desc string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(max, progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc), progressbar.OptionShowCount(),
		progressbar.OptionThrottle(barRedraw), progressbar.OptionClearOnFinish())
}

// perSecond gives the rate of n items of unit (objects, chunks) done in
// elapsed, always per second, as the report lines do.
func perSecond(n int64, elapsed time.Duration, unit string) string {
	var r float64
	if s := elapsed.Seconds(); s > 0 {
		r = float64(n) / s
	}
	return fmt.Sprintf("%.1f %s/s", r, unit)
}

// everyRedraw calls draw every barRedraw until the returned function is
// called; that function returns once draw is no longer running.
func everyRedraw(draw func()) (stop func()) { return tick.Every(barRedraw, draw) }

// liveBar is a progress bar on standard error between the lines a command
// writes: each line takes the bar off the terminal first (see line), the
// next redraw puts it back, and end takes it off for good. Its mutex also
// keeps the lines of concurrent callers whole.
type liveBar struct {
	mu   sync.Mutex
	bar  *progressbar.ProgressBar // nil without one, or once ended
	draw func(bar *progressbar.ProgressBar, elapsed time.Duration)
	stop func() // ends the redraws
}

// start shows bar, calling draw with it and the time since the start
// every barRedraw (see redraw).
func (b *liveBar) start(bar *progressbar.ProgressBar, draw func(*progressbar.ProgressBar, time.Duration)) {
	b.bar, b.draw = bar, draw
	start := time.Now()
	b.stop = everyRedraw(func() { b.redraw(time.Since(start)) })
}

// redraw calls draw, with the mutex held, unless the bar ended.
func (b *liveBar) redraw(elapsed time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar != nil {
		b.draw(b.bar, elapsed)
	}
}

// line takes the mutex and the bar off the terminal, for a line to be
// written; the returned function gives the mutex back.
func (b *liveBar) line() (unlock func()) {
	b.mu.Lock()
	if b.bar != nil {
		b.bar.Clear()
	}
	return b.mu.Unlock
}

// endLocked takes the bar off the terminal for good; the mutex is held.
func (b *liveBar) endLocked() {
	if b.bar != nil {
		b.bar.Clear()
	}
	b.bar = nil
}

// end stops the redraws and takes the bar off the terminal for good.
func (b *liveBar) end() {
	if b.stop != nil {
		b.stop()
	}
	b.mu.Lock()
	b.endLocked()
	b.mu.Unlock()
}
