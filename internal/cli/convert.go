package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/convert"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/pace"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

func init() { register(newConvertCommand) }

// ExitUnconverted is the exit code of convert when the run went through
// but left some chunks unconverted (orphans or failures).
const ExitUnconverted = 3

const convertLong = `Convert every chunk of a volume (or those listed in --input-file) from the
legacy metadata formats of OpenIO SDS to the current one, in place. Data is
never touched and chunk files are never opened for writing.

The owner of each chunk is asked of the directory; chunks whose attributes
do not name it are looked up in the volume's reverse index (rdir). A chunk
is converted whole or not at all: orphans (their object is gone, or a name
of their inode does not check out) and failures are reported and left
exactly as they were. New keys are made durable (syncfs) before any legacy
key is removed, so a run killed at any moment can simply be run again.
Each run but a dry run locks the volume with a file in the system's
temporary directory ($TMPDIR, or /tmp when unset),
gridkeep-convert-<device>-<inode>.lock, so runs with different TMPDIR do
not exclude each other.

Unless --no-backup, the original attributes of every chunk the run sets out
to change are written (and synced) first, even if the change then fails
(a rerun backs such a chunk up again), in getfattr --dump format, to one
file per batch of chunks:
--backup-dir/backup_<volume id>_<start time>/batch-NNNNNN.txt.
A missing --backup-dir is made, but not its parent. The default, the
system's temporary directory, is often cleared at boot or held in memory:
give a lasting directory for backups worth keeping. To undo a conversion,
remove the chunks' oio.content.fullpath:* and grid.oio.version keys, then
run setfattr --restore=FILE; when several runs backed up a chunk, the
backups of the oldest run hold its original attributes. grep -l CHUNK_ID
finds the backup of one chunk.

Pacing: --chunks-per-second (0 for no limit) can change while the run goes
on through --control-file, a file of lines "chunks-per-second N" read again
when it changes (within 2 seconds) and on SIGHUP; a new pace applies at
once, to the chunk waiting its turn too. Convert is paced in chunks alone:
a "bytes-per-second" line is refused, at the start as a bad argument, later
with a message on standard error, the pace staying as it was. The pace is
that of the chunks read and planned; their attributes are written, and the
chunks counted as done in reports and the progress bar, a batch at a time,
at least every 2 seconds, so the rates reported come in steps around it.
Unless the GOMAXPROCS environment variable says otherwise, a run lets as
many goroutines execute at once as --concurrency (at least one per CPU, at
most four per CPU): the planners spend a cold run waiting for the disk in
system calls, and each keeps its processor meanwhile.

Report lines (RUN, then DONE) go to the log on standard error, and a RUN
line at once on SIGUSR1; a progress bar is drawn there on a terminal. As
in OpenIO's converter, passes counts the chunks visited since the line
before; errors, chunks, the rate (chunks / total_time) and total_time are
of the whole run so far.
Standard output lists the chunks left unconverted (and, with --dry-run, the
changes planned), then a summary; with --json, one JSON object per line
(in a dry run, a chunk that would be converted has outcome "would-convert",
and the summary counts them in would_convert).

Exit codes: 0 every chunk is now in the current format (with --dry-run: would
be), 1 the run stopped early (interrupted, the volume or backup directory
could not be synced, or the directory failed 32 questions in a row: run
again), 2 bad arguments or another run converting the volume (nothing was
changed), 3 the run went through but left some chunks unconverted, or found
files that are not chunks: lines of --input-file that name none, or files of
the volume named by a chunk id not in uppercase, which their chunk server
never finds (see the report).`

// convertFlags are the options of the convert command.
type convertFlags struct {
	opts        convert.Options
	input       string
	rdirURL     string
	asJSON      bool
	logLevel    string
	proxy       *string
	chunksPer   float64
	controlFile string
}

