package chunk

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Format names the era of a chunk's metadata (see the package doc).
type Format string

// Formats a chunk's metadata can be in.
const (
	FormatCurrent     Format = "current"
	FormatLegacy      Format = "legacy"            // grid.* owner keys only
	FormatLegacyNamed Format = "legacy-named-oio"  // + oio:<old fullpath> names
	FormatLegacyHash  Format = "legacy-hashed-oio" // + oio:<SHA256> entries
	FormatMixed       Format = "mixed"             // fullpath and legacy keys
	FormatUnknown     Format = "unknown"           // no owner at all
)

// FormatOf classifies metadata by era.
func FormatOf(m *Meta) Format {
	legacy := m.Legacy != nil && (m.Legacy.HasOwner() || len(m.Legacy.OldFullpaths) > 0 ||
		len(m.Legacy.NamedFullpaths) > 0)
	switch {
	case m.FullpathRaw != "" && legacy:
		return FormatMixed
	case m.FullpathRaw != "":
		return FormatCurrent
	case !legacy:
		return FormatUnknown
	case len(m.Legacy.OldFullpaths) > 0:
		return FormatLegacyHash
	case len(m.Legacy.NamedFullpaths) > 0:
		return FormatLegacyNamed
	default:
		return FormatLegacy
	}
}

// Inspection is what Inspect found about one chunk file.
type Inspection struct {
	Path     string
	Format   Format
	Meta     *Meta // nil when the attributes could not be read
	FileSize int64
	Problems []string // empty when the chunk is consistent
}

// Inspect reads the chunk file at path and lists what is missing or
// inconsistent in its metadata: unparsable or missing attributes, a size
// that differs from the file, legacy owner keys that disagree with each
// other, and with checkHash a hash that does not match the data or that
// could not be checked (no hash attribute, unreadable data). A file named
// by a chunk id not in uppercase is a problem too: a chunk server looks
// for the uppercase name only.
func Inspect(path string, checkHash bool) Inspection {
	in := Inspection{Path: path, Format: FormatUnknown}
	st, err := os.Lstat(path)
	if err != nil {
		in.Problems = append(in.Problems, err.Error())
		return in
	}
	in.FileSize = st.Size()
	if !st.Mode().IsRegular() {
		in.Problems = append(in.Problems, "not a regular file")
		return in
	}
	if name := filepath.Base(path); IsAnyCaseID(name) && !IsID(name) {
		in.Problems = append(in.Problems, "not named in uppercase: a chunk server names chunks in "+
			"uppercase and looks for this one as "+strings.ToUpper(name))
	}
	attrs, m, err := readFile(path)
	in.Meta = m
	if m == nil {
		in.Problems = append(in.Problems, err.Error())
		return in
	}
	in.Format = FormatOf(m)
	if err != nil {
		in.Problems = append(in.Problems, corruptReasons(err)...)
	}
	in.Problems = append(in.Problems, m.consistency(attrs, st.Size())...)
	if checkHash {
		if p := verifyHash(path, m); p != "" {
			in.Problems = append(in.Problems, p)
		}
	}
	return in
}

// corruptReasons splits a Parse error into its individual reasons.
func corruptReasons(err error) []string {
	msg := err.Error()
	if i := strings.Index(msg, ErrCorrupt.Error()+": "); i >= 0 {
		msg = msg[i+len(ErrCorrupt.Error())+2:]
	}
	return strings.Split(msg, "\n")
}

