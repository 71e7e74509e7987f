package meta

import (
	"strings"
	"testing"

	"github.com/gridkeep/gridkeep/internal/chunk"
)

// Content ids are 32 uppercase hex digits, each new one sorting after the
// one before, so that the indexes keyed by content id grow at their end.
func TestNewContentIDGrows(t *testing.T) {
	prev := ""
	for range 10000 {
		id := NewContentID()
		if len(id) != 32 || !chunk.IsHex(id) || id != strings.ToUpper(id) {
			t.Fatalf("content id %q: want 32 uppercase hex digits", id)
		}
		if id <= prev {
			t.Fatalf("content id %s made after %s sorts before it", id, prev)
		}
		prev = id
	}
}
