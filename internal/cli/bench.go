package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/gridkeep/gridkeep/internal/loadgen"
)

func init() { register(newBenchCommand) }

func newBenchCommand() *cobra.Command {
	return groupCommand("bench", "Measure services under load", newBenchRawxCommand(),
		newBenchNullRawxCommand(), newBenchObjectCommand("put"), newBenchObjectCommand("get"))
}

// benchRawxFlags are the flags of "bench rawx" that do not map directly to
// a loadgen.Config field.
type benchRawxFlags struct {
	size         string
	op           string
	json         bool
	maxErrorRate float64
}

func newBenchRawxCommand() *cobra.Command {
	var (
		cfg loadgen.Config
		fl  benchRawxFlags
	)
	cmd := &cobra.Command{
		Use: "rawx --url URL [--op put|get|head-check] [--size 1MiB] [--concurrency 16] " +
			"[--duration 10s] [--json]",
		Short: "Send chunk requests to a chunk server and report rates and latencies",
		Long: `Send chunk requests to a chunk server (gridkeep rawx, OpenIO's rawx or
"bench null-rawx") from --concurrency workers, each waiting for its reply
before sending the next request over its own keep-alive connection. --op
chooses the requests:

  put         uploads new chunks with the headers of an OpenIO client
              (single-copy plain chunk, BLAKE3 checksum, position 0)
  get         downloads whole chunks at random from a pool uploaded first
  head-check  sends HEAD with X-oio-check-hash: true, so that the server
              re-reads and hashes a chunk of the pool

The chunks of a run (its puts, or the pool it reads) are deleted once the
measure is over, unless --keep leaves them: every id it uploaded to, that of
an upload that failed or was cut too, since the server may have stored it
all the same (an id the server does not have is no error), but not one the
server refused with a 4xx status, which stored nothing. Each id is tried
once, and the deletion gives up when the server answers none of its
requests for 30 s (a server that refuses connections fails them all at
once). The report counts the chunks deleted, those of failed or cut uploads
among them, the stored chunks it could not delete, and the failed or cut
uploads whose delete failed, which may have left a chunk: on a namespace's
chunk server, the integrity checker reports the chunks left as orphans.

An interrupt (Ctrl-C or SIGTERM) stops the load, not the deletion: the
report covers the run until then, the upload of a read pool included (with
--json too, on standard output), unless no request was sent yet, and the
command says it was interrupted, with exit code 2. A second interrupt
stops at once, deletion included: the chunks not yet deleted stay.

Requests sent during --warmup are left out of every figure. The measure
ends after --duration or --max-requests, whichever comes first: requests
still in flight then are cancelled, reported as cut and left out of every
other figure, so that a server that stalls cannot stretch it. Latency
percentiles cover successful requests; MB/s is in 10^6 bytes per second.
With --server-pid, the server's CPU time per request is read from /proc.
Only loopback servers are accepted unless --allow-remote is given, and no
--url with a user or password: a chunk server takes none.

Before any load, one request checks that the server answers: a server that
refuses the connection, gives no reply to GET /info within 5 s (a port of
another program, a hung server), refuses the Host header (418: --host
names another server) or answers GET /info with another error (not a chunk
server) stops the run at once, with exit code 1, instead of
a run of requests that all fail. A server that answers no request of the
run ends it when its time is up, and the upload of a read pool gives up
after 30 s with no upload answered (plus 1 s per 10 MiB of --size), both
with exit code 1. A worker whose request gets no reply pauses before the
next, 10 ms doubling to 1 s while no reply comes.

Exit codes: 0 when some request succeeded and the error rate is within
--max-error-rate, 1 when none did, the rate is over, the run could not be
made or it may have left chunks on the server, 2 for bad arguments, or
interrupted (Ctrl-C or SIGTERM) before the end of the measure.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBenchRawx(cmd, cfg, fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.URL, "url", "", "chunk server URL, http://ip:port (required)")
	f.StringVar(&cfg.Host, "host", "", "Host header (default: the host:port of --url)")
	f.StringVar(&fl.op, "op", string(loadgen.OpPut), "operation: put, get or head-check")
	f.StringVar(&fl.size, "size", "1MiB", "chunk size: bytes, or a count of KiB, MiB or GiB")
	intVar(f, &cfg.Concurrency, "concurrency", loadgen.DefaultConcurrency,
		"workers, one connection each (at most 1024)")
	f.DurationVar(&cfg.Duration, "duration", loadgen.DefaultDuration, "measured time")
	f.DurationVar(&cfg.Warmup, "warmup", time.Second,
		"load sent before measuring, left out of the figures")
	intVar(f, &cfg.Objects, "objects", 0, "chunks uploaded before get or head-check "+
		"(0, the default: about 256 MiB, at least 2 per worker, at most 10000)")
	intVar(f, &cfg.MaxRequests, "max-requests", loadgen.DefaultMaxRequests,
		"stop after this many requests, warmup included")
	intVar(f, &cfg.ServerPID, "server-pid", 0, "server process whose CPU time is measured")
	f.BoolVar(&cfg.AllowRemote, "allow-remote", false,
		"accept a server that is not on a loopback address")
	f.BoolVar(&cfg.Keep, "keep", false, "leave the uploaded chunks on the server")
	f.BoolVar(&fl.json, "json", false, "print one JSON object instead of text")
	f.Float64Var(&fl.maxErrorRate, "max-error-rate", 0,
		"fraction of failed requests above which the exit code is 1")
	cmd.MarkFlagRequired("url")
	return cmd
}

func runBenchRawx(cmd *cobra.Command, cfg loadgen.Config, fl benchRawxFlags) error {
	size, err := loadgen.ParseSize(fl.size)
	if err != nil {
		return usageError{err}
	}
	cfg.Size, cfg.Op = size, loadgen.Op(fl.op)
	// The library takes 0 for a default: given on the command line, it is
	// a mistake.
	for _, f := range []struct {
		name     string
		value    int64
		positive bool
	}{{"size", size, true}, {"concurrency", int64(cfg.Concurrency), true},
		{"duration", int64(cfg.Duration), true}, {"max-requests", cfg.MaxRequests, true},
		{"warmup", int64(cfg.Warmup), false}, {"objects", int64(cfg.Objects), false},
		{"server-pid", int64(cfg.ServerPID), false}} {
		switch v := cmd.Flags().Lookup(f.name).Value; {
		case f.positive && f.value <= 0:
			return usagef("--%s must be positive, not %s", f.name, v)
		case f.value < 0:
			return usagef("--%s must be 0 or more, not %s", f.name, v)
		}
	}
	if !(fl.maxErrorRate >= 0 && fl.maxErrorRate <= 1) { // NaN too
		return usagef("--max-error-rate %g is not a fraction between 0 and 1", fl.maxErrorRate)
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}

	res, err := loadgen.Run(cmd.Context(), cfg)
	if res != nil {
		if werr := writeBenchReport(cmd.OutOrStdout(), res, fl.json); werr != nil {
			return werr
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		// Only an interrupt cancels the context of a command.
		return exitError{ExitUsage, benchInterrupted(res)}
	case err != nil:
		return fmt.Errorf("bench: %w", err)
	case res.Requests == 0:
		return exitError{ExitFail, errors.New("bench: no request was measured: every request " +
			"--max-requests allows went out during --warmup")}
	case res.OK == 0 || res.ErrorRate() > fl.maxErrorRate:
		return exitError{ExitFail, fmt.Errorf("bench: %d of %d requests failed",
			res.ErrorCount(), res.Requests)}
	case res.NotRemoved+res.MaybeLeft > 0:
		return exitError{ExitFail, fmt.Errorf("bench: the run may have left %d chunks on the server: "+
			"their deletion failed", res.NotRemoved+res.MaybeLeft)}
	}
	return nil
}

// writeBenchReport writes res to w, as JSON or as text.
func writeBenchReport(w io.Writer, res *loadgen.Result, asJSON bool) error {
	if asJSON {
		return res.WriteJSON(w)
	}
	return res.WriteText(w)
}

// benchInterrupted returns the message of a run interrupted with what it
// measured, res, or nil when it had sent nothing.
func benchInterrupted(res *loadgen.Result) error {
	switch {
	case res == nil:
		return errors.New("bench: interrupted before any load")
	case res.PoolInterrupted:
		return errors.New("bench: interrupted while uploading the read pool, before any load")
	default:
		return errors.New("bench: interrupted before the end of the measure")
	}
}

func newBenchNullRawxCommand() *cobra.Command {
	var (
		listen      string
		allowRemote bool
		srv         loadgen.NullServer
	)
	cmd := &cobra.Command{
		Use:   "null-rawx [--listen ADDR]",
		Short: "Run a chunk server that stores nothing, the ceiling for chunk server benchmarks",
		Long: `Run a chunk server that answers OpenIO's chunk routes while storing nothing:
uploads are read and discarded (only their size is kept, in memory),
downloads are served from a buffer of zero bytes and HEAD with
X-oio-check-hash hashes that buffer. No chunk server on the same machine
can be faster; measure it beside the real ones with "bench rawx".

Exit codes: 0 after a clean stop (SIGINT or SIGTERM), 1 if serving failed,
2 for bad arguments.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			host, _, err := net.SplitHostPort(listen)
			if err != nil {
				return usagef("listen: %w", err)
			}
			if !allowRemote && !loadgen.IsLoopback(host) {
				return usagef("listen address %s is not a loopback address (see --allow-remote)",
					listen)
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return usagef("listen: %w", err)
			}
			srv.Addr = ln.Addr().String()
			fmt.Fprintf(cmd.ErrOrStderr(), "null chunk server listening on %s\n", srv.Addr)
			return serveUntilDone(cmd.Context(), srv.HTTPServer(), ln,
				slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)))
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:6299", "address to listen on")
	f.BoolVar(&allowRemote, "allow-remote", false, "accept a listen address that is not loopback")
	intVar(f, &srv.MaxChunks, "max-chunks", loadgen.DefaultNullChunks, "chunk sizes remembered at most")
	return cmd
}
