package integrity

import (
	"context"
	"strings"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

// RdirFor returns a client of the reverse index of a volume.
type RdirFor func(ctx context.Context, vol string) (*rdir.Client, error)

// UnlistedCopies returns the chunks of an object at the position of want
// that the object does not list but the reverse index of a chunk server of
// svcs records, and whose chunk server re-hashes their data to want's size
// and hash: copies a lost directory entry left behind, which can repair
// the position. Each is returned as a directory entry would list it: its
// own URL with want's position, size and hash. A reverse index or chunk
// server that does not answer is passed over, and the copies it may know
// of stay unknown.
//
// The reverse index is asked by content id, so the cost is a request per
// chunk server and a HEAD per chunk of the object found on it; it is meant
// for positions whose listed copies are all bad.
func UnlistedCopies(ctx context.Context, svcs []meta.Service, rdirFor RdirFor, probe *Prober,
	owner Owner, want meta.Chunk) []meta.Chunk {
	o := owner.Object
	cid := chunk.ContainerID(owner.Account, owner.Container)
	var out []meta.Chunk
	for _, svc := range svcs {
		rc, err := rdirFor(ctx, svc.ID)
		if err != nil {
			continue
		}
		opts := rdir.ListOptions{Prefix: cid, ContentID: o.ContentID}
		for rec, err := range rdir.All(ctx, rc, svc.ID, opts) {
			if err != nil {
				break
			}
			u := rawx.ChunkURL(svc.ID, rec.ChunkID)
			if lists(o, u) {
				continue
			}
			pr, err := probe.Head(ctx, u, false)
			if err != nil || pr.Meta.Position != want.Pos {
				continue
			}
			if _, err := probe.Verify(ctx, u, want.Size, want.Hash); err == nil {
				out = append(out, meta.Chunk{URL: u, Pos: want.Pos, Size: want.Size, Hash: want.Hash})
			}
		}
	}
	return out
}

// lists reports whether the object lists a chunk URL, ignoring case.
func lists(o *meta.Object, u string) bool {
	for _, c := range o.Chunks {
		if strings.EqualFold(c.URL, u) {
			return true
		}
	}
	return false
}

// unlistedCopies returns the unlisted copies of a position the pass can find
// (see UnlistedCopies).
func (p *pass) unlistedCopies(owner Owner, want meta.Chunk) []meta.Chunk {
	svcs, err := p.c.resolve.Services(p.ctx)
	if err != nil {
		return nil
	}
	return UnlistedCopies(p.ctx, svcs, p.c.rdirFor, p.c.probe, owner, want)
}
