package meta_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
)

func TestErrorReplies(t *testing.T) {
	h := newHarness(t, harnessOptions{opts: meta.ServerOptions{MaxBodyBytes: 4096,
		MaxHeaderBytes: 2048}})
	h.proxy("POST", "container/create", ref(""), nil, "").want(t, "create", http.StatusCreated)
	h.proxy("POST", "content/create", ref("o"), map[string]string{
		"X-Oio-Content-Meta-Length": "0"}, `{"chunks": []}`).want(t, "commit", http.StatusNoContent)
	other := url.Values{"acct": {"myaccount"}, "ref": {"other"}}
	tests := []struct {
		name   string
		method string
		route  string
		q      url.Values
		hdr    map[string]string
		body   string
		status int
		code   int
	}{
		{"unknown container", "GET", "container/list", other, nil, "", 404, 431},
		{"unknown object", "GET", "content/locate", ref("nothing"), nil, "", 404, 420},
		{"object in unknown container", "GET", "content/locate",
			with(other, "path", "o"), nil, "", 404, 431},
		{"prepare without autocreate", "POST", "content/prepare2", with(other, "path", "o"),
			nil, `{"size": 1}`, 404, 431},
		{"commit without autocreate", "POST", "content/create", with(other, "path", "o"),
			map[string]string{"X-Oio-Content-Meta-Length": "0"}, `{"chunks": []}`, 404, 431},
		{"empty object name", "GET", "content/locate", ref(""), nil, "", 400, 400},
		{"container name too long", "POST", "container/create",
			url.Values{"acct": {"a"}, "ref": {strings.Repeat("c", 256)}}, nil, "", 400, 400},
		{"bad boolean", "GET", "container/list", with(ref(""), "properties", "maybe"), nil, "",
			400, 400},
		{"bad JSON", "POST", "container/set_properties", ref(""), nil, "{", 400, 400},
		{"unknown policy", "POST", "content/prepare2", ref("o"), nil,
			`{"size": 1, "policy": "EC"}`, 400, 480},
		{"not enough services", "POST", "content/prepare2", ref("o"), nil,
			`{"size": 1, "policy": "THREECOPIES"}`, 0, 0}, // replaced below
		{"not empty", "POST", "container/destroy", ref(""), nil, "", 409, 438},
		{"existing version", "POST", "content/create", ref("o"), map[string]string{
			"X-Oio-Content-Meta-Version": "0"}, "", 0, 0}, // replaced below
		{"body too large", "POST", "container/set_properties", ref(""), nil,
			`{"properties": {"k": "` + strings.Repeat("v", 5000) + `"}}`, 413, 400},
		{"headers too large", "GET", "container/show", ref(""),
			map[string]string{"X-Big": strings.Repeat("h", 3000)}, "", 413, 400},
		{"wrong namespace", "GET", "container/show", ref(""), nil, "", 0, 0},
		{"no such route", "GET", "container/nothing", ref(""), nil, "", 404, 404},
		{"wrong method", "DELETE", "container/show", ref(""), nil, "", 404, 404},
	}
	obj, err := h.client.Locate(h.ctx, "myaccount", "mycontainer", "o", 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range tests {
		switch tests[i].name {
		case "not enough services":
			h.clock.Advance(time.Minute)
			h.reg.Heartbeat("rawx", "rawx-1", 50, 100)
			h.reg.Heartbeat("rawx", "rawx-2", 50, 100)
			tests[i].status, tests[i].code = 503, 481
		case "existing version":
			tests[i].hdr["X-Oio-Content-Meta-Version"] = itoa(obj.Version)
			tests[i].status, tests[i].code = 409, 421
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := "/v3.0/OPENIO/" + tc.route
			if tc.name == "wrong namespace" {
				path, tc.status, tc.code = "/v3.0/ELSEWHERE/"+tc.route, 400, 400
			}
			r := h.do(tc.method, path, tc.q, tc.hdr, tc.body).want(t, tc.name, tc.status)
			if code := r.oioCode(t); code != tc.code {
				t.Errorf("oio code %d, want %d", code, tc.code)
			}
		})
	}
}

