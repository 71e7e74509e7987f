package rdir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/gridkeep/gridkeep/internal/event"
)

// ErrNotChunkEvent is returned by ApplyChunkEvent for events other than
// storage.chunk.new and storage.chunk.deleted.
var ErrNotChunkEvent = errors.New("not a chunk event")

// ApplyChunkEvent keeps the index of the event's volume (see
// event.ChunkData.Volume) in step with a chunk event: storage.chunk.new
// pushes the chunk's record, with the event time in seconds as mtime,
// creating the volume's database if needed; storage.chunk.deleted removes
// the record, and succeeds if the record or the volume does not exist.
// Applying an event twice has the effect of applying it once. Malformed
// events return an error wrapping ErrInvalid and change nothing.
//
// Unlike OpenIO's volume_index filter, a chunk.new event for a volume
// without a database creates it instead of failing: the chunk exists, so
// its index must. As there, a chunk.new event delivered again after the
// chunk's chunk.deleted event brings its record back.
func ApplyChunkEvent(ctx context.Context, store Store, ev event.Event) error {
	if ev.Type != event.ChunkNew && ev.Type != event.ChunkDeleted {
		return fmt.Errorf("apply %q event: %w", ev.Type, ErrNotChunkEvent)
	}
	var d event.ChunkData
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		return fmt.Errorf("apply %s event: %w", ev.Type, invalidf("bad data: %v", err))
	}
	var err error
	if ev.Type == event.ChunkNew {
		err = applyChunkNew(ctx, store, ev, d)
	} else {
		err = applyChunkDeleted(ctx, store, d)
	}
	if err != nil {
		return fmt.Errorf("apply %s event for chunk %s: %w", ev.Type, clip(d.ChunkID), err)
	}
	return nil
}

func applyChunkNew(ctx context.Context, store Store, ev event.Event, d event.ChunkData) error {
	version, err := strconv.ParseInt(d.ContentVersion, 10, 64)
	if err != nil {
		return invalidf("content version %q is not an integer", clip(d.ContentVersion))
	}
	rec, err := Record{ContainerID: d.ContainerID, ChunkID: d.ChunkID, ContentID: d.ContentID,
		Path: d.ContentPath, Version: version, Mtime: ev.When / 1_000_000}.Normalize()
	if err != nil {
		return err
	}
	vol := d.Volume()
	if err := ValidateVolume(vol); err != nil {
		return err
	}
	err = store.Push(ctx, vol, []Record{rec})
	if errors.Is(err, ErrNoVolume) {
		if err := store.CreateVolume(ctx, vol); err != nil {
			return err
		}
		err = store.Push(ctx, vol, []Record{rec})
	}
	return err
}

func applyChunkDeleted(ctx context.Context, store Store, d event.ChunkData) error {
	ref, err := ChunkRef{ContainerID: d.ContainerID, ChunkID: d.ChunkID}.Normalize()
	if err != nil {
		return err
	}
	vol := d.Volume()
	if err := ValidateVolume(vol); err != nil {
		return err
	}
	err = store.Delete(ctx, vol, []ChunkRef{ref})
	if errors.Is(err, ErrNoVolume) {
		return nil
	}
	return err
}
