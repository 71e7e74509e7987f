package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/gridkeep/gridkeep/internal/integrity"
	"github.com/gridkeep/gridkeep/internal/pace"
	"github.com/gridkeep/gridkeep/internal/rebuild"
)

func init() { register(newRebuildCommand) }

const rebuildLong = `Rebuild lost or corrupt copies of replicated chunks from a verified copy of
the same metachunk, onto a chunk server that holds no other copy of it, and
remove orphan chunks. A copy whose file is gone from a chunk server that can
take it (a deleted file, a replaced disk) is put back where it was, under its
own id; otherwise, and for a corrupt copy, the new copy goes under the same
id to a server that holds no copy of the metachunk, or, failing one, under a
new id to the corrupt copy's own server.

  rebuild --input-file FILE|-   the entries of a rebuild file, as written by
                                "gridkeep check --output-for-chunk-rebuild"
                                (cid|content id|path|version|chunk URL or
                                position); #IRREPARABLE lines are skipped
                                and reported
  rebuild --chunk URL...        chunks by URL (service id or the chunk
                                server's ip:port); their owner is read from
                                the chunk or from the reverse index
  rebuild --volume SERVICE_ID   everything the reverse index says the volume
                                holds (a lost disk, or a volume no chunk
                                server serves any more); copies on it count
                                as lost even if its server does not answer. It
                                trusts the reverse index: when that may be
                                damaged too, run "gridkeep check --all" and
                                rebuild its --output-for-chunk-rebuild file

Each copy is checked first: a healthy one is left alone, but for its
record in the reverse index of its volume, added if missing ("reindexed",
which repairs a lost reverse index). A new copy is streamed from a copy
whose metadata matches the directory or, failing one, whose data its chunk
server re-hashes to the directory's size and hash (wrong attributes lose no
data: such a copy is a source, and is replaced too), with the directory's
hash, which the receiving chunk server checks; it is verified, then
recorded in the directory in place of the bad one, and only then is the
bad copy deleted and the reverse index updated.
Failing a listed source (none is left, or the data of each fails that
check as it is copied), every chunk server is asked for an unlisted copy
of the position that verifies (by the reverse index, and under the listed
chunk ids): it is "recorded in place" as it is, then replaced if its
attributes are wrong. A copy that verifies found at the target already
(left by an interrupted run, or unlisted) is "recorded in place" too:
nothing is copied. A position listing more copies than its policy keeps
has the surplus removed once enough copies are healthy; an entry listing
a chunk a second time (another spelling of its URL) is dropped from the
directory, its chunk kept. A rebuild interrupted at any point may simply
be run again; an entry already repaired, or a
chunk that is gone and that no object lists, is healthy. A chunk that is
gone and whose owner nothing names (a URL the reverse index of its volume
has no record of, such as a copy already replaced) is "owner unknown":
check its object to find out whether it is still needed.

Every source names a chunk's owners the same way: the entry, the chunk's
fullpath attribute, the reverse index of its volume and the directory's
entries of its chunk id are all asked.
Nothing the directory lists is ever deleted: a chunk an owner lists is
rebuilt like any copy, whatever its attributes say. A chunk whose owner
exists without listing it is "kept" and left in place, unless that owner
lists the same chunk id elsewhere: then it is deleted, as an "extra copy
removed", only if every position of the object has all its copies
healthy (every copy re-hashed), and when the listed copy is lost or
damaged and this one's data verifies against it, it is "recorded in place"
of it (counted apart from rebuilt copies: nothing is copied). A chunk with
an unreadable fullpath attribute or no owner recorded at all is kept too:
nothing says whose it is, and check reports it until an operator who has
looked at it (gridkeep chunk inspect) moves or removes the file by hand.
Only a chunk whose owners are all gone is an orphan, deleted once older
than --orphan-min-age; a younger one is kept (its upload may be running).

Standard output has one line per entry: the entry, what was done and why;
with --json one object per line. The summary goes to standard error at the
end and on SIGUSR1; a progress bar is drawn there on a terminal. Pacing
can change while running through --control-file (lines
"chunks-per-second N", "bytes-per-second N"), read again when it changes
and on SIGHUP.

SIGINT or SIGTERM stops the rebuild, whatever its pacing: no entry is
started any more, and those under way are reported "interrupted" (not
failed); running again finishes them.

Exit codes: 0 every entry is repaired or was healthy (with --dry-run: could
be repaired, or was healthy), 1 some entries failed, are irreparable, were
kept or have no owner known (see the lines; --dry-run too), 2 the rebuild could not run or did not
finish (bad arguments, unreadable input, a chunk or volume on no
registered chunk server, unreachable directory, interrupted).`

