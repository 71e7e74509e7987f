package chunk

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Extended attribute names, with the "user." prefix they have on disk.
const (
	XattrPrefix         = "user."
	AttrFullpathPrefix  = "user.oio.content.fullpath:"
	AttrPosition        = "user.grid.chunk.position"
	AttrSize            = "user.grid.chunk.size"
	AttrHash            = "user.grid.chunk.hash"
	AttrChunkMethod     = "user.grid.content.chunk_method"
	AttrStoragePolicy   = "user.grid.content.storage_policy"
	AttrMetachunkSize   = "user.grid.metachunk.size"
	AttrMetachunkHash   = "user.grid.metachunk.hash"
	AttrCompression     = "user.grid.compression"
	AttrExtPrefix       = "user.oio.ext."
	AttrOioVersion      = "user.grid.oio.version"
	AttrLegacyChunkID   = "user.grid.chunk.id"
	AttrLegacyContainer = "user.grid.content.container"
	AttrLegacyPath      = "user.grid.content.path"
	AttrLegacyVersion   = "user.grid.content.version"
	AttrLegacyContentID = "user.grid.content.id"
	AttrOldFullpathPfx  = "user.oio:"
)

// LegacyOwnerAttrs are the five keys that described a chunk's owner before
// the fullpath attribute, in the order converters remove them.
var LegacyOwnerAttrs = []string{AttrLegacyChunkID, AttrLegacyContainer, AttrLegacyPath,
	AttrLegacyVersion, AttrLegacyContentID}

// ErrCorrupt is the class of errors for chunk metadata that cannot be used:
// missing mandatory attributes or values that do not parse. Test for it
// with errors.Is.
var ErrCorrupt = errors.New("corrupt chunk metadata")

// Attr is one extended attribute, name with its "user." prefix.
type Attr struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Meta is the metadata of one chunk file, as read from its attributes.
// Fields of the current format are filled from legacy keys when the chunk
// has no fullpath of its own (see Legacy).
type Meta struct {
	ChunkID       string // canonical id (the file name)
	Fullpath      Fullpath
	FullpathRaw   string // the stored value, byte for byte; "" if absent
	hasFullpath   bool   // Parse met the fullpath key, whatever its value
	hasPosition   bool   // and the position key
	Position      string
	Size          int64
	HasSize       bool
	UnparsedSize  string // the size attribute as stored when it does not parse; "" otherwise
	Hash          string // uppercase hex, or as stored if not hex; "" if absent
	ChunkMethod   string
	StoragePolicy string
	MetachunkSize int64
	HasMetaSize   bool
	MetachunkHash string // as Hash
	Compression   string
	OioVersion    string            // legacy marker, "4.0" or "4.2"; "" if absent
	Extra         map[string]string // oio.ext.<Key> properties, raw values
	Links         map[string]string // other ids on this inode -> raw fullpath
	Legacy        *Legacy           // owner keys of legacy formats; nil if none
	Other         []Attr            // attributes this package does not interpret
}

// Legacy holds the owner description of chunks written before 2018-06.
type Legacy struct {
	ChunkID   string `json:"chunk_id,omitempty"`     // grid.chunk.id, as written (not always uppercase)
	Container string `json:"container_id,omitempty"` // grid.content.container (container id)
	Path      string `json:"path,omitempty"`
	Version   string `json:"version,omitempty"`
	ContentID string `json:"content_id,omitempty"`
	// OldFullpaths are the "oio:<SHA256>" entries: attribute name -> value.
	OldFullpaths map[string]string `json:"old_fullpaths,omitempty"`
	// NamedFullpaths are 2017-era "oio:<old fullpath>" names (empty value).
	NamedFullpaths []string `json:"named_fullpaths,omitempty"`
}

// HasOwner reports whether the legacy keys name an owner.
func (l *Legacy) HasOwner() bool {
	return l != nil && (l.ChunkID != "" || l.Container != "" || l.Path != "" ||
		l.Version != "" || l.ContentID != "")
}

// IsCurrent reports whether the chunk is in the current format: it has its
// own fullpath and carries no legacy owner keys.
func (m *Meta) IsCurrent() bool {
	return m.FullpathRaw != "" && (m.Legacy == nil || (!m.Legacy.HasOwner() &&
		len(m.Legacy.OldFullpaths) == 0 && len(m.Legacy.NamedFullpaths) == 0))
}

// ContainerID returns the id of the owner's container, from the fullpath or
// else from the legacy container key; "" when neither names one, or the
// fullpath is invalid.
func (m *Meta) ContainerID() string {
	if m.FullpathRaw != "" {
		if m.Fullpath.Validate() != nil {
			return ""
		}
		return m.Fullpath.ContainerID()
	}
	if m.Legacy != nil {
		return strings.ToUpper(m.Legacy.Container)
	}
	return ""
}

