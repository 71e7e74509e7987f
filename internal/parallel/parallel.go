// Package parallel spreads independent calls over a bounded number of
// goroutines.
package parallel

import (
	"sync"
	"sync/atomic"
)

// For calls f(i) for every i from 0 to n-1, from at most workers
// goroutines that take the indexes in increasing order, and returns once
// every call has returned.
func For(n, workers int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				f(int(i))
			}
		})
	}
	wg.Wait()
}
