package convert

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

// wants gathers the fullpath each chunk id of one inode must have: those
// already present (have) and those to write (add). Two different owners for
// one id make the chunk fail.
type wants struct {
	own  string
	have map[string]chunk.Fullpath
	add  map[string]chunk.Fullpath
	// confirmed are the ids of have whose fullpath a resolved description
	// (a legacy key, the reverse index) gave too.
	confirmed map[string]bool
	// unparsed are the ids whose fullpath key does not parse, with why.
	unparsed map[string]error
}

func newWants(own string) *wants {
	return &wants{own: own, have: map[string]chunk.Fullpath{}, add: map[string]chunk.Fullpath{},
		confirmed: map[string]bool{}, unparsed: map[string]error{}}
}

// keep records the fullpaths the chunk already has, its own and its links'.
// A fullpath key whose value does not parse is treated as absent, so the
// conversion writes a good one over it; it must (see unresolved).
func (w *wants) keep(m *chunk.Meta) {
	if m.FullpathRaw != "" {
		w.keepRaw(w.own, m.FullpathRaw)
	}
	for id, raw := range m.Links {
		w.keepRaw(id, raw)
	}
}

func (w *wants) keepRaw(id, raw string) {
	fp, err := chunk.ParseFullpath(raw)
	if err != nil {
		w.unparsed[id] = err
		return
	}
	w.have[id] = fp
}

// unconfirmed returns, in id order, the ids whose fullpath the chunk has
// and no resolved description gave: the conversion keeps them, so the
// directory must be asked about them.
func (w *wants) unconfirmed() []string {
	var ids []string
	for id := range w.have {
		if !w.confirmed[id] {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// unresolved returns an error naming a fullpath key that does not parse
// and that no resolved description replaces, or nil.
func (w *wants) unresolved() error {
	ids := make([]string, 0, len(w.unparsed))
	for id := range w.unparsed {
		if _, ok := w.add[id]; !ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	sort.Strings(ids)
	return fmt.Errorf("%w: fullpath of chunk %s, which no other attribute describes: %w",
		chunk.ErrCorrupt, ids[0], w.unparsed[ids[0]])
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
			w.confirmed[id] = true
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

// isCurrent tells whether a chunk is in the current format: it has its
// own fullpath key, no legacy owner key, no "oio:" entry, and no "4.0"
// marker. Its attribute names tell all but the marker. Of a chunk they call
// current, it also reads the marker and the attributes a chunk in the
// current format must have that parse (its fullpath keys, position, chunk
// method and storage policy), and fails with an error wrapping
// chunk.ErrCorrupt if one is missing or does not parse.
func isCurrent(a *chunk.FdAttrs, fd int, path, id string, names []string) (bool, error) {
	own := false
	for _, n := range names {
		switch {
		case strings.HasPrefix(n, chunk.AttrFullpathPrefix) && n[len(chunk.AttrFullpathPrefix):] == id:
			own = true
		case isLegacyOwnerAttr(n), strings.HasPrefix(n, chunk.AttrOldFullpathPfx):
			return false, nil
		}
	}
	if !own {
		return false, nil
	}
	attrs, err := a.Values(fd, currentNames(names))
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	m, err := chunk.Parse(id, attrs)
	switch {
	case m == nil:
		return false, err
	case m.OioVersion == "4.0":
		return false, nil
	case err == nil:
		err = checkLinks(m)
	}
	return true, err
}

// currentNames returns those of names that isCurrent reads.
func currentNames(names []string) []string {
	out := make([]string, 0, 6)
	for _, n := range names {
		switch {
		case strings.HasPrefix(n, chunk.AttrFullpathPrefix), n == chunk.AttrPosition,
			n == chunk.AttrChunkMethod, n == chunk.AttrStoragePolicy, n == chunk.AttrOioVersion:
			out = append(out, n)
		}
	}
	return out
}

// checkLinks fails with an error wrapping chunk.ErrCorrupt if the fullpath
// of a link of m does not parse.
func checkLinks(m *chunk.Meta) error {
	for _, id := range slices.Sorted(maps.Keys(m.Links)) {
		if _, err := chunk.ParseFullpath(m.Links[id]); err != nil {
			return fmt.Errorf("chunk %s: %w: fullpath of chunk %s: %w", m.ChunkID, chunk.ErrCorrupt, id,
				err)
		}
	}
	return nil
}
