package rebuild

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gridkeep/gridkeep/cache"
	"github.com/gridkeep/gridkeep/internal/httpclient"
	"github.com/gridkeep/gridkeep/internal/integrity"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/pace"
	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

// Outcome says what rebuilding one entry did.
type Outcome string

// Outcomes of an entry.
const (
	// Rebuilt: a verified new copy replaced the lost one (or filled a
	// missing one) in the directory; also when a copy was first recorded
	// in place (see Recorded) and then replaced, its attributes being
	// wrong, which the detail says.
	Rebuilt Outcome = "rebuilt"
	// Healthy: nothing to do; the copy is fine, already repaired, or its
	// object is gone.
	Healthy Outcome = "healthy"
	// Reindexed: the copy is fine but its volume's reverse index had no
	// record of it: the record was added.
	Reindexed Outcome = "reindexed"
	// OrphanRemoved: the chunk belonged to no object and was deleted.
	OrphanRemoved Outcome = "orphan removed"
	// ExtraRemoved: the chunk was an unlisted copy of a chunk its object
	// lists elsewhere, every copy of the object healthy: it was deleted.
	ExtraRemoved Outcome = "extra copy removed"
	// Recorded: a copy already there was recorded in the directory and
	// nothing was copied: the chunk, an unlisted copy verifying against
	// the entry of a lost or damaged copy with its chunk id, in its place;
	// or a copy that verifies, found at the target of a rebuild (left by
	// an interrupted run, or unlisted), in place of the bad one.
	Recorded Outcome = "recorded in place"
	// Kept: the chunk is not listed where the entry says, but it may hold
	// data an object needs (or nothing proves it does not): it was left in
	// place for someone to look at.
	Kept Outcome = "kept"
	// Unknown: the chunk is gone and no owner is known to say whether it
	// was needed (no entry names one, its volume's reverse index has no
	// record of it): checking the object that listed it finds out.
	Unknown Outcome = "owner unknown"
	// Irreparable: no verified copy is left to rebuild from; the entry is
	// skipped.
	Irreparable Outcome = "irreparable"
	// Planned: a dry run found this to do and did nothing.
	Planned Outcome = "planned"
	// Interrupted: the run was stopped (its context done) before the entry
	// was finished, or before it began; running again finishes it. Whatever
	// error the stop caused is not the entry's.
	Interrupted Outcome = "interrupted"
	// Failed: the entry could not be processed now; running again may
	// succeed.
	Failed Outcome = "failed"
)

// Result is what rebuilding one entry did. NewURL is the new copy's URL
// (planned or made), Bytes the bytes copied, Detail a human explanation.
type Result struct {
	Entry   integrity.RebuildEntry
	Outcome Outcome
	NewURL  string
	Bytes   int64
	Detail  string
	Err     error
}

// ErrIrreparable reports an entry no verified copy can repair.
var ErrIrreparable = errors.New("no verified copy to rebuild from")

// Options tune a Rebuilder. The zero value copies one chunk at a time,
// unpaced, and deletes orphans older than an hour.
type Options struct {
	// Concurrency bounds the entries processed at once by Run; 0 means 1.
	Concurrency int
	// Pacer paces Run: items are entries, bytes the chunk data copied.
	Pacer *pace.Pacer
	// DryRun finds what to do and does nothing; the copies it would copy
	// from are re-hashed, so that one without a verified source is
	// irreparable as in a real run.
	DryRun bool
	// OrphanMinAge is how old a chunk no object owns must be before it is
	// deleted; 0 means integrity.DefaultOrphanMinAge, negative no minimum.
	OrphanMinAge time.Duration
	// LostVolumes are chunk servers whose copies count as lost even when
	// the server does not answer at all (the volume being rebuilt).
	LostVolumes []string
	// Namespace names the namespace in directory routes; "" means meta.DefaultNamespace.
	Namespace string
	// HTTPClient sends every request: to the directory, the reverse index
	// and the chunk servers; nil means clients of the package defaults.
	HTTPClient *http.Client
	// Report receives the result of every entry Run processes, one call at
	// a time.
	Report func(Result)
}

