// Package rawx is the chunk server: one per volume, it stores chunk files
// with their metadata in extended attributes and serves them over OpenIO's
// rawx HTTP API (PUT, GET, HEAD, DELETE, COPY and POST on /<chunk id>, plus
// /info, /stat, /list and /metrics).
//
// Compatibility: routes, headers, status codes and the files and attributes
// left on disk are those of OpenIO's Go rawx. Where that server has a quirk
// no client relies on, this one does the sane thing instead:
//
//   - a chunk whose size attribute is missing or does not parse is served
//     with the size of its file, not as an empty body; HEAD then has no
//     size header, or the attribute's value as stored;
//   - GET and HEAD may name the size the reader expects in
//     X-Oio-Chunk-Meta-Chunk-Size (the directory's): the file must hold
//     at least that many bytes (412 otherwise, a truncated file), GET
//     serves them whatever the size attribute says, and a longer file has
//     its size in X-Gridkeep-File-Size (see servedSize); OpenIO ignores
//     the header and serves the attribute's size, which a reader then sees
//     in Content-Length;
//   - a GET of a file shorter than its size attribute answers 412 before
//     any byte is sent, where OpenIO promises the attribute's size and
//     breaks the reply off where the file ends;
//   - HEAD on a chunk without a hash attribute answers with the other
//     headers instead of 500;
//   - a full disk answers 507 Insufficient Storage (with the partial file
//     removed) instead of a generic 500, and an attribute too large for the
//     filesystem, which says so with the same error, 413 when the disk has
//     room;
//   - a method without "cca" is stored with "cca=md5" appended at the end,
//     always in that order, where OpenIO's parameter order varies;
//   - GET of a range has Content-Type application/octet-stream, like a
//     whole chunk, where OpenIO sniffed a text type;
//   - a PUT whose chunk position is not N, N.M or N.pM answers 400, where
//     OpenIO stored any string, and so does one whose trailer gives another
//     chunk or metachunk hash or size than its headers, where the trailer
//     won;
//   - a server whose hash width or depth differs from the layout of the
//     chunk directories already on its volume refuses to start;
//   - only a regular file is a chunk: a symbolic link, a named pipe or a
//     directory under a chunk's name, or a chunk reached through a linked
//     directory, answers 404 to GET, HEAD, COPY, POST and DELETE and is
//     left alone (a link is never followed out of the volume, a pipe
//     cannot hang the request); PUT and COPY refuse (500, saying why) to
//     write into a chunk directory that is a symbolic link or a file;
//     /list names whatever is named like a chunk but a directory, for a
//     volume walk to find what is not a chunk file;
//   - /list leaves out of its chunk ids an entry named like a chunk in a
//     directory that is not its id's (OpenIO lists it, out of id order),
//     and names it by its path in a field of its own, "misplaced", as it
//     does, on its first page, the files named like a chunk above the
//     chunk directories (at the volume's root, say), which OpenIO leaves
//     out;
//   - a POST whose properties cannot all be written (413, 507) writes
//     none of them, where OpenIO kept those set before the failure;
//   - with Config.Fsync, an upload is made durable by a sync of the
//     volume's whole filesystem (syncfs) before its rename and another
//     after it, each shared by every upload in flight (see groupSync),
//     where OpenIO syncs the file, then its directory, for each upload:
//     one disk cache flush serves a group of uploads (measured, 4 KiB
//     uploads from 16 clients, runs apart: about 20% more per second, p99
//     from 13 to 8 ms), but a volume sharing its filesystem with other
//     busy writers makes each sync wait for their data too.
//
// Known limit: a chunk file cut (truncated) while it is being sent may
// reach the client with zeros from the cut on, within one piece of 1 MiB.
// Bodies over 64 KiB go with sendfile, which hands page-cache pages to the
// socket, and a cut zeroes them before the client reads them; the file's
// size is checked before each piece, so the reply breaks off at the next
// one. Copying every body through memory would close this, for about a
// quarter of the throughput of 1 MiB reads (measured: 2,901 instead of
// 3,789 MB/s); chunk files are never changed in place, and readers check
// chunk hashes.
package rawx

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/event"
)

// Special folders at the root of every volume.
const (
	NonOptimalDir = "non_optimal_placement"
	OrphansDir    = "orphans"
)

// DefaultMaxChunkSize bounds the body of a PUT unless configured otherwise.
const DefaultMaxChunkSize = 4 << 30

