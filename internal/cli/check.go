package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gridkeep/gridkeep/internal/event/natsbus"
	"github.com/gridkeep/gridkeep/internal/integrity"
	"github.com/gridkeep/gridkeep/internal/pace"
	"github.com/gridkeep/gridkeep/internal/rawx"
)

func init() { register(newCheckCommand) }

const checkLong = `Check namespace items from the top down and report every one that is
damaged, missing or inconsistent, with what is wrong; the check keeps going
after a problem.

  check --all                       every account, container, object and
                                    chunk, then every chunk server's volume
  check account ACCOUNT...          the account and what it holds
  check container ACCOUNT/CONTAINER...
  check object ACCOUNT/CONTAINER/OBJECT... [--version V]
  check chunk URL...                chunks by URL, http://<service id>/<ID>
                                    (or the chunk server's ip:port)
  check volume SERVICE_ID...        every chunk of a volume against the reverse
                                    index and the directory: orphans, missing
                                    chunks, stale or missing index records,
                                    links or pipes named like chunks ("Not a
                                    chunk file"); files not named by a chunk
                                    id are not chunks: they are left out
  check --from-file FILE|-          the items of an error file (-o)

Each item must be in its parent's listing; each metachunk must have all its
copies, each listed once and usable; each chunk must exist, its file hold
the directory's size (a truncated file is "Corrupt"; bytes after the data
are "trailing bytes", the data still usable), and its attributes
(fullpath, position, size, hash, policy, chunk method) match the
directory; with --checksum its chunk server re-hashes its data against the
directory's size and hash, so that a wrong attribute is reported as such
and only data that changed as "Corrupt". Chunk URLs are compared as the
chunk servers' service ids and uppercase chunk ids, however the directory
or the command line spells them. --depth limits the levels below each
named item (account 0, container 1, object 2, chunk 3); the pass over the
volumes that --all ends with checks every chunk of each volume whatever
--depth says.

Standard output has one row per item checked (Type, Item, Status, Errors);
a volume's row is about the volume itself (its listing, misplaced chunk
files), each of its chunks having a row of its own, so a volume can be OK
while chunks on it are not. With --json, one object per line: {"type",
"item", "status" ("OK", "error" or "failed"), "errors", "check_failed",
"irreparable", and the owner's identity}. A problem is only ever about the
data: an item that could not be checked because the directory did not
answer is "failed", not a problem, and goes to no output file; the items
an interruption cut short are not reported. A chunk server that does not answer while the
directory does is a problem of its chunks ("Unavailable"). "irreparable"
means that no copy of the position is usable: each copy the directory
lists is missing, corrupt or unreadable, and no unlisted copy verifies. A
copy with wrong attributes whose data --checksum finds intact is usable,
and without --checksum a position whose only usable copies may be such
copies is "No copy verified", not irreparable. When no listed copy is
usable, every chunk server is asked for unlisted copies (those its
reverse index records for the object, and the listed chunk ids), whose
data is re-hashed: one that verifies is named ("Unlisted copy ...
verifies") and "gridkeep rebuild" records it in place. The summary
report goes to standard error at the end and whenever the process receives
SIGUSR1; a progress bar is drawn there on a terminal.

-o appends problems to an error file that --from-file reads back, and
--output-for-chunk-rebuild appends chunk problems to a file for
"gridkeep rebuild --input-file"; both in OpenIO's formats, so each needs a
file of its own. --events-url publishes a storage.content.broken event per
chunk problem, for the rebuilder agent step.

--daemon checks again and again, --pause-between-passes apart (30s unless
given; 0 for no pause), until interrupted; it reports each pass and exits
2, saying what the last complete pass found. With --confirmations or
--time-in-error, a problem once confirmed is reported at every pass while
it lasts, and must be confirmed again only after its item checked OK or
was not met in a pass. In daemon mode -o and --output-for-chunk-rebuild are
not appended to: each complete pass replaces them with the problems it
reported, so they hold those of the last complete pass (a pass cut short
leaves them as they were). --orphan-min-age 0 means no minimum age.

Every option is checked, and the directory reached, before any output
file is created.

Pacing: --items-per-second and --bytes-per-second (data re-hashed with
--checksum); both can change while the check runs through --control-file,
lines "items-per-second N" and "bytes-per-second N", read again when it
changes (within 2 seconds) and on SIGHUP; a new pace applies at once, to
the checks already waiting too.

Exit codes: 0 every item is OK, 1 problems were found (any kind: missing,
corrupt, inconsistent, orphan, listing mismatch), 2 the check could not run
or did not finish (bad arguments, a chunk or volume on no registered chunk
server, unreachable directory, items that could not be checked,
interrupted), whatever it found meanwhile.`

