package meta_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/gridkeep/gridkeep/internal/meta"
)

// TestConcurrentCommits commits, lists and locates from several clients
// at once: writers queue on the database instead of failing, and the
// counters add up.
func TestConcurrentCommits(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const writers, each = 8, 15
	var wg sync.WaitGroup
	errs := make(chan error, writers*each*2)
	for w := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := h.commit(fmt.Sprintf("w%d/o%d", w, i)); err != nil {
					errs <- err
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range each {
				for _, err := range h.client.Objects(h.ctx, acct, ctr, meta.ListOptions{Limit: 7}) {
					if err != nil {
						errs <- err
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	n := 0
	for _, err := range h.client.Objects(h.ctx, acct, ctr, meta.ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	a, err := h.client.AccountShow(h.ctx, acct)
	if err != nil || n != writers*each || a.Objects != writers*each || a.Bytes != writers*each {
		t.Errorf("%d listed, account %+v, %v; want %d", n, a, err, writers*each)
	}
}

// commit prepares and commits a one-byte object, returning the error.
func (h *harness) commit(name string) error {
	p, err := h.client.ContentPrepare(h.ctx, acct, ctr, name, meta.PrepareRequest{Size: 1})
	if err != nil {
		return err
	}
	p.Chunks[0].Size = 1
	_, err = h.client.ContentCreate(h.ctx, acct, ctr, &meta.Object{Name: name, Size: 1,
		ContentID: p.ContentID, Version: p.Version, Policy: p.Policy, Chunks: p.Chunks})
	return err
}
