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

// background runs one read or write at a time in a goroutine of its own and
// waits for it or for the context, whichever comes first.
type background struct {
	ctx  context.Context
	done chan result
}

func newBackground(ctx context.Context) background {
	return background{ctx: ctx, done: make(chan result, 1)}
}

// run starts f and returns its result, or the context's error if the
// context is done first; f then goes on alone. The caller checks the
// context before handing f a buffer, as one left behind may still own it.
func (b background) run(f func() (int, error)) (result, error) {
	go func() {
		n, err := f()
		b.done <- result{n, err}
	}()
	select {
	case res := <-b.done:
		return res, nil
	case <-b.ctx.Done():
		return result{}, b.ctx.Err()
	}
}

// interruptibleReader reads r into a buffer of its own in the background.
type interruptibleReader struct {
	background
	r   io.Reader
	buf []byte
}

// readUntilDone returns r with its reads ending when ctx is done.
func readUntilDone(ctx context.Context, r io.Reader) io.Reader {
	return &interruptibleReader{background: newBackground(ctx), r: r}
}

func (ir *interruptibleReader) Read(p []byte) (int, error) {
	if err := ir.ctx.Err(); err != nil {
		return 0, err
	}
	if cap(ir.buf) < len(p) {
		ir.buf = make([]byte, len(p))
	}
	buf := ir.buf[:len(p)]
	res, err := ir.run(func() (int, error) { return ir.r.Read(buf) })
	if err != nil {
		return 0, err
	}
	return copy(p, buf[:res.n]), res.err
}

// interruptibleWriter writes a copy of each buffer to w in the background.
type interruptibleWriter struct {
	background
	w   io.Writer
	buf []byte
}

// writeUntilDone returns w with its writes ending when ctx is done.
func writeUntilDone(ctx context.Context, w io.Writer) io.Writer {
	return &interruptibleWriter{background: newBackground(ctx), w: w}
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
		buf := iw.buf
		res, err := iw.run(func() (int, error) { return iw.w.Write(buf) })
		if err != nil {
			return written, err
		}
		written += res.n
		if res.err != nil {
			return written, res.err
		}
	}
	return written, nil
}
