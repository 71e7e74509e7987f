// Package cli holds the gridkeep subcommands: flag parsing, output formats
// and exit codes. The services and tools themselves live in their own
// packages; this package only wires them to the command line.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gridkeep/gridkeep/internal/convert"
	"github.com/gridkeep/gridkeep/internal/meta"
)

// Exit codes shared by every subcommand. A tool may document more specific
// codes of its own (for instance "problems found") above these.
const (
	ExitOK    = 0 // the command did what it was asked
	ExitFail  = 1 // the command ran but the work failed or found problems
	ExitUsage = 2 // bad arguments or configuration: nothing was changed
)

// usageError marks an error caused by the command line itself.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// maxConcurrency bounds the --concurrency of the volume tools, as the
// converter's library does: the disks gain nothing from more, and each unit
// costs memory (a run given a million went out of memory).
const maxConcurrency = convert.MaxConcurrency

// usagef returns an error that makes the command exit with ExitUsage.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// exitError carries a specific exit code chosen by a subcommand.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// Main runs the gridkeep command line with args (without the program name)
// and returns the process exit code. The first interrupt (Ctrl-C or
// SIGTERM) cancels the command's context; the command then finishes what
// must be (a clean-up, a graceful stop) and reports it. A second one ends
// the process at once, which a command still busy a second after the first
// says.
func Main(args []string) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	done := make(chan struct{})
	defer close(done)
	go watchInterrupts(sig, done, cancel, os.Exit)

	root := newRootCommand()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	printError(os.Stderr, err)
	return exitCode(err)
}

// interruptGrace is how long a command may take to end after an interrupt
// before it is said that it is still finishing.
const interruptGrace = time.Second

// watchInterrupts watches the interrupts sig delivers until the command
// returns and closes done. The first cancels the command's context; the
// second ends the process at once through exit, with the shell's code for
// the signal (130 for SIGINT, 143 for SIGTERM), even in a process started
// with the signals ignored. A command still running interruptGrace after
// the first says how to stop it at once.
func watchInterrupts(sig <-chan os.Signal, done <-chan struct{}, cancel func(), exit func(int)) {
	select {
	case <-sig:
		cancel()
	case <-done:
		return
	}
	grace := time.NewTimer(interruptGrace)
	defer grace.Stop()
	for {
		select {
		case <-done:
			return
		case <-grace.C:
			fmt.Fprintln(os.Stderr, "gridkeep: interrupted: finishing (interrupt again to stop at once)")
		case s := <-sig:
			code := 128 + int(syscall.SIGINT)
			if n, ok := s.(syscall.Signal); ok {
				code = 128 + int(n)
			}
			exit(code)
			return
		}
	}
}

// printError writes err, if any, as one line with its control characters
// escaped: error messages often hold names from the command line or the
// namespace.
func printError(w io.Writer, err error) {
	if err == nil {
		return
	}
	msg := err.Error()
	if head, list, ok := strings.Cut(msg, suggestionsHeader); ok {
		// cobra's suggestions take lines of their own: fold them into one.
		msg = withSuggestions(head, strings.Fields(list))
	}
	fmt.Fprintln(w, "gridkeep:", visibleMessage(msg))
}

// exitCode maps the error a command returned to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ue usageError
	var ee exitError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue), isFlagError(err), errors.Is(err, meta.ErrInvalid),
		errors.Is(err, meta.ErrNoRoute):
		// A request the directory refused as invalid changed nothing, like
		// any other bad argument; one the server has no route for was
		// sent to a wrong --proxy.
		return ExitUsage
	default:
		return ExitFail
	}
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "gridkeep",
		Short:         "An OpenIO-compatible object-storage namespace and its maintenance plane",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usageError{err}
	})
	root.AddCommand(subcommands()...)
	return root
}

// suggestionsHeader opens the suggestions cobra adds to an unknown
// command error.
const suggestionsHeader = "\n\nDid you mean this?\n"

// withSuggestions adds the commands meant, if any, to an error message.
func withSuggestions(msg string, commands []string) string {
	if len(commands) == 0 {
		return msg
	}
	return fmt.Sprintf("%s (did you mean %s?)", msg, strings.Join(commands, " or "))
}

// groupCommand returns a command that only holds subcommands. Run with an
// unknown subcommand or none, it fails as a usage error (cobra would print
// its help and succeed, so that a script calling a misspelt subcommand
// would take it as done).
func groupCommand(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{errors.New(withSuggestions(fmt.Sprintf("unknown command %q for %q",
					args[0], cmd.CommandPath()), cmd.SuggestionsFor(args[0])))}
			}
			cmd.SetOut(cmd.ErrOrStderr())
			cmd.Help()
			return usagef("%s needs a subcommand", cmd.CommandPath())
		},
	}
	cmd.AddCommand(subs...)
	return cmd
}

// isFlagError reports whether err comes from cobra's own argument checks
// (unknown command, wrong argument count), which are usage errors too.
func isFlagError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "accepts ",
		"requires at least", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// registry of subcommand constructors; each file of this package adds its
// own in an init function so that commands stay independent of each other.
var registry []func() *cobra.Command

func register(f func() *cobra.Command) { registry = append(registry, f) }

func subcommands() []*cobra.Command {
	cmds := make([]*cobra.Command, 0, len(registry))
	for _, f := range registry {
		cmds = append(cmds, f())
	}
	return cmds
}
