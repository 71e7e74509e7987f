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
		if err := rdir.ApplyChunkEvent(ctx, s, newEv); err != nil {
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
		if err := rdir.ApplyChunkEvent(ctx, s, delEv); err != nil {
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
	if err := rdir.ApplyChunkEvent(context.Background(), s, chunkEvent(t, event.ChunkNew, d)); err != nil {
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
	if err := rdir.ApplyChunkEvent(context.Background(), s, ev); err != nil {
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
			err := rdir.ApplyChunkEvent(context.Background(), s, chunkEvent(t, event.ChunkNew, d))
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
	if err := rdir.ApplyChunkEvent(context.Background(), s, bad); !errors.Is(err, rdir.ErrInvalid) {
		t.Errorf("data not an object: %v, want ErrInvalid", err)
	}
	other := event.Event{Type: event.ContentNew, When: when, Data: json.RawMessage(`{}`)}
	if err := rdir.ApplyChunkEvent(context.Background(), s, other); !errors.Is(err, rdir.ErrNotChunkEvent) {
		t.Errorf("content event: %v, want ErrNotChunkEvent", err)
	}
}