// checkFlags are the options of the check command and its subcommands.
type checkFlags struct {
	opts        integrity.Options
	proxy       string
	depth       int
	all         bool
	fromFile    string
	version     int64
	output      string
	rebuildOut  string
	asJSON      bool
	errorsOnly  bool
	daemon      bool
	pause       time.Duration
	rates       pace.Rates
	controlFile string
	eventsURL   string
	// passFiles are the output files of a daemon, replaced at each pass.
	passFiles []*passFile
}

// defaultDaemonPause is the pause between daemon passes when none is
// given: a daemon meant to run for days need not loop flat out.
const defaultDaemonPause = 30 * time.Second

func newCheckCommand() *cobra.Command {
	f := &checkFlags{}
	cmd := &cobra.Command{
		Use:   "check --all | --from-file FILE|- | (account|container|object|chunk|volume) NAME...",
		Short: "Check accounts, containers, objects, chunks and volumes; report what is wrong",
		Long:  checkLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCheck(cmd, f, nil)
		},
	}
	f.addFlags(cmd.PersistentFlags())
	// Persistent, so that a subcommand given --all too is told why it
	// cannot have both.
	cmd.PersistentFlags().BoolVar(&f.all, "all", false, "check the whole namespace")
	cmd.PersistentFlags().StringVar(&f.fromFile, "from-file", "",
		"check the items of an error file (- for stdin)")
	for _, sub := range []struct {
		use, short string
		target     func(string) (integrity.Target, error)
	}{
		{"account ACCOUNT...", "Check accounts", accountTarget},
		{"container ACCOUNT/CONTAINER...", "Check containers", containerTarget},
		{"object ACCOUNT/CONTAINER/OBJECT...", "Check objects (every version unless --version)",
			f.objectTarget},
		{"chunk URL...", "Check chunks by URL", chunkTarget},
		{"volume SERVICE_ID...", "Check the volumes of chunk servers", volumeTarget},
	} {
		sc := &cobra.Command{Use: sub.use, Short: sub.short, Long: checkLong,
			Args: cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if fl := cmd.Flags().Lookup("version"); fl != nil && fl.Changed && f.version == 0 {
					return usagef("--version 0: versions are positive numbers " +
						"(without --version, every version is checked)")
				}
				targets := make([]integrity.Target, 0, len(args))
				for _, a := range args {
					t, err := sub.target(a)
					if err != nil {
						return err
					}
					targets = append(targets, t)
				}
				if f.all || f.fromFile != "" {
					return usagef("--all and --from-file name their own targets: "+
						"drop them, or the %s subcommand", cmd.Name())
				}
				return runCheck(cmd, f, targets)
			}}
		if strings.HasPrefix(sub.use, "object") {
			intVar(sc.Flags(), &f.version, "version", 0, "check this version only")
		}
		cmd.AddCommand(sc)
	}
	return cmd
}

