package pace

import (
	"context"
	"io"
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseRates(t *testing.T) {
	base := Rates{ItemsPerSecond: 1, BytesPerSecond: 2}
	tests := []struct {
		name, in string
		want     Rates
		bad      bool
	}{
		{"empty keeps base", "", base, false},
		{"both", "items-per-second 10\nbytes-per-second=1e6\n", Rates{10, 1e6}, false},
		{"colon and comment", "# pace\nchunks-per-second: 5\n", Rates{5, 2}, false},
		{"zero lifts the limit", "bytes-per-second 0", Rates{1, 0}, false},
		{"unknown key", "speed 3", base, true},
		{"negative", "items-per-second -1", base, true},
		{"no value", "items-per-second", base, true},
		{"not a number", "items-per-second ten", base, true},
		{"infinite", "items-per-second inf", base, true},
		{"infinite bytes", "bytes-per-second +Infinity", base, true},
		{"too large for a float64", "chunks-per-second 1e400", base, true},
		{"NaN", "bytes-per-second NaN", base, true},
		{"second line bad", "items-per-second 3\nbytes-per-second Inf", base, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRates(strings.NewReader(tc.in), base)
			if (err != nil) != tc.bad {
				t.Fatalf("error %v, want error %v", err, tc.bad)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestInfiniteRatesRefused: an infinite rate, written as such or too large
// for a float64, is refused like a negative one, with a message saying what
// a rate must be, for jobs paced in bytes too or in items alone.
func TestInfiniteRatesRefused(t *testing.T) {
	for _, in := range []string{"chunks-per-second inf", "items-per-second=+Inf", "chunks-per-second 1e400",
		"items-per-second: -1e400", "chunks-per-second -1"} {
		for _, parse := range []func(io.Reader, Rates) (Rates, error){ParseRates, ParseItemRates} {
			_, err := parse(strings.NewReader(in), Rates{})
			if err == nil || !strings.Contains(err.Error(), "want a finite rate, 0 or more") {
				t.Errorf("%q: error %v, want one saying what a rate must be", in, err)
			}
		}
	}
	for _, r := range []float64{-1, math.Inf(1), math.Inf(-1), math.NaN()} {
		if CheckRate(r) == nil {
			t.Errorf("CheckRate(%g) accepted it", r)
		}
	}
	for _, r := range []float64{0, 0.5, 1e300} {
		if err := CheckRate(r); err != nil {
			t.Errorf("CheckRate(%g): %v", r, err)
		}
	}
}

func TestParseItemRates(t *testing.T) {
	base := Rates{ItemsPerSecond: 1}
	got, err := ParseItemRates(strings.NewReader("chunks-per-second 7\n"), base)
	if err != nil || got != (Rates{ItemsPerSecond: 7}) {
		t.Errorf("got %+v, %v", got, err)
	}
	for _, in := range []string{"bytes-per-second 100", "chunks-per-second 7\nbytes-per-second 0"} {
		got, err := ParseItemRates(strings.NewReader(in), base)
		if err == nil || !strings.Contains(err.Error(), "bytes-per-second") || got != base {
			t.Errorf("%q: got %+v, error %v; want base and an error naming bytes-per-second", in, got, err)
		}
	}
}

func TestPacerChangesWhileRunning(t *testing.T) {
	p := New(Rates{})
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Wait(done, 1000, 1<<30); err != nil {
		t.Errorf("unlimited pacer waited: %v", err)
	}
	p.SetRates(Rates{ItemsPerSecond: 1, BytesPerSecond: 10})
	if got := p.Rates(); got != (Rates{1, 10}) {
		t.Errorf("rates %+v", got)
	}
	if err := p.Wait(done, 1, 0); err == nil {
		t.Error("limited pacer did not wait")
	}
	var nilPacer *Pacer
	if err := nilPacer.Wait(done, 1, 1); err != nil || nilPacer.Rates() != (Rates{}) {
		t.Errorf("nil pacer: %v", err)
	}
}

// TestNewRatesWakeWaiters lifts, then raises, a rate that keeps callers
// waiting for seconds: the callers waiting go on at once.
func TestNewRatesWakeWaiters(t *testing.T) {
	for _, r := range []Rates{{}, {ItemsPerSecond: 100000}} {
		p := New(Rates{ItemsPerSecond: 0.5})
		ctx := context.Background()
		if err := p.Wait(ctx, 1, 0); err != nil { // the burst
			t.Fatal(err)
		}
		done := make(chan error, 4)
		for range 4 {
			go func() { done <- p.Wait(ctx, 1, 0) }()
		}
		time.Sleep(50 * time.Millisecond)
		p.SetRates(r)
		// Without the change, the waiters would go on 2, 4, 6 and 8 s later.
		timeout := time.After(5 * time.Second)
		for range 4 {
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-timeout:
				t.Fatalf("rates %+v: waiters still waiting 5 s after the change", r)
			}
		}
	}
}
