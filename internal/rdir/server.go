package rdir

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxBodyBytes bounds request bodies unless HandlerOptions says
// otherwise: room for a push of several thousand records.
const DefaultMaxBodyBytes = 8 << 20

// Reply headers of listings.
const (
	HeaderListTruncated = "x-oio-list-truncated"
	HeaderListMarker    = "x-oio-list-marker"
)

// contentTypeJSON is compared as a whole string by OpenIO's Python client:
// no parameters may follow it.
const contentTypeJSON = "application/json"

// HandlerOptions configures NewHandler. The zero value works.
type HandlerOptions struct {
	// Logger receives one access record per request (push and delete at
	// debug level, failures at error level). Nil discards them.
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies; 0 means DefaultMaxBodyBytes.
	// Larger bodies get 413 and change nothing.
	MaxBodyBytes int64
}

// NewHandler returns the HTTP handler of OpenIO's rdir routes for chunk
// volumes, /v1/rdir/{create,push,delete,fetch,status} and
// /v1/rdir/admin/{incident,lock,unlock,show,clear}, serving store, and
// its Prometheus metrics on GET /metrics (requests and latency by route
// and status code, records pushed and deleted). See the package doc for
// the protocol.
func NewHandler(store Store, opts HandlerOptions) http.Handler {
	h := &handler{store: store, log: opts.Logger, maxBody: opts.MaxBodyBytes, metrics: newMetrics()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	return h
}

type handler struct {
	store   Store
	log     *slog.Logger
	maxBody int64
	metrics *metrics
}

// request is a parsed request: its volume is valid, its body read.
type request struct {
	method string
	vol    string
	query  url.Values
	body   []byte
}

// reply is what a route answers. A nil body sends no body.
type reply struct {
	status int
	body   any
	header http.Header
	err    error // the cause of an error reply, for the log
}

type route struct {
	methods []string
	serve   func(h *handler, ctx context.Context, rq request) reply
	quiet   bool // log success at debug level
}

var routes = map[string]route{
	"/v1/rdir/create":         {methods: []string{"POST"}, serve: (*handler).create},
	"/v1/rdir/push":           {methods: []string{"POST"}, serve: (*handler).push, quiet: true},
	"/v1/rdir/delete":         {methods: []string{"DELETE"}, serve: (*handler).delete, quiet: true},
	"/v1/rdir/fetch":          {methods: []string{"GET", "POST"}, serve: (*handler).fetch},
	"/v1/rdir/status":         {methods: []string{"GET", "POST"}, serve: (*handler).status},
	"/v1/rdir/admin/incident": {methods: []string{"GET", "POST"}, serve: (*handler).incident},
	"/v1/rdir/admin/lock":     {methods: []string{"POST"}, serve: (*handler).lock},
	"/v1/rdir/admin/unlock":   {methods: []string{"POST"}, serve: (*handler).unlock},
	"/v1/rdir/admin/show":     {methods: []string{"GET"}, serve: (*handler).show},
	"/v1/rdir/admin/clear":    {methods: []string{"POST"}, serve: (*handler).clear},
}

// ServeHTTP routes, parses and answers one request, and logs it.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/metrics" && r.Method == http.MethodGet {
		h.metrics.handler.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	rt, found := routes[r.URL.Path]
	var rp reply
	vol := r.URL.Query().Get("vol")
	switch {
	case !found:
		rp = errorReply(http.StatusNotFound, errors.New("route not managed"))
	case !allowed(rt.methods, r.Method):
		w.Header().Set("Allow", strings.Join(rt.methods, ", "))
		rp = errorReply(http.StatusMethodNotAllowed, errors.New("bad method"))
	default:
		rp = h.serve(r, rt)
	}
	n := h.write(w, rp)
	d := time.Since(start)
	h.metrics.observe(r.URL.Path, rp.status, d)
	h.logRequest(r, rt.quiet, vol, rp, n, d)
}

