package meta

import (
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"
)

// Service is a service known to the registry, such as a chunk server
// ("rawx") on one volume. ID names it (its address when it has no service
// id); Volume is the volume id its chunks are indexed under (its ID unless
// given); Free and Total are its space in bytes, Total 0 meaning unknown.
type Service struct {
	Type     string            `json:"type"`
	ID       string            `json:"id"`
	Addr     string            `json:"addr"`
	Volume   string            `json:"volume,omitempty"`
	Free     int64             `json:"free"`
	Total    int64             `json:"total"`
	Tags     map[string]string `json:"tags,omitempty"`
	LastSeen time.Time         `json:"-"`
	// Alive is computed when the registry answers: heard from within the
	// dead-after delay.
	Alive bool `json:"alive"`
}

// Full reports whether the service has no room left: it reported its
// space and fewer than minFree bytes (at least one) are free.
func (s Service) Full(minFree int64) bool {
	return s.Total > 0 && s.Free < max(minFree, 1)
}

// Score returns an OpenIO-style score: 0 for a dead or full service, else
// its free space in percent (at least 1), or 100 when its space is
// unknown.
func (s Service) Score(minFree int64) int {
	switch {
	case !s.Alive || s.Full(minFree):
		return 0
	case s.Total <= 0:
		return 100
	}
	return max(1, int(s.Free*100/s.Total))
}

// URLHost returns the host a chunk URL names this service by: its id.
func (s Service) URLHost() string { return s.ID }

// RegistryOptions tune a Registry. The zero value works.
type RegistryOptions struct {
	// DeadAfter is how long a service may stay silent before it counts as
	// dead; zero means 30 s.
	DeadAfter time.Duration
	// MinFree is the free space under which a service that reports its
	// space counts as full; zero means no byte free.
	MinFree int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand returns a float in [0, 1) to weigh placement; nil means
	// math/rand/v2.
	Rand func() float64
}

// Registry keeps the services that registered and heard from them; it
// places chunks on live chunk servers. Services register again (or send a
// heartbeat) every few seconds, so the registry lives in memory and is
// rebuilt within that delay after a restart. It is safe for concurrent
// use.
type Registry struct {
	opts     RegistryOptions
	mu       sync.Mutex
	services map[serviceKey]*Service
}

type serviceKey struct{ typ, id string }

// NewRegistry returns an empty registry.
func NewRegistry(opts RegistryOptions) *Registry {
	if opts.DeadAfter <= 0 {
		opts.DeadAfter = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	return &Registry{opts: opts, services: map[serviceKey]*Service{}}
}

// Register adds or replaces a service and counts as a heartbeat.
func (r *Registry) Register(s Service) error {
	if s.ID == "" {
		s.ID = s.Addr
	}
	if s.Volume == "" {
		s.Volume = s.ID
	}
	if err := checkService(s); err != nil {
		return fmt.Errorf("register service: %w", err)
	}
	s.Tags = maps.Clone(s.Tags)
	r.mu.Lock()
	defer r.mu.Unlock()
	s.LastSeen = r.opts.Now()
	r.services[serviceKey{s.Type, s.ID}] = &s
	return nil
}

func checkService(s Service) error {
	if err := checkText("type", s.Type, 32); err != nil {
		return err
	}
	if err := checkText("id", s.ID, 255); err != nil {
		return err
	}
	if err := checkText("volume", s.Volume, 255); err != nil {
		return err
	}
	if _, _, err := net.SplitHostPort(s.Addr); err != nil {
		return fmt.Errorf("%w: address %q is not host:port", ErrInvalid, short(s.Addr))
	}
	if s.Free < 0 || s.Total < 0 || len(s.Tags) > 64 {
		return fmt.Errorf("%w: bad space or too many tags", ErrInvalid)
	}
	for k, v := range s.Tags {
		if err := CheckProperty(k, v); err != nil {
			return err
		}
	}
	return nil
}

func checkText(what, s string, maxLen int) error {
	if s == "" || len(s) > maxLen || !cleanText(s) {
		return fmt.Errorf("%w: bad service %s %q", ErrInvalid, what, short(s))
	}
	return nil
}

// Heartbeat records that a service is alive with the given space.
func (r *Registry) Heartbeat(typ, id string, free, total int64) error {
	if free < 0 || total < 0 {
		return fmt.Errorf("heartbeat %s %s: %w: negative space", typ, id, ErrInvalid)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.services[serviceKey{typ, id}]
	if !ok {
		return fmt.Errorf("heartbeat %s %s: %w", typ, id, ErrNoSuchService)
	}
	s.Free, s.Total, s.LastSeen = free, total, r.opts.Now()
	return nil
}

// Down makes a service count as dead at once, until its next heartbeat:
// placement skips it, and it is still resolved by id.
func (r *Registry) Down(typ, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.services[serviceKey{typ, id}]
	if !ok {
		return fmt.Errorf("down %s %s: %w", typ, id, ErrNoSuchService)
	}
	s.LastSeen = time.Time{}
	return nil
}

// Deregister forgets a service.
func (r *Registry) Deregister(typ, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := serviceKey{typ, id}
	if _, ok := r.services[k]; !ok {
		return fmt.Errorf("deregister %s %s: %w", typ, id, ErrNoSuchService)
	}
	delete(r.services, k)
	return nil
}

// List returns the services of a type (all types when typ is empty),
// dead ones included, by id.
func (r *Registry) List(typ string) []Service {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.opts.Now()
	var out []Service
	for k, s := range r.services {
		if typ == "" || k.typ == typ {
			out = append(out, r.snapshotLocked(s, now))
		}
	}
	slices.SortFunc(out, func(a, b Service) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// Resolve returns the service of a type with the given id or address.
func (r *Registry) Resolve(typ, id string) (Service, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.opts.Now()
	if s, ok := r.services[serviceKey{typ, id}]; ok {
		return r.snapshotLocked(s, now), nil
	}
	for k, s := range r.services {
		if k.typ == typ && s.Addr == id {
			return r.snapshotLocked(s, now), nil
		}
	}
	return Service{}, fmt.Errorf("resolve %s %s: %w", typ, id, ErrNoSuchService)
}

func (r *Registry) snapshotLocked(s *Service, now time.Time) Service {
	c := *s
	c.Tags = maps.Clone(s.Tags)
	c.Alive = now.Sub(s.LastSeen) <= r.opts.DeadAfter
	return c
}

// MinFree returns the free space under which a service counts as full.
func (r *Registry) MinFree() int64 { return r.opts.MinFree }
