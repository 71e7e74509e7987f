package metatest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
)

func testAccounts(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, meta.Namespace{})
	if _, err := f.s.Account(f.ctx, "nobody"); err == nil {
		t.Fatal("unknown account: no error")
	} else {
		f.wantErr("unknown account", err, meta.ErrNoSuchAccount)
	}
	for i, want := range []bool{true, false} {
		created, err := f.s.CreateAccount(f.ctx, "other")
		if err != nil || created != want {
			t.Errorf("create account #%d: created %v, %v; want %v", i, created, err, want)
		}
	}
	f.createContainer(acct, "second", nil)
	f.put("obj", 25, nil)
	a, err := f.s.Account(f.ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	got := meta.Account{Name: a.Name, Containers: a.Containers, Objects: a.Objects, Bytes: a.Bytes}
	want := meta.Account{Name: acct, Containers: 2, Objects: 1, Bytes: 25}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("account counters (-want +got):\n%s", diff)
	}
	if a.CTime <= 0 || a.MTime < a.CTime {
		t.Errorf("account times: ctime %d mtime %d", a.CTime, a.MTime)
	}
	l, err := f.s.ListAccounts(f.ctx, meta.PageOptions{Limit: 1})
	if err != nil || len(l.Accounts) != 1 || l.Accounts[0].Name != acct || !l.Truncated {
		t.Fatalf("list accounts page 1: %+v, %v", l, err)
	}
	l, err = f.s.ListAccounts(f.ctx, meta.PageOptions{Marker: l.NextMarker})
	if err != nil || len(l.Accounts) != 1 || l.Accounts[0].Name != "other" || l.Truncated {
		t.Errorf("list accounts page 2: %+v, %v", l, err)
	}
}

func testContainerSystem(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, meta.Namespace{Name: "NSX", DefaultPolicy: "TWOCOPIES"})
	f.put("a", 7, nil)
	c := f.container(cid)
	if c.ID != cid || c.Account != acct || c.Name != ctr || c.Objects != 1 || c.Bytes != 7 {
		t.Errorf("container fields: %+v", c)
	}
	want := map[string]string{
		meta.SysAccount: acct, meta.SysUserName: ctr, meta.SysName: cid + ".1",
		meta.SysCTime: itoa(c.CTime), meta.SysObjects: "1", meta.SysUsage: "7",
		meta.SysNS: "NSX", meta.SysType: "meta2", meta.SysStatus: "0",
		meta.SysPolicyStorage: "TWOCOPIES", meta.SysPolicyVersion: "1",
	}
	if diff := cmp.Diff(want, c.System); diff != "" {
		t.Errorf("system properties (-want +got):\n%s", diff)
	}
	if c.CTime <= 1e15 {
		t.Errorf("ctime %d is not in microseconds", c.CTime)
	}
	if got := f.s.Namespace(); got.Name != "NSX" || got.ChunkSize != meta.DefaultChunkSize {
		t.Errorf("namespace %+v", got)
	}
}

