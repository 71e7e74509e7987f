// Package namespace runs a whole gridkeep namespace in one process: the
// directory with its API, chunk servers on local volumes, the reverse
// index, an embedded NATS JetStream bus, the outbox relay and the event
// agent, whose steps keep the reverse index current, delete the chunks of
// deleted objects and rebuild the chunks storage.content.broken events
// announce. It is what `gridkeep up` runs, and what end-to-end tests start.
package namespace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gridkeep/gridkeep/internal/agent"
	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/event/natsbus"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/meta/sqlstore"
	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/rdir"
	"github.com/gridkeep/gridkeep/internal/rebuild"
	"github.com/gridkeep/gridkeep/internal/shell"
	"github.com/gridkeep/gridkeep/internal/sqlitedb"
)

// Options configure a namespace. The zero value of every field but Data
// works.
type Options struct {
	Data      string // data directory (required); created if missing
	Name      string // namespace name; "" means meta.DefaultNamespace
	Rawx      int    // chunk servers; 0 means 3
	PortBase  int    // directory API port; 0 means 6000, -1 picks free ports
	ChunkSize int64  // metachunk size in bytes; 0 means the directory's default
	// Fsync makes every acknowledged write survive a power loss: chunk
	// servers sync each chunk, the directory syncs each commit. Without it
	// a killed process still loses nothing it acknowledged.
	Fsync bool
	// NewVolumes names chunk servers (rawx-N) whose volume may start empty
	// although the reverse index lists chunks on it: a disk replaced after
	// a loss, whose copies the checker and the rebuilder then put back.
	// Any other such volume that is missing, or has no identity, stops the
	// start (see ErrVolumeLost).
	NewVolumes []string
	Logger     *slog.Logger
}

// ErrVolumeLost is returned by Start for a chunk server whose volume is
// missing, empty or without its identity attribute while the reverse index
// lists chunks on it: its disk is not mounted, or was lost, or the volume
// lost the attribute. Starting it empty would take its share of the
// writes while the chunks it held stay out of reach.
var ErrVolumeLost = errors.New("volume lost")

// Port offsets from Options.PortBase.
const (
	offsetRdir = 1
	offsetNATS = 2
	offsetRawx = 200 // chunk server i (from 1) listens on PortBase+200+i
)

// Namespace is a running namespace. Its fields are read-only.
type Namespace struct {
	ProxyURL string     // directory API, e.g. http://127.0.0.1:6000
	RdirURL  string     // reverse index API
	NATSURL  string     // the embedded bus, for other processes
	Rawx     []RawxInfo // chunk servers, in order
	// Replaced are the chunk servers started empty, as Options.NewVolumes
	// allowed, although the reverse index lists chunks on them.
	Replaced []string
	Store    *sqlstore.Store
	Registry *meta.Registry

	opts    Options
	log     *slog.Logger
	servers []*rawx.Server // the chunk servers of Rawx, in order
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closers []func() error // run in reverse order by Close
	stopBy  time.Time      // when Close cuts the requests still running
	errc    chan error
}

// RawxInfo describes one chunk server of the namespace.
type RawxInfo struct {
	ServiceID string // also its reverse-index volume id
	Addr      string
	Volume    string
}

// Start starts every service and returns once all of them accept
// requests. Close stops them. A start that fails removes the data
// directory if it made it.
func Start(ctx context.Context, opts Options) (*Namespace, error) {
	_, err := os.Stat(opts.Data)
	made := opts.Data != "" && errors.Is(err, os.ErrNotExist)
	if err := opts.withDefaults(); err != nil {
		return nil, err
	}
	ns := &Namespace{opts: opts, log: opts.Logger, errc: make(chan error, 16)}
	if err := ns.start(ctx); err != nil {
		ns.Close()
		if made {
			os.RemoveAll(opts.Data)
		}
		return nil, err
	}
	return ns, nil
}

