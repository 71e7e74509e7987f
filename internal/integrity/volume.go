package integrity

import (
	"fmt"

	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

// walkVolumes walks the volume of every registered chunk server, after a
// walk of the whole namespace: chunks that walk met are skipped.
func (p *pass) walkVolumes() {
	svcs, err := p.c.resolve.Services(p.ctx)
	if err != nil {
		p.emit(Result{Kind: KindVolume, Target: Target{Volume: "*"},
			Errors: []string{"Check failed: " + err.Error()}})
		return
	}
	for _, s := range svcs {
		if p.ctx.Err() != nil {
			return
		}
		p.volume(s.ID)
	}
}

// volume walks one chunk server's volume against its reverse index and
// the directory: every chunk it holds must have an owner that lists it
// and a reverse index record; every record must have its chunk. The
// volume's own result says whether the walk could be made.
func (p *pass) volume(svc string) {
	r := Result{Kind: KindVolume, Target: Target{Volume: svc}}
	records, err := p.volumeRecords(svc)
	if err != nil {
		r.Errors = append(r.Errors, "Check failed: reverse index: "+err.Error())
	}
	indexed := err == nil
	if err := p.walkChunks(svc, records, indexed); err != nil {
		r.Errors = append(r.Errors, "Check failed: list chunks: "+err.Error())
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
func (p *pass) volumeRecords(svc string) (map[string]rdir.Record, error) {
	rc, err := p.c.rdirFor(p.ctx, svc)
	if err != nil {
		return map[string]rdir.Record{}, err
	}
	out := map[string]rdir.Record{}
	for rec, err := range rdir.All(p.ctx, rc, svc, rdir.ListOptions{Limit: rdir.MaxLimit}) {
		if err != nil {
			return map[string]rdir.Record{}, err
		}
		out[rec.ChunkID] = rec
	}
	return out, nil
}

// walkChunks lists the chunks of a volume and checks each one the walk
// from the top did not meet, removing from records those it finds.
func (p *pass) walkChunks(svc string, records map[string]rdir.Record, indexed bool) error {
	addr, err := p.c.resolve.Resolve(p.ctx, svc)
	if err != nil {
		return err
	}
	var rc rawx.Client
	marker := ""
	for p.ctx.Err() == nil {
		var page *rawx.ListReply
		err := p.retry(func() (err error) {
			page, err = rc.List(p.ctx, "http://"+addr, marker, 1000)
			return err
		})
		if err != nil {
			return err
		}
		for _, ch := range page.Chunks {
			rec, ok := records[ch.ChunkID]
			delete(records, ch.ChunkID)
			u := rawx.ChunkURL(svc, ch.ChunkID)
			if p.seen.has(u) && (ok || !indexed) {
				continue
			}
			p.submit(func() { p.volumeChunk(u, rec, ok, indexed) })
		}
		if !page.IsTruncated {
			return nil
		}
		if page.Marker == "" || page.Marker == marker {
			return fmt.Errorf("chunk listing of %s did not move past %q", svc, marker)
		}
		marker = page.Marker
	}
	return p.ctx.Err()
}

// volumeChunk checks a chunk found on a volume; one its owner lists must
// also have a reverse index record.
func (p *pass) volumeChunk(u string, rec rdir.Record, hasRecord, indexed bool) {
	var rp *rdir.Record
	if hasRecord {
		rp = &rec
	}
	in := p.inspectChunk(Target{Chunk: u}, rp, false)
	if in.referenced && !hasRecord && indexed && !in.young {
		in.result.Errors = append(in.result.Errors, "Missing from reverse index")
	}
	p.emit(in.result)
}

// indexedChunk checks a chunk the reverse index records but its volume
// does not hold (as far as its listing went).
func (p *pass) indexedChunk(u string, rec rdir.Record) {
	in := p.inspectChunk(Target{Chunk: u}, &rec, false)
	if !in.exists && !in.referenced && in.result.OK() {
		in.result.Errors = []string{"Stale reverse index record: no such chunk, " +
			"and no object lists it"}
	}
	p.emit(in.result)
}
