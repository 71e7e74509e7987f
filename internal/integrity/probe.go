package integrity

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/rawx"
)

// Resolver maps the service ids that chunk URLs name to the addresses of
// their chunk servers, from the directory's service registry. It reloads
// the registry when it meets an unknown id, at most once a second. It is
// safe for concurrent use.
type Resolver struct {
	dir *meta.Client

	mu     sync.RWMutex
	addrs  map[string]string
	loaded time.Time
}

// NewResolver returns a resolver over the registry of dir.
func NewResolver(dir *meta.Client) *Resolver {
	return &Resolver{dir: dir, addrs: map[string]string{}}
}

// Resolve returns the address of the chunk server host names: a service
// id, or an address already.
func (r *Resolver) Resolve(ctx context.Context, host string) (string, error) {
	r.mu.RLock()
	addr, ok := r.addrs[host]
	r.mu.RUnlock()
	if ok {
		return addr, nil
	}
	if err := r.reload(ctx); err != nil {
		return "", err
	}
	r.mu.RLock()
	addr, ok = r.addrs[host]
	r.mu.RUnlock()
	if ok {
		return addr, nil
	}
	if strings.Contains(host, ":") {
		return host, nil // an ip:port, not a service id
	}
	return "", fmt.Errorf("resolve chunk server %s: %w", host, meta.ErrNoSuchService)
}

// ServiceID returns the service id of the chunk server host names, as the
// directory writes it in chunk URLs: the registered id host names,
// ignoring case; host itself when it names none (the directory may still
// list a removed server's chunks); or the id of the server registered at
// host when host is an ip:port. An address no server is registered at fails with
// meta.ErrNoSuchService, so that no chunk named by address is ever taken
// for another one.
func (r *Resolver) ServiceID(ctx context.Context, host string) (string, error) {
	isAddr := strings.Contains(host, ":")
	for range 2 {
		if id, ok := r.lookupID(host, isAddr); ok {
			return id, nil
		}
		if err := r.reload(ctx); err != nil {
			if isAddr {
				return "", err
			}
			return host, nil
		}
	}
	if !isAddr {
		return host, nil
	}
	return "", fmt.Errorf("no chunk server is registered at %s: %w", host, meta.ErrNoSuchService)
}

