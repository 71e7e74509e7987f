package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

// Resolver maps the host of a chunk URL (a chunk server's service id or
// address) to the address to send requests to.
type Resolver func(ctx context.Context, host string) (string, error)

// ContentCleaner returns the step that deletes the chunk files of deleted
// objects: storage.content.deleted events list the chunks of the object
// version that went away. A chunk already gone counts as deleted.
func ContentCleaner(client *rawx.Client, resolve Resolver) Step {
	return Step{
		Name:    "content-cleaner",
		Types:   []string{event.ContentDeleted},
		Workers: 4,
		Handle: func(ctx context.Context, ev event.Event) error {
			urls, err := deletedChunks(ev)
			if err != nil {
				return nil // a malformed event cannot become valid by retrying
			}
			var errs []error
			for _, u := range urls {
				if err := deleteChunk(ctx, client, resolve, u); err != nil {
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
	if err := json.Unmarshal(ev.Data, &beans); err != nil {
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

func deleteChunk(ctx context.Context, client *rawx.Client, resolve Resolver, chunkURL string) error {
	host, id, err := rawx.SplitChunkURL(chunkURL)
	if err != nil {
		return nil // not a chunk URL: nothing to delete
	}
	if resolve != nil {
		if host, err = resolve(ctx, host); err != nil {
			return fmt.Errorf("delete chunk %s: %w", chunkURL, err)
		}
	}
	err = client.Delete(ctx, rawx.ChunkURL(host, id))
	if err == nil || errors.Is(err, rawx.ErrNotFound) {
		return nil
	}
	return err
}

// VolumeIndex returns the step that keeps the reverse index in step with
// the chunk servers: storage.chunk.new pushes a record, storage.chunk.deleted
// removes it.
func VolumeIndex(store rdir.Store) Step {
	return Step{
		Name:    "volume-index",
		Types:   []string{event.ChunkNew, event.ChunkDeleted},
		Workers: 2,
		Handle: func(ctx context.Context, ev event.Event) error {
			err := rdir.ApplyChunkEvent(ctx, store, ev)
			if errors.Is(err, rdir.ErrInvalid) {
				return nil // a malformed event cannot become valid by retrying
			}
			return err
		},
	}
}
