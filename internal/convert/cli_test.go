package convert_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/cli"
	"github.com/gridkeep/gridkeep/internal/convert"
	"github.com/gridkeep/gridkeep/internal/convert/converttest"
	"github.com/gridkeep/gridkeep/internal/meta"
)

// TestCommandLineUsage: bad arguments exit with code 2 and change nothing.
func TestCommandLineUsage(t *testing.T) {
	e := newEnv(t)
	o := e.put("usage", "obj", testChunkSize)
	must(t, converttest.ToEra(o.paths[0], o.ids[0], converttest.EraGrid, o.owner))
	before, err := converttest.Snapshot(e.vol, true)
	must(t, err)
	sc := &scenario{env: e}
	notVolume := t.TempDir()
	unknownVolume := filepath.Join(t.TempDir(), "vol")
	vol, err := chunk.ReadVolume(e.vol)
	must(t, err)
	must(t, converttest.NewVolume(unknownVolume, vol.Namespace, "rawx-unknown"))
	otherNamespace := filepath.Join(t.TempDir(), "vol")
	must(t, converttest.NewVolume(otherNamespace, "OTHER", e.volID))
	noParent := filepath.Join(t.TempDir(), "typo", "backups")
	backupFile := filepath.Join(t.TempDir(), "file")
	must(t, os.WriteFile(backupFile, nil, 0o644))
	for _, args := range [][]string{
		{},
		{"--volume", notVolume},
		{"--volume", unknownVolume},
		{"--volume", otherNamespace},
		{"--volume", e.vol, "--proxy", "http://127.0.0.1:1"},
		{"--volume", e.vol, "--backup-dir", backupFile},
		{"--volume", e.vol, "--backup-dir", backupFile, "--dry-run"},
		{"--volume", e.vol, "--backup-dir", filepath.Join(e.vol, "backups"), "--dry-run"},
		{"--volume", e.vol, "--backup-dir", filepath.Join(e.vol, "backups")},
		{"--volume", e.vol, "--chunks-per-second", "-1"},
		{"--volume", e.vol, "--concurrency", "0"},
		{"--volume", e.vol, "--concurrency", "1000000"},
		{"--volume", e.vol, "--input-file", filepath.Join(notVolume, "missing")},
		{"--volume", e.vol, "--input-file", notVolume},
		{"--volume", e.vol, "--backup-dir", noParent},
		{"--volume", e.vol, "--backup-dir", noParent, "--dry-run"},
		{"--volume", e.vol, "--no-such-flag"},
	} {
		code, _ := sc.cli(t, append([]string{"convert", "--proxy", e.ns.ProxyURL}, args...)...)
		if code != cli.ExitUsage {
			t.Errorf("convert %v: exit %d, want %d", args, code, cli.ExitUsage)
		}
	}
	after, err := converttest.Snapshot(e.vol, true)
	must(t, err)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("the volume changed:\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(e.vol, "backups")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a backup directory was made inside the volume: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(noParent)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the missing parent of a backup directory was made: %v", err)
	}
}

