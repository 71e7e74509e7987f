package rebuild

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/integrity"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/rawx"
)

// health is what is known of one copy.
type health int

const (
	healthy health = iota
	broken         // missing, corrupt or with wrong metadata
	unknown        // its chunk server did not answer
)

// state is what is known of one copy.
type state struct {
	health  health
	reasons []string // why it is broken
	missing bool     // its chunk server has no such chunk
	intact  bool     // a deep check found its data intact, whatever its attributes
	err     error    // why its health is unknown
}

// classify asks a copy's chunk server about it: its file must hold the
// entry's size, and deep makes the server re-hash the data against the
// entry's hash; its attributes must then agree with the directory.
func (r *Rebuilder) classify(ctx context.Context, j *job, entry meta.Chunk, deep bool) state {
	var pr integrity.Probe
	var err error
	if deep {
		pr, err = r.probe.Verify(ctx, entry.URL, entry.Size, entry.Hash)
	} else {
		pr, err = r.probe.HeadSized(ctx, entry.URL, entry.Size)
	}
	switch {
	case err == nil:
		errs := integrity.Compare(pr.Meta, j.owner, entry)
		if e := pr.TrailingError(entry.Size); e != "" {
			errs = append(errs, e)
		}
		if len(errs) > 0 {
			return state{health: broken, reasons: errs, intact: deep}
		}
		return state{health: healthy, intact: deep}
	case errors.Is(err, rawx.ErrNotFound):
		return state{health: broken, reasons: []string{err.Error()}, missing: true}
	case errors.Is(err, rawx.ErrHashFailed):
		return state{health: broken, reasons: []string{err.Error()}}
	case r.lost[entry.Host()]:
		return state{health: broken, reasons: []string{"on a lost volume: " + err.Error()}}
	}
	return state{health: unknown, err: err}
}

// replace rebuilds a copy the directory lists, if it is bad.
func (r *Rebuilder) replace(ctx context.Context, res Result, j *job, entry meta.Chunk) Result {
	st := r.classify(ctx, j, entry, true)
	switch st.health {
	case healthy:
		added, err := r.ensureIndexed(ctx, j, entry)
		switch {
		case err != nil:
			return failed(res, err)
		case added && r.opts.DryRun:
			res.Outcome = Planned
			res.Detail = "the copy is healthy; would add its missing reverse index record"
		case added:
			res.Outcome = Reindexed
			res.Detail = "the copy is healthy; its missing reverse index record was added"
		default:
			res.Outcome, res.Detail = Healthy, "the copy is healthy"
		}
		return res
	case unknown:
		return failed(res, fmt.Errorf("cannot tell whether %s is lost: %w", entry.URL, st.err))
	}
	res.Detail = strings.TrimPrefix(res.Detail+"; "+strings.Join(st.reasons, "; "), "; ")
	return r.rebuildCopy(ctx, res, j, entry.Pos, &entry, st.missing)
}

// fillPosition adds copies at a position until it has as many as the
// policy keeps.
func (r *Rebuilder) fillPosition(ctx context.Context, res Result, j *job, pos string) Result {
	if !meta.ValidPosition(pos) {
		return failed(res, fmt.Errorf("bad position %q", pos))
	}
	j, dropped, err := r.dropDuplicates(ctx, j, pos)
	switch {
	case err != nil:
		return failed(res, err)
	case dropped != "" && r.opts.DryRun:
		res.Outcome, res.Detail = Planned, "would remove from the directory "+dropped
		return res
	case dropped != "":
		res.Detail = "removed from the directory " + dropped
	}
	for first := true; ; first = false {
		have := len(j.at(pos))
		switch {
		case have > j.copies && first:
			return r.trimPosition(ctx, res, j, pos)
		case have >= j.copies && first && dropped != "":
			res.Outcome = ExtraRemoved
			return res
		case have >= j.copies:
			if first {
				res.Outcome, res.Detail = Healthy, "the position has all its copies"
			}
			return res
		case have == 0:
			return failed(res, fmt.Errorf("%w: the directory lists no chunk at position %s",
				ErrIrreparable, pos))
		}
		res = r.rebuildCopy(ctx, res, j, pos, nil, false)
		if res.Outcome != Rebuilt && res.Outcome != Recorded {
			return res
		}
		next, err := r.load(ctx, res.Entry)
		if err != nil {
			return failed(res, err)
		}
		j = next
	}
}

