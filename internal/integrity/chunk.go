package integrity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/httpclient"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

// contentKey names an object version in the metadata cache: by content
// id, or by path and version (0: the latest) when the id is unknown.
type contentKey struct {
	cid, contentID, path string
	version              int64
}

// hint is what some source (the target itself, the chunk's fullpath
// attribute, the reverse index) says about a chunk's owner.
type hint struct {
	account, container, cid string
	contentID, path         string
	version                 int64
}

func (h hint) empty() bool { return h.cid == "" && h.account == "" }

// target names a chunk by the owner a hint names.
func (h hint) target(chunkURL string) Target {
	return Target{Account: h.account, Container: h.container, ContainerID: h.cid,
		Object: h.path, Version: h.version, ContentID: h.contentID, Chunk: chunkURL}
}

// inspection is what checking one chunk by its URL found.
type inspection struct {
	result     Result
	referenced bool // its owner's directory entry lists it
	exists     bool // its chunk server has it
	young      bool // it is younger than the orphan minimum age
	fresh      bool // it is too recent for its reverse index record to be due
}

// chunkTarget checks a chunk named by its URL, and its reverse index
// record, with its parents when the target was given explicitly.
func (p *pass) chunkTarget(t Target, rec *rdir.Record, explicit bool) {
	in := p.inspectChunk(t, rec, explicit)
	has, known := p.indexed(in.result.Target.Chunk, in.result.Target.CID())
	p.indexErrors(&in, has, known)
	if explicit && !p.recheck && in.result.Target.Account != "" {
		p.parentAccount(in.result.Target.Account)
		p.parentContainer(in.result.Target.Account, in.result.Target.Container)
	}
	p.emit(in.result)
}

// inspectChunk checks a chunk against the object that owns it: the first
// owner found, from the target's own fields, the chunk's fullpath
// attribute, the reverse index record given or, as a last resort, a
// search of its volume's reverse index. A chunk no owner lists is an
// orphan once it is old enough; a chunk that is gone and that nobody
// lists is no problem.
func (p *pass) inspectChunk(t Target, rec *rdir.Record, explicit bool) inspection {
	r := Result{Kind: KindChunk, Target: t}
	host, id, err := rawx.SplitChunkURL(t.Chunk)
	if err != nil {
		r.fail("", err)
		return inspection{result: r}
	}
	r.Target.Chunk = rawx.ChunkURL(host, id)
	if err := p.c.opts.Pacer.Wait(p.ctx, 1, 0); err != nil {
		r.fail("", err)
		return inspection{result: r}
	}
	var s sighting
	at := time.Now()
	s.probe, s.headErr = p.head(r.Target.Chunk)
	s.hints, s.lookErr = p.hints(t, rec, s.probe, host, id)
	if s.lookErr == nil {
		s.owner, s.entry, s.lookErr = p.findOwner(s.hints, r.Target.Chunk)
	}
	if s.lookErr == nil && s.entry == nil {
		// Nothing the chunk or its index names lists it: the directory is
		// asked which entries do, before the chunk is called an orphan.
		var listers []hint
		if listers, s.lookErr = p.directoryListers(r.Target.Chunk); len(listers) > 0 {
			s.hints = append(listers, s.hints...)
			s.owner, s.entry, s.lookErr = p.findOwner(listers, r.Target.Chunk)
		}
	}
	if s.entry != nil && s.headErr == nil {
		s.corrupt, s.trailing, s.headErr = p.verify(*s.entry)
	}
	switch {
	case s.owner.Object != nil:
		r.Target = ownerTarget(s.owner, r.Target.Chunk)
	case len(s.hints) > 0:
		r.Target = s.hints[0].target(r.Target.Chunk)
	}
	in := inspection{referenced: s.entry != nil,
		exists: s.headErr == nil || !errors.Is(s.headErr, rawx.ErrNotFound),
		young:  s.headErr == nil && p.young(s.probe)}
	in.fresh = s.headErr == nil && p.fresh(s.probe)
	p.judge(&r, s, explicit, in.young, at)
	if r.Finding() && s.entry != nil {
		// A chunk it can read that is not corrupt has findings about its
		// attributes only: its data is intact (checked with Checksum) or
		// may be, and can repair its position.
		damaged := s.headErr != nil || s.corrupt
		r.Irreparable = damaged && p.positionLost(s.owner, *s.entry)
	}
	in.result = r
	return in
}

