package rawx

import (
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/event"
)

// Chunk bodies are copied through pooled buffers of two sizes: a small
// body in a large buffer would cost clearing and caching bytes it never
// uses each time the pool is emptied by a collection.
const (
	smallBuf = 16 << 10
	largeBuf = 256 << 10
)

var (
	smallBufs = sync.Pool{New: func() any { b := make([]byte, smallBuf); return &b }}
	largeBufs = sync.Pool{New: func() any { b := make([]byte, largeBuf); return &b }}
)

// borrowBuf returns a buffer for a body of n bytes (-1 if unknown) and
// the function that gives it back.
func borrowBuf(n int64) ([]byte, func()) {
	pool := &largeBufs
	if n >= 0 && n <= smallBuf {
		pool = &smallBufs
	}
	bp := pool.Get().(*[]byte)
	return *bp, func() { pool.Put(bp) }
}

// upload is what a PUT says about the chunk it sends.
type upload struct {
	meta       chunk.Meta
	algo       string // checksum algorithm
	wantHash   string // chunk hash announced by the client, uppercase
	wantSize   int64  // chunk size announced by the client, -1 if none
	nonOptimal bool
}

// parseUpload checks the metadata headers of a PUT: the mandatory ones are
// present and every optional one agrees with the fullpath.
func parseUpload(h http.Header, id string) (*upload, error) {
	u := &upload{wantSize: -1}
	m := &u.meta
	m.ChunkID = id
	m.StoragePolicy = h.Get(HdrStoragePolicy)
	m.ChunkMethod = h.Get(HdrChunkMethod)
	m.Position = h.Get(HdrChunkPos)
	raw := h.Get(HdrFullPath)
	for name, v := range map[string]string{HdrStoragePolicy: m.StoragePolicy,
		HdrChunkMethod: m.ChunkMethod, HdrChunkPos: m.Position, HdrFullPath: raw} {
		if v == "" {
			return nil, errorf(http.StatusBadRequest, "missing header %s", name)
		}
	}
	if !chunk.ValidPosition(m.Position) {
		return nil, errorf(http.StatusBadRequest, "%s %q is not N, N.M or N.pM", HdrChunkPos, m.Position)
	}
	method, err := chunk.ParseMethod(m.ChunkMethod)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "%v", err)
	}
	var stored chunk.Method
	u.algo, stored = method.WriteAlgo()
	m.ChunkMethod = stored.String()
	if err := u.parseFullpath(raw); err != nil {
		return nil, err
	}
	if err := u.checkAgreement(h); err != nil {
		return nil, err
	}
	if err := u.parseOptional(h); err != nil {
		return nil, err
	}
	m.Extra, err = extProperties(h)
	return u, err
}

// parseFullpath validates the fullpath and keeps it as the client encoded
// it, but for the content id, which is stored uppercase.
func (u *upload) parseFullpath(raw string) error {
	fp, err := chunk.ParseFullpath(raw)
	if err != nil {
		return errorf(http.StatusBadRequest, "%v", err)
	}
	u.meta.Fullpath = fp
	u.meta.FullpathRaw = raw[:strings.LastIndexByte(raw, '/')+1] + fp.ContentID
	return nil
}

// checkAgreement compares the optional owner headers with the fullpath.
func (u *upload) checkAgreement(h http.Header) error {
	fp := u.meta.Fullpath
	if v := h.Get(HdrChunkID); v != "" && !strings.EqualFold(v, u.meta.ChunkID) {
		return errorf(http.StatusBadRequest, "%s %q differs from the URL", HdrChunkID, v)
	}
	if v := h.Get(HdrContainerID); v != "" && !strings.EqualFold(v, fp.ContainerID()) {
		return errorf(http.StatusBadRequest, "%s %q differs from the fullpath", HdrContainerID, v)
	}
	if v := h.Get(HdrContentPath); v != "" {
		p, err := chunk.Unquote(v)
		if err != nil || p != fp.Path {
			return errorf(http.StatusBadRequest, "%s %q differs from the fullpath", HdrContentPath, v)
		}
	}
	if v := h.Get(HdrContentVersion); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err != nil || n != fp.Version {
			return errorf(http.StatusBadRequest, "%s %q differs from the fullpath", HdrContentVersion, v)
		}
	}
	if v := h.Get(HdrContentID); v != "" && !strings.EqualFold(v, fp.ContentID) {
		return errorf(http.StatusBadRequest, "%s %q differs from the fullpath", HdrContentID, v)
	}
	return nil
}

