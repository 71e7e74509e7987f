package rdir_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/gridkeep/gridkeep/internal/rdir"
	"github.com/gridkeep/gridkeep/internal/rdir/rdirtest"
)

// entry is a fetch reply entry as decoded from JSON.
func entry(r rdir.Record) []any {
	return []any{r.Key(), map[string]any{"content_id": r.ContentID, "mtime": float64(r.Mtime),
		"path": r.Path, "version": float64(r.Version)}}
}

func entries(recs ...rdir.Record) []any {
	out := []any{}
	for _, r := range recs {
		out = append(out, entry(r))
	}
	return out
}

func TestHTTPFetch(t *testing.T) {
	store, srv := newTestServer(t, rdir.HandlerOptions{})
	if err := store.Push(context.Background(), testVol, []rdir.Record{rdirtest.Rec(1, 3, 300)}); err != nil {
		t.Fatal(err)
	}
	recs := rdirtest.Sorted(append(rdirtest.Recs(0, 3, 2, 100), rdirtest.Rec(1, 3, 300)))
	cid := recs[0].ContainerID
	legacy := fmt.Sprintf(`{"start_after": %q, "limit": 1, "container_id": %q, "rebuild": false}`,
		recs[0].Key(), cid)
	tests := []struct {
		name, method, query, body string
		want                      []any
		truncated                 string
		marker                    string
	}{
		{"all", "GET", "", "", entries(recs...), "false", ""},
		{"max", "GET", "&max=2", "", entries(recs[:2]...), "true", recs[1].Key()},
		{"limit", "GET", "&limit=3", "", entries(recs[:3]...), "true", recs[2].Key()},
		{"max wins over limit", "GET", "&limit=1&max=2", "", entries(recs[:2]...), "true", recs[1].Key()},
		{"marker", "GET", "&marker=" + url.QueryEscape(recs[1].Key()), "", entries(recs[2:]...), "false", ""},
		{"prefix", "GET", "&prefix=" + cid, "", entries(filter(recs, cid)...), "false", ""},
		{"POST", "POST", "&max=1", "", entries(recs[0]), "true", recs[0].Key()},
		{"legacy body", "POST", "", legacy, entries(filter(recs, cid)[1]), "false", ""},
		{"query wins over body", "POST", "&max=5&marker=", legacy, entries(filter(recs, cid)...), "false", ""},
		{"rebuild without incident", "GET", "&rebuild=True", "", entries(), "false", ""},
		{"chunk id", "GET", "&chunk_id=" + recs[2].ChunkID, "", entries(recs[2]), "false", ""},
		{"content id", "GET", "&content_id=" + recs[1].ContentID, "", entries(recs[1]), "false", ""},
		{"order by key", "GET", "&order=key&max=1", "", entries(recs[0]), "true", recs[0].Key()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, srv, tt.method, "/v1/rdir/fetch?vol=vol1"+tt.query, tt.body)
			checkReply(t, resp, body, 200, tt.want)
			checkListingHeaders(t, resp, tt.truncated, tt.marker)
		})
	}
}

// TestHTTPFetchRefusesBadLookups: a malformed chunk id, content id or
// order is a 400.
func TestHTTPFetchRefusesBadLookups(t *testing.T) {
	_, srv := newTestServer(t, rdir.HandlerOptions{})
	for _, q := range []string{"&chunk_id=XYZ", "&content_id=not-hex", "&order=size",
		"&order=chunk_id&marker=ABC"} {
		resp, body := do(t, srv, "GET", "/v1/rdir/fetch?vol=vol1"+q, "")
		if resp.StatusCode != 400 {
			t.Errorf("%s: %d %s, want 400", q, resp.StatusCode, body)
		}
	}
}

func filter(recs []rdir.Record, cid string) []rdir.Record {
	var out []rdir.Record
	for _, r := range recs {
		if r.ContainerID == cid {
			out = append(out, r)
		}
	}
	return out
}