// positionLost reports whether no copy of a damaged chunk's position is
// left to repair it from: every other copy its owner lists there is
// missing, corrupt or unreadable, and no unlisted copy recorded by a
// reverse index verifies. A copy that could not be checked may be usable,
// and so may one whose only findings are about its attributes.
func (p *pass) positionLost(owner Owner, entry meta.Chunk) bool {
	for _, ch := range owner.Object.Chunks {
		if ch.Pos != entry.Pos || ch.URL == entry.URL {
			continue
		}
		if r, data := p.checkCopy(owner, ch); !r.Finding() || data != dataBad {
			return false
		}
	}
	return len(p.unlistedCopies(owner, entry)) == 0
}

// head asks a chunk's server about it.
func (p *pass) head(chunkURL string) (Probe, error) {
	var pr Probe
	err := p.retry(func() (err error) {
		pr, err = p.c.probe.Head(p.ctx, chunkURL, false)
		return err
	})
	return pr, err
}

// corruptError returns the finding of a chunk whose data does not match
// the directory's entry: with Checksum its data was hashed; without, only
// its size was checked, which a truncated file fails.
func (p *pass) corruptError() string {
	if p.c.opts.Checksum {
		return "Corrupt: the data does not match its size and hash in the directory"
	}
	return "Corrupt: the file holds less data than its size in the directory"
}

// verify has a chunk's server check its data against the directory's
// entry of it (see checkData). corrupt is true when the data does not
// match, trailing holds the finding of bytes after it. Its error says why
// the data could not be checked.
func (p *pass) verify(entry meta.Chunk) (corrupt bool, trailing string, err error) {
	pr, corrupt, err := p.checkData(entry, 0)
	return corrupt, pr.TrailingError(entry.Size), err
}

// checkData has a chunk's server check its data against the directory's
// entry of it, whatever the chunk's attributes say: with Checksum it
// re-reads and hashes the data, without it checks that the file holds the
// entry's size. The request is paced as items items and, with Checksum,
// the entry's bytes. corrupt is true when the data does not match (pr is
// then empty).
func (p *pass) checkData(entry meta.Chunk, items int) (pr Probe, corrupt bool, err error) {
	c := p.c
	var bytes int64
	if c.opts.Checksum {
		bytes = entry.Size
	}
	if err := c.opts.Pacer.Wait(p.ctx, items, bytes); err != nil {
		return Probe{}, false, err
	}
	err = p.retry(func() (err error) {
		if c.opts.Checksum {
			pr, err = c.probe.Verify(p.ctx, entry.URL, entry.Size, entry.Hash)
		} else {
			pr, err = c.probe.HeadSized(p.ctx, entry.URL, entry.Size)
		}
		return err
	})
	if errors.Is(err, rawx.ErrHashFailed) {
		if c.opts.Checksum && p.holdsSize(entry) {
			c.stats.bytes.Add(bytes) // hashed whole, and found wrong
		}
		return Probe{}, true, nil
	}
	if err == nil {
		c.stats.bytes.Add(bytes)
	}
	return pr, false, err
}

// holdsSize reports whether a chunk's file holds at least the entry's
// size: a chunk server hashes the data of such a file, and refuses one of
// another size before hashing anything.
func (p *pass) holdsSize(entry meta.Chunk) bool {
	_, err := p.c.probe.HeadSized(p.ctx, entry.URL, entry.Size)
	return err == nil
}

// sighting is what was learnt of a chunk and its owner.
type sighting struct {
	probe    Probe
	headErr  error
	hints    []hint
	owner    Owner       // the first owner found, if any
	entry    *meta.Chunk // the owner's entry of the chunk, if it lists it
	lookErr  error       // why no owner could be looked up
	corrupt  bool        // its data does not match entry
	trailing string      // the finding of bytes after its data, if any
}

// judge writes into r what is wrong with the chunk, if anything, or why
// it could not be checked; its HEAD was sent at time at.
func (p *pass) judge(r *Result, s sighting, explicit, young bool, at time.Time) {
	notFound := s.headErr != nil && errors.Is(s.headErr, rawx.ErrNotFound)
	switch {
	case s.entry != nil && s.headErr != nil:
		p.headError(r, s.headErr, at)
	case s.entry != nil:
		r.Errors = Compare(s.probe.Meta, s.owner, *s.entry)
		if s.trailing != "" {
			r.Errors = append(r.Errors, s.trailing)
		}
		if s.corrupt {
			r.Errors = append(r.Errors, p.corruptError())
		}
	case s.lookErr != nil:
		r.fail("find the owner", s.lookErr)
		if s.headErr != nil && !notFound {
			p.headError(r, s.headErr, at)
		}
	case errors.Is(s.headErr, rawx.ErrNotRegular):
		r.Errors = []string{notChunkPrefix + s.headErr.Error()}
	case notFound && explicit && len(s.hints) == 0:
		r.Errors = []string{notFoundPrefix + s.headErr.Error() + " (no owner known)"}
	case notFound, young:
		// gone and unlisted; or unlisted but its upload may be running
	case s.headErr != nil:
		p.headError(r, s.headErr, at)
	default:
		r.Errors = []string{orphanPrefix + orphanReason(s.hints, s.owner, s.probe.Meta)}
	}
}

