package cli

import (
	"os"
	"sync"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
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
