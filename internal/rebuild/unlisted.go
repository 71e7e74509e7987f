package rebuild

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/integrity"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

// claim is what one source (the entry, the chunk's fullpath attribute, a
// reverse index record of its volume) says about the owner of a chunk.
type claim struct {
	from        string // the source, for reports
	cid         string
	contentID   string
	path        string
	version     int64
	unreadable  bool   // the source is there but cannot be read
	description string // why, when unreadable
}

// finding is what the owners a chunk claims say about it.
type finding struct {
	lister *job        // an object that lists the chunk
	entry  *meta.Chunk // its entry of the chunk
	keep   []string    // why the chunk must not be deleted
	extra  []string    // the objects that list its chunk id elsewhere, healthy
	adopt  *Result     // the chunk was recorded in place of a lost copy
	err    error       // an owner could not be looked up
}

// unlisted handles an entry whose chunk the entry's object does not list,
// or that names no object: the chunk was repaired already, belongs to
// another object, is an unlisted copy of a live object, or is an orphan.
// Every path that may delete a chunk as an orphan goes through here.
//
// The owners the entry, the chunk's fullpath attribute and its volume's
// reverse index name are all looked up. An owner that lists the chunk
// gets it rebuilt like any listed copy. An owner that exists and lists
// the same chunk id at another URL (a copy the rebuild moved) allows the
// deletion only when every position of it has all its copies healthy;
// when that copy is lost and this one verifies against its entry, this
// one is recorded in its place. Any other existing owner, an attribute
// that cannot be read or no owner known at all keeps the chunk, reported
// as Kept. Only a chunk whose every named owner is gone or complete
// without it, and older than Options.OrphanMinAge, is deleted.
func (r *Rebuilder) unlisted(ctx context.Context, res Result, url string) Result {
	host, id, err := rawx.SplitChunkURL(url)
	if err != nil {
		return failed(res, err)
	}
	pr, err := r.probe.Head(ctx, url, false)
	gone := errors.Is(err, rawx.ErrNotFound)
	if err != nil && !gone {
		return failed(res, err)
	}
	var claims []claim
	if e := res.Entry; e.ContainerID != "" {
		claims = append(claims, claim{from: "the entry", cid: e.ContainerID,
			contentID: e.ContentID, path: e.Path, version: e.Version})
	}
	if !gone && pr.Meta.FullpathRaw != "" {
		claims = append(claims, fullpathClaim(pr.Meta.FullpathRaw))
	}
	if !gone || len(claims) == 0 {
		// Before deleting, and to find the owner of a chunk named by URL
		// alone: the reverse index may name an owner the attribute does
		// not.
		more, err := r.indexClaims(ctx, host, id)
		if err != nil {
			return failed(res, fmt.Errorf("find the owner of %s: %w", url, err))
		}
		claims = appendNew(claims, more...)
	}
	// The directory is asked last which entries list this chunk: an owner
	// the chunk and its index do not name (a wrong fullpath attribute, a
	// lost index record) must still keep it.
	listers, err := r.directoryClaims(ctx, url)
	if err != nil {
		return failed(res, fmt.Errorf("find the owner of %s: %w", url, err))
	}
	claims = appendNew(listers, claims...)
	f := r.weigh(ctx, claims, url, host, id, gone)
	switch {
	case f.lister != nil:
		res.Entry = entryOf(f.lister, res.Entry.Chunk)
		return r.replace(ctx, res, f.lister, *f.entry)
	case f.err != nil:
		return failed(res, fmt.Errorf("find the owner of %s: %w", url, f.err))
	case gone && len(claims) == 0:
		res.Outcome = Unknown
		res.Detail = "the chunk is gone and not in the reverse index of " + host +
			"; check the object to find it"
		return res
	case gone:
		return r.gone(ctx, res, url, claims)
	case f.adopt != nil:
		return *f.adopt
	case len(claims) == 0:
		f.keep = append(f.keep, integrity.NoOwnerRecorded+
			": nothing tells whose it is, so only an operator may remove the file")
	}
	if len(f.keep) > 0 {
		res.Outcome, res.Detail = Kept, "not deleted: "+strings.Join(f.keep, "; ")
		return res
	}
	what, outcome, why := "orphan", OrphanRemoved, "no object lists it"
	if len(f.extra) > 0 {
		what, outcome, why = "extra copy", ExtraRemoved, strings.Join(f.extra, "; ")
	}
	switch age := time.Since(pr.MTime); {
	case r.opts.OrphanMinAge > 0 && (pr.MTime.IsZero() || age < r.opts.OrphanMinAge):
		// Its upload may still be running: kept, in a dry run too.
		res.Outcome = Kept
		res.Detail = fmt.Sprintf("not deleted: unlisted %s only %s old, under the orphan minimum "+
			"age %s (%s)", what, age.Round(time.Second), r.opts.OrphanMinAge, why)
		return res
	case r.opts.DryRun:
		res.Outcome, res.Detail = Planned, "would delete the "+what+": "+why
		return res
	}
	if err := r.deleteChunk(ctx, url); err != nil {
		return failed(res, err)
	}
	r.unindexAll(ctx, claims, url)
	res.Outcome, res.Detail = outcome, why
	return res
}

