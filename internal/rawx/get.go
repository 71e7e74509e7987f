package rawx

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

// openChunk opens chunk id for reading and loads its metadata, remembered
// from an earlier read when the file has not changed since. The caller
// closes the file.
func (s *Server) openChunk(id string) (*os.File, *chunkView, os.FileInfo, error) {
	f, st, err := s.openRegular(id, unix.O_RDONLY)
	if err != nil {
		return nil, nil, nil, err
	}
	stamp, stamped := stampOf(st)
	if stamped {
		if v, ok := s.metas.get(id, stamp); ok {
			s.metrics.metaHits.Inc()
			return f, v, st, nil
		}
	}
	s.metrics.metaMisses.Inc()
	attrs, err := chunk.ReadAttrsFd(f)
	if err != nil {
		f.Close()
		return nil, nil, nil, err
	}
	// A chunk with damaged metadata is still served with what it has: the
	// reader compares it with the directory and decides.
	m, _ := chunk.Parse(id, attrs)
	if !m.HasSize {
		m.Size = st.Size()
	}
	v := newChunkView(m, st.ModTime())
	if stamped {
		s.metas.put(id, stamp, v)
	}
	return f, v, st, nil
}

// setMetaHeaders writes the chunk's metadata as reply headers, the way
// OpenIO's rawx does.
func setMetaHeaders(h http.Header, m *chunk.Meta, mtime time.Time) {
	set := func(k, v string) {
		if v != "" {
			h[k] = []string{v}
		}
	}
	set(HdrChunkID, m.ChunkID)
	set(HdrChunkPos, m.Position)
	if m.HasSize {
		set(HdrChunkSize, strconv.FormatInt(m.Size, 10))
	} else {
		// As stored, for the reader to tell a value that does not parse
		// from none.
		set(HdrChunkSize, m.UnparsedSize)
	}
	set(HdrChunkHash, m.Hash)
	set(HdrStoragePolicy, m.StoragePolicy)
	set(HdrChunkMethod, reportedMethod(m))
	if m.HasMetaSize {
		set(HdrMetachunkSize, strconv.FormatInt(m.MetachunkSize, 10))
	}
	set(HdrMetachunkHash, m.MetachunkHash)
	set(HdrFullPath, m.FullpathRaw)
	if o, ok := ownerOf(m); ok {
		set(HdrContainerID, o.containerID)
		set(HdrContentPath, url.PathEscape(o.path))
		set(HdrContentVersion, o.version)
		set(HdrContentID, o.contentID)
	}
	for k, v := range m.Extra {
		h[HdrExtPrefix+k] = []string{v}
	}
	h["Last-Modified"] = []string{mtime.UTC().Format(time.RFC1123)}
}

// owner is the object a chunk belongs to, as the chunk's metadata names it.
type owner struct {
	containerID string // uppercase
	path        string // decoded
	version     string
	contentID   string // uppercase
}

// ownerOf returns the owner named by a chunk's fullpath or, on a chunk
// written before the fullpath attribute, by its legacy keys when they
// describe this very id: otherwise they describe the chunk this file is a
// hard link of. ok is false when the metadata names no owner.
func ownerOf(m *chunk.Meta) (o owner, ok bool) {
	switch {
	case m.FullpathRaw != "":
		fp := m.Fullpath
		return owner{fp.ContainerID(), fp.Path, strconv.FormatInt(fp.Version, 10), fp.ContentID}, true
	case m.Legacy != nil && m.Legacy.ChunkID == m.ChunkID:
		l := m.Legacy
		return owner{strings.ToUpper(l.Container), l.Path, l.Version, strings.ToUpper(l.ContentID)}, true
	}
	return owner{}, false
}

// reportedMethod is the stored chunk method, with the checksum algorithm
// added when the chunk predates "cca" (inferred from the hash length).
func reportedMethod(m *chunk.Meta) string {
	method, err := chunk.ParseMethod(m.ChunkMethod)
	if err != nil {
		return m.ChunkMethod
	}
	if _, ok := method.Get("cca"); ok || m.Hash == "" {
		return m.ChunkMethod
	}
	method.Params = append(method.Params, chunk.Param{Key: "cca", Value: chunk.AlgoForHash(m.Hash)})
	return method.String()
}

var rangeRE = regexp.MustCompile(`^bytes=(\d*)-(\d*)$`)

// rangeNumber is a decimal number of a Range header (digits only, as the
// pattern checked); one too large for an int64 counts as the largest, so
// that it means "to the end" like any number past the end.
func rangeNumber(digits string) int64 {
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return math.MaxInt64
	}
	return n
}