// rebuildFlags are the options of the rebuild command.
type rebuildFlags struct {
	opts        rebuild.Options
	proxy       *string
	input       string
	chunks      []string
	volume      string
	rates       pace.Rates
	controlFile string
	asJSON      bool
}

func newRebuildCommand() *cobra.Command {
	f := &rebuildFlags{}
	cmd := &cobra.Command{
		Use:   "rebuild --input-file FILE|- | --chunk URL | --volume SERVICE_ID [flags]",
		Short: "Rebuild lost or corrupt chunks from their surviving copies",
		Long:  rebuildLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRebuild(cmd, f)
		},
	}
	f.proxy = addProxyFlag(cmd)
	fl := cmd.Flags()
	namespaceFlag(fl, &f.opts.Namespace)
	fl.StringVar(&f.input, "input-file", "", "rebuild file to read (- for stdin)")
	fl.StringArrayVar(&f.chunks, "chunk", nil, "chunk URL to rebuild (repeatable)")
	fl.StringVar(&f.volume, "volume", "", "rebuild everything of a lost volume")
	fl.BoolVar(&f.opts.DryRun, "dry-run", false, "say what would be done and do nothing")
	intVar(fl, &f.opts.Concurrency, "concurrency", 4, "entries processed at once (1 to 256)")
	fl.Float64Var(&f.rates.ItemsPerSecond, "chunks-per-second", 0, "pacing; 0 means no limit")
	fl.Float64Var(&f.rates.BytesPerSecond, "bytes-per-second", 0,
		"pacing of copied data; 0 means no limit")
	fl.StringVar(&f.controlFile, "control-file", "", "file of pacing values read while running")
	fl.DurationVar(&f.opts.OrphanMinAge, "orphan-min-age", integrity.DefaultOrphanMinAge,
		"age under which an unowned chunk is not deleted")
	fl.BoolVar(&f.asJSON, "json", false, "print one JSON object per entry")
	return cmd
}

func (f *rebuildFlags) validate() error {
	sources := 0
	for _, set := range []bool{f.input != "", len(f.chunks) > 0, f.volume != ""} {
		if set {
			sources++
		}
	}
	switch {
	case sources != 1:
		return usagef("give exactly one of --input-file, --chunk and --volume")
	case f.opts.Concurrency < 1 || f.opts.Concurrency > maxConcurrency:
		return usagef("--concurrency %d: must be from 1 to %d", f.opts.Concurrency, maxConcurrency)
	case f.opts.OrphanMinAge < 0:
		return usagef("--orphan-min-age %s is negative", f.opts.OrphanMinAge)
	}
	if err := checkRateFlag("chunks-per-second", f.rates.ItemsPerSecond); err != nil {
		return err
	}
	if err := checkRateFlag("bytes-per-second", f.rates.BytesPerSecond); err != nil {
		return err
	}
	for _, c := range f.chunks {
		if _, err := chunkTarget(c); err != nil {
			return err
		}
	}
	if f.opts.OrphanMinAge == 0 {
		f.opts.OrphanMinAge = -1
	}
	if f.volume != "" {
		f.opts.LostVolumes = []string{f.volume}
	}
	return nil
}

func runRebuild(cmd *cobra.Command, f *rebuildFlags) error {
	ctx := cmd.Context()
	if err := checkNamespaceFlag(cmd.Flags()); err != nil {
		return err
	}
	if err := f.validate(); err != nil {
		return err
	}
	paced, err := newPacing(f.rates, f.controlFile, rebuildPace)
	if err != nil {
		return err
	}
	f.opts.Pacer = paced.pacer
	pr := &rebuildPrinter{out: cmd.OutOrStdout(), asJSON: f.asJSON}
	f.opts.Report = pr.result
	rb, err := rebuild.New(*f.proxy, f.opts)
	if err != nil {
		return usageError{err}
	}
	if err := rb.Ping(ctx); err != nil {
		return exitError{ExitUsage, err}
	}
	if f.volume != "" {
		id, err := rb.VolumeID(ctx, f.volume)
		if err != nil {
			return exitError{ExitUsage, err}
		}
		if id != f.volume { // named by address or in another case: its copies are the lost ones
			f.volume, f.opts.LostVolumes = id, []string{id}
			if rb, err = rebuild.New(*f.proxy, f.opts); err != nil {
				return usageError{err}
			}
		}
	}
	run := rb.NewRun()
	entries, err := f.entries(ctx, cmd.InOrStdin(), rb, run)
	if err != nil {
		return err
	}
	stopSignals := onSignals(ctx, paced, func() { pr.report(run.Stats()) })
	defer stopSignals()
	pr.drawProgress(run, !f.asJSON)
	err = run.Process(ctx, entries)
	pr.live.end()
	st := run.Stats()
	pr.report(st)
	return rebuildExit(st, err)
}