func (o *Options) withDefaults() error {
	if o.Data == "" {
		return errors.New("namespace: no data directory")
	}
	if o.Name == "" {
		o.Name = meta.DefaultNamespace
	}
	if err := chunk.CheckNamespace(o.Name); err != nil {
		return fmt.Errorf("namespace: %w", err)
	}
	if o.Rawx == 0 {
		o.Rawx = 3
	}
	if o.Rawx < 1 || o.Rawx > 100 {
		return fmt.Errorf("namespace: %d chunk servers: want 1 to 100", o.Rawx)
	}
	if o.PortBase == 0 {
		o.PortBase = 6000
	}
	if o.PortBase > 65535-offsetRawx-o.Rawx {
		return fmt.Errorf("namespace: port base %d is too high", o.PortBase)
	}
	for _, id := range o.NewVolumes {
		if n, err := strconv.Atoi(strings.TrimPrefix(id, "rawx-")); err != nil ||
			id != rawxID(n) || n < 1 || n > o.Rawx {
			return fmt.Errorf("namespace: new volume %q: want the id of one of the chunk servers, "+
				"rawx-1 to rawx-%d", id, o.Rawx)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return os.MkdirAll(o.Data, 0o755)
}

// listen opens the listener of a service at PortBase+offset, or on a free
// port when PortBase is -1.
func (ns *Namespace) listen(offset int) (net.Listener, error) {
	addr := "127.0.0.1:0"
	if ns.opts.PortBase > 0 {
		addr = "127.0.0.1:" + strconv.Itoa(ns.opts.PortBase+offset)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("namespace: %w", err)
	}
	return ln, nil
}

func (ns *Namespace) start(ctx context.Context) error {
	if err := ns.lockData(); err != nil {
		return err
	}
	bus, err := ns.startBus(ctx)
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	ns.cancel = cancel
	rdirStore, err := ns.startRdir(ctx)
	if err != nil {
		return err
	}
	// The relay is woken by every commit of the directory; it polls too,
	// as a safety net.
	var relay atomic.Pointer[event.Relay]
	notify := func() {
		if r := relay.Load(); r != nil {
			r.Notify()
		}
	}
	if err := ns.startDirectory(ctx, notify); err != nil {
		return err
	}
	r := event.NewRelay(ns.Store, bus, event.RelayOptions{Poll: time.Second, Logger: ns.log})
	relay.Store(r)
	ns.run(func() error { return r.Run(runCtx) })
	pub := event.NewAsyncPublisher(bus, event.AsyncOptions{Logger: ns.log})
	ns.closers = append(ns.closers, func() error {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return pub.Close(cctx)
	})
	for i := 1; i <= ns.opts.Rawx; i++ {
		if err := ns.startRawx(ctx, i, pub, rdirStore); err != nil {
			return err
		}
	}
	ns.run(func() error { return ns.heartbeat(runCtx) })
	return ns.startAgent(runCtx, bus, rdirStore)
}

// run runs fn in the background until Close; a failure is reported by Wait.
func (ns *Namespace) run(fn func() error) {
	ns.wg.Add(1)
	go func() {
		defer ns.wg.Done()
		if err := fn(); err != nil && !errors.Is(err, context.Canceled) &&
			!errors.Is(err, http.ErrServerClosed) && !errors.Is(err, event.ErrClosed) {
			select {
			case ns.errc <- err:
			default:
			}
		}
	}()
}

// serve serves h on ln until Close.
func (ns *Namespace) serve(ln net.Listener, h http.Handler) {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		MaxHeaderBytes: 64 << 10}
	ns.run(func() error { return hs.Serve(ln) })
	addr := ln.Addr().String()
	ns.closers = append(ns.closers, func() error { return ns.shutdown(hs, addr) })
}

// stopGrace is how long a stop lets requests under way finish, an upload
// from a slow client say, before it cuts them.
const stopGrace = 5 * time.Second

// shutdown stops hs, serving at addr, once its requests are done, or cuts
// those still running at the stop's deadline: a client that stalls does
// not make a stop fail, nor wait for it.
func (ns *Namespace) shutdown(hs *http.Server, addr string) error {
	ctx, cancel := context.WithDeadline(context.Background(), ns.stopBy)
	defer cancel()
	err := hs.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		ns.log.Warn("stop: requests still running were cut", "addr", addr, "after", stopGrace)
		return hs.Close()
	}
	return err
}

func (ns *Namespace) startBus(ctx context.Context) (event.Bus, error) {
	listen := "127.0.0.1:0"
	if ns.opts.PortBase > 0 {
		listen = "127.0.0.1:" + strconv.Itoa(ns.opts.PortBase+offsetNATS)
		// The embedded server would only log a port in use and never get
		// ready: find out first.
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			return nil, fmt.Errorf("namespace: event bus: %w", err)
		}
		ln.Close()
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	bus, err := natsbus.Open(ctx, natsbus.ServerOptions{Dir: filepath.Join(ns.opts.Data, "nats"),
		Listen: listen}, natsbus.Options{Logger: ns.log})
	if err != nil {
		return nil, fmt.Errorf("namespace: event bus: %w", err)
	}
	ns.NATSURL = bus.URL()
	ns.closers = append(ns.closers, bus.Close)
	return bus, nil
}

