package integritytest

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/integrity"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/namespace"
	"github.com/gridkeep/gridkeep/internal/object"
	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/rdir"
	"github.com/gridkeep/gridkeep/internal/sqlitedb"
)

// Damage is what Break broke: the items a check with checksums must report
// (Want), those no rebuild can repair (Irreparable, also in Want), and
// those only a check with checksums sees (HashOnly, also in Want).
type Damage struct {
	Want        []Item
	Irreparable []Item
	HashOnly    []Item
}

func (d *Damage) add(items ...Item) { d.Want = append(d.Want, items...) }

// Break applies every kind of damage of the acceptance scenario, each to
// its own object: a chunk file deleted; bytes flipped in place; the
// fullpath attribute removed; a wrong size attribute; a directory entry
// pointing at a chunk server without the chunk; an orphan chunk; every
// copy of one object deleted. A damaged copy makes its object's item
// damaged too.
func (f *Fixture) Break() *Damage {
	f.T.Helper()
	d := &Damage{}
	used := map[string]bool{}

	o, ctr := f.pick(used, "THREECOPIES", 3)
	if err := os.Remove(f.Path(o.Chunks[0])); err != nil {
		f.T.Fatal(err)
	}
	d.add(ChunkItem(o.Chunks[0]), ObjectItem(o, ctr))

	o, ctr = f.pick(used, "TWOCOPIES", 2)
	Flip(f.T, f.Path(o.Chunks[1]))
	d.HashOnly = []Item{ChunkItem(o.Chunks[1]), ObjectItem(o, ctr)}
	d.add(d.HashOnly...)

	o, ctr = f.pick(used, "THREECOPIES", 3)
	c := o.Chunks[len(o.Chunks)-1]
	if err := chunk.RemoveAttr(f.Path(c), chunk.AttrFullpathPrefix+c.ID()); err != nil {
		f.T.Fatal(err)
	}
	d.add(ChunkItem(c), ObjectItem(o, ctr))

	o, ctr = f.pick(used, "TWOCOPIES", 2)
	c = o.Chunks[0]
	f.SetAttr(c, chunk.AttrSize, strconv.FormatInt(c.Size+1, 10))
	d.add(ChunkItem(c), ObjectItem(o, ctr))

	o, ctr = f.pick(used, "TWOCOPIES", 2)
	d.add(f.misdirect(o, ctr), ObjectItem(o, ctr))

	d.add(f.Orphan())

	o, ctr = f.pick(used, "SINGLE", 2)
	for _, c := range o.Chunks {
		if err := os.Remove(f.Path(c)); err != nil {
			f.T.Fatal(err)
		}
		d.Irreparable = append(d.Irreparable, ChunkItem(c))
	}
	d.Irreparable = append(d.Irreparable, ObjectItem(o, ctr))
	d.add(d.Irreparable...)
	d.Want = Sorted(d.Want)
	return d
}

// BreakCopies damages one copy of each of n replicated objects, in turn
// deleting it, flipping a byte of it and removing its fullpath attribute,
// and returns the damaged chunks' items.
func (f *Fixture) BreakCopies(n int) []Item {
	f.T.Helper()
	used := map[string]bool{}
	var out []Item
	for i := range n {
		o, _ := f.pick(used, Policies[i%2], 2)
		c := o.Chunks[i%len(o.Chunks)]
		switch i % 3 {
		case 0:
			if err := os.Remove(f.Path(c)); err != nil {
				f.T.Fatal(err)
			}
		case 1:
			Flip(f.T, f.Path(c))
		default:
			if err := chunk.RemoveAttr(f.Path(c), chunk.AttrFullpathPrefix+c.ID()); err != nil {
				f.T.Fatal(err)
			}
		}
		out = append(out, ChunkItem(c))
	}
	return Sorted(out)
}

// WithoutHashOnly returns what a check without checksums must report.
func (d *Damage) WithoutHashOnly() []Item {
	var out []Item
	for _, it := range d.Want {
		keep := true
		for _, h := range d.HashOnly {
			keep = keep && h != it
		}
		if keep {
			out = append(out, it)
		}
	}
	return out
}

