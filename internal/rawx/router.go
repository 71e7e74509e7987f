package rawx

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

// httpError is an error with the HTTP status it answers with.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func errorf(code int, format string, args ...any) error {
	return &httpError{code: code, msg: fmt.Sprintf(format, args...)}
}

// statusOf maps an error to its HTTP status, as OpenIO's rawx does, plus
// 507 for a full disk.
func statusOf(err error) int {
	var he *httpError
	switch {
	case errors.As(err, &he):
		return he.code
	case errors.Is(err, os.ErrNotExist):
		return http.StatusNotFound
	case errors.Is(err, os.ErrExist):
		return http.StatusConflict
	case errors.Is(err, os.ErrPermission):
		return http.StatusForbidden
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return http.StatusInsufficientStorage
	case errors.Is(err, io.ErrUnexpectedEOF):
		return 499 // the client went away in the middle of its body
	default:
		return http.StatusInternalServerError
	}
}

// recorder remembers the status and body size of a reply. It keeps the
// io.ReaderFrom of the underlying writer so that GET can use sendfile.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64 // body bytes sent
	in     int64 // body bytes received, set by the handlers that read one
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := r.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(struct{ io.Writer }{r.ResponseWriter}, src)
	}
	r.bytes += n
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// ServeHTTP routes a request, checks the Host header and records the access.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.serving.Add(1)
	defer s.serving.Add(-1)
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	reqID := requestID(r)
	if reqID != "" {
		w.Header()[HdrReqID] = []string{reqID}
	}
	route, err := s.route(rec, r, start)
	broken := err != nil && rec.status != 0 // failed after its headers were sent
	if err != nil && rec.status == 0 {
		if r.Method == http.MethodPut {
			// The body may be unread: close rather than wait to drain it
			// from a client that may never send it.
			w.Header().Set("Connection", "close")
		}
		s.writeError(rec, err)
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	elapsed := time.Since(start)
	s.account(route, r, rec, elapsed)
	s.log.Info("access", "method", r.Method, "path", r.URL.Path, "status", rec.status,
		"bytes_in", rec.in, "bytes_out", rec.bytes, "duration", elapsed,
		"req_id", reqID, "remote", r.RemoteAddr)
	switch {
	case broken:
		s.log.Warn("reply broken off", "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "bytes_out", rec.bytes, "req_id", reqID, "err", err)
	case err != nil && rec.status >= 500:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "req_id", reqID, "err", err)
	}
}

// writeError answers with the status of err. Like OpenIO's rawx, client
// errors have an empty body; the reason goes in the X-Error header. Server
// errors also carry it in a text body.
func (s *Server) writeError(w http.ResponseWriter, err error) {
	code := statusOf(err)
	h := w.Header()
	if code == 499 {
		// Nobody is left to read the reply; close the connection. The
		// status is still the one logged and counted.
		h.Set("Connection", "close")
		w.WriteHeader(code)
		return
	}
	var he *httpError
	msg := ""
	if code >= 500 || errors.As(err, &he) {
		// Paths are told relative to the volume: where the server keeps
		// its files is no business of its clients.
		msg = strings.ReplaceAll(err.Error(), "\n", " ")
		msg = strings.ReplaceAll(msg, filepath.Clean(s.cfg.Volume)+"/", "")
	}
	if msg != "" {
		h["X-Error"] = []string{msg}
	}
	if code >= 500 && msg != "" {
		h["Content-Type"] = []string{"text/plain; charset=utf-8"}
		w.WriteHeader(code)
		io.WriteString(w, msg+"\n")
		return
	}
	h["Content-Length"] = []string{"0"}
	w.WriteHeader(code)
}

// route dispatches on the path and method and returns the route name used
// in metrics; now is when the request came.
func (s *Server) route(w http.ResponseWriter, r *http.Request, now time.Time) (string, error) {
	path := r.URL.Path
	for strings.HasPrefix(path, "//") {
		path = path[1:]
	}
	if !s.hostAllowed(r.Host) {
		return "other", errorf(http.StatusTeapot, "host %q is neither this service's id %q nor its address %q",
			r.Host, s.id, s.cfg.Addr)
	}
	switch path {
	case "/info":
		return "info", s.serveInfo(w, r)
	case "/stat":
		return "stat", s.serveStat(w, r)
	case "/metrics":
		s.metrics.handler.ServeHTTP(w, r)
		return "metrics", nil
	}
	if err := s.volumeLost(now); err != nil {
		return "other", err
	}
	if path == "/list" {
		return "list", s.serveList(w, r)
	}
	id, err := chunk.NormalizeID(strings.TrimPrefix(path, "/"))
	if err != nil {
		return "other", errorf(http.StatusBadRequest, "not a chunk id: want 24 to 64 hexadecimal digits")
	}
	switch r.Method {
	case http.MethodPut:
		return "put", s.put(w, r, id)
	case http.MethodGet:
		return "get", s.get(w, r, id)
	case http.MethodHead:
		return "head", s.head(w, r, id)
	case http.MethodDelete:
		return "delete", s.delete(w, r, id)
	case "COPY":
		return "copy", s.copy(w, r, id)
	case http.MethodPost:
		return "post", s.post(w, r, id)
	default:
		return "other", errorf(http.StatusMethodNotAllowed, "")
	}
}

// hostAllowed reports whether the Host header names this service: its id
// or its address. OpenIO's rawx answers 418 otherwise.
func (s *Server) hostAllowed(host string) bool {
	return host == s.cfg.Addr || host == s.id
}

func requestID(r *http.Request) string {
	id := r.Header.Get(HdrReqID)
	if id == "" {
		id = r.Header.Get(HdrTransID)
	}
	if len(id) > 63 {
		id = id[:63]
	}
	return id
}