func (ns *Namespace) startRdir(ctx context.Context) (rdir.Store, error) {
	// The index is written in the background, in batches of events, where
	// no caller waits for a commit: a checkpoint a second, instead of every
	// 50 ms, copies a page changed by many batches once (about a tenth
	// fewer bytes written per object put, and 5% more puts a second).
	store, err := rdir.OpenSQLite(ctx, filepath.Join(ns.opts.Data, "rdir.db"),
		sqlitedb.Options{CheckpointInterval: time.Second})
	if err != nil {
		return nil, fmt.Errorf("namespace: reverse index: %w", err)
	}
	ns.closers = append(ns.closers, store.Close)
	ln, err := ns.listen(offsetRdir)
	if err != nil {
		return nil, err
	}
	ns.RdirURL = "http://" + ln.Addr().String()
	ns.serve(ln, rdir.NewHandler(store, rdir.HandlerOptions{Logger: ns.log}))
	return store, nil
}

func (ns *Namespace) startDirectory(ctx context.Context, committed func()) error {
	store, err := sqlstore.Open(ctx, filepath.Join(ns.opts.Data, "meta.db"), sqlstore.Options{
		Namespace:  meta.Namespace{Name: ns.opts.Name, ChunkSize: ns.opts.ChunkSize},
		SyncNormal: !ns.opts.Fsync,
		Committed:  committed})
	if err != nil {
		return fmt.Errorf("namespace: directory: %w", err)
	}
	ns.Store = store
	ns.closers = append(ns.closers, store.Close)
	ns.Registry = meta.NewRegistry(meta.RegistryOptions{})
	ln, err := ns.listen(0)
	if err != nil {
		return err
	}
	srv, err := meta.NewServer(store, meta.ServerOptions{Registry: ns.Registry, Logger: ns.log,
		RdirAddr: ns.RdirURL[len("http://"):]})
	if err != nil {
		return err
	}
	ns.ProxyURL = "http://" + ln.Addr().String()
	ns.serve(ln, srv)
	return nil
}

// rawxID is the service id of chunk server i (from 1), also the name of
// its volume's folder.
func rawxID(i int) string { return "rawx-" + strconv.Itoa(i) }

// lockData takes the data directory for this process until Close, so that
// a second namespace on it is refused at once, in those words.
func (ns *Namespace) lockData() error {
	d, err := os.Open(ns.opts.Data)
	if err != nil {
		return fmt.Errorf("namespace: %w", err)
	}
	if err := unix.Flock(int(d.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		d.Close()
		return fmt.Errorf("namespace: the data directory %s is in use by another process: %w",
			ns.opts.Data, err)
	}
	ns.closers = append(ns.closers, d.Close)
	return nil
}

// Unserved returns the volumes of the data folder that hold chunk files
// (or cannot be read) and that no chunk server of the namespace serves:
// rawx-N folders left by an earlier start with more chunk servers. The
// copies they hold are out of reach until a start with enough chunk
// servers serves them again.
func (ns *Namespace) Unserved() []string {
	entries, err := os.ReadDir(ns.opts.Data)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		n, err := strconv.Atoi(strings.TrimPrefix(e.Name(), "rawx-"))
		dir := filepath.Join(ns.opts.Data, e.Name())
		if e.IsDir() && strings.HasPrefix(e.Name(), "rawx-") && err == nil && n > ns.opts.Rawx &&
			holdsChunks(dir) {
			out = append(out, dir)
		}
	}
	return out
}

// holdsChunks reports whether the folder dir holds a chunk file, stopping
// at the first, or could not be read through, and so may.
func holdsChunks(dir string) bool {
	found := errors.New("found")
	return chunk.WalkChunks(dir, func(string) error { return found }) != nil
}

