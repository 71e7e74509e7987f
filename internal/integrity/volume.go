package integrity

import (
	"errors"
	"fmt"
	"iter"
	"path/filepath"
	"strings"
	"time"

	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

// volumePages are the page sizes of a volume walk: chunk ids listed by the
// chunk server, and reverse index records, per request.
var volumePages = struct{ listing, index int }{1000, rdir.MaxLimit}

// walkVolumes walks the volume of every registered chunk server, after a
// walk of the whole namespace: chunks that walk met are skipped.
func (p *pass) walkVolumes() {
	svcs, err := p.c.resolve.Services(p.ctx)
	if err != nil {
		r := Result{Kind: KindVolume, Target: Target{Volume: "*"}}
		r.fail("", err)
		p.emit(r)
		return
	}
	for _, s := range svcs {
		if p.ctx.Err() != nil {
			return
		}
		p.goList(func() { p.volume(s.ID) })
	}
}

// volume walks one chunk server's volume against its reverse index and
// the directory: every chunk it holds must have an owner that lists it
// and a reverse index record; every record must have its chunk. The
// volume's listing and its index, both in chunk id order, are read in
// step, a page of each at a time, so that memory does not grow with the
// volume. The volume's own result says whether the walk could be made, and
// names the files its chunk server found named like a chunk in another
// directory than that id's: no request by chunk id reaches them, so they
// are reported, not checked nor repaired.
func (p *pass) volume(svc string) {
	r := Result{Kind: KindVolume, Target: Target{Volume: svc}}
	at := time.Now()
	recs := p.volumeRecords(svc)
	defer recs.stop()
	misplaced := 0
	onMisplaced := func(path string) {
		if misplaced++; misplaced <= maxMisplaced {
			why := ""
			if base := filepath.Base(path); base != strings.ToUpper(base) {
				why = " (not named in uppercase: requests by chunk id look for the uppercase name)"
			}
			r.Errors = append(r.Errors, misplacedPrefix+svc+": "+path+why)
		}
	}
	for id, err := range p.chunkIDs(svc, onMisplaced) {
		if err != nil {
			p.serviceError(&r, "list chunks", err, at)
			break
		}
		key := strings.ToUpper(id)
		for recs.ok && recs.rec.ChunkID < key {
			p.recordedChunk(svc, recs.rec)
			recs.advance()
		}
		var mine []rdir.Record
		for recs.ok && recs.rec.ChunkID == key {
			mine = append(mine, recs.rec)
			recs.advance()
		}
		p.listedChunk(svc, id, mine, recs.indexed())
	}
	for recs.ok && p.ctx.Err() == nil {
		p.recordedChunk(svc, recs.rec)
		recs.advance()
	}
	if recs.err != nil {
		p.serviceError(&r, "reverse index", recs.err, at)
	}
	if misplaced > maxMisplaced {
		r.Errors = append(r.Errors, fmt.Sprintf("%s%d more on %s, not named",
			misplacedPrefix, misplaced-maxMisplaced, svc))
	}
	p.emit(r)
}

// maxMisplaced bounds the misplaced chunk files a volume's result names;
// the others are counted.
const maxMisplaced = 1000

// recordStream reads a volume's reverse index in chunk id order. ok says
// that rec holds the next record; err, once set, that the index could not
// be read further, so that chunks listed from then on cannot be judged
// against it.
type recordStream struct {
	next func() (rdir.Record, error, bool)
	stop func()
	rec  rdir.Record
	ok   bool
	err  error
}

// volumeRecords starts reading the reverse index of a volume. A volume
// never indexed has no records, and that is no failure.
func (p *pass) volumeRecords(svc string) *recordStream {
	rc, err := p.c.rdirFor(p.ctx, svc)
	if err != nil {
		return &recordStream{stop: func() {}, err: err}
	}
	opts := rdir.ListOptions{ByChunk: true, Limit: volumePages.index}
	next, stop := iter.Pull2(rdir.All(p.ctx, rc, svc, opts))
	s := &recordStream{next: next, stop: stop}
	s.advance()
	return s
}

func (s *recordStream) advance() {
	var err error
	s.rec, err, s.ok = s.next()
	switch {
	case !s.ok:
	case errors.Is(err, rdir.ErrNoVolume):
		s.ok = false // nothing was ever indexed on this volume
	case err != nil:
		s.ok, s.err = false, err
	}
}

// indexed reports whether the index could be read so far.
func (s *recordStream) indexed() bool { return s.err == nil }

// chunkIDs lists the chunk ids of a volume in listing order, which must
// be increasing: a listing out of order fails, as it cannot be walked in
// step with the index. It calls misplaced with the path, relative to the
// volume, of every file the listing says is in another directory than its
// chunk id's.
func (p *pass) chunkIDs(svc string, misplaced func(path string)) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		addr, err := p.c.resolve.Resolve(p.ctx, svc)
		if err != nil {
			yield("", err)
			return
		}
		var rc rawx.Client
		marker, last := "", ""
		for p.ctx.Err() == nil {
			var page *rawx.ListReply
			err := p.retry(func() (err error) {
				page, err = rc.List(p.ctx, "http://"+addr, marker, volumePages.listing)
				return err
			})
			if err != nil {
				yield("", err)
				return
			}
			for _, path := range page.Misplaced {
				misplaced(path)
			}
			for _, ch := range page.Chunks {
				if key := strings.ToUpper(ch.ChunkID); key <= last {
					yield("", fmt.Errorf("chunk listing of %s is not in chunk id order "+
						"(%s after %s)", svc, ch.ChunkID, last))
					return
				} else if last = key; !yield(ch.ChunkID, nil) {
					return
				}
			}
			if !page.IsTruncated {
				return
			}
			if page.Marker == "" || page.Marker == marker {
				yield("", fmt.Errorf("chunk listing of %s did not move past %q", svc, marker))
				return
			}
			marker = page.Marker
		}
		yield("", p.ctx.Err())
	}
}

