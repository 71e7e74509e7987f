package parallel

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestForCallsEachIndexOnce checks that every index is visited exactly
// once, by no more goroutines at a time than asked.
func TestForCallsEachIndexOnce(t *testing.T) {
	for _, tc := range []struct{ n, workers int }{{0, 4}, {1, 4}, {100, 1}, {1000, 8}, {3, 16}} {
		seen := make([]atomic.Int32, tc.n)
		var running, most atomic.Int32
		var mu sync.Mutex
		For(tc.n, tc.workers, func(i int) {
			now := running.Add(1)
			mu.Lock()
			most.Store(max(most.Load(), now))
			mu.Unlock()
			seen[i].Add(1)
			running.Add(-1)
		})
		for i := range seen {
			if k := seen[i].Load(); k != 1 {
				t.Errorf("n %d, workers %d: index %d called %d times", tc.n, tc.workers, i, k)
			}
		}
		if m := most.Load(); int(m) > tc.workers {
			t.Errorf("n %d, workers %d: %d calls at once", tc.n, tc.workers, m)
		}
	}
}
