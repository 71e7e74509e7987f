package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/loadgen"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/namespace"
)

// run executes a gridkeep command line and returns its output and exit
// code.
func run(t *testing.T, stdin string, args ...string) (string, int) {
	t.Helper()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetIn(strings.NewReader(stdin))
	err := root.ExecuteContext(context.Background())
	printError(&out, err)
	return out.String(), exitCode(err)
}

func startNamespace(t *testing.T) string {
	t.Helper()
	return startNamespaceIn(t, t.TempDir())
}

// startNamespaceIn starts a namespace on free ports with its data in dir
// and returns its directory URL.
func startNamespaceIn(t *testing.T, dir string) string {
	t.Helper()
	ns, err := namespace.Start(context.Background(), namespace.Options{Data: dir,
		PortBase: -1, ChunkSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	return ns.ProxyURL
}

func TestObjectCommands(t *testing.T) {
	proxy := startNamespace(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	data := bytes.Repeat([]byte("gridkeep "), 300_000) // 2.7 MB: three metachunks
	os.WriteFile(src, data, 0o644)

	mustRun := func(args ...string) string {
		t.Helper()
		out, code := run(t, "", append(args, "--proxy", proxy)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, out)
		}
		return out
	}
	mustRun("container", "create", "acct/ctr", "--property", "team=storage", "--replication", "on")
	if out := mustRun("put", "--policy", "TWOCOPIES", "acct/ctr/a/b c", src); !strings.Contains(out,
		"3 metachunks in 6 chunk files") {
		t.Errorf("put summary:\n%s", out)
	}
	dst := filepath.Join(dir, "dst")
	mustRun("get", "acct/ctr/a/b c", "-o", dst)
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
		t.Fatal("get returned other bytes")
	}
	if out := mustRun("ls", "acct/ctr/a/"); !strings.Contains(out, "a/b c") {
		t.Errorf("ls misses the object:\n%s", out)
	}
	if out := mustRun("ls", "acct"); !strings.Contains(out, "ctr") {
		t.Errorf("ls of the account misses the container:\n%s", out)
	}
	if out := mustRun("locate", "acct/ctr/a/b c"); strings.Count(out, "\n") != 1+3*2 {
		t.Errorf("locate should list 3 metachunks of 2 copies:\n%s", out)
	}
	out := mustRun("container", "show", "acct/ctr", "--json")
	if !strings.Contains(out, `"replication_enabled":true`) ||
		!strings.Contains(out, `"team":"storage"`) {
		t.Errorf("container show:\n%s", out)
	}
	// Creating it again changes nothing, and fails when asked for settings
	// (a script must not take them as made).
	out, code := run(t, "", "container", "create", "acct/ctr", "--policy", "THREECOPIES", "--replication", "off",
		"--proxy", proxy)
	if code != ExitFail || !strings.Contains(out, "already exists, and the settings given were not applied") {
		t.Errorf("container create of an existing one with settings: exit %d:\n%s", code, out)
	}
	if out := mustRun("container", "create", "acct/ctr"); !strings.Contains(out, "already exists") {
		t.Errorf("container create of an existing one:\n%s", out)
	}
	out = mustRun("container", "show", "acct/ctr", "--json")
	if !strings.Contains(out, `"replication_enabled":true`) || strings.Contains(out, "THREECOPIES") {
		t.Errorf("container create changed an existing container:\n%s", out)
	}
	// A version count is stored in its plain decimal form.
	mustRun("container", "create", "acct/seven", "--versioning", "007")
	if out := mustRun("container", "show", "acct/seven", "--json"); !strings.Contains(out, `"7"`) ||
		strings.Contains(out, `"007"`) {
		t.Errorf("container create --versioning 007:\n%s", out)
	}
	// A property is removed with --unset, not with an empty value.
	mustRun("container", "set", "acct/ctr", "--property", "gone=soon")
	mustRun("container", "set", "acct/ctr", "--unset", "gone")
	if out := mustRun("container", "show", "acct/ctr", "--json"); strings.Contains(out, "gone") ||
		!strings.Contains(out, `"team":"storage"`) {
		t.Errorf("container set --unset:\n%s", out)
	}
	if out, code := run(t, "", "container", "set", "acct/ctr", "--unset", "k", "--property", "k=v",
		"--proxy", proxy); code != ExitUsage {
		t.Errorf("--unset and --property of one key: exit %d: %s", code, out)
	}
	if out := mustRun("stat", "acct/ctr/a/b c"); !strings.Contains(out, "2700000") {
		t.Errorf("stat:\n%s", out)
	}
	mustRun("rm", "acct/ctr/a/b c")
	gone := filepath.Join(dir, "gone")
	if out, code := run(t, "", "get", "acct/ctr/a/b c", "-o", gone, "--proxy", proxy); code != ExitFail {
		t.Errorf("get of a deleted object: exit %d: %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "gone")); !os.IsNotExist(err) {
		t.Error("a failed get left its output file")
	}

	mustRun("put", "acct/ctr/last", src)
	if out, code := run(t, "", "container", "delete", "acct/ctr", "--proxy", proxy); code != ExitFail ||
		!strings.Contains(out, "not empty") {
		t.Errorf("container delete of a container with an object: exit %d: %s", code, out)
	}
	mustRun("rm", "acct/ctr/last")
	mustRun("container", "delete", "acct/ctr")
	if out, code := run(t, "", "container", "show", "acct/ctr", "--proxy", proxy); code != ExitFail {
		t.Errorf("container show after delete: exit %d: %s", code, out)
	}
	if out, code := run(t, "", "container", "delete", "acct/ctr", "--proxy", proxy); code != ExitFail ||
		!strings.Contains(out, "no such container") || strings.Contains(out, "create it") {
		t.Errorf("container delete of a missing container: exit %d: %s", code, out)
	}
}

func TestBadInputExitsTwoAndChangesNothing(t *testing.T) {
	proxy := startNamespace(t)
	src := filepath.Join(t.TempDir(), "f")
	os.WriteFile(src, []byte("x"), 0o644)
	for _, args := range [][]string{
		{"put", "acct/ctr", src},
		{"put", "acct/ctr/obj", "/nonexistent/file"},
		{"put", "acct/ctr/obj"},
		{"get", "/ctr/obj"},
		{"container", "create", "acct/ctr", "--replication", "maybe"},
		{"container", "set", "acct/ctr"},
		{"container", "create", "acct/ctr", "--property", "novalue"},
		{"container", "create", "acct/ctr", "--property", "sys.m2.policy.version=-1"},
		{"container", "create", "acct/ctr/extra"},
		{"container", "set", "acct/ctr/extra", "--property", "a=b"},
		{"container", "show", "acct/ctr/extra"},
		{"nosuchcommand"},
		{"bench", "put", "--account", "a/b"},
		{"bench", "get", "--container", "c/d"},
		{"bench", "put", "--warmup", "-1s"},
		{"ls", "acct", "--nosuchflag"},
	} {
		out, code := run(t, "", append(args, "--proxy", proxy)...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d, want %d: %s", args, code, ExitUsage, out)
		}
	}
	if out, _ := run(t, "", "ls", "acct", "--proxy", proxy); strings.Contains(out, "ctr") {
		t.Errorf("bad commands created something:\n%s", out)
	}
	// A misspelt command gets cobra's suggestion, on the error's one line.
	for args, want := range map[string]string{"containr show acct/ctr": "(did you mean container?)",
		"container delet acct/ctr": "(did you mean delete?)"} {
		out, code := run(t, "", strings.Fields(args)...)
		if code != ExitUsage || !strings.Contains(out, want) || strings.Count(out, "\n") > 1 ||
			strings.Contains(out, `\n`) {
			t.Errorf("%s: exit %d: %q, want %q on one line", args, code, out, want)
		}
	}
	// up refuses a --new-volume that names no chunk server, before making
	// anything.
	data := filepath.Join(t.TempDir(), "data")
	if out, code := run(t, "", "up", "--data", data, "--new-volume", "rawx-9"); code != ExitUsage ||
		!strings.Contains(out, "rawx-1 to rawx-3") {
		t.Errorf("up --new-volume rawx-9: exit %d: %s", code, out)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("a refused up made its data folder: %v", err)
	}
	// Command groups refuse a misspelt subcommand or none.
	for _, args := range [][]string{{"container", "nosuch", "acct/ctr"}, {"bench", "nosuch"}, {"chunk"}} {
		if out, code := run(t, "", args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d: %s", args, code, ExitUsage, out)
		}
	}
	for _, op := range []string{"put", "get"} {
		out, code := run(t, "", "bench", op, "--policy", "NOPE", "--container", "ctr", "--duration", "1s",
			"--warmup", "0s", "--proxy", proxy)
		if code != ExitUsage || !strings.Contains(out, "unknown storage policy") {
			t.Errorf("bench %s with an unknown policy: exit %d: %s", op, code, out)
		}
	}
	out, code := run(t, "", "put", "--policy", "NOPE", "acct/ctr/obj", src, "--proxy", proxy)
	if code != ExitUsage || !strings.Contains(out, "unknown storage policy") {
		t.Errorf("unknown policy: exit %d: %s", code, out)
	}
	if out, _ := run(t, "", "ls", "acct", "--proxy", proxy); strings.Contains(out, "ctr") {
		t.Errorf("a put with an unknown policy created its container:\n%s", out)
	}
}

func TestRawxRefusesBadSizes(t *testing.T) {
	vol := filepath.Join(t.TempDir(), "vol")
	for _, args := range [][]string{{"--meta-cache", "-1"}, {"--meta-cache", "67108864"},
		{"--meta-cache", "many"}, {"--max-chunk-size", "0"}, {"--max-chunk-size", "-5"},
		{"--hash-width", "0"}} {
		out, code := run(t, "", append([]string{"rawx", "--volume", vol, "--listen", "127.0.0.1:0"},
			args...)...)
		if code != ExitUsage || !strings.Contains(out, args[0][2:]) {
			t.Errorf("%s: exit %d: %s", args, code, out)
		}
	}
	if _, err := os.Stat(vol); !os.IsNotExist(err) {
		t.Errorf("a refused command created the volume: %v", err)
	}
}

// A layout of too many characters is refused with the rule it breaks.
func TestRawxSaysWhyLayoutIsBad(t *testing.T) {
	vol := filepath.Join(t.TempDir(), "vol")
	out, code := run(t, "", "rawx", "--volume", vol, "--listen", "127.0.0.1:0", "--hash-width", "10",
		"--hash-depth", "3")
	want := "--hash-width, --hash-depth: invalid chunk layout: width 10, depth 3: width times depth must " +
		"be under 24, the length of the shortest chunk id"
	if code != ExitUsage || !strings.Contains(out, want) {
		t.Errorf("rawx --hash-width 10 --hash-depth 3: exit %d: %s", code, out)
	}
	if _, err := os.Stat(vol); !os.IsNotExist(err) {
		t.Errorf("a refused command created the volume: %v", err)
	}
}

// A chunk server that cannot listen makes no volume directory.
func TestRawxRefusesBadListenBeforeVolume(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	vol := filepath.Join(t.TempDir(), "vol")
	for _, addr := range []string{"127.0.0.1:99999", busy.Addr().String(), "nowhere", "", ":", "127.0.0.1:",
		":6201"} {
		out, code := run(t, "", "rawx", "--volume", vol, "--listen", addr)
		if code != ExitUsage || !strings.Contains(out, "listen") {
			t.Errorf("--listen %s: exit %d: %s", addr, code, out)
		}
		if _, err := os.Stat(vol); !os.IsNotExist(err) {
			t.Fatalf("--listen %s: the refused command created the volume: %v", addr, err)
		}
	}
}

// runOn runs a client command against the directory at proxy, unless the
// command names its own.
func runOn(t *testing.T, proxy, stdin string, args ...string) (string, int) {
	t.Helper()
	for _, a := range args {
		if a == "--proxy" {
			return run(t, stdin, args...)
		}
	}
	return run(t, stdin, append(args, "--proxy", proxy)...)
}

// A bench run against a namespace that does not answer fails (exit 1);
// a bad configuration is a usage error (exit 2).
func TestBenchObjectExitCodes(t *testing.T) {
	down := "http://127.0.0.1:1" // nothing listens on port 1
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"bench", "get", "--duration", "100ms"}, ExitFail},
		{[]string{"bench", "put", "--duration", "100ms"}, ExitFail},
		{[]string{"bench", "get", "--concurrency", "0"}, ExitUsage},
		{[]string{"bench", "put", "--duration", "0s"}, ExitUsage},
	} {
		out, code := run(t, "", append(tc.args, "--proxy", down)...)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d: %s", tc.args, code, tc.code, out)
		}
	}
	// Nothing listening is told before any load, not after the run.
	start := time.Now()
	out, code := run(t, "", "bench", "put", "--duration", "1m", "--proxy", down)
	want := "bench put bench/bench: cannot reach the directory at " + down
	if code != ExitFail || !strings.Contains(out, want) || time.Since(start) > 30*time.Second {
		t.Errorf("bench put of a minute at a closed port: exit %d after %s, want 1 at once and %q: %s",
			code, time.Since(start).Round(time.Second), want, out)
	}
}

