package integrity_test

import (
	"testing"
	"time"

	"github.com/gridkeep/gridkeep/internal/integrity"
	"github.com/gridkeep/gridkeep/internal/integrity/integritytest"
)

// TestRecentChunksAreNotOrphans checks that a chunk written moments ago
// for an upload still in progress is not reported while it is younger
// than the orphan age, and is once the age allows it.
func TestRecentChunksAreNotOrphans(t *testing.T) {
	f := integritytest.Start(t, 3)
	f.Populate(3)
	orphan := f.Orphan()

	young, _, _ := integritytest.Check(t, f.Ctx, f.NS.ProxyURL,
		integrity.Options{OrphanMinAge: time.Hour}, integrity.Target{})
	for _, it := range young {
		if it == orphan {
			t.Fatalf("a chunk written just now was reported: %v", young)
		}
	}
	old, _, _ := integritytest.Check(t, f.Ctx, f.NS.ProxyURL,
		integrity.Options{OrphanMinAge: -1}, integrity.Target{})
	found := false
	for _, it := range old {
		found = found || it == orphan
	}
	if !found {
		t.Fatalf("with no minimum age the orphan was not reported: %v", old)
	}
}
