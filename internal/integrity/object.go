package integrity

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
)

// objectTarget checks an object named by a target: one version, or every
// version when none is given, after its parents' memberships.
func (p *pass) objectTarget(t Target, depth int) {
	p.parentAccount(t.Account)
	p.parentContainer(t.Account, t.Container)
	versions, err := p.versionsOf(t.Account, t.Container, t.Object)
	if err != nil {
		r := Result{Kind: KindObject, Target: t}
		lookupError(&r, "container listing", err)
		p.emit(r)
		return
	}
	found := false
	for i := range versions {
		o := &versions[i]
		if t.Version != 0 && o.Version != t.Version || o.Deleted {
			continue
		}
		found = true
		lo, err := p.located(t.Account, t.Container, o)
		if err != nil {
			r := Result{Kind: KindObject, Target: t}
			r.Target.Version = o.Version
			lookupError(&r, "locate", err)
			p.emit(r)
			continue
		}
		p.object(t.Account, t.Container, lo, depth, nil)
	}
	if !found {
		p.unlisted(t, depth)
	}
}

// located returns o with its chunks, when the listing left them out.
func (p *pass) located(account, container string, o *meta.Object) (*meta.Object, error) {
	if o.Chunks != nil {
		return o, nil
	}
	var lo *meta.Object
	err := p.retry(func() (err error) {
		lo, err = p.c.dir.Locate(p.ctx, account, container, o.Name, o.Version)
		return err
	})
	return lo, err
}

// unlisted checks an object version its container's listing lacks: it is
// an error in itself, and the version is checked if the directory still
// locates it.
func (p *pass) unlisted(t Target, depth int) {
	errs := []string{"Missing from container listing"}
	var o *meta.Object
	err := p.retry(func() (err error) {
		o, err = p.c.dir.Locate(p.ctx, t.Account, t.Container, t.Object, t.Version)
		return err
	})
	if err != nil {
		r := Result{Kind: KindObject, Target: t, Errors: errs}
		lookupError(&r, "locate", err)
		p.emit(r)
		return
	}
	p.object(t.Account, t.Container, o, depth, errs)
}

// parentContainer reports the container of an explicit target once: it
// must be in its account's listing.
func (p *pass) parentContainer(account, container string) {
	r := Result{Kind: KindContainer, Target: Target{Account: account, Container: container}}
	if _, done := p.once.Load(r.key()); done {
		return
	}
	m, err := p.member(account, container)
	switch {
	case err != nil:
		r.fail("account listing", err)
	case !m.found:
		r.Errors = []string{"Missing from account listing"}
	}
	p.emitOnce(r)
}

// versionsOf returns the versions of an object its container lists, the
// latest first, with their chunks.
func (p *pass) versionsOf(account, container, name string) ([]meta.Object, error) {
	key := objectKey{account, container, name}
	return p.c.versions.GetOrLoad(p.ctx, key, func(ctx context.Context,
		k objectKey) ([]meta.Object, error) {
		var out []meta.Object
		opts := meta.ListOptions{Prefix: name, Versions: true, Chunks: true, Limit: 100}
		for {
			var page *meta.ObjectList
			err := p.retry(func() (err error) {
				page, err = p.c.dir.ContainerList(ctx, account, container, opts)
				return err
			})
			if err != nil {
				return nil, err
			}
			more := page.Truncated
			for _, o := range page.Objects {
				if o.Name != name {
					more = false
					break
				}
				out = append(out, o)
			}
			if !more || page.NextMarker != name {
				return out, nil
			}
			opts.Marker, opts.VersionMarker = page.NextMarker, page.NextVersionMarker
		}
	})
}

// object checks one object version: its metachunks and, with depth, every
// copy. errs are errors found before (membership). Delete markers have
// nothing to check.
func (p *pass) object(account, container string, o *meta.Object, depth int, errs []string) {
	if o.Deleted {
		return
	}
	if err := p.c.opts.Pacer.Wait(p.ctx, 1, 0); err != nil {
		return
	}
	o = p.c.resolve.Canonical(p.ctx, o)
	owner := Owner{Account: account, Container: container, Object: o}
	t := Target{Account: account, Container: container, Object: o.Name, Version: o.Version,
		ContentID: o.ContentID}
	r := Result{Kind: KindObject, Target: t, Errors: errs}
	copies, err := Copies(o)
	if err != nil {
		r.fail("", err)
		p.emit(r)
		return
	}
	positions, layoutErrs, lost := metachunks(o)
	r.Errors = append(r.Errors, layoutErrs...)
	r.Irreparable = lost
	results, data := p.checkCopies(owner, positions, depth)
	for i, mc := range positions {
		errs, unchecked, lost := mc.assess(copies, results[i], data[i])
		if lost {
			for _, u := range p.unlistedCopies(owner, mc.copies[0]) {
				lost = false
				errs = append(errs, fmt.Sprintf("Unlisted copy %s at position %s verifies: "+
					"the position can be rebuilt from it", u.URL, mc.pos))
			}
		}
		r.Errors = append(r.Errors, errs...)
		if unchecked > 0 {
			r.Failed = append(r.Failed, fmt.Sprintf(
				"Check failed: %d of the chunks at position %s could not be checked", unchecked,
				mc.pos))
		}
		r.Irreparable = r.Irreparable || lost
		for _, cr := range results[i] {
			cr.Irreparable = lost
			p.emit(*cr)
		}
		if f := mc.finding(t, copies, lost); len(f.Errors) > 0 {
			r.Errors = append(r.Errors, f.Errors...)
			p.emit(f)
		}
	}
	p.emit(r)
}