// TestOtherNamespace: client commands reach a namespace not named OPENIO
// with --ns or GRIDKEEP_NS, and say so when it is missing.
func TestOtherNamespace(t *testing.T) {
	ns, err := namespace.Start(context.Background(), namespace.Options{Data: t.TempDir(),
		PortBase: -1, Name: "TEST.vns"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })

	out, code := run(t, "hi\n", "put", "a/c/o", "-", "--proxy", ns.ProxyURL)
	if code != 2 || !strings.Contains(out, `serves "TEST.vns"`) || !strings.Contains(out, "--ns") {
		t.Errorf("put without --ns: exit %d: %s", code, out)
	}
	if out, code := run(t, "hi\n", "put", "a/c/o", "-", "--proxy", ns.ProxyURL, "--ns", "TEST.vns"); code != 0 {
		t.Fatalf("put --ns: exit %d: %s", code, out)
	}
	t.Setenv("GRIDKEEP_NS", "TEST.vns")
	if out, code := run(t, "", "get", "a/c/o", "--proxy", ns.ProxyURL); code != 0 || out != "hi\n" {
		t.Errorf("get with GRIDKEEP_NS: exit %d: %q", code, out)
	}
	if out, code := run(t, "", "check", "object", "a/c/o", "--proxy", ns.ProxyURL); code != 0 {
		t.Errorf("check with GRIDKEEP_NS: exit %d: %s", code, out)
	}
	empty := filepath.Join(t.TempDir(), "entries")
	os.WriteFile(empty, nil, 0o644)
	for _, args := range [][]string{{"rebuild", "--input-file", empty}, {"check", "--all"}} {
		out, code := run(t, "", append(args, "--proxy", ns.ProxyURL, "--ns", "OTHER")...)
		if code != 2 || !strings.Contains(out, "directory refused") ||
			!strings.Contains(out, `serves "TEST.vns"`) {
			t.Errorf("%v --ns OTHER: exit %d: %s", args, code, out)
		}
	}
	// Account routes carry no namespace: listing an account's containers
	// checks it all the same, as listing a container's objects does.
	for _, target := range []string{"a", "a/c"} {
		out, code := run(t, "", "ls", target, "--proxy", ns.ProxyURL, "--ns", "OTHER")
		want := "ls " + target + `: refused by the directory: invalid request: unknown namespace "OTHER", ` +
			`this directory serves "TEST.vns" (--ns or GRIDKEEP_NS names the namespace)`
		if code != 2 || !strings.Contains(out, want) {
			t.Errorf("ls %s --ns OTHER: exit %d, want 2 and %q: %s", target, code, want, out)
		}
	}
	out, code = run(t, "", "ls", "a/c", "--proxy", ns.ProxyURL, "--ns", "a/b")
	if code != 2 || !strings.Contains(out, "--ns: namespace name") {
		t.Errorf("ls --ns a/b: exit %d: %s", code, out)
	}
	// An empty --ns is refused by every command, an empty GRIDKEEP_NS
	// counts as unset, and a bad name is blamed on where it came from.
	for _, args := range [][]string{{"ls", "a/c"}, {"check", "--all"}, {"rebuild", "--input-file", empty}} {
		out, code := run(t, "", append(args, "--proxy", ns.ProxyURL, "--ns", "")...)
		if code != 2 || !strings.Contains(out, `gridkeep: --ns: namespace name ""`) {
			t.Errorf("%v --ns '': exit %d: %s", args, code, out)
		}
	}
	t.Setenv("GRIDKEEP_NS", "")
	out, code = run(t, "", "ls", "a/c", "--proxy", ns.ProxyURL)
	if code != 2 || !strings.Contains(out, `unknown namespace "`+meta.DefaultNamespace+`"`) {
		t.Errorf("ls with an empty GRIDKEEP_NS: exit %d, want the default namespace refused: %s", code, out)
	}
	t.Setenv("GRIDKEEP_NS", "a b")
	out, code = run(t, "", "check", "--all", "--proxy", ns.ProxyURL)
	if code != 2 || !strings.Contains(out, `gridkeep: GRIDKEEP_NS: namespace name "a b"`) {
		t.Errorf("check with GRIDKEEP_NS='a b': exit %d: %s", code, out)
	}
	dir := filepath.Join(t.TempDir(), "data")
	out, code = run(t, "", "up", "--ns", "..", "--data", dir, "--port-base", "0")
	if _, err := os.Stat(dir); code != 2 || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("up --ns 'bad name': exit %d, data dir: %v: %s", code, err, out)
	}
}