// dropDuplicates removes from the directory the entries at pos that list
// a chunk listed before them there (one file under two spellings of its
// URL), never the chunk itself, and returns the job reloaded and which
// entries went ("" for none). In a dry run it only says which would.
func (r *Rebuilder) dropDuplicates(ctx context.Context, j *job, pos string) (*job, string, error) {
	var dups []meta.Chunk
	seen := map[string]bool{}
	for i, c := range j.owner.Object.Chunks {
		if c.Pos != pos {
			continue
		}
		if seen[c.URL] {
			e := meta.Chunk{URL: c.URL, Pos: c.Pos, Size: c.Size, Hash: c.Hash}
			if j.stored != nil {
				e.URL = j.stored[i]
			}
			dups = append(dups, e)
		}
		seen[c.URL] = true
	}
	if len(dups) == 0 {
		return j, "", nil
	}
	var urls []string
	for _, d := range dups {
		urls = append(urls, d.URL)
	}
	what := "the duplicate entries " + strings.Join(urls, ", ") + " (their chunk kept)"
	if r.opts.DryRun {
		return j, what, nil
	}
	for _, d := range dups {
		err := r.updateChunk(ctx, j, meta.ChunkUpdate{ContentID: j.owner.Object.ContentID,
			Old: d})
		if err != nil {
			return j, "", fmt.Errorf("remove the duplicate entry %s: %w", d.URL, err)
		}
	}
	next, err := r.load(ctx, r.entryOf(j))
	if err != nil {
		return j, "", err
	}
	return next, what, nil
}

// trimPosition removes the copies at pos beyond those the policy keeps,
// once that many are healthy (re-hashed): first the copies that are not,
// then those on a chunk server holding another copy, then the last in URL
// order. Each is dropped from the directory, in an update that fails if
// the object changed meanwhile, before its chunk is deleted. With fewer
// healthy copies than the policy keeps, nothing is removed: the bad ones
// are to be rebuilt first, and the outcome is Kept.
func (r *Rebuilder) trimPosition(ctx context.Context, res Result, j *job, pos string) Result {
	copies := slices.Clone(j.at(pos))
	slices.SortFunc(copies, func(a, b meta.Chunk) int { return strings.Compare(a.URL, b.URL) })
	var keep, drop []meta.Chunk
	hosts := map[string]bool{}
	for _, c := range copies {
		st := r.classify(ctx, j, c, true)
		switch {
		case st.health == unknown:
			return failed(res, fmt.Errorf("cannot tell whether %s is healthy: %w", c.URL, st.err))
		case st.health == healthy && len(keep) < j.copies && !hosts[strings.ToLower(c.Host())]:
			keep = append(keep, c)
			hosts[strings.ToLower(c.Host())] = true
		default:
			drop = append(drop, c)
		}
	}
	if len(keep) < j.copies {
		res.Outcome = Kept
		res.Detail = fmt.Sprintf("%d copies at position %s, %d healthy on distinct servers, %d "+
			"kept by the policy: nothing removed until the bad copies are rebuilt", len(copies), pos,
			len(keep), j.copies)
		return res
	}
	var urls []string
	for _, c := range drop {
		urls = append(urls, c.URL)
	}
	res.Detail = fmt.Sprintf("%d copies at position %s, %d kept by the policy: %s",
		len(copies), pos, j.copies, strings.Join(urls, ", "))
	if r.opts.DryRun {
		res.Outcome, res.Detail = Planned, res.Detail+" would be removed"
		return res
	}
	for _, c := range keep {
		if _, err := r.ensureIndexed(ctx, j, c); err != nil {
			return failed(res, err)
		}
	}
	for _, c := range drop {
		err := r.updateChunk(ctx, j, meta.ChunkUpdate{ContentID: j.owner.Object.ContentID,
			Old: j.dirEntry(c)})
		if err != nil {
			return failed(res, fmt.Errorf("drop %s from the directory: %w", c.URL, err))
		}
		shared := slices.ContainsFunc(keep, func(k meta.Chunk) bool { return sameChunk(k.URL, c.URL) })
		if now, err := r.load(ctx, r.entryOf(j)); err == nil && now.entry(c.URL) == nil && !shared {
			r.deleteChunk(ctx, c.URL)
			r.unindex(ctx, j.cid, c.URL)
		}
	}
	res.Outcome, res.Detail = ExtraRemoved, res.Detail+" removed"
	return res
}

