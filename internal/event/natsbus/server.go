package natsbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"golang.org/x/sys/unix"

	"github.com/gridkeep/gridkeep/internal/tick"
)

// MaxPayload is the largest event the embedded server accepts, the most
// NATS allows.
const MaxPayload = 64 << 20

// ServerOptions configure an embedded NATS server. Dir is required.
type ServerOptions struct {
	// Dir holds the JetStream file storage (under Dir/jetstream) and a
	// lock file that keeps a second server off the same directory.
	Dir string
	// Listen is the TCP address clients of other processes connect to, as
	// "host:port"; port 0 picks a free port and an empty host means
	// 127.0.0.1. Empty Listen opens no port: only in-process connections.
	Listen string
	// SyncAlways makes the server flush every stored message to disk
	// before acknowledging it, so a power loss loses nothing. Without it a
	// process crash loses nothing but a power loss may lose the last
	// seconds (the server syncs every two minutes).
	SyncAlways bool
	// MaxStore bounds the disk used by JetStream, in bytes; zero lets the
	// server choose from the free space.
	MaxStore int64
	// Logger receives the server's log; nil discards it.
	Logger *slog.Logger
}

// Server is a NATS server with JetStream running inside the process.
type Server struct {
	ns   *server.Server
	opts *server.Options
	log  *slog.Logger
	lock *os.File
	stop func() // ends the checks of keepJetStream
	// jsDown says JetStream was found stopped, and not running since; only
	// keepJetStream uses it.
	jsDown bool
	close  sync.Once
	err    error
}

// jetStreamCheck is how often the server checks that JetStream runs.
const jetStreamCheck = time.Second

// StartServer starts an embedded server and waits until it accepts
// connections or ctx is done. Streams stored in opts.Dir by an earlier
// server are recovered with their messages and consumer positions.
func StartServer(ctx context.Context, opts ServerOptions) (*Server, error) {
	if opts.Dir == "" {
		return nil, errors.New("start nats server: no data directory")
	}
	sopts, err := serverOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("start nats server: %w", err)
	}
	lock, err := lockDir(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("start nats server: %w", err)
	}
	ns, err := server.NewServer(sopts)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("start nats server: %w", err)
	}
	if opts.Logger != nil {
		ns.SetLoggerV2(slogAdapter{opts.Logger}, false, false, false)
	}
	ns.Start()
	s := &Server{ns: ns, opts: sopts, log: opts.Logger, lock: lock}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.stop = tick.Every(jetStreamCheck, s.keepJetStream)
	if err := s.waitReady(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("start nats server: %w", err)
	}
	return s, nil
}

// keepJetStream starts JetStream again when the server stopped it. A NATS
// server stops JetStream for good when its disk is full, and every
// publish then fails, long after the disk has room again: events would
// pile up in the outbox until a restart. Started again, JetStream finds
// its streams and consumers on disk; while the disk is still full, it
// stops again, and the next check tries once more.
func (s *Server) keepJetStream() {
	switch {
	case !s.ns.Running():
		return
	case s.ns.JetStreamEnabled():
		if s.jsDown {
			s.log.Info("JetStream running again")
			s.jsDown = false
		}
		return
	case !s.jsDown:
		s.log.Warn("JetStream stopped (a full disk?): starting it again every second until it runs")
		s.jsDown = true
	}
	// A reload with unchanged options starts JetStream again if it was
	// stopped, as an operator's reload of a NATS server does.
	if err := s.ns.ReloadOptions(s.opts.Clone()); err != nil {
		s.log.Error("start JetStream again", "err", err)
	}
}

// serverOptions translates opts for the NATS server.
func serverOptions(opts ServerOptions) (*server.Options, error) {
	o := &server.Options{
		ServerName:             "gridkeep",
		JetStream:              true,
		StoreDir:               opts.Dir,
		JetStreamMaxStore:      opts.MaxStore,
		SyncAlways:             opts.SyncAlways,
		NoSigs:                 true,
		NoLog:                  opts.Logger == nil,
		DisableJetStreamBanner: true,
		DontListen:             opts.Listen == "",
		// Events carry whole property sets and chunk lists; NATS's default
		// of 1 MiB would leave a large one stuck at the head of the outbox.
		MaxPayload: MaxPayload,
	}
	if opts.Listen == "" {
		return o, nil
	}
	host, port, err := net.SplitHostPort(opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen address: %w", err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return nil, fmt.Errorf("listen address %q: bad port", opts.Listen)
	}
	if p == 0 {
		p = server.RANDOM_PORT
	}
	o.Host, o.Port = host, p
	return o, nil
}

// lockDir creates dir and takes an exclusive lock on dir/LOCK.
func lockDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: data directory in use: %w", dir, err)
	}
	return f, nil
}

// waitReady waits until the server accepts connections.
func (s *Server) waitReady(ctx context.Context) error {
	for !s.ns.ReadyForConnections(100 * time.Millisecond) {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("not ready: %w", err)
		}
	}
	return nil
}

// URL returns the address clients of other processes connect to, or ""
// when the server does not listen.
func (s *Server) URL() string {
	if s.ns.Addr() == nil {
		return ""
	}
	return s.ns.ClientURL()
}

// Connect opens an in-process connection to the server; it needs no
// listener. The caller closes it.
func (s *Server) Connect(opts ...nats.Option) (*nats.Conn, error) {
	opts = append([]nats.Option{nats.InProcessServer(s.ns), nats.Name("gridkeep")}, opts...)
	nc, err := nats.Connect("", opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to embedded nats server: %w", err)
	}
	return nc, nil
}

// Close shuts the server down, waits until its storage is closed and
// releases the data directory. Calls after the first do nothing.
func (s *Server) Close() error {
	s.close.Do(func() {
		s.stop()
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
		s.err = s.lock.Close()
	})
	return s.err
}

// slogAdapter passes the server's log to a slog.Logger.
type slogAdapter struct{ log *slog.Logger }

func (a slogAdapter) Noticef(format string, v ...any) { a.log.Info(fmt.Sprintf(format, v...)) }
func (a slogAdapter) Warnf(format string, v ...any)   { a.log.Warn(fmt.Sprintf(format, v...)) }
func (a slogAdapter) Fatalf(format string, v ...any)  { a.log.Error(fmt.Sprintf(format, v...)) }
func (a slogAdapter) Errorf(format string, v ...any)  { a.log.Error(fmt.Sprintf(format, v...)) }
func (a slogAdapter) Debugf(format string, v ...any)  { a.log.Debug(fmt.Sprintf(format, v...)) }
func (a slogAdapter) Tracef(format string, v ...any)  { a.log.Debug(fmt.Sprintf(format, v...)) }