func (ns *Namespace) startRawx(ctx context.Context, i int, pub event.Publisher, index rdir.Store) error {
	info := RawxInfo{ServiceID: rawxID(i), Volume: filepath.Join(ns.opts.Data, rawxID(i))}
	if err := ns.checkVolume(ctx, info, index); err != nil {
		return err
	}
	if err := os.MkdirAll(info.Volume, 0o755); err != nil {
		return fmt.Errorf("namespace: %w", err)
	}
	ln, err := ns.listen(offsetRawx + i)
	if err != nil {
		return err
	}
	info.Addr = ln.Addr().String()
	srv, err := rawx.New(rawx.Config{Volume: info.Volume, Addr: info.Addr, Namespace: ns.opts.Name,
		ServiceID: info.ServiceID, Fsync: ns.opts.Fsync, Publisher: pub,
		Logger: ns.log.With("service_id", info.ServiceID)})
	if err != nil {
		ln.Close()
		return fmt.Errorf("namespace: %w", err)
	}
	ns.closers = append(ns.closers, srv.Close)
	hs := srv.HTTPServer()
	ns.run(func() error { return hs.Serve(ln) })
	ns.closers = append(ns.closers, func() error { return ns.shutdown(hs, info.Addr) })
	ns.Rawx = append(ns.Rawx, info)
	ns.servers = append(ns.servers, srv)
	return ns.register(info)
}

// checkVolume returns ErrVolumeLost when the volume of info is missing or
// has no identity yet while the reverse index lists chunks on it, unless
// Options.NewVolumes names it.
func (ns *Namespace) checkVolume(ctx context.Context, info RawxInfo, index rdir.Store) error {
	id, readErr := chunk.ReadVolume(info.Volume)
	newVolume := slices.Contains(ns.opts.NewVolumes, info.ServiceID)
	if readErr == nil && id.ServiceID != "" {
		if _, chunkDirs := volumeState(info.Volume, nil); newVolume && chunkDirs {
			return fmt.Errorf("namespace: --new-volume %s: %w: %s has its identity and holds chunk "+
				"directories: it is no new disk; start without --new-volume", info.ServiceID,
				ErrVolumeLost, info.Volume)
		}
		return nil
	}
	page, err := index.Fetch(ctx, info.ServiceID, rdir.ListOptions{Limit: 1})
	switch {
	case errors.Is(err, rdir.ErrNoVolume) || err == nil && len(page.Records) == 0:
		return nil // a new volume, or one that held nothing
	case err != nil:
		return fmt.Errorf("namespace: %s: %w", info.ServiceID, err)
	}
	what, chunkDirs := volumeState(info.Volume, readErr)
	identity := fmt.Sprintf("give the volume back its identity (`setfattr -n %s -v %s %s`) and start again",
		chunk.AttrVolumeID, info.ServiceID, shell.Arg(info.Volume))
	switch {
	case newVolume && chunkDirs:
		// Not an empty new disk: starting it as one would say its copies
		// are to be put back while they are there, under another identity.
		return fmt.Errorf("namespace: --new-volume %s: %w: %s: it is no new disk; if they are its "+
			"chunks, %s without --new-volume", info.ServiceID, ErrVolumeLost, what, identity)
	case newVolume:
		ns.Replaced = append(ns.Replaced, info.ServiceID)
		return nil
	}
	replaced := fmt.Sprintf("to start it empty on a replaced disk, add `--new-volume %s`, then put "+
		"its copies back (see `gridkeep up --help`)", info.ServiceID)
	if chunkDirs {
		return fmt.Errorf("namespace: %w: %s, and the reverse index lists chunks on %s: if they are "+
			"its chunks, %s; if not, move them away, and %s", ErrVolumeLost, what, info.ServiceID,
			identity, strings.TrimPrefix(replaced, "to start it empty on a replaced disk, "))
	}
	return fmt.Errorf("namespace: %w: %s, but the reverse index lists chunks on %s (is its disk "+
		"mounted?); %s", ErrVolumeLost, what, info.ServiceID, replaced)
}

// volumeState says what is wrong with the volume folder dir, which has no
// service id recorded (readErr is the error reading its identity
// returned), and whether it holds chunk directories: then it is more
// likely a volume that lost its identity attribute than a lost disk.
func volumeState(dir string, readErr error) (what string, chunkDirs bool) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return dir + " is missing", false
	case err != nil:
		return fmt.Sprintf("%s cannot be read: %v", dir, err), false
	case readErr != nil:
		return readErr.Error(), false
	case len(entries) == 0:
		return dir + " is empty", false
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() && len(e.Name()) == chunk.DefaultLayout.Width && chunk.IsUpperHex(e.Name()) {
			n++
		}
	}
	if n == 0 {
		return fmt.Sprintf("%s has no identity attribute (%s) and holds no chunk directory", dir,
			chunk.AttrVolumeID), false
	}
	dirs := "1 chunk directory"
	if n > 1 {
		dirs = fmt.Sprintf("%d chunk directories", n)
	}
	return fmt.Sprintf("%s has no identity attribute (%s), yet holds %s", dir, chunk.AttrVolumeID,
		dirs), true
}