func allowed(methods []string, m string) bool {
	for _, a := range methods {
		if a == m {
			return true
		}
	}
	return false
}

// serve parses the request and runs the route.
func (h *handler) serve(r *http.Request, rt route) reply {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, h.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errorReply(http.StatusRequestEntityTooLarge,
				fmt.Errorf("body larger than %d bytes", h.maxBody))
		}
		return errorReply(http.StatusBadRequest, fmt.Errorf("read body: %w", err))
	}
	if len(bytes.TrimSpace(body)) > 0 && !json.Valid(body) {
		return errorReply(http.StatusBadRequest, errors.New("body is not valid JSON"))
	}
	q := r.URL.Query()
	vol := q.Get("vol")
	if vol == "" {
		return errorReply(http.StatusBadRequest, errors.New("no volume id"))
	}
	if err := ValidateVolume(vol); err != nil {
		return storeErrorReply(err)
	}
	return rt.serve(h, r.Context(), request{method: r.Method, vol: vol, query: q, body: body})
}

// write sends rp and returns the number of body bytes written.
func (h *handler) write(w http.ResponseWriter, rp reply) int {
	for k, vs := range rp.header {
		w.Header()[k] = vs
	}
	if rp.body == nil {
		w.WriteHeader(rp.status)
		return 0
	}
	b, err := json.Marshal(rp.body)
	if err != nil {
		rp = errorReply(http.StatusInternalServerError, err)
		b, _ = json.Marshal(rp.body)
	}
	w.Header().Set("Content-Type", contentTypeJSON)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(rp.status)
	n, _ := w.Write(b)
	return n
}

func (h *handler) logRequest(r *http.Request, quiet bool, vol string, rp reply, n int,
	d time.Duration) {
	level := slog.LevelInfo
	switch {
	case rp.status >= 500:
		level = slog.LevelError
	case quiet && rp.status < 300:
		level = slog.LevelDebug
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.String("volume", vol), slog.Int("status", rp.status),
		slog.Int("bytes", n), slog.Duration("duration", d),
	}
	if rp.err != nil {
		attrs = append(attrs, slog.String("error", rp.err.Error()))
	}
	h.log.LogAttrs(r.Context(), level, "rdir request", attrs...)
}

func errorReply(status int, err error) reply {
	return reply{status: status, err: err,
		body: wireError{Status: status, Message: err.Error()}}
}

// storeErrorReply maps a Store error to its status code. Causes other than
// the caller's are not described to the caller.
func storeErrorReply(err error) reply {
	switch {
	case errors.Is(err, ErrInvalid):
		return errorReply(http.StatusBadRequest, err)
	case errors.Is(err, ErrNoVolume):
		return errorReply(http.StatusNotFound, err)
	case errors.Is(err, ErrLocked):
		return errorReply(http.StatusForbidden, err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		rp := errorReply(http.StatusServiceUnavailable, errors.New("request canceled"))
		rp.err = err
		return rp
	}
	rp := errorReply(http.StatusInternalServerError, errors.New("backend error"))
	rp.err = err
	return rp
}

// result turns the outcome of a store call into a reply with status ok.
func result(ok int, body any, err error) reply {
	if err != nil {
		return storeErrorReply(err)
	}
	return reply{status: ok, body: body}
}

// parseBool parses a boolean parameter the way OpenIO does, regardless of
// case; a missing parameter is false.
func parseBool(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	switch strings.ToLower(v) {
	case "", "no", "false", "off", "disable", "disabled", "0", "nope":
		return false, nil
	case "yes", "true", "on", "enable", "enabled", "1", "yeah":
		return true, nil
	}
	return false, invalidf("parameter %s=%q is not a boolean", name, clip(v))
}

// autocreate creates the volume if the request says create=true.
func (h *handler) autocreate(ctx context.Context, rq request) error {
	create, err := parseBool(rq.query, "create")
	if err != nil || !create {
		return err
	}
	return h.store.CreateVolume(ctx, rq.vol)
}
