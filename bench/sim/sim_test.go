package sim

import (
	"testing"

	"github.com/gridkeep/gridkeep/bench/internal/workload"
)

// TestRunSmall replays a sliver of every workload on every implementation,
// checking that the harness runs and that ratios are percentages.
func TestRunSmall(t *testing.T) {
	keys := workload.Keys(1000)
	for _, w := range Workloads() {
		reqs := w.Trace(0.002)
		if len(reqs) == 0 {
			t.Fatalf("%s: empty trace", w.Name)
		}
		for _, name := range []string{"gridkeep", "gridkeep-fifo", "otter", "ristretto", "lru", "2q"} {
			r, err := Run(name, w, reqs, keys)
			if err != nil {
				t.Fatal(err)
			}
			if r < 0 || r > 100 {
				t.Errorf("%s on %s: hit ratio %v", name, w.Name, r)
			}
		}
	}
}

// TestLoopFavoursFrequency checks the simulator against a known answer: on
// a loop larger than the cache, LRU never hits.
func TestLoopFavoursFrequency(t *testing.T) {
	w := Workload{Name: "loop", Capacity: 100, Trace: func(float64) []Request {
		reqs := make([]Request, 12000)
		for i := range reqs {
			reqs[i].Item = i % 120
		}
		return reqs
	}}
	reqs := w.Trace(1)
	lru, err := Run("lru", w, reqs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lru != 0 {
		t.Errorf("LRU on a loop: %v%%, want 0", lru)
	}
}
