package rdir

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/jsonx"
)

// ErrNotChunkEvent is returned by ApplyChunkEvents, among the events it
// skips, for events other than storage.chunk.new and storage.chunk.deleted.
var ErrNotChunkEvent = errors.New("not a chunk event")

// ApplyChunkEvents keeps the index of each event's volume (see
// event.ChunkData.Volume) in step with chunk events, in order:
// storage.chunk.new pushes the chunk's record, with the event time in
// seconds as mtime, creating the volume's database if needed;
// storage.chunk.deleted removes the record, and succeeds if the record or
// the volume does not exist. Applying an event twice has the effect of
// applying it once. It makes one push and one deletion per volume, not one
// per event: of the events about one chunk, only the last counts.
//
// Malformed events (their errors wrap ErrInvalid) and events of other types
// change nothing and are skipped; their errors are returned in skipped. err
// is the failure of the store that stopped the others, when some volumes
// may be brought up to date and others not yet: applying the events again
// finishes the work.
//
// Unlike OpenIO's volume_index filter, a chunk.new event for a volume
// without a database creates it instead of failing: the chunk exists, so
// its index must. As there, a chunk.new event delivered again after the
// chunk's chunk.deleted event brings its record back.
func ApplyChunkEvents(ctx context.Context, store Store, evs []event.Event) (skipped []error, err error) {
	var vols []*volumeChanges
	byName := map[string]*volumeChanges{}
	for _, ev := range evs {
		vol, ch, err := parseChunkEvent(ev)
		if err != nil {
			skipped = append(skipped, err)
			continue
		}
		v := byName[vol]
		if v == nil {
			v = &volumeChanges{name: vol, last: map[string]int{}}
			byName[vol] = v
			vols = append(vols, v)
		}
		v.add(ch)
	}
	for _, v := range vols {
		if err := v.apply(ctx, store); err != nil {
			return skipped, err
		}
	}
	return skipped, nil
}

// chunkChange is what a chunk event asks of a volume's index: push rec,
// or remove ref when deleted.
type chunkChange struct {
	deleted bool
	rec     Record
	ref     ChunkRef
}

// volumeChanges gathers the last change asked for each chunk of a volume.
type volumeChanges struct {
	name    string
	changes []chunkChange
	last    map[string]int // chunk key -> its change in changes
}

func (v *volumeChanges) add(ch chunkChange) {
	key := ch.ref.Key()
	if i, ok := v.last[key]; ok {
		v.changes[i] = ch
		return
	}
	v.last[key] = len(v.changes)
	v.changes = append(v.changes, ch)
}

// apply makes the changes: the pushes, creating the volume's database if
// needed, then the deletions, which succeed if the volume does not exist.
// A chunk has one change only, so the order of the two does not matter.
func (v *volumeChanges) apply(ctx context.Context, store Store) error {
	var recs []Record
	var refs []ChunkRef
	for _, ch := range v.changes {
		if ch.deleted {
			refs = append(refs, ch.ref)
		} else {
			recs = append(recs, ch.rec)
		}
	}
	if len(recs) > 0 {
		err := store.Push(ctx, v.name, recs)
		if errors.Is(err, ErrNoVolume) {
			if err := store.CreateVolume(ctx, v.name); err != nil {
				return err
			}
			err = store.Push(ctx, v.name, recs)
		}
		if err != nil {
			return fmt.Errorf("apply chunk events: %w", err)
		}
	}
	if len(refs) > 0 {
		err := store.Delete(ctx, v.name, refs)
		if err != nil && !errors.Is(err, ErrNoVolume) {
			return fmt.Errorf("apply chunk events: %w", err)
		}
	}
	return nil
}

// parseChunkEvent returns the volume a chunk event is about and the change
// it asks for, or an error wrapping ErrInvalid or ErrNotChunkEvent.
func parseChunkEvent(ev event.Event) (string, chunkChange, error) {
	if ev.Type != event.ChunkNew && ev.Type != event.ChunkDeleted {
		return "", chunkChange{}, fmt.Errorf("apply %q event: %w", ev.Type, ErrNotChunkEvent)
	}
	var d event.ChunkData
	if err := jsonx.Unmarshal(ev.Data, &d); err != nil {
		return "", chunkChange{}, fmt.Errorf("apply %s event: %w", ev.Type, invalidf("bad data: %v", err))
	}
	ch, err := chunkChangeOf(ev, d)
	if err == nil {
		err = ValidateVolume(d.Volume())
	}
	if err != nil {
		return "", chunkChange{}, fmt.Errorf("apply %s event for chunk %s: %w", ev.Type, clip(d.ChunkID), err)
	}
	return d.Volume(), ch, nil
}

func chunkChangeOf(ev event.Event, d event.ChunkData) (chunkChange, error) {
	ref, err := ChunkRef{ContainerID: d.ContainerID, ChunkID: d.ChunkID}.Normalize()
	if err != nil {
		return chunkChange{}, err
	}
	if ev.Type == event.ChunkDeleted {
		return chunkChange{deleted: true, ref: ref}, nil
	}
	version, err := strconv.ParseInt(d.ContentVersion, 10, 64)
	if err != nil {
		return chunkChange{}, invalidf("content version %q is not an integer", clip(d.ContentVersion))
	}
	rec, err := Record{ContainerID: d.ContainerID, ChunkID: d.ChunkID, ContentID: d.ContentID,
		Path: d.ContentPath, Version: version, Mtime: ev.When / 1_000_000}.Normalize()
	if err != nil {
		return chunkChange{}, err
	}
	return chunkChange{rec: rec, ref: ref}, nil
}