// Rebuilder re-creates lost or corrupt copies of replicated chunks from a
// verified copy of the same metachunk (see the package documentation). It
// is safe for concurrent use; entries of one object are processed one at
// a time.
type Rebuilder struct {
	opts    Options
	dir     *meta.Client
	resolve *integrity.Resolver
	probe   *integrity.Prober
	rawx    *rawx.Client
	lost    map[string]bool
	// rdirHTTP talks to reverse indexes.
	rdirHTTP *http.Client

	names    *cache.Cache[string, [2]string]
	rdirs    *cache.Cache[string, *rdir.Client]
	services servicesCache
	locks    keyedMutex

	// objects holds objects located by content id as the directory lists
	// them, with the rebuilder's own chunk updates applied (see
	// updateChunk): the entries of a volume name the same large objects
	// again and again, and locating an object of thousands of chunks for
	// each of them made a rebuild quadratic. An object is located again
	// after objectTTL, so that changes made by others are seen; until
	// then, the directory refuses an update whose old chunk it no longer
	// lists, and a refused update forgets the object.
	objects *cache.Cache[string, *meta.Object]
	objMu   sync.Mutex // makes updateChunk's read, apply and store one step
}

// objectTTL is how long the rebuilder trusts an object it located.
const objectTTL = 10 * time.Second

