package chunk

import (
	"crypto/md5"
	"fmt"
	"hash"
	"strings"
	"sync"

	"github.com/zeebo/blake3"
)

// Checksum algorithms a chunk method can name with its "cca" parameter.
const (
	AlgoBlake3 = "blake3"
	AlgoMD5    = "md5"
)

// blake3Size is the size in bytes of the BLAKE3 digests of chunks.
const blake3Size = 32

// Method is a parsed chunk method such as "plain/cca=blake3,nb_copy=3" or
// "ec/algo=liberasurecode_rs_vand,k=6,m=3". Params keep the order in which
// they were written, since writers differ on it.
type Method struct {
	Type   string // "plain" or "ec"
	Params []Param
}

// Param is one k=v parameter of a chunk method.
type Param struct{ Key, Value string }

// ParseMethod splits a chunk method into its type and parameters.
func ParseMethod(s string) (Method, error) {
	typ, rest, _ := strings.Cut(s, "/")
	if typ == "" {
		return Method{}, fmt.Errorf("invalid chunk method %q: no type", truncate(s, 200))
	}
	m := Method{Type: typ}
	if rest == "" {
		return m, nil
	}
	for _, kv := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return Method{}, fmt.Errorf("invalid chunk method %q: parameter %q is not k=v",
				truncate(s, 200), truncate(kv, 80))
		}
		m.Params = append(m.Params, Param{k, v})
	}
	return m, nil
}

// String renders the method with its parameters in their order.
func (m Method) String() string {
	var b strings.Builder
	b.WriteString(m.Type)
	for i, p := range m.Params {
		if i == 0 {
			b.WriteByte('/')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(p.Key)
		b.WriteByte('=')
		b.WriteString(p.Value)
	}
	return b.String()
}

// Get returns the value of parameter key.
func (m Method) Get(key string) (string, bool) {
	for _, p := range m.Params {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// IsEC reports whether the method is erasure coding, whose fragments need
// their metachunk size and hash.
func (m Method) IsEC() bool { return m.Type == "ec" }

// WriteAlgo returns the checksum algorithm a chunk server uses for a new
// chunk with this method, and the method to store. Like OpenIO's server, a
// method without "cca" means MD5, and "cca=md5" is then appended (at the end,
// so the stored method is stable); an unknown algorithm means BLAKE3.
func (m Method) WriteAlgo() (algo string, stored Method) {
	cca, ok := m.Get("cca")
	switch {
	case !ok:
		stored = Method{Type: m.Type, Params: append(append([]Param(nil), m.Params...),
			Param{"cca", AlgoMD5})}
		return AlgoMD5, stored
	case strings.EqualFold(cca, AlgoMD5):
		return AlgoMD5, m
	default:
		return AlgoBlake3, m
	}
}

// AlgoForHash returns the algorithm that produced a stored hex digest,
// inferred from its length as OpenIO does for chunks whose method names no
// "cca": 32 hex digits are MD5, anything else BLAKE3.
func AlgoForHash(hexDigest string) string {
	if len(hexDigest) == 2*md5.Size {
		return AlgoMD5
	}
	return AlgoBlake3
}

// NewHash returns a new hash for algo (AlgoMD5, anything else is BLAKE3).
func NewHash(algo string) hash.Hash {
	if algo == AlgoMD5 {
		return md5.New()
	}
	return blake3.New()
}

// blake3Pool recycles BLAKE3 hashers, which are large (about 9 KiB).
var blake3Pool = sync.Pool{New: func() any { return blake3.New() }}

// BorrowHash returns a reset hash for algo, as NewHash does, and the
// function that gives it back once the caller is done with it: BLAKE3
// hashers are recycled, as making one costs more than hashing a small
// chunk.
func BorrowHash(algo string) (hash.Hash, func()) {
	if algo == AlgoMD5 {
		return md5.New(), func() {}
	}
	h := blake3Pool.Get().(*blake3.Hasher)
	h.Reset()
	return h, func() { blake3Pool.Put(h) }
}