// rebuildCopy makes a new copy at pos from a verified one and records it
// in the directory in place of old (nil: as one more copy). oldGone says
// old's chunk server has no file for it any more. The listed copies are
// tried first; when none is left to try, or every one fails as a source
// (a copy whose attributes agree with the directory is not re-hashed
// before it is streamed, and its data may still be damaged), an unlisted
// copy that verifies is recorded as it is, or copied from. A copy that
// verifies found at the target already (left by an interrupted run, or
// unlisted) is recorded as it is: the outcome is then Recorded, nothing
// being copied.
func (r *Rebuilder) rebuildCopy(ctx context.Context, res Result, j *job, pos string,
	old *meta.Chunk, oldGone bool) Result {
	var listedFailed error // why every listed source failed, if any was tried
	if sources := r.sources(ctx, j, pos, old, oldGone); len(sources) > 0 {
		done := r.copyFrom(ctx, res, j, pos, old, oldGone, sources)
		if done.Outcome != Irreparable || ctx.Err() != nil {
			return done
		}
		listedFailed = done.Err
	}
	var unlisted []meta.Chunk
	if len(j.at(pos)) > 0 {
		unlisted = r.unlistedSources(ctx, j, pos)
	}
	switch {
	case len(unlisted) == 0 && listedFailed != nil:
		return failed(res, listedFailed)
	case len(unlisted) == 0:
		return failed(res, fmt.Errorf("%w: position %s of %s", ErrIrreparable, pos,
			j.owner.Object.Name))
	case listedFailed != nil:
		res.Detail = strings.TrimPrefix(res.Detail+"; no listed copy could be copied from ("+
			oneLine(listedFailed)+")", "; ")
	}
	if src, ok := recordable(j, pos, old, unlisted); ok {
		return r.recordUnlisted(ctx, res, j, old, src)
	}
	return r.copyFrom(ctx, res, j, pos, old, oldGone, unlisted)
}

// copyFrom makes a new copy at pos from the first of sources that works
// and records it in place of old (see rebuildCopy). The outcome is
// Irreparable when every source fails: none is left to copy from.
func (r *Rebuilder) copyFrom(ctx context.Context, res Result, j *job, pos string, old *meta.Chunk,
	oldGone bool, sources []meta.Chunk) Result {
	targets, err := r.targets(ctx, j, pos, old, oldGone, sources[0].ID())
	if err != nil {
		return failed(res, err)
	}
	if r.opts.DryRun {
		// What the copy would check as it streams, checked by re-hashing.
		if !slices.ContainsFunc(sources, func(c meta.Chunk) bool { return r.intact(ctx, c) }) {
			return failed(res, fmt.Errorf("%w: position %s of %s: no copy verifies", ErrIrreparable,
				pos, j.owner.Object.Name))
		}
		res.Outcome, res.NewURL = Planned, rawx.ChunkURL(targets[0].host, targets[0].id)
		return res
	}
	ne, n, found, err := r.copyTo(ctx, j, pos, sources, targets)
	if err != nil {
		return failed(res, err)
	}
	if err := r.commit(ctx, j, old, ne, !found); err != nil {
		return failed(res, err)
	}
	r.cleanup(ctx, j, old, ne)
	res.Outcome, res.NewURL, res.Bytes = Rebuilt, ne.URL, res.Bytes+n
	if found {
		note := "a copy that verifies was at " + ne.URL + " already: recorded as one more copy, " +
			"nothing copied"
		if old != nil {
			note = "a copy that verifies was at " + ne.URL + " already: recorded in place of " +
				old.URL + ", nothing copied"
		}
		res.Outcome, res.Detail = Recorded, strings.TrimPrefix(res.Detail+"; "+note, "; ")
	}
	return res
}