// isCanonical tells, without parsing it, a chunk URL already canonical:
// http://<registered id>/<chunk id in uppercase>, as the directory writes
// most of them. The objects of thousands of chunks that a rebuild reads
// again and again made parsing every URL the most of its work.
func (r *Resolver) isCanonical(chunkURL string) bool {
	rest, ok := strings.CutPrefix(chunkURL, "http://")
	if !ok {
		return false
	}
	host, id, ok := strings.Cut(rest, "/")
	if !ok || !chunk.IsID(id) {
		return false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok = r.addrs[host]
	return ok && !strings.Contains(host, ":")
}

// lookupID returns the registered id that host names, ignoring case: an
// id, or with isAddr an address (or an id of that form).
func (r *Resolver) lookupID(host string, isAddr bool) (string, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if _, ok := r.addrs[host]; ok {
		return host, true
	}
	for id, addr := range r.addrs {
		if strings.EqualFold(id, host) || isAddr && strings.EqualFold(addr, host) {
			return id, true
		}
	}
	return "", false
}

// CanonicalChunkURL returns chunkURL with its host as a service id (see
// ServiceID) and its chunk id in uppercase.
func (r *Resolver) CanonicalChunkURL(ctx context.Context, chunkURL string) (string, error) {
	if r.isCanonical(chunkURL) {
		return chunkURL, nil
	}
	host, id, err := rawx.SplitChunkURL(chunkURL)
	if err != nil {
		return "", err
	}
	svc, err := r.ServiceID(ctx, host)
	if err != nil {
		return "", fmt.Errorf("chunk %s: %w", chunkURL, err)
	}
	return rawx.ChunkURL(svc, id), nil
}

// Listers returns the directory's entries that list chunkURL, a canonical
// chunk URL (see CanonicalChunkURL): those of its chunk id whose own URL,
// however spelled, names the same chunk.
func (r *Resolver) Listers(ctx context.Context, chunkURL string) ([]meta.ChunkOwner, error) {
	_, id, err := rawx.SplitChunkURL(chunkURL)
	if err != nil {
		return nil, err
	}
	owners, err := r.dir.ChunkOwners(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("ask the directory who lists %s: %w", chunkURL, err)
	}
	var out []meta.ChunkOwner
	for _, o := range owners {
		if u, err := r.CanonicalChunkURL(ctx, o.Chunk.URL); err == nil && u == chunkURL {
			out = append(out, o)
		}
	}
	return out, nil
}

// RegisteredID returns the service id of a registered chunk server named
// by its id, in any case, or its address; another name fails with
// meta.ErrNoSuchService.
func (r *Resolver) RegisteredID(ctx context.Context, name string) (string, error) {
	id, err := r.ServiceID(ctx, name)
	if err == nil {
		_, err = r.Resolve(ctx, id)
	}
	return id, err
}

// RegisteredChunkURL returns chunkURL canonical (see CanonicalChunkURL),
// failing with meta.ErrNoSuchService unless its chunk server is
// registered.
func (r *Resolver) RegisteredChunkURL(ctx context.Context, chunkURL string) (string, error) {
	u, err := r.CanonicalChunkURL(ctx, chunkURL)
	if err != nil {
		return "", err
	}
	host, _, _ := rawx.SplitChunkURL(u)
	if _, err := r.Resolve(ctx, host); err != nil {
		return "", fmt.Errorf("chunk %s: %w", chunkURL, err)
	}
	return u, nil
}

// Canonical returns o with every chunk URL canonical (see
// CanonicalChunkURL): a directory may write a copy's URL with its chunk
// server's address, or its chunk id in lowercase, and two spellings of
// one chunk must compare equal. A URL that cannot be made canonical (an
// address no server is registered at) is kept. o itself is returned when
// nothing changes, a copy otherwise.
func (r *Resolver) Canonical(ctx context.Context, o *meta.Object) *meta.Object {
	var out *meta.Object
	for i, c := range o.Chunks {
		u, err := r.CanonicalChunkURL(ctx, c.URL)
		if err != nil || u == c.URL {
			continue
		}
		if out == nil {
			cp := *o
			cp.Chunks = slices.Clone(o.Chunks)
			out = &cp
		}
		out.Chunks[i].URL = u
	}
	if out == nil {
		return o
	}
	return out
}

// Services returns the registered chunk servers, dead ones included.
func (r *Resolver) Services(ctx context.Context) ([]meta.Service, error) {
	svcs, err := r.dir.ListServices(ctx, "rawx")
	if err != nil {
		return nil, fmt.Errorf("list chunk servers: %w", err)
	}
	r.store(svcs)
	return svcs, nil
}

func (r *Resolver) reload(ctx context.Context) error {
	r.mu.RLock()
	recent := time.Since(r.loaded) < time.Second
	r.mu.RUnlock()
	if recent {
		return nil
	}
	_, err := r.Services(ctx)
	return err
}

func (r *Resolver) store(svcs []meta.Service) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.loaded = time.Now()
	for _, s := range svcs {
		r.addrs[s.ID] = s.Addr
	}
}

// Probe is what a chunk server says about one chunk.
type Probe struct {
	Meta  *chunk.Meta
	MTime time.Time // when the chunk file was last written
	// FileSize is the size of a chunk file longer than the size a request
	// expected (HeadSized, Verify): it holds trailing bytes after its data.
	// 0 otherwise.
	FileSize int64
}

// TrailingError is the finding of a chunk file holding more bytes than its
// size in the directory, "" for none: its data may be intact, but the file
// is not a clean copy.
func (p Probe) TrailingError(size int64) string {
	if p.FileSize <= size {
		return ""
	}
	return fmt.Sprintf("the file holds %d bytes, %d in the directory: trailing bytes", p.FileSize,
		size)
}

// Prober sends HEAD requests to chunk servers. The zero value is not
// usable; see NewProber. It is safe for concurrent use.
type Prober struct {
	http    *http.Client
	resolve *Resolver
}

// NewProber returns a prober resolving service ids with resolve and
// sending requests with hc (nil: rawx.DefaultTransport).
func NewProber(resolve *Resolver, hc *http.Client) *Prober {
	if hc == nil {
		hc = &http.Client{Transport: rawx.DefaultTransport}
	}
	return &Prober{http: hc, resolve: resolve}
}

