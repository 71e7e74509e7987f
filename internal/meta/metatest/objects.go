package metatest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
)

func testPutAndGet(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, meta.Namespace{})
	in := &meta.Object{Name: "dir/obj1", Size: 25, Hash: "d41d8cd98f00b204e9800998ecf8427e",
		Chunks: chunksFor("dir/obj1", 0, 25, 2), Properties: map[string]string{"color": "blue"}}
	in.Chunks[0], in.Chunks[5] = in.Chunks[5], in.Chunks[0] // stored sorted anyway
	o, err := f.s.PutObject(f.ctx, cid, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.ContentID) != 32 || !chunk.IsID(o.ContentID+o.ContentID) {
		t.Errorf("content id %q is not 32 uppercase hex digits", o.ContentID)
	}
	if o.Version < 1e15 || o.Policy != "SINGLE" || o.ChunkMethod != "plain/nb_copy=1" ||
		o.MimeType != meta.DefaultMimeType || o.Hash != strings.ToUpper(in.Hash) || o.CTime == 0 {
		t.Errorf("defaults not filled: %+v", o)
	}
	if in.ContentID != "" || in.Version != 0 {
		t.Error("PutObject changed its argument")
	}
	for _, q := range []meta.ObjectQuery{{Name: "dir/obj1"}, {Name: "dir/obj1", Version: o.Version},
		{ContentID: o.ContentID}} {
		got, err := f.get(q)
		if err != nil {
			t.Fatalf("get %+v: %v", q, err)
		}
		if diff := cmp.Diff(o, got); diff != "" {
			t.Errorf("get %+v (-put +got):\n%s", q, diff)
		}
	}
	for i := 1; i < len(o.Chunks); i++ {
		if o.Chunks[i-1].Pos > o.Chunks[i].Pos {
			t.Errorf("chunks not ordered by position: %+v", o.Chunks)
		}
	}
	if o.Chunks[0].Hash != strings.ToUpper(in.Chunks[0].Hash) {
		t.Errorf("chunk hash not uppercased: %q", o.Chunks[0].Hash)
	}
	_, err = f.get(meta.ObjectQuery{Name: "nothing"})
	f.wantErr("unknown object", err, meta.ErrNoSuchObject)
	_, err = f.get(meta.ObjectQuery{Name: "dir/obj1", Version: o.Version + 1})
	f.wantErr("unknown version", err, meta.ErrNoSuchObject)
	_, err = f.s.Object(f.ctx, chunk.ContainerID(acct, "nope"), meta.ObjectQuery{Name: "x"})
	f.wantErr("unknown container", err, meta.ErrNoSuchContainer)
	_, err = f.s.PutObject(f.ctx, cid, &meta.Object{Name: "again", Version: o.Version,
		ContentID: o.ContentID})
	f.wantErr("content id reused", err, meta.ErrExists)
}

func testObjectProperties(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, meta.Namespace{})
	o := f.put("p", 1, map[string]string{"a": "1", "b": "2"})
	updates := []struct {
		name string
		u    meta.PropertyUpdate
		want map[string]string
	}{
		{"set", meta.PropertyUpdate{Set: map[string]string{"c": "3", "a": "A"}},
			map[string]string{"a": "A", "b": "2", "c": "3"}},
		{"delete", meta.PropertyUpdate{Delete: []string{"b", "missing"}},
			map[string]string{"a": "A", "c": "3"}},
		{"flush", meta.PropertyUpdate{Flush: true, Set: map[string]string{"d": "4"}},
			map[string]string{"d": "4"}},
	}
	for _, u := range updates {
		if err := f.s.UpdateObject(f.ctx, cid, meta.ObjectQuery{Name: "p"}, u.u); err != nil {
			t.Fatalf("%s: %v", u.name, err)
		}
		got, err := f.get(meta.ObjectQuery{Name: "p", Version: o.Version})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(u.want, got.Properties); diff != "" {
			t.Errorf("%s (-want +got):\n%s", u.name, diff)
		}
	}
	err := f.s.UpdateObject(f.ctx, cid, meta.ObjectQuery{Name: "none"}, updates[0].u)
	f.wantErr("update unknown object", err, meta.ErrNoSuchObject)
}