// TestCommandLineInputFile: --input-file lists chunks relative to the
// volume, skipping blank and # lines, each visited once however many
// times it is listed; names that are not chunk ids and paths outside the
// volume are reported, and the exit code says some chunks were left.
func TestCommandLineInputFile(t *testing.T) {
	e := newEnv(t)
	o := e.put("input", "obj", 3*testChunkSize)
	for i, p := range o.paths[:2] {
		must(t, converttest.ToEra(p, o.ids[i], converttest.EraHashed, o.owner))
	}
	rel0, _ := filepath.Rel(e.vol, o.paths[0])
	list := strings.Join([]string{"# chunks to convert", "", rel0, "  " + o.paths[1] + "  ",
		"not-a-chunk", "../outside/" + o.ids[2], "./" + rel0, o.paths[1], rel0}, "\n")
	input := filepath.Join(t.TempDir(), "list")
	must(t, os.WriteFile(input, []byte(list), 0o644))
	sc := &scenario{env: e}
	args := []string{"convert", "--volume", e.vol, "--proxy", e.ns.ProxyURL, "--input-file", input,
		"--json", "--chunks-per-second", "0", "--backup-dir", t.TempDir()}
	outcomes := func(out string) []string {
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var r struct {
				Type    string `json:"type"`
				Outcome string `json:"outcome"`
				Path    string `json:"path"`
			}
			must(t, json.Unmarshal([]byte(line), &r))
			if r.Type == "chunk" {
				got = append(got, r.Outcome+" "+filepath.Base(r.Path))
			}
		}
		// Chunks are converted concurrently: lines come in any order.
		slices.Sort(got)
		return got
	}

	// A dry run lists the chunks it would convert as such.
	_, out := sc.cli(t, append(args, "--dry-run")...)
	if got := outcomes(out); !slices.Contains(got, "would-convert "+o.ids[0]) ||
		slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "converted ") }) {
		t.Errorf("dry run chunk lines: %q", got)
	}
	if s := lastSummary(t, out); s.Converted != 0 || !strings.Contains(out, `"would_convert":2`) {
		t.Errorf("dry run summary: %+v\n%s", s, out)
	}

	code, out := sc.cli(t, args...)
	if code != cli.ExitUnconverted {
		t.Errorf("exit %d, want %d", code, cli.ExitUnconverted)
	}
	want := []string{"failed " + o.ids[2], "not-a-chunk not-a-chunk"}
	if diff := cmp.Diff(want, outcomes(out)); diff != "" {
		t.Errorf("chunk lines (-want +got):\n%s", diff)
	}
	if s := lastSummary(t, out); s.Chunks != 3 || s.Converted != 2 || s.Failed != 1 || s.NotChunks != 1 {
		t.Errorf("summary %+v, want 3 chunks: 2 converted, 1 failed", s)
	}
	wantOwners(t, o.paths[0], map[string]converttest.Owner{o.ids[0]: o.owner})
	wantOwners(t, o.paths[1], map[string]converttest.Owner{o.ids[1]: o.owner})
}

// TestCommandLineInputFromStdin: --input-file - reads the list from
// standard input.
func TestCommandLineInputFromStdin(t *testing.T) {
	e := newEnv(t)
	o := e.put("stdin", "obj", 2*testChunkSize)
	for i, p := range o.paths {
		must(t, converttest.ToEra(p, o.ids[i], converttest.EraGrid, o.owner))
	}
	list := strings.NewReader("# from a pipe\n" + strings.Join(o.paths, "\n") + "\n")
	p := startCLIInput(t, list, "convert", "--volume", e.vol, "--proxy", e.ns.ProxyURL,
		"--input-file", "-", "--json", "--chunks-per-second", "0", "--backup-dir", t.TempDir())
	code, out := p.wait(t, time.Minute)
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%s%s", code, out, strings.Join(p.stderr, "\n"))
	}
	if s := lastSummary(t, out); s.Converted != int64(len(o.paths)) || s.Chunks != s.Converted {
		t.Errorf("summary %+v, want the %d chunks listed converted", s, len(o.paths))
	}
	for i, p := range o.paths {
		wantOwners(t, p, map[string]converttest.Owner{o.ids[i]: o.owner})
	}
}

// TestCommandLineLowercaseChunk: a walk of the volume reports a chunk file
// named by its id in lowercase, where its chunk server never looks, as not
// a chunk, saying why; the summary counts it and the exit code says that
// not every chunk is current.
func TestCommandLineLowercaseChunk(t *testing.T) {
	e := newEnv(t)
	o := e.put("lowercase", "obj", testChunkSize)
	lower := filepath.Join(filepath.Dir(o.paths[0]), strings.ToLower(o.ids[0]))
	must(t, os.Rename(o.paths[0], lower))
	sc := &scenario{env: e}
	code, out := sc.cli(t, "convert", "--volume", e.vol, "--proxy", e.ns.ProxyURL,
		"--chunks-per-second", "0", "--backup-dir", t.TempDir())
	if code != cli.ExitUnconverted {
		t.Errorf("exit %d, want %d", code, cli.ExitUnconverted)
	}
	for _, want := range []string{"not-a-chunk " + lower + ": not a chunk: the name is not in uppercase",
		"looks for this one as " + o.ids[0], "0 chunks,", "1 not chunks"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the output:\n%s", want, out)
		}
	}
}

