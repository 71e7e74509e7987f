package meta

import (
	"fmt"
	"slices"
)

// unknownSpaceWeight is the placement weight of a service that did not
// report its space: as if it had 1 TiB free.
const unknownSpaceWeight = 1 << 40

// Choose picks n distinct services of a type for one metachunk: live, not
// full, no two with the same id or address, each drawn with a probability
// proportional to its free space. It fails with ErrNotEnoughServices when
// fewer than n qualify.
//
// TODO(#3): placement ignores locations (host, rack); OpenIO spreads the
// copies over distinct locations first.
func (r *Registry) Choose(typ string, n int) ([]Service, error) {
	if n <= 0 {
		return nil, fmt.Errorf("choose %s: %w: %d services asked", typ, ErrInvalid, n)
	}
	var pool []Service
	for _, s := range r.List(typ) {
		if s.Alive && !s.Full(r.opts.MinFree) {
			pool = append(pool, s)
		}
	}
	var out []Service
	for len(out) < n && len(pool) > 0 {
		i := r.draw(pool)
		s := pool[i]
		out = append(out, s)
		pool = slices.DeleteFunc(pool, func(o Service) bool {
			return o.ID == s.ID || o.Addr == s.Addr
		})
	}
	if len(out) < n {
		return nil, fmt.Errorf("choose %d %s: %w: %d usable", n, typ, ErrNotEnoughServices, len(out))
	}
	return out, nil
}

// draw returns the index of a service drawn with a probability
// proportional to its weight.
func (r *Registry) draw(pool []Service) int {
	var total float64
	for _, s := range pool {
		total += weight(s)
	}
	x := r.opts.Rand() * total
	for i, s := range pool {
		x -= weight(s)
		if x < 0 {
			return i
		}
	}
	return len(pool) - 1
}

func weight(s Service) float64 {
	if s.Total <= 0 {
		return unknownSpaceWeight
	}
	return float64(s.Free)
}
