package integrity

import (
	"slices"
	"testing"
	"time"
)

func finding(chunk string, errs ...string) *Result {
	return &Result{Kind: KindChunk, Target: Target{Chunk: chunk}, Errors: errs}
}

func TestConfirmations(t *testing.T) {
	now := time.Unix(1000, 0)
	d := newDelays(2, 0, func() time.Time { return now })
	bad := finding("http://rawx-1/AB", "Not found: x")
	for i, want := range []bool{false, false, true} {
		if got := d.admit(bad); got != want {
			t.Errorf("sighting %d: reported %v, want %v", i+1, got, want)
		}
	}
	if d.len() != 0 {
		t.Errorf("%d findings still pending after the report", d.len())
	}

	// A finding that clears is forgotten, and starts over if it returns.
	d.admit(bad)
	if !d.admit(finding("http://rawx-1/AB")) || d.len() != 0 {
		t.Error("an OK result did not clear the pending finding")
	}
	if d.admit(bad) {
		t.Error("a finding seen again after clearing was reported at once")
	}
	if got := d.targets(); len(got) != 1 || got[0].Chunk != "http://rawx-1/AB" {
		t.Errorf("recheck targets %+v", got)
	}
}

func TestTimeInError(t *testing.T) {
	now := time.Unix(1000, 0)
	d := newDelays(0, time.Minute, func() time.Time { return now })
	bad := finding("http://rawx-1/AB", "Corrupt")
	if d.admit(bad) {
		t.Fatal("reported before its time in error")
	}
	now = now.Add(20 * time.Second)
	if w := d.wait(); w != 40*time.Second {
		t.Errorf("wait %s, want 40s", w)
	}
	now = now.Add(40 * time.Second)
	if !d.admit(bad) {
		t.Error("not reported after its time in error")
	}
}

func TestDaemonPassForgetsFindingsNotMet(t *testing.T) {
	d := newDelays(5, 0, time.Now)
	d.startPass()
	d.admit(finding("http://rawx-1/AB", "Not found: x"))
	d.admit(finding("http://rawx-1/CD", "Not found: x"))
	d.endPass()
	d.startPass()
	d.admit(finding("http://rawx-1/AB", "Not found: x"))
	d.endPass()
	if got := d.targets(); len(got) != 1 || got[0].Chunk != "http://rawx-1/AB" {
		t.Errorf("pending after the second pass: %+v", got)
	}
}

// TestConfirmedFindingReportedUntilItClears sees a finding again and again,
// as daemon passes do: once confirmed it is reported at every sighting;
// after its item checks OK it must be confirmed again.
func TestConfirmedFindingReportedUntilItClears(t *testing.T) {
	d := newDelays(2, 0, time.Now)
	bad := finding("http://rawx-1/AB", "Not found: x")
	var got []bool
	for range 6 {
		d.startPass()
		got = append(got, d.admit(bad))
		d.endPass()
	}
	d.admit(finding("http://rawx-1/AB"))
	for range 3 {
		got = append(got, d.admit(bad))
	}
	want := []bool{false, false, true, true, true, true, false, false, true}
	if !slices.Equal(got, want) {
		t.Errorf("reported %v, want %v", got, want)
	}
	if d.len() != 0 || len(d.targets()) != 0 {
		t.Errorf("a confirmed finding counts as awaiting confirmation: %d, %v", d.len(), d.targets())
	}
}
