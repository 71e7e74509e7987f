package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/integrity"
)

// TestCheckRefusesBadOptionsBeforeAnyOutput gives check one bad option at a
// time: each exits 2, names the option and value at fault, and creates no
// output file.
func TestCheckRefusesBadOptionsBeforeAnyOutput(t *testing.T) {
	proxy := startNamespace(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "errors.txt")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--all", "--depth", "-1"}, "--depth -1"},
		{[]string{"--all", "--concurrency", "0"}, "--concurrency 0"},
		{[]string{"--all", "--concurrency", "257"}, "--concurrency 257: must be from 1 to 256"},
		{[]string{"--all", "--attempts", "0"}, "--attempts 0"},
		{[]string{"--all", "--confirmations", "-2"}, "--confirmations -2"},
		{[]string{"--all", "--orphan-min-age", "-1h"}, "--orphan-min-age -1h"},
		{[]string{"--all", "--proxy", "notaurl"}, `--proxy "notaurl"`},
		{[]string{"--all", "--pause-between-passes", "1s"}, "--daemon"},
		{[]string{"--all", "--control-file", filepath.Join(dir, "none")}, "--control-file"},
		{[]string{"--all", "account", "acct"}, "drop them, or the account subcommand"},
		{[]string{"--all", "--output-for-chunk-rebuild", filepath.Join(dir, "no", "r.txt")},
			"--output-for-chunk-rebuild"},
		{[]string{"--all", "--proxy", "http://127.0.0.1:1"}, "directory unreachable"},
	} {
		args := append([]string{"check", "-o", out}, tc.args...)
		got, code := runOn(t, proxy, "", args...)
		if code != ExitUsage || !strings.Contains(got, tc.want) || strings.Contains(got, "unknown flag") {
			t.Errorf("%v: exit %d, want %d and %q:\n%s", tc.args, code, ExitUsage, tc.want, got)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%v: the error file was created", tc.args)
			os.Remove(out)
		}
	}
}

// TestInterruptedDaemonExitsTwo interrupts a check daemon between its
// passes of a healthy namespace: it exits 2.
func TestInterruptedDaemonExitsTwo(t *testing.T) {
	proxy := startNamespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetArgs([]string{"check", "--all", "--daemon", "--pause-between-passes", "200ms",
		"--proxy", proxy})
	root.SetOut(&out)
	root.SetErr(&out)
	err := root.ExecuteContext(ctx)
	if code := exitCode(err); code != ExitUsage || !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("exit %d (%v), want %d:\n%s", code, err, ExitUsage, out.String())
	}
}

// TestCheckExitMessages checks the exit code and the grammar of the
// message of each outcome.
func TestCheckExitMessages(t *testing.T) {
	one := integrity.Stats{Objects: integrity.LevelStats{Checked: 3, Errors: 1}}
	failed := one
	failed.Failed = 2
	for _, tc := range []struct {
		st   integrity.Stats
		code int
		want string
	}{
		{one, ExitFail, "1 problem found"},
		{failed, ExitUsage, "2 items not checked (directory or services unreachable); " +
			"1 problem found in the others"},
	} {
		err := checkExit(tc.st, nil)
		if exitCode(err) != tc.code || err.Error() != tc.want {
			t.Errorf("exit %d %q, want %d %q", exitCode(err), err, tc.code, tc.want)
		}
	}
}

// daemonRun runs check --daemon for a while and returns its standard
// output and the number of passes its exit message counts.
func daemonRun(t *testing.T, d time.Duration, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetArgs(append([]string{"check", "--daemon"}, args...))
	root.SetOut(&out)
	root.SetErr(io.Discard)
	err := root.ExecuteContext(ctx)
	var passes int
	if err == nil || exitCode(err) != ExitUsage {
		t.Fatalf("daemon %v: exit %v", args, err)
	}
	if _, serr := fmt.Sscanf(err.Error(), "interrupted after %d", &passes); serr != nil {
		t.Fatalf("daemon %v: exit message %q", args, err)
	}
	return out.String(), passes
}

