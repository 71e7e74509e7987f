package object

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
)

// Get writes an object version (the latest when version is 0) to w. Each
// metachunk is read from one copy and checked against its size and hash
// before any of it is written; a copy that fails or does not match is
// skipped for the next one. The whole object is then checked against its
// MD5.
func (c *Client) Get(ctx context.Context, n Name, version int64, w io.Writer) (*meta.Object, error) {
	o, err := c.Dir.Locate(ctx, n.Account, n.Container, n.Path, version)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", n, err)
	}
	if err := c.read(ctx, o, w); err != nil {
		if errors.Is(err, ErrIncomplete) && ctx.Err() == nil && c.gone(ctx, n, o) {
			return o, fmt.Errorf("get %s: %w (%v)", n, ErrGone, err)
		}
		return o, fmt.Errorf("get %s: %w", n, err)
	}
	return o, nil
}

// gone reports whether the directory no longer has o, the version of n
// being read: chunks missing then are those of a deleted object, not lost
// copies to rebuild.
func (c *Client) gone(ctx context.Context, n Name, o *meta.Object) bool {
	_, err := c.Dir.LocateByID(ctx, chunk.ContainerID(n.Account, n.Container), o.ContentID)
	return meta.Missing(err)
}

func (c *Client) read(ctx context.Context, o *meta.Object, w io.Writer) error {
	objHash := newObjectHash()
	var buf bytes.Buffer
	var total int64
	for _, copies := range metachunks(o.Chunks) {
		if err := c.readMetachunk(ctx, copies, &buf); err != nil {
			return err
		}
		objHash.Write(buf.Bytes())
		k, err := w.Write(buf.Bytes())
		total += int64(k)
		if err != nil {
			return fmt.Errorf("write object data: %w", err)
		}
	}
	if total != o.Size {
		return fmt.Errorf("%w: %d bytes in chunks, %d in the directory", ErrIncomplete, total, o.Size)
	}
	if got := upperHex(objHash.Sum(nil)); o.Hash != "" && !strings.EqualFold(got, o.Hash) {
		return fmt.Errorf("%w: object MD5 %s, directory says %s", ErrIncomplete, got,
			strings.ToUpper(o.Hash))
	}
	return nil
}

// readMetachunk fills buf with one verified copy of a metachunk.
func (c *Client) readMetachunk(ctx context.Context, copies []meta.Chunk, buf *bytes.Buffer) error {
	var errs []error
	for _, cp := range ordered(copies) {
		buf.Reset()
		err := c.readCopy(ctx, cp, buf)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		errs = append(errs, err)
	}
	return fmt.Errorf("%w: every copy of metachunk %s failed: %w", ErrIncomplete, copies[0].Pos,
		copyErrors(errs))
}

// copyErrors are the failures of the copies of one metachunk, written on
// one line.
type copyErrors []error

func (e copyErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e copyErrors) Unwrap() []error { return e }

// readCopy reads one chunk into buf and checks its size and hash.
func (c *Client) readCopy(ctx context.Context, cp meta.Chunk, buf *bytes.Buffer) error {
	body, _, err := c.Rawx.GetSized(ctx, address(cp), cp.Size)
	if err != nil {
		return err
	}
	defer body.Close()
	buf.Grow(int(cp.Size))
	h, release := chunk.BorrowHash(chunk.AlgoForHash(cp.Hash))
	defer release()
	bp := copyPool.Get().(*[]byte)
	defer copyPool.Put(bp)
	n, err := io.CopyBuffer(io.MultiWriter(buf, h), body, *bp)
	if err != nil {
		return fmt.Errorf("read chunk %s: %w", cp.URL, err)
	}
	if n != cp.Size {
		return fmt.Errorf("chunk %s: %d bytes, %d expected", cp.URL, n, cp.Size)
	}
	if got := upperHex(h.Sum(nil)); !strings.EqualFold(got, cp.Hash) {
		return fmt.Errorf("chunk %s: data hashes to %s, %s expected", cp.URL, got,
			strings.ToUpper(cp.Hash))
	}
	c.progress(int(n))
	return nil
}

// upperHex writes a digest as OpenIO does, in uppercase hexadecimal.
func upperHex(sum []byte) string { return strings.ToUpper(hex.EncodeToString(sum)) }

// ordered puts copies on live chunk servers first.
func ordered(copies []meta.Chunk) []meta.Chunk {
	out := append([]meta.Chunk(nil), copies...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	return out
}
