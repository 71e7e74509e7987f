package convert

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/rdir"
)

// item is one chunk file to visit.
type item struct {
	path string // absolute
	rel  string // relative to the volume root
	id   string
	recs []rdir.Record // reverse-index records of id, in the recovery round
	err  error         // why the item cannot be visited (a bad input path)
	// walked says the walk of the volume found a regular file here, which
	// can be opened without a look first (a device or FIFO could not).
	walked bool
}

// inode identifies a file on the system.
type inode struct{ dev, ino uint64 }

// plan is what converting one chunk takes, and then what came of it.
type plan struct {
	item
	ino      inode
	nlink    uint64
	claimed  bool
	attrs    []chunk.Attr // as read, for the backup
	set      []chunk.Attr
	remove   []string
	setEarly bool // the planner set the new keys (no backup to write first)
	deferred bool // another name of the inode is in flight: visit again later
	cut      bool // failed as the run ended: not reported, a rerun visits it
	needRdir bool // the owner must be looked up in the reverse index
	res      Result
}

func (p *plan) writes() bool { return len(p.set) > 0 || len(p.remove) > 0 }

func (p *plan) fail(err error) *plan {
	p.res.Outcome = Failed
	if errors.Is(err, ErrOrphan) {
		p.res.Outcome = Orphan
	}
	p.res.Err = err
	p.set, p.remove, p.res.Set, p.res.Remove = nil, nil, nil, nil
	return p
}

// errNoOwner says a chunk's own attributes do not establish its owner; the
// reverse index may.
var errNoOwner = orphanf("no attribute names the owner of this chunk id")

// planChunk reads a chunk and works out its conversion. With no backup to
// write first, it also sets the new keys, through the file it has open
// (the sync of the batch makes them durable before any legacy key goes);
// otherwise it writes nothing.
func (c *Converter) planChunk(ctx context.Context, it item) *plan {
	p := &plan{item: it, res: Result{Path: it.path, ChunkID: it.id}}
	a := fdAttrs.Get().(*chunk.FdAttrs)
	defer fdAttrs.Put(a)
	fd := c.readChunk(p, a)
	if fd < 0 {
		return p
	}
	defer unix.Close(fd)
	c.planLegacy(ctx, p)
	if p.res.Outcome == Failed {
		if err := c.res.stopping(p.res.Err); err != nil {
			c.halt(err)
		}
	}
	if c.backups == nil && !c.o.DryRun && p.res.Outcome == Converted {
		c.wrote.Store(true)
		if err := a.Set(fd, p.set); err != nil {
			undoSet(p, func(at []chunk.Attr) error { return a.Set(fd, at) },
				func(name string) error { return a.Remove(fd, name) })
			return p.fail(c.setError(fmt.Errorf("%s: %w", p.path, err)))
		}
		p.setEarly = true
	}
	return p
}

// undoSet gives the new keys of p, after a write of them failed part way,
// the values they had when p was planned, or removes those that had none,
// with set and remove, which write the chunk's attributes: the chunk is
// left as it was. The values read when planning spare reading them again
// before every write, which would cost each chunk as much again.
func undoSet(p *plan, set func([]chunk.Attr) error, remove func(name string) error) {
	for _, at := range p.set {
		i := slices.IndexFunc(p.attrs, func(b chunk.Attr) bool { return b.Name == at.Name })
		if i >= 0 {
			set(p.attrs[i : i+1])
		} else {
			remove(at.Name)
		}
	}
}

// setError says why the new keys of a chunk could not be written. Keys that
// do not fit are worth a word: the legacy keys go only once the new ones are
// durable, so a chunk needs room for both for a while.
func (c *Converter) setError(err error) error {
	if chunk.AttrsDoNotFit(c.o.Volume, err) {
		return fmt.Errorf("the chunk's attributes do not fit on the filesystem in the current "+
			"format (its new key is added before the legacy ones are removed, so that a crash "+
			"never leaves it with neither); the chunk is left as it was: %w", err)
	}
	return err
}