func (f *checkFlags) addFlags(fl *pflag.FlagSet) {
	proxyFlag(fl, &f.proxy)
	namespaceFlag(fl, &f.opts.Namespace)
	intVar(fl, &f.depth, "depth", integrity.DefaultDepth, "levels checked below each item")
	intVar(fl, &f.opts.Concurrency, "concurrency", integrity.DefaultConcurrency,
		"items checked at once (1 to 256)")
	intVar(fl, &f.opts.Attempts, "attempts", 1, "tries of each request before its failure counts")
	fl.BoolVar(&f.opts.Checksum, "checksum", false,
		"have chunk servers re-hash every chunk against the directory")
	intVar(fl, &f.opts.Confirmations, "confirmations", 0,
		"times a problem must be seen again before it is reported")
	fl.DurationVar(&f.opts.TimeInError, "time-in-error", 0,
		"how long a problem must last before it is reported")
	fl.DurationVar(&f.opts.OrphanMinAge, "orphan-min-age", integrity.DefaultOrphanMinAge,
		"age under which an unowned chunk is taken for an upload in progress")
	fl.BoolVar(&f.daemon, "daemon", false, "check again and again until interrupted")
	fl.DurationVar(&f.pause, "pause-between-passes", defaultDaemonPause,
		"pause between daemon passes")
	fl.Float64Var(&f.rates.ItemsPerSecond, "items-per-second", 0, "pacing; 0 means no limit")
	fl.Float64Var(&f.rates.BytesPerSecond, "bytes-per-second", 0,
		"pacing of re-hashed data; 0 means no limit")
	fl.StringVar(&f.controlFile, "control-file", "", "file of pacing values read while running")
	fl.StringVarP(&f.output, "output", "o", "",
		"append problems to this error file (with --daemon: the last complete pass's)")
	fl.StringVar(&f.rebuildOut, "output-for-chunk-rebuild", "",
		"append chunk problems to this rebuild file (with --daemon: the last complete pass's)")
	fl.StringVar(&f.eventsURL, "events-url", "", "NATS URL to publish broken-content events to")
	fl.BoolVar(&f.asJSON, "json", false, "print one JSON object per item")
	fl.BoolVar(&f.errorsOnly, "errors-only", false, "print only the items with problems")
}

func accountTarget(s string) (integrity.Target, error) {
	n, err := parseName(s, false, false)
	if err != nil || n.Container != "" {
		return integrity.Target{}, usagef("account %q: want a bare account name", s)
	}
	return integrity.Target{Account: n.Account}, nil
}

func containerTarget(s string) (integrity.Target, error) {
	n, err := parseName(s, true, false)
	if err != nil || n.Path != "" {
		return integrity.Target{}, usagef("container %q: want ACCOUNT/CONTAINER", s)
	}
	return integrity.Target{Account: n.Account, Container: n.Container}, nil
}

func (f *checkFlags) objectTarget(s string) (integrity.Target, error) {
	n, err := parseName(s, true, true)
	if err != nil {
		return integrity.Target{}, err
	}
	if f.version < 0 {
		return integrity.Target{}, usagef("--version %d is negative", f.version)
	}
	return integrity.Target{Account: n.Account, Container: n.Container, Object: n.Path,
		Version: f.version}, nil
}

func chunkTarget(s string) (integrity.Target, error) {
	if _, _, err := rawx.SplitChunkURL(s); err != nil || !strings.HasPrefix(s, "http://") {
		return integrity.Target{}, usagef("chunk %q: want http://<service id>/<chunk id>", s)
	}
	return integrity.Target{Chunk: s}, nil
}

func volumeTarget(s string) (integrity.Target, error) {
	if s == "" || strings.ContainsAny(s, "/ ") {
		return integrity.Target{}, usagef("volume %q: want a chunk server's service id", s)
	}
	return integrity.Target{Volume: s}, nil
}

// topTargets returns the targets of --all or --from-file.
func (f *checkFlags) topTargets(in io.Reader) ([]integrity.Target, error) {
	switch {
	case f.all && f.fromFile != "":
		return nil, usagef("--all and --from-file exclude each other")
	case f.all:
		return []integrity.Target{{}}, nil
	case f.fromFile == "":
		return nil, usagef("say what to check: --all, --from-file, or a subcommand (see --help)")
	}
	r := in
	if f.fromFile != "-" {
		file, err := os.Open(f.fromFile)
		if err != nil {
			return nil, usageError{err}
		}
		defer file.Close()
		r = file
	}
	targets, err := integrity.ReadTargets(r)
	if err != nil {
		return nil, usagef("%s: %w", f.fromFile, err)
	}
	return targets, nil
}

