package meta_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/meta"
)

var (
	contentIDRe = regexp.MustCompile(`^[0-9A-F]{32}$`)
	chunkURLRe  = regexp.MustCompile(`^http://rawx-[123]/[0-9A-F]{64}$`)
	autocreate  = map[string]string{"X-Oio-Action-Mode": "autocreate"}
)

// TestOpenIOClientFlow replays the basic flow of the OpenIO Python client,
// route by route, and checks the replies it relies on.
func TestOpenIOClientFlow(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	cid := chunk.ContainerID("myaccount", "mycontainer")

	h.proxy("POST", "container/create", ref(""), autocreate,
		`{"properties": {"k": "v"}, "system": {}}`).want(t, "create", http.StatusCreated)
	h.proxy("POST", "container/create", ref(""), autocreate,
		`{"properties": {}, "system": {}}`).want(t, "create again", http.StatusNoContent)

	prep := h.proxy("POST", "content/prepare2", ref("dir/obj1"), autocreate,
		`{"size": 1, "position": 0}`).want(t, "prepare2", http.StatusOK)
	var prepared struct {
		Chunks     []map[string]any  `json:"chunks"`
		Properties map[string]string `json:"properties"`
	}
	prep.json(t, &prepared)
	if len(prepared.Chunks) != 1 || prepared.Properties == nil {
		t.Fatalf("prepare2 body: %s", prep.body)
	}
	pc := prepared.Chunks[0]
	if diff := cmp.Diff([]string{"hash", "pos", "real_url", "score", "size", "url"},
		keys(pc)); diff != "" {
		t.Errorf("prepare2 chunk keys (-want +got):\n%s", diff)
	}
	if !chunkURLRe.MatchString(pc["url"].(string)) || pc["pos"] != "0" ||
		pc["size"] != float64(meta.DefaultChunkSize) || pc["score"].(float64) <= 0 {
		t.Errorf("prepare2 chunk: %v", pc)
	}
	ph := func(k string) string { return prep.header.Get("X-Oio-Content-Meta-" + k) }
	if !contentIDRe.MatchString(ph("id")) || ph("version") == "" ||
		ph("chunk-method") != "plain/nb_copy=1" || ph("policy") != "SINGLE" ||
		ph("name") != "dir%2Fobj1" || ph("deleted") != "False" || ph("hash-method") != "md5" ||
		prep.header.Get("X-Oio-Ns-Chunk-Size") != fmt.Sprint(meta.DefaultChunkSize) {
		t.Errorf("prepare2 headers: %v", prep.header)
	}
	chunkID := pc["url"].(string)[len("http://rawx-1/"):]
	want := meta.ChunkID(cid, "dir/obj1", mustInt(t, ph("version")), "0", "SINGLE")
	if chunkID != want {
		t.Errorf("chunk id %s, want the deterministic %s", chunkID, want)
	}

	commitBody := fmt.Sprintf(`{"chunks": [{"url": %q, "pos": "0", "size": 1, `+
		`"hash": "%s", "score": 100}], "properties": {"color": "blue"}, `+
		`"container_properties": null}`, pc["url"], strings.Repeat("ab", 32))
	h.proxy("POST", "content/create", ref("dir/obj1"), map[string]string{
		"X-Oio-Action-Mode":               "autocreate",
		"X-Oio-Content-Meta-Length":       "1",
		"X-Oio-Content-Meta-Hash":         "0cc175b9c0f1b6a831c399e269772661",
		"X-Oio-Content-Meta-Id":           ph("id"),
		"X-Oio-Content-Meta-Version":      ph("version"),
		"X-Oio-Content-Meta-Policy":       "SINGLE",
		"X-Oio-Content-Meta-Chunk-Method": "plain/cca=blake3,nb_copy=1,oca=md5",
	}, commitBody).want(t, "create", http.StatusNoContent)

	loc := h.proxy("GET", "content/locate", with(ref("dir/obj1"), "properties", "True"),
		autocreate, "").want(t, "locate", http.StatusOK)
	var located []map[string]any
	loc.json(t, &located)
	realURL := "http://127.0.0.1:620" + string(pc["url"].(string)[len("http://rawx-")]) + "/" + chunkID
	if len(located) != 1 || located[0]["url"] != pc["url"] || located[0]["real_url"] != realURL ||
		located[0]["hash"] != strings.Repeat("AB", 32) || located[0]["size"] != 1.0 {
		t.Errorf("locate body: %s", loc.body)
	}
	lh := func(k string) string { return loc.header.Get("X-Oio-Content-Meta-" + k) }
	wantMeta := map[string]string{"id": ph("id"), "version": ph("version"), "size": "1",
		"length": "1", "hash": "0CC175B9C0F1B6A831C399E269772661", "policy": "SINGLE",
		"chunk-method": "plain/cca=blake3,nb_copy=1,oca=md5", "deleted": "False",
		"mime-type": "application/octet-stream", "name": "dir%2Fobj1", "color": "blue"}
	for k, v := range wantMeta {
		if lh(k) != v {
			t.Errorf("locate header %s = %q, want %q", k, lh(k), v)
		}
	}
	if lh("ctime") == "" || lh("mtime") == "" {
		t.Errorf("locate lacks times: %v", loc.header)
	}

	list := h.proxy("GET", "container/list", with(ref(""), "max", "10", "properties", "True",
		"chunks", "False"), autocreate, "").want(t, "list", http.StatusOK)
	var listed map[string]any
	list.json(t, &listed)
	if diff := cmp.Diff([]string{"objects", "prefixes", "properties", "system"},
		keys(listed)); diff != "" {
		t.Errorf("list keys (-want +got):\n%s", diff)
	}
	objs := listed["objects"].([]any)
	if len(objs) != 1 {
		t.Fatalf("list objects: %s", list.body)
	}
	obj := objs[0].(map[string]any)
	if diff := cmp.Diff([]string{"chunk-method", "ctime", "deleted", "hash", "id", "mime-type",
		"mtime", "name", "policy", "properties", "size", "version"}, keys(obj)); diff != "" {
		t.Errorf("listed object keys (-want +got):\n%s", diff)
	}
	if obj["name"] != "dir/obj1" || obj["deleted"] != false || obj["size"] != 1.0 ||
		obj["properties"].(map[string]any)["color"] != "blue" {
		t.Errorf("listed object: %v", obj)
	}
	if list.header.Get("X-Oio-List-Truncated") != "false" ||
		list.header.Get("X-Oio-Container-Meta-Sys-M2-Objects") != "1" {
		t.Errorf("list headers: %v", list.header)
	}

	props := h.proxy("POST", "content/get_properties", ref("dir/obj1"), autocreate, "").
		want(t, "content get_properties", http.StatusOK)
	if string(props.body) != `{"properties":{"color":"blue"}}` ||
		props.header.Get("X-Oio-Content-Meta-Id") != ph("id") {
		t.Errorf("content get_properties: %s %v", props.body, props.header)
	}

	cprops := h.proxy("POST", "container/get_properties", ref(""), autocreate, "[]").
		want(t, "container get_properties", http.StatusOK)
	var cp struct{ Properties, System map[string]string }
	cprops.json(t, &cp)
	if cp.Properties["k"] != "v" || cp.System["sys.account"] != "myaccount" ||
		cp.System["sys.user.name"] != "mycontainer" || cp.System["sys.name"] != cid+".1" ||
		cp.System["sys.m2.usage"] != "1" || cp.System["sys.status"] != "0" {
		t.Errorf("container get_properties: %s", cprops.body)
	}

	show := h.proxy("GET", "container/show", ref(""), autocreate, "").
		want(t, "container show", http.StatusOK)
	if string(show.body) != `{"properties":{"k":"v"}}` ||
		show.header.Get("X-Oio-Container-Meta-Sys-User-Name") != "mycontainer" ||
		show.header.Get("X-Oio-Container-Meta-Sys-Account") != "myaccount" {
		t.Errorf("container show: %s %v", show.body, show.header)
	}

	del := h.proxy("POST", "content/delete", ref("dir/obj1"), autocreate, "{}").
		want(t, "delete", http.StatusNoContent)
	if del.header.Get("X-Oio-Delete-Marker") != "False" ||
		del.header.Get("X-Oio-Version-Id") != ph("version") {
		t.Errorf("delete headers: %v", del.header)
	}
	gone := h.proxy("POST", "content/delete", ref("dir/obj1"), autocreate, "{}").
		want(t, "delete again", http.StatusNotFound)
	if code := gone.oioCode(t); code != 420 {
		t.Errorf("delete again: code %d, want 420 (no such object)", code)
	}

	h.proxy("POST", "container/destroy", ref(""), autocreate, "").
		want(t, "destroy", http.StatusNoContent)
	missing := h.proxy("GET", "content/locate", ref("dir/obj1"), autocreate, "").
		want(t, "locate in destroyed container", http.StatusNotFound)
	if code := missing.oioCode(t); code != 431 && code != 406 {
		t.Errorf("no such container: code %d, want 431", code)
	}

	checkFlowEvents(t, h.drain())
	if !strings.Contains(h.log.String(), `"path":"/v3.0/OPENIO/content/create","status":204`) {
		t.Errorf("access log lacks the commit: %s", h.log.String())
	}
}

func checkFlowEvents(t *testing.T, evs []event.Event) {
	t.Helper()
	var got []string
	for _, ev := range evs {
		got = append(got, ev.Type)
		if ev.RequestID != "req-flow" {
			t.Errorf("%s: request id %q", ev.Type, ev.RequestID)
		}
	}
	want := []string{event.ContainerNew, event.ContentNew, event.ContentDeleted,
		event.ContainerDeleted}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	deleted, err := meta.ParseContentBeans(evs[2].Data)
	if err != nil {
		t.Fatal(err)
	}
	if len(deleted.Chunks) != 1 || deleted.Properties["color"] != "blue" ||
		deleted.Name != "dir/obj1" {
		t.Errorf("content.deleted: %+v", deleted)
	}
	var raw []map[string]any
	json.Unmarshal(evs[1].Data, &raw)
	if len(raw) != 3 || raw[0]["type"] != "aliases" || raw[1]["type"] != "contents_headers" ||
		raw[2]["type"] != "properties" {
		t.Errorf("content.new data: %s", evs[1].Data)
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("not an integer: %q", s)
	}
	return n
}
