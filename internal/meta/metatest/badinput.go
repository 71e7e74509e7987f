package metatest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
)

// state is what a failed operation must leave unchanged.
type state struct {
	Account    *meta.Account
	Containers []meta.Container
	Container  *meta.Container
	Objects    []meta.Object
	Outbox     int
}

func (f *fixture) state() state {
	f.t.Helper()
	var st state
	var err error
	if st.Account, err = f.s.Account(f.ctx, acct); err != nil {
		f.t.Fatal(err)
	}
	cl, err := f.s.ListContainers(f.ctx, acct, meta.PageOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	st.Containers = cl.Containers
	st.Container = f.container(cid)
	ol, err := f.s.ListObjects(f.ctx, cid, meta.ListOptions{Versions: true, Properties: true,
		Chunks: true})
	if err != nil {
		f.t.Fatal(err)
	}
	st.Objects = ol.Objects
	recs, err := f.s.Pending(f.ctx, 10000)
	if err != nil {
		f.t.Fatal(err)
	}
	st.Outbox = len(recs)
	return st
}

func manyProps(n int) map[string]string {
	m := make(map[string]string, n)
	for i := range n {
		m["p"+strconv.Itoa(i)] = "v"
	}
	return m
}

// moreProps returns an update adding n properties no other test sets.
func moreProps(n int) meta.PropertyUpdate {
	m := make(map[string]string, n)
	for i := range n {
		m["more"+strconv.Itoa(i)] = "v"
	}
	return meta.PropertyUpdate{Set: m}
}

// bigProps returns an update giving properties p<from> to p<from+n-1>
// values of the largest size allowed.
func bigProps(from, n int) meta.PropertyUpdate {
	m := make(map[string]string, n)
	for i := from; i < from+n; i++ {
		m["p"+strconv.Itoa(i)] = strings.Repeat("v", meta.MaxPropertyValueLen)
	}
	return meta.PropertyUpdate{Set: m}
}

// moveChunk returns c as a chunk of server host at position pos.
func moveChunk(c meta.Chunk, host, pos string) meta.Chunk {
	c.URL, c.Pos = "http://"+host+"/"+meta.ChunkID(cid, "new", 0, pos, "SINGLE"), pos
	return c
}

func testBadInput(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, meta.Namespace{})
	o := f.put("obj", 10, manyProps(1000))
	if err := f.s.UpdateContainer(f.ctx, cid, meta.ContainerUpdate{
		Properties: meta.PropertyUpdate{Set: manyProps(1000)}}); err != nil {
		t.Fatal(err)
	}
	long := func(n int) string { return strings.Repeat("x", n) }
	good := func() *meta.Object {
		return &meta.Object{Name: "new", Size: 10, Chunks: chunksFor("new", 0, 10, 1)}
	}
	with := func(change func(o *meta.Object)) *meta.Object { o := good(); change(o); return o }
	create := func(account, name string, props, sys map[string]string) func() error {
		return func() error {
			_, err := f.s.CreateContainer(f.ctx, meta.ContainerSpec{Account: account, Name: name,
				Properties: props, System: sys})
			return err
		}
	}
	put := func(o *meta.Object) func() error {
		return func() error { _, err := f.s.PutObject(f.ctx, cid, o); return err }
	}
	updateContainer := func(u meta.ContainerUpdate) func() error {
		return func() error { return f.s.UpdateContainer(f.ctx, cid, u) }
	}
	updateObject := func(q meta.ObjectQuery, u meta.PropertyUpdate) func() error {
		return func() error { return f.s.UpdateObject(f.ctx, cid, q, u) }
	}
	del := func(name string, v int64) func() error {
		return func() error { _, err := f.s.DeleteObject(f.ctx, cid, name, v); return err }
	}
	set := func(k, v string) meta.PropertyUpdate {
		return meta.PropertyUpdate{Set: map[string]string{k: v}}
	}
	tests := []struct {
		name string
		do   func() error
		want error
	}{
		{"empty container name", create(acct, "", nil, nil), meta.ErrInvalidName},
		{"container name of 256 bytes", create(acct, long(256), nil, nil), meta.ErrInvalidName},
		{"container name with NUL", create(acct, "a\x00b", nil, nil), meta.ErrInvalidName},
		{"container name not UTF-8", create(acct, "a\xffb", nil, nil), meta.ErrInvalidName},
		{"empty account", create("", "c", nil, nil), meta.ErrInvalidName},
		{"account of 256 bytes", create(long(256), "c", nil, nil), meta.ErrInvalidName},
		{"property key of 513 bytes", create(acct, "c", map[string]string{long(513): "v"}, nil),
			meta.ErrInvalidProperty},
		{"property value over 64 KiB", create(acct, "c", map[string]string{"k": long(64<<10 + 1)},
			nil), meta.ErrInvalidProperty},
		{"1025 properties", create(acct, "c", manyProps(1025), nil), meta.ErrInvalidProperty},
		{"unknown storage policy", create(acct, "c", nil,
			map[string]string{meta.SysPolicyStorage: "EC123"}), meta.ErrUnknownPolicy},
		{"read-only system key", create(acct, "c", nil,
			map[string]string{meta.SysAccount: "x"}), meta.ErrInvalidProperty},
		{"system key without prefix", create(acct, "c", nil, map[string]string{"m2.x": "1"}),
			meta.ErrInvalidProperty},
		{"bad versioning policy", create(acct, "c", nil,
			map[string]string{meta.SysPolicyVersion: "many"}), meta.ErrInvalidProperty},
		{"container properties over 1024 once merged", updateContainer(meta.ContainerUpdate{
			Properties: moreProps(25)}),
			meta.ErrInvalidProperty},
		{"bad replication flag", updateContainer(meta.ContainerUpdate{
			Bucket: set(meta.BucketReplicationEnabled, "maybe")}), meta.ErrInvalid},
		{"update unknown container", func() error {
			return f.s.UpdateContainer(f.ctx, chunk.ContainerID(acct, "no"),
				meta.ContainerUpdate{Properties: set("a", "b")})
		}, meta.ErrNoSuchContainer},
		{"empty object name", put(with(func(o *meta.Object) { o.Name = "" })), meta.ErrInvalidName},
		{"object name of 1024 bytes", put(with(func(o *meta.Object) { o.Name = long(1024) })),
			meta.ErrInvalidName},
		{"object name with NUL", put(with(func(o *meta.Object) { o.Name = "a\x00" })),
			meta.ErrInvalidName},
		{"unknown object policy", put(with(func(o *meta.Object) { o.Policy = "NOPE" })),
			meta.ErrUnknownPolicy},
		{"content id not hex", put(with(func(o *meta.Object) { o.ContentID = "XYZ" })),
			meta.ErrInvalid},
		{"hash not hex", put(with(func(o *meta.Object) { o.Hash = "not-hex" })), meta.ErrInvalid},
		{"negative size", put(with(func(o *meta.Object) { o.Size = -1 })), meta.ErrInvalid},
		{"size not matching chunks", put(with(func(o *meta.Object) { o.Size = 11 })),
			meta.ErrInvalid},
		{"no chunks for 10 bytes", put(with(func(o *meta.Object) { o.Chunks = nil })),
			meta.ErrInvalid},
		{"metachunk gap", put(with(func(o *meta.Object) {
			o.Size = 20
			o.Chunks = append(o.Chunks, moveChunk(o.Chunks[0], "rawx-0", "2"))
		})), meta.ErrInvalid},
		{"copies differ in size", put(with(func(o *meta.Object) {
			c := moveChunk(o.Chunks[0], "rawx-1", "0")
			c.Size--
			o.Chunks = append(o.Chunks, c)
		})), meta.ErrInvalid},
		{"replicated and erasure-coded positions", put(with(func(o *meta.Object) {
			o.Chunks = append(o.Chunks, moveChunk(o.Chunks[0], "rawx-0", "1.0"))
		})), meta.ErrInvalid},
		{"chunk url without id", put(with(func(o *meta.Object) { o.Chunks[0].URL = "http://x/" })),
			meta.ErrInvalid},
		{"chunk url not http", put(with(func(o *meta.Object) {
			o.Chunks[0].URL = "ftp://x/" + strings.Repeat("A", 64)
		})), meta.ErrInvalid},
		{"bad chunk position", put(with(func(o *meta.Object) { o.Chunks[0].Pos = "first" })),
			meta.ErrInvalid},
		{"chunk listed twice", put(with(func(o *meta.Object) {
			o.Chunks = append(o.Chunks, o.Chunks[0])
		})), meta.ErrInvalid},
		{"bad chunk method", put(with(func(o *meta.Object) { o.ChunkMethod = "/x" })),
			meta.ErrInvalid},
		{"object property key too long", put(with(func(o *meta.Object) {
			o.Properties = map[string]string{long(513): "v"}
		})), meta.ErrInvalidProperty},
		{"put in unknown container", func() error {
			_, err := f.s.PutObject(f.ctx, chunk.ContainerID(acct, "no"), good())
			return err
		}, meta.ErrNoSuchContainer},
		{"existing version", put(with(func(n *meta.Object) { n.Name, n.Version = "obj", o.Version })),
			meta.ErrExists},
		{"object properties over 1024 once merged", updateObject(meta.ObjectQuery{Name: "obj"},
			moreProps(25)), meta.ErrInvalidProperty},
		{"update unknown object", updateObject(meta.ObjectQuery{Name: "none"}, set("a", "b")),
			meta.ErrNoSuchObject},
		{"update with bad key", updateObject(meta.ObjectQuery{Name: "obj"}, set("", "b")),
			meta.ErrInvalidProperty},
		{"delete empty name", del("", 0), meta.ErrInvalidName},
		{"delete negative version", del("obj", -5), meta.ErrInvalid},
		{"delete unknown object", del("none", 0), meta.ErrNoSuchObject},
		{"delete unknown version", del("obj", o.Version+1), meta.ErrNoSuchObject},
		{"destroy non-empty container", func() error { return f.s.DestroyContainer(f.ctx, cid) },
			meta.ErrContainerNotEmpty},
	}
	before := f.state()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.t = t
			f.wantErr(tc.name, tc.do(), tc.want)
			if diff := cmp.Diff(before, f.state()); diff != "" {
				t.Errorf("state changed (-before +after):\n%s", diff)
			}
		})
	}
}