// TestDeeplyNestedJSON: a body nested deeper than encoding/json allows is
// refused like any bad JSON, however large, and the server goes on.
func TestDeeplyNestedJSON(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.proxy("POST", "container/create", ref(""), nil, "").want(t, "create", http.StatusCreated)
	deep := strings.Repeat("[", 3<<20)
	for _, tc := range []struct{ route, body string }{
		{"container/set_properties", deep},
		{"content/set_properties", `{"properties": {"a": "b"}, "x": ` + deep},
		{"content/create", `{"chunks": ` + deep},
	} {
		r := h.proxy("POST", tc.route, ref("o"), map[string]string{"X-Oio-Content-Meta-Length": "0"},
			tc.body).want(t, tc.route, http.StatusBadRequest)
		if !strings.Contains(string(r.body), "nested deeper") {
			t.Errorf("%s: %s", tc.route, r.body)
		}
	}
	h.proxy("GET", "container/show", ref(""), nil, "").want(t, "show", http.StatusOK)
}

// TestCommitAutocreate checks that a commit to a missing container creates
// it when asked to, and stores the object there.
func TestCommitAutocreate(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.proxy("POST", "content/create", ref("o"), map[string]string{
		"X-Oio-Content-Meta-Length": "0", "X-Oio-Action-Mode": "autocreate"}, `{"chunks": []}`).
		want(t, "commit", http.StatusNoContent)
	h.proxy("GET", "container/show", ref(""), nil, "").want(t, "show container", http.StatusOK)
	h.proxy("GET", "content/locate", ref("o"), nil, "").want(t, "locate", http.StatusOK)
}

func TestBooleanParameters(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.put("o", map[string]string{"k": "v"})
	for _, v := range []string{"True", "TRUE", "true", "1"} {
		r := h.proxy("GET", "container/list", with(ref(""), "properties", v), nil, "").
			want(t, "list "+v, http.StatusOK)
		if !strings.Contains(string(r.body), `"properties":{"k":"v"}`) {
			t.Errorf("properties=%s: no properties in %s", v, r.body)
		}
	}
	for _, v := range []string{"False", "false", "FALSE", "0"} {
		r := h.proxy("GET", "container/list", with(ref(""), "properties", v), nil, "").
			want(t, "list "+v, http.StatusOK)
		if strings.Contains(string(r.body), `"k":"v"`) {
			t.Errorf("properties=%s: properties in %s", v, r.body)
		}
		loc := h.proxy("GET", "content/locate", with(ref("o"), "properties", v), nil, "").
			want(t, "locate "+v, http.StatusOK)
		if loc.header.Get("X-Oio-Content-Meta-K") != "" {
			t.Errorf("locate properties=%s sent properties", v)
		}
	}
}

// put commits a one-byte object through the client.
func (h *harness) put(name string, props map[string]string) *meta.Object {
	h.t.Helper()
	p, err := h.client.ContentPrepare(h.ctx, "myaccount", "mycontainer", name,
		meta.PrepareRequest{Size: 1})
	if err != nil {
		h.t.Fatal(err)
	}
	chunks := p.Chunks
	for i := range chunks {
		chunks[i].Size = 1
	}
	o, err := h.client.ContentCreate(h.ctx, "myaccount", "mycontainer", &meta.Object{Name: name,
		Size: 1, ContentID: p.ContentID, Version: p.Version, Policy: p.Policy,
		ChunkMethod: p.ChunkMethod, Chunks: chunks, Properties: props})
	if err != nil {
		h.t.Fatal(err)
	}
	return o
}

func TestVersioningOverHTTP(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.proxy("POST", "container/create", ref(""), nil,
		`{"properties": {}, "system": {"sys.m2.policy.version": "-1"}}`).
		want(t, "create", http.StatusCreated)
	v1, v2 := h.put("o", nil), h.put("o", nil)
	del := h.proxy("POST", "content/delete", ref("o"), nil, "{}").want(t, "delete", 204)
	if del.header.Get("X-Oio-Delete-Marker") != "True" ||
		mustInt(t, del.header.Get("X-Oio-Version-Id")) <= v2.Version {
		t.Errorf("delete marker headers: %v", del.header)
	}
	h.proxy("GET", "content/locate", ref("o"), nil, "").want(t, "locate deleted", 404)
	old := h.proxy("GET", "content/locate", with(ref("o"), "version", itoa(v1.Version)), nil,
		"").want(t, "locate old version", 200)
	if old.header.Get("X-Oio-Content-Meta-Id") != v1.ContentID {
		t.Errorf("old version: %v", old.header)
	}
	list := h.proxy("GET", "container/list", with(ref(""), "all", "1"), nil, "").
		want(t, "list all", 200)
	var body struct {
		Objects []struct {
			Version  int64  `json:"version"`
			Deleted  bool   `json:"deleted"`
			MimeType string `json:"mime-type"`
		}
	}
	list.json(t, &body)
	if len(body.Objects) != 3 || !body.Objects[0].Deleted ||
		body.Objects[0].MimeType != meta.DeletedMimeType || body.Objects[2].Version != v1.Version {
		t.Errorf("all versions: %s", list.body)
	}
	h.proxy("POST", "content/delete", with(ref("o"), "version", itoa(v1.Version)), nil, "").
		want(t, "delete version", 204)
	h.proxy("GET", "content/locate", with(ref("o"), "version", itoa(v1.Version)), nil, "").
		want(t, "deleted version", 404)
}

