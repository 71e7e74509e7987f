package meta_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/meta/sqlstore"
)

// harness is a directory served over HTTP on loopback, with three chunk
// servers registered (nothing listens on their addresses: the directory
// never calls them).
type harness struct {
	t      *testing.T
	ctx    context.Context
	store  meta.Store
	clock  *fakeClock
	reg    *meta.Registry
	ts     *httptest.Server
	srv    *meta.Server
	client *meta.Client
	log    *syncBuffer
}

type harnessOptions struct {
	ns   meta.Namespace
	opts meta.ServerOptions
}

func newHarness(t *testing.T, ho harnessOptions) *harness {
	t.Helper()
	store, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "meta.db"),
		sqlstore.Options{Namespace: ho.ns, SyncNormal: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	h := &harness{t: t, ctx: context.Background(), store: store, clock: newFakeClock(),
		log: &syncBuffer{}}
	h.reg = meta.NewRegistry(meta.RegistryOptions{Now: h.clock.Now})
	mustRegister(t, h.reg, rawx("rawx-1", "127.0.0.1:6201", 50, 100),
		rawx("rawx-2", "127.0.0.1:6202", 50, 100), rawx("rawx-3", "127.0.0.1:6203", 50, 100))
	opts := ho.opts
	opts.Registry = h.reg
	opts.Logger = slog.New(slog.NewJSONHandler(h.log, nil))
	srv, err := meta.NewServer(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	h.ts = httptest.NewServer(srv)
	t.Cleanup(h.ts.Close)
	if h.client, err = meta.NewClient(h.ts.URL, meta.ClientOptions{
		Namespace: store.Namespace().Name}); err != nil {
		t.Fatal(err)
	}
	return h
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// reply is a raw HTTP answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request the way the OpenIO Python client does: JSON text
// without a Content-Type, the autocreate action mode on every request.
func (h *harness) do(method, path string, q url.Values, hdr map[string]string,
	body string) reply {
	h.t.Helper()
	u := h.ts.URL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("X-Oio-Req-Id", "req-flow")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

func (h *harness) proxy(method, route string, q url.Values, hdr map[string]string,
	body string) reply {
	h.t.Helper()
	return h.do(method, "/v3.0/"+h.store.Namespace().Name+"/"+route, q, hdr, body)
}

// want checks a reply's status and, when it has a body, its exact JSON
// content type.
func (r reply) want(t *testing.T, what string, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.status, status, r.body)
	}
	if len(r.body) > 0 && r.header.Get("Content-Type") != "application/json" {
		t.Errorf("%s: content type %q", what, r.header.Get("Content-Type"))
	}
	return r
}

// json decodes the reply body.
func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// oioCode returns the OpenIO code of an error reply.
func (r reply) oioCode(t *testing.T) int {
	t.Helper()
	var body struct {
		Status  int    `json:"status"`
		Message string `json:"message"`
	}
	r.json(t, &body)
	if body.Message == "" {
		t.Errorf("error reply without message: %s", r.body)
	}
	return body.Status
}

func keys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// drain returns and removes the events of the outbox.
func (h *harness) drain() []event.Event {
	h.t.Helper()
	recs, err := h.store.Pending(h.ctx, 10000)
	if err != nil {
		h.t.Fatal(err)
	}
	var ids []int64
	var evs []event.Event
	for _, r := range recs {
		ids, evs = append(ids, r.ID), append(evs, r.Event)
	}
	if err := h.store.Done(h.ctx, ids); err != nil {
		h.t.Fatal(err)
	}
	return evs
}

func ref(path string) url.Values {
	q := url.Values{"acct": {"myaccount"}, "ref": {"mycontainer"}}
	if path != "" {
		q.Set("path", path)
	}
	return q
}

func with(q url.Values, kv ...string) url.Values {
	c := url.Values{}
	for k, v := range q {
		c[k] = slices.Clone(v)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		c.Set(kv[i], kv[i+1])
	}
	return c
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
