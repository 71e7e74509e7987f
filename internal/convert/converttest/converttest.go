// Package converttest makes legacy chunks for tests of the converter: it
// rewrites the extended attributes of real chunk files the way the chunk
// servers of each OpenIO era wrote them, makes hard links as their shallow
// copies did, writes chunk files from scratch, and snapshots volumes to
// compare them before and after a conversion.
package converttest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

// Owner is the object version a chunk belongs to.
type Owner struct {
	Account   string
	Container string
	Path      string
	Version   int64
	ContentID string
}

// OwnerOf returns the owner a fullpath names.
func OwnerOf(fp chunk.Fullpath) Owner {
	return Owner{fp.Account, fp.Container, fp.Path, fp.Version, fp.ContentID}
}

// Fullpath returns the owner's current-format fullpath.
func (o Owner) Fullpath() chunk.Fullpath {
	return chunk.Fullpath{Account: o.Account, Container: o.Container, Path: o.Path,
		Version: o.Version, ContentID: strings.ToUpper(o.ContentID)}
}

// Old returns the owner's four-field old fullpath.
func (o Owner) Old() chunk.OldFullpath {
	return chunk.OldFullpath{Account: o.Account, Container: o.Container, Path: o.Path,
		Version: strconv.FormatInt(o.Version, 10)}
}

// Era is a generation of chunk metadata (see package chunk).
type Era int

// Legacy eras, oldest first.
const (
	// EraGrid: grid.chunk.id and grid.content.{container,path,version,id},
	// no version marker (before 2017-06).
	EraGrid Era = iota + 1
	// EraNamed: EraGrid plus an "oio:<account>/<container>/<path>/<version>"
	// name with an empty value, marker "4.0" (2017-06 to 2017-11).
	EraNamed
	// EraHashed: EraGrid plus "oio:<SHA256>" whose value is the old
	// fullpath, marker "4.0" (2017-11 to 2018-06).
	EraHashed
	// EraHashedOnly: the "oio:<SHA256>" entry and marker without the grid
	// keys.
	EraHashedOnly
)

// Eras lists every legacy era.
var Eras = []Era{EraGrid, EraNamed, EraHashed, EraHashedOnly}

var eraNames = map[Era]string{EraGrid: "grid", EraNamed: "named-oio", EraHashed: "hashed-oio",
	EraHashedOnly: "hashed-oio-only"}

// String names the era.
func (e Era) String() string { return eraNames[e] }

// Legacy is a set of legacy owner keys to write on a chunk.
type Legacy struct {
	// ChunkID is grid.chunk.id as the writer stored it (legacy writers did
	// not uppercase it); "" writes no grid keys at all.
	ChunkID string
	// Grid is the owner the grid.content.* keys describe.
	Grid Owner
	// Omit lists grid keys to leave out, for broken chunks.
	Omit []string
	// Entries are "oio:<SHA256>" entries to add.
	Entries []chunk.OldFullpath
	// RawEntries are "oio:<SHA256>" entries whose value is given as is,
	// named by the hash of that value.
	RawEntries []string
	// Named are 2017-era "oio:<old fullpath>" names to add.
	Named []Owner
	// RawNamed are 2017-era names given as is, after "oio:".
	RawNamed []string
	// Marker is grid.oio.version; "" writes none.
	Marker string
}

// ForEra returns the legacy keys an era's chunk server wrote for chunk id
// of owner.
func ForEra(era Era, id string, owner Owner) Legacy {
	l := Legacy{ChunkID: id, Grid: owner}
	switch era {
	case EraNamed:
		l.Named, l.Marker = []Owner{owner}, "4.0"
	case EraHashed:
		l.Entries, l.Marker = []chunk.OldFullpath{owner.Old()}, "4.0"
	case EraHashedOnly:
		l.ChunkID, l.Entries, l.Marker = "", []chunk.OldFullpath{owner.Old()}, "4.0"
	}
	return l
}

// Attrs returns the attributes l stands for, with their "user." prefix.
func (l Legacy) Attrs() []chunk.Attr {
	var attrs []chunk.Attr
	if l.ChunkID != "" {
		grid := []chunk.Attr{
			{Name: chunk.AttrLegacyChunkID, Value: l.ChunkID},
			{Name: chunk.AttrLegacyContainer, Value: chunk.ContainerID(l.Grid.Account, l.Grid.Container)},
			{Name: chunk.AttrLegacyPath, Value: l.Grid.Path},
			{Name: chunk.AttrLegacyVersion, Value: strconv.FormatInt(l.Grid.Version, 10)},
			{Name: chunk.AttrLegacyContentID, Value: strings.ToUpper(l.Grid.ContentID)},
		}
		for _, a := range grid {
			if !contains(l.Omit, a.Name) {
				attrs = append(attrs, a)
			}
		}
	}
	for _, old := range l.Entries {
		attrs = append(attrs, chunk.Attr{Name: chunk.AttrOldFullpathPfx + old.KeyHash(), Value: old.String()})
	}
	for _, v := range l.RawEntries {
		attrs = append(attrs, chunk.Attr{Name: chunk.AttrOldFullpathPfx + hashOf(v), Value: v})
	}
	var named []string
	for _, o := range l.Named {
		named = append(named, fmt.Sprintf("%s/%s/%s/%d", o.Account, o.Container, o.Path, o.Version))
	}
	for _, desc := range append(named, l.RawNamed...) {
		attrs = append(attrs, chunk.Attr{Name: chunk.AttrOldFullpathPfx + desc, Value: ""})
	}
	if l.Marker != "" {
		attrs = append(attrs, chunk.Attr{Name: chunk.AttrOioVersion, Value: l.Marker})
	}
	return attrs
}

// hashOf returns the uppercase hex SHA-256 of v.
func hashOf(v string) string {
	sum := sha256.Sum256([]byte(v))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// Apply writes l on the chunk file at path and removes the fullpath keys
// of the ids in drop, as the test fixtures of OpenIO's converter did.
func Apply(path string, l Legacy, drop ...string) error {
	if err := chunk.SetAttrs(path, l.Attrs()); err != nil {
		return err
	}
	for _, id := range drop {
		if err := chunk.RemoveAttr(path, chunk.AttrFullpathPrefix+id); err != nil {
			return err
		}
	}
	return nil
}

// ToEra turns the current-format chunk at path (named id, owned by owner)
// into a chunk of era: its fullpath key goes, the era's keys come.
func ToEra(path, id string, era Era, owner Owner) error {
	return Apply(path, ForEra(era, id, owner), id)
}

// RemoveAll removes every "user." attribute of the file at path.
func RemoveAll(path string) error {
	attrs, err := chunk.ReadAttrs(path)
	if err != nil {
		return err
	}
	for _, a := range attrs {
		if err := unix.Lremovexattr(path, a.Name); err != nil {
			return fmt.Errorf("remove %s from %s: %w", a.Name, path, err)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
