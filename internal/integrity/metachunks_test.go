package integrity

import (
	"testing"

	"github.com/gridkeep/gridkeep/internal/meta"
)

// TestEmptyObjectHasNoMetachunk: a 0-byte object may have no chunk at all
// (the directory stores it so); any other object without chunks is lost.
func TestEmptyObjectHasNoMetachunk(t *testing.T) {
	if _, errs, lost := metachunks(&meta.Object{Size: 0}); len(errs) != 0 || lost {
		t.Errorf("empty object: %v, lost %v", errs, lost)
	}
	if _, errs, lost := metachunks(&meta.Object{Size: 3}); len(errs) != 1 || !lost {
		t.Errorf("3 bytes, no chunk: %v, lost %v", errs, lost)
	}
	bad := &meta.Object{Chunks: []meta.Chunk{{URL: "http://rawx-1/AB", Pos: "x"}}}
	if _, errs, lost := metachunks(bad); len(errs) != 2 || !lost {
		t.Errorf("no chunk with a position: %v, lost %v", errs, lost)
	}
}