// Copies returns how many copies of each metachunk the object's chunk
// method keeps.
//
// TODO(#3): erasure-coded objects (fragments at "N.M", k of k+m needed)
// are reported as not checkable; the directory has no EC policy yet.
func Copies(o *meta.Object) (int, error) {
	m, err := chunk.ParseMethod(o.ChunkMethod)
	if err != nil {
		return 0, fmt.Errorf("chunk method %q: %w", o.ChunkMethod, err)
	}
	if m.IsEC() {
		return 0, errors.New("erasure-coded objects are not checked yet")
	}
	v, ok := m.Get("nb_copy")
	if !ok {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("chunk method %q: bad nb_copy", o.ChunkMethod)
	}
	return n, nil
}

// metachunk is the copies the directory lists at one position.
type metachunk struct {
	pos    string
	index  int
	copies []meta.Chunk
	twice  []string // URLs of copies listed again at the position, not in copies
}

// metachunks groups an object's chunks by position, in order, and lists
// what is wrong with the layout itself: unparsable or missing positions,
// copies that disagree, sizes that do not add up to the object's. lost is
// true when data is gone whatever the chunk servers hold.
func metachunks(o *meta.Object) (out []metachunk, errs []string, lost bool) {
	byPos := map[int]*metachunk{}
	for _, ch := range o.Chunks {
		n, err := strconv.Atoi(ch.Pos)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Sprintf("Chunk %s has position %q", ch.URL, ch.Pos))
			continue
		}
		mc := byPos[n]
		if mc == nil {
			mc = &metachunk{pos: ch.Pos, index: n}
			byPos[n] = mc
		}
		if slices.ContainsFunc(mc.copies, func(c meta.Chunk) bool { return c.URL == ch.URL }) {
			mc.twice = append(mc.twice, ch.URL) // one file, however many entries
			continue
		}
		mc.copies = append(mc.copies, ch)
	}
	for _, mc := range byPos {
		out = append(out, *mc)
	}
	slices.SortFunc(out, func(a, b metachunk) int { return cmp.Compare(a.index, b.index) })
	var total int64
	next := 0
	for _, mc := range out {
		if mc.index > next {
			errs = append(errs, gapError(next, mc.index-1))
			lost = true
		}
		next = mc.index + 1
		total += mc.copies[0].Size
		for _, cp := range mc.copies[1:] {
			if cp.Size != mc.copies[0].Size || !strings.EqualFold(cp.Hash, mc.copies[0].Hash) {
				errs = append(errs, fmt.Sprintf("Copies at position %s disagree on size or hash",
					mc.pos))
				break
			}
		}
	}
	switch {
	case len(out) == 0 && (o.Size > 0 || len(o.Chunks) > 0): // an empty object may have none
		errs, lost = append(errs, gapError(0, 0)), true
	case total != o.Size:
		errs = append(errs, fmt.Sprintf("Metachunks hold %d bytes, the object %d", total, o.Size))
		lost = true
	}
	return out, errs, lost
}

func gapError(from, to int) string {
	if from == to {
		return fmt.Sprintf("No chunk at position %d: metachunk lost", from)
	}
	return fmt.Sprintf("No chunk at positions %d to %d: metachunks lost", from, to)
}

// checkCopies checks every copy of every metachunk when depth allows,
// the requests of one object in parallel. results[i][j] is the result of
// positions[i].copies[j] and data[i][j] what was learnt of its data; nil
// results mean the copies were not checked.
func (p *pass) checkCopies(owner Owner, positions []metachunk, depth int) (results [][]*Result,
	data [][]dataState) {
	results, data = make([][]*Result, len(positions)), make([][]dataState, len(positions))
	if depth < 1 {
		for _, mc := range positions {
			for _, entry := range mc.copies {
				p.seen.addIfSet(entry.URL) // not to be checked by a volume walk either
			}
		}
		return results, data
	}
	var wg sync.WaitGroup
	for i, mc := range positions {
		results[i] = make([]*Result, len(mc.copies))
		data[i] = make([]dataState, len(mc.copies))
		for j, entry := range mc.copies {
			p.seen.addIfSet(entry.URL)
			wg.Add(1)
			p.heads <- struct{}{}
			go func() {
				defer func() { <-p.heads; wg.Done() }()
				results[i][j], data[i][j] = p.checkCopy(owner, entry)
			}()
		}
	}
	wg.Wait()
	return results, data
}

