package rdir_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gridkeep/gridkeep/internal/rdir"
	"github.com/gridkeep/gridkeep/internal/rdir/rdirtest"
)

// clientStore is a Client of a test server over a SQLite store; closing
// it closes all three.
type clientStore struct {
	*rdir.Client
	srv   *httptest.Server
	store *rdir.SQLiteStore
}

func (c clientStore) Close() error {
	c.Client.Close()
	c.srv.Close()
	return c.store.Close()
}

func newClientStore(t *testing.T) clientStore {
	t.Helper()
	store := newSQLite(t)
	srv := httptest.NewServer(rdir.NewHandler(store, rdir.HandlerOptions{}))
	c, err := rdir.NewClient(srv.URL, rdir.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return clientStore{Client: c, srv: srv, store: store}
}

// TestClientConformance runs the Store suite through the client, the HTTP
// handler and the SQLite store.
func TestClientConformance(t *testing.T) {
	rdirtest.Run(t, func(t *testing.T) rdir.Store { return newClientStore(t) })
}

const testVol = "vol1"

// snapshot is the observable state of the test volume.
type snapshot struct {
	Records []rdir.Record
	Admin   rdir.Admin
	Volumes []string // the other volumes that exist
}

func takeSnapshot(t *testing.T, s rdir.Store) snapshot {
	t.Helper()
	ctx := context.Background()
	var snap snapshot
	for r, err := range rdir.All(ctx, s, testVol, rdir.ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		snap.Records = append(snap.Records, r)
	}
	var err error
	if snap.Admin, err = s.Show(ctx, testVol); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"new", "other"} {
		if _, err := s.Show(ctx, v); err == nil {
			snap.Volumes = append(snap.Volumes, v)
		}
	}
	return snap
}

func newTestServer(t *testing.T, opts rdir.HandlerOptions) (*rdir.SQLiteStore, *httptest.Server) {
	t.Helper()
	store := newSQLite(t)
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	if err := store.CreateVolume(ctx, testVol); err != nil {
		t.Fatal(err)
	}
	if err := store.Push(ctx, testVol, rdirtest.Recs(0, 3, 2, 100)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rdir.NewHandler(store, opts))
	t.Cleanup(srv.Close)
	return store, srv
}

func do(t *testing.T, srv *httptest.Server, method, target, body string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+target, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// recJSON is the push body of test record i, with fields overridden.
func recJSON(i int, override map[string]any) string {
	r := rdirtest.Rec(0, i, 100)
	m := map[string]any{"container_id": r.ContainerID, "chunk_id": r.ChunkID,
		"content_id": r.ContentID, "path": r.Path, "version": r.Version, "mtime": r.Mtime}
	for k, v := range override {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

type httpCase struct {
	name   string
	method string
	target string
	body   string
	status int
	want   any // decoded JSON body; nil for no body
}

func runHTTPCases(t *testing.T, cases []httpCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store, srv := newTestServer(t, rdir.HandlerOptions{MaxBodyBytes: 4096})
			before := takeSnapshot(t, store)
			resp, body := do(t, srv, tc.method, tc.target, tc.body)
			checkReply(t, resp, body, tc.status, tc.want)
			if tc.status >= 400 {
				if diff := cmp.Diff(before, takeSnapshot(t, store)); diff != "" {
					t.Errorf("refused request changed the store (-before +after):\n%s", diff)
				}
			}
		})
	}
}

func checkReply(t *testing.T, resp *http.Response, body []byte, status int, want any) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if want == nil {
		if len(body) != 0 {
			t.Errorf("body %q, want none", body)
		}
		return
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want exactly application/json", ct)
	}
	var got any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("reply %q is not JSON: %v", body, err)
	}
	if w, ok := want.(errorBody); ok {
		checkErrorBody(t, got, int(w))
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reply (-want +got):\n%s", diff)
	}
}

// errorBody is the wanted reply of an error: {"status": code, "message": ...}.
type errorBody int

func checkErrorBody(t *testing.T, got any, code int) {
	t.Helper()
	m, ok := got.(map[string]any)
	if !ok || m["status"] != float64(code) || m["message"] == "" || len(m) != 2 {
		t.Errorf("error reply %v, want {\"status\": %d, \"message\": ...}", got, code)
	}
}

// Targets and bodies of the write cases.
const (
	push = "/v1/rdir/push?vol=vol1"
	del  = "/v1/rdir/delete?vol=vol1"
)

func with(field string, v any) string { return recJSON(9, map[string]any{field: v}) }

func without(field string) string { return with(field, nil) }

func array(items ...string) string { return "[" + strings.Join(items, ",") + "]" }