// validate checks every flag, naming the one at fault, and turns them
// into options.
func (f *checkFlags) validate(fl *pflag.FlagSet) error {
	if err := checkNamespaceFlag(fl); err != nil {
		return err
	}
	o := &f.opts
	switch {
	case f.depth < 0:
		return usagef("--depth %d: must not be negative", f.depth)
	case o.Concurrency < 1 || o.Concurrency > maxConcurrency:
		return usagef("--concurrency %d: must be from 1 to %d", o.Concurrency, maxConcurrency)
	case o.Attempts < 1:
		return usagef("--attempts %d: must be at least 1", o.Attempts)
	case o.Confirmations < 0:
		return usagef("--confirmations %d: must not be negative", o.Confirmations)
	case o.TimeInError < 0:
		return usagef("--time-in-error %s: must not be negative", o.TimeInError)
	case o.OrphanMinAge < 0:
		return usagef("--orphan-min-age %s: must not be negative (0 means no minimum)",
			o.OrphanMinAge)
	case f.pause < 0:
		return usagef("--pause-between-passes %s: must not be negative", f.pause)
	case fl.Changed("pause-between-passes") && !f.daemon:
		return usagef("--pause-between-passes goes with --daemon only")
	}
	if err := checkRateFlag("items-per-second", f.rates.ItemsPerSecond); err != nil {
		return err
	}
	if err := checkRateFlag("bytes-per-second", f.rates.BytesPerSecond); err != nil {
		return err
	}
	if u, err := url.Parse(f.proxy); err != nil || u.Scheme != "http" && u.Scheme != "https" ||
		u.Host == "" {
		return usagef("--proxy %q: want the directory's URL, http://HOST:PORT", f.proxy)
	}
	if f.eventsURL != "" {
		if err := natsbus.CheckURL(f.eventsURL); err != nil {
			return usagef("--events-url: %w", err)
		}
	}
	if f.controlFile != "" {
		if _, err := os.Stat(f.controlFile); err != nil {
			return usagef("--control-file: %w", err)
		}
	}
	for _, o := range []struct{ flag, path string }{{"--output", f.output},
		{"--output-for-chunk-rebuild", f.rebuildOut}} {
		if err := writablePath(o.path); err != nil {
			return usagef("%s: %w", o.flag, err)
		}
	}
	if f.output != "" && f.rebuildOut != "" && sameFile(f.output, f.rebuildOut) {
		return usagef("--output %s and --output-for-chunk-rebuild %s name the same file: "+
			"give each its own, their formats differ", f.output, f.rebuildOut)
	}
	o.Depth = f.depth
	if f.depth == 0 {
		o.Depth = integrity.TargetOnly
	}
	if o.OrphanMinAge == 0 {
		o.OrphanMinAge = -1
	}
	return nil
}

// writablePath checks, without creating it, that an output file can be
// opened for appending: it is a file, or its directory exists.
func writablePath(path string) error {
	if path == "" {
		return nil
	}
	st, err := os.Stat(path)
	switch {
	case err == nil && st.IsDir():
		return fmt.Errorf("%s is a directory", path)
	case err == nil:
		return nil
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
		return fmt.Errorf("%s: its directory does not exist", path)
	}
	return nil
}

