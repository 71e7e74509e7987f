package loadgen

import (
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zeebo/blake3"
)

// DefaultNullChunks bounds the chunk sizes a NullServer remembers.
const DefaultNullChunks = 1 << 22

// nullHash is the chunk hash a NullServer reports for an upload: it does
// not hash what it discards.
const nullHash = "0000000000000000000000000000000000000000000000000000000000000000"

// NullServer answers OpenIO's chunk routes while storing nothing but each
// chunk's size, so that it costs no more than HTTP itself: the ceiling of
// any chunk server on the same machine.
//
//   - PUT /<id> checks the mandatory headers, reads the whole body into a
//     scratch buffer and remembers the size (201; 409 for a known id; 507
//     once MaxChunks sizes are remembered). The hash it reports is not
//     computed.
//   - GET /<id> sends that many bytes from a shared in-memory buffer.
//     Range is ignored.
//   - HEAD /<id> answers the headers; with X-oio-check-hash it first
//     hashes that many bytes of the buffer with BLAKE3, for the cost of it.
//   - DELETE /<id> forgets the chunk; GET /info describes the server.
//
// Like a chunk server it answers 418 when the Host header is not its
// address, 400 for an invalid chunk id and 405 for other methods.
// A NullServer is safe for concurrent use.
type NullServer struct {
	// Addr, when set, is the only Host header accepted.
	Addr string
	// MaxChunks bounds the sizes remembered; 0 means DefaultNullChunks.
	MaxChunks int

	mu    sync.RWMutex
	sizes map[chunkKey]int64

	growMu sync.Mutex
	data   atomic.Pointer[[]byte] // zero bytes served by GET
}

// chunkKey is a chunk id of 24 to 64 hex digits packed in half the space.
type chunkKey struct {
	n      uint8
	digits [32]byte
}

// parseChunkKey validates a chunk id and packs it; case does not matter.
func parseChunkKey(s string) (chunkKey, bool) {
	var k chunkKey
	if len(s) < 24 || len(s) > 64 {
		return k, false
	}
	for i := 0; i < len(s); i++ {
		v, ok := hexValue(s[i])
		if !ok {
			return k, false
		}
		k.digits[i/2] |= v << (4 * (1 - i%2))
	}
	k.n = uint8(len(s))
	return k, true
}