func TestHTTPWrites(t *testing.T) {
	big := array(slices.Repeat([]string{recJSON(50, nil)}, 31)...)
	keysOnly := recJSON(1, map[string]any{"path": nil, "version": nil, "mtime": nil, "content_id": nil})
	e400, e404 := errorBody(400), errorBody(404)
	runHTTPCases(t, []httpCase{
		{"create", "POST", "/v1/rdir/create?vol=new", "", 201, nil},
		{"create existing", "POST", "/v1/rdir/create?vol=vol1", "", 201, nil},
		{"push object", "POST", push, recJSON(9, nil), 204, nil},
		{"push array", "POST", push, array(recJSON(9, nil), recJSON(10, nil)), 204, nil},
		{"push lowercase ids", "POST", push, strings.ToLower(with("path", "p")), 204, nil},
		{"push creates", "POST", "/v1/rdir/push?vol=new&create=1", recJSON(9, nil), 204, nil},
		{"push unknown volume", "POST", "/v1/rdir/push?vol=other", recJSON(9, nil), 404, e404},
		{"push create=False", "POST", "/v1/rdir/push?vol=other&create=False", recJSON(9, nil), 404, e404},
		{"push no container_id", "POST", push, without("container_id"), 400, e400},
		{"push no chunk_id", "POST", push, without("chunk_id"), 400, e400},
		{"push no content_id", "POST", push, without("content_id"), 400, e400},
		{"push no path", "POST", push, without("path"), 400, e400},
		{"push no version", "POST", push, without("version"), 400, e400},
		{"push no mtime", "POST", push, without("mtime"), 400, e400},
		{"push version string", "POST", push, with("version", "12"), 400, e400},
		{"push mtime fraction", "POST", push, with("mtime", 1.5), 400, e400},
		{"push chunk id not hex", "POST", push, with("chunk_id", "../../etc/passwd-0000000000"), 400, e400},
		{"push one bad in array", "POST", push, array(recJSON(9, nil), with("container_id", "x")), 400, e400},
		{"push bad record with create", "POST", "/v1/rdir/push?vol=new&create=true", without("mtime"), 400,
			e400},
		{"push bad JSON", "POST", push, `{"container_id":`, 400, e400},
		{"push null", "POST", push, `null`, 400, e400},
		{"push number", "POST", push, `5`, 400, e400},
		{"push no body", "POST", push, ``, 400, e400},
		{"push too large", "POST", push, big, 413, errorBody(413)},
		{"push bad create flag", "POST", "/v1/rdir/push?vol=new&create=maybe", recJSON(9, nil), 400, e400},
		{"delete object", "DELETE", del, recJSON(0, nil), 204, nil},
		{"delete keys only", "DELETE", del, keysOnly, 204, nil},
		{"delete array", "DELETE", del, array(recJSON(0, nil), recJSON(1, nil)), 204, nil},
		{"delete no body", "DELETE", del, "", 400, e400},
		{"delete no chunk_id", "DELETE", del, without("chunk_id"), 400, e400},
		{"delete unknown volume", "DELETE", "/v1/rdir/delete?vol=other", recJSON(0, nil), 404, e404},
		{"no volume", "POST", "/v1/rdir/push", recJSON(9, nil), 400, e400},
		{"volume with control character", "POST", "/v1/rdir/create?vol=a%0Ab", "", 400, e400},
		{"wrong method", "GET", push, "", 405, errorBody(405)},
		{"unknown route", "POST", "/v1/rdir/meta2/push?vol=vol1", recJSON(9, nil), 404, e404},
	})
}

func TestHTTPWritesTakeEffect(t *testing.T) {
	store, srv := newTestServer(t, rdir.HandlerOptions{})
	ctx := context.Background()
	resp, body := do(t, srv, "POST", "/v1/rdir/push?vol=new&create=true",
		array(recJSON(7, nil), strings.ToLower(recJSON(8, nil))))
	checkReply(t, resp, body, 204, nil)
	page, err := store.Fetch(ctx, "new", rdir.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := rdirtest.Sorted([]rdir.Record{rdirtest.Rec(0, 7, 100), rdirtest.Rec(0, 8, 100)})
	if diff := cmp.Diff(want, page.Records); diff != "" {
		t.Errorf("pushed records (-want +got):\n%s", diff)
	}
	resp, body = do(t, srv, "DELETE", "/v1/rdir/delete?vol=new", recJSON(7, nil))
	checkReply(t, resp, body, 204, nil)
	if page, err = store.Fetch(ctx, "new", rdir.ListOptions{}); err != nil || len(page.Records) != 1 {
		t.Errorf("after delete: %d records, %v; want 1", len(page.Records), err)
	}
}

func TestHTTPAccessLog(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, srv := newTestServer(t, rdir.HandlerOptions{Logger: logger})
	resp, body := do(t, srv, "POST", "/v1/rdir/create?vol=new", "")
	checkReply(t, resp, body, 201, nil)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("access log %q: %v", buf.String(), err)
	}
	for k, want := range map[string]any{"volume": "new", "status": float64(201),
		"method": "POST", "path": "/v1/rdir/create"} {
		if rec[k] != want {
			t.Errorf("access log %s = %v, want %v", k, rec[k], want)
		}
	}
}

// TestMetrics: /metrics counts requests by route and status code, and the
// records of accepted pushes and deletes; refused requests count no record.
func TestMetrics(t *testing.T) {
	_, srv := newTestServer(t, rdir.HandlerOptions{})
	for _, rq := range []struct {
		method, target, body string
		status               int
	}{
		{"POST", push, array(recJSON(10, nil), recJSON(11, nil)), 204},
		{"POST", push, array(with("chunk_id", "x")), 400},
		{"DELETE", del, recJSON(10, nil), 204},
		{"GET", "/v1/rdir/nothing", "", 404},
	} {
		if resp, body := do(t, srv, rq.method, rq.target, rq.body); resp.StatusCode != rq.status {
			t.Fatalf("%s %s: %d %s, want %d", rq.method, rq.target, resp.StatusCode, body, rq.status)
		}
	}
	resp, body := do(t, srv, "GET", "/metrics", "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %v", resp.StatusCode, resp.Header)
	}
	for _, want := range []string{
		`gridkeep_rdir_requests_total{code="204",route="push"} 1`,
		`gridkeep_rdir_requests_total{code="400",route="push"} 1`,
		`gridkeep_rdir_requests_total{code="204",route="delete"} 1`,
		`gridkeep_rdir_requests_total{code="404",route="other"} 1`,
		`gridkeep_rdir_request_duration_seconds_count{code="204",route="push"} 1`,
		`gridkeep_rdir_records_total{op="pushed"} 2`,
		`gridkeep_rdir_records_total{op="deleted"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