// misdirect moves the directory entry of an object's first copy to a
// chunk server that holds no copy of it, and deletes the copy, so that the
// entry points at nothing. It returns the item of the new entry.
func (f *Fixture) misdirect(o *meta.Object, ctr string) Item {
	f.T.Helper()
	old := o.Chunks[0]
	spare := f.MoveEntry(o, ctr, old)
	if err := (&rawx.Client{}).Delete(f.Ctx, old.RealURL); err != nil {
		f.T.Fatal(err)
	}
	f.waitUnindexed(old.Host(), chunk.ContainerID(Account, ctr), old.ID())
	return ChunkItem(spare)
}

// SetAttr sets the attribute name of the file of copy c to value.
func (f *Fixture) SetAttr(c meta.Chunk, name, value string) {
	f.T.Helper()
	if err := chunk.SetAttrs(f.Path(c), []chunk.Attr{{Name: name, Value: value}}); err != nil {
		f.T.Fatal(err)
	}
}

// Spares returns the chunk servers that hold no copy of position pos of o.
func (f *Fixture) Spares(o *meta.Object, pos string) []namespace.RawxInfo {
	holders := map[string]bool{}
	for _, c := range o.Chunks {
		if c.Pos == pos {
			holders[c.Host()] = true
		}
	}
	var out []namespace.RawxInfo
	for _, r := range f.NS.Rawx {
		if !holders[r.ServiceID] {
			out = append(out, r)
		}
	}
	return out
}

// MoveEntry records in the directory the copy c of object o of container
// ctr on a chunk server that holds no copy of its position, under the same
// chunk id, without moving any data, and returns the new entry.
func (f *Fixture) MoveEntry(o *meta.Object, ctr string, c meta.Chunk) meta.Chunk {
	f.T.Helper()
	var moved meta.Chunk
	if spares := f.Spares(o, c.Pos); len(spares) > 0 {
		moved = meta.Chunk{URL: rawx.ChunkURL(spares[0].ServiceID, c.ID()), Pos: c.Pos, Size: c.Size,
			Hash: c.Hash}
	}
	if moved.URL == "" {
		f.T.Fatal("no chunk server without a copy")
	}
	entry := meta.Chunk{URL: c.URL, Pos: c.Pos, Size: c.Size, Hash: c.Hash}
	if err := f.Dir.UpdateChunk(f.Ctx, chunk.ContainerID(Account, ctr), meta.ChunkUpdate{
		ContentID: o.ContentID, Old: entry, New: moved}); err != nil {
		f.T.Fatal(err)
	}
	return moved
}

// Duplicate copies the chunk file of c to a chunk server that holds no
// copy of its position (see CopyFile) and records it as one more copy of
// object o of container ctr in the directory's database, behind its API,
// which refuses copies beyond the policy (as a directory edited by hand,
// or restored, may hold them). It returns the new entry.
func (f *Fixture) Duplicate(o *meta.Object, ctr string, c meta.Chunk) meta.Chunk {
	f.T.Helper()
	spares := f.Spares(o, c.Pos)
	if len(spares) == 0 {
		f.T.Fatal("no chunk server without a copy")
	}
	dup := f.CopyFile(c, spares[0].ServiceID)
	f.AddEntry(o, ctr, dup)
	return dup
}

// CopyFile copies the chunk file of c, data and attributes, to the volume
// of chunk server svc under the same chunk id, as cp -a would: nothing
// records it. It returns the copy as an entry would name it.
func (f *Fixture) CopyFile(c meta.Chunk, svc string) meta.Chunk {
	f.T.Helper()
	cp := meta.Chunk{URL: rawx.ChunkURL(svc, c.ID()), Pos: c.Pos, Size: c.Size, Hash: c.Hash}
	data, err := os.ReadFile(f.Path(c))
	if err != nil {
		f.T.Fatal(err)
	}
	attrs, err := chunk.ReadAttrs(f.Path(c))
	if err != nil {
		f.T.Fatal(err)
	}
	path := f.ChunkPath(cp.URL)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		f.T.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		f.T.Fatal(err)
	}
	if err := chunk.SetAttrs(path, attrs); err != nil {
		f.T.Fatal(err)
	}
	return cp
}