func newConvertCommand() *cobra.Command {
	var f convertFlags
	cmd := &cobra.Command{
		Use:   "convert --volume DIR [flags]",
		Short: "Convert the chunks of a volume from legacy metadata formats to the current one",
		Long:  convertLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runConvert(cmd.Context(), cmd.InOrStdin(), cmd.OutOrStdout(), &f)
		},
	}
	f.proxy = addProxyFlag(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.opts.Volume, "volume", "", "root directory of the chunk volume (required)")
	fl.StringVar(&f.input, "input-file", "", "convert only the chunks listed, one path per line, "+
		"relative to the volume or absolute inside it; blank and # lines skipped; - reads standard input")
	fl.BoolVar(&f.opts.DryRun, "dry-run", false, "report what would change and write nothing")
	fl.BoolVar(&f.opts.NoBackup, "no-backup", false, "do not back up the original attributes")
	fl.StringVar(&f.opts.BackupDir, "backup-dir", os.TempDir(), "where backups go (not inside the volume)")
	fl.Float64Var(&f.chunksPer, "chunks-per-second", 30, "pacing; 0 means no limit")
	fl.StringVar(&f.controlFile, "control-file", "", "file of pacing values read while running")
	intVar(fl, &f.opts.Concurrency, "concurrency", convert.DefaultConcurrency,
		"chunks planned and written at once (1 to 256)")
	fl.DurationVar(&f.opts.ReportInterval, "report-interval", time.Minute,
		"time between RUN report lines; 0 for the DONE line only")
	fl.BoolVar(&f.asJSON, "json", false, "print JSON lines on standard output")
	fl.StringVar(&f.rdirURL, "rdir", "", "reverse index URL (default: asked of the directory)")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	cmd.MarkFlagRequired("volume")
	return cmd
}

func runConvert(ctx context.Context, in io.Reader, out io.Writer, f *convertFlags) error {
	logger, err := newLogger(f.logLevel)
	if err != nil {
		return err
	}
	switch {
	case f.opts.Concurrency < 1 || f.opts.Concurrency > maxConcurrency:
		return usagef("--concurrency %d: must be from 1 to %d", f.opts.Concurrency, maxConcurrency)
	case f.opts.ReportInterval < 0:
		return usagef("--report-interval %s: must not be negative", f.opts.ReportInterval)
	}
	if err := checkRateFlag("chunks-per-second", f.chunksPer); err != nil {
		return err
	}
	if f.controlFile != "" {
		if _, err := os.Stat(f.controlFile); err != nil {
			return usagef("--control-file: %w", err)
		}
	}
	input, err := inputLines(f.input, in)
	if err != nil {
		return err
	}
	paced, err := newPacing(pace.Rates{ItemsPerSecond: f.chunksPer}, f.controlFile, convertPace)
	if err != nil {
		return err
	}
	vol, err := chunk.CheckVolume(f.opts.Volume)
	if err != nil {
		return usagef("--volume: %w", err)
	}
	o := f.opts
	o.Pacer, o.Input = paced.pacer, input
	if o.Dir, err = meta.NewClient(*f.proxy, meta.ClientOptions{Namespace: vol.Namespace}); err != nil {
		return usageError{err}
	}
	if err := checkVolumeKnown(ctx, o.Dir, *f.proxy, vol); err != nil {
		return err
	}
	if o.Rdir, err = rdirFor(ctx, o.Dir, vol.ServiceID, f.rdirURL, logger); err != nil {
		return err
	}
	pr := &convertPrinter{out: out, asJSON: f.asJSON, dryRun: o.DryRun, volume: vol.ServiceID,
		log: logger}
	o.OnResult, o.OnReport = pr.result, pr.report
	o.OnStart = func() { // once the volume is locked: a refused run says nothing of converting
		logger.Info("converting", "volume", vol.ServiceID, "chunks_per_second",
			paced.pacer.Rates().ItemsPerSecond, "control_file", f.controlFile)
	}
	o.CountTotal = !f.asJSON && stderrIsTerminal()
	c, err := convert.New(o)
	if err != nil {
		return usageError{err}
	}
	stopSignals := onSignals(ctx, paced, c.ReportNow)
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(convert.Procs(o.Concurrency))
	}
	pr.drawProgress(c, !f.asJSON)
	s, err := c.Run(ctx)
	pr.live.end()
	stopSignals()
	if errors.Is(err, convert.ErrBusy) {
		return exitError{ExitUsage, err} // nothing was visited: no summary
	}
	pr.summary(s)
	return convertExit(s, err)
}

// convertExit maps a run's outcome to the documented exit codes.
func convertExit(s convert.Summary, err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return exitError{ExitFail, errors.New("interrupted: run again to finish")}
	case err != nil:
		return exitError{ExitFail, err}
	case s.Errors() > 0 || s.NotChunks > 0:
		return exitError{ExitUnconverted, unconverted(s)}
	}
	return nil
}

