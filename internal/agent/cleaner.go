package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/jsonx"
	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

// Resolver maps the host of a chunk URL (a chunk server's service id or
// address) to the address to send requests to.
type Resolver func(ctx context.Context, host string) (string, error)

// Owners returns the chunk URLs, as the directory stores them, of the
// entries that list a chunk id (meta.Store.ChunkOwners).
type Owners func(ctx context.Context, chunkID string) ([]string, error)

// Unindex removes the reverse index record of the chunk chunkID of the
// container cid on the volume vol.
type Unindex func(ctx context.Context, vol, cid, chunkID string) error

// ContentCleaner returns the step that deletes the chunk files of deleted
// objects: storage.content.deleted events list the chunks of the object
// version that went away. A chunk already gone counts as deleted; with
// unindex, its reverse index record goes too, since no chunk event will
// say it is gone (the event's container id and the chunk URL's host, the
// volume's service id, name the record). With owners, a chunk another
// object's directory entry still lists (one chunk server, by service id or
// address, and one chunk id) is kept: a directory edited by hand or
// restored may share files between objects.
func ContentCleaner(client *rawx.Client, resolve Resolver, owners Owners, unindex Unindex) Step {
	return Step{
		Name:    "content-cleaner",
		Types:   []string{event.ContentDeleted},
		Workers: 4,
		Handle: func(ctx context.Context, ev event.Event) error {
			urls, err := deletedChunks(ev)
			if err != nil {
				return nil // a malformed event cannot become valid by retrying
			}
			var cid string
			if ev.URL != nil {
				cid = ev.URL.ID
			}
			var errs []error
			for _, u := range urls {
				listed, err := stillListed(ctx, resolve, owners, u)
				if err == nil && !listed {
					err = deleteChunk(ctx, client, resolve, u, func(vol, id string) error {
						if unindex == nil || cid == "" {
							return nil
						}
						return unindex(ctx, vol, cid, id)
					})
				}
				if err != nil {
					errs = append(errs, err)
				}
			}
			return errors.Join(errs...)
		},
	}
}

// deletedChunks returns the chunk URLs of a content event's chunk beans.
func deletedChunks(ev event.Event) ([]string, error) {
	var beans []struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	if err := jsonx.Unmarshal(ev.Data, &beans); err != nil {
		return nil, fmt.Errorf("content event data: %w", err)
	}
	var urls []string
	for _, b := range beans {
		if b.Type == "chunks" && b.ID != "" {
			urls = append(urls, b.ID)
		}
	}
	return urls, nil
}

// stillListed reports whether an entry still lists chunkURL: the same
// chunk id on a host that resolves to the same address.
func stillListed(ctx context.Context, resolve Resolver, owners Owners, chunkURL string) (bool,
	error) {
	host, id, err := rawx.SplitChunkURL(chunkURL)
	if owners == nil || err != nil {
		return false, nil
	}
	listed, err := owners(ctx, id)
	if err != nil {
		return false, fmt.Errorf("owners of chunk %s: %w", chunkURL, err)
	}
	addr := func(h string) string {
		if resolve != nil {
			if a, err := resolve(ctx, h); err == nil {
				return strings.ToLower(a)
			}
		}
		return strings.ToLower(h)
	}
	for _, u := range listed {
		if h, _, err := rawx.SplitChunkURL(u); err == nil && addr(h) == addr(host) {
			return true, nil
		}
	}
	return false, nil
}

// deleteChunk deletes the chunk at chunkURL, and calls gone with the URL's
// host and chunk id when its chunk server has no such chunk.
func deleteChunk(ctx context.Context, client *rawx.Client, resolve Resolver, chunkURL string,
	gone func(vol, id string) error) error {
	vol, id, err := rawx.SplitChunkURL(chunkURL)
	if err != nil {
		return nil // not a chunk URL: nothing to delete
	}
	addr := vol
	if resolve != nil {
		if addr, err = resolve(ctx, vol); err != nil {
			return fmt.Errorf("delete chunk %s: %w", chunkURL, err)
		}
	}
	err = client.Delete(ctx, rawx.ChunkURL(addr, id))
	if errors.Is(err, rawx.ErrNotFound) {
		return gone(vol, id)
	}
	return err
}

// VolumeIndex returns the step that keeps the reverse index in step with
// the chunk servers: storage.chunk.new pushes a record, storage.chunk.deleted
// removes it. One member applies the events, a batch at a time, in the
// order the chunk servers published them: two members could apply a chunk's
// deletion and its creation again (a rebuild in place) in the wrong order.
// One member keeps up: batches make its cost per event small.
func VolumeIndex(store rdir.Store) Step {
	return Step{
		Name:    "volume-index",
		Types:   []string{event.ChunkNew, event.ChunkDeleted},
		Workers: 1,
		HandleBatch: func(ctx context.Context, evs []event.Event) error {
			// A malformed event cannot become valid by retrying: it is skipped.
			_, err := rdir.ApplyChunkEvents(ctx, store, evs)
			return err
		},
	}
}