// Parse interprets the attributes of the chunk file named id. It fails with
// an error wrapping ErrCorrupt when the chunk cannot be used: a mandatory
// attribute is missing (position, chunk method, storage policy, and an owner:
// the fullpath for id, or legacy keys naming a container id and a path or
// content id in it) or a value does not parse. It never fails on attributes
// it does not know; those are kept in Other.
func Parse(id string, attrs []Attr) (*Meta, error) {
	id, err := NormalizeID(id)
	if err != nil {
		return nil, err
	}
	m := &Meta{ChunkID: id}
	var errs []error
	for _, a := range attrs {
		if err := m.parseAttr(a); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, m.checkMandatory()...)
	if len(errs) > 0 {
		return m, fmt.Errorf("chunk %s: %w: %w", id, ErrCorrupt, errors.Join(errs...))
	}
	return m, nil
}

func (m *Meta) parseAttr(a Attr) error {
	name, v := a.Name, a.Value
	switch {
	case strings.HasPrefix(name, AttrFullpathPrefix):
		return m.parseFullpathAttr(strings.TrimPrefix(name, AttrFullpathPrefix), v)
	case strings.HasPrefix(name, AttrExtPrefix):
		if m.Extra == nil {
			m.Extra = make(map[string]string)
		}
		m.Extra[strings.TrimPrefix(name, AttrExtPrefix)] = v
	case strings.HasPrefix(name, AttrOldFullpathPfx):
		m.parseOldFullpathAttr(strings.TrimPrefix(name, AttrOldFullpathPfx), v)
	case name == AttrPosition:
		m.Position, m.hasPosition = v, true
		if !ValidPosition(v) {
			return fmt.Errorf("position %q is not N, N.M or N.pM, numbers of at most %d digits without "+
				"leading zeros", truncate(v, 40), MaxPositionDigits)
		}
	case name == AttrSize:
		err := parseInt(&m.Size, &m.HasSize, "size", v)
		if err != nil {
			m.UnparsedSize = v
		}
		return err
	case name == AttrMetachunkSize:
		return parseInt(&m.MetachunkSize, &m.HasMetaSize, "metachunk size", v)
	case name == AttrHash:
		return parseHex(&m.Hash, "hash", v)
	case name == AttrMetachunkHash:
		return parseHex(&m.MetachunkHash, "metachunk hash", v)
	case name == AttrChunkMethod:
		m.ChunkMethod = v
		_, err := ParseMethod(v)
		return err
	case name == AttrStoragePolicy:
		m.StoragePolicy = v
	case name == AttrCompression:
		m.Compression = v
	case name == AttrOioVersion:
		m.OioVersion = v
	default:
		m.parseLegacyOrOther(a)
	}
	return nil
}

func (m *Meta) parseFullpathAttr(owner, v string) error {
	oid, err := NormalizeID(owner)
	if err != nil {
		m.Other = append(m.Other, Attr{AttrFullpathPrefix + owner, v})
		return nil
	}
	if oid != m.ChunkID {
		if m.Links == nil {
			m.Links = make(map[string]string)
		}
		m.Links[oid] = v
		return nil
	}
	m.FullpathRaw, m.hasFullpath = v, true
	f, err := ParseFullpath(v)
	if err != nil {
		return err
	}
	m.Fullpath = f
	return nil
}

func (m *Meta) parseOldFullpathAttr(suffix, v string) {
	l := m.legacy()
	if len(suffix) == 64 && IsHex(suffix) {
		if l.OldFullpaths == nil {
			l.OldFullpaths = make(map[string]string)
		}
		l.OldFullpaths[AttrOldFullpathPfx+suffix] = v
		return
	}
	l.NamedFullpaths = append(l.NamedFullpaths, suffix)
}

func (m *Meta) parseLegacyOrOther(a Attr) {
	switch a.Name {
	case AttrLegacyChunkID:
		m.legacy().ChunkID = a.Value
	case AttrLegacyContainer:
		m.legacy().Container = a.Value
	case AttrLegacyPath:
		m.legacy().Path = a.Value
	case AttrLegacyVersion:
		m.legacy().Version = a.Value
	case AttrLegacyContentID:
		m.legacy().ContentID = a.Value
	default:
		m.Other = append(m.Other, a)
	}
}

func (m *Meta) legacy() *Legacy {
	if m.Legacy == nil {
		m.Legacy = &Legacy{}
	}
	return m.Legacy
}

func (m *Meta) checkMandatory() []error {
	var errs []error
	missing := func(what string) { errs = append(errs, fmt.Errorf("missing %s", what)) }
	if !m.hasPosition { // if invalid, parseAttr said so
		missing("position")
	}
	if m.ChunkMethod == "" {
		missing("chunk method")
	}
	if m.StoragePolicy == "" {
		missing("storage policy")
	}
	if m.hasFullpath { // if invalid, parseFullpathAttr said so
		return errs
	}
	switch lacks := m.Legacy.ownerKeysLacking(); {
	case !m.Legacy.HasOwner():
		missing("fullpath " + AttrFullpathPrefix + m.ChunkID)
	case len(lacks) > 0:
		missing(fmt.Sprintf("fullpath %s%s, or the legacy owner keys it lacks: %s", AttrFullpathPrefix,
			m.ChunkID, strings.Join(lacks, "; ")))
	}
	return errs
}