// unconverted says what a run that went through left unconverted.
func unconverted(s convert.Summary) error {
	var parts []string
	if s.Errors() > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d chunks left unconverted (%d orphans, %d failures)",
			s.Errors(), s.Chunks, s.Orphans, s.Failed))
	}
	if s.NotChunks > 0 {
		parts = append(parts, fmt.Sprintf("%d files not chunks, or not named in uppercase, left as "+
			"they are", s.NotChunks))
	}
	return errors.New(strings.Join(parts, "; "))
}

// inputLines returns the reader of --input-file, or nil without one. The
// file is opened now, to fail early, and read again on each call; "-" is
// standard input, read whole now, as it cannot be read twice.
func inputLines(path string, stdin io.Reader) (func(func(string, error) bool), error) {
	switch path {
	case "":
		return nil, nil
	case "-":
		return stdinLines(stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("--input-file: %w", err)
	}
	st, err := f.Stat()
	f.Close()
	if err != nil {
		return nil, usagef("--input-file: %w", err)
	}
	if st.IsDir() {
		return nil, usagef("--input-file %s is a directory", path)
	}
	return func(yield func(string, error) bool) {
		f, err := os.Open(path)
		if err != nil {
			yield("", err)
			return
		}
		defer f.Close()
		if err := eachLine(f, func(line string) bool { return yield(line, nil) }); err != nil {
			yield("", fmt.Errorf("read %s: %w", path, err))
		}
	}, nil
}

// stdinLines reads the lines of an input file given on standard input.
func stdinLines(stdin io.Reader) (func(func(string, error) bool), error) {
	var lines []string
	if err := eachLine(stdin, func(line string) bool { lines = append(lines, line); return true }); err != nil {
		return nil, usagef("--input-file -: read standard input: %w", err)
	}
	return func(yield func(string, error) bool) {
		for _, line := range lines {
			if !yield(line, nil) {
				return
			}
		}
	}, nil
}

// eachLine calls fn with every line of r, trimmed, but blank and # lines,
// until fn returns false.
func eachLine(r io.Reader, fn func(string) bool) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !fn(line) {
			return nil
		}
	}
	return sc.Err()
}

// checkVolumeKnown makes sure, before anything is read, that the
// directory answers for the volume's namespace and knows its chunk server
// (alive or not): without that, every chunk would be reported as failed or
// orphan. A chunk server without a service id is known by its address,
// which is then the volume id; OpenIO's directory lists it without an id.
func checkVolumeKnown(ctx context.Context, dir *meta.Client, proxy string,
	vol chunk.VolumeIdentity) error {
	servers, err := dir.ListServices(ctx, "rawx")
	if err != nil {
		return exitError{ExitUsage, fmt.Errorf("directory %s, namespace %s: %w", proxy, vol.Namespace,
			err)}
	}
	for _, s := range servers {
		if s.ID == vol.ServiceID || s.ID == "" && s.Addr == vol.ServiceID {
			return nil
		}
	}
	return exitError{ExitUsage, fmt.Errorf("the directory %s of namespace %s knows no chunk server %q, "+
		"the id of this volume: convert asks the directory that holds the volume's objects", proxy,
		vol.Namespace, vol.ServiceID)}
}

// rdirFor returns the reverse index of the volume: the one given, or the
// one the directory names. Without one, chunks whose attributes name no
// owner are reported as orphans.
func rdirFor(ctx context.Context, dir *meta.Client, volID, url string,
	logger *slog.Logger) (rdir.Store, error) {
	if url == "" {
		host, err := dir.RdirFor(ctx, volID)
		if err != nil && !meta.Missing(err) && !errors.Is(err, meta.ErrNoSuchService) {
			return nil, exitError{ExitUsage, fmt.Errorf("reverse index of volume %s: %w", volID, err)}
		}
		if err != nil {
			logger.Warn("no reverse index for the volume: chunks whose attributes name no "+
				"owner will be reported as orphans", "volume", volID, "err", err)
			return nil, nil
		}
		url = "http://" + host
	}
	c, err := rdir.NewClient(url, rdir.ClientOptions{})
	if err != nil {
		return nil, usageError{err}
	}
	return c, nil
}

// convertPrinter writes the per-chunk lines, the reports and the summary,
// and the progress bar; it takes the bar off before writing a line.
type convertPrinter struct {
	out    io.Writer
	asJSON bool
	dryRun bool
	volume string
	log    *slog.Logger

	live       liveBar
	barDesc    string
	totalKnown bool // the bar's max is the total
}

// chunkLine is the JSON form of a chunk's result. Its outcome, which
// hides the result's, is "would-convert" for a chunk a dry run would
// convert.
type chunkLine struct {
	Type string `json:"type"` // "chunk"
	convert.Result
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
}

