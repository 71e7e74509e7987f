package meta

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

// Bounds on names and properties, in bytes.
const (
	MaxAccountLen       = 255
	MaxContainerLen     = 255
	MaxObjectLen        = 1023
	MaxPropertyKeyLen   = 512
	MaxPropertyValueLen = 64 << 10
	MaxProperties       = 1024 // per container, object or bucket
	// MaxPropertiesBytes bounds the keys and values of the properties one
	// request sets, and of those an item holds, so that the event
	// announcing a change stays well within what the event bus carries.
	MaxPropertiesBytes = 8 << 20
	MaxMimeTypeLen     = 255
	MaxChunkMethodLen  = 255
	MaxChunks          = 100000 // per object version
)

// CheckAccount reports whether name can name an account.
func CheckAccount(name string) error { return checkName("account", name, MaxAccountLen) }

// CheckContainer reports whether name can name a container.
func CheckContainer(name string) error { return checkName("container", name, MaxContainerLen) }

// CheckObject reports whether name can name an object.
func CheckObject(name string) error { return checkName("object", name, MaxObjectLen) }

func checkName(what, s string, max int) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: empty %s name", ErrInvalidName, what)
	case len(s) > max:
		return fmt.Errorf("%w: %s name of %d bytes, over %d", ErrInvalidName, what, len(s), max)
	case strings.IndexByte(s, 0) >= 0:
		return fmt.Errorf("%w: %s name holds a NUL byte", ErrInvalidName, what)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s name is not UTF-8", ErrInvalidName, what)
	}
	return nil
}

// CheckProperty reports whether key and value can be stored as a property.
func CheckProperty(key, value string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty key", ErrInvalidProperty)
	case len(key) > MaxPropertyKeyLen:
		return fmt.Errorf("%w: key of %d bytes, over %d", ErrInvalidProperty, len(key),
			MaxPropertyKeyLen)
	case len(value) > MaxPropertyValueLen:
		return fmt.Errorf("%w: value of %q is %d bytes, over %d", ErrInvalidProperty,
			short(key), len(value), MaxPropertyValueLen)
	case !cleanText(key) || !cleanText(value):
		return fmt.Errorf("%w: %q holds a NUL byte or is not UTF-8", ErrInvalidProperty,
			short(key))
	}
	return nil
}

// CheckUpdate checks every key of a property update, not what the item
// holds after it is applied (see CheckStored).
func CheckUpdate(u PropertyUpdate) error {
	if len(u.Set) > MaxProperties || len(u.Delete) > MaxProperties {
		return fmt.Errorf("%w: more than %d properties", ErrInvalidProperty, MaxProperties)
	}
	total := 0
	for k, v := range u.Set {
		if err := CheckProperty(k, v); err != nil {
			return err
		}
		total += len(k) + len(v)
	}
	if total > MaxPropertiesBytes {
		return fmt.Errorf("%w: %d bytes of properties, over %d", ErrInvalidProperty, total,
			MaxPropertiesBytes)
	}
	for _, k := range u.Delete {
		if err := CheckProperty(k, ""); err != nil {
			return err
		}
	}
	return nil
}

// CheckStored reports an error when the properties an item holds once an
// update is applied, n of them with keys and values of size bytes in all,
// are too many or too large.
func CheckStored(n int, size int64) error {
	if n > MaxProperties {
		return fmt.Errorf("%w: %d properties, over %d", ErrInvalidProperty, n, MaxProperties)
	}
	if size > MaxPropertiesBytes {
		return fmt.Errorf("%w: %d bytes of properties, over %d", ErrInvalidProperty, size,
			MaxPropertiesBytes)
	}
	return nil
}

// CheckSystem checks writable system properties against the namespace.
func CheckSystem(ns Namespace, sys map[string]string) error {
	for k, v := range sys {
		if err := CheckProperty(k, v); err != nil {
			return err
		}
		if !strings.HasPrefix(k, "sys.") {
			return fmt.Errorf("%w: system key %q lacks the sys. prefix", ErrInvalidProperty, short(k))
		}
		if ReadOnlySystem(k) {
			return fmt.Errorf("%w: system key %q is read-only", ErrInvalidProperty, k)
		}
		if v == "" {
			continue
		}
		if err := checkSystemValue(ns, k, v); err != nil {
			return err
		}
	}
	return nil
}