// fullpathClaim reads a chunk's fullpath attribute.
func fullpathClaim(raw string) claim {
	fp, err := chunk.ParseFullpath(raw)
	if err != nil || fp.Account == "" || fp.Container == "" {
		return claim{from: "the fullpath attribute", unreadable: true,
			description: fmt.Sprintf("its fullpath attribute %q cannot be read", raw)}
	}
	return claim{from: "the fullpath attribute", cid: fp.ContainerID(),
		contentID: strings.ToUpper(fp.ContentID), path: fp.Path, version: fp.Version}
}

// indexClaims returns the owners the reverse index of a volume records
// for a chunk id.
func (r *Rebuilder) indexClaims(ctx context.Context, vol, id string) ([]claim, error) {
	rc, err := r.rdirFor(ctx, vol)
	if err != nil {
		return nil, err
	}
	recs, err := rdir.ChunkRecords(ctx, rc, vol, id)
	if err != nil {
		return nil, fmt.Errorf("reverse index of %s: %w", vol, err)
	}
	var out []claim
	for _, rec := range recs {
		out = append(out, claim{from: "the reverse index", cid: rec.ContainerID,
			contentID: rec.ContentID, path: rec.Path, version: rec.Version})
	}
	return out, nil
}

// directoryClaims returns the owners whose directory entries list url
// (canonical).
func (r *Rebuilder) directoryClaims(ctx context.Context, url string) ([]claim, error) {
	owners, err := r.resolve.Listers(ctx, url)
	var out []claim
	for _, o := range owners {
		out = append(out, claim{from: "the directory", cid: o.ContainerID, contentID: o.ContentID})
	}
	return out, err
}

// appendNew appends the claims not in list already.
func appendNew(list []claim, more ...claim) []claim {
	for _, m := range more {
		dup := false
		for _, c := range list {
			dup = dup || c.cid == m.cid && strings.EqualFold(c.contentID, m.contentID) &&
				c.path == m.path && c.version == m.version && c.unreadable == m.unreadable
		}
		if !dup {
			list = append(list, m)
		}
	}
	return list
}

// weigh looks up the owner of every claim. An owner that lists the
// chunk wins; for a chunk that is gone, nothing else matters.
func (r *Rebuilder) weigh(ctx context.Context, claims []claim, url, host, id string,
	gone bool) finding {
	var f finding
	type owned struct {
		c claim
		j *job
	}
	var owners []owned
	for _, c := range claims {
		if c.unreadable {
			f.keep = append(f.keep, c.description)
			continue
		}
		j, err := r.load(ctx, integrity.RebuildEntry{ContainerID: c.cid, ContentID: c.contentID,
			Path: c.path, Version: c.version})
		switch {
		case meta.Missing(err):
			continue
		case err != nil:
			f.err = errors.Join(f.err, err)
			continue
		}
		if e := j.entry(url); e != nil {
			return finding{lister: j, entry: e}
		}
		dup := false
		for _, o := range owners {
			dup = dup || o.j.cid == j.cid && o.j.owner.Object.ContentID == j.owner.Object.ContentID
		}
		if !dup {
			owners = append(owners, owned{c, j})
		}
	}
	if gone || f.err != nil {
		return f
	}
	for _, o := range owners {
		moved := o.j.copyOf(host, id)
		if moved != nil && r.sameFile(ctx, moved.URL, url) {
			return finding{lister: o.j, entry: moved}
		}
		if moved == nil {
			f.keep = append(f.keep, fmt.Sprintf("%s names %s, which exists and lists no copy "+
				"with its chunk id", o.c.from, o.j.name()))
			continue
		}
		ok, why := r.complete(ctx, o.j)
		if ok {
			f.extra = append(f.extra, fmt.Sprintf("%s lists this chunk at %s; every copy healthy",
				o.j.name(), moved.URL))
			continue
		}
		if f.adopt == nil && len(owners) == 1 {
			if res, done := r.adopt(ctx, o.j, *moved, url); done {
				f.adopt = &res
				continue
			}
		}
		f.keep = append(f.keep, fmt.Sprintf("%s names %s, which lists its chunk id at %s, but %s",
			o.c.from, o.j.name(), moved.URL, why))
	}
	return f
}

// sameFile reports whether two chunk URLs with the same chunk id reach
// one file: their hosts resolve to one address (two names of one chunk
// server). Unresolvable hosts count as the same, so that nothing is
// deleted on a doubt.
func (r *Rebuilder) sameFile(ctx context.Context, a, b string) bool {
	ha, ia, erra := rawx.SplitChunkURL(a)
	hb, ib, errb := rawx.SplitChunkURL(b)
	if erra != nil || errb != nil || !strings.EqualFold(ia, ib) {
		return false
	}
	aa, erra := r.resolve.Resolve(ctx, ha)
	ab, errb := r.resolve.Resolve(ctx, hb)
	return erra != nil || errb != nil || strings.EqualFold(aa, ab)
}

