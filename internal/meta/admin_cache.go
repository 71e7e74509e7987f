package meta

import (
	"net/http"
	"sync"
	"time"

	"github.com/gridkeep/gridkeep/cache"
)

// adminTTL bounds how long prepare trusts a container it read, in case the
// container changes other than through this server, which forgets it at
// once.
const adminTTL = time.Second

// adminCapacity is how many containers prepare remembers.
const adminCapacity = 10_000

// adminCache remembers containers for prepare, which needs a container's
// existence and policies, not its counters, as OpenIO's meta2 keeps each
// open container's admin table in memory: a put then reads the container
// once, in the transaction that commits it, instead of twice.
type adminCache struct {
	entries *cache.Cache[string, *Container]

	mu  sync.Mutex
	gen uint64 // bumped by forget, so that no read older than a change is stored
}

func newAdminCache() *adminCache {
	c, err := cache.New(cache.Options[string, *Container]{Capacity: adminCapacity, TTL: adminTTL})
	if err != nil {
		panic(err) // the options are constant and valid
	}
	return &adminCache{entries: c}
}

// get returns the container of cid, from memory or from load. The returned
// container is shared: callers must not modify it.
func (a *adminCache) get(cid string, load func() (*Container, error)) (*Container, error) {
	if c, ok := a.entries.Get(cid); ok {
		return c, nil
	}
	a.mu.Lock()
	gen := a.gen
	a.mu.Unlock()
	c, err := load()
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	if a.gen == gen {
		a.entries.Set(cid, c)
	}
	a.mu.Unlock()
	return c, nil
}

// forget drops what is known of cid, after a change to it.
func (a *adminCache) forget(cid string) {
	a.mu.Lock()
	a.gen++
	a.entries.Delete(cid)
	a.mu.Unlock()
}

// preparedContainer is container for prepare, answered from memory.
func (s *Server) preparedContainer(r *http.Request, ref containerRef, create bool) (*Container, error) {
	return s.admins.get(ref.cid, func() (*Container, error) { return s.container(r, ref, create) })
}