// dataState is what checking a copy learnt of its data.
type dataState int

const (
	dataBad      dataState = iota // missing, corrupt, or its server failed
	dataUnread                    // its server has it; not re-read (no Checksum)
	dataVerified                  // re-read, it matches the directory's size and hash
)

// checkCopy asks a copy's chunk server about it and compares its metadata
// with the directory's. It says too what was learnt of the copy's data: a
// copy whose findings are all about its attributes holds data that is
// intact (dataVerified) or may be (dataUnread).
func (p *pass) checkCopy(owner Owner, entry meta.Chunk) (*Result, dataState) {
	c := p.c
	o := owner.Object
	r := &Result{Kind: KindChunk, Target: Target{Account: owner.Account,
		Container: owner.Container, Object: o.Name, Version: o.Version,
		ContentID: o.ContentID, Chunk: entry.URL}}
	at := time.Now()
	pr, corrupt, err := p.checkData(entry, 1)
	if corrupt {
		// The data is judged; its attributes still have to be.
		at = time.Now()
		err = p.retry(func() (err error) {
			pr, err = c.probe.Head(p.ctx, entry.URL, false)
			return err
		})
	}
	if err != nil {
		p.headError(r, err, at)
		return r, dataBad
	}
	r.Errors = Compare(pr.Meta, owner, entry)
	if e := pr.TrailingError(entry.Size); e != "" {
		r.Errors = append(r.Errors, e)
	}
	switch {
	case corrupt:
		r.Errors = append(r.Errors, p.corruptError())
		return r, dataBad
	case c.opts.Checksum:
		return r, dataVerified
	}
	return r, dataUnread
}

// copyError is the object error of copy j, whose chunk check found r:
// what, the copy, its position, and why, followed by more.
func (mc metachunk) copyError(what string, j int, r *Result, more string) string {
	return fmt.Sprintf("%s chunk %s at position %s (%s%s)", what, mc.copies[j].URL, mc.pos,
		strings.Join(r.Errors, "; "), more)
}

// assess returns the object errors of one metachunk given its copies'
// results and what was learnt of their data, how many copies could not be
// checked, and whether no usable copy is left. A copy whose data matches
// the directory is usable whatever its attributes say; one that could not
// be checked, or whose only findings are about its attributes and whose
// data was not re-read, may be.
//
// Only the copies the directory lists count here: the caller looks for
// unlisted ones when none is usable.
func (mc metachunk) assess(copies int, results []*Result, data []dataState) (errs []string,
	unchecked int, lost bool) {
	usable, unread := len(mc.copies), 0
	for j, r := range results {
		switch {
		case r == nil:
		case r.Finding() && data[j] == dataVerified:
			errs = append(errs, mc.copyError("Damaged", j, r, "; intact data"))
		case r.Finding() && data[j] == dataUnread:
			usable--
			unread++
			errs = append(errs, mc.copyError("Damaged", j, r, "; data not checked"))
		case r.Finding():
			usable--
			errs = append(errs, mc.copyError("Unusable", j, r, ""))
		case len(r.Failed) > 0:
			usable--
			unchecked++
		}
	}
	switch {
	case usable > 0 || unchecked > 0:
		return errs, unchecked, false
	case unread > 0:
		return append(errs, fmt.Sprintf("No copy verified at position %s (%d/%d with wrong "+
			"attributes only, data not checked): check with checksums (--checksum)", mc.pos, unread,
			copies)), 0, false
	}
	return append(errs, fmt.Sprintf(
		"Unavailable metachunk at position %s (0/%d chunks available, 1/%d required)",
		mc.pos, copies, copies)), 0, true
}

// finding returns the finding of a position named "position P of
// ACCOUNT/CONTAINER/OBJECT", which the rebuilder repairs: copies the
// directory lacks, copies beyond those the policy keeps, entries listing
// one chunk twice. Its Errors are empty when the position has none.
func (mc metachunk) finding(t Target, copies int, lost bool) Result {
	t.Chunk = mc.pos
	r := Result{Kind: KindChunk, Target: t, Irreparable: lost}
	for _, u := range mc.twice {
		r.Errors = append(r.Errors, fmt.Sprintf("Chunk %s is listed twice at position %s", u, mc.pos))
	}
	switch n := len(mc.copies); {
	case n == copies-1:
		r.Errors = append(r.Errors, "Missing chunk at position "+mc.pos)
	case n < copies:
		r.Errors = append(r.Errors, fmt.Sprintf("Missing %d chunks at position %s", copies-n, mc.pos))
	case n > copies:
		r.Errors = append(r.Errors, fmt.Sprintf("%d chunks at position %s, expected %d", n, mc.pos,
			copies))
	}
	return r
}

func (s *urlSet) addIfSet(u string) {
	if s != nil {
		s.add(u)
	}
}