// headError sorts the failure of a chunk's HEAD sent at time at: a missing
// chunk is a finding, and so is a chunk server that fails while the
// directory answers (see serviceError).
func (p *pass) headError(r *Result, err error, at time.Time) {
	switch {
	case errors.Is(err, rawx.ErrNotFound):
		r.Errors = append(r.Errors, notFoundPrefix+err.Error())
	default:
		p.serviceError(r, "", err, at)
	}
}

// young reports whether a chunk is too recent to call an orphan. A chunk
// whose time is unknown is treated as young: deleting it could destroy an
// upload in progress.
func (p *pass) young(pr Probe) bool {
	min := p.c.opts.OrphanMinAge
	return min > 0 && (pr.MTime.IsZero() || p.c.opts.Now().Sub(pr.MTime) < min)
}

// indexGrace is how long after a chunk is written its reverse index
// record may still be on its way (the event agent indexes it).
const indexGrace = 10 * time.Second

// fresh reports whether a chunk is too recent for a missing reverse index
// record to count: younger than indexGrace and the orphan minimum age.
func (p *pass) fresh(pr Probe) bool {
	grace := min(p.c.opts.OrphanMinAge, indexGrace)
	return grace > 0 && (pr.MTime.IsZero() || p.c.opts.Now().Sub(pr.MTime) < grace)
}

// NoOwnerRecorded says why a chunk without a fullpath attribute, and
// without a reverse index record, has no known owner.
const NoOwnerRecorded = "no owner recorded (no fullpath attribute for its chunk id, no reverse index record)"

// orphanReason says why a chunk whose metadata is m belongs to no object.
func orphanReason(hints []hint, owner Owner, m *chunk.Meta) string {
	switch {
	case len(hints) == 0 && m != nil && malformedPath(m):
		return "no owner recorded (" + malformedError(m) + ", no reverse index record)"
	case len(hints) == 0:
		return NoOwnerRecorded
	}
	h := hints[0]
	if owner.Object != nil {
		name := fmt.Sprintf("%s/%s/%s version %d", owner.Account, owner.Container,
			owner.Object.Name, owner.Object.Version)
		for _, c := range owner.Object.Chunks {
			if m != nil && strings.EqualFold(c.ID(), m.ChunkID) {
				return fmt.Sprintf("unlisted copy of a chunk of %s, which lists it at %s (the "+
					"rebuilder records this copy in place or removes it as an extra copy, as the "+
					"object needs)", name, c.URL)
			}
		}
		return "not a chunk of " + name
	}
	name := h.path
	if h.account != "" {
		name = h.account + "/" + h.container + "/" + h.path
	}
	return fmt.Sprintf("no object %s version %d (content %s) in the directory", name, h.version,
		orNone(h.contentID))
}

// ownerTarget names a chunk by its owner.
func ownerTarget(o Owner, chunkURL string) Target {
	return Target{Account: o.Account, Container: o.Container, Object: o.Object.Name,
		Version: o.Object.Version, ContentID: o.Object.ContentID, Chunk: chunkURL}
}

// hints gathers what is known of a chunk's owner, most trusted first. Its
// error says that the reverse index could not be searched.
func (p *pass) hints(t Target, rec *rdir.Record, pr Probe, host, id string) ([]hint, error) {
	var out []hint
	add := func(h hint) {
		if h.empty() {
			return
		}
		for _, o := range out {
			if o == h {
				return
			}
		}
		out = append(out, h)
	}
	add(hint{account: t.Account, container: t.Container, cid: t.CID(), contentID: t.ContentID,
		path: t.Object, version: t.Version})
	if pr.Meta != nil && pr.Meta.FullpathRaw != "" && !malformedPath(pr.Meta) {
		f := pr.Meta.Fullpath
		add(hint{account: f.Account, container: f.Container, cid: f.ContainerID(),
			contentID: f.ContentID, path: f.Path, version: f.Version})
	}
	if rec != nil {
		add(hint{cid: rec.ContainerID, contentID: rec.ContentID, path: rec.Path,
			version: rec.Version})
	}
	if len(out) == 0 && rec == nil {
		recs, err := p.searchIndex(host, id)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			add(hint{cid: r.ContainerID, contentID: r.ContentID, path: r.Path,
				version: r.Version})
		}
	}
	return out, nil
}