// Config configures a chunk server. The zero value of every optional field
// is a working default.
type Config struct {
	Volume    string // volume root directory (required)
	Addr      string // ip:port the server answers on (required)
	Namespace string // namespace name (required)
	ServiceID string // service id; empty means Addr is the id

	Layout       chunk.Layout // hash width and depth; zero is 3 and 1
	Fsync        bool         // make each upload durable (see groupSync) before answering
	MaxChunkSize int64        // largest PUT body; 0 means DefaultMaxChunkSize
	// IdleTimeout is how long a client may send nothing in the middle of an
	// upload, or take nothing of a download, before the request is
	// abandoned; 0 means 30 seconds.
	IdleTimeout time.Duration
	// NoShallowCopy refuses COPY (405), as OpenIO does without shallow_copy.
	NoShallowCopy bool
	// MetaCache is how many chunks' metadata reads remember (see
	// metacache.go); 0 means DefaultMetaCache, a negative value none.
	MetaCache int

	Publisher event.Publisher // receives chunk events; nil drops them
	Logger    *slog.Logger    // access and error log; nil discards
}

// Server is a chunk server on one volume. It is safe for concurrent use.
type Server struct {
	cfg     Config
	id      string // service id, or Addr
	log     *slog.Logger
	lock    *os.File        // the volume directory, flock'ed while the server runs
	vol     syscall.RawConn // lock's descriptor, for paths relative to the volume
	dirs    sync.Map        // relative chunk directories known to exist
	stats   *stats
	metrics *metrics
	metas   metaCache
	// volCheck tells whether the volume's path still names the volume.
	volCheck volumeCheck
	synced   *groupSync // with Config.Fsync
	ids      idLocks
	// serving counts the requests being served, which Close waits for.
	serving atomic.Int64
	// create opens a new pending file by its path in the volume; tests
	// replace it to inject faults.
	create func(rel string) (file, error)
}

// file is what an upload needs of an open file.
type file interface {
	Write(p []byte) (int, error)
	Sync() error
	Close() error
	Fd() uintptr
}

// New validates cfg, takes the volume (records its identity on first use,
// refuses a volume that belongs to another service or is already served by
// another process), removes uploads left pending by a previous run and
// returns the server. Close releases the volume.
func New(cfg Config) (*Server, error) {
	if err := validate(&cfg); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, id: cfg.ServiceID, log: cfg.Logger, stats: newStats()}
	if s.id == "" {
		s.id = cfg.Addr
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.create = s.createPending
	s.synced = newGroupSync(func() error { return s.inVolume(unix.Syncfs) })
	s.volCheck.every = volumeCheckInterval
	s.metrics = newMetrics()
	var err error
	if s.metas, err = newMetaCache(cfg.MetaCache); err != nil {
		return nil, fmt.Errorf("rawx: %w", err)
	}
	if err := s.openVolume(); err != nil {
		return nil, err
	}
	return s, nil
}

func validate(cfg *Config) error {
	switch {
	case cfg.Volume == "":
		return errors.New("rawx: no volume directory")
	case cfg.Addr == "":
		return errors.New("rawx: no service address")
	}
	if err := chunk.CheckNamespace(cfg.Namespace); err != nil {
		return fmt.Errorf("rawx: %w", err)
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return fmt.Errorf("rawx: address %q: %w", cfg.Addr, err)
	}
	if err := cfg.Layout.Validate(); err != nil {
		return fmt.Errorf("rawx: %w", err)
	}
	if cfg.Layout == (chunk.Layout{}) {
		cfg.Layout = chunk.DefaultLayout
	}
	if cfg.MaxChunkSize <= 0 {
		cfg.MaxChunkSize = DefaultMaxChunkSize
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Second
	}
	return nil
}