// entries returns the entries to rebuild, from the one source given.
func (f *rebuildFlags) entries(ctx context.Context, stdin io.Reader, rb *rebuild.Rebuilder,
	run *rebuild.Run) (func(func(integrity.RebuildEntry, error) bool), error) {
	switch {
	case f.volume != "":
		seq, total, err := rb.VolumeEntries(ctx, f.volume)
		if err != nil {
			return nil, exitError{ExitUsage, err}
		}
		run.SetExpected(total)
		return seq, nil
	case len(f.chunks) > 0:
		var list []integrity.RebuildEntry
		for _, c := range f.chunks {
			e, err := rb.ChunkEntry(ctx, c)
			if err != nil {
				return nil, exitError{ExitUsage, err}
			}
			list = append(list, e)
		}
		run.SetExpected(int64(len(list)))
		return rebuild.Slice(list), nil
	}
	r := stdin
	if f.input != "-" {
		file, err := os.Open(f.input)
		if err != nil {
			return nil, usageError{err}
		}
		defer file.Close()
		r = file
	}
	list, err := integrity.ReadRebuildEntries(r)
	if err != nil {
		return nil, usagef("%s: %w", f.input, err)
	}
	run.SetExpected(int64(len(list)))
	return rebuild.Slice(list), nil
}

// rebuildExit maps a run's outcome to the documented exit codes.
func rebuildExit(st rebuild.Stats, err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return exitError{ExitUsage, errors.New("interrupted: run again to finish")}
	case err != nil:
		return exitError{ExitUsage, err}
	case !st.OK():
		return exitError{ExitFail, fmt.Errorf("%d entries failed, %d irreparable, %d kept, "+
			"%d with no owner known", st.Failed, st.Irreparable, st.Kept, st.Unknown)}
	}
	return nil
}

// rebuildPrinter writes the entry lines and the reports.
type rebuildPrinter struct {
	mu     sync.Mutex
	out    io.Writer
	asJSON bool
	live   liveBar
}

// rebuildLine is the JSON form of an entry's result.
type rebuildLine struct {
	Type        string `json:"type"` // "chunk"
	ContainerID string `json:"cid"`
	ContentID   string `json:"content_id"`
	Path        string `json:"path"`
	Version     int64  `json:"version"`
	Chunk       string `json:"chunk"`
	Outcome     string `json:"outcome"`
	NewURL      string `json:"new_url,omitempty"`
	Bytes       int64  `json:"bytes"`
	Detail      string `json:"detail,omitempty"`
	Error       string `json:"error,omitempty"`
}

func (p *rebuildPrinter) result(r rebuild.Result) {
	defer p.live.line()()
	if !p.asJSON {
		line := r.Line()
		if r.Detail != "" && r.Err == nil {
			line += " (" + r.Detail + ")"
		}
		fmt.Fprintln(p.out, visible(line))
		return
	}
	e := r.Entry
	l := rebuildLine{Type: "chunk", ContainerID: e.ContainerID, ContentID: e.ContentID,
		Path: e.Path, Version: e.Version, Chunk: e.Chunk, Outcome: string(r.Outcome),
		NewURL: r.NewURL, Bytes: r.Bytes, Detail: r.Detail}
	l.Error = r.ErrorText()
	printJSON(p.out, l)
}

func (p *rebuildPrinter) report(st rebuild.Stats) {
	defer p.live.line()()
	st.WriteText(os.Stderr)
}

// drawProgress draws, on a terminal, a bar of entries done over the
// entries expected, until p.live.end.
func (p *rebuildPrinter) drawProgress(run *rebuild.Run, enabled bool) {
	if !enabled || !stderrIsTerminal() {
		return
	}
	bar := newCountBar(os.Stderr, max(run.Stats().Expected, 1), "rebuild")
	p.live.start(bar, func(bar *progressbar.ProgressBar, elapsed time.Duration) {
		st := run.Stats()
		rate := perSecond(st.Processed, elapsed, "chunks")
		bar.Describe(fmt.Sprintf("rebuild (%d rebuilt, %d failed, %.1f MB copied, %s)",
			st.Rebuilt, st.Failed, float64(st.Bytes)/1e6, rate))
		bar.Set64(st.Processed)
	})
}
