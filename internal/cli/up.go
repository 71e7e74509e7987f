package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/namespace"
	"github.com/gridkeep/gridkeep/internal/shell"
)

// minChunkSize is the least metachunk size up takes: smaller chunks split
// objects into too many chunk files.
const minChunkSize = 64 << 10

func init() { register(newUpCommand) }

func newUpCommand() *cobra.Command {
	var opts namespace.Options
	var logLevel, cpuProfile string
	cmd := &cobra.Command{
		Use:   "up [--data DIR] [--rawx N] [--port-base P]",
		Short: "Run a whole namespace on this machine, in one process",
		Long: `Run a whole namespace in one process: the directory (with the proxy, account
and conscience APIs), the reverse index, an embedded NATS JetStream bus, N
chunk servers with their volumes under DIR, the outbox relay and the event
agent. All data lives under DIR; stop with Ctrl-C and start again to find it
intact.

Every service listens on 127.0.0.1, at a port fixed by --port-base P:

  directory (the URL client commands take in --proxy)   P
  reverse index                                          P+1
  event bus                                              P+2
  chunk server rawx-I, for I from 1 to N                 P+200+I

Ports P+3 to P+200 are left unused; P can be at most 65335-N. With
--port-base 0 every service gets a free port instead; the addresses are
printed at start.

A volume folder (DIR/rawx-N) that is missing, empty or without its identity
attribute (user.server.id) while the reverse index lists chunks on it stops
the start, saying which: its disk is not mounted, or was lost, or the folder
lost the attribute (when it still holds chunk directories, the message gives
the command that sets it again). After replacing a lost disk, name it with
--new-volume rawx-N (refused for a folder that holds chunk directories) to
start it empty, then put its copies back on it:
gridkeep check volume rawx-N --output-for-chunk-rebuild FILE, then gridkeep
rebuild --input-file FILE. (rebuild --volume is for a volume lost for good:
it makes the copies elsewhere.)
While running, a chunk server whose volume is moved or unmounted answers
503 and gets no new copies until the volume is back.

Exit codes: 0 after a clean stop, 1 if a service failed, 2 for bad
arguments or a data directory or port that cannot be used.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(logLevel)
			if err != nil {
				return err
			}
			opts.Logger = logger
			if cpuProfile != "" {
				stop, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			return runUp(cmd.Context(), cmd.OutOrStdout(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Data, "data", "./data", "data directory")
	intVar(f, &opts.Rawx, "rawx", 3, "number of chunk servers")
	intVar(f, &opts.PortBase, "port-base", 6000,
		"port P of the directory API; reverse index on P+1, event bus on P+2, chunk server rawx-I "+
			"on P+200+I (0: free ports)")
	f.StringVar(&opts.Name, "ns", meta.DefaultNamespace, "namespace name")
	intVar(f, &opts.ChunkSize, "chunk-size", 0, "metachunk size in bytes, at least 64 KiB (0: the default, 64 MiB)")
	f.BoolVar(&opts.Fsync, "fsync", false,
		"sync every chunk and directory commit to disk before answering (survives power loss)")
	f.StringArrayVar(&opts.NewVolumes, "new-volume", nil,
		"chunk server (rawx-N) whose lost volume may start empty, on a replaced disk (repeatable)")
	f.StringVar(&logLevel, "log-level", "warn", "log level: debug, info (access logs), warn, error")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	f.MarkHidden("cpuprofile")
	return cmd
}

func runUp(ctx context.Context, out io.Writer, opts namespace.Options) error {
	if opts.Name == "" {
		return usagef("--ns must name the namespace")
	}
	switch {
	case opts.Rawx < 1 || opts.Rawx > 100:
		return usagef("--rawx must be between 1 and 100, not %d", opts.Rawx)
	case opts.PortBase < 0 || opts.PortBase > 65535-200-opts.Rawx:
		return usagef("--port-base must be between 0 and %d (the chunk servers listen on "+
			"--port-base + 201 and up), not %d", 65535-200-opts.Rawx, opts.PortBase)
	case opts.ChunkSize < 0:
		return usagef("--chunk-size must not be negative, not %d", opts.ChunkSize)
	case opts.ChunkSize > 0 && opts.ChunkSize < minChunkSize:
		return usagef("--chunk-size must be 0 (the default) or at least %d (64 KiB), not %d: smaller "+
			"chunks split objects into too many chunk files", minChunkSize, opts.ChunkSize)
	}
	if opts.PortBase == 0 {
		opts.PortBase = -1 // every service on a free port
	}
	ns, err := namespace.Start(ctx, opts)
	if err != nil {
		return usageError{err}
	}
	printUp(out, ns, opts)
	select {
	case <-ctx.Done():
		fmt.Fprintln(out, "stopping...")
		return ns.Close()
	case err := <-ns.Err():
		ns.Close()
		return fmt.Errorf("a service stopped: %w", err)
	}
}

func printUp(out io.Writer, ns *namespace.Namespace, opts namespace.Options) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "namespace %s is up, data in %s\n\n", visible(opts.Name), visible(opts.Data))
	fmt.Fprintf(w, "directory (proxy, account)\t%s\n", ns.ProxyURL)
	fmt.Fprintf(w, "reverse index (rdir)\t%s\n", ns.RdirURL)
	fmt.Fprintf(w, "event bus (NATS)\t%s\n", ns.NATSURL)
	for _, r := range ns.Rawx {
		fmt.Fprintf(w, "chunk server %s\thttp://%s\t%s\n", visible(r.ServiceID), r.Addr, visible(r.Volume))
	}
	w.Flush()
	for _, id := range ns.Replaced {
		fmt.Fprintf(out, "\nnote: %s started on an empty volume; put its copies back with `gridkeep "+
			"check volume %s --output-for-chunk-rebuild FILE`, then "+
			"`gridkeep rebuild --input-file FILE`\n", id, id)
	}
	for _, vol := range ns.Unserved() {
		fmt.Fprintf(out, "\nwarning: %s is not served (--rawx %d): the copies it holds are "+
			"out of reach until a start with more chunk servers; to put them on the others instead: "+
			"`gridkeep rebuild --volume %s`\n", visible(vol), opts.Rawx, shell.Arg(filepath.Base(vol)))
	}
	flags := ""
	if ns.ProxyURL != DefaultProxy {
		flags = " --proxy " + ns.ProxyURL
	}
	if opts.Name != meta.DefaultNamespace {
		flags += " --ns " + opts.Name
	}
	fmt.Fprintf(out, "\nTry:\n  echo hello | gridkeep put%s myaccount/mybucket/hello.txt -\n", flags)
	fmt.Fprintf(out, "  gridkeep get%s myaccount/mybucket/hello.txt\n\nCtrl-C stops.\n", flags)
}

// startCPUProfile profiles the process into path until the returned
// function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, usageError{err}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
