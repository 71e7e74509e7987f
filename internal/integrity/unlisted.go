package integrity

import (
	"context"
	"slices"
	"strings"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

// RdirFor returns a client of the reverse index of a volume.
type RdirFor func(ctx context.Context, vol string) (*rdir.Client, error)

// UnlistedCopies returns the chunks of an object that the object does not
// list and whose chunk server re-hashes their data to want's size and
// hash, whatever their attributes say: copies a lost directory entry, a
// rebuild or a move left behind, which can repair want's position. They
// are looked for on every chunk server of svcs: the chunks its reverse
// index records for the object (by content id), and the chunk ids of the
// position's listed copies (copies often share an id, and a copied or
// moved file is not indexed). Each is returned as a directory entry would
// list it: its own URL with want's position, size and hash. A reverse
// index or chunk server that does not answer is passed over, and the
// copies it may hold stay unknown.
//
// A candidate's position attribute does not exclude it: it is an
// attribute like the others, wrong on a copy whose data is intact as
// often as they are, and the data is what repairs the position.
//
// The cost is a request to each reverse index and a re-hash per unlisted
// candidate (a file shorter than want is refused unread); it is meant for
// positions whose listed copies are all bad.
func UnlistedCopies(ctx context.Context, svcs []meta.Service, rdirFor RdirFor, probe *Prober,
	owner Owner, want meta.Chunk) []meta.Chunk {
	o := owner.Object
	cid := chunk.ContainerID(owner.Account, owner.Container)
	var ids []string
	for _, c := range o.Chunks {
		if c.Pos == want.Pos && !slices.Contains(ids, c.ID()) {
			ids = append(ids, c.ID())
		}
	}
	var out []meta.Chunk
	seen := map[string]bool{}
	try := func(u string) {
		if seen[u] || lists(o, u) {
			return
		}
		seen[u] = true
		if _, err := probe.Verify(ctx, u, want.Size, want.Hash); err == nil {
			out = append(out, meta.Chunk{URL: u, Pos: want.Pos, Size: want.Size, Hash: want.Hash})
		}
	}
	for _, svc := range svcs {
		for _, id := range ids {
			try(rawx.ChunkURL(svc.ID, id))
		}
		rc, err := rdirFor(ctx, svc.ID)
		if err != nil {
			continue
		}
		opts := rdir.ListOptions{Prefix: cid, ContentID: o.ContentID}
		for rec, err := range rdir.All(ctx, rc, svc.ID, opts) {
			if err != nil {
				break
			}
			try(rawx.ChunkURL(svc.ID, rec.ChunkID))
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
