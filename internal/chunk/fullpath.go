package chunk

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalidFullpath is returned when a fullpath cannot be decoded.
var ErrInvalidFullpath = errors.New("invalid fullpath")

// Fullpath names the object that owns a chunk. On disk and on the wire it is
// "account/container/path/version/content_id", each field percent-encoded
// with Quote so that a "/" inside a field never splits it.
type Fullpath struct {
	Account   string
	Container string
	Path      string
	Version   int64  // object version: creation time in microseconds
	ContentID string // uppercase hexadecimal
}

// String encodes f. It does not validate f; see Validate.
func (f Fullpath) String() string {
	var b strings.Builder
	b.Grow(len(f.Account) + len(f.Container) + len(f.Path) + len(f.ContentID) + 24)
	appendQuoted(&b, f.Account, false)
	b.WriteByte('/')
	appendQuoted(&b, f.Container, false)
	b.WriteByte('/')
	appendQuoted(&b, f.Path, false)
	b.WriteByte('/')
	b.WriteString(strconv.FormatInt(f.Version, 10))
	b.WriteByte('/')
	b.WriteString(strings.ToUpper(f.ContentID))
	return b.String()
}

// Validate checks the rules every chunk server applies to a fullpath:
// non-empty names, a version, and a content id of at most 64 hex digits.
func (f Fullpath) Validate() error {
	switch {
	case f.Account == "":
		return fmt.Errorf("%w: empty account", ErrInvalidFullpath)
	case f.Container == "":
		return fmt.Errorf("%w: empty container", ErrInvalidFullpath)
	case f.Path == "":
		return fmt.Errorf("%w: empty object path", ErrInvalidFullpath)
	case f.Version < 0:
		return fmt.Errorf("%w: negative version %d", ErrInvalidFullpath, f.Version)
	case !IsHex(f.ContentID) || len(f.ContentID) > MaxIDLen:
		return fmt.Errorf("%w: content id %q is not hexadecimal", ErrInvalidFullpath,
			truncate(f.ContentID, 80))
	}
	return nil
}

// ContainerID returns the container id of the fullpath's container.
func (f Fullpath) ContainerID() string { return ContainerID(f.Account, f.Container) }

// ParseFullpath decodes and validates an encoded fullpath. "+" is a plus
// sign, not a space.
func ParseFullpath(s string) (Fullpath, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 5 {
		return Fullpath{}, fmt.Errorf("%w: %d fields instead of 5 in %q", ErrInvalidFullpath,
			len(parts), truncate(s, 200))
	}
	var f Fullpath
	var err error
	fields := []*string{&f.Account, &f.Container, &f.Path}
	for i, dst := range fields {
		if *dst, err = Unquote(parts[i]); err != nil {
			return Fullpath{}, fmt.Errorf("%w: %v", ErrInvalidFullpath, err)
		}
	}
	if f.Version, err = strconv.ParseInt(parts[3], 10, 64); err != nil {
		return Fullpath{}, fmt.Errorf("%w: version %q is not an integer", ErrInvalidFullpath,
			truncate(parts[3], 40))
	}
	f.ContentID = strings.ToUpper(parts[4])
	if err := f.Validate(); err != nil {
		return Fullpath{}, err
	}
	return f, nil
}

// OldFullpath is the four-field owner name of legacy chunks
// ("account/container/path/version", each field encoded with QuotePlus).
// Version is kept as text because legacy writers sometimes stored "None".
type OldFullpath struct {
	Account   string
	Container string
	Path      string
	Version   string
}

// String encodes f the way legacy writers did.
func (f OldFullpath) String() string {
	var b strings.Builder
	for i, v := range []string{f.Account, f.Container, f.Path, f.Version} {
		if i > 0 {
			b.WriteByte('/')
		}
		appendQuoted(&b, v, true)
	}
	return b.String()
}

// ContainerID returns the container id of the old fullpath's container.
func (f OldFullpath) ContainerID() string { return ContainerID(f.Account, f.Container) }

// KeyHash returns the uppercase hex SHA-256 of the encoded old fullpath,
// the suffix of its "oio:<hash>" attribute name.
func (f OldFullpath) KeyHash() string {
	sum := sha256.Sum256([]byte(f.String()))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// ParseOldFullpath decodes a legacy four-field fullpath ("+" is a space).
func ParseOldFullpath(s string) (OldFullpath, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 4 {
		return OldFullpath{}, fmt.Errorf("%w: %d fields instead of 4 in old fullpath %q",
			ErrInvalidFullpath, len(parts), truncate(s, 200))
	}
	var dec [4]string
	for i, p := range parts {
		v, err := UnquotePlus(p)
		if err != nil {
			return OldFullpath{}, fmt.Errorf("%w: %v", ErrInvalidFullpath, err)
		}
		if v == "" {
			return OldFullpath{}, fmt.Errorf("%w: empty field %d in old fullpath", ErrInvalidFullpath, i)
		}
		dec[i] = v
	}
	return OldFullpath{Account: dec[0], Container: dec[1], Path: dec[2], Version: dec[3]}, nil
}

// IsContainerID reports whether s has the form of a container id: 64
// hexadecimal digits, in either case.
func IsContainerID(s string) bool { return len(s) == 64 && IsHex(s) }

// ContainerID returns the id of a container: the uppercase hex SHA-256 of
// the account name, a NUL byte and the container name.
func ContainerID(account, container string) string {
	h := sha256.New()
	h.Write([]byte(account))
	h.Write([]byte{0})
	h.Write([]byte(container))
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
}

const upperhex = "0123456789ABCDEF"

// unreserved reports whether Python's quote leaves c as it is with
// safe="": letters, digits and "_.-~".
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '.' || c == '-' || c == '~'
}

// Quote percent-encodes every byte of s except letters, digits and "_.-~",
// with uppercase hex, exactly like Python's urllib.parse.quote(s, safe="").
// Go's url.PathEscape and url.QueryEscape differ from it.
func Quote(s string) string {
	var b strings.Builder
	appendQuoted(&b, s, false)
	return b.String()
}

// QuotePlus is Quote, except that a space becomes "+", like Python's
// quote_plus(s, safe="").
func QuotePlus(s string) string {
	var b strings.Builder
	appendQuoted(&b, s, true)
	return b.String()
}

func appendQuoted(b *strings.Builder, s string, plus bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case unreserved(c):
			b.WriteByte(c)
		case plus && c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(upperhex[c>>4])
			b.WriteByte(upperhex[c&15])
		}
	}
}

// Unquote decodes %XX escapes (of either case). Unlike Python's unquote it
// rejects a malformed escape instead of keeping it. "+" is left as it is.
func Unquote(s string) (string, error) { return unquote(s, false) }

// UnquotePlus is Unquote, except that "+" decodes to a space.
func UnquotePlus(s string) (string, error) { return unquote(s, true) }

func unquote(s string, plus bool) (string, error) {
	if !strings.ContainsAny(s, "%+") {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) || !IsHex(s[i+1:i+3]) {
				return "", fmt.Errorf("malformed escape at offset %d in %q", i, truncate(s, 200))
			}
			v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b = append(b, byte(v))
			i += 2
		case plus && c == '+':
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return string(b), nil
}