// listedChunk checks a chunk of a volume's listing, with its reverse index
// records (none when it has no record, or the index could not be read:
// indexed false), unless the walk from the top met it already.
func (p *pass) listedChunk(svc, id string, recs []rdir.Record, indexed bool) {
	if p.ctx.Err() != nil {
		return
	}
	u := rawx.ChunkURL(svc, id)
	has := len(recs) > 0
	if p.seen.has(u) && (has || !indexed) {
		return
	}
	var rec rdir.Record
	if has {
		rec = recs[0]
	}
	p.submit(func() { p.volumeChunk(u, rec, has, indexed) })
}

// recordedChunk checks a chunk its volume's reverse index records but its
// listing does not hold, unless the walk from the top met it already.
func (p *pass) recordedChunk(svc string, rec rdir.Record) {
	u := rawx.ChunkURL(svc, rec.ChunkID)
	if p.seen.has(u) || p.ctx.Err() != nil {
		return
	}
	p.submit(func() { p.indexedChunk(u, rec) })
}

// volumeChunk checks a chunk found on a volume; one its owner lists must
// also have a reverse index record.
func (p *pass) volumeChunk(u string, rec rdir.Record, hasRecord, indexed bool) {
	var rp *rdir.Record
	if hasRecord {
		rp = &rec
	}
	in := p.inspectChunk(Target{Chunk: u}, rp, false)
	p.indexErrors(&in, hasRecord, indexed)
	p.emit(in.result)
}

// indexedChunk checks a chunk the reverse index records but its volume
// does not hold (as far as its listing went).
func (p *pass) indexedChunk(u string, rec rdir.Record) {
	in := p.inspectChunk(Target{Chunk: u}, &rec, false)
	p.indexErrors(&in, true, true)
	p.emit(in.result)
}

// indexErrors adds what is wrong between a chunk and its reverse index
// record, when the index could be read (known). A chunk its owner lists
// must have a record once it is no longer fresh, whatever the orphan
// minimum age; the index is asked again, as the record may have come
// since the volume's records were read.
func (p *pass) indexErrors(in *inspection, hasRecord, known bool) {
	switch {
	case !known:
	case in.referenced && in.exists && !hasRecord && !in.fresh:
		if has, known := p.indexed(in.result.Target.Chunk, in.result.Target.CID()); has || !known {
			return
		}
		in.result.Errors = append(in.result.Errors, "Missing from reverse index")
	case !in.exists && !in.referenced && hasRecord && in.result.OK():
		in.result.Errors = []string{staleRecord}
	}
}

// staleRecord is the finding of a reverse index record without its chunk.
const staleRecord = "Stale reverse index record: no such chunk, and no object lists it"

// indexed reports whether the reverse index of a chunk's volume has its
// record; known is false when the index could not be read.
func (p *pass) indexed(chunkURL, cid string) (has, known bool) {
	host, id, err := rawx.SplitChunkURL(chunkURL)
	if err != nil || cid == "" {
		return false, false
	}
	rc, err := p.c.rdirFor(p.ctx, host)
	if err != nil {
		return false, false
	}
	page, err := rc.Fetch(p.ctx, host, rdir.ListOptions{Prefix: cid + "|" + id, Limit: 1})
	switch {
	case errors.Is(err, rdir.ErrNoVolume):
		return false, true
	case err != nil:
		return false, false
	}
	return len(page.Records) > 0 && page.Records[0].ChunkID == id, true
}