// parseOptional reads the optional size, hash and placement headers; it is
// also used for trailers, which may complete the headers but not
// contradict them.
func (u *upload) parseOptional(h http.Header) error {
	m := &u.meta
	if err := setHex(h, HdrMetachunkHash, &m.MetachunkHash); err != nil {
		return err
	}
	if err := setSize(h, HdrMetachunkSize, &m.MetachunkSize, &m.HasMetaSize); err != nil {
		return err
	}
	if err := setHex(h, HdrChunkHash, &u.wantHash); err != nil {
		return err
	}
	hasSize := u.wantSize >= 0
	if err := setSize(h, HdrChunkSize, &u.wantSize, &hasSize); err != nil {
		return err
	}
	if v := h.Get(HdrNonOptimal); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errorf(http.StatusBadRequest, "invalid %s %q", HdrNonOptimal, v)
		}
		u.nonOptimal = b
	}
	return nil
}

// setHex reads the hexadecimal value of header name, if h has it, into
// *dst, uppercase. A value already there (the headers', when h holds the
// trailers) must be the same.
func setHex(h http.Header, name string, dst *string) error {
	v := h.Get(name)
	if v == "" {
		return nil
	}
	if !chunk.IsHex(v) || len(v) > chunk.MaxIDLen {
		return errorf(http.StatusBadRequest, "invalid %s %q", name, v)
	}
	v = strings.ToUpper(v)
	if *dst != "" && *dst != v {
		return contradiction(name, *dst, v)
	}
	*dst = v
	return nil
}

// setSize reads the size in header name, if h has it, into *dst; *has says
// whether *dst holds one already, which must then be the same.
func setSize(h http.Header, name string, dst *int64, has *bool) error {
	v := h.Get(name)
	if v == "" {
		return nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return errorf(http.StatusBadRequest, "invalid %s %q", name, v)
	}
	if *has && n != *dst {
		return contradiction(name, strconv.FormatInt(*dst, 10), v)
	}
	*dst, *has = n, true
	return nil
}

// contradiction is the 400 error of a trailer that gives name the value now
// where the headers gave it was.
func contradiction(name, was, now string) error {
	return errorf(http.StatusBadRequest, "the trailer %s %q contradicts the header's %q", name, now,
		was)
}

// extProperties returns the X-Oio-Ext-* headers as extra properties, with
// percent-decoded values. Keys keep Go's canonical header case.
func extProperties(h http.Header) (map[string]string, error) {
	var props map[string]string
	for name, vals := range h {
		key, ok := strings.CutPrefix(name, HdrExtPrefix)
		if !ok || key == "" || len(vals) == 0 {
			continue
		}
		v, err := chunk.Unquote(vals[0])
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "invalid %s: %v", name, err)
		}
		if props == nil {
			props = make(map[string]string)
		}
		props[key] = v
	}
	return props, nil
}

// put stores a new chunk: the body goes to <id>.pending with its hash
// computed on the way, the attributes are set on the pending file, and the
// file is renamed to its final name unless a chunk already has it.
func (s *Server) put(w http.ResponseWriter, r *http.Request, id string) error {
	u, err := parseUpload(r.Header, id)
	if err != nil {
		return err
	}
	// An existing chunk is refused by the no-replace rename at the end, like
	// a concurrent upload of the same id: no stat on the way in.
	final := s.cfg.Layout.Path(id)
	if r.ContentLength > s.cfg.MaxChunkSize {
		return errorf(http.StatusRequestEntityTooLarge, "chunk larger than %d bytes", s.cfg.MaxChunkSize)
	}
	if err := s.ensureDir(id); err != nil {
		return err
	}
	pending := final + chunk.PendingSuffix
	f, err := s.create(pending)
	if errors.Is(err, fs.ErrNotExist) {
		// The chunk's directory was removed since the server made it (a
		// damaged folder cleaned by hand): make it again.
		s.dirs.Delete(s.cfg.Layout.Dir(id))
		if err = s.ensureDir(id); err == nil {
			f, err = s.create(pending)
		}
	}
	if err != nil {
		return err
	}
	err = s.receive(w, r, f, u)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		defer s.ids.lock(id)() // until the event is published
		err = s.commit(pending, final, id)
	}
	if err != nil {
		os.Remove(filepath.Join(s.cfg.Volume, pending))
		return err
	}
	if u.nonOptimal {
		if err := s.linkNonOptimal(id); err != nil && !errors.Is(err, os.ErrExist) {
			s.log.Warn("non-optimal placement link", "chunk_id", id, "err", err)
		}
	}
	s.publish(event.ChunkNew, r, &u.meta)
	h := w.Header()
	h[HdrChunkHash] = []string{u.meta.Hash}
	h[HdrChunkSize] = []string{strconv.FormatInt(u.meta.Size, 10)}
	h["Connection"] = []string{"keep-alive"}
	h["Content-Length"] = []string{"0"}
	w.WriteHeader(http.StatusCreated)
	return nil
}

