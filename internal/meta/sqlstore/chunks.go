package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/meta"
)

// UpdateChunk replaces, adds or removes one chunk entry of an object
// version and announces the object as updated, in one transaction.
//
// TODO(#3): it rewrites every chunk entry of the object: a rebuild of an
// object of thousands of chunks spends most of its time here.
func (s *Store) UpdateChunk(ctx context.Context, cid string, u meta.ChunkUpdate) error {
	if err := meta.NormalizeChunkUpdate(&u); err != nil {
		return fmt.Errorf("update chunk of content %s: %w", u.ContentID, err)
	}
	err := s.update(ctx, func(ctx context.Context, w *wtx) error {
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
		if err := w.insertChunk(cid, contentID, i, ch); err != nil {
			return err
		}
	}
	return nil
}

// insertChunk writes one chunk entry, with its chunk id (the URL's last
// segment, in uppercase) for ChunkOwners.
func (w *wtx) insertChunk(cid, contentID string, seq int, ch meta.Chunk) error {
	_, err := w.exec(w.ctx, `INSERT INTO chunks (cid, content_id, seq, url, pos, size, hash, chunk_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, cid, contentID, seq, ch.URL, ch.Pos, ch.Size, ch.Hash,
		strings.ToUpper(ch.ID()))
	return err
}

// ChunkOwners returns the entries listing a chunk id.
func (s *Store) ChunkOwners(ctx context.Context, chunkID string) ([]meta.ChunkOwner, error) {
	id, err := chunk.NormalizeID(chunkID)
	if err != nil {
		return nil, fmt.Errorf("chunk owners: %w: %v", meta.ErrInvalid, err)
	}
	// Entries written behind the directory's back may lack their chunk id.
	rows, err := s.plain().query(ctx, `SELECT cid, content_id, url, pos, size, hash FROM chunks
		WHERE chunk_id = ? OR chunk_id = '' AND upper(url) LIKE ?
		ORDER BY cid, content_id, seq LIMIT ?`, id, "%/"+id, meta.MaxChunkOwners)
	if err != nil {
		return nil, fmt.Errorf("chunk owners of %s: %w", id, err)
	}
	defer rows.Close()
	var out []meta.ChunkOwner
	for rows.Next() {
		var o meta.ChunkOwner
		c := &o.Chunk
		if err := rows.Scan(&o.ContainerID, &o.ContentID, &c.URL, &c.Pos, &c.Size, &c.Hash); err != nil {
			return nil, fmt.Errorf("chunk owners of %s: %w", id, err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
