package tick

import (
	"sync/atomic"
	"testing"
	"time"
)

// Every calls f again and again until stopped, and never after its stop
// function has returned.
func TestEveryStops(t *testing.T) {
	const interval = 5 * time.Millisecond
	var calls atomic.Int64
	stop := Every(interval, func() { calls.Add(1) })
	for deadline := time.Now().Add(10 * time.Second); calls.Load() < 3; {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls in 10 s, want at least 3", calls.Load())
		}
		time.Sleep(interval)
	}
	stop()
	after := calls.Load()
	time.Sleep(20 * interval)
	if n := calls.Load(); n != after {
		t.Fatalf("%d calls after stop returned", n-after)
	}
}
