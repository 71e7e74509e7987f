package convert

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/gridkeep/gridkeep/cache"
	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
)

// names is an account and container pair, or the directory's answer that
// the container does not exist.
type names struct {
	account, container string
	err                error
}

// nameKey selects an object version by container id, path and version
// (0 for the latest).
type nameKey struct {
	cid, path string
	version   int64
}

// located is the content id a nameKey leads to, or the directory's answer
// that there is no such object (or container).
type located struct {
	contentID string
	err       error
}

// idKey selects an object version by container id and content id.
type idKey struct{ cid, contentID string }

// owner is an object version as the converter needs it: its fullpath and
// the positions of its chunks on this volume, by chunk id. An owner with
// err set records that the directory does not know the object: such
// answers are memoized too, for the run (objects do not come back).
type owner struct {
	fullpath chunk.Fullpath
	chunks   map[string]string // chunk id -> position, this volume only
	err      error             // the directory's "no such ..." answer
}

// resolver answers which object owns what, through the directory, with
// every answer memoized in bounded caches. It is safe for concurrent use;
// concurrent questions about one object make one request.
type resolver struct {
	dir      *meta.Client
	volumeID string
	failing  atomic.Int64                   // questions failed in a row (see failed)
	names    *cache.Cache[string, names]    // container id -> names
	contents *cache.Cache[nameKey, located] // (cid, path, version) -> content id
	owners   *cache.Cache[idKey, *owner]    // (cid, content id) -> owner
}

func newResolver(dir *meta.Client, volumeID string, size int) (*resolver, error) {
	n, err := cache.New(cache.Options[string, names]{Capacity: size})
	if err != nil {
		return nil, err
	}
	c, err := cache.New(cache.Options[nameKey, located]{Capacity: size})
	if err != nil {
		return nil, err
	}
	o, err := cache.New(cache.Options[idKey, *owner]{Capacity: size})
	if err != nil {
		return nil, err
	}
	return &resolver{dir: dir, volumeID: volumeID, names: n, contents: c, owners: o}, nil
}

// containerNames returns the account and container of a container id.
func (r *resolver) containerNames(ctx context.Context, cid string) (names, error) {
	n, err := r.names.GetOrLoad(ctx, strings.ToUpper(cid),
		func(ctx context.Context, cid string) (names, error) {
			a, c, err := r.dir.ResolveCID(ctx, cid)
			if r.heard(err); err != nil {
				err = fmt.Errorf("resolve container %s: %w", cid, err)
				if meta.Missing(err) {
					return names{err: err}, nil
				}
				return names{}, err
			}
			return names{account: a, container: c}, nil
		})
	if err == nil && n.err != nil {
		return names{}, n.err
	}
	return n, r.failed(err)
}

// byID returns the object version of a content id.
func (r *resolver) byID(ctx context.Context, cid, contentID string) (*owner, error) {
	key := idKey{strings.ToUpper(cid), strings.ToUpper(contentID)}
	o, err := r.owners.GetOrLoad(ctx, key, func(ctx context.Context, k idKey) (*owner, error) {
		n, err := r.containerNames(ctx, k.cid)
		if err != nil {
			return goneOwner(err)
		}
		o, err := r.dir.LocateByID(ctx, k.cid, k.contentID)
		if r.heard(err); err != nil {
			return goneOwner(fmt.Errorf("locate content %s in %s/%s: %w", k.contentID, n.account,
				n.container, err))
		}
		return r.owner(n, o), nil
	})
	if err == nil && o.err != nil {
		return nil, o.err
	}
	return o, r.failed(err)
}

// maxDirFailures is how many questions to the directory may fail in a row,
// other than with an answer that something does not exist, before the run
// stops: a directory that is down fails every chunk that needs it, and a
// run going on would fail the rest of the volume (hours at a slow pace)
// instead of stopping to be run again. Only an answer of the directory
// ends a row, not one memoized before it went down.
const maxDirFailures = 32

// errDirFailing stops a run whose directory fails (see maxDirFailures).
var errDirFailing = errors.New("the directory failed too many questions in a row")

// heard ends the row of failed questions when err, the outcome of a request
// to the directory, is an answer.
func (r *resolver) heard(err error) {
	if err == nil || meta.Missing(err) {
		r.failing.Store(0)
	}
}

// failed counts a question whose outcome, err, is a failure, and returns
// err.
func (r *resolver) failed(err error) error {
	if err != nil && !meta.Missing(err) {
		r.failing.Add(1)
	}
	return err
}

// stopping returns errDirFailing, with the last error, once the directory
// has failed maxDirFailures questions in a row.
func (r *resolver) stopping(last error) error {
	if r.failing.Load() < maxDirFailures {
		return nil
	}
	return fmt.Errorf("%w (%d), the last: %v", errDirFailing, maxDirFailures, last)
}

// goneOwner turns a directory answer that the object does not exist into
// an owner to memoize; other errors are returned, not memoized.
func goneOwner(err error) (*owner, error) {
	if meta.Missing(err) {
		return &owner{err: err}, nil
	}
	return nil, err
}

// byName returns an object version by path and version (0: the latest).
// Answers that the object or its container does not exist are memoized too:
// the splits of a 2017-era name (see namedSplits) ask about many.
func (r *resolver) byName(ctx context.Context, n names, path string, version int64) (*owner, error) {
	cid := chunk.ContainerID(n.account, n.container)
	if known, ok := r.names.Get(cid); ok && known.err != nil {
		return nil, fmt.Errorf("locate %s/%s/%s version %d: %w", n.account, n.container, path, version,
			known.err)
	}
	key := nameKey{cid, path, version}
	l, err := r.contents.GetOrLoad(ctx, key, func(ctx context.Context, k nameKey) (located, error) {
		o, err := r.dir.Locate(ctx, n.account, n.container, k.path, k.version)
		if r.heard(err); err != nil {
			r.containerGone(cid, n, err)
			err = fmt.Errorf("locate %s/%s/%s version %d: %w", n.account, n.container,
				k.path, k.version, err)
			if meta.Missing(err) {
				return located{err: err}, nil
			}
			return located{}, err
		}
		r.names.Set(cid, names{account: n.account, container: n.container})
		r.owners.Set(idKey{cid, strings.ToUpper(o.ContentID)}, r.owner(n, o))
		return located{contentID: strings.ToUpper(o.ContentID)}, nil
	})
	if err == nil {
		err = l.err
	}
	if err != nil {
		return nil, r.failed(err)
	}
	return r.byID(ctx, cid, l.contentID)
}

// containerGone memoizes that container cid does not exist when err, the
// directory's answer to a question about it, says so.
func (r *resolver) containerGone(cid string, n names, err error) {
	for _, class := range []error{meta.ErrNoSuchContainer, meta.ErrNoSuchAccount} {
		if errors.Is(err, class) {
			r.names.Set(cid, names{err: fmt.Errorf("container %s/%s: %w", n.account, n.container,
				class)})
			return
		}
	}
}

// owner keeps what the converter needs of a located object.
func (r *resolver) owner(n names, o *meta.Object) *owner {
	w := &owner{fullpath: chunk.Fullpath{Account: n.account, Container: n.container, Path: o.Name,
		Version: o.Version, ContentID: strings.ToUpper(o.ContentID)}, chunks: map[string]string{}}
	for _, c := range o.Chunks {
		if c.Host() == r.volumeID {
			w.chunks[strings.ToUpper(c.ID())] = c.Pos
		}
	}
	return w
}
