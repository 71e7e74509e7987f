// Package tick runs a function at a steady interval in the background, for
// progress bars, periodic reports and keep-alives.
package tick

import "time"

// Every calls f every interval, from a goroutine of its own, until the
// returned function is called. That function returns once f is no longer
// running and will not be called again.
func Every(interval time.Duration, f func()) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				f()
			}
		}
	}()
	return func() { close(done); <-stopped }
}
