package cli

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/object"
	"github.com/gridkeep/gridkeep/internal/rawx"
)

// buildGridkeep builds the gridkeep binary for tests that need a real
// process to kill.
func buildGridkeep(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gridkeep")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/gridkeep/gridkeep/cmd/gridkeep")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startUp runs `gridkeep up` and returns the process and its proxy URL.
func startUp(t *testing.T, bin, data string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "up", "--data", data, "--port-base", "0", "--chunk-size", "1048576")
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 0 && strings.HasPrefix(sc.Text(), "directory") {
			go io.Copy(io.Discard, stdout)
			return cmd, f[len(f)-1]
		}
	}
	t.Fatal("gridkeep up printed no directory address")
	return nil, ""
}

// stallReader gives n bytes, then signals and blocks until released.
type stallReader struct {
	n       int
	stalled chan struct{}
	release chan struct{}
}

func (r *stallReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		close(r.stalled)
		<-r.release
		return 0, io.ErrUnexpectedEOF
	}
	k := min(len(p), r.n)
	r.n -= k
	for i := range p[:k] {
		p[i] = 'x'
	}
	return k, nil
}

// TestKilledUpDuringPut kills the whole namespace in the middle of a put:
// the object must not become visible, and the same put afterwards works.
func TestKilledUpDuringPut(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real process")
	}
	bin := buildGridkeep(t)
	data := t.TempDir()
	up, proxy := startUp(t, bin, data)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir, _ := meta.NewClient(proxy, meta.ClientOptions{})
	oc := &object.Client{Dir: dir, Rawx: &rawx.Client{}}
	name := object.Name{Account: "acct", Container: "ctr", Path: "obj"}

	src := &stallReader{n: 2<<20 + 1000, stalled: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := oc.Put(ctx, name, src, object.PutOptions{Policy: "THREECOPIES"})
		done <- err
	}()
	<-src.stalled // two metachunks written, the third in flight
	up.Process.Signal(syscall.SIGKILL)
	up.Wait()
	close(src.release)
	if err := <-done; err == nil {
		t.Fatal("a put survived the death of the namespace")
	}

	_, proxy = startUp(t, bin, data)
	dir, _ = meta.NewClient(proxy, meta.ClientOptions{})
	oc = &object.Client{Dir: dir, Rawx: &rawx.Client{}}
	if _, err := dir.Locate(ctx, "acct", "ctr", "obj", 0); err == nil {
		t.Fatal("the interrupted object is visible")
	}
	payload := bytes.Repeat([]byte("y"), 3<<20)
	if _, err := oc.Put(ctx, name, bytes.NewReader(payload), object.PutOptions{}); err != nil {
		t.Fatalf("put again: %v", err)
	}
	var got bytes.Buffer
	if _, err := oc.Get(ctx, name, 0, &got); err != nil || !bytes.Equal(got.Bytes(), payload) {
		t.Fatalf("get after the new put: %v", err)
	}
}

// TestSecondInterruptEndsTheProcess: the first interrupt leaves the
// command to finish; the second ends the process with the shell's code for
// that signal.
func TestSecondInterruptEndsTheProcess(t *testing.T) {
	sig := make(chan os.Signal, 2)
	done := make(chan struct{})
	exited := make(chan int, 1)
	go watchInterrupts(sig, done, func() {}, func(code int) { exited <- code })
	sig <- os.Interrupt
	select {
	case code := <-exited:
		t.Fatalf("exit %d after the first interrupt", code)
	case <-time.After(50 * time.Millisecond):
	}
	sig <- syscall.SIGTERM
	select {
	case code := <-exited:
		if code != 143 {
			t.Errorf("exit %d after a second interrupt by SIGTERM, want 143", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a second interrupt did not end the process")
	}
	close(done)
}
