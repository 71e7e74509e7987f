package metatest

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/meta"
)

// beanKeys are the JSON keys of each bean type of content events.
var beanKeys = map[string][]string{
	meta.BeanAlias: {"ctime", "deleted", "header", "mtime", "name", "type", "version"},
	meta.BeanHeader: {"chunk-method", "ctime", "hash", "id", "mime-type", "mtime", "policy",
		"size", "type"},
	meta.BeanChunk:    {"content", "ctime", "hash", "id", "pos", "size", "type"},
	meta.BeanProperty: {"alias", "key", "type", "value", "version"},
}

// beanTypes checks the keys of each bean of a content event and returns
// the bean types in order.
func beanTypes(t *testing.T, ev event.Event) []string {
	t.Helper()
	var beans []map[string]any
	if err := json.Unmarshal(ev.Data, &beans); err != nil {
		t.Fatalf("%s data: %v", ev.Type, err)
	}
	var types []string
	for _, b := range beans {
		typ, _ := b["type"].(string)
		types = append(types, typ)
		got := slices.Sorted(maps.Keys(b))
		if diff := cmp.Diff(beanKeys[typ], got); diff != "" {
			t.Errorf("%s: %s bean keys (-want +got):\n%s", ev.Type, typ, diff)
		}
	}
	return types
}

func types(evs []event.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

func testEvents(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, meta.Namespace{Name: "EVNS"})
	f.ctx = meta.WithRequestID(f.ctx, "req-42")
	cid2 := chunk.ContainerID(acct, "ev")
	steps := []struct {
		name  string
		do    func() error
		types []string
		check func(t *testing.T, evs []event.Event)
	}{
		{"create container", func() error {
			_, err := f.s.CreateContainer(f.ctx, meta.ContainerSpec{Account: acct, Name: "ev",
				Properties: map[string]string{"k": "v"}})
			return err
		}, []string{event.ContainerNew}, checkContainerNew(cid2)},
		{"create it again", func() error {
			_, err := f.s.CreateContainer(f.ctx, meta.ContainerSpec{Account: acct, Name: "ev"})
			return err
		}, nil, nil},
		{"update container", func() error {
			return f.s.UpdateContainer(f.ctx, cid2, meta.ContainerUpdate{
				Properties: meta.PropertyUpdate{Set: map[string]string{"k2": "v2"}}})
		}, []string{event.ContainerUpdate}, nil},
		{"put", func() error { f.put("o", 15, map[string]string{"color": "blue"}); return nil },
			[]string{event.ContentNew}, checkContentNew},
		{"update object", func() error {
			return f.s.UpdateObject(f.ctx, cid, meta.ObjectQuery{Name: "o"},
				meta.PropertyUpdate{Set: map[string]string{"size": "L"}})
		}, []string{event.ContentUpdate}, nil},
		{"replace", func() error { f.put("o", 5, nil); return nil },
			[]string{event.ContentNew, event.ContentDeleted}, checkReplaced},
		{"delete", func() error { _, err := f.s.DeleteObject(f.ctx, cid, "o", 0); return err },
			[]string{event.ContentDeleted}, nil},
		{"destroy container", func() error { return f.s.DestroyContainer(f.ctx, cid2) },
			[]string{event.ContainerDeleted}, checkContainerDeleted},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		evs := f.drain()
		if diff := cmp.Diff(st.types, types(evs)); diff != "" {
			t.Fatalf("%s: event types (-want +got):\n%s", st.name, diff)
		}
		for _, ev := range evs {
			if ev.RequestID != "req-42" || ev.URL == nil || ev.URL.NS != "EVNS" || ev.When < 1e15 {
				t.Errorf("%s: envelope %+v", st.name, ev)
			}
		}
		if st.check != nil {
			st.check(t, evs)
		}
	}
}

