package rdir_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/rdir"
	"github.com/gridkeep/gridkeep/internal/rdir/rdirtest"
)

const when = 1700000123456789 // microseconds

func chunkEvent(t *testing.T, typ string, d event.ChunkData) event.Event {
	t.Helper()
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return event.Event{Type: typ, When: when, Data: data}
}

func chunkData(r rdir.Record) event.ChunkData {
	return event.ChunkData{VolumeID: "127.0.0.1:6201", VolumeServiceID: "rawx-1",
		ContainerID: r.ContainerID, ChunkID: r.ChunkID, ContentID: r.ContentID,
		ContentPath: r.Path, ContentVersion: "1700000000000007", ChunkPosition: "0"}
}

// applyChunkEvent applies one event, returning the error that skipped it
// if any.
func applyChunkEvent(ctx context.Context, s rdir.Store, ev event.Event) error {
	skipped, err := rdir.ApplyChunkEvents(ctx, s, []event.Event{ev})
	if len(skipped) > 0 {
		return skipped[0]
	}
	return err
}

func records(t *testing.T, s rdir.Store, vol string) []rdir.Record {
	t.Helper()
	var out []rdir.Record
	for r, err := range rdir.All(context.Background(), s, vol, rdir.ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func TestApplyChunkEventIsIdempotent(t *testing.T) {
	s := newSQLite(t)
	defer s.Close()
	ctx := context.Background()
	rec := rdirtest.Rec(2, 7, when/1_000_000)
	rec.Version = 1700000000000007
	newEv := chunkEvent(t, event.ChunkNew, chunkData(rec))
	for range 2 {
		if err := applyChunkEvent(ctx, s, newEv); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]rdir.Record{rec}, records(t, s, "rawx-1")); diff != "" {
		t.Errorf("records of the service id volume (-want +got):\n%s", diff)
	}
	if _, err := s.Show(ctx, "127.0.0.1:6201"); !errors.Is(err, rdir.ErrNoVolume) {
		t.Errorf("the address volume was touched: %v", err)
	}
	delEv := chunkEvent(t, event.ChunkDeleted, chunkData(rec))
	for range 2 {
		if err := applyChunkEvent(ctx, s, delEv); err != nil {
			t.Fatal(err)
		}
	}
	if got := records(t, s, "rawx-1"); len(got) != 0 {
		t.Errorf("records after delete: %v", got)
	}
}

func TestApplyChunkEventVolumeFallback(t *testing.T) {
	s := newSQLite(t)
	defer s.Close()
	d := chunkData(rdirtest.Rec(0, 1, 0))
	d.VolumeServiceID = ""
	if err := applyChunkEvent(context.Background(), s, chunkEvent(t, event.ChunkNew, d)); err != nil {
		t.Fatal(err)
	}
	if got := records(t, s, "127.0.0.1:6201"); len(got) != 1 {
		t.Errorf("records of the address volume = %d, want 1", len(got))
	}
}

func TestApplyChunkDeletedUnknownVolume(t *testing.T) {
	s := newSQLite(t)
	defer s.Close()
	ev := chunkEvent(t, event.ChunkDeleted, chunkData(rdirtest.Rec(0, 1, 0)))
	if err := applyChunkEvent(context.Background(), s, ev); err != nil {
		t.Errorf("delete on a volume without index: %v", err)
	}
}

func TestApplyChunkEventRefusesBadEvents(t *testing.T) {
	good := chunkData(rdirtest.Rec(0, 1, 0))
	spoil := map[string]func(*event.ChunkData){
		"no volume":          func(d *event.ChunkData) { d.VolumeID, d.VolumeServiceID = "", "" },
		"bad chunk id":       func(d *event.ChunkData) { d.ChunkID = "xyz" },
		"bad container id":   func(d *event.ChunkData) { d.ContainerID = "ABC" },
		"version not number": func(d *event.ChunkData) { d.ContentVersion = "latest" },
		"no path":            func(d *event.ChunkData) { d.ContentPath = "" },
	}
	for name, fn := range spoil {
		t.Run(name, func(t *testing.T) {
			s := newSQLite(t)
			defer s.Close()
			d := good
			fn(&d)
			err := applyChunkEvent(context.Background(), s, chunkEvent(t, event.ChunkNew, d))
			if !errors.Is(err, rdir.ErrInvalid) {
				t.Errorf("error %v, want ErrInvalid", err)
			}
			for _, v := range []string{"rawx-1", "127.0.0.1:6201"} {
				if _, err := s.Show(context.Background(), v); !errors.Is(err, rdir.ErrNoVolume) {
					t.Errorf("volume %s was created: %v", v, err)
				}
			}
		})
	}
	s := newSQLite(t)
	defer s.Close()
	bad := event.Event{Type: event.ChunkNew, When: when, Data: json.RawMessage(`[1,2]`)}
	if err := applyChunkEvent(context.Background(), s, bad); !errors.Is(err, rdir.ErrInvalid) {
		t.Errorf("data not an object: %v, want ErrInvalid", err)
	}
	other := event.Event{Type: event.ContentNew, When: when, Data: json.RawMessage(`{}`)}
	if err := applyChunkEvent(context.Background(), s, other); !errors.Is(err, rdir.ErrNotChunkEvent) {
		t.Errorf("content event: %v, want ErrNotChunkEvent", err)
	}
}

// TestApplyChunkEvents applies one batch over two volumes, with a chunk
// created then deleted, one deleted then created again, a deletion on a
// volume without a database and a malformed event, and compares with the
// same events applied one at a time.
func TestApplyChunkEvents(t *testing.T) {
	ctx := context.Background()
	on := func(r rdir.Record, svc string) event.ChunkData {
		d := chunkData(r)
		d.VolumeServiceID = svc
		return d
	}
	rec := func(n int) rdir.Record {
		r := rdirtest.Rec(1, n, when/1_000_000)
		r.Version = 1700000000000007
		return r
	}
	bad := chunkData(rec(9))
	bad.ContentVersion = "not a number"
	evs := []event.Event{
		chunkEvent(t, event.ChunkNew, on(rec(1), "rawx-1")),
		chunkEvent(t, event.ChunkNew, on(rec(2), "rawx-1")),
		chunkEvent(t, event.ChunkNew, on(rec(3), "rawx-2")),
		chunkEvent(t, event.ChunkDeleted, on(rec(2), "rawx-1")),
		chunkEvent(t, event.ChunkNew, bad),
		chunkEvent(t, event.ChunkDeleted, on(rec(4), "rawx-2")),
		chunkEvent(t, event.ChunkNew, on(rec(4), "rawx-2")),
		chunkEvent(t, event.ChunkDeleted, on(rec(5), "rawx-3")),
		{Type: event.ContentNew, When: when, Data: json.RawMessage(`{}`)},
	}

	batched, single := newSQLite(t), newSQLite(t)
	defer batched.Close()
	defer single.Close()
	skipped, err := rdir.ApplyChunkEvents(ctx, batched, evs)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 2 || !errors.Is(skipped[0], rdir.ErrInvalid) ||
		!errors.Is(skipped[1], rdir.ErrNotChunkEvent) {
		t.Errorf("skipped = %v, want the malformed event, then the content event", skipped)
	}
	for _, ev := range evs {
		err := applyChunkEvent(ctx, single, ev)
		if err != nil && !errors.Is(err, rdir.ErrInvalid) && !errors.Is(err, rdir.ErrNotChunkEvent) {
			t.Fatal(err)
		}
	}
	want := map[string][]rdir.Record{"rawx-1": {rec(1)}, "rawx-2": {rec(3), rec(4)}}
	for vol, recs := range want {
		if diff := cmp.Diff(recs, records(t, batched, vol)); diff != "" {
			t.Errorf("%s after the batch (-want +got):\n%s", vol, diff)
		}
		if diff := cmp.Diff(recs, records(t, single, vol)); diff != "" {
			t.Errorf("%s after the events one at a time (-want +got):\n%s", vol, diff)
		}
	}
	if _, err := batched.Show(ctx, "rawx-3"); !errors.Is(err, rdir.ErrNoVolume) {
		t.Errorf("a deletion created volume rawx-3: %v", err)
	}
}
