package object

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/parallel"
	"github.com/gridkeep/gridkeep/internal/rawx"
)

// PutOptions describe an object to write. The zero value writes an object
// of unknown size with the container's storage policy.
type PutOptions struct {
	Size       int64 // bytes to read, or -1 (or 0 with SizeKnown false) when unknown
	SizeKnown  bool
	Policy     string
	MimeType   string
	Properties map[string]string
}

// Put writes an object from r: for each metachunk it streams the data to
// every copy's chunk server at once, and it commits the object only when
// every copy of every metachunk is written and agrees on its hash. On
// failure it deletes the chunks it wrote and commits nothing. Once the
// commit is sent, ctx no longer cuts it (see writer.commit): an interrupt
// then leaves the object stored whole, never committed without its chunks.
func (c *Client) Put(ctx context.Context, n Name, r io.Reader, opts PutOptions) (*meta.Object, error) {
	w := &writer{c: c, n: n, opts: opts, objHash: newObjectHash()}
	obj, err := w.run(ctx, r)
	if err != nil {
		if !w.keep {
			if left := w.cleanup(); left != nil {
				err = fmt.Errorf("%w; %w", err, left)
			}
		}
		return nil, fmt.Errorf("put %s: %w", n, err)
	}
	return obj, nil
}

// LeftChunks says that the clean-up of a failed put could not delete every
// chunk it wrote: they stay on their chunk servers as orphans, which the
// integrity checker reports.
type LeftChunks struct {
	N   int   // chunks that may be left
	Err error // why the first could not be deleted
}

func (e *LeftChunks) Error() string {
	return fmt.Sprintf("%d chunks written could not be deleted (%v): `gridkeep check` reports those "+
		"stored as orphans, and a chunk server drops the unfinished ones when it starts again", e.N, e.Err)
}

// writer is the state of one Put.
type writer struct {
	c       *Client
	n       Name
	opts    PutOptions
	prep    *meta.Prepared
	method  string
	objHash interface {
		io.Writer
		Sum([]byte) []byte
	}
	groups  [][]meta.Chunk // the metachunks the last prepare placed, their copies grouped
	written []meta.Chunk   // chunks stored so far, for the commit or a cleanup
	// unsure are the copies whose upload failed with no refusal from
	// their chunk server (no reply, a server error): they may be stored
	// all the same, and a cleanup deletes them too.
	unsure []meta.Chunk
	mu     sync.Mutex
	// keep says the chunks must not be deleted on failure: the directory
	// may have committed them.
	keep bool
}

// The buffers of the put path are pooled: clearing fresh ones would take
// most of the client's time on small objects.
var (
	readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 1<<20) }}
	copyPool   = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}
)

func (w *writer) run(ctx context.Context, r io.Reader) (*meta.Object, error) {
	src := readerPool.Get().(*bufio.Reader)
	src.Reset(io.TeeReader(r, w.objHash))
	defer func() {
		src.Reset(nil)
		readerPool.Put(src)
	}()
	var total int64
	for pos := int64(0); ; pos++ {
		copies, err := w.place(ctx, pos, total)
		if err != nil {
			return nil, err
		}
		length, limit := int64(-1), w.prep.ChunkSize
		if w.opts.SizeKnown {
			length = min(w.prep.ChunkSize, w.opts.Size-total)
			limit = length // bytes beyond the size are not sent (see grown)
		}
		k, err := w.putMetachunk(ctx, copies, io.LimitReader(src, limit), length)
		if err != nil {
			return nil, err
		}
		total += k
		if w.opts.SizeKnown && total >= w.opts.Size {
			break
		}
		if _, err := src.Peek(1); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
	}
	if w.opts.SizeKnown && total != w.opts.Size {
		return nil, fmt.Errorf("read %d bytes, expected %d", total, w.opts.Size)
	}
	if err := grown(src, w.opts); err != nil {
		return nil, err
	}
	return w.commit(ctx, total)
}

// grown fails when the input holds more than the size announced in opts,
// all of which was read from src: the input grew while being stored (a
// file still being written), and what was stored is not the whole of it.
func grown(src *bufio.Reader, opts PutOptions) error {
	if !opts.SizeKnown {
		return nil
	}
	switch _, err := src.Peek(1); {
	case err == nil:
		return fmt.Errorf("the input holds more than the %d bytes expected: it grew while being stored",
			opts.Size)
	case err != io.EOF:
		return err
	}
	return nil
}

// A directory places at most prepareBatch metachunks in one prepare. The
// first prepare of a put, made before the chunk size is known, asks for at
// most firstPrepareBytes: prepareBatch metachunks of the smallest chunk
// size a namespace of gridkeep has.
const (
	prepareBatch      = 1024
	firstPrepareBytes = prepareBatch * (64 << 10)
)

