package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/gridkeep/gridkeep/internal/loadgen"
	"github.com/gridkeep/gridkeep/internal/object"
)

// newBenchObjectCommand returns "bench put" or "bench get": object-level
// load through the directory and the chunk servers.
func newBenchObjectCommand(op string) *cobra.Command {
	cfg := object.BenchConfig{Op: op}
	var size string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   op + " [--proxy URL] [--size 4KiB] [--concurrency 16] [--duration 10s]",
		Short: "Measure object " + op + "s through the directory and chunk servers",
		Long: `Measure whole-object ` + op + `s: each worker runs them back to back; objects
go to ACCOUNT/CONTAINER (default bench/bench) under names unique to the run,
and stay there afterwards: a run of 10 s at 2,000 puts a second, with its 1 s
of warm-up, leaves about 22,000.
A get run first writes the objects it reads. A worker whose operation fails
pauses before the next, 10 ms doubling to 1 s while the failures go on.

Before any load, the directory must answer within 5 s: one that does not
(nothing listens at --proxy, a hung server) stops the run at once.

An interrupt (Ctrl-C or SIGTERM) during the measure stops the run and
prints the report of what was measured until then (with --json too).

Exit codes: 0 the run completed without errors, 1 some operations failed,
none completed in the measured time, or the directory did not answer, 2 bad
arguments or interrupted (Ctrl-C or SIGTERM).`,
		Args: cobra.NoArgs,
	}
	at := addDirFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&size, "size", "4KiB", "object size (KiB, MiB, GiB suffixes)")
	intVar(f, &cfg.Concurrency, "concurrency", 16, "workers")
	f.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured time")
	f.DurationVar(&cfg.Warmup, "warmup", time.Second, "time before measuring")
	f.StringVar(&cfg.Policy, "policy", "", "storage policy (default: the container's)")
	f.StringVar(&cfg.Account, "account", "bench", "account of the objects")
	f.StringVar(&cfg.Container, "container", "bench", "container of the objects")
	f.BoolVar(&asJSON, "json", false, "print one JSON object")
	allowRemote := f.Bool("allow-remote", false, "allow a namespace that is not on this machine")
	cpuProfile := f.String("cpuprofile", "", "write a CPU profile of the run to this file")
	f.MarkHidden("cpuprofile")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if *cpuProfile != "" {
			stop, err := startCPUProfile(*cpuProfile)
			if err != nil {
				return err
			}
			defer stop()
		}
		n, err := loadgen.ParseSize(size)
		if err != nil {
			return usageError{err}
		}
		cfg.Size = n
		// The objects must be reachable by the other commands afterwards.
		if n, err := parseContainerName(cfg.Account + "/" + cfg.Container); err != nil ||
			n.Account != cfg.Account || n.Container != cfg.Container {
			return usagef("--account %q --container %q: want one account and one container name, "+
				"without '/'", cfg.Account, cfg.Container)
		}
		if err := checkLoopback(*at.proxy, *allowRemote); err != nil {
			return err
		}
		oc, err := objectClient(at)
		if err != nil {
			return err
		}
		res, err := oc.Bench(cmd.Context(), cfg)
		req := request{op: "bench " + op, name: object.Name{Account: cfg.Account,
			Container: cfg.Container}, proxy: *at.proxy}
		if errors.Is(err, object.ErrBenchConfig) {
			return usageError{req.explain(err)}
		}
		if res != nil && errors.Is(err, context.Canceled) {
			// Only an interrupt cancels the context of a command.
			printBenchObject(cmd, cfg, res, asJSON)
			return exitError{ExitUsage, fmt.Errorf("bench %s: interrupted before the end of the "+
				"measure: the report covers the %.1fs measured", op, res.Elapsed.Seconds())}
		}
		if err != nil {
			return req.explain(err) // exit 1, or 2 when interrupted
		}
		printBenchObject(cmd, cfg, res, asJSON)
		switch {
		case res.Errors > 0:
			return exitError{ExitFail, fmt.Errorf("%d operations failed, last: %v",
				res.Errors, res.LastErr)}
		case res.OK == 0:
			return exitError{ExitFail, fmt.Errorf(
				"no operation completed in the measured time, last error: %v", res.LastErr)}
		}
		return nil
	}
	return cmd
}

func printBenchObject(cmd *cobra.Command, cfg object.BenchConfig, r *object.BenchResult, asJSON bool) {
	if asJSON {
		printJSON(cmd.OutOrStdout(), map[string]any{"op": cfg.Op, "size": cfg.Size,
			"concurrency": cfg.Concurrency, "seconds": r.Elapsed.Seconds(), "ok": r.OK,
			"errors": r.Errors, "ops_per_s": r.OpsPerSec(), "mb_per_s": r.MBPerSec(),
			"p50_ms": ms(r.P50), "p99_ms": ms(r.P99), "max_ms": ms(r.Max)})
		return
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s %s objects, concurrency %d, %.1fs: %d ok, %d errors\n",
		cfg.Op, loadgen.FormatSize(cfg.Size), cfg.Concurrency, r.Elapsed.Seconds(), r.OK, r.Errors)
	fmt.Fprintf(cmd.OutOrStdout(), "%.0f ops/s, %.1f MB/s, latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		r.OpsPerSec(), r.MBPerSec(), ms(r.P50), ms(r.P99), ms(r.Max))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// checkLoopback refuses to send load to a namespace that is not on this
// machine unless allowed.
func checkLoopback(proxy string, allow bool) error {
	u, err := url.Parse(proxy)
	if err != nil || u.Hostname() == "" {
		return usagef("--proxy %q is not a URL", proxy)
	}
	if !allow && !loadgen.IsLoopback(u.Hostname()) {
		return usagef("--proxy %s is not on this machine; add --allow-remote to load it", proxy)
	}
	return nil
}
