package cli

import (
	"sync/atomic"
	"testing"
	"time"
)

// everyRedraw draws again and again until stopped, and never after its
// stop function has returned.
func TestEveryRedrawStops(t *testing.T) {
	var draws atomic.Int64
	stop := everyRedraw(func() { draws.Add(1) })
	for deadline := time.Now().Add(10 * time.Second); draws.Load() < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("%d draws in 10 s, want at least 2", draws.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	after := draws.Load()
	time.Sleep(3 * barRedraw)
	if n := draws.Load(); n != after {
		t.Fatalf("%d draws after stop returned", n-after)
	}
}
