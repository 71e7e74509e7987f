package meta_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gridkeep/gridkeep/internal/meta"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func rawx(id, addr string, free, total int64) meta.Service {
	return meta.Service{Type: "rawx", ID: id, Addr: addr, Free: free, Total: total}
}

func mustRegister(t *testing.T, r *meta.Registry, svcs ...meta.Service) {
	t.Helper()
	for _, s := range svcs {
		if err := r.Register(s); err != nil {
			t.Fatalf("register %s: %v", s.ID, err)
		}
	}
}

func TestRegistryLiveness(t *testing.T) {
	clock := newFakeClock()
	r := meta.NewRegistry(meta.RegistryOptions{Now: clock.Now})
	mustRegister(t, r, rawx("a", "127.0.0.1:6201", 10, 100), rawx("b", "127.0.0.1:6202", 10, 100))
	clock.Advance(20 * time.Second)
	if err := r.Heartbeat("rawx", "a", 50, 100); err != nil {
		t.Fatal(err)
	}
	clock.Advance(15 * time.Second)
	alive := map[string]bool{}
	for _, s := range r.List("rawx") {
		alive[s.ID] = s.Alive
	}
	if diff := cmp.Diff(map[string]bool{"a": true, "b": false}, alive); diff != "" {
		t.Errorf("alive after 35 s (-want +got):\n%s", diff)
	}
	a, err := r.Resolve("rawx", "127.0.0.1:6201")
	if err != nil || a.ID != "a" || a.Free != 50 || a.Volume != "a" {
		t.Errorf("resolve by address: %+v, %v", a, err)
	}
	if _, err := r.Resolve("rawx", "b"); err != nil {
		t.Errorf("a dead service still resolves: %v", err)
	}
	for name, err := range map[string]error{
		"heartbeat unknown":  r.Heartbeat("rawx", "zz", 1, 1),
		"deregister unknown": r.Deregister("rdir", "a"),
	} {
		if !errors.Is(err, meta.ErrNoSuchService) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := r.Register(rawx("c", "no-port", 1, 1)); !errors.Is(err, meta.ErrInvalid) {
		t.Errorf("register without port: %v", err)
	}
}

func TestChoosePlacement(t *testing.T) {
	tests := []struct {
		name     string
		services []meta.Service
		dead     []string // silent for a minute
		copies   int
		want     []string // the only services that may be chosen; nil: error
	}{
		{"three of three", []meta.Service{rawx("a", "h:1", 5, 10), rawx("b", "h:2", 5, 10),
			rawx("c", "h:3", 5, 10)}, nil, 3, []string{"a", "b", "c"}},
		{"skips dead", []meta.Service{rawx("a", "h:1", 5, 10), rawx("b", "h:2", 5, 10),
			rawx("c", "h:3", 5, 10)}, []string{"b"}, 2, []string{"a", "c"}},
		{"skips full", []meta.Service{rawx("a", "h:1", 0, 10), rawx("b", "h:2", 5, 10),
			rawx("c", "h:3", 5, 10)}, nil, 2, []string{"b", "c"}},
		{"unknown space is usable", []meta.Service{rawx("a", "h:1", 0, 0)}, nil, 1,
			[]string{"a"}},
		{"one address counts once", []meta.Service{rawx("a", "h:1", 5, 10),
			rawx("b", "h:1", 5, 10)}, nil, 2, nil},
		{"not enough live", []meta.Service{rawx("a", "h:1", 5, 10), rawx("b", "h:2", 5, 10),
			rawx("c", "h:3", 5, 10)}, []string{"a", "c"}, 2, nil},
		{"none", nil, nil, 1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			r := meta.NewRegistry(meta.RegistryOptions{Now: clock.Now})
			mustRegister(t, r, tc.services...)
			clock.Advance(time.Minute)
			for _, s := range tc.services {
				if !contains(tc.dead, s.ID) {
					r.Heartbeat("rawx", s.ID, s.Free, s.Total)
				}
			}
			for range 200 {
				got, err := r.Choose("rawx", tc.copies)
				if tc.want == nil {
					if !errors.Is(err, meta.ErrNotEnoughServices) {
						t.Fatalf("got %v, %v; want ErrNotEnoughServices", got, err)
					}
					return
				}
				if err != nil || len(got) != tc.copies {
					t.Fatalf("choose %d: %v, %v", tc.copies, got, err)
				}
				checkDistinct(t, got, tc.want)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func checkDistinct(t *testing.T, got []meta.Service, allowed []string) {
	t.Helper()
	ids, addrs := map[string]bool{}, map[string]bool{}
	for _, s := range got {
		if ids[s.ID] || addrs[s.Addr] {
			t.Fatalf("two copies on one service: %+v", got)
		}
		if !contains(allowed, s.ID) {
			t.Fatalf("chose %s, not among %v", s.ID, allowed)
		}
		ids[s.ID], addrs[s.Addr] = true, true
	}
}

func TestChooseWeighsFreeSpace(t *testing.T) {
	tests := []struct {
		draw float64
		want string
	}{{0.0, "a"}, {0.09, "a"}, {0.11, "b"}, {0.99, "b"}}
	for _, tc := range tests {
		r := meta.NewRegistry(meta.RegistryOptions{Rand: func() float64 { return tc.draw }})
		mustRegister(t, r, rawx("a", "h:1", 10, 100), rawx("b", "h:2", 90, 100))
		got, err := r.Choose("rawx", 1)
		if err != nil || got[0].ID != tc.want {
			t.Errorf("draw %v: got %v, %v; want %s", tc.draw, got, err, tc.want)
		}
	}
}