// Head returns the metadata of the chunk at chunkURL. With checkHash the
// chunk server first re-reads the data and the call fails with an error
// matching rawx.ErrHashFailed when it does not match its hash; a missing
// chunk fails with rawx.ErrNotFound.
func (p *Prober) Head(ctx context.Context, chunkURL string, checkHash bool) (Probe, error) {
	return p.head(ctx, chunkURL, func(h http.Header) {
		if checkHash {
			h[rawx.HdrCheckHash] = []string{"true"}
		}
	})
}

// head sends a HEAD request for the chunk at chunkURL, with the headers
// set sets.
func (p *Prober) head(ctx context.Context, chunkURL string, set func(http.Header)) (Probe, error) {
	host, id, err := rawx.SplitChunkURL(chunkURL)
	if err != nil {
		return Probe{}, err
	}
	addr, err := p.resolve.Resolve(ctx, host)
	if err != nil {
		return Probe{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, rawx.ChunkURL(addr, id), nil)
	if err != nil {
		return Probe{}, fmt.Errorf("head chunk %s: %w", chunkURL, err)
	}
	set(req.Header)
	resp, err := p.http.Do(req)
	if err != nil {
		return Probe{}, fmt.Errorf("head chunk %s: %w", chunkURL, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Probe{}, &rawx.StatusError{Op: "HEAD " + chunkURL, Status: resp.StatusCode,
			Reason: resp.Header.Get("X-Error")}
	}
	m := rawx.MetaFromHeaders(resp.Header)
	m.ChunkID = id
	// An unreadable time stays zero, which counts as too recent to call the
	// chunk an orphan.
	mtime, _ := rawx.ParseLastModified(resp.Header.Get("Last-Modified"))
	fileSize, _ := strconv.ParseInt(resp.Header.Get(rawx.HdrFileSize), 10, 64)
	return Probe{Meta: m, MTime: mtime, FileSize: fileSize}, nil
}

// HeadSized is Head without re-reading the data, but the file must hold
// size bytes, the directory's size, whatever the chunk's attributes say:
// a truncated file fails with an error matching rawx.ErrHashFailed, and an
// overlong one has its size in Probe.FileSize. (A chunk server that ignores the expectation, as
// OpenIO's, answers as to Head.)
func (p *Prober) HeadSized(ctx context.Context, chunkURL string, size int64) (Probe, error) {
	return p.head(ctx, chunkURL, func(h http.Header) {
		h[rawx.HdrChunkSize] = []string{strconv.FormatInt(size, 10)}
	})
}

// Verify has the chunk server at chunkURL re-read the chunk and hash it
// against size and hash, the directory's values, whatever the chunk's own
// attributes say; the call fails with an error matching rawx.ErrHashFailed
// when the data does not match them. It returns the chunk's metadata.
func (p *Prober) Verify(ctx context.Context, chunkURL string, size int64, hash string) (Probe, error) {
	return p.head(ctx, chunkURL, func(h http.Header) {
		h[rawx.HdrCheckHash] = []string{"true"}
		h[rawx.HdrChunkSize] = []string{strconv.FormatInt(size, 10)}
		h[rawx.HdrChunkHash] = []string{hash}
	})
}

// Owner is the object version a chunk belongs to, as the directory knows
// it.
type Owner struct {
	Account   string
	Container string
	Object    *meta.Object
}

// Compare lists how the chunk metadata m disagrees with entry, its entry
// in the directory, and with the object that owns it. An empty list means
// the chunk is consistent.
func Compare(m *chunk.Meta, owner Owner, entry meta.Chunk) []string {
	var errs []string
	switch want := ownerPath(owner); {
	case m.FullpathRaw == "":
		errs = append(errs, "Faulty: no fullpath attribute")
	case malformedPath(m):
		errs = append(errs, malformedError(m))
	case !samePath(m.Fullpath, want):
		errs = append(errs, fmt.Sprintf("fullpath attribute names %s, the directory %s",
			describePath(m.Fullpath), describePath(want)))
	}
	switch {
	case m.Position == "":
		errs = append(errs, "Faulty: no position attribute")
	case m.Position != entry.Pos:
		errs = append(errs, fmt.Sprintf("position attribute (%s) differs from the directory (%s)",
			m.Position, entry.Pos))
	}
	switch {
	case m.UnparsedSize != "":
		errs = append(errs, fmt.Sprintf("size attribute %q does not parse (the directory's size: %d)",
			truncated(m.UnparsedSize, 40), entry.Size))
	case !m.HasSize || m.Size != entry.Size:
		errs = append(errs, fmt.Sprintf("size attribute (%s) differs from the directory (%d)",
			sizeText(m), entry.Size))
	}
	if !strings.EqualFold(m.Hash, entry.Hash) {
		errs = append(errs, fmt.Sprintf("hash attribute (%s) differs from the directory (%s)",
			orNone(m.Hash), entry.Hash))
	}
	switch {
	case m.StoragePolicy == "":
		errs = append(errs, "Faulty: no storage policy attribute")
	case m.StoragePolicy != owner.Object.Policy:
		errs = append(errs, fmt.Sprintf("policy attribute (%s) differs from the object's (%s)",
			m.StoragePolicy, owner.Object.Policy))
	}
	if m.ChunkMethod == "" {
		errs = append(errs, "Faulty: no chunk method attribute")
	} else {
		errs = append(errs, methodErrors(m, owner.Object.ChunkMethod)...)
	}
	return errs
}

// methodErrors compares a chunk's method attribute with its object's
// chunk method: their type, and the parameters both name (nb_copy, cca,
// k, m...), must agree, and a checksum algorithm the chunk's names must
// fit its hash attribute.
func methodErrors(m *chunk.Meta, object string) []string {
	cm, err := chunk.ParseMethod(m.ChunkMethod)
	if err != nil {
		return []string{fmt.Sprintf("chunk method attribute %q cannot be read", m.ChunkMethod)}
	}
	var errs []string
	if om, err := chunk.ParseMethod(object); err == nil {
		differ := cm.Type != om.Type
		for _, p := range om.Params {
			if v, ok := cm.Get(p.Key); ok && !strings.EqualFold(v, p.Value) {
				differ = true
			}
		}
		if differ {
			errs = append(errs, fmt.Sprintf("chunk method attribute (%s) differs from the object's (%s)",
				m.ChunkMethod, object))
		}
	}
	if cca, ok := cm.Get("cca"); ok && m.Hash != "" &&
		strings.EqualFold(cca, chunk.AlgoMD5) != (chunk.AlgoForHash(m.Hash) == chunk.AlgoMD5) {
		errs = append(errs, fmt.Sprintf("hash attribute of %d digits does not fit the checksum "+
			"algorithm %s of the chunk method attribute", len(m.Hash), cca))
	}
	return errs
}

// malformedPath reports whether a chunk has a fullpath attribute that
// names no owner: a valid one always names an account.
func malformedPath(m *chunk.Meta) bool {
	return m.FullpathRaw != "" && m.Fullpath.Account == ""
}

// malformedError says what the malformed fullpath attribute of m holds.
func malformedError(m *chunk.Meta) string {
	return fmt.Sprintf("fullpath attribute is malformed: %q", truncated(m.FullpathRaw, 200))
}

func ownerPath(o Owner) chunk.Fullpath {
	return chunk.Fullpath{Account: o.Account, Container: o.Container, Path: o.Object.Name,
		Version: o.Object.Version, ContentID: o.Object.ContentID}
}

func samePath(a, b chunk.Fullpath) bool {
	return a.Account == b.Account && a.Container == b.Container && a.Path == b.Path &&
		a.Version == b.Version && strings.EqualFold(a.ContentID, b.ContentID)
}

func describePath(f chunk.Fullpath) string {
	return fmt.Sprintf("%s/%s/%s version %d content %s", f.Account, f.Container, f.Path,
		f.Version, orNone(f.ContentID))
}

func sizeText(m *chunk.Meta) string {
	if !m.HasSize {
		return "none"
	}
	return strconv.FormatInt(m.Size, 10)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// truncated returns v, cut to n bytes and marked so when longer: an
// attribute can hold up to 64 KiB.
func truncated(v string, n int) string {
	if len(v) > n {
		return v[:n] + "..."
	}
	return v
}