func checkListingHeaders(t *testing.T, resp *http.Response, truncated, marker string) {
	t.Helper()
	if got := resp.Header.Get(rdir.HeaderListTruncated); got != truncated {
		t.Errorf("%s = %q, want %q", rdir.HeaderListTruncated, got, truncated)
	}
	got, present := resp.Header[http.CanonicalHeaderKey(rdir.HeaderListMarker)]
	if marker == "" && present {
		t.Errorf("%s = %q on a complete listing", rdir.HeaderListMarker, got)
	}
	if marker != "" && (len(got) != 1 || got[0] != marker) {
		t.Errorf("%s = %q, want %q", rdir.HeaderListMarker, got, marker)
	}
}

func TestHTTPFetchRebuild(t *testing.T) {
	store, srv := newTestServer(t, rdir.HandlerOptions{})
	ctx := context.Background()
	if err := store.Push(ctx, testVol, []rdir.Record{rdirtest.Rec(0, 7, 500)}); err != nil {
		t.Fatal(err)
	}
	resp, body := do(t, srv, "POST", "/v1/rdir/admin/incident?vol=vol1", `{"date": 200}`)
	checkReply(t, resp, body, 204, nil)
	resp, body = do(t, srv, "GET", "/v1/rdir/fetch?vol=vol1&rebuild=True", "")
	checkReply(t, resp, body, 200, entries(rdirtest.Sorted(rdirtest.Recs(0, 3, 2, 100))...))
}

func TestHTTPReadErrors(t *testing.T) {
	runHTTPCases(t, []httpCase{
		{"fetch unknown volume", "GET", "/v1/rdir/fetch?vol=other", "", 404, errorBody(404)},
		{"fetch bad max", "GET", "/v1/rdir/fetch?vol=vol1&max=ten", "", 400, errorBody(400)},
		{"fetch bad prefix", "GET", "/v1/rdir/fetch?vol=vol1&prefix=zz", "", 400, errorBody(400)},
		{"fetch bad rebuild", "GET", "/v1/rdir/fetch?vol=vol1&rebuild=perhaps", "", 400, errorBody(400)},
		{"fetch array body", "POST", "/v1/rdir/fetch?vol=vol1", "[]", 400, errorBody(400)},
		{"fetch body of wrong types", "POST", "/v1/rdir/fetch?vol=vol1", `{"limit": "1"}`, 400, errorBody(400)},
		{"fetch wrong method", "DELETE", "/v1/rdir/fetch?vol=vol1", "", 405, errorBody(405)},
		{"status unknown volume", "GET", "/v1/rdir/status?vol=other", "", 404, errorBody(404)},
		{"show unknown volume", "GET", "/v1/rdir/admin/show?vol=other", "", 404, errorBody(404)},
		{"show by POST", "POST", "/v1/rdir/admin/show?vol=vol1", "", 405, errorBody(405)},
		{"incident unknown volume", "GET", "/v1/rdir/admin/incident?vol=other", "", 404, errorBody(404)},
		{"incident as string", "POST", "/v1/rdir/admin/incident?vol=vol1", `{"date": "5"}`, 400,
			errorBody(400)},
		{"incident negative", "POST", "/v1/rdir/admin/incident?vol=vol1", `{"date": -5}`, 400, errorBody(400)},
		{"incident negative with create", "POST", "/v1/rdir/admin/incident?vol=new&create=1",
			`{"date": -5}`, 400, errorBody(400)},
		{"incident missing", "POST", "/v1/rdir/admin/incident?vol=vol1", `{}`, 400, errorBody(400)},
		{"incident wrong method", "PUT", "/v1/rdir/admin/incident?vol=vol1", `{"date": 5}`, 405,
			errorBody(405)},
		{"lock without who", "POST", "/v1/rdir/admin/lock?vol=vol1", `{}`, 400, errorBody(400)},
		{"lock empty who with create", "POST", "/v1/rdir/admin/lock?vol=new&create=1",
			`{"who": ""}`, 400, errorBody(400)},
		{"lock unknown volume", "POST", "/v1/rdir/admin/lock?vol=other", `{"who": "a"}`, 404, errorBody(404)},
		{"unlock unknown volume", "POST", "/v1/rdir/admin/unlock?vol=other", "", 404, errorBody(404)},
		{"clear unknown volume", "POST", "/v1/rdir/admin/clear?vol=other&all=1", "", 404, errorBody(404)},
		{"clear bad flag", "POST", "/v1/rdir/admin/clear?vol=vol1&all=everything", "", 400, errorBody(400)},
	})
}

