package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

// A read from a pipe whose writer stalls, and a write to a pipe whose
// reader stalls, end when the command's context is done; until then,
// bytes go through whole.
func TestStalledPipesEndOnInterrupt(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	readCtx, interruptRead := context.WithCancel(context.Background())
	in := readUntilDone(readCtx, r)
	w.Write([]byte("first"))
	buf := make([]byte, 16)
	if n, err := in.Read(buf); err != nil || string(buf[:n]) != "first" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	read := make(chan error, 1)
	go func() { _, err := in.Read(buf); read <- err }() // nothing more comes
	interruptRead()
	endsOnInterrupt(t, "read", read)

	writeCtx, interruptWrite := context.WithCancel(context.Background())
	out := writeUntilDone(writeCtx, w)
	wrote := make(chan error, 1)
	// More than the pipe holds, and nobody reads it.
	go func() { _, err := out.Write(bytes.Repeat([]byte("x"), 3*maxPiece)); wrote <- err }()
	select {
	case err := <-wrote:
		t.Fatalf("a write larger than the pipe, unread, ended: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	interruptWrite()
	endsOnInterrupt(t, "write", wrote)
}

func endsOnInterrupt(t *testing.T, what string, ended <-chan error) {
	t.Helper()
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s blocked on a stalled pipe ended with %v, want the interrupt", what, err)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("%s blocked on a stalled pipe did not end on the interrupt", what)
	}
}