// receive copies the body into f, then checks the announced hash and size
// (headers or trailers) and writes the attributes; with Config.Fsync, it
// returns once they and the data are durable.
func (s *Server) receive(w http.ResponseWriter, r *http.Request, f file, u *upload) error {
	h, release := chunk.BorrowHash(u.algo)
	defer release()
	n, err := s.copyBody(w, r, f, h)
	if rec, ok := w.(*recorder); ok {
		rec.in = n
	}
	if err != nil {
		return err
	}
	if len(r.Trailer) > 0 {
		if err := u.parseOptional(r.Trailer); err != nil {
			return err
		}
		extra, err := extProperties(r.Trailer)
		if err != nil {
			return err
		}
		for k, v := range extra {
			if u.meta.Extra == nil {
				u.meta.Extra = make(map[string]string)
			}
			u.meta.Extra[k] = v
		}
	}
	if err := u.verify(n, h); err != nil {
		return err
	}
	if err := setAttrs(f, u.meta.Attrs()); err != nil {
		return s.attrError(err)
	}
	if s.cfg.Fsync {
		return s.synced.Sync()
	}
	return nil
}

// verify checks the received data against what the client announced.
func (u *upload) verify(n int64, h hash.Hash) error {
	m := &u.meta
	m.Size, m.HasSize = n, true
	m.Hash = strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
	if u.wantHash != "" && u.wantHash != m.Hash {
		return errorf(http.StatusBadRequest, "chunk hash mismatch: announced %s, received %s",
			u.wantHash, m.Hash)
	}
	if u.wantSize >= 0 && u.wantSize != n {
		return errorf(http.StatusBadRequest, "chunk size mismatch: announced %d, received %d",
			u.wantSize, n)
	}
	if method, _ := chunk.ParseMethod(m.ChunkMethod); method.IsEC() &&
		(!m.HasMetaSize || m.MetachunkHash == "") {
		return errorf(http.StatusBadRequest, "erasure-coded chunk without metachunk size and hash")
	}
	return nil
}

// copyBody streams the request body into f and h. Each read must make
// progress within the idle timeout, and the body is bounded.
func (s *Server) copyBody(w http.ResponseWriter, r *http.Request, f file, h hash.Hash) (int64, error) {
	rc := http.NewResponseController(w)
	buf, release := borrowBuf(r.ContentLength)
	defer release()
	var n int64
	for {
		rc.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
		k, err := fill(r.Body, buf)
		if k > 0 {
			n += int64(k)
			if n > s.cfg.MaxChunkSize {
				return n, errorf(http.StatusRequestEntityTooLarge,
					"chunk larger than %d bytes", s.cfg.MaxChunkSize)
			}
			h.Write(buf[:k])
			if _, werr := f.Write(buf[:k]); werr != nil {
				return n, werr
			}
		}
		if err == io.EOF {
			rc.SetReadDeadline(time.Time{})
			return n, nil
		}
		if err != nil {
			return n, clientError(err)
		}
	}
}

// fill reads into buf until it is full or the reader fails; io.EOF is
// returned only for a body that ended cleanly.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// clientError turns a failed body read into a client error: a malformed
// body (400), a client too slow (408) or gone (499).
func clientError(err error) error {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errorf(http.StatusRequestTimeout, "upload idle for too long")
	case strings.Contains(err.Error(), "invalid") || strings.Contains(err.Error(), "malformed"):
		return errorf(http.StatusBadRequest, "bad request body: %v", err)
	default:
		return &httpError{code: 499, msg: "client aborted upload: " + err.Error()}
	}
}

// commit renames the pending file to its final name (both paths in the
// volume), refusing to replace a chunk that appeared meanwhile; with
// Config.Fsync, it returns once the new name is durable.
func (s *Server) commit(pending, final, id string) error {
	err := s.inVolume(func(dirfd int) error {
		return unix.Renameat2(dirfd, pending, dirfd, final, unix.RENAME_NOREPLACE)
	})
	if errors.Is(err, unix.EEXIST) {
		return errorf(http.StatusConflict, "")
	}
	if err != nil {
		return err
	}
	if s.cfg.Fsync {
		return s.synced.Sync()
	}
	return nil
}

// attrError tells an attribute that does not fit on the filesystem (too
// large: ext4 keeps a file's attributes in one block, and says ENOSPC) from
// a full disk: the first answers 413, the second 507.
func (s *Server) attrError(err error) error {
	if chunk.AttrsDoNotFit(s.cfg.Volume, err) {
		return errorf(http.StatusRequestEntityTooLarge, "the attributes do not fit on the "+
			"filesystem, which has room for data: %v", err)
	}
	return err
}

func setAttrs(f file, attrs []chunk.Attr) error {
	fd := int(f.Fd())
	for _, a := range attrs {
		if err := unix.Fsetxattr(fd, a.Name, []byte(a.Value), 0); err != nil {
			return err
		}
	}
	return nil
}
