package rdir

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

// Field limits. OpenIO truncates longer values silently; gridkeep rejects
// them.
const (
	ContainerIDLen = 64   // hexadecimal digits of a container id
	MaxPathLen     = 1087 // bytes of an object path
	MaxVolumeLen   = 255  // bytes of a volume id
	MaxMarkerLen   = 512  // bytes of a listing marker
)

// Record is the index entry of one chunk on a volume.
type Record struct {
	ContainerID string // 64 hexadecimal digits
	ChunkID     string // 24 to 64 hexadecimal digits
	ContentID   string // hexadecimal, at most 64 digits
	Path        string // object path
	Version     int64  // object version, microseconds
	Mtime       int64  // when the chunk was indexed, seconds; 0 if unknown
}

// Key returns the record's listing key, "<CONTAINERID>|<CHUNKID>".
func (r Record) Key() string { return r.ContainerID + "|" + r.ChunkID }

// Normalize validates r and returns it with its ids in uppercase. Its
// errors wrap ErrInvalid.
func (r Record) Normalize() (Record, error) {
	ref, err := ChunkRef{ContainerID: r.ContainerID, ChunkID: r.ChunkID}.Normalize()
	if err != nil {
		return Record{}, err
	}
	r.ContainerID, r.ChunkID = ref.ContainerID, ref.ChunkID
	switch {
	case !chunk.IsHex(r.ContentID) || len(r.ContentID) > chunk.MaxIDLen:
		return Record{}, invalidf("content id %q is not 1 to 64 hexadecimal digits", clip(r.ContentID))
	case r.Path == "" || len(r.Path) > MaxPathLen || !utf8.ValidString(r.Path):
		return Record{}, invalidf("path must be 1 to %d bytes of UTF-8", MaxPathLen)
	case r.Mtime < 0:
		return Record{}, invalidf("negative mtime %d", r.Mtime)
	}
	r.ContentID = strings.ToUpper(r.ContentID)
	return r, nil
}

// ChunkRef names the record of a chunk on a volume.
type ChunkRef struct {
	ContainerID string
	ChunkID     string
}

// Key returns the listing key of the record, "<CONTAINERID>|<CHUNKID>".
func (c ChunkRef) Key() string { return c.ContainerID + "|" + c.ChunkID }

// Normalize validates c and returns it with its ids in uppercase. Its
// errors wrap ErrInvalid.
func (c ChunkRef) Normalize() (ChunkRef, error) {
	if len(c.ContainerID) != ContainerIDLen || !chunk.IsHex(c.ContainerID) {
		return ChunkRef{}, invalidf("container id %q is not 64 hexadecimal digits", clip(c.ContainerID))
	}
	id, err := chunk.NormalizeID(c.ChunkID)
	if err != nil {
		return ChunkRef{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return ChunkRef{ContainerID: strings.ToUpper(c.ContainerID), ChunkID: id}, nil
}

// After reports whether key a comes after key b in the order of a
// listing: key order, or with byChunk chunk id order, then key order.
func After(a, b string, byChunk bool) bool {
	if byChunk {
		_, ia, _ := strings.Cut(a, "|")
		_, ib, _ := strings.Cut(b, "|")
		if ia != ib {
			return ia > ib
		}
	}
	return a > b
}

// ParseKey splits a listing key into the chunk reference it names.
func ParseKey(key string) (ChunkRef, error) {
	cid, id, ok := strings.Cut(key, "|")
	if !ok {
		return ChunkRef{}, invalidf("key %q has no separator", clip(key))
	}
	return ChunkRef{ContainerID: cid, ChunkID: id}.Normalize()
}

// Normalize validates opts and returns them with the limit within bounds
// and the marker and prefix in uppercase. Its errors wrap ErrInvalid.
func (o ListOptions) Normalize() (ListOptions, error) {
	if o.Limit <= 0 {
		o.Limit = DefaultLimit
	}
	o.Limit = min(o.Limit, MaxLimit)
	if len(o.Marker) > MaxMarkerLen {
		return ListOptions{}, invalidf("marker longer than %d bytes", MaxMarkerLen)
	}
	if !validPrefix(o.Prefix) {
		return ListOptions{}, invalidf("prefix %q is not the start of a key", clip(o.Prefix))
	}
	if o.ChunkID != "" {
		id, err := chunk.NormalizeID(o.ChunkID)
		if err != nil {
			return ListOptions{}, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		o.ChunkID = id
	}
	if o.ContentID != "" && (!chunk.IsHex(o.ContentID) || len(o.ContentID) > chunk.MaxIDLen) {
		return ListOptions{}, invalidf("content id %q is not 1 to 64 hexadecimal digits", clip(o.ContentID))
	}
	o.Marker = strings.ToUpper(o.Marker)
	o.Prefix = strings.ToUpper(o.Prefix)
	o.ContentID = strings.ToUpper(o.ContentID)
	if o.ByChunk && o.Marker != "" {
		if _, err := ParseKey(o.Marker); err != nil {
			return ListOptions{}, invalidf("marker %q of a listing by chunk id is not a key",
				clip(o.Marker))
		}
	}
	return o, nil
}

// validPrefix reports whether p can start a key: up to 64 hexadecimal
// digits, or a whole container id, "|" and up to 64 more.
func validPrefix(p string) bool {
	cid, id, sep := strings.Cut(p, "|")
	hexOrEmpty := func(s string) bool { return s == "" || chunk.IsHex(s) }
	if !sep {
		return len(cid) <= ContainerIDLen && hexOrEmpty(cid)
	}
	return len(cid) == ContainerIDLen && chunk.IsHex(cid) &&
		len(id) <= chunk.MaxIDLen && hexOrEmpty(id)
}

// ValidateVolume checks that vol can name a volume: 1 to 255 bytes of
// UTF-8 without control characters. Its errors wrap ErrInvalid.
func ValidateVolume(vol string) error {
	if vol == "" || len(vol) > MaxVolumeLen || !utf8.ValidString(vol) ||
		strings.ContainsFunc(vol, unicode.IsControl) {
		return invalidf("volume id %q is not 1 to %d printable bytes", clip(vol), MaxVolumeLen)
	}
	return nil
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// clip shortens s for an error message.
func clip(s string) string {
	const n = 80
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