// readChunk reads the attributes of a chunk into p and returns the file
// open, or -1 if p is complete: the chunk is current, deferred, not a
// chunk, or failed.
func (c *Converter) readChunk(p *plan, a *chunk.FdAttrs) int {
	fd, st, err := openItem(p.item)
	if err != nil {
		p.fail(err)
		return -1
	}
	if fd < 0 {
		why := "not a regular file"
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			why = "a directory"
		}
		p.res.Outcome, p.res.Err = NotChunk, errors.New("not a chunk: "+why)
		return -1
	}
	p.ino, p.nlink = inode{st.Dev, st.Ino}, st.Nlink
	if !c.readAttrs(p, a, fd) {
		unix.Close(fd)
		return -1
	}
	return fd
}

// readAttrs reads the attributes of the chunk open as fd into p, and
// reports whether its conversion is to be planned: not when it is current,
// deferred, or failed.
func (c *Converter) readAttrs(p *plan, a *chunk.FdAttrs, fd int) bool {
	if !c.claims.claim(p.ino) {
		p.deferred = true
		return false
	}
	p.claimed = true
	names, err := a.Names(fd)
	if err != nil {
		p.fail(fmt.Errorf("list xattrs of %s: %w", p.path, err))
		return false
	}
	current, err := isCurrent(a, fd, p.path, p.id, names)
	if current {
		p.res.Format = chunk.FormatCurrent
	}
	if err != nil {
		p.fail(err)
		return false
	}
	if current {
		p.res.Outcome = Current
		return false
	}
	if p.attrs, err = a.Values(fd, names); err != nil {
		p.fail(fmt.Errorf("%s: %w", p.path, err))
		return false
	}
	return true
}

// fdAttrs holds the attribute buffers of the planners and writers.
var fdAttrs = sync.Pool{New: func() any { return new(chunk.FdAttrs) }}

// openItem opens the chunk file of an item for reading its attributes and
// returns its status, or -1 if it is not a regular file. A file the walk
// did not find is looked at before it is opened.
func openItem(it item) (int, unix.Stat_t, error) {
	if it.walked {
		fd, st, err := openStat(it.path)
		if err == nil && st.Mode&unix.S_IFMT != unix.S_IFREG {
			unix.Close(fd)
			fd = -1
		}
		return fd, st, err
	}
	var st unix.Stat_t
	if err := unix.Lstat(it.path, &st); err != nil {
		return -1, st, fmt.Errorf("stat chunk: %w", err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		// As the walk does (see chunk.WalkByInode): not followed, failed.
		return -1, st, symlinkError(&os.PathError{Op: "open", Path: it.path, Err: chunk.ErrSymlink})
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return -1, st, nil
	}
	fd, err := openChunk(it.path, inode{st.Dev, st.Ino})
	return fd, st, err
}

// symlinkError says why a symbolic link in the volume, which err names,
// is not converted.
func symlinkError(err error) error {
	return fmt.Errorf("symbolic link in the volume, not followed: what it leads to is left as "+
		"it is: %w", err)
}

// openChunk opens the chunk file at path for reading its attributes: one
// path lookup instead of one per attribute. The file is never opened for
// writing. It fails if path no longer leads to inode ino (the file was
// replaced since it was examined).
func openChunk(path string, ino inode) (int, error) {
	fd, st, err := openStat(path)
	if err != nil {
		return -1, err
	}
	if (inode{st.Dev, st.Ino}) != ino {
		unix.Close(fd)
		return -1, fmt.Errorf("chunk file %s was replaced while being read", path)
	}
	return fd, nil
}

// openStat opens the file at path, not following a final symbolic link,
// for reading, and returns its status.
func openStat(path string) (int, unix.Stat_t, error) {
	var st unix.Stat_t
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, st, fmt.Errorf("open chunk: %w", err)
	}
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, st, fmt.Errorf("stat chunk: %w", err)
	}
	return fd, st, nil
}