func (s *Server) openVolume() error {
	vol := s.cfg.Volume
	st, err := os.Stat(vol)
	if err != nil {
		return fmt.Errorf("rawx: volume: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("rawx: volume %s is not a directory", vol)
	}
	if outer, err := enclosingVolume(vol); err != nil || outer != "" {
		return fmt.Errorf("rawx: %s is inside the volume %s: %w", vol, outer,
			errors.Join(err, chunk.ErrVolumeMismatch))
	}
	d, err := os.Open(vol)
	if err != nil {
		return fmt.Errorf("rawx: volume: %w", err)
	}
	if err := unix.Flock(int(d.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		d.Close()
		return fmt.Errorf("rawx: volume %s is in use by another process: %w", vol, err)
	}
	if err := checkLayout(vol, s.cfg.Layout); err != nil {
		d.Close()
		return fmt.Errorf("rawx: volume %s: %w", vol, err)
	}
	want := chunk.VolumeIdentity{Namespace: s.cfg.Namespace, Type: chunk.VolumeType, ServiceID: s.id}
	if err := chunk.LockVolume(vol, want); err != nil {
		d.Close()
		return fmt.Errorf("rawx: %w", err)
	}
	for _, sub := range []string{NonOptimalDir, OrphansDir} {
		if err := os.MkdirAll(filepath.Join(vol, sub), 0o755); err != nil {
			d.Close()
			return fmt.Errorf("rawx: %w", err)
		}
	}
	s.lock = d
	if s.vol, err = d.SyscallConn(); err != nil {
		d.Close()
		return fmt.Errorf("rawx: volume: %w", err)
	}
	n, err := s.removePending()
	if err != nil {
		d.Close()
		return err
	}
	if n > 0 {
		s.log.Info("removed uploads left pending", "volume", vol, "count", n)
	}
	return nil
}

// errLayoutMismatch says the chunk directories of a volume were made with
// another hash width or depth than the server's.
var errLayoutMismatch = errors.New("the volume's chunk directories have another layout")

// checkLayout returns an error when the chunk directories already on the
// volume vol were made with another hash width or depth than l: chunks
// would be looked for where they are not, and written a second time. A
// chunk file above the chunk directories (at the root, say) is misplaced
// when chunk files where l puts them prove the layout (/list names it); it
// makes the check fail when none does, as in a volume of another depth.
func checkLayout(vol string, l chunk.Layout) error {
	found, stray, err := checkLayoutIn(vol, 0, l)
	if err == nil && !found && stray != "" {
		err = fmt.Errorf("%w: chunk %s is above the chunk directories of hash depth %d, and no chunk is "+
			"in them (--hash-depth)", errLayoutMismatch, stray, l.Depth)
	}
	return err
}

// checkLayoutIn checks the names in dir, a directory level levels below
// the volume, then goes down its hash directories one after the other
// until it meets a chunk file where l puts chunks, which proves the layout;
// it reports whether it met one, and the first chunk file it met above
// the chunk directories. Empty hash directories, which failed uploads and
// deletions leave, prove nothing and are passed over.
func checkLayoutIn(dir string, level int, l chunk.Layout) (found bool, stray string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, "", err
	}
	var below []string
	for _, e := range entries {
		name := e.Name()
		isDir := e.IsDir() && chunk.IsHex(name)
		switch {
		case isDir && level == l.Depth:
			return false, "", fmt.Errorf("%w: directory %s holds directories, a hash depth over %d "+
				"(--hash-depth)", errLayoutMismatch, dir, l.Depth)
		case isDir && len(name) != l.Width:
			return false, "", fmt.Errorf("%w: directory %s is named with %d characters, not %d "+
				"(--hash-width)", errLayoutMismatch, filepath.Join(dir, name), len(name), l.Width)
		case isDir:
			below = append(below, filepath.Join(dir, name))
		case !e.IsDir() && chunk.IsID(name) && level < l.Depth:
			if stray == "" {
				stray = filepath.Join(dir, name)
			}
		case !e.IsDir() && chunk.IsID(name):
			found = true
		}
	}
	for _, d := range below {
		if found {
			break
		}
		var s string
		if found, s, err = checkLayoutIn(d, level+1, l); err != nil {
			return false, "", err
		}
		if stray == "" {
			stray = s
		}
	}
	return found, stray, nil
}

// enclosingVolume returns the nearest directory above dir that is itself a
// chunk volume, or "" if there is none: a volume inside another would mix
// their chunks.
func enclosingVolume(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for p := filepath.Dir(abs); ; p = filepath.Dir(p) {
		if id, err := chunk.ReadVolume(p); err == nil && id.Type != "" {
			return p, nil
		}
		if p == filepath.Dir(p) {
			return "", nil
		}
	}
}

// removePending deletes the .pending files of uploads that never finished.
// Only the chunk directories of the layout are visited. A directory named
// like a pending upload is none of the server's making: it is left, with a
// warning.
func (s *Server) removePending() (int, error) {
	n := 0
	err := s.walkLeafDirs(func(dir string) error {
		entries, err := os.ReadDir(filepath.Join(s.cfg.Volume, dir))
		if err != nil {
			return err
		}
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), chunk.PendingSuffix) {
				continue
			}
			path := filepath.Join(s.cfg.Volume, dir, e.Name())
			if e.IsDir() {
				s.log.Warn("a directory is named like a pending upload: left alone", "path", path)
				continue
			}
			if err := os.Remove(path); err != nil {
				return err
			}
			n++
		}
		return nil
	}, nil)
	if err != nil {
		return n, fmt.Errorf("rawx: remove pending uploads: %w", err)
	}
	return n, nil
}

