package loadgen

import (
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSummarize(t *testing.T) {
	samples := make([]time.Duration, 100)
	for i := range samples {
		samples[i] = time.Duration(i+1) * time.Millisecond
	}
	rand.Shuffle(len(samples), func(i, j int) { samples[i], samples[j] = samples[j], samples[i] })
	got := summarize(samples)
	want := Latencies{P50: 50 * time.Millisecond, P90: 90 * time.Millisecond,
		P99: 99 * time.Millisecond, Max: 100 * time.Millisecond, Mean: 50500 * time.Microsecond}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summarize (-want +got):\n%s", diff)
	}
}

func TestSummarizeSmall(t *testing.T) {
	if got := summarize(nil); got != (Latencies{}) {
		t.Errorf("no samples: %+v, want zeros", got)
	}
	one := summarize([]time.Duration{7})
	if one.P50 != 7 || one.P99 != 7 || one.Max != 7 || one.Mean != 7 {
		t.Errorf("one sample: %+v, want 7 everywhere", one)
	}
	two := summarize([]time.Duration{9, 1})
	if two.P50 != 1 || two.P90 != 9 || two.Max != 9 {
		t.Errorf("two samples: %+v, want p50 1, p90 and max 9", two)
	}
}

func TestMerge(t *testing.T) {
	a := &tally{}
	a.success(3, 10)
	a.failure("500")
	b := &tally{}
	b.success(1, 10)
	b.success(2, 10)
	b.failure("500")
	b.failure(ErrTransport)
	m := merge([]*tally{a, b, {}})
	if m.ok != 3 || m.bytes != 30 || len(m.samples) != 3 {
		t.Errorf("merged %d ok, %d bytes, %d samples; want 3, 30, 3", m.ok, m.bytes, len(m.samples))
	}
	want := map[string]int64{"500": 2, ErrTransport: 1}
	if diff := cmp.Diff(want, m.errors); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestParseProcStat(t *testing.T) {
	// A command name with spaces and parentheses; utime 250, stime 50 ticks.
	line := "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 9 0 100 " +
		"1000000 500 18446744073709551615\n"
	got, err := parseProcStat([]byte(line))
	if err != nil || got != 3*time.Second {
		t.Errorf("parseProcStat = %v, %v; want 3s", got, err)
	}
	for _, bad := range []string{"", "4242 (x) S 1 2", "4242 (x) S 1 2 3 4 5 6 7 8 9 10 x 2"} {
		if _, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("parseProcStat(%q): no error", bad)
		}
	}
}

func TestProcCPUSelf(t *testing.T) {
	// Burn some CPU so that at least one tick is charged to this process.
	x := 0
	for start := selfCPU(); selfCPU()-start < 30*time.Millisecond; {
		for i := range 100000 {
			x += i
		}
	}
	got, err := procCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if got <= 0 || x == 0 {
		t.Errorf("procCPU(self) = %v after burning CPU", got)
	}
}
