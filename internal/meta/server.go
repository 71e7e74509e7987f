package meta

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gridkeep/gridkeep/internal/jsonx"
)

// ServerOptions tune a Server. The zero value works.
type ServerOptions struct {
	// Registry is the service registry; nil means a new one with default
	// options.
	Registry *Registry
	// Logger receives the access log and failures; nil discards them.
	Logger *slog.Logger
	// RdirAddr is the "ip:port" of the namespace's reverse index, answered
	// for every volume; empty means the first live "rdir" service
	// registered.
	RdirAddr string
	// AccountAddr is the "ip:port" lb/choose answers for the account
	// service; empty means the host the request was sent to, this server.
	AccountAddr string
	// MaxBodyBytes bounds request bodies; zero means 16 MiB.
	MaxBodyBytes int64
	// MaxHeaderBytes bounds the total size of request header names and
	// values; zero means 64 KiB. Set http.Server.MaxHeaderBytes too.
	MaxHeaderBytes int
}

// Server serves the directory API (see the package documentation) over a
// Store and a Registry. It is an http.Handler, safe for concurrent use.
type Server struct {
	store Store
	reg   *Registry
	ns    Namespace
	opts  ServerOptions
	log   *slog.Logger
	mux   *http.ServeMux
	stats *metrics
	// admins holds the containers prepare read lately.
	admins *adminCache
	// lastVersion is the version the latest prepare gave (see newVersion).
	lastVersion atomic.Int64
}

// NewServer returns the directory API over store.
func NewServer(store Store, opts ServerOptions) (*Server, error) {
	if store == nil {
		return nil, errors.New("new directory server: nil store")
	}
	if opts.Registry == nil {
		opts.Registry = NewRegistry(RegistryOptions{})
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 16 << 20
	}
	if opts.MaxHeaderBytes <= 0 {
		opts.MaxHeaderBytes = 64 << 10
	}
	s := &Server{store: store, reg: opts.Registry, ns: store.Namespace().WithDefaults(),
		opts: opts, log: opts.Logger, mux: http.NewServeMux(), stats: newMetrics(opts.Registry),
		admins: newAdminCache()}
	s.routes()
	return s, nil
}

// Registry returns the server's service registry.
func (s *Server) Registry() *Registry { return s.reg }

// handlerFunc is a route handler; an error becomes an OpenIO error reply.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(pattern string, h handlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if ns := r.PathValue("ns"); ns != "" && ns != s.ns.Name {
			s.writeError(w, r, fmt.Errorf("%w: unknown namespace %q, this directory serves %q", ErrInvalid,
				short(ns), s.ns.Name))
			return
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// ServeHTTP serves one request: it bounds headers and body, tags the
// request with its id, dispatches it, logs it and counts it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	id := requestID(r)
	rec.Header()["x-oio-req-id"] = []string{id}
	r = r.WithContext(WithRequestID(r.Context(), id))
	_, pattern := s.mux.Handler(r)
	switch {
	case headerBytes(r) > s.opts.MaxHeaderBytes:
		s.writeError(rec, r, fmt.Errorf("%w: headers over %d bytes", ErrTooLarge,
			s.opts.MaxHeaderBytes))
	case pattern == "" && r.URL.Path == "/metrics":
		s.stats.handler.ServeHTTP(rec, r)
	case pattern == "":
		s.writeError(rec, r, fmt.Errorf("%w: %s %s", ErrNoRoute, r.Method, r.URL.Path))
	default:
		r.Body = http.MaxBytesReader(rec, r.Body, s.opts.MaxBodyBytes)
		s.mux.ServeHTTP(rec, r)
	}
	d := time.Since(start)
	s.stats.observe(pattern, rec.status, d)
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes),
		slog.Duration("duration", d), slog.String("request_id", id))
}

// requestID returns the client's request id, cut to 63 bytes, or a new
// one.
func requestID(r *http.Request) string {
	id := r.Header.Get("X-Oio-Req-Id")
	if id == "" {
		var b [8]byte
		rand.Read(b[:])
		return hex.EncodeToString(b[:])
	}
	if len(id) > 63 {
		id = id[:63]
	}
	return id
}

func headerBytes(r *http.Request) int {
	n := len(r.URL.RawQuery)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// recorder remembers the status and size of a reply for the access log.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// errorBody is an OpenIO error reply.
type errorBody struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, code := codeOf(err)
	switch {
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away (an interrupted command): no failure here.
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request abandoned by its client",
			slog.String("path", r.URL.Path), slog.String("error", err.Error()),
			slog.String("request_id", RequestID(r.Context())))
	case status >= 500 && status != http.StatusServiceUnavailable:
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("path", r.URL.Path), slog.String("error", err.Error()),
			slog.String("request_id", RequestID(r.Context())))
	}
	writeJSON(w, status, errorBody{Status: code, Message: err.Error()})
}

// writeJSON replies v as JSON. The content type is exactly
// "application/json": the Python client parses nothing else.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{Status: codeInternal, Message: err.Error()})
	}
	w.Header()["Content-Type"] = []string{"application/json"}
	w.WriteHeader(status)
	w.Write(b)
}

// decodeBody decodes a JSON request body into v; an empty body leaves v
// as it is.
func decodeBody(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return fmt.Errorf("%w: body over %d bytes", ErrTooLarge, tooBig.Limit)
	case err != nil:
		return fmt.Errorf("read body: %w", err)
	case len(strings.TrimSpace(string(b))) == 0:
		return nil
	}
	if err := jsonx.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: body: %v", ErrInvalid, err)
	}
	return nil
}

// setHeader sets a reply header under exactly the name given (OpenIO's
// headers are lowercase).
func setHeader(w http.ResponseWriter, k, v string) { w.Header()[k] = []string{v} }