// sameFile reports whether the paths a and b name one file, however they
// are spelt: one existing file (links included), or one name in one
// directory for a file still to be created, maybe through a link.
func sameFile(a, b string) bool {
	a, _ = followLinks(a)
	b, _ = followLinks(b)
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	switch {
	case errA == nil && errB == nil:
		// A device (/dev/null) takes any number of writers, not a file.
		return os.SameFile(sa, sb) && sa.Mode().IsRegular()
	case errA == nil || errB == nil:
		return false
	}
	dirA, baseA := splitPath(a)
	dirB, baseB := splitPath(b)
	if baseA == "" || baseA != baseB {
		return false
	}
	sa, errA = os.Stat(dirA)
	sb, errB = os.Stat(dirB)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// splitPath splits path after its last separator, without cleaning it:
// the directory keeps any ".." or link as the system will follow it.
func splitPath(path string) (dir, base string) {
	i := strings.LastIndexByte(path, filepath.Separator)
	if i < 0 {
		return ".", path
	}
	return path[:i+1], path[i+1:]
}

// runCheck validates everything, then reaches the directory, and only
// then creates the outputs and checks.
func runCheck(cmd *cobra.Command, f *checkFlags, targets []integrity.Target) error {
	ctx := cmd.Context()
	if err := f.validate(cmd.Flags()); err != nil {
		return err
	}
	if targets == nil {
		var err error
		if targets, err = f.topTargets(cmd.InOrStdin()); err != nil {
			return err
		}
	}
	paced, err := newPacing(f.rates, f.controlFile, checkPace)
	if err != nil {
		return err
	}
	f.opts.Pacer = paced.pacer
	pr := &checkPrinter{out: cmd.OutOrStdout(), asJSON: f.asJSON, errorsOnly: f.errorsOnly}
	f.opts.Report = pr.result
	c, err := integrity.New(f.proxy, f.opts)
	if err != nil {
		return usageError{err}
	}
	if err := c.Ping(ctx); err != nil {
		return exitError{ExitUsage, err}
	}
	if targets, err = c.ResolveTargets(ctx, targets); err != nil {
		return exitError{ExitUsage, err}
	}
	closeOut, err := f.openOutputs(ctx)
	if err != nil {
		return err
	}
	defer closeOut()
	if c, err = integrity.New(f.proxy, f.opts); err != nil { // with the outputs
		return usageError{err}
	}
	stopSignals := onSignals(ctx, paced, func() { pr.report(c.Stats()) })
	defer stopSignals()
	if f.daemon {
		return f.runDaemon(ctx, c, pr, targets)
	}
	pr.drawProgress(c, !f.asJSON)
	st, err := c.Run(ctx, targets)
	pr.live.end()
	pr.report(st)
	return checkExit(st, err)
}

// runDaemon runs passes until interrupted, which is its only way to end:
// it exits 2, saying what the last complete pass found.
func (f *checkFlags) runDaemon(ctx context.Context, c *integrity.Checker, pr *checkPrinter,
	targets []integrity.Target) error {
	var last, complete integrity.Stats
	var outErr error
	pass := 0
	err := c.Daemon(ctx, targets, f.pause, func(st integrity.Stats) {
		pass++
		last = st
		if !st.Interrupted {
			complete = st
		}
		for _, pf := range f.passFiles {
			if err := pf.endPass(!st.Interrupted); err != nil && outErr == nil {
				outErr = err
			}
		}
		pr.mu.Lock()
		if st.Interrupted {
			fmt.Fprintf(os.Stderr, "\npass %d cut short\n", pass)
		} else {
			fmt.Fprintf(os.Stderr, "\npass %d done\n", pass)
		}
		pr.mu.Unlock()
		pr.report(st)
	})
	if err == nil {
		err = outErr
	}
	if err != nil {
		return exitError{ExitUsage, err}
	}
	msg := "interrupted after " + plural(int64(pass), "pass")
	if pass > 0 && last.Interrupted {
		pass--
		msg += " (the last one cut short)"
	}
	if pass > 0 {
		msg += "; the last complete pass found " + plural(complete.Problems(), "problem")
	}
	return exitError{ExitUsage, errors.New(msg)}
}

// checkExit maps a run's outcome to the documented exit codes: an
// interrupted run, or one with items that could not be checked, did not
// finish, whatever it found.
func checkExit(st integrity.Stats, err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return exitError{ExitUsage, errors.New("interrupted: the check did not finish")}
	case err != nil:
		return exitError{ExitUsage, err}
	case st.Failed > 0:
		return exitError{ExitUsage, fmt.Errorf("%s not checked (directory or services "+
			"unreachable); %s found in the others", plural(st.Failed, "item"),
			plural(st.Problems(), "problem"))}
	case st.Problems() > 0:
		return exitError{ExitFail, fmt.Errorf("%s found", plural(st.Problems(), "problem"))}
	}
	return nil
}

