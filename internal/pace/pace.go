// Package pace holds long jobs (check, rebuild, convert) to a number of
// items and bytes per second that may change while they run, and reads the
// control files that change it.
package pace

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rates are the pace of a long job: items and bytes per second, 0 meaning
// no limit. Each is a finite number, 0 or more (see CheckRate).
type Rates struct {
	ItemsPerSecond float64
	BytesPerSecond float64
}

// CheckRate returns an error unless r is a rate a job can be held to: a
// finite number of items or bytes per second, 0 or more, 0 meaning no
// limit. An infinite rate is refused rather than read as no limit, as NaN
// and negative rates are.
func CheckRate(r float64) error {
	if !(r >= 0) || math.IsInf(r, 0) {
		return errors.New("want a finite rate, 0 or more (0 means no limit)")
	}
	return nil
}

// Pacer holds a job to its Rates, which may change while it runs: the
// callers waiting then wait again at the new rates. Short bursts of up to
// one second's worth of work are let through. It is safe for concurrent
// use; a nil Pacer never waits.
type Pacer struct {
	mu      sync.RWMutex
	rates   Rates
	changed chan struct{} // closed, and replaced, when the rates change
	items   *rate.Limiter
	bytes   *rate.Limiter
}

// New returns a pacer holding to r.
func New(r Rates) *Pacer {
	p := &Pacer{items: rate.NewLimiter(rate.Inf, 1), bytes: rate.NewLimiter(rate.Inf, 1),
		changed: make(chan struct{})}
	p.SetRates(r)
	return p
}

// SetRates changes the pace from now on, for the callers already waiting
// too.
func (p *Pacer) SetRates(r Rates) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rates = r
	setLimit(p.items, r.ItemsPerSecond, 1)
	setLimit(p.bytes, r.BytesPerSecond, 1<<20)
	close(p.changed)
	p.changed = make(chan struct{})
}

// changes returns a channel closed at the next change of the rates.
func (p *Pacer) changes() <-chan struct{} {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.changed
}

func setLimit(l *rate.Limiter, perSecond float64, minBurst int) {
	if perSecond <= 0 {
		l.SetLimit(rate.Inf)
		return
	}
	l.SetLimit(rate.Limit(perSecond))
	l.SetBurst(max(minBurst, int(math.Min(perSecond, math.MaxInt32))))
}

// Rates returns the pace in force.
func (p *Pacer) Rates() Rates {
	if p == nil {
		return Rates{}
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.rates
}

// Wait blocks until items more items and n more bytes may be processed,
// or ctx is done.
func (p *Pacer) Wait(ctx context.Context, items int, n int64) error {
	if p == nil {
		return nil
	}
	if items > 0 {
		if err := p.waitN(ctx, p.items, int64(items)); err != nil {
			return err
		}
	}
	if n > 0 {
		return p.waitN(ctx, p.bytes, n)
	}
	return nil
}

// waitN takes n tokens of l in slices no larger than its burst. A slice
// whose wait a change of the rates interrupts is given back and waited for
// again at the new rate.
func (p *Pacer) waitN(ctx context.Context, l *rate.Limiter, n int64) error {
	for n > 0 {
		changed := p.changes()
		if l.Limit() == rate.Inf {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("pacing: %w", err)
		}
		k := min(n, int64(max(l.Burst(), 1)))
		r := l.ReserveN(time.Now(), int(k))
		if !r.OK() {
			continue // the burst shrank meanwhile
		}
		if d := r.Delay(); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-changed:
				t.Stop()
				r.Cancel()
				continue
			case <-ctx.Done():
				t.Stop()
				r.Cancel()
				return fmt.Errorf("pacing: %w", ctx.Err())
			}
		}
		n -= k
	}
	return nil
}

// ParseRates reads a control file: lines "items-per-second N" and
// "bytes-per-second N" (also written "key=N" or "key: N"; "chunks-per-second"
// is read as items), N a rate CheckRate accepts. Blank lines and lines
// starting with "#" are skipped; keys left out keep their value in base. On
// an error, base is returned.
func ParseRates(r io.Reader, base Rates) (Rates, error) {
	return parse(r, base, true)
}

// ParseItemRates is ParseRates for a job paced in items alone: a
// "bytes-per-second" line is an error rather than a pace that nothing would
// hold to.
func ParseItemRates(r io.Reader, base Rates) (Rates, error) {
	return parse(r, base, false)
}

func parse(r io.Reader, base Rates, withBytes bool) (Rates, error) {
	rates := base
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := cutAny(line, "=: \t")
		if !ok {
			return base, fmt.Errorf("control line %d: want KEY VALUE, got %q", n, line)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		var dst *float64
		switch {
		case k == "items-per-second" || k == "chunks-per-second":
			dst = &rates.ItemsPerSecond
		case k == "bytes-per-second" && withBytes:
			dst = &rates.BytesPerSecond
		case k == "bytes-per-second":
			return base, fmt.Errorf("control line %d: bytes-per-second: this job is paced "+
				"in items (chunks) per second only", n)
		default:
			return base, fmt.Errorf("control line %d: unknown key %q", n, k)
		}
		f, err := parseRate(v)
		if err != nil {
			return base, fmt.Errorf("control line %d: %s %w", n, k, err)
		}
		*dst = f
	}
	if err := sc.Err(); err != nil {
		return base, err
	}
	return rates, nil
}

// parseRate reads the value of a control line. A number too large for a
// float64 is refused as infinite, not as a malformed number.
func parseRate(v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		err = errors.New("want a number")
	} else {
		err = CheckRate(f)
	}
	if err != nil {
		return 0, fmt.Errorf("%q is not a rate: %w", v, err)
	}
	return f, nil
}

// cutAny cuts s around the first of the separators.
func cutAny(s, seps string) (before, after string, found bool) {
	i := strings.IndexAny(s, seps)
	if i < 0 {
		return s, "", false
	}
	return s[:i], strings.TrimLeft(s[i+1:], seps), true
}