// planLegacy plans the conversion of a chunk that is not current.
func (c *Converter) planLegacy(ctx context.Context, p *plan) *plan {
	m, err := chunk.Parse(p.id, p.attrs)
	if m == nil {
		return p.fail(err)
	}
	p.res.Format = chunk.FormatOf(m)
	if err := m.Usable(); err != nil {
		return p.fail(err)
	}
	w := newWants(p.id)
	w.keep(m)
	ownErr, err := c.resolveLegacy(ctx, p, m, w)
	if err != nil {
		return p.fail(err)
	}
	if !w.known(p.id) {
		if err := c.resolveOwn(ctx, p, w, ownErr); err != nil {
			return p.fail(err)
		}
		if p.needRdir {
			return p
		}
	}
	if err := c.checkKept(ctx, p, w, ownErr); err != nil {
		return p.fail(err)
	}
	p.set = w.attrs()
	if m.OioVersion == "4.0" {
		p.set = append(p.set, chunk.Attr{Name: chunk.AttrOioVersion, Value: "4.2"})
	}
	for _, a := range p.attrs {
		if isLegacyOwnerAttr(a.Name) {
			p.remove = append(p.remove, a.Name)
		}
	}
	p.res.Outcome, p.res.Set, p.res.Remove = Converted, p.set, p.remove
	return p
}

// resolveLegacy resolves every owner description the legacy keys hold.
// It returns ownErr when the grid keys fail to establish this very chunk's
// owner in a way the reverse index may make up for, and err for a failure
// that leaves the chunk unconverted whatever else is found.
func (c *Converter) resolveLegacy(ctx context.Context, p *plan, m *chunk.Meta,
	w *wants) (ownErr, err error) {
	l := m.Legacy
	if l == nil {
		return errNoOwner, nil
	}
	if l.HasOwner() {
		target := strings.ToUpper(l.ChunkID)
		if target == "" {
			target = p.id
		}
		fp, err := c.resolveGrid(ctx, p, l, target)
		switch {
		case err == nil:
			if err := w.put(target, fp); err != nil {
				return nil, err
			}
		case target == p.id && errors.Is(err, ErrOrphan):
			ownErr = err
		default:
			return nil, err
		}
	}
	for name, v := range l.OldFullpaths {
		if err := c.resolveEntry(ctx, p, m.Position, name, v, w); err != nil {
			return nil, err
		}
	}
	for _, s := range l.NamedFullpaths {
		if err := c.resolveEntry(ctx, p, m.Position, chunk.AttrOldFullpathPfx+s, "", w); err != nil {
			return nil, err
		}
	}
	if ownErr == nil && !w.known(p.id) {
		ownErr = errNoOwner
	}
	return ownErr, nil
}