func TestAccountRoutes(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.put("o", nil)
	r := h.do("GET", "/v1.0/account/containers", url.Values{"id": {"myaccount"}}, nil, "").
		want(t, "containers", 200)
	var body map[string]any
	r.json(t, &body)
	want := []string{"buckets", "bytes", "containers", "ctime", "id", "listing", "metadata",
		"mtime", "objects", "truncated"}
	if diff := cmp.Diff(want, keys(body)); diff != "" {
		t.Errorf("account containers keys (-want +got):\n%s", diff)
	}
	rows := body["listing"].([]any)
	row := rows[0].([]any)
	if len(rows) != 1 || len(row) != 5 || row[0] != "mycontainer" || row[1] != 1.0 ||
		row[2] != 1.0 || row[3] != 0.0 || row[4].(float64) < 1e9 {
		t.Errorf("listing: %v", rows)
	}
	h.do("GET", "/v1.0/account/containers", url.Values{"id": {"nobody"}}, nil, "").
		want(t, "unknown account", 404)
	show := h.do("GET", "/v1.0/account/container/show",
		url.Values{"id": {"myaccount"}, "container": {"mycontainer"}}, nil, "").
		want(t, "container show", 200)
	show.json(t, &body)
	if body["replication_enabled"] != false || body["objects"] != 1.0 ||
		body["name"] != "mycontainer" {
		t.Errorf("container show: %s", show.body)
	}
	h.do("PUT", "/v1.0/bucket/update", url.Values{"id": {"mycontainer"}}, nil,
		`{"metadata": {"replication_enabled": "true"}}`).want(t, "bucket update", 200)
	show = h.do("GET", "/v1.0/account/container/show",
		url.Values{"id": {"myaccount"}, "container": {"mycontainer"}}, nil, "").
		want(t, "container show", 200)
	show.json(t, &body)
	if body["replication_enabled"] != true {
		t.Errorf("replication not enabled: %s", show.body)
	}
	bucket := h.do("GET", "/v1.0/bucket/show", url.Values{"id": {"mycontainer"}}, nil, "").
		want(t, "bucket show", 200)
	bucket.json(t, &body)
	if body["account"] != "myaccount" ||
		body["metadata"].(map[string]any)["replication_enabled"] != "True" {
		t.Errorf("bucket show: %s", bucket.body)
	}
	h.do("PUT", "/v1.0/bucket/update", url.Values{"id": {"mycontainer"}}, nil,
		`{"metadata": {"replication_enabled": "perhaps"}}`).want(t, "bad flag", 400)
	acct := h.do("GET", "/v1.0/account/show", url.Values{"id": {"myaccount"}}, nil, "").
		want(t, "account show", 200)
	acct.json(t, &body)
	if body["containers"] != 1.0 || body["objects"] != 1.0 || body["bytes"] != 1.0 {
		t.Errorf("account show: %s", acct.body)
	}
	h.do("PUT", "/v1.0/account/create", url.Values{"id": {"fresh"}}, nil, "").
		want(t, "account create", 201)
	h.do("PUT", "/v1.0/account/create", url.Values{"id": {"fresh"}}, nil, "").
		want(t, "account create again", 202)
}

