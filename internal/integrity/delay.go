package integrity

import (
	"sync"
	"time"
)

// delays holds the findings not reported yet because they still need
// confirmations or time in error, and those confirmed already: a confirmed
// finding is reported at each sighting while it persists. Unlike OpenIO's
// checker, a finding whose item checks OK is forgotten at once, and in
// daemon mode one whose item is not met in a whole pass is forgotten too;
// either must then be confirmed again.
type delays struct {
	confirmations int
	inError       time.Duration
	now           func() time.Time

	mu      sync.Mutex
	m       map[string]*delayed
	touched map[string]bool // keys met in the current daemon pass
}

// delayed is a finding awaiting confirmation, or confirmed.
type delayed struct {
	first     time.Time // when it was first seen
	seen      int       // passes that saw it
	confirmed bool      // reported already: reported again at each sighting
	recheck   Target    // what to check again to see it again
}

func newDelays(confirmations int, inError time.Duration, now func() time.Time) *delays {
	return &delays{confirmations: confirmations, inError: inError, now: now,
		m: map[string]*delayed{}}
}

func (d *delays) enabled() bool { return d.confirmations > 0 || d.inError > 0 }

// admit records one sighting of r's item and reports whether r is to be
// reported now: an OK result always is (and clears a pending finding), so
// is one that could not be checked (and changes nothing); a
// finding is once it was seen more than confirmations times over at least
// inError, and at every sighting after that until it clears.
func (d *delays) admit(r *Result) bool {
	if !d.enabled() {
		return true
	}
	key := r.key()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.touched != nil {
		d.touched[key] = true
	}
	if !r.Finding() && len(r.Failed) > 0 {
		return true // neither a sighting nor a clearance
	}
	if r.OK() {
		delete(d.m, key)
		return true
	}
	now := d.now()
	e := d.m[key]
	if e == nil {
		e = &delayed{first: now, recheck: recheckTarget(r)}
		d.m[key] = e
	}
	e.seen++
	if e.confirmed || e.seen > d.confirmations && now.Sub(e.first) >= d.inError {
		e.confirmed = true
		return true
	}
	return false
}

// pending reports whether a finding with this key awaits confirmation.
func (d *delays) pending(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.m[key]
	return ok && !e.confirmed
}

// len returns how many findings await confirmation.
func (d *delays) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, e := range d.m {
		if !e.confirmed {
			n++
		}
	}
	return n
}

// dropConfirmed forgets the confirmed findings, at the end of a run that
// will not see them again.
func (d *delays) dropConfirmed() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, e := range d.m {
		if e.confirmed {
			delete(d.m, k)
		}
	}
}

// wait returns how long until the first finding awaiting confirmation has been in
// error for inError.
func (d *delays) wait() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	var soonest time.Duration = -1
	for _, e := range d.m {
		if e.confirmed {
			continue
		}
		left := max(e.first.Add(d.inError).Sub(now), 0)
		if soonest < 0 || left < soonest {
			soonest = left
		}
	}
	return max(soonest, 0)
}

// targets returns what to check again to see every finding awaiting
// confirmation, each target once.
func (d *delays) targets() []Target {
	d.mu.Lock()
	defer d.mu.Unlock()
	seen := map[Target]bool{}
	var out []Target
	for _, e := range d.m {
		if !e.confirmed && !seen[e.recheck] {
			seen[e.recheck] = true
			out = append(out, e.recheck)
		}
	}
	return out
}

// startPass and endPass bracket a daemon pass: findings, pending or
// confirmed, not met during it are forgotten.
func (d *delays) startPass() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.touched = map[string]bool{}
}

func (d *delays) endPass() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k := range d.m {
		if !d.touched[k] {
			delete(d.m, k)
		}
	}
	d.touched = nil
}

// recheckTarget returns the target whose check reports r's item again: the
// chunk itself, or the object for a copy the directory lacks.
func recheckTarget(r *Result) Target {
	t := r.Target
	switch r.Kind {
	case KindAccount:
		return Target{Account: t.Account}
	case KindContainer:
		return Target{Account: t.Account, Container: t.Container}
	case KindObject:
		return Target{Account: t.Account, Container: t.Container, Object: t.Object,
			Version: t.Version}
	}
	if !isURL(t.Chunk) {
		return Target{Account: t.Account, Container: t.Container, Object: t.Object,
			Version: t.Version}
	}
	return t
}
