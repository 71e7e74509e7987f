package meta

import (
	"context"
	"net/http"
	"net/url"
)

// UpdateChunk replaces, adds or removes one chunk entry of an object
// version in the container of id cid, through container/raw_update (see
// ChunkUpdate and Store.UpdateChunk). ErrChunkConflict means the object's
// chunks no longer fit the update: reload them and decide again.
func (c *Client) UpdateChunk(ctx context.Context, cid string, u ChunkUpdate) error {
	var body wireRawUpdate
	if u.Old.URL != "" {
		body.Old = []ChunkBean{chunkBean(u.ContentID, u.Old)}
	}
	if u.New.URL != "" {
		body.New = []ChunkBean{chunkBean(u.ContentID, u.New)}
	}
	k := c.proxyCall(http.MethodPost, "container/raw_update", url.Values{"cid": {cid}})
	k.body = body
	_, err := c.do(ctx, k, nil)
	return err
}

func chunkBean(contentID string, ch Chunk) ChunkBean {
	return ChunkBean{Type: BeanChunk, ID: ch.URL, Hash: ch.Hash, Size: ch.Size, Pos: ch.Pos,
		Content: contentID}
}

// ChunkOwners returns the entries, in any container, that list a chunk of
// id chunkID (see Store.ChunkOwners), through chunk/owners.
func (c *Client) ChunkOwners(ctx context.Context, chunkID string) ([]ChunkOwner, error) {
	var out []ChunkOwner
	_, err := c.do(ctx, c.proxyCall(http.MethodGet, "chunk/owners", url.Values{"id": {chunkID}}), &out)
	return out, err
}