func TestUpRefusesBadFlags(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	for _, tc := range [][2]string{
		{"--rawx=0", "--rawx must be between 1 and 100, not 0"},
		{"--rawx=101", "--rawx must be between 1 and 100, not 101"},
		{"--port-base=-1", "--port-base must be between 0 and 65332"},
		{"--port-base=65333", "not 65333"},
		{"--chunk-size=-5", "--chunk-size must not be negative"},
		{"--chunk-size=1", "--chunk-size must be 0 (the default) or at least 65536"},
		{"--ns=", "--ns must name the namespace"},
	} {
		out, code := run(t, "", "up", "--data", dir, tc[0])
		if code != 2 || !strings.Contains(out, tc[1]) {
			t.Errorf("up %s: exit %d: %s, want %q", tc[0], code, out, tc[1])
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the data directory was made: %v", err)
	}
}

// TestUpHelpStatesPorts: the help of up, and of its --port-base, says which
// port each service gets, the chunk servers' included.
func TestUpHelpStatesPorts(t *testing.T) {
	out, code := run(t, "", "up", "--help")
	if code != ExitOK {
		t.Fatalf("up --help: exit %d: %s", code, out)
	}
	for _, want := range []string{`--proxy\) +P\n`, `reverse index +P\+1\n`, `event bus +P\+2\n`,
		`chunk server rawx-I, for I from 1 to N +P\+200\+I\n`, `P can be at most 65335-N`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("up --help does not match %q:\n%s", want, out)
		}
	}
	flag := newUpCommand().Flags().Lookup("port-base").Usage
	for _, want := range []string{"P+1", "P+2", "P+200+I"} {
		if !strings.Contains(flag, want) {
			t.Errorf("--port-base help %q does not say %s", flag, want)
		}
	}
}