// closeWait bounds how long Close waits for requests still being served.
const closeWait = 5 * time.Second

// Close releases the volume. It does not stop an http.Server using the
// server; stop that first. Close then waits, up to closeWait, for requests
// still being served to end: an upload cut by the stop removes its pending
// file on the way out, and a process that exits as soon as Close returns
// would otherwise leave it on the volume until the next start.
func (s *Server) Close() error {
	if s.lock == nil {
		return nil
	}
	for deadline := time.Now().Add(closeWait); s.serving.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	err := s.lock.Close()
	s.lock = nil
	return err
}

// ServiceID returns the id the server answers to: its service id, or its
// address when it has none. It is also the reverse-index volume id.
func (s *Server) ServiceID() string { return s.id }

// HTTPServer returns an http.Server for the handler with bounded headers
// and timeouts suited to a chunk server: slow headers and idle
// connections are dropped, long bodies are bounded per read instead.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

func (s *Server) chunkPath(id string) string {
	return filepath.Join(s.cfg.Volume, s.cfg.Layout.Path(id))
}

// ensureDir creates the directory of chunk id once, and checks that it
// is a directory of the volume, not a symbolic link: a chunk written
// through a link would land outside the volume, where no read follows.
func (s *Server) ensureDir(id string) error {
	rel := s.cfg.Layout.Dir(id)
	if _, ok := s.dirs.Load(rel); ok {
		return nil
	}
	err := os.MkdirAll(filepath.Join(s.cfg.Volume, rel), 0o755)
	if err == nil {
		var d *os.File
		if d, err = s.openRel(rel, unix.O_PATH|unix.O_DIRECTORY, 0); err == nil {
			d.Close()
		}
	}
	if notPlainDir(err) {
		return errNotPlainDir(filepath.Join(rel, id))
	}
	if err != nil {
		return err
	}
	s.dirs.Store(rel, struct{}{})
	return nil
}

// createPending creates the pending file of an upload, at rel in the
// volume. A directory on the way that became a symbolic link since
// ensureDir checked it is refused too.
func (s *Server) createPending(rel string) (file, error) {
	f, err := s.openRel(rel, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY, 0o644)
	if notPlainDir(err) {
		return nil, errNotPlainDir(rel)
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// notPlainDir reports whether err, from a path walk in the volume, says a
// directory on the way is a symbolic link or not a directory at all.
func notPlainDir(err error) bool {
	return errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EXDEV) || errors.Is(err, unix.ENOTDIR)
}

// errNotPlainDir is the error of a chunk whose directory in the volume,
// that of rel, is a symbolic link or a file.
func errNotPlainDir(rel string) error {
	return errorf(http.StatusInternalServerError, "chunk directory %s is not a directory of the "+
		"volume (a symbolic link or a file stands there)", filepath.Dir(rel))
}

// openRel opens the file at path rel in the volume as os.OpenFile does,
// minus the attempt to add it to the network poller, which costs a regular
// file five system calls for nothing: chunk files are read and written
// with blocking calls. Paths are resolved from the volume's open
// directory, not from the root: fewer lookups, and the volume cannot move
// under the server. No symbolic link is followed anywhere on the path, and
// the path cannot leave the volume (openat2; a kernel older than 5.6 only
// checks the last step).
func (s *Server) openRel(rel string, flag int, perm uint32) (*os.File, error) {
	fd := -1
	err := s.inVolume(func(dirfd int) (err error) {
		how := unix.OpenHow{Flags: uint64(flag | unix.O_CLOEXEC | unix.O_NOFOLLOW), Mode: uint64(perm),
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS}
		fd, err = unix.Openat2(dirfd, rel, &how)
		if errors.Is(err, unix.ENOSYS) {
			fd, err = unix.Openat(dirfd, rel, flag|unix.O_CLOEXEC|unix.O_NOFOLLOW, perm)
		}
		return err
	})
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: filepath.Join(s.cfg.Volume, rel), Err: err}
	}
	return os.NewFile(uintptr(fd), filepath.Join(s.cfg.Volume, rel)), nil
}

// inVolume calls fn with the volume directory's descriptor, which stays
// open until fn returns even if Close is called meanwhile.
func (s *Server) inVolume(fn func(dirfd int) error) error {
	var ferr error
	if err := s.vol.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}
