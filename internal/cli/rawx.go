package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gridkeep/gridkeep/cache"
	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/rawx"
)

func init() { register(newRawxCommand) }

func newRawxCommand() *cobra.Command {
	var (
		cfg      rawx.Config
		listen   string
		logLevel string
	)
	cmd := &cobra.Command{
		Use:   "rawx --volume DIR [--listen ADDR] [--ns NAME] [--id SERVICE_ID] [--fsync]",
		Short: "Run a chunk server on one volume",
		Long: `Run a chunk server (OpenIO's rawx) on one volume directory, creating the
directory if needed. The volume records the namespace and service id on first
use and refuses to be served under another identity later, or with another
--hash-width or --hash-depth than its chunk directories were made with.

As OpenIO's rawx does, requests must name the server in their Host header,
by its service id (--id) or its address (host:port as listened on); any other
Host gets 418.

Exit codes: 0 after a clean stop (SIGINT or SIGTERM), 1 if serving failed,
2 for bad arguments or a volume that cannot be used.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(logLevel)
			if err != nil {
				return err
			}
			cfg.Logger = logger
			switch {
			case cfg.MetaCache < 0 || cfg.MetaCache > cache.MaxCapacity:
				return usagef("--meta-cache must be between 0 and %d, not %d", cache.MaxCapacity,
					cfg.MetaCache)
			case cfg.MetaCache == 0:
				cfg.MetaCache = -1 // remember nothing
			}
			if err := checkLayoutFlags(cfg.Layout); err != nil {
				return err
			}
			if err := chunk.CheckNamespace(cfg.Namespace); err != nil {
				return usagef("--ns: %w", err)
			}
			if cfg.MaxChunkSize < 1 {
				return usagef("--max-chunk-size must be at least 1 byte, not %d", cfg.MaxChunkSize)
			}
			return runRawx(cmd.Context(), cfg, listen)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Volume, "volume", "", "volume directory (required)")
	f.StringVar(&listen, "listen", "127.0.0.1:6201", "address to listen on")
	f.StringVar(&cfg.Namespace, "ns", meta.DefaultNamespace, "namespace name")
	f.StringVar(&cfg.ServiceID, "id", "", "service id (default: the listen address)")
	f.BoolVar(&cfg.Fsync, "fsync", false, "make each chunk durable before answering\n"+
		"(syncs of the volume's filesystem, shared by concurrent uploads)")
	layoutFlags(f, &cfg.Layout)
	intVar(f, &cfg.MetaCache, "meta-cache", rawx.DefaultMetaCache,
		"chunks whose metadata GET and HEAD remember while their file is unchanged (0: none)")
	intVar(f, &cfg.MaxChunkSize, "max-chunk-size", rawx.DefaultMaxChunkSize, "largest chunk accepted, bytes")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info (access log), warn, error")
	cmd.MarkFlagRequired("volume")
	return cmd
}

// layoutFlags defines --hash-width and --hash-depth in fl, with their
// values landing in l.
func layoutFlags(fl *pflag.FlagSet, l *chunk.Layout) {
	intVar(fl, &l.Width, "hash-width", 3, "characters of the chunk id per directory level")
	intVar(fl, &l.Depth, "hash-depth", 1, "directory levels above chunk files")
}

// checkLayoutFlags returns a usage error when --hash-width and
// --hash-depth do not make a layout.
func checkLayoutFlags(l chunk.Layout) error {
	switch {
	case l.Width < 1 && l.Depth == 0:
		return usagef("--hash-width must be at least 1, not %d (with --hash-depth 0 it "+
			"is not used: leave it out)", l.Width)
	case l.Width < 1:
		return usagef("--hash-width must be at least 1, not %d (--hash-depth 0 makes a "+
			"flat volume)", l.Width)
	}
	if err := l.Validate(); err != nil {
		return usagef("--hash-width, --hash-depth: %w", err)
	}
	return nil
}

// runRawx serves cfg's volume on listen. A bad address, or one in use, is
// refused before the volume directory is made, and a directory it made is
// removed if the server cannot start: a refusal changes nothing.
func runRawx(ctx context.Context, cfg rawx.Config, listen string) error {
	if cfg.Volume == "" {
		return usagef("--volume must name a directory")
	}
	// An empty host would listen on every interface, an empty port on any:
	// both must be said (0.0.0.0, port 0).
	if host, port, err := net.SplitHostPort(listen); err != nil || host == "" || port == "" {
		return usagef("listen: --listen %q: want HOST:PORT (0.0.0.0 for every interface, port 0 for "+
			"any free one)", listen)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return usagef("listen: %w", err)
	}
	made, err := prepareVolumeDir(cfg.Volume)
	if err != nil {
		ln.Close()
		return err
	}
	cfg.Addr = ln.Addr().String()
	srv, err := rawx.New(cfg)
	if err != nil {
		ln.Close()
		if made {
			os.Remove(cfg.Volume) // only if still empty
		}
		return usageError{err}
	}
	defer srv.Close()
	cfg.Logger.Info("chunk server ready", "addr", cfg.Addr, "volume", cfg.Volume,
		"service_id", srv.ServiceID(), "ns", cfg.Namespace)
	return serveUntilDone(ctx, srv.HTTPServer(), ln, cfg.Logger)
}

// prepareVolumeDir creates a missing volume directory, saying so, and
// checks that the path is a directory.
func prepareVolumeDir(dir string) (made bool, err error) {
	st, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return false, usagef("volume: %w", err)
		}
		return true, nil
	}
	if err != nil {
		return false, usagef("volume: %w", err)
	}
	if !st.IsDir() {
		return false, usagef("volume %s is not a directory", dir)
	}
	if _, err := chunk.ReadVolume(dir); err != nil {
		return false, usagef("volume %s has no extended attributes support: %w", dir, err)
	}
	return false, nil
}

// serveUntilDone serves on ln until ctx is cancelled, then shuts down,
// letting requests in flight finish for shutdownGrace; those still running
// then (a client that stopped sending, say) have their connections closed,
// which a stop requested does not count as a failure.
func serveUntilDone(ctx context.Context, hs *http.Server, ln net.Listener, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("requests still running after the grace period: connections closed",
			"grace", shutdownGrace)
		return hs.Close()
	}
	return nil
}

// shutdownGrace is how long a stopping server lets requests finish.
var shutdownGrace = 10 * time.Second

// newLogger returns a text logger on standard error at the given level.
func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("invalid log level %q", level)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}
