package chunk

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Bounds on the length of a chunk id, in hexadecimal characters.
const (
	MinIDLen = 24
	MaxIDLen = 64
)

// PendingSuffix ends the name of a chunk file whose upload is in progress.
const PendingSuffix = ".pending"

// ErrInvalidID is returned for a chunk id that is not 24 to 64 hexadecimal
// characters.
var ErrInvalidID = errors.New("invalid chunk id")

// NormalizeID checks that id is a chunk id and returns it in canonical
// uppercase form. It touches no file, so it is the check to run before any
// filesystem access.
func NormalizeID(id string) (string, error) {
	if len(id) < MinIDLen || len(id) > MaxIDLen || !IsHex(id) {
		return "", fmt.Errorf("%w: %q", ErrInvalidID, truncate(id, 80))
	}
	return strings.ToUpper(id), nil
}

// IsID reports whether name is a canonical (uppercase) chunk id, which is
// how chunk files are named on a volume.
func IsID(name string) bool {
	if len(name) < MinIDLen || len(name) > MaxIDLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// IsAnyCaseID reports whether name is a chunk id in any case, canonical or
// not.
func IsAnyCaseID(name string) bool {
	return len(name) >= MinIDLen && len(name) <= MaxIDLen && IsHex(name)
}

// IsUpperHex reports whether s is made of uppercase hexadecimal digits, as
// the names of chunk directories are.
func IsUpperHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// IsHex reports whether s is a non-empty string of hexadecimal digits of
// either case.
func IsHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// Layout is how chunk files are spread in directories on a volume: Depth
// levels of directories, each named by the next Width characters of the id.
// The zero value is OpenIO's default, width 3 and depth 1.
type Layout struct {
	Width int
	Depth int
}

// DefaultLayout is the layout of OpenIO volumes unless configured otherwise.
var DefaultLayout = Layout{Width: 3, Depth: 1}

func (l Layout) normalized() Layout {
	if l.Width == 0 && l.Depth == 0 {
		return DefaultLayout
	}
	return l
}

// Validate reports whether the layout can place chunk ids of the minimum
// length: its directories must take fewer characters of an id, width times
// depth, than the MinIDLen of the shortest, and none may have an empty name.
// The error says which rule the layout breaks.
func (l Layout) Validate() error {
	l = l.normalized()
	var why string
	switch {
	case l.Width < 0 || l.Depth < 0:
		why = "neither may be negative"
	case l.Width == 0 && l.Depth > 0:
		why = "a width of 0 would give its directories empty names"
	case l.Depth > 0 && l.Width > (MinIDLen-1)/l.Depth: // width*depth may overflow
		why = fmt.Sprintf("width times depth must be under %d, the length of the shortest chunk id", MinIDLen)
	default:
		return nil
	}
	return fmt.Errorf("invalid chunk layout: width %d, depth %d: %s", l.Width, l.Depth, why)
}

// Dir returns the directory of the chunk id relative to the volume root.
// id must be canonical (see NormalizeID).
func (l Layout) Dir(id string) string {
	l = l.normalized()
	parts := make([]string, 0, l.Depth)
	for i := 0; i < l.Depth; i++ {
		parts = append(parts, id[i*l.Width:(i+1)*l.Width])
	}
	return filepath.Join(parts...)
}

// Path returns the path of the chunk file relative to the volume root.
// id must be canonical (see NormalizeID).
func (l Layout) Path(id string) string {
	return filepath.Join(l.Dir(id), id)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
