package rawx

import "sync"

// groupSync makes writes to a filesystem durable for many requests at
// once: each caller waits for a syncfs of the volume's filesystem that
// started after its call, and one syncfs serves every caller that arrived
// while the one before it ran. Under concurrent uploads, each of which
// syncs before and after its rename, that is a cache flush of the disk for
// a group of them instead of two per upload.
//
// syncfs reports a writeback error of the filesystem (Linux 5.8 and later)
// to every caller it serves: they cannot tell whose write failed.
type groupSync struct {
	sync func() error // syncfs of the volume

	mu      sync.Mutex
	cond    sync.Cond
	running bool
	started uint64 // syncs started
	done    uint64 // syncs finished
	failed  uint64 // the last sync that failed, 0 for none
	err     error  // its error
	waiting int    // calls waiting for a sync to end
}

func newGroupSync(sync func() error) *groupSync {
	g := &groupSync{sync: sync}
	g.cond.L = &g.mu
	return g
}

// Sync returns when everything written before the call is durable, or the
// error of the sync that was to make it so.
func (g *groupSync) Sync() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	want := g.started + 1 // the first sync to start after this call
	for g.done < want {
		if g.running {
			g.waiting++
			g.cond.Wait()
			g.waiting--
			continue
		}
		g.running = true
		g.started++
		n := g.started
		g.mu.Unlock()
		err := g.sync()
		g.mu.Lock()
		g.running, g.done = false, n
		if err != nil {
			g.failed, g.err = n, err
		}
		g.cond.Broadcast()
	}
	// A failure of the sync that was to serve this call, or of a later
	// one, is reported: the filesystem reports each error once.
	if g.failed >= want {
		return g.err
	}
	return nil
}

// state returns how many syncs have started and how many calls wait.
func (g *groupSync) state() (started uint64, waiting int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.started, g.waiting
}