// TestBenchRawxMessages: each bad flag is named, and a run whose requests
// all went out in the warmup says so.
func TestBenchRawxMessages(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	null := &loadgen.NullServer{Addr: ln.Addr().String()}
	hs := null.HTTPServer()
	var requests atomic.Int64
	h := hs.Handler
	hs.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		h.ServeHTTP(w, r)
	})
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	url := "http://" + ln.Addr().String()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--size", "0"}, ExitUsage, "--size must be positive, not 0"},
		{[]string{"--concurrency", "0"}, ExitUsage, "--concurrency must be positive, not 0"},
		{[]string{"--concurrency", "-2"}, ExitUsage, "--concurrency must be positive, not -2"},
		{[]string{"--duration", "0s"}, ExitUsage, "--duration must be positive, not 0s"},
		{[]string{"--max-requests", "-1"}, ExitUsage, "--max-requests must be positive, not -1"},
		{[]string{"--warmup", "-1s"}, ExitUsage, "--warmup must be 0 or more, not -1s"},
		{[]string{"--objects", "-1", "--op", "get"}, ExitUsage, "--objects must be 0 or more, not -1"},
		{[]string{"--server-pid", "-1"}, ExitUsage, "--server-pid must be 0 or more, not -1"},
		{[]string{"--max-error-rate", "NaN"}, ExitUsage, "--max-error-rate NaN is not a fraction"},
		{[]string{"--max-requests", "5", "--warmup", "1s", "--size", "1KiB"}, ExitFail,
			"no request was measured"},
		{[]string{"--url", "http://user:secret@" + ln.Addr().String()}, ExitUsage,
			`server URL "http://user:xxxxx@` + ln.Addr().String() + `": want no user or password`},
	} {
		before := requests.Load()
		out, code := run(t, "", append([]string{"bench", "rawx", "--url", url}, tc.args...)...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("bench rawx %q: exit %d: %s\nwant %d and %q", tc.args, code, out, tc.code, tc.want)
		}
		if n := requests.Load() - before; code == ExitUsage && n != 0 {
			t.Errorf("bench rawx %q: %d requests sent after a usage error", tc.args, n)
		}
	}
}

