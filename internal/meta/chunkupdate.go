package meta

import (
	"fmt"
	"strings"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

// ChunkUpdate changes one chunk entry of an object version, the one whose
// content id is ContentID: Old is replaced by New. An empty Old (no URL)
// adds New as one more copy; an empty New removes Old. It is how a
// rebuilder records a copy it re-created and forgets a copy that was lost,
// without touching the rest of the object.
type ChunkUpdate struct {
	ContentID string
	Old       Chunk
	New       Chunk
}

// NormalizeChunkUpdate checks u before it is applied and normalizes its
// hexadecimal values to uppercase. It does not look at the object; see
// Store.UpdateChunk for the conditions checked there.
func NormalizeChunkUpdate(u *ChunkUpdate) error {
	u.ContentID = strings.ToUpper(u.ContentID)
	if !chunk.IsHex(u.ContentID) || len(u.ContentID) > chunk.MaxIDLen {
		return fmt.Errorf("%w: content id %q is not at most 64 hex digits", ErrInvalid,
			short(u.ContentID))
	}
	if u.Old.URL == "" && u.New.URL == "" {
		return fmt.Errorf("%w: chunk update names no chunk", ErrInvalid)
	}
	for _, c := range []*Chunk{&u.Old, &u.New} {
		if c.URL == "" {
			continue
		}
		if err := normalizeChunk(c); err != nil {
			return err
		}
	}
	if u.Old.URL == "" || u.New.URL == "" {
		return nil
	}
	switch {
	case u.Old.URL == u.New.URL:
		return fmt.Errorf("%w: chunk %s replaced by itself", ErrInvalid, u.Old.URL)
	case u.Old.Pos != u.New.Pos:
		return fmt.Errorf("%w: chunk at position %s replaced by one at %s", ErrInvalid,
			u.Old.Pos, u.New.Pos)
	}
	return sameContent(u.Old, u.New)
}

// sameContent reports an error unless two copies of a metachunk agree on
// their size and hash, as every copy must.
func sameContent(a, b Chunk) error {
	if a.Size != b.Size || a.Hash != b.Hash {
		return fmt.Errorf("%w: chunk %s (%d bytes, hash %s) is not a copy of %s "+
			"(%d bytes, hash %s)", ErrInvalid, b.URL, b.Size, b.Hash, a.URL, a.Size, a.Hash)
	}
	return nil
}

// ApplyChunkUpdate returns the chunks of an object version with u applied,
// URLs compared regardless of case (an entry written by hand may hold its
// chunk id in lowercase; an entry listed twice has its first one replaced),
// copies being the number of copies per metachunk its policy keeps. It
// fails with ErrChunkConflict, leaving chunks as they are, unless Old is
// one of chunks, New's URL is not, the position keeps between one and
// copies entries afterwards, and an added copy joins a position that has
// one already. Stores call it on the chunks they hold, in the
// transaction that writes the result.
func ApplyChunkUpdate(chunks []Chunk, u ChunkUpdate, copies int) ([]Chunk, error) {
	pos := u.New.Pos
	if u.Old.URL != "" {
		pos = u.Old.Pos
	}
	oldAt, atPos := -1, 0
	for i, c := range chunks {
		switch {
		case u.New.URL != "" && strings.EqualFold(c.URL, u.New.URL):
			return nil, fmt.Errorf("%w: chunk %s is already an entry", ErrChunkConflict, c.URL)
		case oldAt < 0 && u.Old.URL != "" && strings.EqualFold(c.URL, u.Old.URL) && c.Pos == u.Old.Pos:
			oldAt = i
		}
		if c.Pos == pos {
			atPos++
		}
	}
	out := make([]Chunk, 0, len(chunks)+1)
	switch {
	case u.Old.URL != "" && oldAt < 0:
		return nil, fmt.Errorf("%w: no chunk %s at position %s", ErrChunkConflict, u.Old.URL,
			u.Old.Pos)
	case u.Old.URL == "" && atPos == 0:
		// A new metachunk would leave a gap or make the sizes disagree
		// with the object's.
		return nil, fmt.Errorf("%w: no copy at position %s to add one to", ErrChunkConflict, pos)
	case u.Old.URL == "" && atPos >= copies:
		return nil, fmt.Errorf("%w: position %s already has %d copies", ErrChunkConflict, pos,
			atPos)
	case u.New.URL == "" && atPos <= 1:
		return nil, fmt.Errorf("%w: chunk %s is the last entry at position %s", ErrChunkConflict,
			u.Old.URL, pos)
	}
	for i, c := range chunks {
		if c.Pos == pos && u.New.URL != "" && (i == oldAt || u.Old.URL == "") {
			if err := sameContent(c, u.New); err != nil {
				return nil, err
			}
		}
		if i != oldAt {
			out = append(out, c)
		}
	}
	if u.New.URL != "" {
		out = append(out, u.New)
	}
	SortChunks(out)
	return out, nil
}

// MaxChunkOwners bounds the entries ChunkOwners returns.
const MaxChunkOwners = 1000

// ChunkOwner is an entry of a chunk in the directory: the object version
// (container and content id) that lists it.
type ChunkOwner struct {
	ContainerID string `json:"cid"`
	ContentID   string `json:"content"`
	Chunk       Chunk  `json:"chunk"`
}