// plural returns "1 problem", "2 problems", "1 pass", "0 passes".
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "s") {
		return fmt.Sprintf("%d %ses", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// openOutputs opens the error and rebuild files for appending and dials
// the bus; the function returned closes them.
func (f *checkFlags) openOutputs(ctx context.Context) (func(), error) {
	var closers []func()
	done := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	for _, o := range []struct {
		path string
		dst  *io.Writer
	}{{f.output, &f.opts.ErrorFile}, {f.rebuildOut, &f.opts.RebuildFile}} {
		if o.path == "" {
			continue
		}
		if f.daemon {
			pf := &passFile{path: o.path}
			f.passFiles = append(f.passFiles, pf)
			*o.dst = pf
			closers = append(closers, func() { pf.endPass(false) })
			continue
		}
		file, err := os.OpenFile(o.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			done()
			return nil, usageError{err}
		}
		*o.dst = file
		closers = append(closers, func() { file.Close() })
	}
	if f.eventsURL != "" {
		bus, err := natsbus.Dial(ctx, f.eventsURL, natsbus.Options{})
		if err != nil {
			done()
			return nil, exitError{ExitUsage, fmt.Errorf("events: %w", err)}
		}
		f.opts.Events = bus
		closers = append(closers, func() { bus.Close() })
	}
	return done, nil
}

// passFile is an output file of a daemon: each pass writes a new version
// of it beside it, which replaces it when the pass completes.
type passFile struct {
	path string
	tmp  *os.File
}

func (p *passFile) Write(b []byte) (int, error) {
	if p.tmp == nil {
		if err := p.create(); err != nil {
			return 0, err
		}
	}
	return p.tmp.Write(b)
}

func (p *passFile) create() error {
	tmp, err := os.CreateTemp(filepath.Dir(p.path), "."+filepath.Base(p.path)+".*")
	if err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	p.tmp = tmp
	return nil
}

// endPass replaces the file with what the pass wrote, empty if nothing,
// when keep is true; otherwise it drops what the pass wrote.
func (p *passFile) endPass(keep bool) error {
	if keep && p.tmp == nil {
		if err := p.create(); err != nil {
			return err
		}
	}
	if p.tmp == nil {
		return nil
	}
	tmp := p.tmp
	p.tmp = nil
	err := tmp.Close()
	if keep && err == nil {
		if err = os.Rename(tmp.Name(), p.path); err == nil {
			return nil
		}
	}
	os.Remove(tmp.Name())
	if err != nil {
		return fmt.Errorf("%s: %w", p.path, err)
	}
	return nil
}

// checkPrinter writes the result rows and the reports; the checker calls
// result one at a time.
type checkPrinter struct {
	mu         sync.Mutex
	out        io.Writer
	asJSON     bool
	errorsOnly bool
	header     bool
	live       liveBar
}

func (p *checkPrinter) result(r integrity.Result) {
	if p.errorsOnly && r.OK() {
		return
	}
	defer p.live.line()()
	if p.asJSON {
		printJSON(p.out, &r)
		return
	}
	if !p.header {
		fmt.Fprintf(p.out, "%-9s %-78s %-6s %s\n", "TYPE", "ITEM", "STATUS", "ERRORS")
		p.header = true
	}
	errs := "-"
	if !r.OK() {
		errs = strings.Join(append(slices.Clip(r.Errors), r.Failed...), "; ")
		if r.Irreparable {
			errs = "[irreparable] " + errs
		}
	}
	item := r.Item()
	if r.Kind == integrity.KindObject && r.Target.Version != 0 {
		item = fmt.Sprintf("%s (version %d)", item, r.Target.Version)
	}
	fmt.Fprintf(p.out, "%-9s %-78s %-6s %s\n", r.Kind, visible(item), r.Status(), visible(errs))
}

// report writes the summary report on standard error.
func (p *checkPrinter) report(st integrity.Stats) {
	defer p.live.line()()
	st.WriteText(os.Stderr)
}

// drawProgress draws, on a terminal, a bar of objects checked over the
// objects the listings announced, until p.live.end.
func (p *checkPrinter) drawProgress(c *integrity.Checker, enabled bool) {
	if !enabled || !stderrIsTerminal() {
		return
	}
	p.live.start(newCountBar(os.Stderr, -1, "check"), func(bar *progressbar.ProgressBar,
		elapsed time.Duration) {
		st := c.Stats()
		bar.ChangeMax64(max(st.Expected, st.Objects.Checked))
		est := ""
		if st.Estimated {
			est = " estimated"
		}
		bar.Describe(fmt.Sprintf("check (%d chunks, %d problems%s, %s)", st.Chunks.Checked,
			st.Problems(), est, perSecond(st.Objects.Checked, elapsed, "objects")))
		bar.Set64(st.Objects.Checked)
	})
}

// checkRateFlag refuses the value of a pacing flag that pace.CheckRate
// refuses, with a usage error naming the flag.
func checkRateFlag(name string, r float64) error {
	if err := pace.CheckRate(r); err != nil {
		return usagef("--%s %g: %w", name, r, err)
	}
	return nil
}

// paceUnits are what the pace of a job counts: its items, named as its
// flags name them, and its bytes unless it is paced in items alone.
type paceUnits struct {
	items string
	bytes bool
}

// The units of the jobs that are paced.
var (
	checkPace   = paceUnits{items: "items", bytes: true}
	rebuildPace = paceUnits{items: "chunks", bytes: true}
	convertPace = paceUnits{items: "chunks"}
)

// pacing holds a pacer to the flags' rates and to a control file, read
// again when it changes and on SIGHUP.
type pacing struct {
	pacer  *pace.Pacer
	base   pace.Rates
	units  paceUnits
	file   string
	read   stamp     // the version of the file last read, well-formed or not
	stderr io.Writer // where changes of the pace and errors of the file are said
}

// stamp tells one version of the control file from another, as far as
// its size and modification time do.
type stamp struct {
	mtime int64 // nanoseconds since the epoch
	size  int64
}

// newPacing returns the pacing of a job counting units, from the rates of
// its flags and its control file, if any. For a job paced in items alone, a
// control file that sets bytes per second is refused. A control file that
// cannot be read or parsed is a usage error; a missing one is not (see
// reload).
func newPacing(base pace.Rates, file string, units paceUnits) (*pacing, error) {
	p := &pacing{pacer: pace.New(base), base: base, units: units, file: file, stderr: os.Stderr}
	if file == "" {
		return p, nil
	}
	if err := p.reload(); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, usagef("--control-file: %w", err)
	}
	return p, nil
}

// reload reads the control file if it changed since the last read. A
// version of the file is read once, whether or not it holds an error: the
// pace stays as it was until the file changes again, or SIGHUP forgets
// which version was read. An empty file changes nothing: a file being
// rewritten in place is empty for a moment, and keys left out of it would
// bring the pace back to the flags'.
func (p *pacing) reload() error {
	st, err := os.Stat(p.file)
	if err != nil {
		p.read = stamp{}
		return err
	}
	version := stamp{mtime: st.ModTime().UnixNano(), size: st.Size()}
	if version == p.read || version.size == 0 {
		return nil // unchanged, or empty: being written, most likely
	}
	p.read = version
	file, err := os.Open(p.file)
	if err != nil {
		return err
	}
	defer file.Close()
	parse := pace.ParseRates
	if !p.units.bytes {
		parse = pace.ParseItemRates
	}
	r, err := parse(file, p.base)
	if err != nil {
		return fmt.Errorf("%s: %w", p.file, err)
	}
	p.pacer.SetRates(r)
	return nil
}

// onSignals calls report on SIGUSR1 and reloads the control file on SIGHUP
// or when it changes, until the returned function is called.
func onSignals(ctx context.Context, paced *pacing, report func()) func() {
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case s := <-sig:
				if s == syscall.SIGUSR1 {
					report()
					continue
				}
				paced.read = stamp{}
				paced.reloadLogged()
			case <-t.C:
				paced.reloadLogged()
			}
		}
	}()
	return func() { signal.Stop(sig); cancel(); <-done }
}

// reloadLogged reloads the control file, saying on standard error what the
// pace became or why the file was not read: once for each version of the
// file.
func (p *pacing) reloadLogged() {
	if p.file == "" {
		return
	}
	before := p.pacer.Rates()
	if err := p.reload(); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintln(p.stderr, "gridkeep: control file:", err)
		}
		return
	}
	switch r := p.pacer.Rates(); {
	case r == before:
	case !p.units.bytes:
		fmt.Fprintf(p.stderr, "gridkeep: pace now %s\n", rate(r.ItemsPerSecond, p.units.items))
	default:
		fmt.Fprintf(p.stderr, "gridkeep: pace now %s, %s\n", rate(r.ItemsPerSecond, p.units.items),
			rate(r.BytesPerSecond, "bytes"))
	}
}

// rate says a pace of perSecond units, 0 being no limit.
func rate(perSecond float64, units string) string {
	if perSecond == 0 {
		return "no limit on " + units
	}
	return fmt.Sprintf("%g %s/s", perSecond, units)
}
