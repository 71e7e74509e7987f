package integrity

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/jsonx"
)

// brokenData is the data of a storage.content.broken event.
type brokenData struct {
	MissingChunks []string `json:"missing_chunks"`
	Irreparable   bool     `json:"irreparable,omitempty"`
}

// BrokenEvent returns the storage.content.broken event announcing r, a
// chunk finding, to the rebuilder: the owner in "url" ("ns", "id", "content",
// "path", "version", plus "account" and "user" when known) and the chunk
// URL or position in data.missing_chunks, with "irreparable" when true.
func BrokenEvent(ns string, r *Result) (event.Event, error) {
	t := r.Target
	u := &event.URL{NS: ns, Account: t.Account, User: t.Container, ID: t.CID(),
		Path: t.Object, Content: t.ContentID}
	if t.Version != 0 {
		u.Version = strconv.FormatInt(t.Version, 10)
	}
	data, err := json.Marshal(brokenData{MissingChunks: []string{t.Chunk},
		Irreparable: r.Irreparable})
	if err != nil {
		return event.Event{}, err
	}
	return event.Event{Type: event.ContentBroken, When: event.Now(), URL: u, Data: data}, nil
}

// ParseBroken returns the rebuild entries a storage.content.broken event
// carries, one per missing chunk.
func ParseBroken(ev event.Event) ([]RebuildEntry, error) {
	if ev.Type != event.ContentBroken || ev.URL == nil {
		return nil, fmt.Errorf("event %s: not a broken content event", ev.Type)
	}
	var d brokenData
	if err := jsonx.Unmarshal(ev.Data, &d); err != nil {
		return nil, fmt.Errorf("broken content event data: %w", err)
	}
	var version int64
	if ev.URL.Version != "" {
		v, err := strconv.ParseInt(ev.URL.Version, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("broken content event version %q: %w", ev.URL.Version, err)
		}
		version = v
	}
	out := make([]RebuildEntry, 0, len(d.MissingChunks))
	for _, c := range d.MissingChunks {
		out = append(out, RebuildEntry{ContainerID: ev.URL.ID, ContentID: ev.URL.Content,
			Path: ev.URL.Path, Version: version, Chunk: c, Irreparable: d.Irreparable})
	}
	return out, nil
}