// name is the full name of the job's object version.
func (j *job) name() string {
	o := j.owner.Object
	return fmt.Sprintf("%s/%s/%s version %d", j.owner.Account, j.owner.Container, o.Name,
		o.Version)
}

// copyOf returns the object's entry of a chunk id at another URL: the same
// id elsewhere, or the id a rebuild derives from it on its own server.
func (j *job) copyOf(host, id string) *meta.Chunk {
	derived := derivedID(id, host)
	for i, c := range j.owner.Object.Chunks {
		if strings.EqualFold(c.ID(), id) || strings.EqualFold(c.Host(), host) &&
			strings.EqualFold(c.ID(), derived) {
			return &j.owner.Object.Chunks[i]
		}
	}
	return nil
}

// complete reports whether every position of the object, numbered from 0
// without a gap, has all the copies its policy keeps, each healthy, its
// data re-hashed: a chunk is deleted on this answer. It says why not
// otherwise.
func (r *Rebuilder) complete(ctx context.Context, j *job) (bool, string) {
	byPos := map[int][]meta.Chunk{}
	for _, c := range j.owner.Object.Chunks {
		n, err := strconv.Atoi(c.Pos)
		if err != nil || n < 0 {
			return false, fmt.Sprintf("its position %q is not a replicated metachunk", c.Pos)
		}
		byPos[n] = append(byPos[n], c)
	}
	for n := range len(byPos) {
		cs, ok := byPos[n]
		if !ok {
			return false, fmt.Sprintf("it lists no copy at position %d", n)
		}
		good := 0
		for _, c := range cs {
			if r.classify(ctx, j, c, true).health == healthy {
				good++
			}
		}
		if good < j.copies {
			return false, fmt.Sprintf("the object is not whole without it: position %d has %d "+
				"healthy copies (re-hashed), %d needed", n, good, j.copies)
		}
	}
	return true, ""
}

// adopt records an unlisted copy in place of the object's entry with the
// same chunk id, when that entry's copy is lost or bad and this one
// verifies against the entry: it is then the copy the directory meant.
// It reports false when it did not apply; nothing is deleted then.
func (r *Rebuilder) adopt(ctx context.Context, j *job, listed meta.Chunk, url string) (Result, bool) {
	res := Result{Entry: entryOf(j, url)}
	if !strings.EqualFold(listed.ID(), chunkID(url)) {
		return res, false
	}
	host := hostOf(url)
	for _, c := range j.at(listed.Pos) {
		if strings.EqualFold(c.Host(), host) {
			return res, false // its server holds a listed copy already
		}
	}
	st := r.classify(ctx, j, listed, true)
	if st.health != broken {
		return res, false
	}
	ne := meta.Chunk{URL: url, Pos: listed.Pos, Size: listed.Size, Hash: listed.Hash}
	attrs := r.classify(ctx, j, ne, true)
	if !attrs.intact {
		return res, false // its data is not the entry's either
	}
	res.NewURL = url
	if r.opts.DryRun {
		res.Outcome, res.Detail = Planned, "would record this verified copy in place of "+listed.URL
		return res, true
	}
	if err := r.record(ctx, j, &listed, ne); err != nil {
		return failed(res, err), true
	}
	what := "which was lost"
	if !st.missing {
		what = "which is damaged (" + strings.Join(st.reasons, "; ") + ")"
	}
	res.Outcome = Recorded
	res.Detail = "this copy verified against the directory's entry " + listed.URL + ", " + what +
		", and was recorded in its place"
	if attrs.health == healthy {
		return res, true
	}
	return r.replaceRecorded(ctx, res, j, url), true
}

func chunkID(url string) string {
	_, id, _ := rawx.SplitChunkURL(url)
	return id
}

func hostOf(url string) string {
	host, _, _ := rawx.SplitChunkURL(url)
	return host
}

// entryOf returns the entry naming a chunk of j's object.
func entryOf(j *job, chunkURL string) integrity.RebuildEntry {
	o := j.owner.Object
	return integrity.RebuildEntry{ContainerID: j.cid, ContentID: o.ContentID, Path: o.Name,
		Version: o.Version, Chunk: chunkURL}
}

// gone handles an entry whose chunk no longer exists and no object lists:
// its reverse index records are removed.
func (r *Rebuilder) gone(ctx context.Context, res Result, url string, claims []claim) Result {
	if !r.opts.DryRun {
		if err := r.unindexAll(ctx, claims, url); err != nil {
			return failed(res, err)
		}
	}
	res.Outcome, res.Detail = Healthy, "the chunk is gone and no object lists it; its reverse index "+
		"records removed"
	if r.opts.DryRun {
		res.Detail = "the chunk is gone and no object lists it; its reverse index records to remove"
	}
	return res
}

// unindexAll removes the reverse index records of a chunk under every
// container a claim names.
func (r *Rebuilder) unindexAll(ctx context.Context, claims []claim, url string) error {
	var errs []error
	done := map[string]bool{}
	for _, c := range claims {
		if c.unreadable || c.cid == "" || done[c.cid] {
			continue
		}
		done[c.cid] = true
		errs = append(errs, r.unindex(ctx, c.cid, url))
	}
	return errors.Join(errs...)
}