// place returns the copies of metachunk pos. With a known size a prepare
// places as many of the metachunks still to write as a directory places at
// once, and the next prepare comes when they are written; with an unknown
// size each metachunk is placed in turn. Every prepare after the first
// keeps the version and content id of the first.
func (w *writer) place(ctx context.Context, pos, written int64) ([]meta.Chunk, error) {
	if group := w.placed(pos); group != nil {
		return group, nil
	}
	req := meta.PrepareRequest{Size: 1, Position: pos, Policy: w.opts.Policy}
	if w.opts.SizeKnown {
		limit := int64(firstPrepareBytes)
		if w.prep != nil {
			limit = prepareBatch * w.prep.ChunkSize
		}
		req.Size = min(max(w.opts.Size-written, 1), limit)
	}
	if w.prep != nil {
		req.Version, req.Policy = w.prep.Version, w.prep.Policy
	}
	p, err := w.c.Dir.ContentPrepare(ctx, w.n.Account, w.n.Container, w.n.Path, req)
	if err != nil {
		return nil, err
	}
	if w.prep == nil {
		if w.method, err = chunkMethod(p.ChunkMethod); err != nil {
			return nil, err
		}
		w.prep = p
	}
	w.groups = metachunks(p.Chunks)
	if group := w.placed(pos); group != nil {
		return group, nil
	}
	return nil, fmt.Errorf("the directory placed no chunk at position %d", pos)
}

// placed returns the copies of metachunk pos among those the last prepare
// placed, or nil.
func (w *writer) placed(pos int64) []meta.Chunk {
	p := strconv.FormatInt(pos, 10)
	for _, group := range w.groups {
		if group[0].Pos == p {
			return group
		}
	}
	return nil
}

// putMetachunk streams one metachunk from src to every copy at once and
// returns its size. length is the size when known, -1 otherwise.
func (w *writer) putMetachunk(ctx context.Context, copies []meta.Chunk, src io.Reader,
	length int64) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := w.chunkMeta(copies[0].Pos)
	pipes := make([]*io.PipeWriter, len(copies))
	results := make([]rawx.PutResult, len(copies))
	errs := make([]error, len(copies))
	var wg sync.WaitGroup
	for i, cp := range copies {
		pr, pw := io.Pipe()
		pipes[i] = pw
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = w.c.Rawx.Put(ctx, address(cp), m, pr, length)
			end := errCopyDone
			if errs[i] != nil {
				end = fmt.Errorf("%w: %w", errCopyDone, errs[i])
			}
			pr.CloseWithError(end)
		}()
	}
	n, copyErr := w.fanOut(src, pipes)
	for _, pw := range pipes {
		pw.CloseWithError(copyErr)
	}
	wg.Wait()
	if copyErr != nil && !errors.Is(copyErr, errCopyDone) {
		w.remember(copies, results, errs)
		return 0, copyErr
	}
	if err := w.remember(copies, results, errs); err != nil {
		return 0, err
	}
	return n, checkCopies(copies, results, n)
}

// errCopyDone ends a pipe whose upload has returned.
var errCopyDone = errors.New("chunk upload ended")

// fanOut copies src into every pipe and returns the bytes copied. A pipe
// that refuses a write belongs to an upload that ended: its error wraps
// errCopyDone, and the upload's own error tells why.
func (w *writer) fanOut(src io.Reader, pipes []*io.PipeWriter) (int64, error) {
	bp := copyPool.Get().(*[]byte)
	defer copyPool.Put(bp)
	buf := *bp
	var n int64
	for {
		k, err := src.Read(buf)
		if k > 0 {
			for _, pw := range pipes {
				if _, werr := pw.Write(buf[:k]); werr != nil {
					return n, fmt.Errorf("%w: %w", errCopyDone, werr)
				}
			}
			n += int64(k)
			w.c.progress(k)
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("read object data: %w", err)
		}
	}
}

// remember records the copies that were stored, so that a failure can
// delete them, and returns the first upload error that was not caused by
// another copy's: when a copy fails, the uploads of the others end with
// its error, and it is the one that tells what went wrong.
func (w *writer) remember(copies []meta.Chunk, results []rawx.PutResult, errs []error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var first error
	for i, cp := range copies {
		if errs[i] == nil {
			cp.Size, cp.Hash, cp.Score = results[i].Size, results[i].Hash, 0
			w.written = append(w.written, cp)
			continue
		}
		if !errors.Is(errs[i], rawx.ErrBadRequest) { // a 4xx refusal stored nothing
			w.unsure = append(w.unsure, cp)
		}
		if first == nil || errors.Is(first, errCopyDone) && !errors.Is(errs[i], errCopyDone) {
			first = errs[i]
		}
	}
	return first
}