// parseRange interprets a Range header like OpenIO's rawx: one range only;
// anything it does not understand means the whole chunk.
func parseRange(v string, size int64) (start, end int64, partial bool, err error) {
	mm := rangeRE.FindStringSubmatch(v)
	if v == "" || mm == nil || mm[1] == "" && mm[2] == "" {
		return 0, size, false, nil
	}
	unsatisfiable := errorf(http.StatusRequestedRangeNotSatisfiable, "")
	if mm[1] == "" { // bytes=-N: the last N bytes
		n := rangeNumber(mm[2])
		if n <= 0 || size == 0 {
			return 0, 0, false, unsatisfiable
		}
		return max(size-n, 0), size, true, nil
	}
	start = rangeNumber(mm[1])
	if start >= size {
		return 0, 0, false, unsatisfiable
	}
	end = size
	if mm[2] != "" {
		last := rangeNumber(mm[2])
		if last < start {
			return 0, size, false, nil
		}
		if last < size {
			end = last + 1
		}
	}
	return start, end, true, nil
}

// smallBody is the largest body get copies through memory; larger ones go
// with sendfile, which costs more system calls but copies nothing.
const smallBody = 64 << 10

// sentPiece is how much sendPieces sends between two checks of the file's
// size.
const sentPiece = 1 << 20

// sendPieces sends bytes [start, end) of f with sendfile when w allows it,
// a piece at a time, calling beforePiece (if not nil) before each. The
// file's size is checked before each piece, and a file shorter than the
// next piece ends the reply there, so that only a cut during the sending
// of one piece can send zeros (the pages the cut took) before the reply
// breaks off.
func sendPieces(w io.Writer, f *os.File, start, end int64, beforePiece func()) error {
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return err
	}
	var st unix.Stat_t
	for pos := start; pos < end; {
		if beforePiece != nil {
			beforePiece()
		}
		next := min(pos+sentPiece, end)
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			return err
		}
		if st.Size < next {
			return fmt.Errorf("the file was cut to %d bytes while being sent", st.Size)
		}
		n, err := io.Copy(w, io.LimitReader(f, next-pos))
		if err != nil {
			return err
		}
		if n < next-pos {
			return fmt.Errorf("the file was cut to %d bytes while being sent", pos+n)
		}
		pos = next
	}
	return nil
}

// errCut is the fault of a mapping whose file was cut short while it was
// read.
var errCut = fmt.Errorf("the file was cut while being read: %w", syscall.EIO)

// withMapping maps the first n bytes of f, read-only and populated, and
// calls fn with them. A file cut short meanwhile makes a read of the
// mapping past its new last page fault: that is reported as errCut, not a
// crash. ok is false when f cannot be mapped.
func withMapping(f *os.File, n int64, fn func(data []byte) error) (ok bool, err error) {
	data, merr := unix.Mmap(int(f.Fd()), 0, int(n), unix.PROT_READ, unix.MAP_SHARED|unix.MAP_POPULATE)
	if merr != nil {
		return false, nil
	}
	defer unix.Munmap(data)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil {
			ok, err = true, errCut
		}
	}()
	return true, fn(data)
}

// get serves a chunk or a range of it: small bodies through memory, others
// with sendfile. A client that takes none of a large reply for the idle
// timeout, a piece of 1 MiB at most, loses its connection.
func (s *Server) get(w http.ResponseWriter, r *http.Request, id string) error {
	f, v, st, err := s.openChunk(id)
	if err != nil {
		return err
	}
	defer f.Close()
	size, err := servedSize(w, r, v.meta, st)
	if err != nil {
		return err
	}
	if st.Size() < size {
		// A file shorter than its size attribute: said before any byte is
		// sent, where OpenIO's rawx promises the attribute's size and
		// breaks the reply off where the file ends. (HEAD still answers
		// with the attributes, for tools to judge them.)
		return errorf(http.StatusPreconditionFailed, "the file holds %d bytes, %d expected",
			st.Size(), size)
	}
	start, end, partial, err := parseRange(r.Header.Get("Range"), size)
	if statusOf(err) == http.StatusRequestedRangeNotSatisfiable {
		w.Header()["Content-Range"] = []string{"bytes */" + strconv.FormatInt(size, 10)}
	}
	if err != nil {
		return err
	}
	var small []byte
	if n := end - start; n > 0 && n <= smallBody {
		// Read before answering: a file cut short meanwhile fails the
		// request instead of its body.
		buf, release := borrowBuf(n)
		defer release()
		small = buf[:n]
		if _, err := f.ReadAt(small, start); err != nil {
			return fmt.Errorf("read %d bytes at %d: %w", n, start, err)
		}
	}
	h := w.Header()
	v.setHeaders(h)
	if end > start {
		h["Content-Type"] = []string{"application/octet-stream"}
	}
	h["Content-Length"] = []string{strconv.FormatInt(end-start, 10)}
	code := http.StatusOK
	if partial {
		h["Content-Range"] = []string{"bytes " + strconv.FormatInt(start, 10) + "-" +
			strconv.FormatInt(end-1, 10) + "/" + strconv.FormatInt(size, 10)}
		code = http.StatusPartialContent
	}
	w.WriteHeader(code)
	if end == start {
		return nil
	}
	if small != nil {
		// Socket buffers take a small body whole, read or not.
		_, err := w.Write(small)
		return err
	}
	rc := http.NewResponseController(w)
	return sendPieces(w, f, start, end, func() { rc.SetWriteDeadline(time.Now().Add(s.cfg.IdleTimeout)) })
}