// sources returns the listed copies at pos that may be copied from: first
// those whose metadata agrees with the directory, then those whose data
// their chunk server re-hashes to the directory's size and hash whatever
// their attributes say, old among them when it is still there (wrong
// attributes lose no data). The data of every source is checked again
// while it is copied: the new copy's chunk server refuses data that does
// not match the hash.
func (r *Rebuilder) sources(ctx context.Context, j *job, pos string, old *meta.Chunk,
	oldGone bool) []meta.Chunk {
	var good, intact []meta.Chunk
	for _, c := range j.at(pos) {
		isOld := old != nil && c.URL == old.URL
		switch {
		case r.lost[c.Host()] || isOld && oldGone:
		case !isOld && r.classify(ctx, j, c, false).health == healthy:
			good = append(good, c)
		case r.intact(ctx, c):
			intact = append(intact, c)
		}
	}
	return append(good, intact...)
}

// unlistedSources returns the unlisted copies of pos that the reverse
// indexes record, or that have the chunk id of a listed copy, on live
// chunk servers, and that re-hash to the directory's size and hash
// whatever their attributes say (the chunk of a lost directory entry, or
// a copy left by hand).
func (r *Rebuilder) unlistedSources(ctx context.Context, j *job, pos string) []meta.Chunk {
	svcs, err := r.services.get(ctx)
	if err != nil {
		return nil
	}
	var live []meta.Service
	for _, s := range svcs {
		if !r.lost[s.ID] {
			live = append(live, s)
		}
	}
	return integrity.UnlistedCopies(ctx, live, r.rdirFor, r.probe, j.owner, j.at(pos)[0])
}

// recordable returns the first unlisted copy that may be recorded at pos
// as it is, in place of old: one on a chunk server holding no other
// listed copy of the position.
func recordable(j *job, pos string, old *meta.Chunk, unlisted []meta.Chunk) (meta.Chunk, bool) {
	for _, u := range unlisted {
		free := true
		for _, c := range j.at(pos) {
			if (old == nil || c.URL != old.URL) && strings.EqualFold(c.Host(), u.Host()) {
				free = false
			}
		}
		if free {
			return u, true
		}
	}
	return meta.Chunk{}, false
}

// recordUnlisted records an unlisted copy that verifies in the directory
// in place of old (nil: as one more copy): nothing is copied, and the
// outcome is Recorded. Its data verified, but its attributes may be wrong
// (a copy made by hand, then edited); such a copy, once recorded, is
// replaced like any listed one (see replaceRecorded), so that one run
// leaves the position healthy. The copy is deleted only once the
// directory lists its replacement.
func (r *Rebuilder) recordUnlisted(ctx context.Context, res Result, j *job, old *meta.Chunk,
	src meta.Chunk) Result {
	res.NewURL = src.URL
	note := "the unlisted copy " + src.URL + " verifies"
	// Its data was re-hashed as it was found: its attributes are left to
	// check.
	st := r.classify(ctx, j, src, false)
	if r.opts.DryRun {
		return planUnlisted(res, note, st)
	}
	if err := r.record(ctx, j, old, src); err != nil {
		return failed(res, err)
	}
	what := "as one more copy"
	if old != nil {
		what = "in place of " + old.URL
	}
	res.Outcome = Recorded
	res.Detail = strings.TrimPrefix(res.Detail+"; "+note+": recorded "+what, "; ")
	switch st.health {
	case broken:
		return r.replaceRecorded(ctx, res, j, src.URL)
	case unknown:
		res.Detail += ", nothing copied; its attributes could not be checked: " + oneLine(st.err)
		return res
	}
	res.Detail += ", nothing copied"
	return res
}

