package integrity_test

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gridkeep/gridkeep/internal/integrity"
	"github.com/gridkeep/gridkeep/internal/integrity/integritytest"
)

// TestCheckReportsExactlyTheDamage checks a clean namespace, breaks it in
// every way of the acceptance scenario, and checks that a full check
// reports the damaged items and nothing else.
func TestCheckReportsExactlyTheDamage(t *testing.T) {
	f := integritytest.Start(t, 4)
	f.Populate(80)
	opts := integrity.Options{Checksum: true, OrphanMinAge: -1, Concurrency: 8}

	bad, _, st := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, integrity.Target{})
	if len(bad) != 0 {
		t.Fatalf("clean namespace: %d findings: %v", len(bad), bad)
	}
	if st.Objects.Checked != 80 || st.Containers.Checked != 4 || st.Accounts.Checked != 1 ||
		st.Volumes.Checked != 4 {
		t.Errorf("clean namespace: counted %+v", st)
	}

	d := f.Break()
	var errorFile bytes.Buffer
	opts.ErrorFile = &errorFile
	got, results, st := integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, integrity.Target{})
	opts.ErrorFile = nil
	if diff := cmp.Diff(d.Want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
		for _, it := range got {
			t.Logf("%s %s: %v", it.Kind, it.Item, results[it].Errors)
		}
	}
	for _, it := range d.Irreparable {
		if r := results[it]; !r.Irreparable {
			t.Errorf("%s %s not reported irreparable", it.Kind, it.Item)
		}
	}
	if st.Problems() != int64(len(d.Want)) || st.Orphans != 1 {
		t.Errorf("counters: %+v", st)
	}

	// The error file, fed back, names the same items; with confirmations
	// they are checked twice and still reported.
	targets, err := integrity.ReadTargets(&errorFile)
	if err != nil {
		t.Fatal(err)
	}
	opts.Confirmations = 1
	got, _, _ = integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, targets...)
	if diff := cmp.Diff(d.Want, got); diff != "" {
		t.Errorf("findings from the error file (-want +got):\n%s", diff)
	}
	opts.Confirmations = 0

	// Without checksums, the flipped bytes go unseen.
	opts.Checksum = false
	got, _, _ = integritytest.Check(t, f.Ctx, f.NS.ProxyURL, opts, integrity.Target{})
	if diff := cmp.Diff(d.WithoutHashOnly(), got); diff != "" {
		t.Errorf("findings without checksums (-want +got):\n%s", diff)
	}
}