// checkKept makes sure of the fullpath keys the conversion keeps as they
// are, those no legacy key or reverse-index record confirmed: each must
// parse, name an object that lists its chunk id on this volume, and, for
// another id, lead to a file that is this inode. ownErr, if set, says why
// the legacy keys did not establish the chunk's own owner.
func (c *Converter) checkKept(ctx context.Context, p *plan, w *wants, ownErr error) error {
	if err := w.unresolved(); err != nil {
		return err
	}
	for _, id := range w.unconfirmed() {
		err := c.checkFullpath(ctx, id, w.have[id])
		if err == nil {
			err = c.sameInode(p, id)
		}
		if err != nil && id == p.id && ownErr != nil && ownErr != errNoOwner {
			err = errors.Join(err, ownErr)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkFullpath checks that fp, the fullpath a chunk has for id, names an
// object that lists id on this volume: by content id, or by path and
// version to tell a wrong content id from an orphan.
func (c *Converter) checkFullpath(ctx context.Context, id string, fp chunk.Fullpath) error {
	o, err := c.res.byID(ctx, fp.ContainerID(), fp.ContentID)
	if meta.Missing(err) {
		o, err = c.res.byName(ctx, names{account: fp.Account, container: fp.Container}, fp.Path,
			fp.Version)
	}
	switch {
	case meta.Missing(err):
		return orphanf("fullpath of chunk %s: %s: %v", id, fp, err)
	case err != nil:
		return err
	case !o.lists(id):
		return orphanf("fullpath of chunk %s: %s does not list it on %s", id, fp, c.vol.ServiceID)
	case o.fullpath != fp:
		return fmt.Errorf("fullpath of chunk %s is %s, the directory lists it in %s", id, fp,
			o.fullpath)
	}
	return nil
}

// resolveOwn finds the chunk's own owner in the reverse index, or asks for
// the scan that will, or gives up.
func (c *Converter) resolveOwn(ctx context.Context, p *plan, w *wants, ownErr error) error {
	switch {
	case p.recs != nil:
		fp, err := c.resolveRecords(ctx, p)
		if err != nil && !errors.Is(err, ErrOrphan) {
			return err // the directory did not answer: not an orphan
		}
		if err != nil {
			return errors.Join(ownErr, err)
		}
		p.res.Recovered = true
		return w.put(p.id, fp)
	case c.o.Rdir != nil:
		p.needRdir = true
		return nil
	default:
		return ownErr
	}
}

// resolveGrid finds the owner of chunk target from the grid.* keys: by
// content id, else by path and version. target is this chunk or, when
// grid.chunk.id names another id, the chunk this file is a link of.
func (c *Converter) resolveGrid(ctx context.Context, p *plan, l *chunk.Legacy,
	target string) (chunk.Fullpath, error) {
	cid := strings.ToUpper(l.Container)
	if !chunk.IsContainerID(cid) {
		return chunk.Fullpath{}, orphanf("grid.content.container %q is not a container id", l.Container)
	}
	var tried []string
	if chunk.IsHex(l.ContentID) {
		o, err := c.res.byID(ctx, cid, l.ContentID)
		if err != nil && !meta.Missing(err) {
			return chunk.Fullpath{}, err
		}
		if err == nil && o.lists(target) {
			return o.fullpath, c.sameInode(p, target)
		}
		tried = append(tried, "content "+strings.ToUpper(l.ContentID))
	}
	if l.Path != "" {
		n, err := c.res.containerNames(ctx, cid)
		if err != nil && !meta.Missing(err) {
			return chunk.Fullpath{}, err
		}
		var o *owner
		if err == nil {
			o, err = c.res.byName(ctx, n, l.Path, legacyVersion(l.Version))
		}
		if err != nil && !meta.Missing(err) {
			return chunk.Fullpath{}, err
		}
		if err == nil && o.lists(target) {
			return o.fullpath, c.sameInode(p, target)
		}
		tried = append(tried, fmt.Sprintf("path %q version %s", l.Path, l.Version))
	}
	if len(tried) == 0 {
		return chunk.Fullpath{}, orphanf("the grid.content keys name no content id nor path")
	}
	return chunk.Fullpath{}, orphanf("no object of container %s with %s lists chunk %s on %s", cid,
		strings.Join(tried, " or "), target, c.vol.ServiceID)
}

// resolveEntry resolves one "oio:" entry: an old fullpath in its value
// (or, for 2017-era names, in its name) naming an object that owns one of
// the names of this inode, at this chunk's position. The entry is removed
// once converted.
func (c *Converter) resolveEntry(ctx context.Context, p *plan, pos, name, value string,
	w *wants) error {
	o, id, err := c.entryLink(ctx, p, pos, name, value)
	if err != nil {
		return err
	}
	if err := w.put(id, o.fullpath); err != nil {
		return err
	}
	p.remove = append(p.remove, name)
	return nil
}

// entryLink finds the object an "oio:" entry names, and the id of its
// chunk at pos that is this inode.
func (c *Converter) entryLink(ctx context.Context, p *plan, pos, name, value string) (*owner,
	string, error) {
	if value == "" {
		return c.namedLink(ctx, p, pos, name)
	}
	o, desc, err := c.entryOwner(ctx, name, value)
	if err != nil {
		return nil, "", err
	}
	id, err := c.linkAt(p, o, pos, desc)
	return o, id, err
}

// namedLink resolves a 2017-era "oio:<old fullpath>" name. Its fields were
// written unescaped, so an account or container holding a "/" reads as
// another split of the name (see namedSplits); a name written with its
// fields escaped, as old fullpaths are elsewhere, is tried decoded last.
// Each split is tried in turn, and the first whose object has a chunk at
// pos that is this inode is taken. A split that leads to no object, or to
// one without such a chunk, is passed over; any other failure of the
// directory fails the chunk.
func (c *Converter) namedLink(ctx context.Context, p *plan, pos, name string) (*owner, string,
	error) {
	desc := strings.TrimPrefix(name, chunk.AttrOldFullpathPfx)
	splits := namedSplits(desc)
	if old, err := chunk.ParseOldFullpath(desc); err == nil && !slices.Contains(splits, old) {
		splits = append(splits, old)
	}
	if len(splits) == 0 {
		return nil, "", fmt.Errorf("%w: %s is not an old fullpath", chunk.ErrCorrupt, name)
	}
	var tried []string
	for _, s := range splits {
		o, id, err := c.splitLink(ctx, p, pos, s, desc)
		if !errors.Is(err, ErrOrphan) {
			return o, id, err // found, or the directory failed
		}
		if len(splits) == 1 {
			return nil, "", err
		}
		tried = append(tried, fmt.Sprintf("account %q container %q", s.Account, s.Container))
	}
	return nil, "", orphanf("%s: none of the %d splits tried leads to an object with a chunk at "+
		"position %s on %s that is this inode (%s)", desc, len(splits), pos, c.vol.ServiceID,
		strings.Join(tried, "; "))
}

// splitLink is entryLink for one split s of a 2017-era name.
func (c *Converter) splitLink(ctx context.Context, p *plan, pos string, s chunk.OldFullpath,
	desc string) (*owner, string, error) {
	o, _, err := c.ownerByName(ctx, names{account: s.Account, container: s.Container}, s.Path,
		s.Version, desc)
	if err != nil {
		return nil, "", err
	}
	id, err := c.linkAt(p, o, pos, desc)
	if err != nil {
		return nil, "", err
	}
	return o, id, nil
}

// entryOwner finds the object an "oio:" entry's value names.
func (c *Converter) entryOwner(ctx context.Context, name, value string) (*owner, string, error) {
	if old, err := chunk.ParseOldFullpath(value); err == nil {
		return c.ownerByName(ctx, names{account: old.Account, container: old.Container}, old.Path,
			old.Version, value)
	}
	fp, err := chunk.ParseFullpath(value)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s: %v", chunk.ErrCorrupt, name, err)
	}
	o, err := c.res.byID(ctx, fp.ContainerID(), fp.ContentID)
	if meta.Missing(err) {
		return c.ownerByName(ctx, names{account: fp.Account, container: fp.Container}, fp.Path,
			strconv.FormatInt(fp.Version, 10), value)
	}
	return o, value, err
}

func (c *Converter) ownerByName(ctx context.Context, n names, path, version,
	desc string) (*owner, string, error) {
	o, err := c.res.byName(ctx, n, path, legacyVersion(version))
	if meta.Missing(err) {
		return nil, desc, orphanf("%s: %v", desc, err)
	}
	return o, desc, err
}

// linkAt returns the id of the chunk of o at position pos on this volume
// whose file is this very inode.
func (c *Converter) linkAt(p *plan, o *owner, pos, desc string) (string, error) {
	if o.chunks[p.id] == pos {
		return p.id, nil
	}
	var found []string
	for id, cpos := range o.chunks {
		if cpos == pos && c.sameInode(p, id) == nil {
			found = append(found, id)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", orphanf("%s: no chunk of it at position %s on %s shares this inode", desc, pos,
			c.vol.ServiceID)
	default:
		return "", fmt.Errorf("%s: %d chunks at position %s share this inode", desc, len(found), pos)
	}
}

// resolveRecords finds the owner of this chunk from its reverse-index
// records, checking that the object lists the chunk on this volume.
func (c *Converter) resolveRecords(ctx context.Context, p *plan) (chunk.Fullpath, error) {
	if len(p.recs) == 0 {
		return chunk.Fullpath{}, orphanf("chunk %s is not in the reverse index of %s", p.id,
			c.vol.ServiceID)
	}
	var errs []error
	for _, r := range p.recs {
		o, err := c.res.byID(ctx, r.ContainerID, r.ContentID)
		if meta.Missing(err) {
			var n names
			if n, err = c.res.containerNames(ctx, r.ContainerID); err == nil {
				o, err = c.res.byName(ctx, n, r.Path, r.Version)
			}
		}
		switch {
		case err == nil && o.lists(p.id):
			return o.fullpath, nil
		case err == nil:
			errs = append(errs, orphanf("indexed in content %s, which does not list it", r.ContentID))
		case meta.Missing(err):
			errs = append(errs, orphanf("indexed in content %s: %v", r.ContentID, err))
		default:
			return chunk.Fullpath{}, err
		}
	}
	return chunk.Fullpath{}, errors.Join(errs...)
}

// sameInode checks that the file of chunk id is this plan's inode.
func (c *Converter) sameInode(p *plan, id string) error {
	if id == p.id {
		return nil
	}
	rel, err := siblingPath(p.rel, id)
	if err != nil {
		return orphanf("chunk %s: %v", id, err)
	}
	st, err := os.Lstat(filepath.Join(c.o.Volume, rel))
	if errors.Is(err, os.ErrNotExist) {
		return orphanf("chunk %s: no such chunk", id)
	}
	if err != nil {
		return fmt.Errorf("chunk %s: %w", id, err)
	}
	sys := st.Sys().(*syscall.Stat_t)
	if (inode{uint64(sys.Dev), sys.Ino}) != p.ino {
		return orphanf("chunk %s: not the same inode", id)
	}
	return nil
}

func (o *owner) lists(id string) bool {
	_, ok := o.chunks[id]
	return ok
}

// siblingPath places chunk id the way rel places its chunk: each directory
// level named by as many leading characters of the id as rel's has.
func siblingPath(rel, id string) (string, error) {
	dirs := strings.Split(filepath.ToSlash(filepath.Dir(rel)), "/")
	if len(dirs) == 1 && dirs[0] == "." {
		return id, nil
	}
	parts, off := make([]string, 0, len(dirs)+1), 0
	for _, d := range dirs {
		if off+len(d) > len(id) {
			return "", fmt.Errorf("id too short for the volume layout")
		}
		parts = append(parts, id[off:off+len(d)])
		off += len(d)
	}
	return filepath.Join(append(parts, id)...), nil
}

// legacyVersion reads a legacy version; anything but a positive integer
// (legacy writers sometimes stored "None") means the latest.
func legacyVersion(s string) int64 {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0
	}
	return v
}

// maxOwnerFields bounds the fields of a 2017-era name that its account and
// container may take together, hence the splits tried (at most 15). Each
// split may cost a directory question, and without a bound the number of
// splits of a name would grow with the square of the depth of its path:
// over a thousand for a path 50 directories deep.
const maxOwnerFields = 6

// namedSplits returns the ways to read a 2017-era "account/container/path/
// version" name, whose fields were not escaped: first the natural one,
// where the account and container hold no "/", then those where they hold
// more fields, up to maxOwnerFields together, fewest first and the
// account's fewest first among those. Every part of a split is non-empty;
// the path keeps every "/" between the container and the version.
func namedSplits(s string) []chunk.OldFullpath {
	parts := strings.Split(s, "/")
	last := len(parts) - 1
	var splits []chunk.OldFullpath
	for n := 2; n <= min(maxOwnerFields, last-1); n++ {
		for i := 1; i < n; i++ {
			sp := chunk.OldFullpath{Account: strings.Join(parts[:i], "/"),
				Container: strings.Join(parts[i:n], "/"), Path: strings.Join(parts[n:last], "/"),
				Version: parts[last]}
			if sp.Account != "" && sp.Container != "" && sp.Path != "" && sp.Version != "" {
				splits = append(splits, sp)
			}
		}
	}
	return splits
}

func isLegacyOwnerAttr(name string) bool {
	for _, a := range chunk.LegacyOwnerAttrs {
		if name == a {
			return true
		}
	}
	return false
}