// TestCommandLineVolumeOfAddress: a volume whose id is the address of its
// chunk server is known to a directory that lists that server, without a
// service id, by its address alone, as OpenIO's does; not to one that lists
// it with another id.
func TestCommandLineVolumeOfAddress(t *testing.T) {
	e := newEnv(t)
	vol, err := chunk.ReadVolume(e.vol)
	must(t, err)
	byAddr := filepath.Join(t.TempDir(), "vol")
	must(t, converttest.NewVolume(byAddr, vol.Namespace, e.ns.Rawx[0].Addr))
	for _, tc := range []struct {
		name  string
		proxy string
		want  int
	}{
		{"listed by its address", idlessFront(t, e), 0},
		{"listed with a service id", e.ns.ProxyURL, cli.ExitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := cliRun(t, "convert", "--volume", byAddr, "--proxy", tc.proxy, "--json",
				"--backup-dir", t.TempDir())
			if code != tc.want {
				t.Errorf("exit %d, want %d:\n%s%s", code, tc.want, out, stderr)
			}
		})
	}
}

// idlessFront serves the directory of e through a proxy on loopback, and
// returns its URL. It lists the services the way OpenIO's lists a chunk
// server configured without a service id: its address and tags, no id.
func idlessFront(t *testing.T, e *env) string {
	return editingFront(t, e, "/conscience/list", func(body any) {
		for _, s := range body.([]any) {
			s := s.(map[string]any)
			delete(s, "id")
			if tags, ok := s["tags"].(map[string]any); ok {
				delete(tags, "tag.service_id")
			}
		}
	})
}

// editingFront serves the directory of e through a proxy on loopback, and
// returns its URL. The JSON body of every successful reply to a route
// ending in route goes through edit.
func editingFront(t *testing.T, e *env, route string, edit func(body any)) string {
	t.Helper()
	target, err := url.Parse(e.ns.ProxyURL)
	must(t, err)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = func(r *http.Response) error {
		if !strings.HasSuffix(r.Request.URL.Path, route) || r.StatusCode != http.StatusOK {
			return nil
		}
		var body any
		err := json.NewDecoder(r.Body).Decode(&body)
		r.Body.Close()
		if err != nil {
			return err
		}
		edit(body)
		b, err := json.Marshal(body)
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		r.Header.Set("Content-Length", strconv.Itoa(len(b)))
		return err
	}
	front := httptest.NewServer(rp)
	t.Cleanup(front.Close)
	return front.URL
}

// TestCommandLineRdirOfServiceID: a reverse index that the directory names
// by its service id, as OpenIO's may, is resolved to its address through
// the directory and used; one the directory cannot resolve is a bad
// argument, and nothing changes.
func TestCommandLineRdirOfServiceID(t *testing.T) {
	e := newEnv(t)
	const rdirID = "OPENIO-rdir-1"
	must(t, e.dir.Register(e.ctx, meta.Service{Type: "rdir", ID: rdirID,
		Addr: strings.TrimPrefix(e.ns.RdirURL, "http://")}))
	o := e.put("rdir-id", "obj", testChunkSize)
	must(t, chunk.RemoveAttr(o.paths[0], chunk.AttrFullpathPrefix+o.ids[0]))
	input := filepath.Join(t.TempDir(), "list")
	must(t, os.WriteFile(input, []byte(o.paths[0]), 0o644))
	for _, tc := range []struct {
		id   string
		want int
	}{
		{"OPENIO-rdir-9", cli.ExitUsage},
		{rdirID, 0},
	} {
		t.Run(tc.id, func(t *testing.T) {
			front := editingFront(t, e, "/reference/show", func(body any) {
				for _, s := range body.(map[string]any)["srv"].([]any) {
					s.(map[string]any)["host"] = tc.id
				}
			})
			before := mustStat(t, o.paths[0])
			code, out, stderr := cliRun(t, "convert", "--volume", e.vol, "--proxy", front, "--json",
				"--input-file", input, "--backup-dir", t.TempDir())
			if code != tc.want {
				t.Fatalf("exit %d, want %d:\n%s%s", code, tc.want, out, stderr)
			}
			if code != 0 {
				if diff := cmp.Diff(before, mustStat(t, o.paths[0])); diff != "" {
					t.Errorf("changed:\n%s", diff)
				}
				return
			}
			if s := lastSummary(t, out); s.Converted != 1 || s.Recovered != 1 {
				t.Errorf("summary %+v", s)
			}
			wantOwners(t, o.paths[0], map[string]converttest.Owner{o.ids[0]: o.owner})
		})
	}
}