// consistency lists disagreements between attributes, and with the file.
// An attribute in attrs whose value does not parse is reported by Parse,
// not again here as missing.
func (m *Meta) consistency(attrs []Attr, fileSize int64) []string {
	var p []string
	if !hasAttr(attrs, AttrSize) {
		p = append(p, "missing size attribute ("+AttrSize+")")
	}
	switch {
	case m.Hash == "":
		p = append(p, "missing hash attribute ("+AttrHash+")")
	case isHash(m.Hash) && !digestLength(m.Hash):
		p = append(p, fmt.Sprintf("hash %s has %d hexadecimal digits: an MD5 has %d, a BLAKE3 %d", m.Hash,
			len(m.Hash), 2*md5.Size, 2*blake3Size))
	}
	switch {
	case m.HasSize && m.Size < fileSize:
		p = append(p, fmt.Sprintf("size attribute %d differs from the file size %d: %s after the data, "+
			"or a wrong attribute", m.Size, fileSize, countBytes(fileSize-m.Size)))
	case m.HasSize && m.Size > fileSize:
		p = append(p, fmt.Sprintf("size attribute %d differs from the file size %d: a truncated file, "+
			"or a wrong attribute", m.Size, fileSize))
	}
	if method, err := ParseMethod(m.ChunkMethod); err == nil {
		if method.IsEC() && (!hasAttr(attrs, AttrMetachunkSize) || m.MetachunkHash == "") {
			p = append(p, "erasure-coded chunk without metachunk size or hash")
		}
		if cca, ok := method.Get("cca"); ok && isHash(m.Hash) && digestLength(m.Hash) &&
			(strings.EqualFold(cca, AlgoMD5) != (AlgoForHash(m.Hash) == AlgoMD5)) {
			p = append(p, fmt.Sprintf("hash length %d does not fit checksum algorithm %s",
				len(m.Hash), cca))
		}
	}
	return append(p, m.legacyConsistency()...)
}

// countBytes says n bytes, in the singular for one.
func countBytes(n int64) string {
	if n == 1 {
		return "1 byte"
	}
	return fmt.Sprintf("%d bytes", n)
}

// digestLength reports whether the hexadecimal digest h has the length of
// an MD5 or a BLAKE3 digest, the two checksums of chunks.
func digestLength(h string) bool { return len(h) == 2*md5.Size || len(h) == 2*blake3Size }

// hasAttr reports whether attrs hold an attribute called name.
func hasAttr(attrs []Attr, name string) bool {
	for _, a := range attrs {
		if a.Name == name {
			return true
		}
	}
	return false
}

func (m *Meta) legacyConsistency() []string {
	l := m.Legacy
	if l == nil {
		return nil
	}
	var p []string
	// The C writer kept grid.chunk.id as it came, often in lowercase.
	if l.ChunkID != "" && !strings.EqualFold(l.ChunkID, m.ChunkID) {
		p = append(p, fmt.Sprintf("grid.chunk.id %s differs from the file name (hard link of another chunk?)",
			l.ChunkID))
	}
	if v, err := strconv.ParseInt(l.Version, 10, 64); l.Version != "" && (err != nil || v <= 0) {
		p = append(p, fmt.Sprintf("grid.content.version %q is not a positive number", l.Version))
	}
	for name, v := range l.OldFullpaths {
		old, err := ParseOldFullpath(v)
		if err != nil {
			if _, err2 := ParseFullpath(v); err2 != nil {
				p = append(p, fmt.Sprintf("%s: %v", name, err))
			}
			continue
		}
		if XattrPrefix+"oio:"+old.KeyHash() != name {
			p = append(p, fmt.Sprintf("%s: name is not the hash of its old fullpath", name))
		}
	}
	if m.FullpathRaw != "" && l.Container != "" && !strings.EqualFold(l.Container, m.Fullpath.ContainerID()) {
		p = append(p, "grid.content.container differs from the fullpath's container")
	}
	return p
}

// verifyHash re-hashes the data of the chunk at path and returns what is
// wrong, or "" when the data matches the hash attribute. The data is the
// whole file, or, in a file longer than its size attribute, the bytes the
// attribute counts: trailing bytes after intact data are reported by the
// size check, not as corrupt data.
func verifyHash(path string, m *Meta) string {
	if !isHash(m.Hash) || !digestLength(m.Hash) {
		return "" // reported missing, not hexadecimal or of no digest's length
	}
	f, err := os.Open(path)
	if err != nil {
		return "hash not checked: " + err.Error()
	}
	defer f.Close()
	algo := AlgoForHash(m.Hash)
	h := NewHash(algo)
	sum := func() string { return strings.ToUpper(hex.EncodeToString(h.Sum(nil))) }
	atSize := ""
	if m.HasSize {
		n, err := io.CopyN(h, f, m.Size)
		if err != nil && !errors.Is(err, io.EOF) {
			return "hash not checked: read data: " + err.Error()
		}
		if n == m.Size {
			atSize = sum()
		}
	}
	if _, err := io.Copy(h, f); err != nil {
		return "hash not checked: read data: " + err.Error()
	}
	if got := sum(); got != m.Hash && atSize != m.Hash {
		return fmt.Sprintf("data hashes to %s with %s, attribute says %s", got, algo, m.Hash)
	}
	return ""
}

