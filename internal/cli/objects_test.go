package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestRmSaysWhatItDeleted(t *testing.T) {
	proxy := startNamespace(t)
	mustRun := func(stdin string, args ...string) string {
		t.Helper()
		out, code := runOn(t, proxy, stdin, args...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, out)
		}
		return out
	}
	mustRun("", "container", "create", "acct/vers", "--versioning", "-1")
	mustRun("one", "put", "acct/vers/o", "-")
	mustRun("two", "put", "acct/vers/o", "-")
	version := regexp.MustCompile(`version (\d+)`)

	out := mustRun("", "rm", "acct/vers/o")
	if !strings.HasPrefix(out, "created delete marker version ") {
		t.Errorf("rm of the latest in a versioned container:\n%s", out)
	}
	marker := version.FindStringSubmatch(out)[1]
	if out, code := runOn(t, proxy, "", "get", "acct/vers/o", "--version", marker); code != ExitFail ||
		!strings.Contains(out, "no version "+marker+" of this object, or that version is a delete marker") {
		t.Errorf("get --version of a delete marker: exit %d: %q, want it to say it may be a marker", code, out)
	}
	out = mustRun("", "rm", "acct/vers/o", "--version", marker)
	if want := "removed delete marker version " + marker + " of acct/vers/o\n"; out != want {
		t.Errorf("rm --version of a delete marker: %q, want %q", out, want)
	}
	if out, code := runOn(t, proxy, "", "get", "acct/vers/o"); code != 0 || out != "two" {
		t.Errorf("removing the marker should bring back the latest version: exit %d: %q", code, out)
	}
	if out, code := runOn(t, proxy, "", "rm", "acct/vers/o", "--version", marker); code != ExitFail ||
		!strings.Contains(out, "no version "+marker+" of this object (") {
		t.Errorf("rm --version of a version no longer there: exit %d: %q", code, out)
	}
	ls := mustRun("", "ls", "acct/vers", "--versions")
	m := regexp.MustCompile(`\n\S+\s+\d+\s+(\d+)`).FindAllStringSubmatch(ls, -1)
	if len(m) != 2 {
		t.Fatalf("want two versions left:\n%s", ls)
	}
	oldest := m[1][1]
	out = mustRun("", "rm", "acct/vers/o", "--version", oldest)
	if want := "deleted acct/vers/o version " + oldest + "\n"; out != want {
		t.Errorf("rm --version of a version: %q, want %q", out, want)
	}
}

// A named pipe is refused at once, not opened and waited on until
// something writes to it.
func TestPutRefusesNamedPipeAtOnce(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	type result struct {
		out  string
		code int
	}
	done := make(chan result, 1)
	go func() {
		// Nothing listens on port 1: the file is refused before any request.
		out, code := run(t, "", "put", "acct/ctr/obj", fifo, "--proxy", "http://127.0.0.1:1")
		done <- result{out, code}
	}()
	select {
	case r := <-done:
		if r.code != ExitUsage || !strings.Contains(r.out, "is not a regular file") {
			t.Errorf("put of a named pipe: exit %d: %s", r.code, r.out)
		}
	case <-time.After(10 * time.Second):
		// Release the blocked open, so that the test can end.
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		t.Fatal("put of a named pipe still waits after 10s")
	}
}

// cancelingWriter cancels a context at its first write, as Ctrl-C would in
// the middle of a get. It counts atomically: the get writes in the
// background and may still be writing when it returns.
type cancelingWriter struct {
	cancel context.CancelFunc
	n      atomic.Int64
}

func (w *cancelingWriter) Write(p []byte) (int, error) {
	w.cancel()
	w.n.Add(int64(len(p)))
	return len(p), nil
}

// An interrupted get says so, with exit 2, and leaves no -o file.
func TestInterruptedGet(t *testing.T) {
	proxy := startNamespace(t)
	data := strings.Repeat("gridkeep ", 300_000) // 2.7 MB: three metachunks
	runOn(t, proxy, data, "put", "acct/ctr/obj", "-")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &cancelingWriter{cancel: cancel}
	var stderr bytes.Buffer
	root := newRootCommand()
	root.SetArgs([]string{"get", "acct/ctr/obj", "--proxy", proxy})
	root.SetOut(out)
	root.SetErr(&stderr)
	err := root.ExecuteContext(ctx)
	printError(&stderr, err)
	want := "gridkeep: get acct/ctr/obj: interrupted: the get did not finish\n"
	if code := exitCode(err); code != ExitUsage || stderr.String() != want || out.n.Load() >= int64(len(data)) {
		t.Errorf("get interrupted after %d bytes: exit %d: %q, want %d and %q", out.n.Load(), code,
			stderr.String(), ExitUsage, want)
	}

	// Interrupted before any byte, with -o: no file.
	dst := filepath.Join(t.TempDir(), "dst")
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	root = newRootCommand()
	root.SetArgs([]string{"get", "acct/ctr/obj", "-o", dst, "--proxy", proxy})
	err = root.ExecuteContext(ctx)
	if code := exitCode(err); code != ExitUsage || !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("get -o interrupted: exit %d: %v", code, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(dst)); len(entries) != 0 {
		t.Errorf("an interrupted get -o left %v", entries)
	}
}