// Usable fails with an error wrapping ErrCorrupt if m lacks an attribute,
// other than its owner's, that every reader of the current format
// requires, or holds one that does not parse: position, chunk method and
// storage policy. A chunk converted to the current format must be usable.
func (m *Meta) Usable() error {
	var why string
	switch {
	case m.Position == "":
		why = "no position"
	case !ValidPosition(m.Position):
		why = fmt.Sprintf("position %.40q, not N or N.M", m.Position)
	case m.ChunkMethod == "":
		why = "no chunk method"
	case m.StoragePolicy == "":
		why = "no storage policy"
	}
	if why != "" {
		return fmt.Errorf("%w: chunk %s has %s", ErrCorrupt, m.ChunkID, why)
	}
	if _, err := ParseMethod(m.ChunkMethod); err != nil {
		return fmt.Errorf("%w: chunk %s: %w", ErrCorrupt, m.ChunkID, err)
	}
	return nil
}

// ownerKeysLacking lists the legacy keys that l needs, and lacks, to name
// the owner of its chunk: the container id, and in it a path or a content
// id. grid.chunk.id alone names the chunk, not its owner.
func (l *Legacy) ownerKeysLacking() []string {
	var lacks []string
	if l == nil || l.Container == "" {
		lacks = append(lacks, AttrLegacyContainer)
	}
	if l == nil || l.Path == "" && l.ContentID == "" {
		lacks = append(lacks, AttrLegacyPath+" or "+AttrLegacyContentID)
	}
	return lacks
}

// Attrs returns the attributes of m in the current format, in the order a
// chunk server writes them: fullpath, position, size, hash, method, policy,
// metachunk keys, compression, then extra properties sorted by key. Links,
// legacy keys and other attributes are not included.
func (m *Meta) Attrs() []Attr {
	attrs := make([]Attr, 0, 8+len(m.Extra))
	add := func(name, v string) {
		if v != "" {
			attrs = append(attrs, Attr{name, v})
		}
	}
	add(AttrFullpathPrefix+m.ChunkID, m.FullpathRaw)
	add(AttrPosition, m.Position)
	if m.HasSize {
		add(AttrSize, strconv.FormatInt(m.Size, 10))
	}
	add(AttrHash, m.Hash)
	add(AttrChunkMethod, m.ChunkMethod)
	add(AttrStoragePolicy, m.StoragePolicy)
	if m.HasMetaSize {
		add(AttrMetachunkSize, strconv.FormatInt(m.MetachunkSize, 10))
	}
	add(AttrMetachunkHash, m.MetachunkHash)
	add(AttrCompression, m.Compression)
	keys := make([]string, 0, len(m.Extra))
	for k := range m.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		attrs = append(attrs, Attr{AttrExtPrefix + k, m.Extra[k]})
	}
	return attrs
}

// ValidPosition reports whether p is a chunk position: N for the chunk of
// a metachunk, N.M or N.pM for one of its fragments, with numbers written
// as OpenIO writes them, without leading zeros, of at most
// MaxPositionDigits digits.
func ValidPosition(p string) bool {
	n, frag, ok := strings.Cut(p, ".")
	if !PositionNumber(n) {
		return false
	}
	return !ok || PositionNumber(frag) || (len(frag) > 1 && frag[0] == 'p' && PositionNumber(frag[1:]))
}

// MaxPositionDigits bounds the numbers of a position, so that every one
// fits the 32-bit integers that hold them.
const MaxPositionDigits = 9

// PositionNumber reports whether s is a number of a position (see
// ValidPosition).
func PositionNumber(s string) bool { return len(s) <= MaxPositionDigits && IsDecimal(s) }

// IsDecimal reports whether s is a decimal number written as OpenIO writes
// positions and sizes: digits only, without sign or leading zeros.
func IsDecimal(s string) bool {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ParseSize reads a size as a chunk's attributes hold one: a decimal
// number written as OpenIO writes one, without sign or leading zeros, as
// positions are (see IsDecimal). ok is false for any other value.
func ParseSize(v string) (n int64, ok bool) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || !IsDecimal(v) {
		return 0, false
	}
	return n, true
}

// parseInt reads a size attribute (see ParseSize).
func parseInt(dst *int64, has *bool, what, v string) error {
	n, ok := ParseSize(v)
	if !ok {
		return fmt.Errorf("%s %q is not a number in decimal digits without leading zeros", what,
			truncate(v, 40))
	}
	*dst, *has = n, true
	return nil
}

// parseHex sets *dst to v, uppercase when v is hexadecimal; a value that
// is not is kept as stored, and reported.
func parseHex(dst *string, what, v string) error {
	if err := checkHex(what, v); err != nil {
		*dst = v
		return err
	}
	*dst = strings.ToUpper(v)
	return nil
}

func checkHex(what, v string) error {
	if v != "" && !isHash(v) {
		return fmt.Errorf("%s %q is not hexadecimal", what, truncate(v, 80))
	}
	return nil
}

// isHash reports whether v is a hash as attributes hold them: hexadecimal,
// 1 to MaxIDLen digits.
func isHash(v string) bool { return v != "" && IsHex(v) && len(v) <= MaxIDLen }