func checkSystemValue(ns Namespace, k, v string) error {
	switch k {
	case SysPolicyStorage:
		if _, ok := ns.Policy(v); !ok {
			return fmt.Errorf("%w: %q", ErrUnknownPolicy, short(v))
		}
	case SysPolicyVersion:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < -1 {
			return fmt.Errorf("%w: %s must be an integer from -1, not %q", ErrInvalidProperty,
				k, short(v))
		}
	}
	return nil
}

// CheckBucket checks bucket metadata; BucketReplicationEnabled must be a
// boolean.
func CheckBucket(u PropertyUpdate) error {
	if err := CheckUpdate(u); err != nil {
		return err
	}
	if v, ok := u.Set[BucketReplicationEnabled]; ok {
		if _, err := ParseBool(v); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrInvalidProperty, BucketReplicationEnabled, err)
		}
	}
	return nil
}

// NormalizeObject checks an object version before it is stored, and
// normalizes hexadecimal values to uppercase. Defaults (version, content
// id, policy, chunk method, mime type) are left to the store.
func NormalizeObject(o *Object) error {
	if err := CheckObject(o.Name); err != nil {
		return err
	}
	if err := checkHeader(o); err != nil {
		return err
	}
	if err := CheckUpdate(PropertyUpdate{Set: o.Properties}); err != nil {
		return err
	}
	return normalizeChunks(o)
}

