package meta_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
)

const (
	acct = "myaccount"
	ctr  = "mycontainer"
)

func TestClientContainers(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	c := h.client
	created, err := c.ContainerCreate(h.ctx, acct, ctr, map[string]string{"a": "1"},
		map[string]string{meta.SysPolicyStorage: "TWOCOPIES"})
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	if created, err = c.ContainerCreate(h.ctx, acct, ctr, nil, nil); err != nil || created {
		t.Errorf("create again: %v %v", created, err)
	}
	if err := c.ContainerSetProperties(h.ctx, acct, ctr, map[string]string{"b": "2"}, nil,
		false); err != nil {
		t.Fatal(err)
	}
	if err := c.ContainerDelProperties(h.ctx, acct, ctr, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	for name, get := range map[string]func() (*meta.Container, error){
		"show": func() (*meta.Container, error) {
			return c.ContainerShow(h.ctx, acct, ctr)
		},
		"get_properties": func() (*meta.Container, error) {
			return c.ContainerGetProperties(h.ctx, acct, ctr)
		},
	} {
		got, err := get()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.ID != chunk.ContainerID(acct, ctr) || got.StoragePolicy() != "TWOCOPIES" ||
			!cmp.Equal(got.Properties, map[string]string{"b": "2"}) || got.CTime == 0 {
			t.Errorf("%s: %+v", name, got)
		}
	}
	for i := range 5 {
		if _, err := c.ContainerCreate(h.ctx, acct, "c"+strconv.Itoa(i), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	for ct, err := range c.Containers(h.ctx, acct, meta.PageOptions{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, ct.Name)
	}
	if diff := cmp.Diff([]string{"c0", "c1", "c2", "c3", "c4", ctr}, names); diff != "" {
		t.Errorf("containers paged by 2 (-want +got):\n%s", diff)
	}
	a, err := c.AccountShow(h.ctx, acct)
	if err != nil || a.Containers != 6 || a.Name != acct {
		t.Errorf("account: %+v, %v", a, err)
	}
	if err := c.ContainerDestroy(h.ctx, acct, "c0"); err != nil {
		t.Fatal(err)
	}
	_, err = c.ContainerShow(h.ctx, acct, "c0")
	wantIs(t, "show destroyed", err, meta.ErrNoSuchContainer)
	var apiErr *meta.Error
	if !errors.As(err, &apiErr) || apiErr.Status != 404 || apiErr.Code != 431 {
		t.Errorf("error reply: %#v", apiErr)
	}
	_, err = c.AccountShow(h.ctx, "nobody")
	wantIs(t, "unknown account", err, meta.ErrNoSuchAccount)
	_, err = c.ContainerCreate(h.ctx, acct, "", nil, nil)
	wantIs(t, "empty name", err, meta.ErrInvalid)
}

func wantIs(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

// TestClientObjects writes an object of several metachunks the way a put
// command does, then reads it back every way.
func TestClientObjects(t *testing.T) {
	h := newHarness(t, harnessOptions{ns: meta.Namespace{ChunkSize: 10}})
	c := h.client
	p, err := c.ContentPrepare(h.ctx, acct, ctr, "dir/obj", meta.PrepareRequest{Size: 25,
		Policy: "TWOCOPIES"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Chunks) != 6 || p.ChunkSize != 10 || p.ChunkMethod != "plain/nb_copy=2" ||
		len(p.ContentID) != 32 || p.Version == 0 {
		t.Fatalf("prepared: %+v", p)
	}
	chunks := slices.Clone(p.Chunks)
	for i := range chunks {
		chunks[i].Size = min(10, 25-10*int64(i/2))
		chunks[i].Hash = "00112233445566778899aabbccddeeff"
	}
	in := &meta.Object{Name: "dir/obj", Size: 25, Hash: "0123456789abcdef0123456789abcdef",
		ContentID: p.ContentID, Version: p.Version, Policy: p.Policy, MimeType: "text/plain",
		ChunkMethod: "plain/cca=md5,nb_copy=2", Chunks: chunks,
		Properties: map[string]string{"color": "blue", "x y": "a/b c"}}
	stored, err := c.ContentCreate(h.ctx, acct, ctr, in)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Version != p.Version || stored.ContentID != p.ContentID || stored.Size != 25 {
		t.Errorf("stored: %+v", stored)
	}
	byPath, err := c.Locate(h.ctx, acct, ctr, "dir/obj", 0)
	if err != nil {
		t.Fatal(err)
	}
	byID, err := c.LocateByID(h.ctx, chunk.ContainerID(acct, ctr), p.ContentID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(byPath, byID); diff != "" {
		t.Errorf("locate by path and by id differ:\n%s", diff)
	}
	if byPath.Name != "dir/obj" || byPath.Hash != "0123456789ABCDEF0123456789ABCDEF" ||
		byPath.MimeType != "text/plain" || len(byPath.Chunks) != 6 ||
		byPath.Chunks[5].Pos != "2" || byPath.Chunks[5].Size != 5 ||
		byPath.Chunks[0].RealURL == "" || byPath.Chunks[0].Score != 100 {
		t.Errorf("located: %+v", byPath)
	}
	props, err := c.ContentGetProperties(h.ctx, acct, ctr, "dir/obj", p.Version)
	if err != nil || !cmp.Equal(props.Properties, in.Properties) {
		t.Errorf("properties: %+v, %v", props, err)
	}
	if err := c.ContentSetProperties(h.ctx, acct, ctr, "dir/obj", 0,
		map[string]string{"new": "1"}, true); err != nil {
		t.Fatal(err)
	}
	if err := c.ContentDelProperties(h.ctx, acct, ctr, "dir/obj", 0, []string{"none"}); err != nil {
		t.Fatal(err)
	}
	props, _ = c.ContentGetProperties(h.ctx, acct, ctr, "dir/obj", 0)
	if !cmp.Equal(props.Properties, map[string]string{"new": "1"}) {
		t.Errorf("flushed properties: %v", props.Properties)
	}
	res, err := c.ContentDelete(h.ctx, acct, ctr, "dir/obj", 0)
	if err != nil || res.DeleteMarker || res.Version != p.Version {
		t.Errorf("delete: %+v, %v", res, err)
	}
	_, err = c.Locate(h.ctx, acct, ctr, "dir/obj", 0)
	wantIs(t, "locate deleted", err, meta.ErrNoSuchObject)
	_, err = c.ContentPrepare(h.ctx, acct, ctr, "x", meta.PrepareRequest{Policy: "EC"})
	wantIs(t, "unknown policy", err, meta.ErrUnknownPolicy)
}

func TestClientListing(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	for _, n := range []string{"a", "b/1", "b/2", "c"} {
		h.put(n, map[string]string{"n": n})
	}
	l, err := h.client.ContainerList(h.ctx, acct, ctr, meta.ListOptions{Delimiter: "/",
		Limit: 2, Properties: true})
	if err != nil {
		t.Fatal(err)
	}
	if !l.Truncated || l.NextMarker != "b/" || len(l.Objects) != 1 ||
		!cmp.Equal(l.Prefixes, []string{"b/"}) || l.Objects[0].Properties["n"] != "a" {
		t.Errorf("first page: %+v", l)
	}
	var names []string
	for o, err := range h.client.Objects(h.ctx, acct, ctr, meta.ListOptions{Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, o.Name)
	}
	if diff := cmp.Diff([]string{"a", "b/1", "b/2", "c"}, names); diff != "" {
		t.Errorf("objects one by one (-want +got):\n%s", diff)
	}
	for _, err := range h.client.Objects(h.ctx, acct, "none", meta.ListOptions{}) {
		wantIs(t, "iterate unknown container", err, meta.ErrNoSuchContainer)
	}
}

func TestClientServices(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	c := h.client
	h.put("o", nil)
	svc := meta.Service{Type: "rawx", ID: "rawx-9", Addr: "127.0.0.1:6209", Volume: "vol-9",
		Free: 7, Total: 10, Tags: map[string]string{"tag.vol": "/srv/9"}}
	if err := c.Register(h.ctx, svc); err != nil {
		t.Fatal(err)
	}
	if err := c.Heartbeat(h.ctx, "rawx", "rawx-9", 3, 10); err != nil {
		t.Fatal(err)
	}
	wantIs(t, "heartbeat unknown", c.Heartbeat(h.ctx, "rawx", "rawx-0", 1, 1),
		meta.ErrNoSuchService)
	list, err := c.ListServices(h.ctx, "rawx")
	if err != nil || len(list) != 4 {
		t.Fatalf("list: %+v, %v", list, err)
	}
	got := list[3]
	if got.ID != "rawx-9" || got.Volume != "vol-9" || got.Free != 3 || !got.Alive ||
		got.Tags["tag.vol"] != "/srv/9" {
		t.Errorf("listed: %+v", got)
	}
	h.clock.Advance(time.Minute)
	list, _ = c.ListServices(h.ctx, "rawx")
	if list[3].Alive {
		t.Error("service alive after a silent minute")
	}
	addr, err := c.Resolve(h.ctx, "rawx", "rawx-9")
	if err != nil || addr != "127.0.0.1:6209" {
		t.Errorf("resolve: %q, %v", addr, err)
	}
	if err := c.Deregister(h.ctx, "rawx", "rawx-9"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Resolve(h.ctx, "rawx", "rawx-9")
	wantIs(t, "resolve deregistered", err, meta.ErrNoSuchService)
	_, err = c.RdirFor(h.ctx, "vol-9")
	wantIs(t, "rdir with none registered", err, meta.ErrNoSuchService)
	if err := c.Register(h.ctx, meta.Service{Type: "rdir", Addr: "127.0.0.1:6300"}); err != nil {
		t.Fatal(err)
	}
	if rdir, err := c.RdirFor(h.ctx, "vol-9"); err != nil || rdir != "127.0.0.1:6300" {
		t.Errorf("rdir: %q, %v", rdir, err)
	}
	a, n, err := c.ResolveCID(h.ctx, chunk.ContainerID(acct, ctr))
	if err != nil || a != acct || n != ctr {
		t.Errorf("resolve cid: %q %q %v", a, n, err)
	}
}

func TestClientBuckets(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.put("o", nil)
	info, err := h.client.AccountContainerShow(h.ctx, acct, ctr)
	if err != nil || info.ReplicationEnabled() || info.Objects != 1 {
		t.Fatalf("before: %+v, %v", info, err)
	}
	b, err := h.client.BucketUpdate(h.ctx, ctr, "", map[string]string{
		meta.BucketReplicationEnabled: "True", "owner": "me"}, nil)
	if err != nil || !b.ReplicationEnabled() || b.Account != acct || b.Bucket["owner"] != "me" {
		t.Fatalf("update: %+v, %v", b, err)
	}
	info, err = h.client.AccountContainerShow(h.ctx, acct, ctr)
	if err != nil || !info.ReplicationEnabled() {
		t.Errorf("after: %+v, %v", info, err)
	}
	b, err = h.client.BucketUpdate(h.ctx, ctr, acct, nil, []string{"owner"})
	if err != nil || b.Bucket["owner"] != "" || !b.ReplicationEnabled() {
		t.Errorf("remove metadata: %+v, %v", b, err)
	}
	if _, err := h.client.ContainerCreate(h.ctx, "other", ctr, nil, nil); err != nil {
		t.Fatal(err)
	}
	_, err = h.client.BucketShow(h.ctx, ctr, "")
	wantIs(t, "bucket in two accounts", err, meta.ErrInvalid)
	if b, err = h.client.BucketShow(h.ctx, ctr, "other"); err != nil || b.ReplicationEnabled() {
		t.Errorf("other's bucket: %+v, %v", b, err)
	}
	evs := h.drain()
	if evs[len(evs)-1].Type != "storage.container.new" ||
		evs[len(evs)-2].Type != "storage.container.update" {
		t.Errorf("bucket updates not announced: last events %s, %s", evs[len(evs)-2].Type,
			evs[len(evs)-1].Type)
	}
}

// TestClientCheckNamespace: the account routes answer a client of another
// namespace; CheckNamespace refuses it.
func TestClientCheckNamespace(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.put("o", nil)
	if err := h.client.CheckNamespace(h.ctx); err != nil {
		t.Errorf("check of the directory's namespace: %v", err)
	}
	other, err := meta.NewClient(h.ts.URL, meta.ClientOptions{Namespace: "OTHER"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.AccountContainers(h.ctx, acct, meta.PageOptions{}); err != nil {
		t.Errorf("account route with another namespace: %v", err)
	}
	wantIs(t, "check of another namespace", other.CheckNamespace(h.ctx), meta.ErrInvalid)
}

// A directory URL is a scheme, a host and a port: a path, a query or a
// port out of range is refused, not sent requests that cannot reach the
// API.
func TestNewClientRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:6000/v3.0", "http://127.0.0.1:6000?x=1",
		"http://127.0.0.1:99999", "127.0.0.1:0", "http://user@127.0.0.1:6000", "ftp://127.0.0.1:6000",
		"notaurl"} {
		if _, err := meta.NewClient(u, meta.ClientOptions{}); err == nil ||
			!strings.Contains(err.Error(), "bad service URL") {
			t.Errorf("NewClient(%q): %v, want a bad service URL", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:6000", "http://127.0.0.1:6000/", "127.0.0.1:6000",
		"https://localhost"} {
		if _, err := meta.NewClient(u, meta.ClientOptions{}); err != nil {
			t.Errorf("NewClient(%q): %v", u, err)
		}
	}
}
