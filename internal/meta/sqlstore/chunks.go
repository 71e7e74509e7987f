package sqlstore

import (
	"context"
	"fmt"

	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/meta"
)

// UpdateChunk replaces, adds or removes one chunk entry of an object
// version and announces the object as updated, in one transaction.
func (s *Store) UpdateChunk(ctx context.Context, cid string, u meta.ChunkUpdate) error {
	if err := meta.NormalizeChunkUpdate(&u); err != nil {
		return fmt.Errorf("update chunk of content %s: %w", u.ContentID, err)
	}
	err := s.update(ctx, func(w *wtx) error {
		c, err := w.s.loadContainer(ctx, w.conn, cid)
		if err != nil {
			return err
		}
		o, err := w.s.loadObject(ctx, w.conn, cid, meta.ObjectQuery{ContentID: u.ContentID})
		if err != nil {
			return err
		}
		p, ok := w.s.ns.Policy(o.Policy)
		if !ok {
			return fmt.Errorf("%w: %q", meta.ErrUnknownPolicy, o.Policy)
		}
		chunks, err := meta.ApplyChunkUpdate(o.Chunks, u, p.Copies)
		if err != nil {
			return err
		}
		if err := w.replaceChunks(cid, o.ContentID, chunks); err != nil {
			return err
		}
		o.Chunks = chunks
		return w.emitContent(event.ContentUpdate, c, o)
	})
	if err != nil {
		return fmt.Errorf("update chunk of content %s: %w", u.ContentID, err)
	}
	return nil
}

// replaceChunks writes the whole chunk list of a content anew.
func (w *wtx) replaceChunks(cid, contentID string, chunks []meta.Chunk) error {
	if _, err := w.exec(w.ctx, `DELETE FROM chunks WHERE cid = ? AND content_id = ?`,
		cid, contentID); err != nil {
		return err
	}
	for i, ch := range chunks {
		if _, err := w.exec(w.ctx, `INSERT INTO chunks (cid, content_id, seq, url, pos, size, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, cid, contentID, i, ch.URL, ch.Pos, ch.Size,
			ch.Hash); err != nil {
			return err
		}
	}
	return nil
}
