package loadgen

import (
	"math"
	"slices"
	"strconv"
	"time"
)

// Error classes that are not HTTP statuses.
const (
	ErrTransport = "transport"  // the request could not be sent or its reply read
	ErrShortBody = "short-body" // a GET reply shorter than the chunk
)

// Latencies summarises the latencies of the successful measured requests:
// the time from sending a request to having read the whole reply.
type Latencies struct {
	P50, P90, P99, Max, Mean time.Duration
}

// tally is what one worker records. Only its worker touches it until the
// run ends.
type tally struct {
	samples []time.Duration // latency of each successful measured request
	ok      int64
	cut     int64 // requests cut by the end of the load
	bytes   int64
	errors  map[string]int64
}

func (t *tally) success(lat time.Duration, bytes int64) {
	t.samples = append(t.samples, lat)
	t.ok++
	t.bytes += bytes
}

func (t *tally) failure(class string) {
	if t.errors == nil {
		t.errors = make(map[string]int64)
	}
	t.errors[class]++
}

// statusClass is the error class of an unexpected HTTP status.
func statusClass(code int) string { return strconv.Itoa(code) }

// merge adds the tallies of all workers into one.
func merge(ts []*tally) *tally {
	all := &tally{errors: make(map[string]int64)}
	n := 0
	for _, t := range ts {
		n += len(t.samples)
	}
	all.samples = make([]time.Duration, 0, n)
	for _, t := range ts {
		all.samples = append(all.samples, t.samples...)
		all.ok += t.ok
		all.cut += t.cut
		all.bytes += t.bytes
		for k, v := range t.errors {
			all.errors[k] += v
		}
	}
	return all
}

// summarize sorts samples in place and returns their percentiles.
func summarize(samples []time.Duration) Latencies {
	if len(samples) == 0 {
		return Latencies{}
	}
	slices.Sort(samples)
	var sum time.Duration
	for _, s := range samples {
		sum += s
	}
	return Latencies{
		P50:  percentile(samples, 50),
		P90:  percentile(samples, 90),
		P99:  percentile(samples, 99),
		Max:  samples[len(samples)-1],
		Mean: sum / time.Duration(len(samples)),
	}
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted, which must not be empty: the smallest sample that at least p% of
// the samples do not exceed.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}