func testReplace(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, meta.Namespace{})
	first := f.put("r", 10, nil)
	second := f.put("r", 30, nil)
	if second.Version <= first.Version {
		t.Errorf("second version %d not after first %d", second.Version, first.Version)
	}
	_, err := f.get(meta.ObjectQuery{Name: "r", Version: first.Version})
	f.wantErr("replaced version", err, meta.ErrNoSuchObject)
	c := f.container(cid)
	if c.Objects != 1 || c.Bytes != 30 {
		t.Errorf("counters after replace: %d objects, %d bytes", c.Objects, c.Bytes)
	}
	res, err := f.s.DeleteObject(f.ctx, cid, "r", 0)
	if err != nil || res.DeleteMarker || res.Version != second.Version {
		t.Fatalf("delete: %+v, %v", res, err)
	}
	_, err = f.get(meta.ObjectQuery{Name: "r", Deleted: true})
	f.wantErr("deleted without versioning", err, meta.ErrNoSuchObject)
	_, err = f.s.DeleteObject(f.ctx, cid, "r", 0)
	f.wantErr("delete twice", err, meta.ErrNoSuchObject)
	if c := f.container(cid); c.Objects != 0 || c.Bytes != 0 {
		t.Errorf("counters after delete: %d objects, %d bytes", c.Objects, c.Bytes)
	}
}

func testUnlimitedVersions(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, meta.Namespace{MaxVersions: -1})
	v1, v2 := f.put("v", 10, nil), f.put("v", 20, nil)
	res, err := f.s.DeleteObject(f.ctx, cid, "v", 0)
	if err != nil || !res.DeleteMarker || res.Version <= v2.Version {
		t.Fatalf("delete latest: %+v, %v", res, err)
	}
	_, err = f.get(meta.ObjectQuery{Name: "v"})
	f.wantErr("latest is a marker", err, meta.ErrNoSuchObject)
	m, err := f.get(meta.ObjectQuery{Name: "v", Deleted: true})
	if err != nil || !m.Deleted || m.Version != res.Version || m.ContentID != "" {
		t.Errorf("marker: %+v, %v", m, err)
	}
	_, err = f.s.DeleteObject(f.ctx, cid, "v", 0)
	f.wantErr("delete behind a marker", err, meta.ErrNoSuchObject)
	for _, v := range []*meta.Object{v1, v2} {
		if _, err := f.get(meta.ObjectQuery{Name: "v", Version: v.Version}); err != nil {
			t.Errorf("version %d lost: %v", v.Version, err)
		}
	}
	if c := f.container(cid); c.Objects != 2 || c.Bytes != 30 {
		t.Errorf("counters: %d objects, %d bytes", c.Objects, c.Bytes)
	}
	res, err = f.s.DeleteObject(f.ctx, cid, "v", res.Version)
	if err != nil || !res.DeleteMarker {
		t.Fatalf("delete the marker: %+v, %v", res, err)
	}
	got, err := f.get(meta.ObjectQuery{Name: "v"})
	if err != nil || got.Version != v2.Version {
		t.Errorf("latest after removing the marker: %+v, %v", got, err)
	}
	res, err = f.s.DeleteObject(f.ctx, cid, "v", v1.Version)
	if err != nil || res.DeleteMarker || res.Version != v1.Version {
		t.Errorf("delete old version: %+v, %v", res, err)
	}
	if c := f.container(cid); c.Objects != 1 || c.Bytes != 20 {
		t.Errorf("counters: %d objects, %d bytes", c.Objects, c.Bytes)
	}
	_, err = f.s.PutObject(f.ctx, cid, &meta.Object{Name: "v", Version: v2.Version})
	f.wantErr("put an existing version", err, meta.ErrExists)
}

func testKeepN(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, meta.Namespace{})
	err := f.s.UpdateContainer(f.ctx, cid, meta.ContainerUpdate{
		System: map[string]string{meta.SysPolicyVersion: "2"}})
	if err != nil {
		t.Fatal(err)
	}
	var versions []int64
	for i := range 4 {
		versions = append(versions, f.put("k", int64(i+1), nil).Version)
	}
	l, err := f.s.ListObjects(f.ctx, cid, meta.ListOptions{Versions: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, o := range l.Objects {
		got = append(got, o.Version)
	}
	if diff := cmp.Diff([]int64{versions[3], versions[2]}, got); diff != "" {
		t.Errorf("kept versions (-want +got):\n%s", diff)
	}
	if c := f.container(cid); c.Objects != 2 || c.Bytes != 7 {
		t.Errorf("counters: %d objects, %d bytes", c.Objects, c.Bytes)
	}
}