// testPropertiesSize: an update that takes the properties a container or
// object holds over MaxPropertiesBytes is refused and changes nothing,
// though the update alone is within the bound; one that shrinks them is
// taken.
func testPropertiesSize(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, meta.Namespace{})
	f.put("obj", 10, nil)
	updateContainer := func(u meta.PropertyUpdate) error {
		return f.s.UpdateContainer(f.ctx, cid, meta.ContainerUpdate{Properties: u})
	}
	updateObject := func(u meta.PropertyUpdate) error {
		return f.s.UpdateObject(f.ctx, cid, meta.ObjectQuery{Name: "obj"}, u)
	}
	// 120 values of 64 KiB, 7.5 MiB in all, set in requests within the
	// bound.
	for _, from := range []int{0, 60} {
		if err := updateContainer(bigProps(from, 60)); err != nil {
			t.Fatal(err)
		}
		if err := updateObject(bigProps(from, 60)); err != nil {
			t.Fatal(err)
		}
	}
	for _, item := range []struct {
		name   string
		update func(meta.PropertyUpdate) error
	}{{"container", updateContainer}, {"object", updateObject}} {
		name, update := item.name, item.update
		before := f.state()
		f.wantErr(name+" properties over 8 MiB once merged", update(bigProps(120, 10)),
			meta.ErrInvalidProperty)
		if diff := cmp.Diff(before, f.state()); diff != "" {
			t.Errorf("%s: state changed (-before +after):\n%s", name, diff)
		}
		// Replacing big values by small ones makes room.
		shrink := meta.PropertyUpdate{Set: map[string]string{"p0": "v", "p1": "v"},
			Delete: []string{"p2"}}
		if err := update(shrink); err != nil {
			t.Fatalf("%s: shrink: %v", name, err)
		}
		if err := update(bigProps(120, 3)); err != nil {
			t.Errorf("%s: after shrinking: %v", name, err)
		}
	}
}