// WalkChunks calls fn with the path of every chunk file (a regular file
// named by a chunk id) under root, skipping .pending and other files.
func WalkChunks(root string, fn func(path string) error) error {
	return walk(root, func(path string, d os.DirEntry) error {
		if d.Type().IsRegular() && IsID(d.Name()) {
			return fn(path)
		}
		return nil
	})
}

// WalkIDs calls fn with the path of every entry under root that is named
// by a chunk id, in either case, and is not a directory: the chunk files,
// and whatever else sits under a chunk's name (a symbolic link is not
// followed).
//
// It calls stray with every directory of a volume under root, root
// included, that cannot be a chunk directory of layout l, and why: a name
// that is not the hash width's count of uppercase hexadecimal digits, or a
// place below the last level of chunk directories. The walk goes on inside
// it, without checking the directories there. A volume is a directory that
// declares a volume identity (see ReadVolume); directories in no volume
// are not checked, nor the other directories a volume's root may hold
// (non_optimal_placement, orphans and lost+found) and what they hold.
//
// fn gets, besides the path of an entry named by a chunk id, why it is
// misplaced, or "": in a volume, a chunk file must be in its id's
// directory (see Layout.Dir), which is the only place a chunk server
// looks for it; one in or below a directory that cannot be a chunk
// directory is misplaced too.
func WalkIDs(root string, l Layout, fn func(path, misplaced string) error,
	stray func(dir, why string) error) error {
	root = filepath.Clean(root) // as the paths of the entries under it are
	places := map[string]place{}
	return walk(root, func(path string, d os.DirEntry) error {
		if !d.IsDir() {
			if IsAnyCaseID(d.Name()) {
				return fn(path, l.misplaced(path, places[filepath.Dir(path)]))
			}
			return nil
		}
		var at place
		var why string
		if path == root {
			at, why = l.rootPlace(root)
		} else {
			at, why = l.dirPlace(path, places[filepath.Dir(path)])
		}
		places[path] = at
		if why != "" {
			return stray(path, why)
		}
		return nil
	})
}

// Misplaced says why the chunk file at path is not where a chunk server of
// layout l looks for it, as WalkIDs does for the files it finds, or ""
// when it is there, is in no volume or is not named by a chunk id.
func (l Layout) Misplaced(path string) string {
	if !IsAnyCaseID(filepath.Base(path)) {
		return ""
	}
	dir, _ := l.rootPlace(filepath.Dir(path))
	return l.misplaced(path, dir)
}

// misplaced says why the chunk file at path, whose directory is at dir in
// a volume, is not where a chunk server of layout l looks for it, or ""
// when it is, or when its directory is not checked.
func (l Layout) misplaced(path string, dir place) string {
	l = l.normalized()
	want := l.Dir(strings.ToUpper(filepath.Base(path)))
	switch {
	case dir.level < 0:
		return ""
	case dir.level < l.Depth && !dir.stray:
		return "misplaced: above the chunk directories; its directory is " + want
	}
	var names []string
	for p, i := filepath.Dir(path), 0; i < dir.level; p, i = filepath.Dir(p), i+1 {
		names = append([]string{filepath.Base(p)}, names...)
	}
	switch got := filepath.Join(names...); {
	case got == want:
		return ""
	case want == "":
		return fmt.Sprintf("misplaced: in %s, not at the root of the volume (hash depth 0)", got)
	default:
		return fmt.Sprintf("misplaced: in %s, not in its directory %s", got, want)
	}
}

// walk calls fn with every entry under root, root included, in lexical
// order; entries removed while walking are passed over.
func walk(root string, fn func(path string, d os.DirEntry) error) error {
	return filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && path != root {
				return nil // removed while walking
			}
			return err
		}
		return fn(path, d)
	})
}