// AddEntry appends entry to the chunks of object o of container ctr in the
// directory's database, behind its API, which would refuse it (a copy
// beyond the policy, a chunk listed twice).
func (f *Fixture) AddEntry(o *meta.Object, ctr string, entry meta.Chunk) {
	f.T.Helper()
	f.execDirectory(`INSERT INTO chunks (cid, content_id, seq, url, pos, size, hash)
		SELECT cid, content_id, max(seq) + 1, ?, ?, ?, ? FROM chunks
		WHERE cid = ? AND content_id = ? GROUP BY cid, content_id`,
		entry.URL, entry.Pos, entry.Size, entry.Hash, chunk.ContainerID(Account, ctr), o.ContentID)
}

// SetEntryURL rewrites, in the directory's database, the URL of object o's
// entry of chunk URL from to to, as an operator or an import may have
// written it (a chunk server's address, a lowercase id).
func (f *Fixture) SetEntryURL(o *meta.Object, ctr, from, to string) {
	f.T.Helper()
	f.execDirectory(`UPDATE chunks SET url = ? WHERE cid = ? AND content_id = ? AND url = ?`,
		to, chunk.ContainerID(Account, ctr), o.ContentID, from)
}

// execDirectory runs a statement on the directory's database while the
// namespace runs, failing the test unless it changed a row.
func (f *Fixture) execDirectory(query string, args ...any) {
	f.T.Helper()
	db, err := sqlitedb.Open(f.Ctx, filepath.Join(f.Data, "meta.db"), sqlitedb.Options{})
	if err != nil {
		f.T.Fatal(err)
	}
	defer db.Close()
	res, err := db.ExecContext(f.Ctx, query, args...)
	if err != nil {
		f.T.Fatal(err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		f.T.Fatalf("directory statement changed nothing: %v", err)
	}
}

// Unindex deletes the reverse index record of c, a chunk of the object n.
func (f *Fixture) Unindex(n object.Name, c meta.Chunk) {
	f.T.Helper()
	ref := rdir.ChunkRef{ContainerID: chunk.ContainerID(n.Account, n.Container), ChunkID: c.ID()}
	if err := f.rdir().Delete(f.Ctx, c.Host(), []rdir.ChunkRef{ref}); err != nil {
		f.T.Fatal(err)
	}
}

// waitUnindexed waits until the reverse index forgets a chunk.
func (f *Fixture) waitUnindexed(vol, cid, id string) {
	f.T.Helper()
	rc := f.rdir()
	for {
		page, err := rc.Fetch(f.Ctx, vol, rdir.ListOptions{Prefix: cid + "|" + id, Limit: 1})
		if err == nil && len(page.Records) == 0 {
			return
		}
		if f.Ctx.Err() != nil {
			f.T.Fatalf("chunk %s stays in the index of %s: %v", id, vol, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Orphan uploads, just now, the first chunk of an object and never commits
// it, as a put killed half way does, and returns it.
func (f *Fixture) Orphan() Item {
	f.T.Helper()
	p, err := f.Dir.ContentPrepare(f.Ctx, Account, "ctr-0", "never committed",
		meta.PrepareRequest{Size: 10, Policy: "THREECOPIES"})
	if err != nil {
		f.T.Fatal(err)
	}
	c := p.Chunks[0]
	m := &chunk.Meta{Fullpath: chunk.Fullpath{Account: Account, Container: "ctr-0",
		Path: "never committed", Version: p.Version, ContentID: p.ContentID},
		Position: c.Pos, ChunkMethod: "plain/cca=blake3,nb_copy=3", StoragePolicy: p.Policy}
	if _, err := (&rawx.Client{}).Put(f.Ctx, c.RealURL, m,
		bytes.NewReader([]byte("0123456789")), 10); err != nil {
		f.T.Fatal(err)
	}
	return Item{integrity.KindChunk, c.URL}
}
