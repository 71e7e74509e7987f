package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/event"
	"github.com/gridkeep/gridkeep/internal/meta"
)

// UpdateChunk replaces, adds or removes one chunk entry of an object
// version and announces the object as updated, in one transaction.
// Only the rows of the chunks u names are written: a rebuild updates
// objects of thousands of chunks one chunk at a time.
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
		if err := w.updateChunkRows(cid, o, u); err != nil {
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

// updateChunkRows writes u, which meta.ApplyChunkUpdate accepted, to the
// chunk rows of o as loaded: the row of the old chunk goes (the first by
// seq of those that spell its URL as the entry ApplyChunkUpdate replaced,
// as it replaces the first), the new chunk's row comes last; the others
// stay as they are. Readers put the rows in position order (see
// sortedChunks).
func (w *wtx) updateChunkRows(cid string, o *meta.Object, u meta.ChunkUpdate) error {
	if u.Old.URL != "" {
		i := slices.IndexFunc(o.Chunks, func(c meta.Chunk) bool {
			return strings.EqualFold(c.URL, u.Old.URL) && c.Pos == u.Old.Pos
		})
		res, err := w.exec(w.ctx, `DELETE FROM chunks WHERE cid = ? AND content_id = ? AND seq =
			(SELECT MIN(seq) FROM chunks WHERE cid = ? AND content_id = ? AND url = ? AND pos = ?)`,
			cid, o.ContentID, cid, o.ContentID, o.Chunks[i].URL, o.Chunks[i].Pos)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("remove chunk row %s: %d rows, %v", o.Chunks[i].URL, n, err)
		}
	}
	if u.New.URL == "" {
		return nil
	}
	var last sql.NullInt64
	if err := w.row(w.ctx, `SELECT MAX(seq) FROM chunks WHERE cid = ? AND content_id = ?`,
		cid, o.ContentID).Scan(&last); err != nil {
		return err
	}
	seq := 0
	if last.Valid {
		seq = int(last.Int64) + 1
	}
	return w.insertChunk(cid, o.ContentID, seq, u.New)
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