// register announces a chunk server to the directory with its free space.
func (ns *Namespace) register(r RawxInfo) error {
	free, total := diskSpace(r.Volume)
	return ns.Registry.Register(meta.Service{Type: "rawx", ID: r.ServiceID, Addr: r.Addr,
		Volume: r.ServiceID, Free: free, Total: total})
}

// heartbeat refreshes the chunk servers' registrations every second until
// ctx is done. A chunk server whose volume is out of reach (moved or
// unmounted under it) is marked down, so that no copy is placed on it,
// until its volume is back.
func (ns *Namespace) heartbeat(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	lost := make([]bool, len(ns.Rawx))
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		for i, r := range ns.Rawx {
			volErr := ns.servers[i].CheckVolume()
			switch {
			case volErr != nil && !lost[i]:
				ns.log.Error("chunk server down: its volume is out of reach",
					"service_id", r.ServiceID, "err", volErr)
			case volErr == nil && lost[i]:
				ns.log.Warn("chunk server up again: its volume is back", "service_id", r.ServiceID)
			}
			lost[i] = volErr != nil
			var err error
			if lost[i] {
				err = ns.Registry.Down("rawx", r.ServiceID)
			} else {
				free, total := diskSpace(r.Volume)
				err = ns.Registry.Heartbeat("rawx", r.ServiceID, free, total)
			}
			if err != nil {
				ns.log.Warn("heartbeat", "service_id", r.ServiceID, "err", err)
			}
		}
	}
}

func diskSpace(dir string) (free, total int64) {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return 0, 0
	}
	return int64(st.Bavail) * st.Bsize, int64(st.Blocks) * st.Bsize
}

// unindexer returns the agent's way to remove the reverse index record
// of a chunk gone from its volume before its object was deleted. A volume
// never indexed, or a record that cannot be named, has nothing to remove.
func unindexer(store rdir.Store) agent.Unindex {
	return func(ctx context.Context, vol, cid, id string) error {
		err := store.Delete(ctx, vol, []rdir.ChunkRef{{ContainerID: cid, ChunkID: id}})
		if errors.Is(err, rdir.ErrNoVolume) || errors.Is(err, rdir.ErrInvalid) {
			return nil
		}
		return err
	}
}

func (ns *Namespace) startAgent(ctx context.Context, bus event.Bus, store rdir.Store) error {
	resolve := func(_ context.Context, host string) (string, error) {
		svc, err := ns.Registry.Resolve("rawx", host)
		if err != nil {
			return host, nil // not a service id: an address already
		}
		return svc.Addr, nil
	}
	rb, err := rebuild.New(ns.ProxyURL, rebuild.Options{Namespace: ns.opts.Name})
	if err != nil {
		return err
	}
	a, err := agent.New(bus, ns.log,
		agent.VolumeIndex(store),
		agent.ContentCleaner(&rawx.Client{}, resolve, ns.chunkOwners, unindexer(store)),
		rebuild.Step(rb))
	if err != nil {
		return err
	}
	ns.run(func() error { return a.Run(ctx) })
	return nil
}

// chunkOwners returns the chunk URLs of the directory's entries of a
// chunk id.
func (ns *Namespace) chunkOwners(ctx context.Context, chunkID string) ([]string, error) {
	owners, err := ns.Store.ChunkOwners(ctx, chunkID)
	if err != nil {
		return nil, err
	}
	urls := make([]string, len(owners))
	for i, o := range owners {
		urls[i] = o.Chunk.URL
	}
	return urls, nil
}

// Err returns a channel that receives the error of a service that stopped
// on its own.
func (ns *Namespace) Err() <-chan error { return ns.errc }

// Close stops every service, the latest started first, and waits for them.
func (ns *Namespace) Close() error {
	if ns.cancel != nil {
		ns.cancel()
	}
	ns.stopBy = time.Now().Add(stopGrace) // one grace for every server
	var errs []error
	for i := len(ns.closers) - 1; i >= 0; i-- {
		if err := ns.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	ns.closers = nil
	ns.wg.Wait()
	return errors.Join(errs...)
}