// TestReportLine: the report line has the fields of OpenIO's converter.
func TestReportLine(t *testing.T) {
	start := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	r := convert.Report{Volume: "rawx-1", Started: start, Passes: 120, Errors: 3, Chunks: 400,
		Rate: 12.5, TotalTime: 32 * time.Second}
	want := "RUN  rawx-1 started=2024-05-06T07:08:09Z passes=120 errors=3 chunks=400 12.50/s " +
		"total_time=32.00 (converter: 99.25%)"
	if got := r.Line(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	r.Final = true
	if got := r.Line(); !strings.HasPrefix(got, "DONE rawx-1 ") {
		t.Errorf("final report %q", got)
	}
}

// TestCommandLineBadControlFile: a control file that is missing, that
// does not parse, or that sets bytes per second (convert is paced in chunks
// alone) is a bad argument: exit 2, saying why, and nothing changes.
func TestCommandLineBadControlFile(t *testing.T) {
	e := newEnv(t)
	o := e.put("control", "obj", testChunkSize)
	must(t, converttest.ToEra(o.paths[0], o.ids[0], converttest.EraGrid, o.owner))
	before, err := converttest.Snapshot(e.vol, true)
	must(t, err)
	dir := t.TempDir()
	backups := t.TempDir()
	for _, tc := range []struct {
		name, content, want string
	}{
		{"missing", "", "no such file"},
		{"unknown key", "speed 3\n", `unknown key "speed"`},
		{"not a rate", "chunks-per-second -1\n", "is not a rate"},
		{"bytes", "chunks-per-second 10\nbytes-per-second 1000\n", "bytes-per-second"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, tc.name)
			if tc.content != "" {
				must(t, os.WriteFile(file, []byte(tc.content), 0o644))
			}
			code, _, stderr := cliRun(t, "convert", "--volume", e.vol, "--proxy", e.ns.ProxyURL,
				"--backup-dir", backups, "--control-file", file)
			if code != cli.ExitUsage || !strings.Contains(stderr, "--control-file") ||
				!strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d and a message naming --control-file and %q:\n%s", code,
					cli.ExitUsage, tc.want, stderr)
			}
		})
	}
	after, err := converttest.Snapshot(e.vol, true)
	must(t, err)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("the volume changed:\n%s", diff)
	}
	if n := countFiles(t, backups); n != 0 {
		t.Errorf("%d backups written", n)
	}
}

