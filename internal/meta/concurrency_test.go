package meta_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/gridkeep/gridkeep/internal/meta"
)

// TestConcurrentCommits commits and lists from several clients at once,
// half the writers racing to autocreate a second container: writers queue
// on the database instead of failing, and the counters add up.
func TestConcurrentCommits(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	if _, err := h.client.ContainerCreate(h.ctx, acct, ctr, nil, nil); err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 15
	var wg sync.WaitGroup
	errs := make(chan error, writers*each*2)
	for w := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range each {
				container := []string{ctr, "auto"}[w%2]
				if err := h.commit(container, fmt.Sprintf("w%d/o%d", w, i)); err != nil {
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
	if err != nil || n != writers*each/2 || a.Objects != writers*each ||
		a.Bytes != writers*each || a.Containers != 2 {
		t.Errorf("%d listed, account %+v, %v; want %d objects", n, a, err, writers*each)
	}
}

// commit prepares and commits a one-byte object, returning the error.
func (h *harness) commit(container, name string) error {
	p, err := h.client.ContentPrepare(h.ctx, acct, container, name,
		meta.PrepareRequest{Size: 1})
	if err != nil {
		return err
	}
	p.Chunks[0].Size = 1
	_, err = h.client.ContentCreate(h.ctx, acct, container, &meta.Object{Name: name, Size: 1,
		ContentID: p.ContentID, Version: p.Version, Policy: p.Policy, Chunks: p.Chunks})
	return err
}