// New returns a rebuilder of the namespace whose directory API is at
// proxyURL.
func New(proxyURL string, opts Options) (*Rebuilder, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 1
	}
	if opts.OrphanMinAge == 0 {
		opts.OrphanMinAge = integrity.DefaultOrphanMinAge
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: rawx.DefaultTransport}
	}
	dirHC := opts.HTTPClient
	if dirHC == nil {
		dirHC = httpclient.Client(time.Minute)
	}
	dir, err := meta.NewClient(proxyURL, meta.ClientOptions{Namespace: opts.Namespace,
		HTTPClient: dirHC})
	if err != nil {
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	r := &Rebuilder{opts: opts, dir: dir, resolve: integrity.NewResolver(dir),
		rawx: &rawx.Client{HTTP: hc}, lost: map[string]bool{}}
	r.probe = integrity.NewProber(r.resolve, hc)
	for _, v := range opts.LostVolumes {
		r.lost[v] = true
	}
	if r.names, err = cache.New(cache.Options[string, [2]string]{Capacity: 1 << 16}); err != nil {
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	if r.rdirs, err = cache.New(cache.Options[string, *rdir.Client]{Capacity: 1024}); err != nil {
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	r.objects, err = cache.New(cache.Options[string, *meta.Object]{Capacity: 64, TTL: objectTTL})
	if err != nil {
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	r.services.dir = dir
	r.rdirHTTP = dirHC
	return r, nil
}

// Ping checks that the directory answers, so that a caller can tell a run
// that could not start from one that failed.
func (r *Rebuilder) Ping(ctx context.Context) error {
	if _, err := r.services.get(ctx); err != nil {
		return meta.FirstContact(err)
	}
	return nil
}

// Rebuild processes one entry (see the package documentation). It never
// returns a Result without an Outcome. Once ctx is done, an entry that did
// not end well is Interrupted: the failure, or the copies that seemed to
// be lost, may be the stop's doing.
func (r *Rebuilder) Rebuild(ctx context.Context, e integrity.RebuildEntry) Result {
	res := Result{Entry: e}
	if e.Irreparable {
		res.Outcome, res.Detail = Irreparable, "marked irreparable by the check; skipped"
		return res
	}
	if ctx.Err() == nil {
		res = r.rebuild(ctx, e)
	}
	if ctx.Err() != nil {
		switch res.Outcome {
		case "", Failed, Irreparable, Kept:
			res.Outcome, res.Err, res.Detail = Interrupted, nil, "stopped before it was done"
		}
	}
	return res
}

func (r *Rebuilder) rebuild(ctx context.Context, e integrity.RebuildEntry) Result {
	res := Result{Entry: e}
	unlock := r.locks.lock(e.ContainerID + "/" + e.ContentID + "/" + e.Path)
	defer unlock()
	if !isURL(e.Chunk) {
		if e.ContainerID == "" {
			return failed(res, fmt.Errorf("position %s of no object", e.Chunk))
		}
		job, err := r.load(ctx, e)
		switch {
		case meta.Missing(err):
			res.Outcome, res.Detail = Healthy, "the object no longer exists"
			return res
		case err != nil:
			return failed(res, err)
		}
		return r.fillPosition(ctx, res, job, e.Chunk)
	}
	url, err := r.resolve.CanonicalChunkURL(ctx, e.Chunk)
	if err != nil {
		return failed(res, err)
	}
	if e.ContainerID != "" {
		job, err := r.load(ctx, e)
		switch {
		case err == nil:
			if entry := job.entry(url); entry != nil {
				return r.replace(ctx, res, job, *entry)
			}
		case !meta.Missing(err):
			return failed(res, err)
		}
	}
	return r.unlisted(ctx, res, url)
}

func failed(res Result, err error) Result {
	res.Outcome, res.Err = Failed, err
	if errors.Is(err, ErrIrreparable) {
		res.Outcome = Irreparable
	}
	return res
}

func isURL(s string) bool { return strings.Contains(s, "://") }

// sameChunk reports whether two chunk URLs name the same chunk id on the
// same service.
func sameChunk(a, b string) bool {
	ha, ia, erra := rawx.SplitChunkURL(a)
	hb, ib, errb := rawx.SplitChunkURL(b)
	if erra != nil || errb != nil {
		return a == b
	}
	return strings.EqualFold(ha, hb) && strings.EqualFold(ia, ib)
}

// CanonicalChunkURL returns a chunk URL as the directory writes it: its
// host a service id, an ip:port being replaced by the id of the chunk
// server registered there. An address no chunk server is registered at
// fails with meta.ErrNoSuchService.
func (r *Rebuilder) CanonicalChunkURL(ctx context.Context, chunkURL string) (string, error) {
	return r.resolve.CanonicalChunkURL(ctx, chunkURL)
}

// ChunkEntry returns the entry that rebuilds a chunk named by URL alone,
// on a registered chunk server named by service id or address. A server
// the directory does not know fails with meta.ErrNoSuchService.
func (r *Rebuilder) ChunkEntry(ctx context.Context, chunkURL string) (integrity.RebuildEntry, error) {
	u, err := r.resolve.RegisteredChunkURL(ctx, chunkURL)
	return integrity.RebuildEntry{Chunk: u}, err
}

// job is the object an entry is about. Its chunk URLs are canonical
// (integrity.Resolver.Canonical); stored holds them as the directory
// writes them, by index, when any differs.
type job struct {
	cid    string
	owner  integrity.Owner
	copies int
	stored []string
}

// dirEntry returns c as the directory stores it, to name it in an update.
func (j *job) dirEntry(c meta.Chunk) meta.Chunk {
	e := meta.Chunk{URL: c.URL, Pos: c.Pos, Size: c.Size, Hash: c.Hash}
	for i, o := range j.owner.Object.Chunks {
		if j.stored != nil && o.URL == c.URL && o.Pos == c.Pos {
			e.URL = j.stored[i]
			break
		}
	}
	return e
}

// load locates the object of an entry: by content id, else by path and
// version.
func (r *Rebuilder) load(ctx context.Context, e integrity.RebuildEntry) (*job, error) {
	account, container, err := r.containerNames(ctx, e.ContainerID)
	if err != nil {
		return nil, err
	}
	var o *meta.Object
	if e.ContentID != "" {
		o, err = r.locateByID(ctx, e.ContainerID, e.ContentID)
	} else {
		o, err = r.dir.Locate(ctx, account, container, e.Path, e.Version)
	}
	if err != nil {
		return nil, err
	}
	copies, err := integrity.Copies(o)
	if err != nil {
		return nil, err
	}
	j := &job{cid: e.ContainerID, copies: copies,
		owner: integrity.Owner{Account: account, Container: container, Object: o}}
	if c := r.resolve.Canonical(ctx, o); c != o {
		for _, ch := range o.Chunks {
			j.stored = append(j.stored, ch.URL)
		}
		j.owner.Object = c
	}
	return j, nil
}

// locateByID returns the object of a content id, located by the directory
// or taken from the objects it located lately (see Rebuilder.objects). The
// object is the caller's own: its chunks are a copy.
func (r *Rebuilder) locateByID(ctx context.Context, cid, contentID string) (*meta.Object, error) {
	o, err := r.objects.GetOrLoad(ctx, objectKey(cid, contentID), func(ctx context.Context,
		_ string) (*meta.Object, error) {
		return r.dir.LocateByID(ctx, cid, contentID)
	})
	if err != nil {
		return nil, err
	}
	cp := *o
	cp.Chunks = slices.Clone(o.Chunks)
	return &cp, nil
}

func objectKey(cid, contentID string) string {
	return strings.ToUpper(cid) + "/" + strings.ToUpper(contentID)
}

// updateChunk makes u in the directory, and in the object the rebuilder
// holds located, if any, by the rule the directory applies (see
// meta.ApplyChunkUpdate). When the directory refuses u, or its answer is
// lost, the object is forgotten, to be located again.
func (r *Rebuilder) updateChunk(ctx context.Context, j *job, u meta.ChunkUpdate) error {
	err := r.dir.UpdateChunk(ctx, j.cid, u)
	key := objectKey(j.cid, u.ContentID)
	r.objMu.Lock()
	defer r.objMu.Unlock()
	o, ok := r.objects.Get(key)
	if !ok {
		return err
	}
	if err == nil && meta.NormalizeChunkUpdate(&u) == nil {
		if chunks, aerr := meta.ApplyChunkUpdate(slices.Clone(o.Chunks), u, j.copies); aerr == nil {
			cp := *o
			cp.Chunks = chunks
			r.objects.Set(key, &cp)
			return nil
		}
	}
	r.objects.Delete(key)
	return err
}

func (r *Rebuilder) containerNames(ctx context.Context, cid string) (string, string, error) {
	v, err := r.names.GetOrLoad(ctx, cid, func(ctx context.Context, cid string) ([2]string,
		error) {
		a, n, err := r.dir.ResolveCID(ctx, cid)
		return [2]string{a, n}, err
	})
	return v[0], v[1], err
}

// entry returns the object's directory entry of a chunk URL, if any.
func (j *job) entry(url string) *meta.Chunk {
	chunks := j.owner.Object.Chunks
	// The URLs are canonical: most often the same string, which is quick
	// to tell in an object of thousands of chunks.
	if i := slices.IndexFunc(chunks, func(c meta.Chunk) bool { return c.URL == url }); i >= 0 {
		return &chunks[i]
	}
	for i, c := range chunks {
		if sameChunk(c.URL, url) {
			return &chunks[i]
		}
	}
	return nil
}

// at returns the directory entries at a position.
func (j *job) at(pos string) []meta.Chunk {
	var out []meta.Chunk
	for _, c := range j.owner.Object.Chunks {
		if c.Pos == pos {
			out = append(out, c)
		}
	}
	return out
}

// derivedID is the id of a new copy placed on the chunk server of a bad
// copy that is still there: distinct from it, and the same on every run,
// so that an interrupted rebuild finds its copy again.
func derivedID(id, host string) string {
	sum := sha256.Sum256([]byte(id + "/" + host + "/rebuilt"))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// keyedMutex serializes work per key.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyedEntry{}
	}
	e := k.m[key]
	if e == nil {
		e = &keyedEntry{}
		k.m[key] = e
	}
	e.refs++
	k.mu.Unlock()
	e.Lock()
	return func() {
		e.Unlock()
		k.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