// get -o into a named pipe writes to its reader and leaves the pipe; into
// a symbolic link, it replaces the file the link leads to, not the link.
func TestGetIntoSpecialFiles(t *testing.T) {
	proxy := startNamespace(t)
	runOn(t, proxy, "pipe data", "put", "acct/ctr/obj", "-")
	dir := t.TempDir()

	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := runOn(t, proxy, "", "get", "acct/ctr/obj", "-o", fifo); code != ExitUsage ||
		!strings.Contains(out, "no process reads this named pipe") {
		t.Errorf("get -o into a pipe no one reads: exit %d: %s", code, out)
	}
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if out, code := runOn(t, proxy, "", "get", "acct/ctr/obj", "-o", fifo); code != 0 {
		t.Fatalf("get -o into a pipe: exit %d: %s", code, out)
	}
	buf := make([]byte, 100)
	n, _ := r.Read(buf)
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 || string(buf[:n]) != "pipe data" {
		t.Errorf("after get -o into a pipe: %v, %v; the reader got %q", st.Mode(), err, buf[:n])
	}

	// An anonymous pipe through /proc/self/fd, as /dev/stdout is when the
	// output goes to a pipe: the link reads "pipe:[N]", which names no
	// file, and is opened as it is.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	fdPath := fmt.Sprintf("/proc/self/fd/%d", pw.Fd())
	if out, code := runOn(t, proxy, "", "get", "acct/ctr/obj", "-o", fdPath); code != 0 {
		t.Fatalf("get -o %s, an anonymous pipe: exit %d: %s", fdPath, code, out)
	}
	pw.Close()
	if got, _ := io.ReadAll(pr); string(got) != "pipe data" {
		t.Errorf("the reader of the anonymous pipe got %q", got)
	}

	target, link := filepath.Join(dir, "target"), filepath.Join(dir, "link")
	if err := os.Symlink("target", link); err != nil {
		t.Fatal(err)
	}
	if out, code := runOn(t, proxy, "", "get", "acct/ctr/obj", "-o", link); code != 0 {
		t.Fatalf("get -o into a dangling link: exit %d: %s", code, out)
	}
	st, err := os.Lstat(link)
	if b, _ := os.ReadFile(target); err != nil || st.Mode()&os.ModeSymlink == 0 || string(b) != "pipe data" {
		t.Errorf("after get -o into a link: link %v, %v; target holds %q", st.Mode(), err, b)
	}
}

// TestInterruptedGetIntoStalledPipe: a get into a named pipe whose reader
// stopped reading ends on the first interrupt, as into standard output.
func TestInterruptedGetIntoStalledPipe(t *testing.T) {
	proxy := startNamespace(t)
	runOn(t, proxy, strings.Repeat("stalled ", 1<<17), "put", "acct/ctr/big", "-") // 1 MiB
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0) // a reader that never reads
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, interrupt := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, interrupt)
	root := newRootCommand()
	var out bytes.Buffer
	root.SetArgs([]string{"get", "acct/ctr/big", "-o", fifo, "--proxy", proxy})
	root.SetOut(&out)
	root.SetErr(&out)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	select {
	case err := <-done:
		if code := exitCode(err); code != ExitUsage || !strings.Contains(err.Error(), "interrupted") {
			t.Errorf("interrupted get into a stalled pipe: exit %d: %v", code, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a get into a stalled pipe did not end on the interrupt")
	}
}

// get -o over an existing file keeps its permissions, and removes the
// temporary files of killed gets of the same file, but not one a running
// get holds or one just made.
func TestGetReplacesFileAndStaleParts(t *testing.T) {
	proxy := startNamespace(t)
	runOn(t, proxy, "new content", "put", "acct/ctr/obj", "-")
	dir := t.TempDir()
	dst := filepath.Join(dir, "dst")
	if err := os.WriteFile(dst, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	part := func(suffix string, age time.Duration) string {
		p := filepath.Join(dir, ".dst"+partInfix+suffix)
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		then := time.Now().Add(-age)
		if err := os.Chtimes(p, then, then); err != nil {
			t.Fatal(err)
		}
		return p
	}
	killed, held, fresh := part("killed", time.Minute), part("held", time.Minute), part("fresh", 0)
	other := filepath.Join(dir, ".other"+partInfix+"x")
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(other, time.Now().Add(-time.Hour), time.Now().Add(-time.Hour))
	f, err := os.Open(held)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}

	if out, code := runOn(t, proxy, "", "get", "acct/ctr/obj", "-o", dst); code != 0 {
		t.Fatalf("get -o over a file: exit %d: %s", code, out)
	}
	st, err := os.Stat(dst)
	if b, _ := os.ReadFile(dst); err != nil || st.Mode().Perm() != 0o600 || string(b) != "new content" {
		t.Errorf("after get -o over a file of mode 0600: %v, %v, content %q", st.Mode(), err, b)
	}
	for p, want := range map[string]bool{killed: false, held: true, fresh: true, other: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s: present %v after the get, want %v", filepath.Base(p), err == nil, want)
		}
	}
}
