package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/rawx"
)

// startBenchRawx starts a chunk server on a new volume, its requests
// passed through wrap when it is not nil, and returns its URL and volume.
func startBenchRawx(t *testing.T, wrap func(http.Handler) http.Handler) (string, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	vol := filepath.Join(t.TempDir(), "vol")
	if err := os.MkdirAll(vol, 0o755); err != nil {
		t.Fatal(err)
	}
	srv, err := rawx.New(rawx.Config{Volume: vol, Addr: ln.Addr().String(), Namespace: "OPENIO"})
	if err != nil {
		t.Fatal(err)
	}
	hs := srv.HTTPServer()
	if wrap != nil {
		hs.Handler = wrap(hs.Handler)
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return "http://" + ln.Addr().String(), vol
}

// chunksIn returns the number of chunk files in vol.
func chunksIn(t *testing.T, vol string) int {
	t.Helper()
	n := 0
	if err := chunk.WalkChunks(vol, func(string) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// runInterrupted executes a gridkeep command line with a context cancelled
// after delay (at once when 0), as an interrupt does, and returns its
// standard output, its standard error with the error printed as Main does,
// and its exit code.
func runInterrupted(t *testing.T, delay time.Duration, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if delay == 0 {
		cancel()
	} else {
		time.AfterFunc(delay, cancel)
	}
	root := newRootCommand()
	var stdout, stderr bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	err := root.ExecuteContext(ctx)
	printError(&stderr, err)
	return stdout.String(), stderr.String(), exitCode(err)
}

// benchJSON is the part of the JSON report of "bench rawx" the tests read.
type benchJSON struct {
	Objects         int   `json:"objects"`
	PoolInterrupted bool  `json:"pool_interrupted"`
	OK              int64 `json:"ok"`
	Errors          int64 `json:"errors"`
	Cut             int64 `json:"cut"`
	Removed         int64 `json:"chunks_removed"`
	NotRemoved      int64 `json:"chunks_not_removed"`
	MaybeLeft       int64 `json:"chunks_maybe_left"`
}

// TestBenchRawxInterrupted: an interrupt makes "bench rawx" print the report
// of the run so far (the JSON one on standard output with --json, also amid
// the upload of a read pool), delete its chunks, and exit 2 saying it was
// interrupted; interrupted before any request, it only says so.
func TestBenchRawxInterrupted(t *testing.T) {
	slowPuts := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut {
				time.Sleep(5 * time.Millisecond)
			}
			h.ServeHTTP(w, r)
		})
	}
	const amid = 300 * time.Millisecond
	for _, tc := range []struct {
		name   string
		wrap   func(http.Handler) http.Handler
		args   []string
		delay  time.Duration
		want   string
		report func(t *testing.T, stdout string)
	}{
		{"measure", nil, []string{"--json"}, amid,
			"gridkeep: bench: interrupted before the end of the measure\n", checkLoadJSON},
		{"measure text", nil, nil, amid,
			"gridkeep: bench: interrupted before the end of the measure\n", checkLoadText},
		{"read pool", slowPuts, []string{"--json", "--op", "get", "--objects", "100000"}, amid,
			"gridkeep: bench: interrupted while uploading the read pool, before any load\n", checkPoolJSON},
		{"before the run", nil, []string{"--json"}, 0, "gridkeep: bench: interrupted before any load\n",
			checkNoReport},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, vol := startBenchRawx(t, tc.wrap)
			args := append([]string{"bench", "rawx", "--url", url, "--duration", "1h", "--warmup", "0s",
				"--size", "4KiB", "--concurrency", "4"}, tc.args...)
			stdout, stderr, code := runInterrupted(t, tc.delay, args...)
			if code != ExitUsage || stderr != tc.want {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, ExitUsage, tc.want)
			}
			if left := chunksIn(t, vol); left != 0 {
				t.Errorf("%d chunks left", left)
			}
			tc.report(t, stdout)
		})
	}
}

