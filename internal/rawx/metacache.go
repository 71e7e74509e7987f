package rawx

import (
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/gridkeep/gridkeep/cache"
	"github.com/gridkeep/gridkeep/internal/chunk"
)

// Chunk metadata cache.
//
// Reading a chunk's attributes takes a listing and one system call per
// attribute, then parsing and rendering them as headers: most of the cost
// of a small GET or HEAD. The server remembers the result per chunk id,
// with the file's inode, change time and size, and uses it only while the
// open file still has all three. Any change to a file's attributes, by
// this server or by anything else on the machine (setfattr, gridkeep
// convert), sets its change time to the present, and a replaced file is
// another inode.
//
// File times come from a coarse clock (a few milliseconds), so two changes
// within one tick may leave the same change time. Metadata is therefore
// remembered only once its file's change time is settleTime old: a later
// change gets a later time. The server's own changes (DELETE, COPY, POST)
// also forget the chunk at once.
//
// The cache keeps the chunks that settled most recently (FIFO): chunks are
// read most in the hours after they are written, and a frequency filter
// (the cache's default policy) kept yesterday's often-read chunks in the
// way of today's: 54% hits instead of 82% in `gridkeep bench rawx --op
// get`, whose every run reads chunks it has just written.

// DefaultMetaCache is how many chunks' metadata a server remembers unless
// configured otherwise. An entry holds one chunk's parsed attributes and
// rendered headers, one to two kilobytes: some tens of megabytes when full.
const DefaultMetaCache = 16384

// settleTime is the age a file's change time must have before its
// metadata is remembered, far above the granularity of file times.
const settleTime = time.Second

// chunkView is a chunk's metadata as GET and HEAD serve it; shared between
// requests, never modified.
type chunkView struct {
	meta   *chunk.Meta
	header http.Header // setMetaHeaders' result
}

func newChunkView(m *chunk.Meta, mtime time.Time) *chunkView {
	h := make(http.Header, 16)
	setMetaHeaders(h, m, mtime)
	return &chunkView{meta: m, header: h}
}

// setHeaders adds the chunk's metadata headers to h.
func (v *chunkView) setHeaders(h http.Header) {
	for k, vs := range v.header {
		h[k] = vs
	}
}

// fileStamp identifies one state of a file's content and attributes.
type fileStamp struct {
	ino   uint64
	ctime int64 // nanoseconds since the epoch
	size  int64
}

func stampOf(st os.FileInfo) (fileStamp, bool) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return fileStamp{}, false
	}
	return fileStamp{ino: sys.Ino, ctime: sys.Ctim.Nano(), size: st.Size()}, true
}

type metaEntry struct {
	stamp fileStamp
	view  *chunkView
}

// metaCache remembers chunk views by chunk id; the zero value remembers
// nothing.
type metaCache struct {
	c   *cache.Cache[string, metaEntry]
	now func() time.Time
}

func newMetaCache(capacity int) (metaCache, error) {
	mc := metaCache{now: time.Now}
	if capacity < 0 {
		return mc, nil
	}
	if capacity == 0 {
		capacity = DefaultMetaCache
	}
	c, err := cache.New(cache.Options[string, metaEntry]{Capacity: capacity, Policy: cache.FIFO})
	if err != nil {
		return mc, err
	}
	mc.c = c
	return mc, nil
}

// get returns the view remembered for id if the file still has stamp.
func (mc metaCache) get(id string, stamp fileStamp) (*chunkView, bool) {
	if mc.c == nil {
		return nil, false
	}
	e, ok := mc.c.Get(id)
	if !ok || e.stamp != stamp {
		return nil, false
	}
	return e.view, true
}

// put remembers v for id if the file's change time has settled.
func (mc metaCache) put(id string, stamp fileStamp, v *chunkView) {
	if mc.c == nil || mc.now().UnixNano()-stamp.ctime < int64(settleTime) {
		return
	}
	mc.c.Set(id, metaEntry{stamp: stamp, view: v})
}

// forget drops what is remembered of id.
func (mc metaCache) forget(id string) {
	if mc.c != nil {
		mc.c.Delete(id)
	}
}
