package convert

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/pace"
)

// Converter converts the chunks of one volume. Make one with New and call
// Run once. Progress, SetChunksPerSecond and ReportNow are safe to call while
// it runs.
type Converter struct {
	o        Options
	vol      chunk.VolumeIdentity
	res      *resolver
	pacer    *pace.Pacer
	claims   claims
	backups  *backups
	volFd    int
	lockFd   int    // the run lock, -1 when not taken
	lockName string // its file
	start    time.Time
	reports  reports
	stop     context.CancelFunc    // ends the run early (see halt)
	halted   atomic.Pointer[error] // why halt ended it

	finishMu sync.Mutex // serializes finish, hence OnResult
	total    atomic.Int64
	counts   [NotChunk + 1]atomic.Int64
	recov    atomic.Int64
	wrote    atomic.Bool
	syncs    atomic.Int64
	syncTime atomic.Int64 // nanoseconds, all syncs
	lastSync atomic.Int64 // nanoseconds, the latest sync
}

// New checks the options and the volume identity and returns a converter.
func New(o Options) (*Converter, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if o.Volume, err = resolvePath(o.Volume); err != nil {
		return nil, fmt.Errorf("convert: volume: %w", err)
	}
	vol, err := chunk.CheckVolume(o.Volume)
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	if err := checkBackupDir(&o); err != nil {
		return nil, err
	}
	res, err := newResolver(o.Dir, vol.ServiceID, o.CacheSize)
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	c := &Converter{o: o, vol: vol, res: res, pacer: o.Pacer, volFd: -1, lockFd: -1,
		claims: claims{held: map[inode]struct{}{}}}
	if c.pacer == nil {
		c.pacer = pace.New(pace.Rates{ItemsPerSecond: o.ChunksPerSecond})
	}
	c.total.Store(-1)
	return c, nil
}

// checkBackupDir resolves the backup directory, which must not be inside
// the volume (its files are named like chunks), and checks that it can
// hold backups, or be made where its parent lets it (a parent that does
// not exist is more likely a typing error than a wish), so that a
// directory that cannot hold backups is refused before the run. The run
// makes it once it holds the volume's lock (see makeBackupDir): a run
// refused because another converts the volume makes nothing.
func checkBackupDir(o *Options) error {
	if o.NoBackup {
		return nil
	}
	if o.BackupDir == "" {
		o.BackupDir = os.TempDir()
	}
	dir, err := resolvePath(o.BackupDir)
	if err != nil {
		return fmt.Errorf("convert: backup directory: %w", err)
	}
	if inside(o.Volume, dir) || dir == o.Volume {
		return fmt.Errorf("convert: backup directory %s is inside the volume", o.BackupDir)
	}
	st, err := os.Stat(dir)
	switch {
	case err == nil && !st.IsDir():
		return fmt.Errorf("convert: backup directory %s is not a directory", o.BackupDir)
	case errors.Is(err, os.ErrNotExist):
		if _, perr := os.Stat(filepath.Dir(dir)); perr != nil {
			return fmt.Errorf("convert: backup directory %s: its parent: %w", o.BackupDir, perr)
		}
	case err != nil:
		return fmt.Errorf("convert: backup directory: %w", err)
	}
	if o.DryRun { // nothing is written: the directory is looked at, not made
		return nil
	}
	writable := dir
	if err != nil {
		writable = filepath.Dir(dir) // where it will be made
	}
	if err := unix.Access(writable, unix.W_OK|unix.X_OK); err != nil {
		return fmt.Errorf("convert: backup directory %s: %w", o.BackupDir, err)
	}
	o.BackupDir = dir
	return nil
}

// makeBackupDir makes the backup directory dir, checked by checkBackupDir,
// unless it exists.
func makeBackupDir(dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("backup directory: %w", err)
	}
	return nil
}

// resolvePath returns the absolute path of path with every symbolic link
// resolved, that of its nearest existing ancestor when it does not exist
// (yet).
func resolvePath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	var rest []string
	for {
		resolved, err := filepath.EvalSymlinks(abs)
		if err == nil {
			return filepath.Join(append([]string{resolved}, rest...)...), nil
		}
		parent := filepath.Dir(abs)
		if !errors.Is(err, os.ErrNotExist) || parent == abs {
			return "", err
		}
		rest = append([]string{filepath.Base(abs)}, rest...)
		abs = parent
	}
}