// checkCopies verifies that every copy holds the n bytes sent, with one
// hash.
func checkCopies(copies []meta.Chunk, results []rawx.PutResult, n int64) error {
	for i, res := range results {
		if res.Size != n {
			return fmt.Errorf("chunk %s holds %d bytes, %d were sent", copies[i].URL, res.Size, n)
		}
		if !strings.EqualFold(res.Hash, results[0].Hash) {
			return fmt.Errorf("copies of metachunk %s disagree on their hash", copies[i].Pos)
		}
	}
	return nil
}

func (w *writer) chunkMeta(pos string) *chunk.Meta {
	return &chunk.Meta{
		Fullpath: chunk.Fullpath{Account: w.n.Account, Container: w.n.Container,
			Path: w.n.Path, Version: w.prep.Version, ContentID: w.prep.ContentID},
		Position:      pos,
		ChunkMethod:   w.method,
		StoragePolicy: w.prep.Policy,
	}
}

// commitTimeout bounds the commit, which the put's context does not cut,
// and lookupTimeout the question whether a commit left unanswered was
// recorded.
const (
	commitTimeout = 30 * time.Second
	lookupTimeout = 10 * time.Second
)

// commit records the object in the directory. An interrupt before the
// commit is sent commits nothing; once it is sent, the commit is let
// finish, the put's context no longer counting: cut short, it could be
// recorded by the directory while the put deletes the chunks, leaving an
// object without data (and, in a container keeping one version, the
// previous version gone). When no answer says whether it was recorded, the
// directory is asked; if it cannot say either, the chunks are kept.
func (w *writer) commit(ctx context.Context, size int64) (*meta.Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o := &meta.Object{
		Name:        w.n.Path,
		Version:     w.prep.Version,
		ContentID:   w.prep.ContentID,
		Policy:      w.prep.Policy,
		ChunkMethod: w.method,
		Size:        size,
		Hash:        upperHex(w.objHash.Sum(nil)),
		MimeType:    w.opts.MimeType,
		Properties:  w.opts.Properties,
		Chunks:      make([]meta.Chunk, len(w.written)),
	}
	for i, cp := range w.written {
		cp.RealURL = ""
		o.Chunks[i] = cp
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	_, err := w.c.Dir.ContentCreate(cctx, w.n.Account, w.n.Container, o)
	var me *meta.Error
	switch {
	case err == nil:
		return o, nil
	case errors.Is(err, meta.ErrNoSuchContainer):
		return nil, fmt.Errorf("commit: the container %s/%s was deleted while the object was written",
			w.n.Account, w.n.Container)
	case errors.As(err, &me) && me.Status < 500:
		return nil, fmt.Errorf("commit: %w", err) // refused: nothing recorded
	}
	lctx, lcancel := context.WithTimeout(context.WithoutCancel(ctx), lookupTimeout)
	defer lcancel()
	switch recorded, lerr := w.recorded(lctx); {
	case lerr != nil:
		w.keep = true
		return nil, fmt.Errorf("commit: %w; whether the directory recorded the object is unknown (%v), so "+
			"its chunks are kept: if it did not, `gridkeep check` reports them as orphans", err, lerr)
	case recorded:
		return o, nil
	}
	return nil, fmt.Errorf("commit: %w", err)
}

// recorded asks the directory whether it holds the object version this put
// prepared.
func (w *writer) recorded(ctx context.Context) (bool, error) {
	cid := chunk.ContainerID(w.n.Account, w.n.Container)
	o, err := w.c.Dir.LocateByID(ctx, cid, w.prep.ContentID)
	switch {
	case meta.Missing(err):
		return false, nil
	case err != nil:
		return false, err
	}
	return strings.EqualFold(o.ContentID, w.prep.ContentID) && o.Version == w.prep.Version, nil
}

// cleanupWorkers is how many deletes a clean-up sends at once.
const cleanupWorkers = 8

// cleanup deletes the chunks of a put that will not be committed, those
// whose upload failed without a refusal too (a chunk server that has no
// such chunk is no error), and returns the chunks it could not delete, if
// any. It has its own deadline: the put's context may be the reason for
// the failure.
func (w *writer) cleanup() *LeftChunks {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w.mu.Lock()
	defer w.mu.Unlock()
	all := slices.Concat(w.written, w.unsure)
	w.written, w.unsure = nil, nil
	var mu sync.Mutex
	var left LeftChunks
	parallel.For(len(all), cleanupWorkers, func(i int) {
		err := w.c.Rawx.Delete(ctx, address(all[i]))
		if err == nil || errors.Is(err, rawx.ErrNotFound) {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if left.N++; left.Err == nil {
			left.Err = err
		}
	})
	if left.N == 0 {
		return nil
	}
	return &left
}