func TestDiscoveryRoutes(t *testing.T) {
	h := newHarness(t, harnessOptions{opts: meta.ServerOptions{RdirAddr: "127.0.0.1:6300"}})
	lb := h.proxy("GET", "lb/choose", url.Values{"type": {"account"}, "size": {"1"}}, nil, "").
		want(t, "lb choose", 200)
	var chosen []map[string]any
	lb.json(t, &chosen)
	if len(chosen) != 1 || chosen[0]["addr"] != strings.TrimPrefix(h.ts.URL, "http://") {
		t.Errorf("lb choose account: %s", lb.body)
	}
	rd := h.proxy("GET", "reference/show", url.Values{"acct": {"_RDIR"},
		"ref": {"127.0.0.1:6201"}, "type": {"rdir"}}, nil, "").want(t, "rdir", 200)
	var refBody map[string]any
	rd.json(t, &refBody)
	srv := refBody["srv"].([]any)[0].(map[string]any)
	if refBody["account"] != "_RDIR" || refBody["name"] != "127.0.0.1:6201" ||
		srv["host"] != "127.0.0.1:6300" || srv["type"] != "rdir" || srv["seq"] != 1.0 {
		t.Errorf("rdir reference: %s", rd.body)
	}
	res := h.proxy("GET", "conscience/resolve", url.Values{"type": {"rawx"},
		"service_id": {"rawx-2"}}, nil, "").want(t, "resolve", 200)
	if string(res.body) != `{"addr":"127.0.0.1:6202"}` {
		t.Errorf("resolve: %s", res.body)
	}
	h.proxy("POST", "conscience/register", nil, nil, `{"type": "rawx", "addr": "127.0.0.1:6204",
		"tags": {"tag.service_id": "rawx-4", "tag.vol": "/srv/4", "stat.space": 80}}`).
		want(t, "register OpenIO style", 204)
	list := h.proxy("GET", "conscience/list", url.Values{"type": {"rawx"}}, nil, "").
		want(t, "list", 200)
	var services []map[string]any
	list.json(t, &services)
	last := services[len(services)-1]
	if len(services) != 4 || last["id"] != "rawx-4" ||
		last["tags"].(map[string]any)["tag.up"] != true || last["score"] != 100.0 {
		t.Errorf("conscience list: %s", list.body)
	}
	cid := chunk.ContainerID("myaccount", "mycontainer")
	h.put("o", nil)
	byCID := h.proxy("GET", "reference/show", url.Values{"cid": {cid}}, nil, "").
		want(t, "reference by cid", 200)
	byCID.json(t, &refBody)
	if refBody["account"] != "myaccount" || refBody["name"] != "mycontainer" {
		t.Errorf("reference by cid: %s", byCID.body)
	}
}

func TestPrepareSpreadsCopies(t *testing.T) {
	h := newHarness(t, harnessOptions{ns: meta.Namespace{ChunkSize: 100}})
	r := h.proxy("POST", "content/prepare2", ref("big"), autocreate,
		`{"size": 1000, "policy": "THREECOPIES"}`).want(t, "prepare", 200)
	var body struct{ Chunks []meta.Chunk }
	r.json(t, &body)
	if len(body.Chunks) != 30 {
		t.Fatalf("%d chunks for 10 metachunks of 3 copies", len(body.Chunks))
	}
	hosts := map[string]map[string]bool{}
	ids := map[string]string{}
	for _, c := range body.Chunks {
		if hosts[c.Pos] == nil {
			hosts[c.Pos] = map[string]bool{}
		}
		if hosts[c.Pos][c.Host()] {
			t.Errorf("two copies of metachunk %s on %s", c.Pos, c.Host())
		}
		hosts[c.Pos][c.Host()] = true
		if id, ok := ids[c.Pos]; ok && id != c.ID() {
			t.Errorf("copies of metachunk %s have ids %s and %s", c.Pos, id, c.ID())
		}
		ids[c.Pos] = c.ID()
	}
	if len(hosts) != 10 || hosts["9"] == nil || r.header.Get("X-Oio-Ns-Chunk-Size") != "100" {
		t.Errorf("positions %v, chunk size %q", hosts, r.header.Get("X-Oio-Ns-Chunk-Size"))
	}
}

func TestMetrics(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.put("o", nil)
	h.clock.Advance(time.Minute)
	h.reg.Heartbeat("rawx", "rawx-1", 50, 100)
	r := h.do("GET", "/metrics", nil, nil, "")
	text := string(r.body)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %v", r.status, r.header)
	}
	for _, want := range []string{
		`gridkeep_meta_requests_total{code="204",route="content/create"} 1`,
		`gridkeep_meta_requests_total{code="200",route="content/prepare2"} 1`,
		`gridkeep_meta_services{state="alive",type="rawx"} 1`,
		`gridkeep_meta_services{state="dead",type="rawx"} 2`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// A request its client gave up on is no failure of the directory: it is
// not logged as an error.
func TestAbandonedRequestIsNoError(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	if _, err := h.client.ContainerCreate(h.ctx, "acct", "ctr", nil, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(h.ctx)
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet,
		"/v3.0/OPENIO/container/list?acct=acct&ref=ctr", nil)
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, req)
	log := h.log.String()
	if rec.Code < 500 || !strings.Contains(log, "context canceled") {
		t.Fatalf("status %d, log %s: want the request failed by its cancelled context", rec.Code, log)
	}
	if strings.Contains(log, `"level":"ERROR"`) {
		t.Errorf("an abandoned request is logged as an error: %s", log)
	}
}