// servedSize returns how many bytes of the chunk a read serves: the size
// its attribute says, as OpenIO's rawx does, or the size the request
// expects (X-Oio-Chunk-Meta-Chunk-Size, the directory's), whatever the
// attribute says. A file shorter than the size expected is truncated:
// 412. A file longer holds trailing bytes after the data: the expected
// bytes are served, and the reply says the file's size in
// X-Gridkeep-File-Size, for the reader to judge. A reader that knows the
// size is then never misled by a wrong attribute, and one that does not
// is served as by OpenIO (but see get for a file shorter than its
// attribute).
func servedSize(w http.ResponseWriter, r *http.Request, m *chunk.Meta, st os.FileInfo) (int64,
	error) {
	v := r.Header.Get(HdrChunkSize)
	if v == "" {
		return m.Size, nil
	}
	size, err := strconv.ParseInt(v, 10, 64)
	if err != nil || size < 0 || v[0] < '0' || v[0] > '9' {
		return 0, errorf(http.StatusBadRequest, "bad expected size %q", v)
	}
	if st.Size() < size {
		return 0, errorf(http.StatusPreconditionFailed, "the file holds %d bytes, %d expected",
			st.Size(), size)
	}
	if st.Size() > size {
		w.Header()[HdrFileSize] = []string{strconv.FormatInt(st.Size(), 10)}
	}
	return size, nil
}

// head answers with the chunk's headers; with X-Oio-Check-Hash it first
// re-reads the data and answers 412 when it does not match its hash. The
// request may name the expected size and hash (the directory's), which
// then replace the chunk's attributes: the file must hold that size at
// least (see servedSize, checked with or without the hash) and the data,
// those first bytes, is judged on its own, even when its attributes are
// wrong. Without an expected size the file must hold exactly the size its
// attribute says for the hash check; a HEAD without the check answers
// with the attributes whatever the file holds. The reply's
// Content-Length is the size a GET serves.
func (s *Server) head(w http.ResponseWriter, r *http.Request, id string) error {
	f, v, st, err := s.openChunk(id)
	if err != nil {
		return err
	}
	defer f.Close()
	m := v.meta
	size, err := servedSize(w, r, m, st)
	if err != nil {
		return err
	}
	if check, _ := strconv.ParseBool(r.Header.Get(HdrCheckHash)); check {
		want := r.Header.Get(HdrChunkHash)
		if want == "" {
			want = m.Hash
		}
		if r.Header.Get(HdrChunkSize) == "" && st.Size() != size {
			return errorf(http.StatusPreconditionFailed, "the file holds %d bytes, %d expected",
				st.Size(), size)
		}
		if err := verifyData(f, size, want); err != nil {
			return err
		}
	}
	h := w.Header()
	v.setHeaders(h)
	h["Accept-Ranges"] = []string{"bytes"}
	h["Content-Length"] = []string{strconv.FormatInt(size, 10)}
	w.WriteHeader(http.StatusOK)
	return nil
}

// verifyData hashes the first size bytes of f and compares the digest with
// want (MD5 for 32 hex digits, BLAKE3 otherwise). Large chunks are mapped
// into memory so the page cache is hashed without a copy.
func verifyData(f *os.File, size int64, want string) error {
	if want == "" {
		return errorf(http.StatusPreconditionFailed, "no hash to check the data against")
	}
	h, release := chunk.BorrowHash(chunk.AlgoForHash(want))
	defer release()
	n, err := hashFile(f, size, h)
	if errors.Is(err, syscall.EIO) {
		return errorf(http.StatusPreconditionFailed, "the data cannot be read")
	}
	if err != nil {
		return err
	}
	if n != size || !strings.EqualFold(hex.EncodeToString(h.Sum(nil)), want) {
		return errorf(http.StatusPreconditionFailed, "the data does not match the hash")
	}
	return nil
}

const mmapThreshold = 1 << 20

// hashFile writes the first size bytes of f to h and returns how many it
// could read.
func hashFile(f *os.File, size int64, h io.Writer) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if st.Size() < size {
		return st.Size(), nil
	}
	if size >= mmapThreshold {
		if n, ok, err := hashMapped(f, size, h); ok {
			return n, err
		}
	}
	buf, release := borrowBuf(size)
	defer release()
	return io.CopyBuffer(h, io.LimitReader(onlyReader{f}, size), buf)
}

// hashMapped hashes the first size bytes of f from a memory mapping (see
// withMapping).
func hashMapped(f *os.File, size int64, h io.Writer) (n int64, ok bool, err error) {
	ok, err = withMapping(f, size, func(data []byte) error {
		h.Write(data)
		return nil
	})
	if !ok || err != nil {
		return 0, ok, err
	}
	return size, true, nil
}

// onlyReader hides WriterTo/ReaderFrom so CopyBuffer uses the given buffer.
type onlyReader struct{ io.Reader }