// TestCommandLinePaceChanges runs a conversion paced far too slowly to
// finish before a generous deadline, and changes its pace while it runs:
// the control file is read again when it changes, SIGUSR1 logs a RUN line,
// and SIGHUP reads the file again even when it seems unchanged; the run
// raised to no limit then converts every chunk before the deadline.
func TestCommandLinePaceChanges(t *testing.T) {
	const legacy = 40 // chunks: 80 s at the slow pace
	e := newEnv(t)
	current := e.putCurrent("cli-paced", 1)
	paths := append([]string(nil), current...)
	for i := 0; len(paths) < 1+legacy; i++ {
		o := e.put("cli-paced", "legacy"+strconv.Itoa(i), 4*testChunkSize)
		for j, p := range o.paths {
			must(t, converttest.ToEra(p, o.ids[j], converttest.EraGrid, o.owner))
		}
		paths = append(paths, o.paths...)
	}
	dir := t.TempDir()
	input := filepath.Join(dir, "input")
	must(t, os.WriteFile(input, []byte(strings.Join(paths, "\n")), 0o644))
	control := filepath.Join(dir, "control")
	old := time.Now().Add(-time.Hour)
	writeControl := func(content string, mtime time.Time) {
		must(t, os.WriteFile(control, []byte(content), 0o644))
		must(t, os.Chtimes(control, mtime, mtime))
	}
	writeControl("chunks-per-second 1\n", old)

	p := startCLI(t, "convert", "--volume", e.vol, "--proxy", e.ns.ProxyURL, "--input-file", input,
		"--json", "--report-interval", "0", "--backup-dir", t.TempDir(), "--chunks-per-second", "30",
		"--control-file", control)
	// Once the command says it is converting, it has read the file and
	// handles its signals; then a change of the file is seen within 2 s.
	p.waitLine(t, "msg=converting", 15*time.Second, nil)
	writeControl("chunks-per-second 0.5\n", old.Add(time.Minute))
	p.waitLine(t, "pace now 0.5 chunks/s", 15*time.Second, nil)
	// Without periodic reports, a RUN line can only be the answer to SIGUSR1.
	p.waitLine(t, "RUN ", 15*time.Second, func() { must(t, p.cmd.Process.Signal(syscall.SIGUSR1)) })
	// The same modification time and size: only SIGHUP makes the file read
	// again.
	writeControl("chunks-per-second 0.0\n", old.Add(time.Minute))
	must(t, p.cmd.Process.Signal(syscall.SIGHUP))
	code, out := p.wait(t, 30*time.Second)
	if code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
	if s := lastSummary(t, out); s.Converted != legacy || s.Current != 1 || s.Errors() != 0 {
		t.Errorf("summary %+v, want %d converted and 1 current", s, legacy)
	}
}

// cliProcess is the gridkeep command line running as a process, with its
// standard error read line by line.
type cliProcess struct {
	cmd    *exec.Cmd
	out    bytes.Buffer
	lines  chan string // standard error, closed at its end
	stderr []string    // the lines read so far
}

// startCLI starts the gridkeep command line as a process, killed at the
// end of the test if it is still running.
func startCLI(t *testing.T, args ...string) *cliProcess {
	t.Helper()
	return startCLIInput(t, nil, args...)
}

// startCLIInput is startCLI with stdin, if not nil, as standard input.
func startCLIInput(t *testing.T, stdin io.Reader, args ...string) *cliProcess {
	t.Helper()
	p := &cliProcess{cmd: exec.Command(os.Args[0], args...), lines: make(chan string, 1024)}
	p.cmd.Env = append(os.Environ(), cliEnv+"=1")
	p.cmd.Stdin, p.cmd.Stdout = stdin, &p.out
	stderr, err := p.cmd.StderrPipe()
	must(t, err)
	must(t, p.cmd.Start())
	t.Cleanup(func() { p.cmd.Process.Kill() })
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	return p
}

// waitLine waits for a line of standard error holding want, calling poke
// (if set) every 200 ms meanwhile, and fails the test after timeout.
func (p *cliProcess) waitLine(t *testing.T, want string, timeout time.Duration, poke func()) {
	t.Helper()
	deadline := time.After(timeout)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("the command ended without writing %q:\n%s", want,
					strings.Join(p.stderr, "\n"))
			}
			p.stderr = append(p.stderr, line)
			if strings.Contains(line, want) {
				return
			}
		case <-tick.C:
			if poke != nil {
				poke()
			}
		case <-deadline:
			t.Fatalf("no %q after %s:\n%s", want, timeout, strings.Join(p.stderr, "\n"))
		}
	}
}

// wait waits for the command to end, at most timeout, and returns its exit
// code and standard output.
func (p *cliProcess) wait(t *testing.T, timeout time.Duration) (int, string) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-p.lines:
			if ok {
				p.stderr = append(p.stderr, line)
				continue
			}
			p.cmd.Wait()
			t.Logf("log: %s", lastLines(strings.Join(p.stderr, "\n"), 4))
			return p.cmd.ProcessState.ExitCode(), p.out.String()
		case <-deadline:
			t.Fatalf("still running after %s:\n%s", timeout, strings.Join(p.stderr, "\n"))
		}
	}
}

// cliRun runs the gridkeep command line as a process and returns its exit
// code, standard output and standard error.
func cliRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	p := startCLI(t, args...)
	code, out := p.wait(t, time.Minute)
	return code, out, strings.Join(p.stderr, "\n")
}
