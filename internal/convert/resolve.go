package convert

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
	names    *cache.Cache[string, names]   // container id -> names
	contents *cache.Cache[nameKey, string] // (cid, path, version) -> content id
	owners   *cache.Cache[idKey, *owner]   // (cid, content id) -> owner
}

func newResolver(dir *meta.Client, volumeID string, size int) (*resolver, error) {
	n, err := cache.New(cache.Options[string, names]{Capacity: size})
	if err != nil {
		return nil, err
	}
	c, err := cache.New(cache.Options[nameKey, string]{Capacity: size})
	if err != nil {
		return nil, err
	}
	o, err := cache.New(cache.Options[idKey, *owner]{Capacity: size})
	if err != nil {
		return nil, err
	}
	return &resolver{dir: dir, volumeID: volumeID, names: n, contents: c, owners: o}, nil
}

// gone reports whether a directory error means the thing asked for does
// not exist, rather than that the question could not be answered.
func gone(err error) bool {
	return errors.Is(err, meta.ErrNoSuchObject) || errors.Is(err, meta.ErrNoSuchContainer) ||
		errors.Is(err, meta.ErrNoSuchAccount)
}

// containerNames returns the account and container of a container id.
func (r *resolver) containerNames(ctx context.Context, cid string) (names, error) {
	n, err := r.names.GetOrLoad(ctx, strings.ToUpper(cid),
		func(ctx context.Context, cid string) (names, error) {
			a, c, err := r.dir.ResolveCID(ctx, cid)
			if err != nil {
				err = fmt.Errorf("resolve container %s: %w", cid, err)
				if gone(err) {
					return names{err: err}, nil
				}
				return names{}, err
			}
			return names{account: a, container: c}, nil
		})
	if err == nil && n.err != nil {
		return names{}, n.err
	}
	return n, err
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
		if err != nil {
			return goneOwner(fmt.Errorf("locate content %s in %s/%s: %w", k.contentID, n.account,
				n.container, err))
		}
		return r.owner(n, o), nil
	})
	if err == nil && o.err != nil {
		return nil, o.err
	}
	return o, err
}

// goneOwner turns a directory answer that the object does not exist into
// an owner to memoize; other errors are returned, not memoized.
func goneOwner(err error) (*owner, error) {
	if gone(err) {
		return &owner{err: err}, nil
	}
	return nil, err
}

// byName returns an object version by path and version (0: the latest).
func (r *resolver) byName(ctx context.Context, n names, path string, version int64) (*owner, error) {
	cid := chunk.ContainerID(n.account, n.container)
	r.names.Set(cid, names{account: n.account, container: n.container})
	key := nameKey{cid, path, version}
	contentID, err := r.contents.GetOrLoad(ctx, key, func(ctx context.Context, k nameKey) (string, error) {
		o, err := r.dir.Locate(ctx, n.account, n.container, k.path, k.version)
		if err != nil {
			return "", fmt.Errorf("locate %s/%s/%s version %d: %w", n.account, n.container,
				k.path, k.version, err)
		}
		r.owners.Set(idKey{cid, strings.ToUpper(o.ContentID)}, r.owner(n, o))
		return strings.ToUpper(o.ContentID), nil
	})
	if err != nil {
		return nil, err
	}
	return r.byID(ctx, cid, contentID)
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