// directoryListers returns hints naming the object versions whose directory entries
// list chunkURL (canonical), as the directory answers for its chunk id.
// Its error says that the directory could not be asked.
func (p *pass) directoryListers(chunkURL string) ([]hint, error) {
	var owners []meta.ChunkOwner
	err := p.retry(func() (err error) {
		owners, err = p.c.resolve.Listers(p.ctx, chunkURL)
		return err
	})
	var out []hint
	for _, o := range owners {
		out = append(out, hint{cid: o.ContainerID, contentID: o.ContentID})
	}
	return out, err
}

// findOwner returns the first owner among hints whose directory entry
// lists chunkURL, with that entry. Without one, it returns the first owner
// found (entry nil), or a lookup error other than a missing item.
func (p *pass) findOwner(hints []hint, chunkURL string) (Owner, *meta.Chunk, error) {
	var first Owner
	for _, h := range hints {
		o, err := p.owner(h)
		if err != nil {
			if meta.Missing(err) {
				continue
			}
			return Owner{}, nil, err
		}
		for i := range o.Object.Chunks {
			if o.Object.Chunks[i].URL == chunkURL {
				return o, &o.Object.Chunks[i], nil
			}
		}
		if first.Object == nil {
			first = o
		}
	}
	return first, nil, nil
}

// owner locates the object version a hint names, through the metadata
// cache.
func (p *pass) owner(h hint) (Owner, error) {
	c := p.c
	account, container := h.account, h.container
	if account == "" {
		var err error
		if account, container, err = p.names(h.cid); err != nil {
			return Owner{}, err
		}
	}
	key := contentKey{cid: h.cid, contentID: h.contentID}
	if h.contentID == "" {
		key = contentKey{cid: h.cid, path: h.path, version: h.version}
	}
	o, err := c.objects.GetOrLoad(p.ctx, key, func(ctx context.Context,
		k contentKey) (*meta.Object, error) {
		var o *meta.Object
		err := p.retry(func() (err error) {
			if k.contentID != "" {
				o, err = c.dir.LocateByID(ctx, k.cid, k.contentID)
			} else {
				o, err = c.dir.Locate(ctx, account, container, k.path, k.version)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		return c.resolve.Canonical(ctx, o), nil
	})
	if err != nil {
		return Owner{}, err
	}
	return Owner{Account: account, Container: container, Object: o}, nil
}

// names returns the account and container of a container id.
func (p *pass) names(cid string) (string, string, error) {
	v, err := p.c.containerNames.GetOrLoad(p.ctx, cid, func(ctx context.Context,
		cid string) ([2]string, error) {
		var a, n string
		err := p.retry(func() (err error) {
			a, n, err = p.c.dir.ResolveCID(ctx, cid)
			return err
		})
		return [2]string{a, n}, err
	})
	return v[0], v[1], err
}

// searchIndex returns the records of a chunk id in its volume's reverse
// index. Its error says that the index could not be read.
func (p *pass) searchIndex(vol, id string) ([]rdir.Record, error) {
	rc, err := p.c.rdirFor(p.ctx, vol)
	if errors.Is(err, meta.ErrNoSuchService) {
		return nil, nil // the volume has no reverse index
	}
	if err != nil {
		return nil, err
	}
	recs, err := rdir.ChunkRecords(p.ctx, rc, vol, id)
	if err != nil {
		return nil, fmt.Errorf("search the reverse index of %s: %w", vol, err)
	}
	return recs, nil
}

// rdirFor returns a client of the reverse index of a volume.
func (c *Checker) rdirFor(ctx context.Context, vol string) (*rdir.Client, error) {
	return c.rdirs.GetOrLoad(ctx, vol, func(ctx context.Context, vol string) (*rdir.Client,
		error) {
		addr, err := c.dir.RdirFor(ctx, vol)
		if err != nil {
			return nil, fmt.Errorf("reverse index of %s: %w", vol, err)
		}
		if !strings.Contains(addr, "://") {
			addr = "http://" + addr
		}
		return rdir.NewClient(addr, rdir.ClientOptions{
			HTTPClient: httpclient.Client(time.Minute)})
	})
}