func testContainerProperties(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, meta.Namespace{})
	cid2 := chunk.ContainerID(acct, "props")
	if _, err := f.s.CreateContainer(f.ctx, meta.ContainerSpec{Account: acct, Name: "props",
		Properties: map[string]string{"a": "1", "b": "2"},
		System:     map[string]string{meta.SysPolicyVersion: "-1", "sys.m2.quota": "10"}}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name   string
		update meta.ContainerUpdate
		props  map[string]string
		check  func(c *meta.Container) bool
	}{
		{"created", meta.ContainerUpdate{}, map[string]string{"a": "1", "b": "2"},
			func(c *meta.Container) bool {
				return c.Versioned() && c.MaxVersions() == -1 && c.System["sys.m2.quota"] == "10"
			}},
		{"set and delete", meta.ContainerUpdate{Properties: meta.PropertyUpdate{
			Set: map[string]string{"c": "3", "a": "one"}, Delete: []string{"b"}}},
			map[string]string{"a": "one", "c": "3"}, nil},
		{"flush", meta.ContainerUpdate{Properties: meta.PropertyUpdate{Flush: true,
			Set: map[string]string{"z": ""}}}, map[string]string{"z": ""}, nil},
		{"reset versioning", meta.ContainerUpdate{System: map[string]string{
			meta.SysPolicyVersion: ""}}, map[string]string{"z": ""},
			func(c *meta.Container) bool { return !c.Versioned() && c.MaxVersions() == 1 }},
		{"replication on", meta.ContainerUpdate{Bucket: meta.PropertyUpdate{Set: map[string]string{
			meta.BucketReplicationEnabled: "tRuE"}}}, map[string]string{"z": ""},
			func(c *meta.Container) bool {
				return c.ReplicationEnabled() && c.Bucket[meta.BucketReplicationEnabled] == "True"
			}},
		{"replication off", meta.ContainerUpdate{Bucket: meta.PropertyUpdate{Set: map[string]string{
			meta.BucketReplicationEnabled: "False"}}}, map[string]string{"z": ""},
			func(c *meta.Container) bool { return !c.ReplicationEnabled() }},
	}
	for _, st := range steps {
		if err := f.s.UpdateContainer(f.ctx, cid2, st.update); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		c := f.container(cid2)
		if diff := cmp.Diff(st.props, c.Properties); diff != "" {
			t.Errorf("%s: properties (-want +got):\n%s", st.name, diff)
		}
		if st.check != nil && !st.check(c) {
			t.Errorf("%s: unexpected container %+v", st.name, c)
		}
	}
	found, err := f.s.FindContainers(f.ctx, "props")
	if err != nil || len(found) != 1 || found[0].ID != cid2 {
		t.Errorf("find containers: %+v, %v", found, err)
	}
}

func testContainerListing(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, meta.Namespace{})
	for _, n := range []string{"b1", "b2", "c1"} {
		f.createContainer(acct, n, nil)
	}
	f.createContainer("someone-else", "b3", nil)
	tests := []struct {
		name      string
		opts      meta.PageOptions
		want      []string
		truncated bool
	}{
		{"all", meta.PageOptions{}, []string{"b1", "b2", "c1", ctr}, false},
		{"prefix", meta.PageOptions{Prefix: "b"}, []string{"b1", "b2"}, false},
		{"marker", meta.PageOptions{Marker: "b1"}, []string{"b2", "c1", ctr}, false},
		{"end marker", meta.PageOptions{EndMarker: "c1"}, []string{"b1", "b2"}, false},
		{"limit", meta.PageOptions{Limit: 2}, []string{"b1", "b2"}, true},
	}
	for _, tc := range tests {
		l, err := f.s.ListContainers(f.ctx, acct, tc.opts)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []string
		for _, c := range l.Containers {
			got = append(got, c.Name)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" || l.Truncated != tc.truncated {
			t.Errorf("%s: truncated %v, names (-want +got):\n%s", tc.name, l.Truncated, diff)
		}
	}
	_, err := f.s.ListContainers(f.ctx, "nobody", meta.PageOptions{})
	f.wantErr("list containers of unknown account", err, meta.ErrNoSuchAccount)
}

func testContainerDestroy(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, meta.Namespace{})
	f.put("x", 3, nil)
	f.wantErr("destroy non-empty", f.s.DestroyContainer(f.ctx, cid), meta.ErrContainerNotEmpty)
	if _, err := f.s.DeleteObject(f.ctx, cid, "x", 0); err != nil {
		t.Fatal(err)
	}
	if err := f.s.DestroyContainer(f.ctx, cid); err != nil {
		t.Fatalf("destroy empty: %v", err)
	}
	_, err := f.s.Container(f.ctx, cid)
	f.wantErr("container after destroy", err, meta.ErrNoSuchContainer)
	f.wantErr("destroy again", f.s.DestroyContainer(f.ctx, cid), meta.ErrNoSuchContainer)
	a, err := f.s.Account(f.ctx, acct)
	if err != nil || a.Containers != 0 || a.Objects != 0 || a.Bytes != 0 {
		t.Errorf("account after destroy: %+v, %v", a, err)
	}
	created, err := f.s.CreateContainer(f.ctx, meta.ContainerSpec{Account: acct, Name: ctr})
	if err != nil || !created {
		t.Errorf("create again: %v %v", created, err)
	}
}