// decodeReport decodes the JSON report of a run, and checks that its
// chunks were deleted.
func decodeReport(t *testing.T, stdout string) benchJSON {
	t.Helper()
	var got benchJSON
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("stdout is not one JSON report: %v: %q", err, stdout)
	}
	if got.NotRemoved != 0 || got.MaybeLeft != 0 || got.Removed == 0 {
		t.Errorf("report %+v: want chunks removed, none left", got)
	}
	return got
}

// checkLoadJSON checks the JSON report of a run interrupted amid its load.
func checkLoadJSON(t *testing.T, stdout string) {
	t.Helper()
	if got := decodeReport(t, stdout); got.PoolInterrupted || got.OK == 0 || got.Errors != 0 || got.Cut > 4 {
		t.Errorf("report %+v: want successes, no failure, at most a cut request per worker", got)
	}
}

// checkPoolJSON checks the JSON report of a run interrupted amid the
// upload of its read pool.
func checkPoolJSON(t *testing.T, stdout string) {
	t.Helper()
	if got := decodeReport(t, stdout); !got.PoolInterrupted || got.Objects == 0 || got.OK != 0 {
		t.Errorf("report %+v: want the read pool interrupted after some chunks, no load", got)
	}
}

// checkLoadText checks the text report of a run interrupted amid its load.
func checkLoadText(t *testing.T, stdout string) {
	t.Helper()
	if !strings.Contains(stdout, "requests  ") || !strings.Contains(stdout, "chunks    after the run, ") {
		t.Errorf("no text report: %q", stdout)
	}
}

// checkNoReport checks that a run interrupted before it sent anything has
// no report.
func checkNoReport(t *testing.T, stdout string) {
	t.Helper()
	if stdout != "" {
		t.Errorf("a report of a run that sent nothing: %q", stdout)
	}
}

// TestBenchObjectInterrupted: an interrupt makes "bench put" and "bench
// get" exit 2 saying so, as the other client commands do, after the report
// of what they measured until then (JSON here); one during the warm-up
// prints no report.
func TestBenchObjectInterrupted(t *testing.T) {
	proxy := startNamespace(t)
	for _, op := range []string{"put", "get"} {
		stdout, stderr, code := runInterrupted(t, time.Second, "bench", op, "--proxy", proxy,
			"--duration", "1h", "--warmup", "0s", "--concurrency", "2", "--size", "1KiB", "--json")
		if code != ExitUsage || !strings.Contains(stderr, "interrupted before the end of the measure") {
			t.Errorf("bench %s: exit %d, stderr %q; want %d, interrupted", op, code, stderr, ExitUsage)
		}
		var report struct {
			OK      int64   `json:"ok"`
			Seconds float64 `json:"seconds"`
		}
		if err := json.Unmarshal([]byte(stdout), &report); err != nil || report.OK == 0 ||
			report.Seconds <= 0 || report.Seconds > 10 {
			t.Errorf("bench %s: report of the interrupted run %q (%v): want ok > 0, about 1 s measured",
				op, stdout, err)
		}
	}
	stdout, stderr, code := runInterrupted(t, 300*time.Millisecond, "bench", "put", "--proxy", proxy,
		"--duration", "1h", "--warmup", "1h")
	if code != ExitUsage || stdout != "" || !strings.Contains(stderr, "interrupted") {
		t.Errorf("bench put interrupted in its warm-up: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestBenchRawxLeavingChunksFails: a run whose chunks the server does not
// let it delete exits 1 saying how many may be left, although every
// request of the measure succeeded.
func TestBenchRawxLeavingChunksFails(t *testing.T) {
	refuseDeletes := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodDelete {
				http.Error(w, "no", http.StatusInternalServerError)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	url, vol := startBenchRawx(t, refuseDeletes)
	out, code := run(t, "", "bench", "rawx", "--url", url, "--duration", "200ms", "--warmup", "0s",
		"--size", "4KiB", "--concurrency", "2")
	left := chunksIn(t, vol)
	m := regexp.MustCompile(`the run may have left (\d+) chunks`).FindStringSubmatch(out)
	if code != ExitFail || left == 0 || m == nil || atoi(m[1]) < left {
		t.Errorf("exit %d with %d chunks left: %s", code, left, out)
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