func hexValue(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// HTTPServer returns an http.Server for s with the timeouts of a chunk
// server.
func (s *NullServer) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// ServeHTTP routes one request.
func (s *NullServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	for strings.HasPrefix(path, "//") {
		path = path[1:]
	}
	switch {
	case s.Addr != "" && r.Host != s.Addr:
		reply(w, http.StatusTeapot)
		return
	case path == "/info":
		s.info(w)
		return
	}
	id := strings.TrimPrefix(path, "/")
	key, ok := parseChunkKey(id)
	if !ok {
		reply(w, http.StatusBadRequest)
		return
	}
	id = strings.ToUpper(id)
	switch r.Method {
	case http.MethodPut:
		s.put(w, r, id, key)
	case http.MethodGet, http.MethodHead:
		s.read(w, r, id, key)
	case http.MethodDelete:
		s.delete(w, key)
	default:
		reply(w, http.StatusMethodNotAllowed)
	}
}

// reply answers with an empty body.
func reply(w http.ResponseWriter, code int) {
	if code != http.StatusNoContent {
		w.Header()["Content-Length"] = []string{"0"}
	}
	w.WriteHeader(code)
}

func (s *NullServer) info(w http.ResponseWriter) {
	w.Header()["Content-Type"] = []string{"text/plain; charset=utf-8"}
	io.WriteString(w, "namespace OPENIO\npath /dev/null\nhash_depth 1\nhash_width 3\n")
}

var mandatoryPut = []string{hdrStoragePolicy, hdrChunkMethod, hdrChunkPos, hdrFullPath}

// nullBufPool holds the scratch buffers upload bodies are read into.
var nullBufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

func (s *NullServer) put(w http.ResponseWriter, r *http.Request, id string, key chunkKey) {
	for _, h := range mandatoryPut {
		if r.Header.Get(h) == "" {
			reply(w, http.StatusBadRequest)
			return
		}
	}
	if _, ok := s.size(key); ok {
		reply(w, http.StatusConflict)
		return
	}
	n, ok := discardBody(r.Body)
	if !ok {
		reply(w, http.StatusBadRequest)
		return
	}
	if n > MaxSize {
		reply(w, http.StatusRequestEntityTooLarge)
		return
	}
	if code := s.remember(key, n); code != http.StatusCreated {
		reply(w, code)
		return
	}
	s.grow(n)
	h := w.Header()
	h[hdrChunkHash] = []string{nullHash}
	h[hdrChunkSize] = []string{strconv.FormatInt(n, 10)}
	h["Connection"] = []string{"keep-alive"}
	reply(w, http.StatusCreated)
}

// discardBody reads body to its end and returns its length, reading no
// more than MaxSize+1 bytes; ok is false if the body broke off.
func discardBody(body io.Reader) (int64, bool) {
	bp := nullBufPool.Get().(*[]byte)
	defer nullBufPool.Put(bp)
	var n int64
	for n <= MaxSize {
		k, err := body.Read(*bp)
		n += int64(k)
		if err == io.EOF {
			return n, true
		}
		if err != nil {
			return n, false
		}
	}
	return n, true
}

// remember records the size of a new chunk and returns 201, or 409 if the
// chunk appeared meanwhile, or 507 if no more sizes may be remembered.
func (s *NullServer) remember(key chunkKey, n int64) int {
	limit := s.MaxChunks
	if limit <= 0 {
		limit = DefaultNullChunks
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sizes == nil {
		s.sizes = make(map[chunkKey]int64)
	}
	if _, ok := s.sizes[key]; ok {
		return http.StatusConflict
	}
	if len(s.sizes) >= limit {
		return http.StatusInsufficientStorage
	}
	s.sizes[key] = n
	return http.StatusCreated
}

func (s *NullServer) size(key chunkKey) (int64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n, ok := s.sizes[key]
	return n, ok
}

// grow makes the shared buffer at least n bytes long.
func (s *NullServer) grow(n int64) {
	if p := s.data.Load(); p != nil && int64(len(*p)) >= n {
		return
	}
	s.growMu.Lock()
	defer s.growMu.Unlock()
	if p := s.data.Load(); p != nil && int64(len(*p)) >= n {
		return
	}
	b := make([]byte, n)
	s.data.Store(&b)
}

// buffer returns the first n bytes of the shared buffer.
func (s *NullServer) buffer(n int64) []byte {
	s.grow(n)
	return (*s.data.Load())[:n]
}

func (s *NullServer) read(w http.ResponseWriter, r *http.Request, id string, key chunkKey) {
	n, ok := s.size(key)
	if !ok {
		reply(w, http.StatusNotFound)
		return
	}
	h := w.Header()
	h[hdrChunkID] = []string{id}
	h[hdrChunkPos] = []string{"0"}
	h[hdrChunkSize] = []string{strconv.FormatInt(n, 10)}
	h[hdrChunkHash] = []string{nullHash}
	h["Content-Length"] = []string{strconv.FormatInt(n, 10)}
	if r.Method == http.MethodHead {
		if check, _ := strconv.ParseBool(r.Header.Get(hdrCheckHash)); check {
			sum := blake3.Sum256(s.buffer(n))
			h[hdrChunkHash] = []string{strings.ToUpper(hex.EncodeToString(sum[:]))}
		}
		h["Accept-Ranges"] = []string{"bytes"}
		w.WriteHeader(http.StatusOK)
		return
	}
	h["Content-Type"] = []string{"application/octet-stream"}
	w.WriteHeader(http.StatusOK)
	w.Write(s.buffer(n))
}

func (s *NullServer) delete(w http.ResponseWriter, key chunkKey) {
	s.mu.Lock()
	_, ok := s.sizes[key]
	delete(s.sizes, key)
	s.mu.Unlock()
	if !ok {
		reply(w, http.StatusNotFound)
		return
	}
	reply(w, http.StatusNoContent)
}