// TestDaemonReportsConfirmedProblemEveryPass checks a chunk that does not
// exist, again and again, with one confirmation: from the second pass on,
// every pass reports it, and the error file holds it once, as the last
// pass found it. Without a pause given, the daemon does not loop flat out.
func TestDaemonReportsConfirmedProblemEveryPass(t *testing.T) {
	proxy := startNamespace(t)
	errFile := filepath.Join(t.TempDir(), "errors.txt")
	chunkURL := "http://rawx-1/" + strings.Repeat("0A", 32)
	out, passes := daemonRun(t, 1500*time.Millisecond, "chunk", chunkURL, "--proxy", proxy,
		"--pause-between-passes", "100ms", "--confirmations", "1", "-o", errFile)
	rows := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "chunk ") && strings.Contains(line, chunkURL) {
			rows++
		}
	}
	if passes < 4 || rows < passes-2 {
		t.Errorf("%d passes reported the missing chunk %d times:\n%s", passes, rows, out)
	}
	data, err := os.ReadFile(errFile)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(data)), "\n"); len(lines) != 1 ||
		!strings.Contains(lines[0], strings.Repeat("0A", 32)) {
		t.Errorf("error file after %d passes:\n%s", passes, data)
	}

	if _, passes := daemonRun(t, time.Second, "chunk", chunkURL, "--proxy", proxy); passes != 1 {
		t.Errorf("without a pause, %d passes in a second", passes)
	}
}

// An object of an account that does not exist is a finding, not an item
// that could not be checked: the directory answered.
func TestCheckObjectOfMissingAccount(t *testing.T) {
	proxy := startNamespace(t)
	out, code := run(t, "", "check", "object", "nosuch/ctr/obj", "--proxy", proxy)
	if code != ExitFail || !strings.Contains(out, "Missing from account listing") ||
		strings.Contains(out, "not checked") {
		t.Errorf("exit %d, want %d with the container missing from its listing:\n%s", code, ExitFail, out)
	}
}

// TestCheckRefusesOneFileForBothOutputs: -o and --output-for-chunk-rebuild
// naming one file, however it is spelt, is a usage error found before any
// check, and the file is neither created nor written to.
func TestCheckRefusesOneFileForBothOutputs(t *testing.T) {
	proxy := startNamespace(t)
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	kept := filepath.Join(dir, "kept.txt")
	if err := os.WriteFile(kept, []byte("kept\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(kept, filepath.Join(dir, "hard.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("same.txt", filepath.Join(dir, "dangling")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ output, rebuild string }{
		{"same.txt", "same.txt"},
		{"same.txt", "dangling"},
		{filepath.Join(dir, "link", "dangling"), "same.txt"},
		{"same.txt", "./same.txt"},
		{filepath.Join(dir, "same.txt"), filepath.Join(dir, "sub", "..", "same.txt")},
		{filepath.Join(dir, "same.txt"), filepath.Join(dir, "link", "same.txt")},
		{kept, filepath.Join(dir, "link", "kept.txt")},
		{kept, filepath.Join(dir, "hard.txt")},
	} {
		got, code := runOn(t, proxy, "", "check", "--all", "-o", tc.output,
			"--output-for-chunk-rebuild", tc.rebuild)
		if code != ExitUsage || !strings.Contains(got, "name the same file") ||
			strings.Contains(got, "TYPE") {
			t.Errorf("-o %s --output-for-chunk-rebuild %s: exit %d, want %d:\n%s",
				tc.output, tc.rebuild, code, ExitUsage, got)
		}
	}
	for _, name := range []string{"same.txt", filepath.Join(dir, "same.txt")} {
		if _, err := os.Stat(name); !os.IsNotExist(err) {
			t.Errorf("%s was created", name)
			os.Remove(name)
		}
	}
	if b, _ := os.ReadFile(kept); string(b) != "kept\n" {
		t.Errorf("an existing output was written to: %q", b)
	}
	// Two files of one name in two directories are two files.
	other := filepath.Join(dir, "sub", "same.txt")
	got, code := runOn(t, proxy, "", "check", "--all", "-o", filepath.Join(dir, "same.txt"),
		"--output-for-chunk-rebuild", other)
	if code != ExitOK {
		t.Errorf("two outputs of one name in two directories: exit %d:\n%s", code, got)
	}
	// A device takes both, as when a script wants neither file.
	got, code = runOn(t, proxy, "", "check", "--all", "-o", os.DevNull, "--output-for-chunk-rebuild", os.DevNull)
	if code != ExitOK {
		t.Errorf("both outputs to %s: exit %d:\n%s", os.DevNull, code, got)
	}
}