func TestHTTPStatusAndAdmin(t *testing.T) {
	_, srv := newTestServer(t, rdir.HandlerOptions{})
	c0, c1 := rdirtest.CID(0), rdirtest.CID(1)
	steps := []struct {
		name, method, target, body string
		status                     int
		want                       any
	}{
		{"status", "GET", "/v1/rdir/status?vol=vol1", "", 200, jsonOf(t,
			`{"chunk":{"total":3},"container":{%q:{"total":2},%q:{"total":1}}}`, c0, c1)},
		{"incident unset", "GET", "/v1/rdir/admin/incident?vol=vol1", "", 200, jsonOf(t, `{"date":0}`)},
		{"show empty", "GET", "/v1/rdir/admin/show?vol=vol1", "", 200, jsonOf(t, `{}`)},
		{"set incident", "POST", "/v1/rdir/admin/incident?vol=vol1", `{"date":100}`, 204, nil},
		{"incident", "GET", "/v1/rdir/admin/incident?vol=vol1", "", 200, jsonOf(t, `{"date":100}`)},
		{"status with incident", "POST", "/v1/rdir/status?vol=vol1", "", 200, jsonOf(t,
			`{"chunk":{"total":3,"to_rebuild":3},"container":{%q:{"total":2,"to_rebuild":2},`+
				`%q:{"total":1,"to_rebuild":1}},"rebuild":{"incident_date":100}}`, c0, c1)},
		{"lock", "POST", "/v1/rdir/admin/lock?vol=vol1", `{"who":"rebuilder"}`, 204, nil},
		{"lock by another", "POST", "/v1/rdir/admin/lock?vol=vol1", `{"who":"crawler"}`, 403, errorBody(403)},
		{"show", "GET", "/v1/rdir/admin/show?vol=vol1", "", 200,
			jsonOf(t, `{"incident_date":"100","lock":"rebuilder"}`)},
		{"clear while locked", "POST", "/v1/rdir/admin/clear?vol=vol1&all=True", "", 403, errorBody(403)},
		{"unlock", "POST", "/v1/rdir/admin/unlock?vol=vol1", "", 204, nil},
		{"clear", "POST", "/v1/rdir/admin/clear?vol=vol1&all=True&before_incident=False&repair=False",
			"", 200, jsonOf(t, `{"removed":3,"repaired":0,"errors":0}`)},
		{"status after clear", "GET", "/v1/rdir/status?vol=vol1", "", 200,
			jsonOf(t, `{"chunk":{"total":0},"container":{}}`)},
		{"lock creates", "POST", "/v1/rdir/admin/lock?vol=new&create=true", `{"who":"a"}`, 204, nil},
		{"show created", "GET", "/v1/rdir/admin/show?vol=new", "", 200, jsonOf(t, `{"lock":"a"}`)},
	}
	for _, st := range steps {
		resp, body := do(t, srv, st.method, st.target, st.body)
		t.Run(st.name, func(t *testing.T) { checkReply(t, resp, body, st.status, st.want) })
	}
}

func TestHTTPStatusPaging(t *testing.T) {
	_, srv := newTestServer(t, rdir.HandlerOptions{})
	resp, body := do(t, srv, "GET", "/v1/rdir/status?vol=vol1&max=2", "")
	var st struct {
		Chunk struct{ Total int }
	}
	if err := json.Unmarshal(body, &st); err != nil || st.Chunk.Total != 2 {
		t.Errorf("status page of 2: %s, %v", body, err)
	}
	recs := rdirtest.Sorted(rdirtest.Recs(0, 3, 2, 100))
	checkListingHeaders(t, resp, "true", recs[1].Key())
}

// jsonOf decodes a JSON document built with fmt.Sprintf.
func jsonOf(t *testing.T, format string, args ...any) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(fmt.Appendf(nil, format, args...), &v); err != nil {
		t.Fatal(err)
	}
	return v
}
