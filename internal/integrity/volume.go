package integrity

import (
	"errors"
	"fmt"
	"time"

	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

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
// volume's own result says whether the walk could be made.
func (p *pass) volume(svc string) {
	r := Result{Kind: KindVolume, Target: Target{Volume: svc}}
	var records map[string]rdir.Record
	var rerr error
	fetched := make(chan struct{})
	at := time.Now()
	go func() {
		defer close(fetched)
		records, rerr = p.volumeRecords(svc)
	}()
	ids, err := p.listChunks(svc)
	<-fetched
	if rerr != nil {
		p.serviceError(&r, "reverse index", rerr, at)
	}
	p.walkChunks(svc, ids, records, rerr == nil)
	if err != nil {
		p.serviceError(&r, "list chunks", err, at)
	}
	for id, rec := range records {
		u := rawx.ChunkURL(svc, id)
		if p.seen.has(u) || p.ctx.Err() != nil {
			continue
		}
		p.submit(func() { p.indexedChunk(u, rec) })
	}
	p.emit(r)
}

// volumeRecords returns the reverse index records of a volume by chunk id.
//
// TODO(#5): the records of a whole volume are held in memory while it is
// walked (a few hundred bytes each, so gigabytes for tens of millions of
// chunks); walking the index and the volume in step would need both
// listed in one order, which rdir (by container) and rawx (by chunk id)
// do not share.
func (p *pass) volumeRecords(svc string) (map[string]rdir.Record, error) {
	rc, err := p.c.rdirFor(p.ctx, svc)
	if err != nil {
		return map[string]rdir.Record{}, err
	}
	out := map[string]rdir.Record{}
	for rec, err := range rdir.All(p.ctx, rc, svc, rdir.ListOptions{Limit: rdir.MaxLimit}) {
		if errors.Is(err, rdir.ErrNoVolume) {
			break // nothing was ever indexed on this volume
		}
		if err != nil {
			return map[string]rdir.Record{}, err
		}
		out[rec.ChunkID] = rec
	}
	return out, nil
}

// listChunks returns the ids of the chunks on a volume, in listing order.
func (p *pass) listChunks(svc string) ([]string, error) {
	addr, err := p.c.resolve.Resolve(p.ctx, svc)
	if err != nil {
		return nil, err
	}
	var rc rawx.Client
	var ids []string
	marker := ""
	for p.ctx.Err() == nil {
		var page *rawx.ListReply
		err := p.retry(func() (err error) {
			page, err = rc.List(p.ctx, "http://"+addr, marker, 1000)
			return err
		})
		if err != nil {
			return ids, err
		}
		for _, ch := range page.Chunks {
			ids = append(ids, ch.ChunkID)
		}
		if !page.IsTruncated {
			return ids, nil
		}
		if page.Marker == "" || page.Marker == marker {
			return ids, fmt.Errorf("chunk listing of %s did not move past %q", svc, marker)
		}
		marker = page.Marker
	}
	return ids, p.ctx.Err()
}

// walkChunks checks each chunk of a volume the walk from the top did not
// meet, removing from records those it finds.
func (p *pass) walkChunks(svc string, ids []string, records map[string]rdir.Record,
	indexed bool) {
	for _, id := range ids {
		if p.ctx.Err() != nil {
			return
		}
		rec, ok := records[id]
		delete(records, id)
		u := rawx.ChunkURL(svc, id)
		if p.seen.has(u) && (ok || !indexed) {
			continue
		}
		p.submit(func() { p.volumeChunk(u, rec, ok, indexed) })
	}
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