func checkHeader(o *Object) error {
	o.ContentID = strings.ToUpper(o.ContentID)
	o.Hash = strings.ToUpper(o.Hash)
	switch {
	case o.Version < 0:
		return fmt.Errorf("%w: negative version %d", ErrInvalid, o.Version)
	case o.Size < 0:
		return fmt.Errorf("%w: negative size %d", ErrInvalid, o.Size)
	case o.ContentID != "" && (!chunk.IsHex(o.ContentID) || len(o.ContentID) > chunk.MaxIDLen):
		return fmt.Errorf("%w: content id %q is not at most 64 hex digits", ErrInvalid,
			short(o.ContentID))
	case o.Hash != "" && (!chunk.IsHex(o.Hash) || len(o.Hash) > 128):
		return fmt.Errorf("%w: hash %q is not hexadecimal", ErrInvalid, short(o.Hash))
	case len(o.MimeType) > MaxMimeTypeLen || !cleanText(o.MimeType):
		return fmt.Errorf("%w: bad mime type", ErrInvalid)
	case len(o.ChunkMethod) > MaxChunkMethodLen || !cleanText(o.ChunkMethod):
		return fmt.Errorf("%w: bad chunk method", ErrInvalid)
	}
	if o.ChunkMethod != "" {
		if _, err := chunk.ParseMethod(o.ChunkMethod); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	return nil
}

// normalizeChunks checks each chunk, refuses duplicate URLs, then checks
// that the chunks describe a readable object (see checkLayout).
func normalizeChunks(o *Object) error {
	if len(o.Chunks) > MaxChunks {
		return fmt.Errorf("%w: %d chunks, over %d", ErrInvalid, len(o.Chunks), MaxChunks)
	}
	seen := make(map[string]bool, len(o.Chunks))
	for i := range o.Chunks {
		c := &o.Chunks[i]
		if err := normalizeChunk(c); err != nil {
			return err
		}
		if seen[c.URL] {
			return fmt.Errorf("%w: chunk %s listed twice", ErrInvalid, c.URL)
		}
		seen[c.URL] = true
	}
	return checkLayout(o)
}

// checkLayout reports an error unless the chunks of o, whose positions are
// valid, can be read back as o: every copy listed at one position has the
// same size; the metachunks are numbered 0 to n-1 without a gap; they are
// all replicated ("N") or all erasure-coded ("N.M"), not both; and the
// sizes of replicated metachunks, one copy each, add up to the object
// size. An object without chunks holds 0 bytes. The fragments of an
// erasure-coded metachunk hold more than its data, so their sizes are not
// added up.
func checkLayout(o *Object) error {
	if len(o.Chunks) == 0 {
		if o.Size != 0 {
			return fmt.Errorf("%w: no chunks for an object of %d bytes", ErrInvalid, o.Size)
		}
		return nil
	}
	sizes := make(map[string]int64)
	metachunks := make(map[int64]bool)
	var total int64
	var fragments int
	for _, c := range o.Chunks {
		n, _ := splitPos(c.Pos)
		metachunks[n] = true
		if strings.Contains(c.Pos, ".") {
			fragments++
		}
		key := canonicalPos(c.Pos)
		if s, ok := sizes[key]; ok {
			if s != c.Size {
				return fmt.Errorf("%w: copies at position %s differ in size (%d and %d bytes)",
					ErrInvalid, key, s, c.Size)
			}
			continue
		}
		sizes[key] = c.Size
		total += c.Size
	}
	if err := checkNumbering(metachunks); err != nil {
		return err
	}
	ec := strings.HasPrefix(o.ChunkMethod, "ec/")
	switch {
	case fragments > 0 && fragments < len(o.Chunks):
		return fmt.Errorf("%w: positions mix replicated (N) and erasure-coded (N.M) metachunks",
			ErrInvalid)
	case fragments > 0 && !ec:
		return fmt.Errorf("%w: erasure-coded positions (N.M) with chunk method %q", ErrInvalid,
			o.ChunkMethod)
	case fragments == 0 && ec:
		return fmt.Errorf("%w: chunk method %q with replicated positions (N)", ErrInvalid,
			o.ChunkMethod)
	case fragments == 0 && total != o.Size:
		return fmt.Errorf("%w: metachunks hold %d bytes, object size is %d", ErrInvalid,
			total, o.Size)
	}
	return nil
}

// checkNumbering reports an error unless the metachunk numbers listed are
// 0 to n-1.
func checkNumbering(listed map[int64]bool) error {
	for i := range int64(len(listed)) {
		if !listed[i] {
			return fmt.Errorf("%w: no chunk at position %d, though %d metachunks are listed",
				ErrInvalid, i, len(listed))
		}
	}
	return nil
}

// canonicalPos writes a valid position without leading zeros, so that
// "01" and "1" name the same metachunk.
func canonicalPos(p string) string {
	n, frag := splitPos(p)
	s := strconv.FormatInt(n, 10)
	if strings.Contains(p, ".") {
		s += "." + strconv.FormatInt(frag, 10)
	}
	return s
}

func normalizeChunk(c *Chunk) error {
	rest, ok := strings.CutPrefix(c.URL, "http://")
	host, id, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || host == "" || strings.ContainsAny(host, "/?#@ ") || !cleanText(host) {
		return fmt.Errorf("%w: chunk url %q is not http://<service>/<chunk id>", ErrInvalid,
			short(c.URL))
	}
	nid, err := chunk.NormalizeID(id)
	if err != nil {
		return fmt.Errorf("%w: chunk url %q: %v", ErrInvalid, short(c.URL), err)
	}
	c.URL = "http://" + host + "/" + nid
	c.RealURL, c.Score = "", 0
	c.Hash = strings.ToUpper(c.Hash)
	switch {
	case !ValidPosition(c.Pos):
		return fmt.Errorf("%w: chunk position %q", ErrInvalid, short(c.Pos))
	case c.Size < 0:
		return fmt.Errorf("%w: negative chunk size", ErrInvalid)
	case c.Hash != "" && (!chunk.IsHex(c.Hash) || len(c.Hash) > 128):
		return fmt.Errorf("%w: chunk hash %q is not hexadecimal", ErrInvalid, short(c.Hash))
	}
	return nil
}

// ValidPosition reports whether p is a chunk position: "N" or "N.M" with
// decimal N and M written without leading zeros (see
// chunk.PositionNumber).
func ValidPosition(p string) bool {
	n, m, dotted := strings.Cut(p, ".")
	return chunk.PositionNumber(n) && (!dotted || chunk.PositionNumber(m))
}

// ParseBool reads a boolean as OpenIO clients write it: "True"/"False"
// (any case), "1"/"0", "yes"/"no", "on"/"off"; empty is false.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off", "":
		return false, nil
	}
	return false, fmt.Errorf("%w: %q is not a boolean", ErrInvalid, short(s))
}

// FormatBool writes a boolean the way OpenIO's Python does: "True" or
// "False".
func FormatBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func cleanText(s string) bool {
	return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

// short truncates s for an error message.
func short(s string) string {
	if len(s) <= 64 {
		return s
	}
	return s[:64] + "…"
}