// planUnlisted is the outcome of recordUnlisted in a dry run: what it
// would do with an unlisted copy (note says which) in state st.
func planUnlisted(res Result, note string, st state) Result {
	note += ": would record it"
	if st.health == broken {
		note += ", then replace it, its attributes being wrong (" + strings.Join(st.reasons, "; ") + ")"
	}
	res.Outcome, res.Detail = Planned, strings.TrimPrefix(res.Detail+"; "+note, "; ")
	return res
}

// replaceRecorded replaces the copy at url, just recorded in the directory
// for its intact data, whose attributes are wrong: it is now a listed copy
// to rebuild like any other, from itself if need be, and is deleted only
// once its replacement is recorded. res says it was recorded; its outcome
// becomes that of the replacement, whose detail says what is wrong.
func (r *Rebuilder) replaceRecorded(ctx context.Context, res Result, j *job, url string) Result {
	res.Detail += "; its attributes are wrong: replaced"
	next, err := r.load(ctx, r.entryOf(j))
	if err != nil {
		return failed(res, err)
	}
	e := next.entry(url)
	if e == nil {
		return failed(res, fmt.Errorf("%s is no longer listed after it was recorded", url))
	}
	return r.replace(ctx, res, next, *e)
}

// record writes an existing chunk that verifies in the directory in place
// of old (nil: as one more copy), then removes old's chunk if nothing
// lists it any more. The chunk itself is never deleted, whatever happens.
func (r *Rebuilder) record(ctx context.Context, j *job, old *meta.Chunk, ne meta.Chunk) error {
	u := meta.ChunkUpdate{ContentID: j.owner.Object.ContentID, New: ne}
	what := ne.URL
	if old != nil {
		u.Old = j.dirEntry(*old)
		what += " in place of " + old.URL
	}
	if err := r.updateChunk(ctx, j, u); err != nil {
		return fmt.Errorf("record %s: %w", what, err)
	}
	r.cleanup(ctx, j, old, ne)
	return nil
}

// intact reports whether the chunk server of a copy re-hashes its data to
// the size and hash of its directory entry, whatever its attributes say.
func (r *Rebuilder) intact(ctx context.Context, c meta.Chunk) bool {
	_, err := r.probe.Verify(ctx, c.URL, c.Size, c.Hash)
	return err == nil
}

// target is a chunk server and the id a new copy gets there.
type target struct{ host, id string }

