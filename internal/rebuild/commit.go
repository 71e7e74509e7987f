package rebuild

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gridkeep/gridkeep/internal/integrity"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

// commit records a verified new copy in the directory in place of old (nil:
// as one more copy). made says this rebuild wrote it: when the update
// fails, or the directory refuses it because the object's chunks changed
// meanwhile, such a copy is deleted unless the directory lists it. A copy
// found at its target already (made false) is never deleted: it was there
// before, and may be the only good one.
func (r *Rebuilder) commit(ctx context.Context, j *job, old *meta.Chunk, ne meta.Chunk,
	made bool) error {
	u := meta.ChunkUpdate{ContentID: j.owner.Object.ContentID, New: ne}
	if old != nil {
		if old.URL == ne.URL {
			return nil // the same copy, written again where it was lost
		}
		u.Old = j.dirEntry(*old)
	}
	err := r.updateChunk(ctx, j, u)
	if err == nil {
		return nil
	}
	if errors.Is(err, meta.ErrChunkConflict) {
		if now, lerr := r.load(ctx, r.entryOf(j)); lerr == nil && now.entry(ne.URL) != nil {
			return nil
		}
	}
	if !made {
		return fmt.Errorf("record the copy found at %s: %w", ne.URL, err)
	}
	if derr := r.deleteChunk(ctx, ne.URL); derr != nil {
		err = errors.Join(err, fmt.Errorf("remove the new copy: %w", derr))
	}
	return fmt.Errorf("record the new copy: %w", err)
}

// entryOf returns the entry that loads j's object again.
func (r *Rebuilder) entryOf(j *job) integrity.RebuildEntry {
	return integrity.RebuildEntry{ContainerID: j.cid, ContentID: j.owner.Object.ContentID}
}

// cleanup removes the bad copy the directory no longer lists, and brings
// the reverse index in step: the chunk servers' events do too, but they
// may be lost, and a chunk without its fullpath attribute deletes without
// a usable event. The object is read again first: a copy it still lists
// is kept. Failures are left for a later check to find.
func (r *Rebuilder) cleanup(ctx context.Context, j *job, old *meta.Chunk, ne meta.Chunk) {
	if old != nil && old.URL != ne.URL {
		if now, err := r.load(ctx, r.entryOf(j)); err == nil && now.entry(old.URL) == nil {
			r.deleteChunk(ctx, old.URL)
			r.unindex(ctx, j.cid, old.URL)
		}
	}
	r.index(ctx, j, ne)
}

// ensureIndexed adds the reverse index record of a healthy copy when it
// is missing, and reports whether it was (in a dry run, whether it would
// be added).
func (r *Rebuilder) ensureIndexed(ctx context.Context, j *job, c meta.Chunk) (bool, error) {
	rc, err := r.rdirFor(ctx, c.Host())
	if err != nil {
		return false, err
	}
	page, err := rc.Fetch(ctx, c.Host(), rdir.ListOptions{Prefix: j.cid + "|" + c.ID(), Limit: 1})
	if err != nil && !errors.Is(err, rdir.ErrNoVolume) {
		return false, fmt.Errorf("reverse index of %s: %w", c.Host(), err)
	}
	if len(page.Records) > 0 && page.Records[0].ChunkID == c.ID() {
		return false, nil
	}
	if r.opts.DryRun {
		return true, nil
	}
	return true, r.index(ctx, j, c)
}

// index pushes the reverse index record of a copy.
func (r *Rebuilder) index(ctx context.Context, j *job, c meta.Chunk) error {
	rc, err := r.rdirFor(ctx, c.Host())
	if err != nil {
		return err
	}
	o := j.owner.Object
	if err := rc.CreateVolume(ctx, c.Host()); err != nil {
		return fmt.Errorf("reverse index of %s: %w", c.Host(), err)
	}
	return rc.Push(ctx, c.Host(), []rdir.Record{{ContainerID: j.cid, ChunkID: c.ID(),
		ContentID: o.ContentID, Path: o.Name, Version: o.Version, Mtime: time.Now().Unix()}})
}

// unindex removes the reverse index record of a chunk URL.
func (r *Rebuilder) unindex(ctx context.Context, cid, chunkURL string) error {
	host, id, err := rawx.SplitChunkURL(chunkURL)
	if err != nil {
		return err
	}
	rc, err := r.rdirFor(ctx, host)
	if err != nil {
		return err
	}
	err = rc.Delete(ctx, host, []rdir.ChunkRef{{ContainerID: cid, ChunkID: id}})
	if errors.Is(err, rdir.ErrNoVolume) {
		return nil
	}
	return err
}

// rdirFor returns a client of the reverse index of a volume.
func (r *Rebuilder) rdirFor(ctx context.Context, vol string) (*rdir.Client, error) {
	return r.rdirs.GetOrLoad(ctx, vol, func(ctx context.Context, vol string) (*rdir.Client,
		error) {
		addr, err := r.dir.RdirFor(ctx, vol)
		if err != nil {
			return nil, fmt.Errorf("reverse index of %s: %w", vol, err)
		}
		if !strings.Contains(addr, "://") {
			addr = "http://" + addr
		}
		return rdir.NewClient(addr, rdir.ClientOptions{HTTPClient: r.rdirHTTP})
	})
}