func (p *convertPrinter) result(r convert.Result) {
	show := r.Outcome == convert.Orphan || r.Outcome == convert.Failed ||
		r.Outcome == convert.NotChunk || (p.dryRun && r.Outcome == convert.Converted)
	warn := r.Outcome == convert.Orphan || r.Outcome == convert.Failed
	if !show && !warn {
		return
	}
	defer p.live.line()()
	if warn {
		p.log.Warn("chunk not converted", "volume", p.volume, "chunk_id", r.ChunkID, "path", r.Path,
			"outcome", r.Outcome.String(), "err", r.Reason())
	}
	if !show {
		return
	}
	if p.asJSON {
		outcome := r.Outcome.String()
		if p.dryRun && r.Outcome == convert.Converted {
			outcome = "would-convert"
		}
		printJSON(p.out, chunkLine{"chunk", r, outcome, r.Reason()})
		return
	}
	if r.Outcome == convert.Converted {
		fmt.Fprintf(p.out, "would convert %s (%s):", visible(r.Path), r.Format)
		for _, a := range r.Set {
			fmt.Fprintf(p.out, " set %s=%q", visible(a.Name), a.Value)
		}
		for _, n := range r.Remove {
			fmt.Fprintf(p.out, " remove %s", visible(n))
		}
		fmt.Fprintln(p.out)
		return
	}
	fmt.Fprintf(p.out, "%s %s: %s\n", r.Outcome, visible(r.Path), visible(r.Reason()))
}

// report logs a report line; the final one ends the bar, lest a redraw
// put it back under the line.
func (p *convertPrinter) report(r convert.Report) {
	defer p.live.line()()
	if r.Final {
		p.live.endLocked()
	}
	p.log.Info(r.Line(), "volume", r.Volume, "passes", r.Passes, "errors", r.Errors,
		"chunks", r.Chunks)
}

func (p *convertPrinter) summary(s convert.Summary) {
	defer p.live.line()()
	if p.asJSON {
		// A dry run converts nothing: what it would convert has its own key.
		var would int64
		if s.DryRun {
			would, s.Converted = s.Converted, 0
		}
		printJSON(p.out, struct {
			Type string `json:"type"` // "summary"
			convert.Summary
			WouldConvert int64 `json:"would_convert,omitempty"`
			Errors       int64 `json:"errors"`
		}{"summary", s, would, s.Errors()})
		return
	}
	verb := "converted"
	if s.DryRun {
		verb = "would convert"
	}
	notChunks := ""
	if s.NotChunks > 0 {
		notChunks = fmt.Sprintf(", %d not chunks", s.NotChunks)
	}
	fmt.Fprintf(p.out, "%s: %d chunks, %s %d (%d recovered from rdir), %d already current, "+
		"%d orphans, %d failed%s, in %s\n", visible(s.Volume), s.Chunks, verb, s.Converted, s.Recovered,
		s.Current, s.Orphans, s.Failed, notChunks, s.Elapsed.Round(time.Millisecond))
	if s.BackupDir != "" {
		fmt.Fprintf(p.out, "backups in %s\n", visible(s.BackupDir))
	}
}

// drawProgress draws, on a terminal, a bar of chunks done over the total
// (a spinner until the total is counted), with errors and the rate, until
// the final report or p.live.end.
func (p *convertPrinter) drawProgress(c *convert.Converter, enabled bool) {
	if !enabled || !stderrIsTerminal() {
		return
	}
	p.barDesc = "convert " + visible(c.VolumeID())
	p.live.start(newCountBar(os.Stderr, -1, p.barDesc), func(bar *progressbar.ProgressBar,
		elapsed time.Duration) {
		p.drawLocked(bar, c.Progress(), elapsed)
	})
}

// drawLocked brings bar up to date with pg, elapsed after the start; the
// mutex of p.live is held.
func (p *convertPrinter) drawLocked(bar *progressbar.ProgressBar, pg convert.Progress,
	elapsed time.Duration) {
	if pg.TotalKnown && !p.totalKnown {
		bar.ChangeMax64(pg.Total)
		p.totalKnown = true
	}
	counting := ""
	if !p.totalKnown {
		counting = ", counting chunks"
	}
	bar.Describe(fmt.Sprintf("%s (errors %d%s, %s)", p.barDesc, pg.Errors, counting,
		perSecond(pg.Done, elapsed, "chunks")))
	bar.Set64(pg.Done)
}