func checkContainerNew(cid2 string) func(t *testing.T, evs []event.Event) {
	return func(t *testing.T, evs []event.Event) {
		ev := evs[0]
		want := event.URL{NS: "EVNS", Account: acct, User: "ev", ID: cid2, Bucket: "ev"}
		if diff := cmp.Diff(want, *ev.URL); diff != "" {
			t.Errorf("container url (-want +got):\n%s", diff)
		}
		var data struct {
			System     map[string]string
			Properties map[string]string
			Peers      []string
		}
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			t.Fatal(err)
		}
		if data.System[meta.SysName] != cid2+".1" || data.Properties["k"] != "v" ||
			data.Peers == nil {
			t.Errorf("container event data: %s", ev.Data)
		}
	}
}

func checkContentNew(t *testing.T, evs []event.Event) {
	ev := evs[0]
	want := []string{meta.BeanAlias, meta.BeanHeader, meta.BeanProperty}
	if diff := cmp.Diff(want, beanTypes(t, ev)); diff != "" {
		t.Errorf("content.new beans (-want +got):\n%s", diff)
	}
	o, err := meta.ParseContentBeans(ev.Data)
	if err != nil {
		t.Fatal(err)
	}
	u := ev.URL
	if u.Path != "o" || u.Content != o.ContentID || u.Version != strconv.FormatInt(o.Version, 10) ||
		u.ID != cid || u.User != ctr || u.Account != acct {
		t.Errorf("content url %+v for %+v", u, o)
	}
	if o.Size != 15 || o.Properties["color"] != "blue" || o.Policy != "SINGLE" || o.Deleted {
		t.Errorf("content.new object: %+v", o)
	}
	if *ev.Part != 0 || *ev.Parts != 1 {
		t.Errorf("part %d of %d", *ev.Part, *ev.Parts)
	}
}

func checkReplaced(t *testing.T, evs []event.Event) {
	types := beanTypes(t, evs[1])
	want := []string{meta.BeanAlias, meta.BeanHeader, meta.BeanChunk, meta.BeanChunk,
		meta.BeanProperty, meta.BeanProperty}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Errorf("content.deleted beans (-want +got):\n%s", diff)
	}
	old, err := meta.ParseContentBeans(evs[1].Data)
	if err != nil {
		t.Fatal(err)
	}
	if old.Size != 15 || len(old.Chunks) != 2 || old.Chunks[0].Pos != "0" ||
		old.Properties["size"] != "L" {
		t.Errorf("deleted object: %+v", old)
	}
}

func checkContainerDeleted(t *testing.T, evs []event.Event) {
	var data map[string]any
	if err := json.Unmarshal(evs[0].Data, &data); err != nil {
		t.Fatal(err)
	}
	if data["object-count"] != 0.0 || data["bytes-count"] != 0.0 || data["bucket"] != "ev" {
		t.Errorf("container.deleted data: %s", evs[0].Data)
	}
}

func testOutbox(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, meta.Namespace{MaxVersions: -1})
	f.put("m", 1, nil)
	if _, err := f.s.DeleteObject(f.ctx, cid, "m", 0); err != nil {
		t.Fatal(err)
	}
	recs, err := f.s.Pending(f.ctx, 1)
	if err != nil || len(recs) != 1 || recs[0].Event.Type != event.ContentNew {
		t.Fatalf("pending 1: %+v, %v", recs, err)
	}
	all, err := f.s.Pending(f.ctx, 10)
	if err != nil || len(all) != 2 || all[0].ID != recs[0].ID || all[1].ID <= all[0].ID {
		t.Fatalf("pending 10: %+v, %v", all, err)
	}
	marker, err := meta.ParseContentBeans(all[1].Event.Data)
	if err != nil || !marker.Deleted || marker.ContentID != "" {
		t.Errorf("delete marker event: %+v, %v", marker, err)
	}
	if got := beanTypes(t, all[1].Event); !slices.Equal(got, []string{meta.BeanAlias}) {
		t.Errorf("delete marker beans %v", got)
	}
	if err := f.s.Done(f.ctx, []int64{all[0].ID, 1 << 40}); err != nil {
		t.Fatal(err)
	}
	left, err := f.s.Pending(f.ctx, 10)
	if err != nil || len(left) != 1 || left[0].ID != all[1].ID {
		t.Errorf("after done: %+v, %v", left, err)
	}
}