// inside reports whether path, absolute and clean, is under dir.
func inside(dir, path string) bool {
	return strings.HasPrefix(path, dir+string(filepath.Separator))
}

// VolumeID returns the service id of the volume, which is also its id in
// the reverse index.
func (c *Converter) VolumeID() string { return c.vol.ServiceID }

// SetChunksPerSecond changes the pacing from now on, for the chunk waiting
// its turn too; 0 or less means no limit. With Options.Pacer, it sets that
// pacer's items per second.
func (c *Converter) SetChunksPerSecond(n float64) {
	r := c.pacer.Rates()
	r.ItemsPerSecond = max(n, 0)
	c.pacer.SetRates(r)
}

// Progress is how far a run is.
type Progress struct {
	Done       int64 // chunks visited whose outcome is known
	Total      int64 // chunks to visit, once TotalKnown
	TotalKnown bool  // only with Options.CountTotal
	Errors     int64 // orphans and failures so far
}

// Progress returns how far the run is.
func (c *Converter) Progress() Progress {
	s := c.counted()
	t := c.total.Load()
	return Progress{Done: s.Chunks, Total: t, TotalKnown: t >= 0, Errors: s.Errors()}
}

// Run converts the volume, or only the chunks of Options.Input, and
// returns what it did. The error is nil when the run went through, even if
// some chunks were left unconverted (see Summary.Errors); it is not nil
// when the run stopped early: ctx ended, or a backup could not be written
// or the volume could not be synced.
func (c *Converter) Run(ctx context.Context) (Summary, error) {
	c.start = c.o.Now()
	if err := c.open(); err != nil {
		return c.summary(), err
	}
	defer c.close()
	if c.o.OnStart != nil {
		c.o.OnStart()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.stop = cancel
	if c.o.CountTotal {
		go c.countTotal(ctx)
	}
	stopReports := c.startReports(c.o.ReportInterval)

	err := c.runPasses(ctx)
	if h := c.halted.Load(); h != nil {
		err = *h
	}
	if c.wrote.Load() {
		if serr := c.sync(c.volFd, "volume"); err == nil {
			err = serr
		}
	}
	stopReports()
	return c.summary(), err
}

// halt ends the run early with err: the chunks in flight are finished, and
// no other chunk is visited.
func (c *Converter) halt(err error) {
	if c.halted.CompareAndSwap(nil, &err) {
		c.stop()
	}
}

// ErrBusy says another run converts the volume: two runs at once would
// each back up the other's changes as originals.
var ErrBusy = errors.New("another run converts this volume")

// open opens what the run syncs, takes the volume's run lock (a dry run
// writes nothing and takes none), then makes the backup directory.
func (c *Converter) open() error {
	fd, err := unix.Open(c.o.Volume, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open volume %s: %w", c.o.Volume, err)
	}
	c.volFd = fd
	if c.o.DryRun {
		return nil
	}
	if err := c.lock(); err != nil {
		return err
	}
	if c.o.NoBackup {
		return nil
	}
	if err := makeBackupDir(c.o.BackupDir); err != nil {
		return err
	}
	c.backups = newBackups(c.o.BackupDir, c.vol.ServiceID, c.start)
	return nil
}

// lock takes the run lock of the volume: an exclusive flock on a file of
// the system's temporary directory named after the volume directory's
// device and inode (the volume's own directory is locked by its chunk
// server, with which a run goes along). The run removes the file as it
// ends, still holding the lock; a run that locked a file so removed tries
// again with a new one. A killed run's lock goes with its process.
func (c *Converter) lock() error {
	var st unix.Stat_t
	if err := unix.Fstat(c.volFd, &st); err != nil {
		return fmt.Errorf("stat volume %s: %w", c.o.Volume, err)
	}
	name := filepath.Join(os.TempDir(), fmt.Sprintf("gridkeep-convert-%d-%d.lock", st.Dev, st.Ino))
	for {
		fd, err := unix.Open(name, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
		if err != nil {
			return fmt.Errorf("run lock %s: %w", name, err)
		}
		if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
			unix.Close(fd)
			if errors.Is(err, unix.EWOULDBLOCK) {
				return fmt.Errorf("%w: %s (lock %s)", ErrBusy, c.o.Volume, name)
			}
			return fmt.Errorf("run lock %s: %w", name, err)
		}
		var held, now unix.Stat_t
		if unix.Fstat(fd, &held) == nil && unix.Stat(name, &now) == nil && held.Ino == now.Ino {
			c.lockFd, c.lockName = fd, name
			return nil
		}
		unix.Close(fd) // removed by the run that held it: lock the new file
	}
}

func (c *Converter) close() {
	if c.lockFd >= 0 {
		os.Remove(c.lockName)
		unix.Close(c.lockFd)
	}
	if c.volFd >= 0 {
		unix.Close(c.volFd)
	}
}

func (c *Converter) sync(fd int, what string) error {
	start := time.Now()
	err := unix.Syncfs(fd)
	took := int64(time.Since(start))
	c.syncs.Add(1)
	c.syncTime.Add(took)
	c.lastSync.Store(took)
	if err != nil {
		return fmt.Errorf("sync %s filesystem: %w", what, err)
	}
	return nil
}

// runPasses visits every chunk, then the chunks that had to wait for
// another name of their inode, then the chunks whose owner only the reverse
// index knows.
func (c *Converter) runPasses(ctx context.Context) error {
	deferred, needRdir, err := c.pass(ctx, c.mainFeed(), true)
	for err == nil && len(deferred) > 0 {
		var more []item
		deferred, more, err = c.pass(ctx, sliceFeed(deferred), false)
		needRdir = append(needRdir, more...)
	}
	if err != nil || len(needRdir) == 0 {
		return err
	}
	if needRdir, err = c.attachRecords(ctx, needRdir); err != nil || len(needRdir) == 0 {
		return err
	}
	deferred, _, err = c.pass(ctx, sliceFeed(needRdir), false)
	for err == nil && len(deferred) > 0 {
		deferred, _, err = c.pass(ctx, sliceFeed(deferred), false)
	}
	return err
}

// summary returns the counts so far.
func (c *Converter) summary() Summary {
	s := c.counted()
	s.Volume, s.Started, s.DryRun = c.vol.ServiceID, c.start, c.o.DryRun
	if !c.start.IsZero() {
		s.Elapsed = c.o.Now().Sub(c.start)
	}
	if c.backups != nil && c.backups.made.Load() {
		s.BackupDir = c.backups.dir
	}
	return s
}

// counted returns the counts of the summary, and nothing that Run sets as
// it starts: Progress reads them from the moment Run is called.
func (c *Converter) counted() Summary {
	s := Summary{Converted: c.counts[Converted].Load(), Current: c.counts[Current].Load(),
		Orphans: c.counts[Orphan].Load(), Failed: c.counts[Failed].Load(),
		NotChunks: c.counts[NotChunk].Load(), Recovered: c.recov.Load(), Syncs: c.syncs.Load(),
		SyncTime: time.Duration(c.syncTime.Load())}
	s.Chunks = s.Converted + s.Current + s.Orphans + s.Failed
	return s
}

// finish records the outcome of a chunk.
func (c *Converter) finish(p *plan) {
	c.finishMu.Lock()
	defer c.finishMu.Unlock()
	if p.claimed {
		c.claims.release(p.ino)
		p.claimed = false
	}
	c.counts[p.res.Outcome].Add(1)
	if p.res.Recovered && p.res.Outcome == Converted {
		c.recov.Add(1)
	}
	if c.o.OnResult != nil {
		c.o.OnResult(p.res)
	}
}

// claims are the inodes with a plan in flight: one name of an inode at a
// time is planned and written.
type claims struct {
	mu   sync.Mutex
	held map[inode]struct{}
}

func (cl *claims) claim(ino inode) bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if _, ok := cl.held[ino]; ok {
		return false
	}
	cl.held[ino] = struct{}{}
	return true
}

func (cl *claims) release(ino inode) {
	cl.mu.Lock()
	delete(cl.held, ino)
	cl.mu.Unlock()
}
