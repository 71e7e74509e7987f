package convert

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

// wants gathers the fullpath each chunk id of one inode must have: those
// already present (have) and those to write (add). Two different owners for
// one id make the chunk fail.
type wants struct {
	own  string
	have map[string]chunk.Fullpath
	add  map[string]chunk.Fullpath
}

// keep records the fullpaths the chunk already has, its own and its links'.
// A fullpath key whose value does not parse is treated as absent, so the
// conversion writes a good one over it.
func (w *wants) keep(m *chunk.Meta) {
	if m.FullpathRaw != "" {
		if fp, err := chunk.ParseFullpath(m.FullpathRaw); err == nil {
			w.have[w.own] = fp
		}
	}
	for id, raw := range m.Links {
		if fp, err := chunk.ParseFullpath(raw); err == nil {
			w.have[id] = fp
		}
	}
}

func (w *wants) known(id string) bool {
	_, have := w.have[id]
	_, add := w.add[id]
	return have || add
}

// put records that chunk id belongs to fp.
func (w *wants) put(id string, fp chunk.Fullpath) error {
	fp.ContentID = strings.ToUpper(fp.ContentID)
	if err := fp.Validate(); err != nil {
		return fmt.Errorf("owner of chunk %s: %w", id, err)
	}
	if fp.Version <= 0 {
		return fmt.Errorf("owner of chunk %s: version %d is not positive", id, fp.Version)
	}
	for _, m := range []map[string]chunk.Fullpath{w.have, w.add} {
		if old, ok := m[id]; ok {
			if old != fp {
				return fmt.Errorf("chunk %s is described as part of both %s and %s", id, old, fp)
			}
			return nil
		}
	}
	w.add[id] = fp
	return nil
}

// attrs returns the fullpath keys to write, in id order.
func (w *wants) attrs() []chunk.Attr {
	ids := make([]string, 0, len(w.add))
	for id := range w.add {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]chunk.Attr, len(ids))
	for i, id := range ids {
		out[i] = chunk.Attr{Name: chunk.AttrFullpathPrefix + id, Value: w.add[id].String()}
	}
	return out
}

// listNames returns the names of the "user." attributes of the chunk file
// open as fd, named path in errors.
func listNames(fd int, path string) ([]string, error) {
	buf := make([]byte, 1024)
	for {
		n, err := unix.Flistxattr(fd, buf)
		if errors.Is(err, unix.ERANGE) {
			if n, err = unix.Flistxattr(fd, nil); err != nil {
				return nil, fmt.Errorf("list xattrs of %s: %w", path, err)
			}
			buf = make([]byte, n+256)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list xattrs of %s: %w", path, err)
		}
		var names []string
		for _, b := range bytes.Split(buf[:n], []byte{0}) {
			if bytes.HasPrefix(b, []byte(chunk.XattrPrefix)) {
				names = append(names, string(b))
			}
		}
		return names, nil
	}
}

// isCurrent tells from attribute names alone (and the version marker, if
// any) whether a chunk is in the current format: it has its own fullpath
// key, no legacy owner key, no "oio:" entry, and no "4.0" marker.
func isCurrent(fd int, path, id string, names []string) (bool, error) {
	own, marker := false, false
	for _, n := range names {
		switch {
		case n == chunk.AttrFullpathPrefix+id:
			own = true
		case n == chunk.AttrOioVersion:
			marker = true
		case isLegacyOwnerAttr(n), strings.HasPrefix(n, chunk.AttrOldFullpathPfx):
			return false, nil
		}
	}
	if !own || !marker {
		return own, nil
	}
	buf := make([]byte, 16)
	n, err := unix.Fgetxattr(fd, chunk.AttrOioVersion, buf)
	if errors.Is(err, unix.ENODATA) {
		return true, nil
	}
	if err != nil && !errors.Is(err, unix.ERANGE) {
		return false, fmt.Errorf("get xattr %s of %s: %w", chunk.AttrOioVersion, path, err)
	}
	return err != nil || string(buf[:n]) != "4.0", nil
}

// readValues reads the attributes named of the chunk file open as fd.
func readValues(fd int, path string, names []string) ([]chunk.Attr, error) {
	attrs := make([]chunk.Attr, 0, len(names))
	buf := make([]byte, 1024)
	for _, name := range names {
		n, err := unix.Fgetxattr(fd, name, buf)
		if errors.Is(err, unix.ERANGE) {
			if n, err = unix.Fgetxattr(fd, name, nil); err == nil {
				buf = make([]byte, n+256)
				n, err = unix.Fgetxattr(fd, name, buf)
			}
		}
		if errors.Is(err, unix.ENODATA) {
			continue // removed since the listing
		}
		if err != nil {
			return nil, fmt.Errorf("get xattr %s of %s: %w", name, path, err)
		}
		attrs = append(attrs, chunk.Attr{Name: name, Value: string(buf[:n])})
	}
	return attrs, nil
}