// TestRawxStopsDespiteStalledUpload: a stop requested while a client holds
// an upload open ends the server cleanly once the grace period is over.
func TestRawxStopsDespiteStalledUpload(t *testing.T) {
	defer func(g time.Duration) { shutdownGrace = g }(shutdownGrace)
	shutdownGrace = 200 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetArgs([]string{"rawx", "--volume", t.TempDir(), "--listen", addr, "--log-level", "warn"})
	root.SetOut(&out)
	root.SetErr(&out)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	var conn net.Conn
	for i := 0; ; i++ {
		if conn, err = net.Dial("tcp", addr); err == nil {
			break
		}
		if i == 100 {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer conn.Close()
	id := strings.Repeat("AB", 32)
	fmt.Fprintf(conn, "PUT /%s HTTP/1.1\r\nHost: %s\r\nContent-Length: 100000\r\n"+
		"X-oio-Chunk-Meta-Full-Path: a/c/o/1/AB\r\nX-oio-Chunk-Meta-Container-Id: %s\r\n"+
		"X-oio-Chunk-Meta-Content-Storage-Policy: SINGLE\r\n"+
		"X-oio-Chunk-Meta-Content-Chunk-Method: plain/nb_copy=1\r\n"+
		"X-oio-Chunk-Meta-Chunk-Pos: 0\r\n\r\nsome", id, addr, strings.Repeat("00", 32))
	time.Sleep(100 * time.Millisecond) // the upload is under way
	cancel()
	select {
	case err := <-done:
		if code := exitCode(err); code != ExitOK {
			t.Errorf("exit %d (%v): %s", code, err, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop")
	}
}