// targets returns where a new copy may go, best first: chunk servers that
// are alive, not full, not lost and hold no copy of the metachunk, in an
// order fixed by the chunk id (so that a rerun goes back to the same place
// and finds the copy an interrupted run left there); then the server of
// the bad copy itself, under another id when the bad copy is still there.
// A copy that is gone from a server fit to take it (a deleted file, a
// replaced disk) is put back in its place first, under its own id, so
// that a replaced disk gets its copies back and the placement stays as it
// was.
func (r *Rebuilder) targets(ctx context.Context, j *job, pos string, old *meta.Chunk,
	oldGone bool, id string) ([]target, error) {
	svcs, err := r.services.get(ctx)
	if err != nil {
		return nil, err
	}
	holders := map[string]bool{}
	for _, c := range j.at(pos) {
		if old == nil || c.URL != old.URL {
			holders[c.Host()] = true
		}
	}
	if old != nil {
		id = old.ID()
	}
	var out []target
	sameHost := false
	for _, s := range rendezvous(svcs, id) {
		switch {
		case !s.Alive || s.Score(0) == 0 || r.lost[s.ID]:
		case old != nil && s.ID == old.Host():
			sameHost = true
		case !holders[s.ID]:
			out = append(out, target{host: s.ID, id: id})
		}
	}
	if sameHost {
		t := target{host: old.Host(), id: old.ID()}
		switch {
		case !oldGone:
			t.id = derivedID(old.ID(), old.Host())
			out = append(out, t)
		case !holders[old.Host()]:
			out = append([]target{t}, out...)
		default:
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no chunk server can take a new copy of position %s", pos)
	}
	return out, nil
}

// rendezvous orders services by a hash of the chunk id and their id.
func rendezvous(svcs []meta.Service, id string) []meta.Service {
	out := slices.Clone(svcs)
	weight := func(s meta.Service) uint64 {
		sum := sha256.Sum256([]byte(id + "|" + s.ID))
		return binary.BigEndian.Uint64(sum[:8])
	}
	slices.SortFunc(out, func(a, b meta.Service) int {
		wa, wb := weight(a), weight(b)
		switch {
		case wa > wb:
			return -1
		case wa < wb:
			return 1
		}
		return 0
	})
	return out
}

// errBadSource marks a copy failure caused by the source copy.
var errBadSource = errors.New("bad source copy")

// errStillListed refuses to delete a chunk a directory entry lists.
var errStillListed = errors.New("not deleted: the directory still lists")

// errTargetTaken marks a target that holds, under the new copy's id, a
// chunk that is not this copy: cheap to find, so it does not count among
// the targets tried.
var errTargetTaken = errors.New("target taken")

// copyTo copies the metachunk from the first source that works to the
// first target that takes it, giving up after three targets that fail
// (one that holds another chunk under the new id is passed over). found
// says that the target held a copy that verifies already, adopted as it
// is.
func (r *Rebuilder) copyTo(ctx context.Context, j *job, pos string, sources []meta.Chunk,
	targets []target) (ne meta.Chunk, n int64, found bool, err error) {
	var errs []error
	bad := map[string]bool{}
	tried := 0
	for _, t := range targets {
		if tried == 3 {
			break
		}
		for _, src := range sources {
			if bad[src.URL] {
				continue
			}
			ne, n, found, err := r.copyOne(ctx, j, pos, src, t)
			if err == nil {
				return ne, n, found, nil
			}
			errs = append(errs, err)
			if ctx.Err() != nil {
				return meta.Chunk{}, 0, false, err // stopped: no other copy or target is to blame
			}
			if !errors.Is(err, errBadSource) {
				if !errors.Is(err, errTargetTaken) {
					tried++ // a target taken by another chunk costs no attempt
				}
				break // the target is the problem
			}
			bad[src.URL] = true
		}
	}
	err = errors.Join(errs...)
	if len(bad) == len(sources) {
		err = fmt.Errorf("%w: every copy failed: %w", ErrIrreparable, err)
	}
	return meta.Chunk{}, 0, false, err
}

// copyOne streams one source copy to a target and verifies the result.
// A copy already at the target (left by an earlier, interrupted run, or
// unlisted) is adopted once verified, found then true; a chunk there that
// does not verify is never overwritten.
func (r *Rebuilder) copyOne(ctx context.Context, j *job, pos string, src meta.Chunk,
	t target) (ne meta.Chunk, n int64, found bool, err error) {
	ne = meta.Chunk{URL: rawx.ChunkURL(t.host, t.id), Pos: pos, Size: src.Size, Hash: src.Hash}
	if err := r.opts.Pacer.Wait(ctx, 0, src.Size); err != nil {
		return ne, 0, false, err
	}
	err = r.stream(ctx, j, src, ne)
	if errors.Is(err, rawx.ErrExists) {
		st := r.classify(ctx, j, ne, true)
		if st.health == healthy {
			return ne, 0, true, nil
		}
		// Not a copy this rebuild made: it may hold data something needs,
		// so the next target is tried instead.
		why := strings.Join(st.reasons, "; ")
		if st.err != nil {
			why = st.err.Error()
		}
		return ne, 0, false, fmt.Errorf("%w: %s exists and does not verify as this copy (%s): "+
			"left alone", errTargetTaken, ne.URL, why)
	}
	if err != nil {
		return ne, 0, false, err
	}
	if st := r.classify(ctx, j, ne, false); st.health != healthy {
		r.deleteChunk(ctx, ne.URL)
		return ne, 0, false, fmt.Errorf("new copy %s does not verify: %s %v", ne.URL,
			strings.Join(st.reasons, "; "), st.err)
	}
	return ne, src.Size, false, nil
}

// stream GETs src and PUTs it as ne, with the owner's metadata and the
// expected hash, which the receiving chunk server checks.
func (r *Rebuilder) stream(ctx context.Context, j *job, src, ne meta.Chunk) error {
	from, err := r.address(ctx, src.URL)
	if err != nil {
		return fmt.Errorf("%w: %w", errBadSource, err)
	}
	to, err := r.address(ctx, ne.URL)
	if err != nil {
		return err
	}
	body, _, err := r.rawx.GetSized(ctx, from, src.Size)
	if err != nil {
		return fmt.Errorf("%w: %w", errBadSource, err)
	}
	defer body.Close()
	o := j.owner.Object
	m := &chunk.Meta{ChunkID: ne.ID(), Position: ne.Pos, Hash: ne.Hash,
		ChunkMethod: o.ChunkMethod, StoragePolicy: o.Policy,
		Fullpath: chunk.Fullpath{Account: j.owner.Account, Container: j.owner.Container,
			Path: o.Name, Version: o.Version, ContentID: o.ContentID}}
	put, err := r.rawx.Put(ctx, to, m, body, ne.Size)
	var se *rawx.StatusError
	if errors.As(err, &se) && se.Status == http.StatusBadRequest {
		return fmt.Errorf("%w: %s does not match its hash: %w", errBadSource, src.URL, err)
	}
	if err != nil {
		return err
	}
	if put.Size != ne.Size || !strings.EqualFold(put.Hash, ne.Hash) {
		r.deleteChunk(ctx, ne.URL)
		return fmt.Errorf("%w: %s stored %d bytes hashing to %s", errBadSource, ne.URL, put.Size,
			put.Hash)
	}
	return nil
}

// address returns the URL to send a chunk request to.
func (r *Rebuilder) address(ctx context.Context, chunkURL string) (string, error) {
	host, id, err := rawx.SplitChunkURL(chunkURL)
	if err != nil {
		return "", err
	}
	addr, err := r.resolve.Resolve(ctx, host)
	if err != nil {
		return "", err
	}
	return rawx.ChunkURL(addr, id), nil
}

// deleteChunk deletes a chunk, unless a directory entry, of any object,
// still lists it (errStillListed): whatever made the caller decide, a
// listed chunk is never deleted.
func (r *Rebuilder) deleteChunk(ctx context.Context, chunkURL string) error {
	listers, err := r.directoryClaims(ctx, chunkURL)
	switch {
	case err != nil:
		return err
	case len(listers) > 0:
		return fmt.Errorf("%w: %s, by content %s of container %s", errStillListed, chunkURL,
			listers[0].contentID, listers[0].cid)
	}
	addr, err := r.address(ctx, chunkURL)
	if err != nil {
		return err
	}
	err = r.rawx.Delete(ctx, addr)
	if errors.Is(err, rawx.ErrNotFound) {
		return nil
	}
	return err
}

// servicesCache keeps the registered chunk servers for a few seconds.
type servicesCache struct {
	dir  *meta.Client
	mu   sync.Mutex
	svcs []meta.Service
	at   time.Time
}

func (c *servicesCache) get(ctx context.Context) ([]meta.Service, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.svcs != nil && time.Since(c.at) < 5*time.Second {
		return c.svcs, nil
	}
	svcs, err := c.dir.ListServices(ctx, "rawx")
	if err != nil {
		return nil, fmt.Errorf("list chunk servers: %w", err)
	}
	c.svcs, c.at = svcs, time.Now()
	return svcs, nil
}
