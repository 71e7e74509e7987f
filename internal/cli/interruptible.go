package cli

import (
	"context"
	"io"
)

// The command's standard input and output may be pipes whose other end
// stalls: a put reading from a producer that waits, a get writing to a
// reader that does not read. A read or write blocked there does not see
// an interrupt, and the command would go on until the pipe moves. The
// reader and writer below read and write in the background and return as
// soon as the command's context is done; the read or write under way is
// then left behind, with the buffer it owns, the process ending soon
// after. Once the context is done, every call fails at once.

// result is the outcome of one background read or write.
type result struct {
	n   int
	err error
}

// interruptibleReader reads r into a buffer of its own in the background.
type interruptibleReader struct {
	ctx  context.Context
	r    io.Reader
	buf  []byte
	done chan result
}

// readUntilDone returns r with its reads ending when ctx is done.
func readUntilDone(ctx context.Context, r io.Reader) io.Reader {
	return &interruptibleReader{ctx: ctx, r: r, done: make(chan result, 1)}
}

func (ir *interruptibleReader) Read(p []byte) (int, error) {
	if err := ir.ctx.Err(); err != nil {
		return 0, err
	}
	if cap(ir.buf) < len(p) {
		ir.buf = make([]byte, len(p))
	}
	buf := ir.buf[:len(p)]
	go func() {
		n, err := ir.r.Read(buf)
		ir.done <- result{n, err}
	}()
	select {
	case res := <-ir.done:
		return copy(p, buf[:res.n]), res.err
	case <-ir.ctx.Done():
		return 0, ir.ctx.Err()
	}
}

// interruptibleWriter writes a copy of each buffer to w in the background.
type interruptibleWriter struct {
	ctx  context.Context
	w    io.Writer
	buf  []byte
	done chan result
}

// writeUntilDone returns w with its writes ending when ctx is done.
func writeUntilDone(ctx context.Context, w io.Writer) io.Writer {
	return &interruptibleWriter{ctx: ctx, w: w, done: make(chan result, 1)}
}

// maxPiece bounds the copy an interruptibleWriter holds: a get writes a
// whole metachunk at once.
const maxPiece = 1 << 20

func (iw *interruptibleWriter) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		if err := iw.ctx.Err(); err != nil {
			return written, err
		}
		// A copy, as p is the caller's again once Write returns.
		iw.buf = append(iw.buf[:0], p[written:written+min(len(p)-written, maxPiece)]...)
		go func() {
			n, err := iw.w.Write(iw.buf)
			iw.done <- result{n, err}
		}()
		select {
		case res := <-iw.done:
			written += res.n
			if res.err != nil {
				return written, res.err
			}
		case <-iw.ctx.Done():
			return written, iw.ctx.Err()
		}
	}
	return written, nil
}
